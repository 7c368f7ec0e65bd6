/* Windows: the record of a replacement in progress in a folder others may write (see
 * cs_plat_write_recorded in platform.h), and the recovery that acts on it alone.
 *
 * Before the first byte goes into the temp file beside a binding file, the names
 * and file identities of that temp file and of the backup name ReplaceFileW will move
 * the old file to are written to "pending-<hash of the path>" in the record folder,
 * which only Administrators and SYSTEM can write. After a crash, the recovery puts
 * back or deletes only those: each opened relative to its folder's handle, the folders
 * reached without following a link (walk.c), refused when it is a reparse point, has
 * more than one name or is not the file recorded (volume serial and file index);
 * deleted or renamed (relative to the folder's handle) through that handle. The folder of the binding file is never
 * listed: a name found there is no proof that certsteward made it. A crash between the creation of the temp file and
 * its record leaves that empty temp file behind (harmless litter); nothing else a crash leaves is missed. A rename
 * keeps a file's index (NTFS and Wine alike), so the old file moved aside to its backup name is still the file
 * recorded. */
#include "../platform.h"
#include "../text.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD_HEADER "certsteward pending replacement 1\n"
#define RECORD_MAX 65536

/* ".<base>.XXXXXX<suffix>", as replace.c's temp names are made (X: ASCII letters and digits) */
int cs__win_is_temp_of(const wchar_t *name, const wchar_t *base, size_t len, const wchar_t *suffix) {
  size_t i;
  if (name[0] != L'.' || wcsncmp(name + 1, base, len) != 0 || name[len + 1] != L'.' || wcslen(name) != len + 12 ||
      wcscmp(name + len + 8, suffix) != 0)
    return 0;
  for (i = len + 2; i < len + 8; i++)
    if (!((name[i] >= L'A' && name[i] <= L'Z') || (name[i] >= L'a' && name[i] <= L'z') ||
          (name[i] >= L'0' && name[i] <= L'9')))
      return 0;
  return 1;
}

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

/* "<record_dir>\pending-<FNV-1a 64 of the upper-cased UTF-16 path>" into a new string. */
static char *record_path(const char *record_dir, const wchar_t *wpath) {
  unsigned long long h = CS_FNV1A_INIT;
  cs_buf_t b = CS_BUF_INIT;
  const wchar_t *p;
  for (p = wpath; *p; p++) {
    wchar_t c = is_sep(*p) ? L'\\' : *p;
    unsigned char le[2];
    CharUpperBuffW(&c, 1);
    le[0] = (unsigned char)(c & 0xff); /* UTF-16LE, as the record's name has always been made */
    le[1] = (unsigned char)(c >> 8);
    h = cs_text_fnv1a(h, le, 2);
  }
  cs_buf_printf(&b, "%s\\pending-%016llx", record_dir, h);
  if (b.oom) {
    cs_buf_free(&b);
    return NULL;
  }
  return b.p;
}

/* A name that cannot be converted marks the record out of memory (the caller then writes
 * nothing). free() only ever gets a string here: given free(u) with u NULL, GCC 12's
 * analyzer takes the NULL constant itself for freed, and the caller's free(rec) of a NULL
 * record path (record_path out of memory) on the same path for a double free. */
static void put_entry(cs_buf_t *b, const char *key, const BY_HANDLE_FILE_INFORMATION *fi, const wchar_t *w) {
  char *u = cs__win_utf8(w);
  if (u == NULL) {
    b->oom = 1;
    return;
  }
  cs_buf_printf(b, "%s\t%08lx:%08lx%08lx\t%s\n", key, (unsigned long)fi->dwVolumeSerialNumber,
                (unsigned long)fi->nFileIndexHigh, (unsigned long)fi->nFileIndexLow, u);
  free(u);
}

int cs__win_pending_write(const char *record_dir, const wchar_t *wpath, const wchar_t *tmp,
                          const BY_HANDLE_FILE_INFORMATION *tmp_fi, const wchar_t *bak,
                          const BY_HANDLE_FILE_INFORMATION *old_fi, cs_err_t *err) {
  char *rec = record_path(record_dir, wpath), *u = cs__win_utf8(wpath);
  cs_buf_t b = CS_BUF_INIT;
  cs_err_t e;
  int rc;
  cs_err_clear(&e);
  cs_buf_printf(&b, RECORD_HEADER "path\t%s\n", u != NULL ? u : "");
  put_entry(&b, "tmp", tmp_fi, tmp);
  if (bak != NULL)
    put_entry(&b, "bak", old_fi, bak);
  if (rec == NULL || u == NULL || b.oom)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory recording a replacement");
  else if ((rc = cs_plat_write_atomic(rec, b.p, b.len, 0600, &e)) != CS_OK)
    rc = cs_err_set(err, rc, e.raw, "cannot record the replacement of %s in %s: %s", u, record_dir, e.text);
  cs_buf_free(&b);
  free(u);
  free(rec);
  return rc;
}

void cs__win_pending_drop(const char *record_dir, const wchar_t *wpath) {
  char *rec = record_path(record_dir, wpath);
  if (rec != NULL)
    (void)cs_plat_remove(rec, NULL);
  free(rec);
}

typedef struct entry_s {
  DWORD vol, hi, lo;
  wchar_t *path; /* NULL: none recorded */
} entry_t;

