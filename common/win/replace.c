/* Windows half of platform.h: the atomic replacement of a file (cs_plat_write_atomic)
 * and the clean-up of what a crash in one left (cs_plat_remove_temps).
 *
 * The new contents go to a temp file beside the old one, ".<base>.XXXXXX.tmp", made
 * exclusively. A file that exists keeps its identity: the temp file gets its owner
 * and its DACL before the first byte of data, is flushed, and then takes its place
 * through ReplaceFileW, which keeps the old file's creation time, DACL, named streams,
 * encryption and compression; its attributes are put back after (read-only included,
 * which ReplaceFile refuses to replace). The old file is moved aside first, to
 * ".<base>.XXXXXX.bak" (ReplaceFile's backup): if the process dies between the two
 * renames ReplaceFile does, cs_plat_remove_temps puts it back, so that the path never
 * stays empty. A new file is renamed into place (MoveFileEx, write-through).
 * Every other program's handle must have been opened with FILE_SHARE_DELETE for either
 * to succeed (ReplaceFile opens the old file with GENERIC_READ | DELETE); a connector
 * that holds its settings file otherwise must be stopped first (renewal.c does), and a
 * short-lived holder (antivirus, the indexer) is waited out for a second.
 *
 * What Wine proves and what only real Windows does: Wine's ReplaceFileW is two renames
 * and carries nothing over (its sharing checks are real: proven under Wine, with the
 * attributes this code puts back itself); Wine stores no ACLs on files, so that the
 * owner and the DACL are kept is proven only on NTFS, as are the streams, the
 * SeRestorePrivilege the owner takes, and the flush of the rename to disk. */
#include "../platform.h"
#include "win.h"

#include <aclapi.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TEMP_ATTEMPTS 100
#define BUSY_RETRIES 20 /* x 50 ms: how long someone else's open handle may block a rename */
/* the attributes a replacement keeps (SetFileAttributes takes these) */
#define KEPT_ATTRIBUTES                                                                                        \
  (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |          \
   FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_TEMPORARY)

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

/* Index where the last component of w starts. */
static size_t base_of(const wchar_t *w) {
  size_t base = wcslen(w);
  while (base > 0 && !is_sep(w[base - 1]) && !(base == 2 && w[1] == L':'))
    base--;
  return base;
}

