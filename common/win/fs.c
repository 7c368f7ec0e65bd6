/* Windows half of platform.h: folders, rename and remove, trees, files opened as
 * logs. (The atomic replacement of a file is common/win/replace.c's.)
 *
 * What Wine proves and what only real Windows does: Wine stores no ACLs on files
 * (SetSecurityInfo returns success and keeps nothing, a new folder's security
 * descriptor is dropped), so that a private folder (mode 0700) gets its protected DACL
 * is proven only on real Windows (NTFS). The same goes for the retry on a sharing
 * violation (antivirus, the indexer, a reader without FILE_SHARE_DELETE). Under Wine
 * the data path is proven: rename, remove, trees.
 *
 * Every path is reached through cs__win_walk (walk.c): each folder opened relative to
 * the handle of the one before, none a link; folders are made one level at a time
 * relative to their parent's handle; a rename, a removal go through a handle of the
 * entry itself (FileRenameInformation relative to the target folder's handle,
 * FileDispositionInformation); a tree is emptied through handles and never entered
 * through a link inside it, which is removed as a link. Under Wine this is proven for
 * a Unix symbolic link to a folder in the path; a link inside a tree, which Wine
 * follows on open, is left alone there (not removed); on Windows it is removed itself. */
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
/* FileDispositionInfoEx of FILE_INFO_BY_HANDLE_CLASS (minwinbase.h hides it below Windows 10 1809) */
#define DISPOSITION_INFO_EX ((FILE_INFO_BY_HANDLE_CLASS)21)

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
  union {
    TOKEN_USER u;
    unsigned char b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  } user;
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
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
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
  /* each level opened, or created, relative to its parent's handle; an existing one
   * that is a link is refused, one that is a file too */
  rc = cs__win_walk(w, path, CS__WIN_WALK_CREATE | CS__WIN_WALK_ALL, sd, &at, err);
out:
  cs__win_at_close(&at);
  LocalFree(sd);
  free(w);
  return rc;
}

/* ---- rename, remove, exists ---------------------------------------------------------- */

int cs_plat_rename(const char *from, const char *to, cs_err_t *err) {
  wchar_t *wf = cs__win_path(from), *wt = cs__win_path(to);
  cs__win_at_t af = {INVALID_HANDLE_VALUE, NULL, L"", 0}, ato = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  HANDLE h = INVALID_HANDLE_VALUE;
  DWORD e = ERROR_SUCCESS;
  int rc = CS_OK, i;
  if (wf == NULL || wt == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot rename %s to %s: not valid UTF-8, or out of memory", from, to);
    goto out;
  }
  /* both folders reached without a link; from itself is moved, not what it may link to */
  if ((rc = cs__win_walk(wf, from, 0, NULL, &af, err)) != CS_OK ||
      (rc = cs__win_walk(wt, to, 0, NULL, &ato, err)) != CS_OK)
    goto out;
  if (af.len == 0 || ato.len == 0) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot rename %s to %s: a root is no file", from, to);
    goto out;
  }
  for (i = 0;; i++) {
    e = cs__win_open_at(af.dir, af.name, af.len, DELETE | FILE_READ_ATTRIBUTES,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL, &h, NULL);
    if (e == ERROR_SUCCESS)
      e = cs__win_rename_at(h, ato.dir, ato.name, ato.len, 1);
    if (e == ERROR_SUCCESS || i == BUSY_RETRIES || !cs__win_transient(e))
      break;
    if (h != INVALID_HANDLE_VALUE)
      CloseHandle(h);
    h = INVALID_HANDLE_VALUE;
    Sleep(50);
  }
  if (e != ERROR_SUCCESS)
    rc = cs__win_failf(err, e, "cannot rename %s to %s", from, to);
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  cs__win_at_close(&af);
  cs__win_at_close(&ato);
  free(wf);
  free(wt);
  return rc;
}

/* Deletes name in dir through a handle opened without following it: a file (read-only
 * or not), or a link itself (the handle of the link, never of what it leads to). A
 * link Wine followed on open (CS__WIN_FOLLOWED) is not touched. A folder is emptied
 * first when tree is set, refused otherwise (ERROR_DIRECTORY). depth bounds the recursion. */