/* "<vol>:<index>\t<path>" into *en; 0, or -1 when it is not that. */
static int parse_entry(const char *v, entry_t *en) {
  unsigned long vol, hi, lo;
  char hex[17];
  if (strlen(v) < 27 || v[8] != ':' || v[25] != '\t')
    return -1;
  memcpy(hex, v, 8), hex[8] = '\0';
  vol = strtoul(hex, NULL, 16);
  memcpy(hex, v + 9, 8), hex[8] = '\0';
  hi = strtoul(hex, NULL, 16);
  memcpy(hex, v + 17, 8), hex[8] = '\0';
  lo = strtoul(hex, NULL, 16);
  en->vol = vol, en->hi = hi, en->lo = lo;
  free(en->path);
  return (en->path = cs__win_wide(v + 26)) != NULL ? 0 : -1;
}

/* The recorded file en: CS_OK when it is gone (deleted here, or never there), or put
 * back at wpath when put_back is set and wpath is missing. Anything that is not the
 * file recorded, or not where it was recorded, is left alone (an error). */
static int settle(const entry_t *en, const wchar_t *wpath, int put_back, const char *path, cs_err_t *err) {
  BY_HANDLE_FILE_INFORMATION fi, at;
  HANDLE h = INVALID_HANDLE_VALUE, cur = INVALID_HANDLE_VALUE;
  char *shown = cs__win_utf8(en->path);
  int rc;
  const char *name = shown != NULL ? shown : "a recorded file";

  rc = cs__win_open_nofollow(en->path, DELETE, &h, &fi, name, err);
  if (rc == CS_ENOENT) {
    rc = CS_OK; /* never made, or already gone */
    goto out;
  }
  if (rc != CS_OK)
    goto out;
  if (fi.dwVolumeSerialNumber != en->vol || fi.nFileIndexHigh != en->hi || fi.nFileIndexLow != en->lo) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not the file certsteward made there: left alone", name);
    goto out;
  }
  if (put_back) {
    rc = cs__win_open_nofollow(wpath, 0, &cur, &at, path, err);
    if (rc == CS_ENOENT) { /* a replacement cut short between its renames: the old file goes back */
      if (cs__win_rename_in_place(h, wpath) != 0)
        rc = cs__win_failf(err, GetLastError(), "cannot put %s back from %s", path, name);
      else
        rc = CS_OK;
      goto out;
    }
    if (rc != CS_OK) /* something that is not a plain file stands at the path: the copy stays */
      goto out;
  }
  rc = cs__win_delete_handle(h) == 0 ? CS_OK : cs__win_failf(err, GetLastError(), "cannot remove %s", name);
out:
  if (cur != INVALID_HANDLE_VALUE)
    CloseHandle(cur);
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  free(shown);
  return rc;
}

/* 1 when en names a temp file of wpath with suffix, in wpath's folder. */
static int beside(const entry_t *en, const wchar_t *wpath, const wchar_t *suffix) {
  size_t base = cs__win_base_of(wpath), eb = cs__win_base_of(en->path);
  return eb == base && wcsncmp(en->path, wpath, base) == 0 &&
         cs__win_is_temp_of(en->path + eb, wpath + base, wcslen(wpath) - base, suffix);
}

int cs__win_pending_recover(const char *record_dir, const wchar_t *wpath, const char *path, cs_err_t *err) {
  char *rec = record_path(record_dir, wpath), *line, *next, *tab;
  entry_t tmp = {0, 0, 0, NULL}, bak = {0, 0, 0, NULL};
  unsigned char *data = NULL;
  wchar_t *recorded = NULL;
  size_t len = 0;
  int rc, r;

  if (rec == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  rc = cs_plat_read_file(rec, RECORD_MAX, CS_READ_NOFOLLOW, &data, &len, err);
  if (rc == CS_ENOENT) { /* no replacement of path was under way */
    rc = CS_OK;
    goto out;
  }
  if (rc != CS_OK)
    goto out;
  if (len < sizeof RECORD_HEADER - 1 || memcmp(data, RECORD_HEADER, sizeof RECORD_HEADER - 1) != 0 ||
      memchr(data, '\0', len) != NULL) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s is not a record of a replacement: nothing was done after it", rec);
    goto out;
  }
  for (line = (char *)data + sizeof RECORD_HEADER - 1; *line != '\0'; line = next) {
    next = strchr(line, '\n');
    if (next == NULL)
      next = line + strlen(line);
    else
      *next++ = '\0';
    if ((tab = strchr(line, '\t')) == NULL)
      continue;
    *tab++ = '\0';
    if (strcmp(line, "path") == 0)
      free(recorded), recorded = cs__win_wide(tab);
    else if ((strcmp(line, "tmp") == 0 && parse_entry(tab, &tmp) != 0) ||
             (strcmp(line, "bak") == 0 && parse_entry(tab, &bak) != 0)) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "%s is damaged: nothing was done after it", rec);
      goto out;
    }
  }
  /* the record must be of this path, and name only temp files beside it */
  if (recorded == NULL || !cs__win_same_path(recorded, wpath) || tmp.path == NULL || !beside(&tmp, wpath, L".tmp") ||
      (bak.path != NULL && !beside(&bak, wpath, L".bak"))) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s is not a record of a replacement of %s: nothing was done after it", rec,
                    path);
    goto out;
  }
  /* the old file first (back in place when the path is missing), then the new contents */
  if (bak.path != NULL && (rc = settle(&bak, wpath, 1, path, err)) != CS_OK)
    goto out;
  if ((r = settle(&tmp, wpath, 0, path, err)) != CS_OK) {
    rc = r;
    goto out;
  }
  rc = cs_plat_remove(rec, err); /* all settled: the record goes */
out:
  cs_plat_free_file(data, len);
  free(recorded);
  free(tmp.path);
  free(bak.path);
  free(rec);
  return rc;
}
