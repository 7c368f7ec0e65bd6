/* Windows half of platform.h: the atomic replacement of a file (cs_plat_write_atomic,
 * cs_plat_write_recorded; the clean-up of what a crash in one left is temps.c's).
 *
 * The file's folder is reached without following a link (cs__win_walk, walk.c) and
 * everything after is relative to its handle: the old file opened without following
 * it; the new contents go to a temp file beside it, ".<base>.XXXXXX.tmp", created
 * exclusively under that handle, with a DACL for LocalSystem alone when its own is set
 * after (cs__win_creator_only_sd). A file that exists keeps its identity: the temp file
 * gets its owner and its DACL before the first byte of data (copied by handle; for
 * cs_plat_write_recorded given a meta, those recorded when the file was read, whatever
 * file is at the path by now, and the recorded attributes instead of the old file's), is
 * flushed, and takes its place by two renames through handles, as ReplaceFileW did:
 * the old file to ".<base>.XXXXXX.bak", the temp file to the name (FileRenameInformation
 * with RootDirectory, so that no path is resolved again); then the old file is deleted
 * through its handle and its attributes (read-only included) and creation time go on
 * the new one. If the process dies between the renames, cs_plat_remove_temps (or the
 * record's recovery, pending.c) puts the old file back, so that the path never stays
 * empty. A new file is renamed into place, then flushed.
 * An old file with more than one name is refused, not replaced: its other name may be
 * a file of someone else's (a hard link planted where the binding file was), whose
 * owner and DACL would go on the new file and whose attributes (read-only taken off
 * for the move) belong to every name of it ("Hard links and junctions", Win32 docs).
 * Every other program's handle must have been opened with FILE_SHARE_DELETE for the
 * old file to move; a connector that holds its settings file otherwise must be stopped
 * first (renewal.c does), and a short-lived holder (antivirus, the indexer) is waited
 * out for a second. Named streams, encryption and compression, which ReplaceFileW
 * carried over, are not: binding files have none.
 *
 * What Wine proves and what only real Windows does: the renames by handle, the sharing
 * checks and the attributes run under Wine for real; Wine stores no ACLs on files, so
 * that the owner and the DACL are kept (or given from a meta) is proven only on NTFS, as
 * are the SeRestorePrivilege the owner takes, and the flush of the rename to disk. */
#include "../platform.h"
#include "win.h"

#include <aclapi.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef CS_TEST_HOOKS
int cs__win_test_cut_replace; /* tests/unit/test_win_fs.c */
#endif

#define TEMP_ATTEMPTS 100
#define BUSY_RETRIES 20 /* x 50 ms: how long someone else's open handle may block a rename */

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

/* ---- temp names ------------------------------------------------------------------ */

/* A new "<dir>\.<base>.XXXXXX<suffix>" (suffix 4 characters) into a new string; each
 * call another X part from *z. NULL when out of memory. */
static wchar_t *temp_name(const wchar_t *wpath, const wchar_t *suffix, unsigned long long *z) {
  static const wchar_t alphabet[] = L"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t n = wcslen(wpath), base = cs__win_base_of(wpath), x;
  unsigned long long r = (*z += 0x9E3779B97F4A7C15ULL); /* splitmix64 */
  wchar_t *t;
  int i;
  if ((t = malloc(sizeof *t * (n + 16))) == NULL)
    return NULL;
  r = (r ^ (r >> 30)) * 0xBF58476D1CE4E5B9ULL;
  r = (r ^ (r >> 27)) * 0x94D049BB133111EBULL;
  r ^= r >> 31;
  memcpy(t, wpath, sizeof *t * base);
  t[base] = L'.';
  memcpy(t + base + 1, wpath + base, sizeof *t * (n - base));
  x = n + 1;
  t[x++] = L'.';
  for (i = 0; i < 6; i++, r /= 62)
    t[x++] = alphabet[r % 62];
  memcpy(t + x, suffix, sizeof *t * 5);
  return t;
}

static unsigned long long seed(const void *p) {
  LARGE_INTEGER now;
  QueryPerformanceCounter(&now);
  return (unsigned long long)now.QuadPart ^ ((unsigned long long)GetCurrentProcessId() << 32) ^
         (unsigned long long)(uintptr_t)p;
}