static DWORD remove_at(HANDLE dir, const wchar_t *name, size_t len, int tree, int depth);

typedef struct tree_s {
  HANDLE dir;
  int depth;
  DWORD e;
} tree_t;

static int remove_child(void *ctx, const wchar_t *name, size_t len, DWORD attrs, const FILETIME *written) {
  tree_t *t = ctx;
  (void)attrs;
  (void)written;
  t->e = remove_at(t->dir, name, len, 1, t->depth + 1);
  return t->e != ERROR_SUCCESS;
}

static DWORD remove_at(HANDLE dir, const wchar_t *name, size_t len, int tree, int depth) {
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h = INVALID_HANDLE_VALUE;
  tree_t t;
  DWORD e = ERROR_SUCCESS;
  int i, v;

  if (depth > 256)
    return ERROR_FILENAME_EXCED_RANGE;
  for (i = 0;; i++) {
    e = cs__win_open_at(dir, name, len, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL, &h, NULL);
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
      return ERROR_SUCCESS;
    if (e == ERROR_SUCCESS || i == BUSY_RETRIES || !cs__win_transient(e))
      break;
    Sleep(50);
  }
  if (e != ERROR_SUCCESS)
    return e;
  if ((v = cs__win_look_at(dir, name, len, h, &fi)) < 0) {
    e = GetLastError();
    goto out;
  }
  if (v == CS__WIN_FOLLOWED) {
    e = ERROR_CANT_ACCESS_FILE; /* the handle is what a link leads to: neither it nor the link is touched */
    goto out;
  }
  if (v == CS__WIN_PLAIN && (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    if (!tree) {
      e = ERROR_DIRECTORY;
      goto out;
    }
    t.dir = h;
    t.depth = depth;
    t.e = ERROR_SUCCESS;
    if ((e = cs__win_list_at(h, NULL, 0, remove_child, &t)) == ERROR_SUCCESS)
      e = t.e;
    if (e != ERROR_SUCCESS)
      goto out;
  }
  /* unlink ignores the mode; a delete-on-close does not. Read-only is taken off only
   * for a file with one name: attributes belong to the file, every name of it ("Hard
   * links and junctions"), so with another name (a hard link to a file elsewhere) the
   * deletion is asked to ignore read-only instead (FileDispositionInfoEx, Windows 10
   * 1809 on) and fails where that is unknown: the other name's file keeps its mode. */
  if ((fi.dwFileAttributes & FILE_ATTRIBUTE_READONLY) && fi.nNumberOfLinks > 1 &&
      !(fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    DWORD flags = 0x1 | 0x10; /* FILE_DISPOSITION_INFO_EX: FLAG_DELETE | FLAG_IGNORE_READONLY_ATTRIBUTE */
    e = SetFileInformationByHandle(h, DISPOSITION_INFO_EX, &flags, sizeof flags) ? ERROR_SUCCESS : GetLastError();
    goto out;
  }
  if (fi.dwFileAttributes & FILE_ATTRIBUTE_READONLY) {
    FILE_BASIC_INFO b;
    memset(&b, 0, sizeof b);
    b.FileAttributes = (fi.dwFileAttributes & ~(DWORD)FILE_ATTRIBUTE_READONLY) | FILE_ATTRIBUTE_NORMAL;
    (void)SetFileInformationByHandle(h, FileBasicInfo, &b, sizeof b);
  }
  if (cs__win_delete_handle(h) != 0)
    e = GetLastError();
out:
  CloseHandle(h);
  return e;
}

/* cs_plat_remove and cs_plat_remove_tree: path's folder reached without a link. */
static int remove_path(const char *path, int tree, cs_err_t *err) {
  wchar_t *w = cs__win_path(path);
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  DWORD e;
  int rc;
  if (w == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot remove %s: not valid UTF-8, or out of memory", path);
    goto out;
  }
  if ((rc = cs__win_walk(w, path, 0, NULL, &at, err)) != CS_OK) {
    if (rc == CS_ENOENT) /* a folder above is missing: already gone */
      rc = CS_OK;
    goto out;
  }
  if (at.len == 0) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot remove %s: it is a root", path);
    goto out;
  }
  e = remove_at(at.dir, at.name, at.len, tree, 0);
  if (e == ERROR_DIRECTORY)
    rc = cs_err_set(err, CS_ENOTREG, 0, "cannot remove %s: it is a folder", path);
  else if (e == ERROR_CANT_ACCESS_FILE)
    rc = cs_err_set(err, CS_ENOTREG, 0,
                    "cannot remove %s: it or an entry in it is a link that was followed, "
                    "left alone",
                    path);
  else if (e != ERROR_SUCCESS)
    rc = cs__win_failf(err, e, "cannot remove %s", path);
out:
  cs__win_at_close(&at);
  free(w);
  return rc;
}

int cs_plat_remove(const char *path, cs_err_t *err) { return remove_path(path, 0, err); }

int cs_plat_exists(const char *path) {
  wchar_t *w = cs__win_path(path);
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  HANDLE h;
  int yes = 0;
  /* reached without a link (a path through one does not exist for certsteward); the
   * last component is looked at itself, a link counting as there */
  if (w != NULL && cs__win_walk(w, path, 0, NULL, &at, NULL) == CS_OK &&
      cs__win_open_at(at.dir, at.name, at.len, FILE_READ_ATTRIBUTES,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, 0, NULL, &h,
                      NULL) == ERROR_SUCCESS) {
    CloseHandle(h);
    yes = 1;
  }
  cs__win_at_close(&at);
  free(w);
  return yes;
}

/* ---- cs_plat_remove_tree --------------------------------------------------------- */

/* Never through a link: the folders above are walked, and inside, a link is removed as
 * a link (its own handle), never descended into. */
int cs_plat_remove_tree(const char *path, cs_err_t *err) { return remove_path(path, 1, err); }

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

/* Opened relative to its folder's handle, the folders above reached without a link,
 * without following a reparse point at path itself; created for SYSTEM and
 * Administrators only; refused when it has more than one name (a hard link to
 * another file) or when anyone else may change it (someone made it first).
 * Only real Windows proves the ACL part, Wine stores none. */
FILE *cs_plat_fopen_log(const char *path) {
  wchar_t *wpath = cs__win_path(path);
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  BY_HANDLE_FILE_INFORMATION info;
  PSECURITY_DESCRIPTOR sd = NULL;
  HANDLE h = INVALID_HANDLE_VALUE;
  FILE *f = NULL;
  int fd, rc;
  if (wpath == NULL) {
    errno = path != NULL ? EINVAL : ENOMEM;
    return NULL;
  }
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;FA;;;SY)(A;;FA;;;BA)", SDDL_REVISION_1, &sd,
                                                            NULL)) {
    free(wpath);
    errno = ENOMEM;
    return NULL;
  }
  if ((rc = cs__win_walk(wpath, path, 0, NULL, &at, NULL)) == CS_OK)
    rc = cs__win_open_last(&at, FILE_APPEND_DATA | READ_CONTROL, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                           FILE_OPEN_IF, FILE_NON_DIRECTORY_FILE, sd, &h, &info, path, NULL);
  cs__win_at_close(&at);
  LocalFree(sd);
  free(wpath);
  if (rc != CS_OK) {
    errno = rc == CS_ENOTREG ? EPERM : rc == CS_ENOENT ? ENOENT : EACCES;
    return NULL;
  }
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || info.nNumberOfLinks != 1 ||
      cs__win_handle_unsafe(h, CS_WIN_FOLDER_WRITE_RIGHTS) != CS_WIN_SAFE) {
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

int cs_plat_source_read(const char *folder, const char *name, int secret, size_t max, unsigned char **data, size_t *len,
                        char *id, size_t id_len, cs_err_t *err) {
  (void)folder;
  (void)name;
  (void)secret;
  (void)max;
  if (data != NULL) {
    *data = NULL;
    *len = 0;
  }
  if (id_len > 0)
    id[0] = '\0';
  return cs_err_set(err, CS_EINVAL, 0,
                    "[store] adopt_from is for a system whose certificates are files: Windows "
                    "adopts from LocalMachine\\My");
}