BOOL cs__win_move_replace(const wchar_t *from, const wchar_t *to, DWORD *e) {
  int i;
  for (i = 0;; i++) {
    if (MoveFileExW(from, to, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
      return TRUE;
    *e = GetLastError();
    if (i == BUSY_RETRIES || !cs__win_transient(*e))
      return FALSE;
    Sleep(50);
  }
}

/* ---- temp names ------------------------------------------------------------------ */

/* A new "<dir>\.<base>.XXXXXX<suffix>" (suffix 4 characters) into a new string; each
 * call another X part from *z. NULL when out of memory. */
static wchar_t *temp_name(const wchar_t *wpath, const wchar_t *suffix, unsigned long long *z) {
  static const wchar_t alphabet[] = L"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t n = wcslen(wpath), base = base_of(wpath), x;
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

/* Creates a ".tmp" temp file exclusively (CREATE_NEW), not inheritable, with WRITE_DAC
 * and WRITE_OWNER so the old file's owner and DACL can be put on it before any data. */
static int open_temp(const wchar_t *wpath, const char *path, wchar_t **tmp, HANDLE *h, cs_err_t *err) {
  unsigned long long z = seed(tmp);
  DWORD e = 0;
  int attempt;
  for (attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    if ((*tmp = temp_name(wpath, L".tmp", &z)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
    *h = CreateFileW(*tmp, GENERIC_WRITE | WRITE_DAC | WRITE_OWNER | READ_CONTROL, 0, NULL, CREATE_NEW,
                     FILE_ATTRIBUTE_NORMAL, NULL);
    if (*h != INVALID_HANDLE_VALUE)
      return CS_OK;
    free(*tmp);
    *tmp = NULL;
    if ((e = GetLastError()) != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS)
      break;
  }
  return cs__win_failf(err, e, "cannot create a temp file for %s", path);
}

/* A ".bak" name no file has now, for ReplaceFile's backup of the old file. */
static wchar_t *backup_name(const wchar_t *wpath) {
  unsigned long long z = seed(wpath);
  int attempt;
  for (attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    wchar_t *b = temp_name(wpath, L".bak", &z);
    if (b == NULL || (GetFileAttributesW(b) == INVALID_FILE_ATTRIBUTES && GetLastError() == ERROR_FILE_NOT_FOUND))
      return b;
    free(b);
  }
  return NULL;
}

/* ---- the old file's owner and DACL on the new one --------------------------------- */

/* Turns SeRestorePrivilege on in this thread's token (or the process's), which lets
 * an owner other than oneself be set; *was receives what to turn back. 0 when it is
 * not held (the set then fails unless the owner is oneself). */
static int restore_privilege(HANDLE *tok, TOKEN_PRIVILEGES *was) {
  TOKEN_PRIVILEGES tp;
  DWORD n = sizeof *was;
  *tok = NULL;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, tok))
    return 0;
  tp.PrivilegeCount = 1;
  tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  if (!LookupPrivilegeValueW(NULL, SE_RESTORE_NAME, &tp.Privileges[0].Luid) ||
      !AdjustTokenPrivileges(*tok, FALSE, &tp, sizeof *was, was, &n) || GetLastError() == ERROR_NOT_ALL_ASSIGNED) {
    CloseHandle(*tok);
    *tok = NULL;
    return 0;
  }
  return 1;
}

/* Gives the temp file h the owner and the DACL of the file it replaces. The DACL's
 * inherited entries are recomputed from the folder, which is the same folder; a
 * protected DACL stays protected. The owner is set only when it is not already the
 * one a new file gets; that takes SeRestorePrivilege (LocalSystem and elevated
 * administrators hold it), turned on for the call and back off after. */
static int copy_security(const wchar_t *wpath, HANDLE h, const char *path, cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL, mine = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  SECURITY_INFORMATION si = DACL_SECURITY_INFORMATION;
  TOKEN_PRIVILEGES was;
  PSID owner = NULL, now = NULL;
  HANDLE tok = NULL;
  PACL dacl = NULL;
  DWORD rev, e;
  int rc = CS_OK;

  e = GetNamedSecurityInfoW(wpath, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
                            NULL, &dacl, NULL, &sd);
  if (e != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot read the owner and ACL of %s", path);
    goto out;
  }
  if (GetSecurityDescriptorControl(sd, &control, &rev) && (control & SE_DACL_PROTECTED))
    si |= PROTECTED_DACL_SECURITY_INFORMATION;
  else
    si |= UNPROTECTED_DACL_SECURITY_INFORMATION;
  if ((e = SetSecurityInfo(h, SE_FILE_OBJECT, si, NULL, NULL, dacl, NULL)) != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot give the new %s the ACL of the old one", path);
    goto out;
  }
  e = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &now, NULL, NULL, NULL, &mine);
  if (owner == NULL || (e == ERROR_SUCCESS && now != NULL && EqualSid(owner, now)))
    goto out;
  (void)restore_privilege(&tok, &was);
  e = SetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, owner, NULL, NULL, NULL);
  if (tok != NULL) {
    (void)AdjustTokenPrivileges(tok, FALSE, &was, 0, NULL, NULL);
    CloseHandle(tok);
  }
  if (e != ERROR_SUCCESS)
    rc = cs__win_failf(err, e, "cannot give the new %s the owner of the old one (this takes SeRestorePrivilege)",
                       path);
out:
  LocalFree(mine);
  LocalFree(sd);
  return rc;
}

/* ---- cs_plat_write_atomic ------------------------------------------------------- */

/* The replacement of the existing file wpath (attributes attrs) by tmp; 0 or the
 * Windows error. The old file goes to a backup name first, removed once all is done. */
static DWORD replace_existing(const wchar_t *wpath, const wchar_t *tmp, DWORD attrs) {
  wchar_t *bak = backup_name(wpath);
  DWORD e = ERROR_SUCCESS;
  HANDLE h;
  int i;

  if (bak == NULL)
    return ERROR_NOT_ENOUGH_MEMORY;
  if ((attrs & FILE_ATTRIBUTE_READONLY) && !SetFileAttributesW(wpath, attrs & KEPT_ATTRIBUTES & ~FILE_ATTRIBUTE_READONLY)) {
    e = GetLastError();
    goto out;
  }
  for (i = 0;; i++) {
    if (ReplaceFileW(wpath, tmp, bak, REPLACEFILE_IGNORE_MERGE_ERRORS, NULL, NULL)) {
      e = ERROR_SUCCESS;
      break;
    }
    e = GetLastError();
    if (e == ERROR_UNABLE_TO_MOVE_REPLACEMENT_2) {
      /* the old file is at bak, the new one still at tmp: the old one goes back */
      (void)MoveFileExW(bak, wpath, MOVEFILE_WRITE_THROUGH); /* failing that, cs_plat_remove_temps does */
      break;
    }
    if (i == BUSY_RETRIES || !(cs__win_transient(e) || e == ERROR_UNABLE_TO_REMOVE_REPLACED))
      break;
    Sleep(50);
  }
  if (e == ERROR_SUCCESS) {
    (void)DeleteFileW(bak); /* what is left, cs_plat_remove_temps removes */
    /* write-through: ReplaceFile has no such flag (REPLACEFILE_WRITE_THROUGH is not
     * supported); a flush of the file in place commits its metadata, the rename among
     * them, as MOVEFILE_WRITE_THROUGH would. Best effort: the data was flushed before. */
    h = CreateFileW(wpath, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    if (h != INVALID_HANDLE_VALUE) {
      (void)FlushFileBuffers(h);
      CloseHandle(h);
    }
  }
  /* the attributes are put back, on the new file or on the old one still in place */
  (void)SetFileAttributesW(wpath, (attrs & KEPT_ATTRIBUTES) ? attrs & KEPT_ATTRIBUTES : FILE_ATTRIBUTE_NORMAL);
out:
  free(bak);
  return e;
}

int cs_plat_write_atomic(const char *path, const void *data, size_t len, int mode, cs_err_t *err) {
  wchar_t *wpath = NULL, *tmp = NULL;
  HANDLE h = INVALID_HANDLE_VALUE;
  const unsigned char *p = data;
  DWORD attrs, e;
  int rc;

  (void)mode; /* files inherit the folder's ACL; cs_plat_mkdirs makes private folders private */
  if ((wpath = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  if (wpath[0] == L'\0' || is_sep(wpath[wcslen(wpath) - 1])) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s names a folder, not a file", path);
    goto out;
  }
  attrs = GetFileAttributesW(wpath);
  if (attrs != INVALID_FILE_ATTRIBUTES && (attrs & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT))) {
    /* replacing a link would replace the link, not what it points to */
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (%s); not replaced", path,
                    attrs & FILE_ATTRIBUTE_REPARSE_POINT ? "a symbolic link or reparse point" : "a folder");
    goto out;
  }
  if (attrs == INVALID_FILE_ATTRIBUTES && (e = GetLastError()) != ERROR_FILE_NOT_FOUND) {
    rc = cs__win_failf(err, e, "cannot look at %s", path);
    goto out;
  }
  if ((rc = open_temp(wpath, path, &tmp, &h, err)) != CS_OK)
    goto out;
  /* Owner and permissions are settled before the first byte of data goes in. */
  if (attrs != INVALID_FILE_ATTRIBUTES && (rc = copy_security(wpath, h, path, err)) != CS_OK)
    goto out;
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
  CloseHandle(h);
  h = INVALID_HANDLE_VALUE;
  if (attrs != INVALID_FILE_ATTRIBUTES)
    e = replace_existing(wpath, tmp, attrs);
  else /* WRITE_THROUGH: returns once the rename is on disk (Windows has no folder fsync) */
    e = cs__win_move_replace(tmp, wpath, &e) ? ERROR_SUCCESS : e;
  if (e != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot put the new %s in place of the old one (a program holding it open without "
                               "sharing it for deletion stops this)", path);
    goto out;
  }
  free(tmp);
  tmp = NULL;
  rc = CS_OK;
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  if (tmp != NULL)
    DeleteFileW(tmp);
  free(tmp);
  free(wpath);
  return rc;
}

/* ---- cs_plat_remove_temps -------------------------------------------------------- */

/* ".<base>.XXXXXX<suffix>", as temp_name makes them (X: ASCII letters and digits) */
static int is_temp_of(const wchar_t *name, const wchar_t *base, size_t len, const wchar_t *suffix) {
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

/* The folder part of w (base characters) joined with name, in a new string. */
static wchar_t *sibling(const wchar_t *w, size_t base, const wchar_t *name) {
  size_t m = wcslen(name);
  wchar_t *c = malloc(sizeof *c * (base + m + 1));
  if (c != NULL) {
    memcpy(c, w, sizeof *w * base);
    memcpy(c + base, name, sizeof *c * (m + 1));
  }
  return c;
}

/* Runs through the temp files of w with suffix: when restore is set and w is missing,
 * the newest one is renamed back to w (a replacement cut short between its renames);
 * every other one is removed. */
static int sweep(const wchar_t *w, const char *path, const wchar_t *suffix, int restore, cs_err_t *err) {
  size_t base = base_of(w), len = wcslen(w) - base;
  wchar_t *pattern = NULL, *child = NULL, *keep = NULL, glob[8];
  HANDLE find = INVALID_HANDLE_VALUE;
  FILETIME newest = {0, 0};
  WIN32_FIND_DATAW fd;
  DWORD e;
  int rc = CS_OK;

  swprintf(glob, 8, L".*%ls", suffix);
  if ((pattern = malloc(sizeof *pattern * (base + len + 12))) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory looking for temp files of %s", path);
  memcpy(pattern, w, sizeof *w * base);
  pattern[base] = L'.';
  memcpy(pattern + base + 1, w + base, sizeof *w * len);
  memcpy(pattern + base + 1 + len, glob, sizeof *glob * (wcslen(glob) + 1));
  restore = restore && GetFileAttributesW(w) == INVALID_FILE_ATTRIBUTES && GetLastError() == ERROR_FILE_NOT_FOUND;
  find = FindFirstFileExW(pattern, FindExInfoBasic, &fd, FindExSearchNameMatch, NULL, 0);
  if (find == INVALID_HANDLE_VALUE) {
    e = GetLastError();
    if (e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND && e != ERROR_NO_MORE_FILES)
      rc = cs__win_failf(err, e, "cannot look for temp files of %s", path);
    goto out;
  }
  do {
    if ((fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) || !is_temp_of(fd.cFileName, w + base, len, suffix))
      continue;
    free(child);
    if ((child = sibling(w, base, fd.cFileName)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory removing temp files of %s", path);
      goto out;
    }
    if (restore && (keep == NULL || CompareFileTime(&fd.ftLastWriteTime, &newest) > 0)) {
      wchar_t *t = keep;
      keep = child; /* the one to put back so far; the one it displaces goes */
      child = t;
      newest = fd.ftLastWriteTime;
      if (child == NULL)
        continue;
    }
    if (!DeleteFileW(child) && (e = GetLastError()) != ERROR_FILE_NOT_FOUND && rc == CS_OK)
      rc = cs__win_failf(err, e, "cannot remove a temp file of %s", path);
  } while (FindNextFileW(find, &fd));
  if (keep != NULL && !MoveFileExW(keep, w, MOVEFILE_WRITE_THROUGH) && rc == CS_OK)
    rc = cs__win_failf(err, GetLastError(), "cannot put %s back from the copy a cut-short replacement left", path);
out:
  if (find != INVALID_HANDLE_VALUE)
    FindClose(find);
  free(keep);
  free(child);
  free(pattern);
  return rc;
}

int cs_plat_remove_temps(const char *path, cs_err_t *err) {
  wchar_t *w = cs__win_path(path);
  int rc, r;
  if (w == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "cannot look for temp files of %s: not valid UTF-8, or out of memory", path);
  /* the old file first (back in place when it is missing), then the new contents that never got there */
  rc = sweep(w, path, L".bak", 1, err);
  if ((r = sweep(w, path, L".tmp", 0, err)) != CS_OK && rc == CS_OK)
    rc = r;
  free(w);
  return rc;
}
