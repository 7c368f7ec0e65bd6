/* Windows: files in folders that others than Administrators and SYSTEM can write (a
 * connector's binding file, whose folder its own service account may change), touched
 * by LocalSystem without following a link planted there (see win.h).
 *
 * Every component of the path, from the drive root, is refused when it is a reparse
 * point (junction, symbolic link, mount point); files are opened with
 * FILE_FLAG_OPEN_REPARSE_POINT and checked through their handle (not a reparse point,
 * not a folder, one link, the identity expected); a deletion or a rename goes through
 * that handle (FileDispositionInfo; FileRenameInfo with the new name relative to a
 * handle of the folder, itself checked, so that no path is resolved again);
 * and a handle's final path (GetFinalPathNameByHandleW) must be the path meant.
 * This narrows the race between the walk and the open; it does not close it: a
 * component swapped for a junction right after the walk is caught by the final
 * path of the handle opened through it, but a path-based call (ReplaceFileW, the
 * exclusive create of a temp file) still resolves the path itself. The full fix is to
 * open every component relative to the handle of its folder (NtCreateFile with
 * ObjectAttributes.RootDirectory and OBJ_DONT_REPARSE), which no Win32 call offers.
 *
 * What Wine proves and what only real Windows does: Wine 8's CreateSymbolicLinkW does
 * not make a reparse point that GetFileInformationByHandle reports, so the refusal of
 * a junction is tested through the pure decision (cs__win_first_link) and the pure
 * comparison of final paths (cs__win_same_path); the handle operations (in-place
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

size_t cs__win_component_ends(const wchar_t *path, size_t *ends, size_t max) {
  size_t i = cs__win_root_len(path), n = 0;
  while (path[i] != L'\0') {
    while (is_sep(path[i]))
      i++;
    if (path[i] == L'\0')
      break;
    while (path[i] != L'\0' && !is_sep(path[i]))
      i++;
    if (n < max)
      ends[n] = i;
    n++;
  }
  return n;
}

size_t cs__win_first_link(const DWORD *attrs, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (attrs[i] != INVALID_FILE_ATTRIBUTES && (attrs[i] & FILE_ATTRIBUTE_REPARSE_POINT))
      return i;
  return n;
}

/* p without a \\?\ (or \\?\UNC\ -> \\) prefix: the form GetFinalPathNameByHandleW
 * and the configuration may differ by. */
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

/* New absolute copy of w (GetFullPathNameW: a string operation, no file touched). */
static wchar_t *full_path(const wchar_t *w) {
  DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
  wchar_t *full;
  if (n == 0 || (full = malloc(sizeof *full * n)) == NULL)
    return NULL;
  if (GetFullPathNameW(w, n, full, NULL) >= n) {
    free(full);
    return NULL;
  }
  return full;
}

int cs__win_no_link_in_path(const wchar_t *path, const char *shown, cs_err_t *err) {
  size_t ends[256], n, i, k;
  DWORD attrs[256];
  wchar_t *full = full_path(path), saved;
  BY_HANDLE_FILE_INFORMATION fi;
  char *name = NULL;
  HANDLE h;
  int rc = CS_OK;

  if (full == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "cannot make %s absolute, or out of memory", shown);
  if ((n = cs__win_component_ends(full, ends, 256)) > 256) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "%s has too many folders", shown);
    goto out;
  }
  for (i = 0; i < n; i++) {
    saved = full[ends[i]];
    full[ends[i]] = L'\0';
    h = CreateFileW(full, FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                    OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
    if (h == INVALID_HANDLE_VALUE) {
      DWORD e = GetLastError();
      full[ends[i]] = saved;
      if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
        break; /* nothing below a missing component can be a link now; the open that follows fails */
      rc = cs__win_failf(err, e, "cannot look at a folder of %s (a link in the path is refused)", shown);
      goto out;
    }
    attrs[i] = GetFileInformationByHandle(h, &fi) ? fi.dwFileAttributes : INVALID_FILE_ATTRIBUTES;
    CloseHandle(h);
    full[ends[i]] = saved;
    if (attrs[i] == INVALID_FILE_ATTRIBUTES) {
      rc = cs__win_failf(err, GetLastError(), "cannot look at a folder of %s (a link in the path is refused)", shown);
      goto out;
    }
  }
  if ((k = cs__win_first_link(attrs, i)) < i) {
    full[ends[k]] = L'\0';
    name = cs__win_utf8(full);
    rc = cs_err_set(err, CS_ENOTREG, 0,
                    "%s is a junction, symbolic link or mount point, in the path of %s: refused (LocalSystem "
                    "does not follow a link another account may have made; give the real path)",
                    name != NULL ? name : "a folder", shown);
  }
out:
  free(name);
  free(full);
  return rc;
}

