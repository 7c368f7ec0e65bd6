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

#ifdef CS_TEST_HOOKS
int cs__win_test_cut_replace; /* tests/unit/test_win_fs.c */
#endif

#define TEMP_ATTEMPTS 100
#define BUSY_RETRIES 20 /* x 50 ms: how long someone else's open handle may block a rename */
/* the attributes a replacement keeps (SetFileAttributes takes these) */
#define KEPT_ATTRIBUTES                                                                                        \
  (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |          \
   FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_TEMPORARY)

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

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

/* Creates a ".tmp" temp file exclusively (CREATE_NEW), not inheritable, with WRITE_DAC
 * and WRITE_OWNER so the old file's owner and DACL can be put on it before any data. */
static int open_temp(const wchar_t *wpath, const char *path, wchar_t **tmp, HANDLE *h, cs_err_t *err) {
  unsigned long long z = seed(tmp);
  DWORD e = 0;
  int attempt;
  for (attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    if ((*tmp = temp_name(wpath, L".tmp", &z)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
    *h = CreateFileW(*tmp, GENERIC_WRITE | WRITE_DAC | WRITE_OWNER | READ_CONTROL | DELETE, 0, NULL, CREATE_NEW,
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

/* Turns SeRestorePrivilege on for this thread alone, which lets an owner other than
 * oneself be set: the thread impersonates its own process (ImpersonateSelf) and the
 * privilege is enabled in that thread token, so that no other thread of the process
 * runs with it meanwhile. 1 when the thread now impersonates (end it with
 * RevertToSelf, which drops the thread token and the privilege with it), 0 when it
 * could not (the set then fails unless the owner is oneself). */
static int restore_privilege(void) {
  TOKEN_PRIVILEGES tp;
  HANDLE tok = NULL;
  int ok;
  if (!ImpersonateSelf(SecurityImpersonation))
    return 0;
  tp.PrivilegeCount = 1;
  tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  ok = OpenThreadToken(GetCurrentThread(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, TRUE, &tok) &&
       LookupPrivilegeValueW(NULL, SE_RESTORE_NAME, &tp.Privileges[0].Luid) &&
       AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL) && GetLastError() != ERROR_NOT_ALL_ASSIGNED;
  if (tok != NULL)
    CloseHandle(tok);
  if (!ok) {
    (void)RevertToSelf();
    return 0;
  }
  return 1;
}

/* Gives the temp file h the owner and the DACL of the file it replaces. The DACL's
 * inherited entries are recomputed from the folder, which is the same folder; a
 * protected DACL stays protected. The owner is set only when it is not already the
 * one a new file gets; that takes SeRestorePrivilege (LocalSystem and elevated
 * administrators hold it), turned on for the call and back off after. */
static int copy_security(HANDLE from, HANDLE h, const char *path, cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL, mine = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  SECURITY_INFORMATION si = DACL_SECURITY_INFORMATION;
  PSID owner = NULL, now = NULL;
  PACL dacl = NULL;
  DWORD rev, e;
  int rc = CS_OK, impersonating;

  /* through the handle of the old file: its path is not resolved again */
  e = GetSecurityInfo(from, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL,
                      &dacl, NULL, &sd);
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
  impersonating = restore_privilege();
  e = SetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, owner, NULL, NULL, NULL);
  if (impersonating)
    (void)RevertToSelf();
  if (e != ERROR_SUCCESS)
    rc = cs__win_failf(err, e, "cannot give the new %s the owner of the old one (this takes SeRestorePrivilege)",
                       path);
out:
  LocalFree(mine);
  LocalFree(sd);
  return rc;
}

/* ---- cs_plat_write_atomic, cs_plat_write_recorded ---------------------------------- */

static int same_file(const BY_HANDLE_FILE_INFORMATION *a, const BY_HANDLE_FILE_INFORMATION *b) {
  return a->dwVolumeSerialNumber == b->dwVolumeSerialNumber && a->nFileIndexHigh == b->nFileIndexHigh &&
         a->nFileIndexLow == b->nFileIndexLow;
}

/* Opens w itself (never what it links to, nor a file with another name) with access,
 * when it is the file *want (identity; NULL: any); INVALID_HANDLE_VALUE otherwise. */
static HANDLE open_same(const wchar_t *w, DWORD access, const BY_HANDLE_FILE_INFORMATION *want) {
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h;
  if (cs__win_open_nofollow(w, access, &h, &fi, "", NULL) != CS_OK)
    return INVALID_HANDLE_VALUE;
  if (want != NULL && !same_file(&fi, want)) {
    CloseHandle(h);
    return INVALID_HANDLE_VALUE;
  }
  return h;
}

/* Sets the attributes of the file *want at w through its handle (0: FILE_ATTRIBUTE_NORMAL). */
static BOOL set_attributes(const wchar_t *w, const BY_HANDLE_FILE_INFORMATION *want, DWORD attrs) {
  HANDLE h = open_same(w, FILE_WRITE_ATTRIBUTES, want);
  FILE_BASIC_INFO b;
  BOOL ok;
  if (h == INVALID_HANDLE_VALUE)
    return FALSE;
  memset(&b, 0, sizeof b); /* times 0: left as they are */
  b.FileAttributes = attrs ? attrs : FILE_ATTRIBUTE_NORMAL;
  ok = SetFileInformationByHandle(h, FileBasicInfo, &b, sizeof b);
  CloseHandle(h);
  return ok;
}

/* The replacement of the existing file wpath (identity *old) by tmp;
 * 0 or the Windows error. The old file goes to bak first, removed once all is done. */
static DWORD replace_existing(const wchar_t *wpath, const wchar_t *tmp, const wchar_t *bak,
                              const BY_HANDLE_FILE_INFORMATION *old) {
  DWORD e = ERROR_SUCCESS, attrs = old->dwFileAttributes & KEPT_ATTRIBUTES;
  HANDLE h;
  int i;

  if ((attrs & FILE_ATTRIBUTE_READONLY) && !set_attributes(wpath, old, attrs & ~FILE_ATTRIBUTE_READONLY))
    return GetLastError() ? GetLastError() : ERROR_ACCESS_DENIED;
  for (i = 0;; i++) {
    if (ReplaceFileW(wpath, tmp, bak, REPLACEFILE_IGNORE_MERGE_ERRORS, NULL, NULL)) {
      e = ERROR_SUCCESS;
      break;
    }
    e = GetLastError();
    if (e == ERROR_UNABLE_TO_MOVE_REPLACEMENT_2) {
      /* the old file is at bak, the new one still at tmp: the old one goes back (failing
       * that, the recovery does) */
      if ((h = open_same(bak, DELETE, old)) != INVALID_HANDLE_VALUE) {
        (void)cs__win_rename_in_place(h, wpath);
        CloseHandle(h);
      }
      break;
    }
    if (i == BUSY_RETRIES || !(cs__win_transient(e) || e == ERROR_UNABLE_TO_REMOVE_REPLACED))
      break;
    Sleep(50);
  }
  if (e == ERROR_SUCCESS) {
    if ((h = open_same(bak, DELETE, old)) != INVALID_HANDLE_VALUE) { /* what is left, the recovery removes */
      (void)cs__win_delete_handle(h);
      CloseHandle(h);
    }
    /* write-through: ReplaceFile has no such flag (REPLACEFILE_WRITE_THROUGH is not
     * supported); a flush of the file in place commits its metadata, the rename among
     * them, as MOVEFILE_WRITE_THROUGH would. Best effort: the data was flushed before. */
    if ((h = open_same(wpath, GENERIC_WRITE, NULL)) != INVALID_HANDLE_VALUE) {
      (void)FlushFileBuffers(h);
      CloseHandle(h);
    }
    (void)set_attributes(wpath, NULL, attrs); /* the old file's, on the new one */
  } else {
    (void)set_attributes(wpath, old, attrs); /* the old one is still in place */
  }
  return e;
}

/* Opens the file at wpath that a replacement keeps the identity of: itself, never
 * through a link as the last component. CS_ENOENT (no text) when there is none. */
static int open_old(const wchar_t *wpath, const char *path, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi,
                    cs_err_t *err) {
  DWORD e;
  *h = CreateFileW(wpath, READ_CONTROL | FILE_READ_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                   NULL, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
  if (*h == INVALID_HANDLE_VALUE) {
    if ((e = GetLastError()) == ERROR_FILE_NOT_FOUND)
      return CS_ENOENT;
    return cs__win_failf(err, e, "cannot look at %s", path);
  }
  if (!GetFileInformationByHandle(*h, fi))
    return cs__win_failf(err, GetLastError(), "cannot look at %s", path);
  if (fi->dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT))
    /* replacing a link would replace the link, not what it points to */
    return cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (%s); not replaced", path,
                      fi->dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT ? "a symbolic link or reparse point"
                                                                          : "a folder");
  return CS_OK;
}

/* Both writes; record_dir NULL: cs_plat_write_atomic. */
static int write_file(const char *path, const void *data, size_t len, const char *record_dir, cs_err_t *err) {
  wchar_t *wpath = NULL, *tmp = NULL, *bak = NULL;
  HANDLE h = INVALID_HANDLE_VALUE, old = INVALID_HANDLE_VALUE;
  BY_HANDLE_FILE_INFORMATION ofi, tfi;
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
   * first (its record would be overwritten), and no folder on the way may be a link */
  if (record_dir != NULL && ((rc = cs__win_pending_recover(record_dir, wpath, path, err)) != CS_OK ||
                             (rc = cs__win_no_link_in_path(wpath, path, err)) != CS_OK))
    goto out;
  rc = open_old(wpath, path, &old, &ofi, err);
  if (rc != CS_OK && rc != CS_ENOENT)
    goto out;
  exists = rc == CS_OK;
  if (exists && record_dir != NULL && (rc = cs__win_handle_is_at(old, wpath, path, err)) != CS_OK)
    goto out;
  if (exists && (bak = backup_name(wpath)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
    goto out;
  }
  if ((rc = open_temp(wpath, path, &tmp, &h, err)) != CS_OK)
    goto out;
  if (!GetFileInformationByHandle(h, &tfi)) {
    rc = cs__win_failf(err, GetLastError(), "cannot look at the new %s", path);
    goto out;
  }
  /* the temp file is where it was meant to be made (no folder swapped for a link since
   * the walk), and recorded before any data goes in */
  if (record_dir != NULL && ((rc = cs__win_handle_is_at(h, tmp, path, err)) != CS_OK ||
                             (rc = cs__win_pending_write(record_dir, wpath, tmp, &tfi, bak, &ofi, err)) != CS_OK))
    goto out;
  recorded = record_dir != NULL;
  /* Owner and permissions are settled before the first byte of data goes in. */
  if (exists && (rc = copy_security(old, h, path, err)) != CS_OK)
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
  CloseHandle(h);
  h = INVALID_HANDLE_VALUE;
#ifdef CS_TEST_HOOKS
  if (cs__win_test_cut_replace && exists && recorded) { /* as a crash between ReplaceFile's renames */
    cs__win_test_cut_replace = 0;
    (void)MoveFileExW(wpath, bak, 0);
    recorded = 0; /* nothing is cleaned up: the record stays, and so do the files */
    free(tmp);
    tmp = NULL;
    rc = cs_err_set(err, CS_EFAILED, 0, "test build: replacement of %s cut short between its renames", path);
    goto out;
  }
#endif
  if (exists)
    e = replace_existing(wpath, tmp, bak, &ofi);
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
  if (old != INVALID_HANDLE_VALUE)
    CloseHandle(old);
  if (h != INVALID_HANDLE_VALUE) { /* the temp file, never renamed: deleted through its handle */
    (void)cs__win_delete_handle(h);
    CloseHandle(h);
  } else if (tmp != NULL && (h = open_same(tmp, DELETE, &tfi)) != INVALID_HANDLE_VALUE) {
    (void)cs__win_delete_handle(h);
    CloseHandle(h);
  }
  /* done: the record goes; after a failure the recovery settles what is left (the old
   * file at its backup name goes back) and drops it, or keeps it for the next start */
  if (recorded && rc == CS_OK)
    cs__win_pending_drop(record_dir, wpath);
  else if (recorded)
    (void)cs__win_pending_recover(record_dir, wpath, path, NULL);
  free(bak);
  free(tmp);
  free(wpath);
  return rc;
}

int cs_plat_write_atomic(const char *path, const void *data, size_t len, int mode, cs_err_t *err) {
  (void)mode; /* files inherit the folder's ACL; cs_plat_mkdirs makes private folders private */
  return write_file(path, data, len, NULL, err);
}

int cs_plat_write_recorded(const char *path, const void *data, size_t len, int mode, const char *record_dir,
                           cs_err_t *err) {
  (void)mode;
  if (record_dir == NULL || record_dir[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no record folder for the replacement of %s", path);
  return write_file(path, data, len, record_dir, err);
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

/* ---- cs_plat_remove_temps -------------------------------------------------------- */

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

/* Removes the file at c itself, never what it links to; ERROR_SUCCESS when it is gone. */
static DWORD remove_nofollow(const wchar_t *c) {
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h;
  DWORD e = ERROR_SUCCESS;
  int rc = cs__win_open_nofollow(c, DELETE, &h, &fi, "", NULL);
  if (rc == CS_ENOENT)
    return ERROR_SUCCESS;
  if (rc != CS_OK)
    return ERROR_ACCESS_DENIED; /* a link, a folder, a file with two names: not removed */
  if (cs__win_delete_handle(h) != 0)
    e = GetLastError();
  CloseHandle(h);
  return e;
}

/* Renames the file at keep itself to w, in its folder, not over an existing file. */
static DWORD restore_nofollow(const wchar_t *keep, const wchar_t *w) {
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h;
  DWORD e = ERROR_SUCCESS;
  if (cs__win_open_nofollow(keep, DELETE, &h, &fi, "", NULL) != CS_OK)
    return ERROR_ACCESS_DENIED;
  if (cs__win_rename_in_place(h, w) != 0)
    e = GetLastError();
  CloseHandle(h);
  return e;
}

/* Runs through the temp files of w with suffix: when restore is set and w is missing,
 * the newest one is renamed back to w (a replacement cut short between its renames);
 * every other one is removed. */
static int sweep(const wchar_t *w, const char *path, const wchar_t *suffix, int restore, cs_err_t *err) {
  size_t base = cs__win_base_of(w), len = wcslen(w) - base;
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
    if ((fd.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) ||
        !cs__win_is_temp_of(fd.cFileName, w + base, len, suffix))
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
    if ((e = remove_nofollow(child)) != ERROR_SUCCESS && rc == CS_OK)
      rc = cs__win_failf(err, e, "cannot remove a temp file of %s", path);
  } while (FindNextFileW(find, &fd));
  if (keep != NULL && (e = restore_nofollow(keep, w)) != ERROR_SUCCESS && rc == CS_OK)
    rc = cs__win_failf(err, e, "cannot put %s back from the copy a cut-short replacement left", path);
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
