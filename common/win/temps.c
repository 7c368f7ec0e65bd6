/* Windows half of platform.h: cs_plat_remove_temps, the clean-up of what a replacement
 * by cs_plat_write_atomic (replace.c) left when the process died in it, for files in
 * folders only Administrators and SYSTEM can write (a binding file's folder is never
 * listed: its replacements are recorded, pending.c).
 *
 * The file's folder is reached without following a link (cs__win_walk, walk.c) and
 * listed through its handle; each temp file found (".<base>.XXXXXX.tmp" or ".bak") is
 * opened relative to that handle without following it, and removed or renamed back
 * through its own handle only when it is a plain file with one name. */
#include "../platform.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct found_s {
  const wchar_t *base, *suffix; /* the file's name (len characters) and the temp suffix */
  size_t len, n, cap;
  wchar_t **names; /* the temp files of base found, each NUL-terminated */
  FILETIME *written;
  int oom;
} found_t;

static int collect(void *ctx, const wchar_t *name, size_t len, DWORD attrs, const FILETIME *written) {
  found_t *f = ctx;
  wchar_t *c;
  if ((attrs & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) || len != f->len + 12)
    return 0;
  if ((c = malloc(sizeof *c * (len + 1))) == NULL) {
    f->oom = 1;
    return 1;
  }
  memcpy(c, name, sizeof *c * len);
  c[len] = L'\0';
  if (!cs__win_is_temp_of(c, f->base, f->len, f->suffix)) {
    free(c);
    return 0;
  }
  if (f->n == f->cap) {
    size_t cap = f->cap ? 2 * f->cap : 8;
    wchar_t **nn = realloc(f->names, sizeof *nn * cap);
    FILETIME *nw = nn != NULL ? realloc(f->written, sizeof *nw * cap) : NULL;
    if (nn != NULL)
      f->names = nn;
    if (nw == NULL) {
      free(c);
      f->oom = 1;
      return 1;
    }
    f->written = nw;
    f->cap = cap;
  }
  f->names[f->n] = c;
  f->written[f->n++] = *written;
  return 0;
}

/* The temp file name of at's folder itself: removed (restore 0; ERROR_SUCCESS when it
 * is gone) or renamed back to at's name, not over an existing file (restore 1). Opened
 * relative to the folder's handle, never what it links to; a link or a file with two
 * names is left alone (ERROR_ACCESS_DENIED). */
static DWORD settle_temp(const cs__win_at_t *at, const wchar_t *name, int restore) {
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h;
  DWORD e = cs__win_open_at(at->dir, name, wcslen(name), DELETE | FILE_READ_ATTRIBUTES,
                            FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, FILE_NON_DIRECTORY_FILE,
                            NULL, &h, NULL);
  if (e == ERROR_FILE_NOT_FOUND && !restore)
    return ERROR_SUCCESS;
  if (e != ERROR_SUCCESS)
    return e;
  if (cs__win_look_at(at->dir, name, wcslen(name), h, &fi) != CS__WIN_PLAIN || fi.nNumberOfLinks != 1)
    e = ERROR_ACCESS_DENIED;
  else if (restore)
    e = cs__win_rename_at(h, at->dir, at->name, at->len, 0);
  else if (cs__win_delete_handle(h) != 0)
    e = GetLastError();
  CloseHandle(h);
  return e;
}

/* Runs through the temp files of at's file with suffix, in its folder reached without a
 * link: when restore is set and the file is missing, the newest one is renamed back to
 * it (a replacement cut short between its renames); every other one is removed. */
static int sweep(const cs__win_at_t *at, const char *path, const wchar_t *suffix, int restore, cs_err_t *err) {
  found_t f;
  wchar_t pattern[64 + 16], *pat = pattern;
  size_t i, keep = (size_t)-1;
  HANDLE h;
  DWORD e;
  int rc = CS_OK;

  memset(&f, 0, sizeof f);
  f.base = at->name;
  f.len = at->len;
  f.suffix = suffix;
  if (f.len + 16 > 64 && (pat = malloc(sizeof *pat * (f.len + 16))) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory looking for temp files of %s", path);
  pat[0] = L'.';
  memcpy(pat + 1, at->name, sizeof *pat * f.len);
  swprintf(pat + 1 + f.len, 16, L".*%ls", suffix);
  if (restore) {
    e = cs__win_open_at(at->dir, at->name, at->len, FILE_READ_ATTRIBUTES,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL, &h, NULL);
    if (e == ERROR_SUCCESS)
      CloseHandle(h);
    restore = e == ERROR_FILE_NOT_FOUND;
  }
  e = cs__win_list_at(at->dir, pat, wcslen(pat), collect, &f);
  if (f.oom) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory removing temp files of %s", path);
    goto out;
  }
  if (e != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot look for temp files of %s", path);
    goto out;
  }
  for (i = 0; restore && i < f.n; i++) /* the one to put back: the newest */
    if (keep == (size_t)-1 || CompareFileTime(&f.written[i], &f.written[keep]) > 0)
      keep = i;
  for (i = 0; i < f.n; i++)
    if (i != keep && (e = settle_temp(at, f.names[i], 0)) != ERROR_SUCCESS && rc == CS_OK)
      rc = cs__win_failf(err, e, "cannot remove a temp file of %s", path);
  if (keep != (size_t)-1 && (e = settle_temp(at, f.names[keep], 1)) != ERROR_SUCCESS && rc == CS_OK)
    rc = cs__win_failf(err, e, "cannot put %s back from the copy a cut-short replacement left", path);
out:
  for (i = 0; i < f.n; i++)
    free(f.names[i]);
  free(f.names);
  free(f.written);
  if (pat != pattern)
    free(pat);
  return rc;
}

int cs_plat_remove_temps(const char *path, cs_err_t *err) {
  wchar_t *w = cs__win_path(path);
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  int rc, r;
  if (w == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "cannot look for temp files of %s: not valid UTF-8, or out of memory", path);
  rc = cs__win_walk(w, path, 0, NULL, &at, err);
  if (rc == CS_ENOENT) /* no folder: no temp file in it */
    rc = CS_OK;
  else if (rc == CS_OK && at.len > 0) {
    /* the old file first (back in place when it is missing), then the new contents that never got there */
    rc = sweep(&at, path, L".bak", 1, err);
    if ((r = sweep(&at, path, L".tmp", 0, err)) != CS_OK && rc == CS_OK)
      rc = r;
  }
  cs__win_at_close(&at);
  free(w);
  return rc;
}
