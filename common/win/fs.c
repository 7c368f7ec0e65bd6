/* Windows half of platform.h: folders, rename and remove, trees, files opened as
 * logs. (The atomic replacement of a file is common/win/replace.c's.)
 *
 * What Wine proves and what only real Windows does: Wine stores no ACLs on files
 * (SetSecurityInfo returns success and keeps nothing, a new folder's security
 * descriptor is dropped), so that a private folder (mode 0700) gets its protected DACL
 * is proven only on real Windows (NTFS). The same goes for the retry on a sharing
 * violation (antivirus, the indexer, a reader without FILE_SHARE_DELETE). Under Wine
 * the data path is proven: rename, remove, trees. */
#include "../platform.h"
#include "../text.h"
#include "acl.h"
#include "win.h"

#include <aclapi.h>
#include <sddl.h>

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUSY_RETRIES 20 /* x 50 ms: how long someone else's open handle may block a removal */

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

/* ---- cs_plat_mkdirs ----------------------------------------------------------------- */

/* Length of the part of p that is never created: "C:\", "\", "\\server\share\",
 * "\\?\C:\", "\\?\UNC\server\share\"; 0 for a relative path. */
size_t cs__win_root_len(const wchar_t *p) {
  size_t i = 0, skip;
  if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0) {
    i = 8;
    skip = 2;
  } else if (wcsncmp(p, L"\\\\?\\", 4) == 0) {
    return p[4] && p[5] == L':' ? (p[6] ? 7 : 6) : 4;
  } else if (is_sep(p[0]) && is_sep(p[1])) {
    i = 2;
    skip = 2;
  } else if (p[0] && p[1] == L':') {
    return is_sep(p[2]) ? 3 : 2;
  } else {
    return is_sep(p[0]) ? 1 : 0;
  }
  for (; p[i] && skip > 0; i++) /* server, then share */
    if (is_sep(p[i]))
      skip--;
  return i;
}

/* A folder whose mode gives nobody but its owner access (0700) gets a protected DACL:
 * SYSTEM, Administrators and this process's user, full control, inherited by what is
 * made inside; any other mode inherits the parent's ACL. */
static int private_sa(SECURITY_ATTRIBUTES *sa, PSECURITY_DESCRIPTOR *sd) {
  HANDLE tok = NULL;
  union { TOKEN_USER u; unsigned char b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE]; } user;
  DWORD n = 0;
  wchar_t *sid = NULL, sddl[256];
  int ok = 0;

  *sd = NULL;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) ||
      !GetTokenInformation(tok, TokenUser, &user, sizeof user, &n) || !ConvertSidToStringSidW(user.u.User.Sid, &sid))
    goto out;
  swprintf(sddl, 256, L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FA;;;%ls)", sid);
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, sd, NULL))
    goto out;
  sa->nLength = sizeof *sa;
  sa->lpSecurityDescriptor = *sd;
  sa->bInheritHandle = FALSE;
  ok = 1;
out:
  LocalFree(sid);
  if (tok != NULL)
    CloseHandle(tok);
  return ok;
}