/* Creates a ".tmp" temp file beside at's file, relative to the folder's handle, made
 * exclusively (FILE_CREATE), shared with nobody, not inheritable, with WRITE_DAC and
 * WRITE_OWNER (the old file's owner and DACL go on it before any data) and DELETE (it
 * is renamed into place through its handle), with the descriptor sd (NULL: what the
 * folder passes on). *tmp: its name, from wpath. */
static int open_temp(const cs__win_at_t *at, const wchar_t *wpath, PSECURITY_DESCRIPTOR sd, const char *path,
                     wchar_t **tmp, HANDLE *h, cs_err_t *err) {
  unsigned long long z = seed(tmp);
  const wchar_t *base;
  DWORD e = 0;
  int attempt;
  for (attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    if ((*tmp = temp_name(wpath, L".tmp", &z)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
    base = *tmp + cs__win_base_of(*tmp);
    e = cs__win_open_at(at->dir, base, wcslen(base), GENERIC_WRITE | WRITE_DAC | WRITE_OWNER | READ_CONTROL | DELETE, 0,
                        FILE_CREATE, FILE_NON_DIRECTORY_FILE, sd, h, NULL);
    if (e == ERROR_SUCCESS)
      return CS_OK;
    free(*tmp);
    *tmp = NULL;
    if (e != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS)
      break;
  }
  return cs__win_failf(err, e, "cannot create a temp file for %s", path);
}

/* A ".bak" name no entry of at's folder has now, for the old file. */
static wchar_t *backup_name(const cs__win_at_t *at, const wchar_t *wpath) {
  unsigned long long z = seed(wpath);
  const wchar_t *base;
  HANDLE h;
  DWORD e;
  int attempt;
  for (attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    wchar_t *b = temp_name(wpath, L".bak", &z);
    if (b == NULL)
      return NULL;
    base = b + cs__win_base_of(b);
    e = cs__win_open_at(at->dir, base, wcslen(base), FILE_READ_ATTRIBUTES,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL, &h, NULL);
    if (e == ERROR_FILE_NOT_FOUND)
      return b;
    if (e == ERROR_SUCCESS)
      CloseHandle(h);
    free(b);
  }
  return NULL;
}

/* ---- the old file's owner and DACL on the new one --------------------------------- */

/* Gives the temp file h the owner and the DACL of the file it replaces (cs__win_sd_apply,
 * filemeta.c). The DACL's inherited entries are recomputed from the folder, which is the
 * same folder; a protected DACL stays protected. The owner is set only when it is not
 * already the one a new file gets; that takes SeRestorePrivilege (LocalSystem and
 * elevated administrators hold it), turned on for the call and back off after. */
static int copy_security(HANDLE from, HANDLE h, const char *path, cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD e;
  int rc;
  /* through the handle of the old file: its path is not resolved again */
  e = GetSecurityInfo(from, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, NULL, NULL,
                      NULL, &sd);
  if (e != ERROR_SUCCESS)
    return cs__win_failf(err, e, "cannot read the owner and ACL of %s", path);
  rc = cs__win_sd_apply(h, sd, path, err);
  LocalFree(sd);
  return rc;
}

/* ---- cs_plat_write_atomic, cs_plat_write_recorded ---------------------------------- */

static int same_file(const BY_HANDLE_FILE_INFORMATION *a, const BY_HANDLE_FILE_INFORMATION *b) {
  return a->dwVolumeSerialNumber == b->dwVolumeSerialNumber && a->nFileIndexHigh == b->nFileIndexHigh &&
         a->nFileIndexLow == b->nFileIndexLow;
}

/* Sets the attributes (0: FILE_ATTRIBUTE_NORMAL) and, when given, the creation time of
 * the file of h (opened with FILE_WRITE_ATTRIBUTES). */
static BOOL set_basic(HANDLE h, DWORD attrs, const FILETIME *created) {
  FILE_BASIC_INFO b;
  memset(&b, 0, sizeof b); /* times 0: left as they are */
  if (created != NULL) {
    b.CreationTime.LowPart = created->dwLowDateTime;
    b.CreationTime.HighPart = (LONG)created->dwHighDateTime;
  }
  b.FileAttributes = attrs ? attrs : FILE_ATTRIBUTE_NORMAL;
  return SetFileInformationByHandle(h, FileBasicInfo, &b, sizeof b);
}

/* Opens at's file to move it, when it is still the file *want (not swapped since it was
 * looked at); tried again for a second while someone else's handle blocks it. */
static DWORD open_old_to_move(const cs__win_at_t *at, const BY_HANDLE_FILE_INFORMATION *want, HANDLE *h) {
  BY_HANDLE_FILE_INFORMATION fi;
  DWORD e;
  int i;
  for (i = 0;; i++) {
    e = cs__win_open_at(at->dir, at->name, at->len, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, FILE_NON_DIRECTORY_FILE,
                        NULL, h, NULL);
    if (e == ERROR_SUCCESS)
      break;
    if (i == BUSY_RETRIES || !cs__win_transient(e))
      return e;
    Sleep(50);
  }
  if (!GetFileInformationByHandle(*h, &fi) || !same_file(&fi, want) || fi.nNumberOfLinks != 1 ||
      (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    CloseHandle(*h);
    *h = INVALID_HANDLE_VALUE;
    return ERROR_CANT_ACCESS_FILE;
  }
  return ERROR_SUCCESS;
}

/* Renames the file of h to name in dir, tried again for a second while someone else's
 * handle blocks it. */
static DWORD rename_retried(HANDLE h, HANDLE dir, const wchar_t *name, size_t len, int replace) {
  DWORD e;
  int i;
  for (i = 0;; i++) {
    if ((e = cs__win_rename_at(h, dir, name, len, replace)) == ERROR_SUCCESS || i == BUSY_RETRIES ||
        !cs__win_transient(e))
      return e;
    Sleep(50);
  }
}

/* The replacement of at's existing file (identity *old) by the temp file tmp (its
 * handle), both renames relative to the folder's handle; 0 or the Windows error. As
 * ReplaceFileW does, the old file goes aside to bak first and is removed once all is
 * done: a rename over a file another program holds open fails even when it shares
 * deletion (only FileRenameInformationEx's POSIX semantics, Windows 10 1709 on, allow
 * it), a rename of that file does not. The new file gets attributes want and the old
 * one's creation time. */
static DWORD replace_existing(const cs__win_at_t *at, HANDLE tmp, const wchar_t *bak,
                              const BY_HANDLE_FILE_INFORMATION *old, DWORD want) {
  DWORD e, attrs = old->dwFileAttributes & CS__WIN_KEPT_ATTRIBUTES;
  const wchar_t *b = bak + cs__win_base_of(bak);
  HANDLE h = INVALID_HANDLE_VALUE;

  if ((e = open_old_to_move(at, old, &h)) != ERROR_SUCCESS)
    return e;
  /* read-only: moved and deleted only once that is off; back on the new one after */
  if ((attrs & FILE_ATTRIBUTE_READONLY) && !set_basic(h, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY, NULL)) {
    e = GetLastError();
    goto out;
  }
  if ((e = rename_retried(h, at->dir, b, wcslen(b), 0)) != ERROR_SUCCESS)
    goto out;
  if ((e = rename_retried(tmp, at->dir, at->name, at->len, 0)) != ERROR_SUCCESS) {
    /* the old file back (failing that, the recovery or cs_plat_remove_temps puts it back) */
    (void)cs__win_rename_at(h, at->dir, at->name, at->len, 0);
    goto out;
  }
  (void)cs__win_delete_handle(h); /* what is left, the recovery removes */
  CloseHandle(h);
  h = INVALID_HANDLE_VALUE;
  /* attributes (read-only included) after the renames, the creation time as ReplaceFileW
   * kept it */
  (void)set_basic(tmp, want, &old->ftCreationTime);
out:
  if (h != INVALID_HANDLE_VALUE) {
    if (attrs & FILE_ATTRIBUTE_READONLY)
      (void)set_basic(h, attrs, NULL);
    CloseHandle(h);
  }
  return e;
}

/* Both writes; record_dir NULL: cs_plat_write_atomic. sd (NULL: those of the file at
 * path) and attrs: the owner, DACL and attributes the new file gets. */
static int write_file(const char *path, const void *data, size_t len, const char *record_dir, PSECURITY_DESCRIPTOR sd,
                      DWORD attrs, cs_err_t *err) {
  wchar_t *wpath = NULL, *tmp = NULL, *bak = NULL;
  HANDLE h = INVALID_HANDLE_VALUE, old = INVALID_HANDLE_VALUE;
  PSECURITY_DESCRIPTOR creator = NULL;
  BY_HANDLE_FILE_INFORMATION ofi, tfi;
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  const unsigned char *p = data;
  int rc, exists, recorded = 0;
  DWORD e;

  if ((wpath = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  if (wpath[0] == L'\0' || is_sep(wpath[wcslen(wpath) - 1])) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s names a folder, not a file", path);
    goto out;
  }
  /* in a folder others may write: what an earlier replacement of it left is settled
   * first (its record would be overwritten) */
  if (record_dir != NULL && (rc = cs__win_pending_recover(record_dir, wpath, path, err)) != CS_OK)
    goto out;
  /* every folder on the way opened relative to the one before, none a link; all that
   * follows is relative to the handle of the file's folder */
  if ((rc = cs__win_walk(wpath, path, 0, NULL, &at, err)) != CS_OK)
    goto out;
  rc = cs__win_open_last(&at, READ_CONTROL, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL,
                         &old, &ofi, path, err);
  if (rc != CS_OK && rc != CS_ENOENT)
    goto out; /* replacing a link would replace the link, not what it points to: refused */
  exists = rc == CS_OK;
  if (exists && (ofi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (a folder); not replaced", path);
    goto out;
  }
  if (exists && ofi.nNumberOfLinks != 1) {
    rc = cs_err_set(err, CS_ENOTREG, 0,
                    "%s has more than one name (a hard link to a file elsewhere); not replaced, "
                    "not touched",
                    path);
    goto out;
  }
  if (exists && (bak = backup_name(&at, wpath)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
    goto out;
  }
  /* A temp file whose owner and DACL are set after its creation is made with a DACL
   * for LocalSystem alone: made with what the folder passes on, its writer (who may get
   * WRITE_DAC or WRITE_OWNER that way) could open it for those rights, which no sharing
   * mode refuses, in the moment before the DACL is set, and keep that handle to give
   * itself the file once it holds the data. Only a new file without a meta keeps the
   * folder's entries, the DACL it ends with. */
  if ((exists || sd != NULL) && (rc = cs__win_creator_only_sd(&creator)) != CS_OK) {
    rc = cs_err_set(err, rc, 0, "cannot make the temporary ACL for the new %s", path);
    goto out;
  }
  if ((rc = open_temp(&at, wpath, creator, path, &tmp, &h, err)) != CS_OK)
    goto out;
  if (!GetFileInformationByHandle(h, &tfi)) {
    rc = cs__win_failf(err, GetLastError(), "cannot look at the new %s", path);
    goto out;
  }
  /* recorded before any data goes in */
  if (record_dir != NULL && (rc = cs__win_pending_write(record_dir, wpath, tmp, &tfi, bak, &ofi, err)) != CS_OK)
    goto out;
  recorded = record_dir != NULL;
  /* Owner and permissions are settled before the first byte of data goes in: those
   * recorded, else those of the file found at path. */
  if (sd != NULL && (rc = cs__win_sd_apply(h, sd, path, err)) != CS_OK)
    goto out;
  if (sd == NULL && exists && (rc = copy_security(old, h, path, err)) != CS_OK)
    goto out;
  CloseHandle(old);
  old = INVALID_HANDLE_VALUE;
  while (len > 0) {
    DWORD n = 0, want = len > 0x40000000u ? 0x40000000u : (DWORD)len;
    if (!WriteFile(h, p, want, &n, NULL)) {
      rc = cs__win_failf(err, GetLastError(), "cannot write the new %s", path);
      goto out;
    }
    p += n;
    len -= n;
  }
  if (!FlushFileBuffers(h)) {
    rc = cs__win_failf(err, GetLastError(), "cannot flush the new %s to disk", path);
    goto out;
  }
#ifdef CS_TEST_HOOKS
  if (cs__win_test_cut_replace && exists && recorded) { /* as a crash between the two renames */
    cs__win_test_cut_replace = 0;
    if (open_old_to_move(&at, &ofi, &old) == ERROR_SUCCESS)
      (void)cs__win_rename_at(old, at.dir, bak + cs__win_base_of(bak), wcslen(bak + cs__win_base_of(bak)), 0);
    CloseHandle(h);
    h = INVALID_HANDLE_VALUE;
    recorded = 0; /* nothing is cleaned up: the record stays, and so do the files */
    free(tmp);
    tmp = NULL;
    rc = cs_err_set(err, CS_EFAILED, 0, "test build: replacement of %s cut short between its renames", path);
    goto out;
  }
#endif
  if (exists)
    e = replace_existing(&at, h, bak, &ofi, sd != NULL ? attrs : ofi.dwFileAttributes & CS__WIN_KEPT_ATTRIBUTES);
  else if ((e = rename_retried(h, at.dir, at.name, at.len, 1)) == ERROR_SUCCESS && sd != NULL && attrs != 0)
    (void)set_basic(h, attrs, NULL);
  if (e != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e,
                       "cannot put the new %s in place of the old one (a program holding it open without "
                       "sharing it for deletion stops this)",
                       path);
    goto out;
  }
  /* Windows has no folder fsync: a flush of the file in place commits its metadata, the
   * rename among them, as MOVEFILE_WRITE_THROUGH would. Best effort: the data was
   * flushed before. */
  (void)FlushFileBuffers(h);
  CloseHandle(h); /* in place: closed, not deleted */
  h = INVALID_HANDLE_VALUE;
  free(tmp);
  tmp = NULL;
  rc = CS_OK;
out:
  if (old != INVALID_HANDLE_VALUE)
    CloseHandle(old);
  if (h != INVALID_HANDLE_VALUE) { /* the temp file, never renamed: deleted through its handle */
    (void)cs__win_delete_handle(h);
    CloseHandle(h);
  }
  cs__win_at_close(&at);
  /* done: the record goes; after a failure the recovery settles what is left (the old
   * file at its backup name goes back) and drops it, or keeps it for the next start */
  if (recorded && rc == CS_OK)
    cs__win_pending_drop(record_dir, wpath);
  else if (recorded)
    (void)cs__win_pending_recover(record_dir, wpath, path, NULL);
  LocalFree(creator);
  free(bak);
  free(tmp);
  free(wpath);
  return rc;
}

int cs_plat_write_atomic(const char *path, const void *data, size_t len, int mode, cs_err_t *err) {
  (void)mode; /* files inherit the folder's ACL; cs_plat_mkdirs makes private folders private */
  return write_file(path, data, len, NULL, NULL, 0, err);
}

/* meta (cs_plat_read_file_meta, filemeta.c): the owner, DACL and attributes of the file
 * read, given to the new file whatever file is at path by now; read before anything is
 * touched, so that a meta that cannot be read changes nothing. */
int cs_plat_write_recorded(const char *path, const void *data, size_t len, const char *meta, const char *record_dir,
                           cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD attrs = 0;
  int rc;
  if (record_dir == NULL || record_dir[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no record folder for the replacement of %s", path);
  if (meta != NULL && (rc = cs__win_meta_decode(meta, &attrs, &sd)) != CS_OK)
    return cs_err_set(err, rc, 0, "what %s is to be written with cannot be read (\"%.40s\"); not written", path, meta);
  rc = write_file(path, data, len, record_dir, sd, attrs, err);
  LocalFree(sd);
  return rc;
}

int cs_plat_recover_recorded(const char *path, const char *record_dir, cs_err_t *err) {
  wchar_t *w = cs__win_path(path);
  int rc;
  if (w == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path, or out of memory", path);
  rc = cs__win_pending_recover(record_dir, w, path, err);
  free(w);
  return rc;
}