int cs__win_handle_is_at(HANDLE h, const wchar_t *path, const char *shown, cs_err_t *err) {
  wchar_t *want = full_path(path), *got = NULL;
  char *seen = NULL;
  DWORD n;
  int rc = CS_OK;
  if (want == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "cannot make %s absolute, or out of memory", shown);
  n = GetFinalPathNameByHandleW(h, NULL, 0, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
  if (n == 0 || (got = malloc(sizeof *got * (n + 1))) == NULL ||
      GetFinalPathNameByHandleW(h, got, n + 1, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS) > n) {
    rc = cs__win_failf(err, n == 0 ? GetLastError() : ERROR_NOT_ENOUGH_MEMORY, "cannot tell where %s is", shown);
    goto out;
  }
  if (!cs__win_same_path(want, got)) {
    seen = cs__win_utf8(got);
    /* a folder swapped for a link after the walk, or a short (8.3) name in the configuration */
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s resolves to %s: a link in its path, refused (give its full long path)",
                    shown, seen != NULL ? seen : "another place");
  }
out:
  free(seen);
  free(got);
  free(want);
  return rc;
}

int cs__win_open_nofollow(const wchar_t *path, DWORD access, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi,
                          const char *shown, cs_err_t *err) {
  DWORD e;
  *h = CreateFileW(path, access | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                   FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
  if (*h == INVALID_HANDLE_VALUE) {
    e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
      return CS_ENOENT; /* no text: the caller says what a missing file means */
    return cs__win_failf(err, e, "cannot open %s", shown);
  }
  if (!GetFileInformationByHandle(*h, fi)) {
    e = GetLastError();
    CloseHandle(*h);
    *h = INVALID_HANDLE_VALUE;
    return cs__win_failf(err, e, "cannot look at %s", shown);
  }
  if ((fi->dwFileAttributes & (FILE_ATTRIBUTE_REPARSE_POINT | FILE_ATTRIBUTE_DIRECTORY)) ||
      fi->nNumberOfLinks != 1) {
    CloseHandle(*h);
    *h = INVALID_HANDLE_VALUE;
    return cs_err_set(err, CS_ENOTREG, 0, "%s is %s: not touched", shown,
                      (fi->dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) ? "a link or reparse point"
                      : (fi->dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ? "a folder"
                                                                             : "a file with more than one name");
  }
  return CS_OK;
}

int cs__win_delete_handle(HANDLE h) {
  FILE_DISPOSITION_INFO d;
  d.DeleteFile = TRUE;
  return SetFileInformationByHandle(h, FileDispositionInfo, &d, sizeof d) ? 0 : -1;
}

/* FILE_RENAME_INFORMATION of the WDK (ntifs.h): FileName relative to RootDirectory
 * when that is set. SetFileInformationByHandle(FileRenameInfo) is not used: its Win32
 * layer makes the name a full NT path (RtlDosPathNameToNtPathName), which rules out
 * a RootDirectory; NtSetInformationFile takes the structure as it is. */
typedef struct rename_info_s {
  BOOLEAN ReplaceIfExists;
  HANDLE RootDirectory;
  ULONG FileNameLength;
  WCHAR FileName[1];
} rename_info_t;

typedef struct io_status_s {
  union {
    LONG Status;
    PVOID Pointer;
  } u;
  ULONG_PTR Information;
} io_status_t;

typedef LONG(NTAPI *set_info_fn)(HANDLE, io_status_t *, PVOID, ULONG, int);
typedef ULONG(NTAPI *status_fn)(LONG);

#define FILE_RENAME_INFORMATION_CLASS 10 /* FileRenameInformation */

/* NtSetInformationFile(FileRenameInformation); ERROR_SUCCESS or the Windows error. */
static DWORD nt_rename(HANDLE h, rename_info_t *ri, ULONG size) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  set_info_fn set_info = NULL;
  status_fn to_error = NULL;
  io_status_t io;
  LONG st;
  FARPROC f;
  if (ntdll != NULL && (f = GetProcAddress(ntdll, "NtSetInformationFile")) != NULL)
    memcpy(&set_info, &f, sizeof f); /* a function pointer of another type: copied, not cast */
  if (ntdll != NULL && (f = GetProcAddress(ntdll, "RtlNtStatusToDosError")) != NULL)
    memcpy(&to_error, &f, sizeof f);
  if (set_info == NULL || to_error == NULL)
    return ERROR_PROC_NOT_FOUND;
  st = set_info(h, &io, ri, size, FILE_RENAME_INFORMATION_CLASS);
  return st >= 0 ? ERROR_SUCCESS : to_error(st);
}

int cs__win_rename_in_place(HANDLE h, const wchar_t *path) {
  const wchar_t *base = path + cs__win_base_of(path);
  wchar_t *folder = NULL;
  HANDLE dir = INVALID_HANDLE_VALUE;
  BY_HANDLE_FILE_INFORMATION fi;
  rename_info_t *ri = NULL;
  size_t len, size;
  DWORD e = ERROR_SUCCESS;

  len = wcslen(base);
  size = sizeof *ri + sizeof(wchar_t) * (len + 1);
  if ((ri = calloc(1, size)) == NULL || (folder = malloc(sizeof *folder * ((size_t)(base - path) + 1))) == NULL) {
    e = ERROR_NOT_ENOUGH_MEMORY;
    goto out;
  }
  /* the new name is taken relative to a handle of the folder, which must be the folder
   * of path (its final path) and no link: nothing is resolved again by path */
  memcpy(folder, path, sizeof *folder * (size_t)(base - path));
  folder[base - path] = L'\0';
  if ((size_t)(base - path) > cs__win_root_len(path)) /* "C:\dir\" -> "C:\dir", a root stays */
    folder[base - path - 1] = L'\0';
  dir = CreateFileW(folder, FILE_LIST_DIRECTORY | FILE_TRAVERSE | SYNCHRONIZE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
  if (dir == INVALID_HANDLE_VALUE || !GetFileInformationByHandle(dir, &fi)) {
    e = GetLastError();
    goto out;
  }
  if ((fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) || cs__win_handle_is_at(dir, folder, "", NULL) != CS_OK) {
    e = ERROR_CANT_ACCESS_FILE;
    goto out;
  }
  ri->ReplaceIfExists = FALSE; /* what is there now is never replaced on the strength of a record */
  ri->RootDirectory = dir;
  ri->FileNameLength = (ULONG)(sizeof(wchar_t) * len);
  memcpy(ri->FileName, base, sizeof(wchar_t) * (len + 1));
  e = nt_rename(h, ri, (ULONG)size);
out:
  if (dir != INVALID_HANDLE_VALUE)
    CloseHandle(dir);
  free(folder);
  free(ri);
  SetLastError(e);
  return e == ERROR_SUCCESS ? 0 : -1;
}