int cs_plat_mkdirs(const char *path, int mode, cs_err_t *err) {
  wchar_t *w = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_ATTRIBUTES sa;
  size_t i, n, root;
  int rc = CS_OK;

  if (path == NULL || *path == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "empty folder path");
  if ((w = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  if ((mode & 077) == 0 && !private_sa(&sa, &sd)) {
    rc = cs__win_fail(err, GetLastError(), "cannot make the access rules of a private folder");
    goto out;
  }
  n = wcslen(w);
  root = cs__win_root_len(w);
  while (n > root && is_sep(w[n - 1]))
    w[--n] = L'\0';
  for (i = root + 1; i <= n; i++) {
    wchar_t c = w[i];
    DWORD attrs, e;
    if ((c != L'\0' && !is_sep(c)) || is_sep(w[i - 1]))
      continue;
    w[i] = L'\0';
    if (!CreateDirectoryW(w, sd != NULL ? &sa : NULL)) {
      e = GetLastError();
      attrs = GetFileAttributesW(w);
      if (attrs == INVALID_FILE_ATTRIBUTES || !(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
        char *level = cs__win_utf8(w), what[600];
        if (attrs != INVALID_FILE_ATTRIBUTES)
          rc = cs_err_set(err, CS_ENOTREG, 0, "cannot create folder %s: %s exists and is not a folder", path,
                          level ? level : "a level");
        else {
          snprintf(what, sizeof what, "cannot create folder %s: %s", path, level ? level : "a level");
          rc = cs__win_fail(err, e, what);
        }
        free(level);
        goto out;
      }
    }
    w[i] = c;
  }
out:
  LocalFree(sd);
  free(w);
  return rc;
}

/* ---- rename, remove, exists ---------------------------------------------------------- */

int cs_plat_rename(const char *from, const char *to, cs_err_t *err) {
  wchar_t *wf = cs__win_path(from), *wt = cs__win_path(to);
  DWORD e = 0;
  int rc = CS_OK;
  if (wf == NULL || wt == NULL)
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot rename %s to %s: not valid UTF-8, or out of memory", from, to);
  else if (!cs__win_move_replace(wf, wt, &e)) {
    rc = cs__win_failf(err, e, "cannot rename %s to %s", from, to);
  }
  free(wf);
  free(wt);
  return rc;
}

/* Removes one entry without following it: a file (read-only or not), or a link or
 * junction to a folder (RemoveDirectory removes the link itself). */
static DWORD remove_entry(const wchar_t *w, DWORD attrs) {
  int i;
  if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && (attrs & FILE_ATTRIBUTE_REPARSE_POINT))
    return RemoveDirectoryW(w) ? ERROR_SUCCESS : GetLastError();
  if (attrs & FILE_ATTRIBUTE_READONLY) /* unlink ignores the mode; DeleteFile does not */
    (void)SetFileAttributesW(w, attrs & ~(DWORD)FILE_ATTRIBUTE_READONLY);
  for (i = 0;; i++) {
    DWORD e;
    if (DeleteFileW(w))
      return ERROR_SUCCESS;
    e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
      return ERROR_SUCCESS;
    if (i == BUSY_RETRIES || !cs__win_transient(e))
      return e;
    Sleep(50);
  }
}

int cs_plat_remove(const char *path, cs_err_t *err) {
  wchar_t *w = cs__win_path(path);
  DWORD attrs, e;
  int rc = CS_OK;
  if (w == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot remove %s: not valid UTF-8, or out of memory", path);
    goto out;
  }
  attrs = GetFileAttributesW(w);
  if (attrs == INVALID_FILE_ATTRIBUTES) {
    e = GetLastError();
    if (e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND) {
      rc = cs__win_failf(err, e, "cannot remove %s", path);
    }
    goto out;
  }
  if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && !(attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "cannot remove %s: it is a folder", path);
    goto out;
  }
  if ((e = remove_entry(w, attrs)) != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot remove %s", path);
  }
out:
  free(w);
  return rc;
}

int cs_plat_exists(const char *path) {
  wchar_t *w = cs__win_path(path);
  /* GetFileAttributes looks at a link itself, not at its target */
  int yes = w != NULL && GetFileAttributesW(w) != INVALID_FILE_ATTRIBUTES;
  free(w);
  return yes;
}

/* ---- cs_plat_remove_tree --------------------------------------------------------- */

/* Empties and removes the folder w (its contents first; links removed, never followed).
 * depth bounds the recursion. Returns ERROR_SUCCESS or the first error. */
static DWORD remove_folder(wchar_t *w, int depth) {
  WIN32_FIND_DATAW fd;
  HANDLE find;
  size_t n = wcslen(w);
  DWORD e = ERROR_SUCCESS;
  wchar_t *pattern, *child;

  if (depth > 256)
    return ERROR_FILENAME_EXCED_RANGE;
  if ((pattern = malloc(sizeof *pattern * (n + 3))) == NULL)
    return ERROR_NOT_ENOUGH_MEMORY;
  memcpy(pattern, w, sizeof *w * n);
  memcpy(pattern + n, L"\\*", sizeof(L"\\*"));
  find = FindFirstFileExW(pattern, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
  free(pattern);
  if (find == INVALID_HANDLE_VALUE) {
    e = GetLastError();
    if (e != ERROR_FILE_NOT_FOUND && e != ERROR_NO_MORE_FILES)
      return e;
    e = ERROR_SUCCESS;
  } else {
    do {
      size_t m;
      if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
        continue;
      m = wcslen(fd.cFileName);
      if ((child = malloc(sizeof *child * (n + m + 2))) == NULL) {
        e = ERROR_NOT_ENOUGH_MEMORY;
        break;
      }
      memcpy(child, w, sizeof *w * n);
      child[n] = L'\\';
      memcpy(child + n + 1, fd.cFileName, sizeof *child * (m + 1));
      if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT))
        e = remove_folder(child, depth + 1);
      else
        e = remove_entry(child, fd.dwFileAttributes);
      free(child);
    } while (e == ERROR_SUCCESS && FindNextFileW(find, &fd));
    FindClose(find);
  }
  if (e == ERROR_SUCCESS && !RemoveDirectoryW(w)) {
    e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
      e = ERROR_SUCCESS;
  }
  return e;
}

