/* Windows: files in folders that others than Administrators and SYSTEM can write (a
 * connector's binding file, whose folder its own service account may change), touched
 * by LocalSystem without following a link planted there (see win.h).
 *
 * Closed: every component of the path, from the drive root, is opened relative to the
 * handle of the folder before it (cs__win_walk, walk.c) and refused when it is a
 * reparse point (junction, symbolic link, mount point); the file itself is opened
 * relative to its folder's handle without following it and checked through its handle
 * (not a reparse point, not a folder, one link, the identity expected); a deletion or a
 * rename goes through that handle (FileDispositionInfo; FileRenameInformation with the
 * new name relative to the folder's handle). No path is resolved by name a second time,
 * so a folder swapped for a junction after the walk redirects nothing: what is opened
 * next is opened under the handle already held.
 *
 * Not closed: a folder held by its handle can still be renamed or moved by whoever may
 * write its parent (the handle shares deletion, so that the connector and its account
 * keep working): a file is then written into that same folder under its new name, never
 * anywhere the account could not write itself. A file with a second name (a hard
 * link) is refused when it would be replaced, recovered or locked; a removal takes
 * away the one name, never the read-only mode the other name shares. Reparse points on a share are resolved
 * by the server. The listing check that catches Wine's Unix links is a second opinion:
 * on Windows the handle's own attributes decide.
 *
 * What Wine proves and what only real Windows does: see walk.c. Under Wine a Unix
 * symbolic link to a folder is refused in a path; the handle operations (in-place
 * rename, deletion on close, one link, the file index) run under Wine for real. */
#include "../platform.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

size_t cs__win_base_of(const wchar_t *w) {
  size_t base = wcslen(w);
  while (base > 0 && !is_sep(w[base - 1]) && !(base == 2 && w[1] == L':'))
    base--;
  return base;
}

/* p without a \\?\ (or \\?\UNC\ -> \\) prefix: the form a record and the
 * configuration may differ by. */
static const wchar_t *unprefixed(const wchar_t *p, int *unc) {
  *unc = 0;
  if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0) {
    *unc = 1;
    return p + 8;
  }
  if (wcsncmp(p, L"\\\\?\\", 4) == 0 || wcsncmp(p, L"\\??\\", 4) == 0)
    return p + 4;
  if (is_sep(p[0]) && is_sep(p[1])) {
    *unc = 1;
    return p + 2;
  }
  return p;
}

int cs__win_same_path(const wchar_t *a, const wchar_t *b) {
  int ua, ub;
  wchar_t ca, cb;
  a = unprefixed(a, &ua);
  b = unprefixed(b, &ub);
  if (ua != ub)
    return 0;
  for (;; a++, b++) {
    ca = is_sep(*a) ? L'\\' : *a;
    cb = is_sep(*b) ? L'\\' : *b;
    if (ca == L'\0' || cb == L'\0')
      return ca == cb;
    /* one character at a time, ordinal, case-insensitive as NTFS compares names */
    if (ca != cb && CompareStringOrdinal(&ca, 1, &cb, 1, TRUE) != CSTR_EQUAL)
      return 0;
  }
}

int cs__win_open_nofollow(const wchar_t *path, DWORD access, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi,
                          const char *shown, cs_err_t *err) {
  cs__win_at_t at;
  int rc;
  *h = INVALID_HANDLE_VALUE;
  if ((rc = cs__win_walk(path, shown, 0, NULL, &at, err)) != CS_OK)
    return rc; /* CS_ENOENT: a missing folder, nothing below it either */
  rc = cs__win_open_last(&at, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL, h, fi,
                         shown, err);
  cs__win_at_close(&at);
  if (rc != CS_OK)
    return rc;
  if ((fi->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || fi->nNumberOfLinks != 1) {
    CloseHandle(*h);
    *h = INVALID_HANDLE_VALUE;
    return cs_err_set(err, CS_ENOTREG, 0, "%s is %s: not touched", shown,
                      (fi->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? "a folder"
                                                                        : "a file with more than one name");
  }
  return CS_OK;
}

int cs__win_delete_handle(HANDLE h) {
  FILE_DISPOSITION_INFO d;
  d.DeleteFile = TRUE;
  return SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof d) ? 0 : -1;
}

int cs__win_rename_in_place(HANDLE h, const wchar_t *path) {
  cs__win_at_t at;
  DWORD e;
  if (cs__win_walk(path, "", 0, NULL, &at, NULL) != CS_OK || at.len == 0) {
    cs__win_at_close(&at);
    SetLastError(ERROR_CANT_ACCESS_FILE);
    return -1;
  }
  /* what is there now is never replaced on the strength of a record */
  e = cs__win_rename_at(h, at.dir, at.name, at.len, 0);
  cs__win_at_close(&at);
  SetLastError(e);
  return e == ERROR_SUCCESS ? 0 : -1;
}