int cs_plat_remove_tree(const char *path, cs_err_t *err) {
  wchar_t *w = cs__win_path(path);
  DWORD attrs, e = ERROR_SUCCESS;
  size_t n;
  int rc = CS_OK;

  if (w == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot remove %s: not valid UTF-8, or out of memory", path);
    goto out;
  }
  n = wcslen(w);
  while (n > 1 && is_sep(w[n - 1]) && w[n - 2] != L':')
    w[--n] = L'\0';
  attrs = GetFileAttributesW(w);
  if (attrs == INVALID_FILE_ATTRIBUTES) {
    e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
      e = ERROR_SUCCESS; /* already gone */
  } else if ((attrs & FILE_ATTRIBUTE_DIRECTORY) && !(attrs & FILE_ATTRIBUTE_REPARSE_POINT))
    e = remove_folder(w, 0);
  else
    e = remove_entry(w, attrs);
  if (e != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot remove %s", path);
  }
out:
  free(w);
  return rc;
}

FILE *cs_plat_fopen(const char *path, const char *mode) {
  wchar_t *wpath = cs__win_path(path), *wmode = cs__win_wide(mode);
  FILE *f = NULL;
  if (wpath == NULL || wmode == NULL)
    errno = wpath == NULL && path != NULL ? EINVAL : ENOMEM;
  else
    f = _wfopen(wpath, wmode);
  free(wpath);
  free(wmode);
  return f;
}

/* Opened without following a reparse point at path itself; created for SYSTEM and
 * Administrators only; refused when it has more than one name (a hard link to
 * another file) or when anyone else may change it (someone made it first).
 * Folders above are not judged here (a junction there is followed): only real
 * Windows proves the ACL part, Wine stores none. */
FILE *cs_plat_fopen_log(const char *path) {
  wchar_t *wpath = cs__win_path(path);
  BY_HANDLE_FILE_INFORMATION info;
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
  HANDLE h = INVALID_HANDLE_VALUE;
  FILE *f = NULL;
  int fd;
  if (wpath == NULL) {
    errno = path != NULL ? EINVAL : ENOMEM;
    return NULL;
  }
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;FA;;;SY)(A;;FA;;;BA)", SDDL_REVISION_1,
                                                            &sa.lpSecurityDescriptor, NULL)) {
    free(wpath);
    errno = ENOMEM;
    return NULL;
  }
  h = CreateFileW(wpath, FILE_APPEND_DATA | READ_CONTROL | SYNCHRONIZE,
                  FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, &sa, OPEN_ALWAYS,
                  FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  LocalFree(sa.lpSecurityDescriptor);
  free(wpath);
  if (h == INVALID_HANDLE_VALUE) {
    errno = EACCES;
    return NULL;
  }
  if (!GetFileInformationByHandle(h, &info) || (info.dwFileAttributes & (FILE_ATTRIBUTE_REPARSE_POINT |
                                                                       FILE_ATTRIBUTE_DIRECTORY)) ||
      info.nNumberOfLinks != 1 || cs__win_handle_unsafe(h, CS_WIN_FOLDER_WRITE_RIGHTS) != CS_WIN_SAFE) {
    CloseHandle(h);
    errno = EPERM;
    return NULL;
  }
  if ((fd = _open_osfhandle((intptr_t)h, _O_APPEND | _O_BINARY | _O_WRONLY)) < 0) {
    CloseHandle(h);
    return NULL;
  }
  if ((f = _fdopen(fd, "ab")) == NULL)
    _close(fd);
  return f;
}

