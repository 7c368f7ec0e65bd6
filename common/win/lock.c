/* Windows half of platform.h: one instance at a time, with LockFileEx.
 * The lock belongs to the handle (a second open in the same process does not get it,
 * as with flock) and is released when the handle closes or the process ends, however
 * it ends. The locked byte lies far past the end of the file, so that the holder's pid
 * at its start stays readable for the message another process gives.
 * The file is opened without FILE_SHARE_DELETE: while held, nobody can delete or
 * rename it and make a second lock file beside it.
 * The lock file is opened relative to its folder's handle, the folders above reached
 * without following a link (walk.c), the file itself not followed when it is one, and
 * refused when it has a second name (a hard link: it is emptied and written).
 * Proven under Wine: exclusion between handles and between processes, release at exit.
 * Only real Windows proves how soon the lock of a killed process is released (the
 * system releases it "depending on available resources"). */
#include "../platform.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOCK_OFFSET_HIGH 0x7FFFFFFFu /* the locked byte: offset 0x7FFFFFFF00000000 */

struct cs_plat_lock_s {
  HANDLE h;
};

/* For the message only: the holder writes its pid once it has the lock. */
static unsigned long holder_pid(HANDLE h) {
  char buf[32];
  DWORD n = 0;
  OVERLAPPED at;
  char *end;
  unsigned long pid;

  memset(&at, 0, sizeof at); /* offset 0, whatever the file pointer */
  if (!ReadFile(h, buf, sizeof buf - 1, &n, &at) || n == 0)
    return 0;
  buf[n] = '\0';
  pid = strtoul(buf, &end, 10);
  return end != buf && (*end == '\r' || *end == '\n' || *end == '\0') ? pid : 0;
}

int cs_plat_lock(const char *path, cs_plat_lock_t **lock, cs_err_t *err) {
  cs_plat_lock_t *l = NULL;
  HANDLE h = INVALID_HANDLE_VALUE;
  wchar_t *w = NULL;
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  BY_HANDLE_FILE_INFORMATION fi;
  OVERLAPPED ov;
  char pid[32];
  DWORD n = 0;
  int rc, len;

  *lock = NULL;
  if ((w = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "lock file %s: not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  /* not inheritable (NtCreateFile without OBJ_INHERIT): a worker we start must not keep
   * it; its folder reached without a link, the file itself not followed */
  if ((rc = cs__win_walk(w, path, 0, NULL, &at, err)) != CS_OK)
    goto out;
  rc = cs__win_open_last(&at, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, FILE_OPEN_IF,
                         FILE_NON_DIRECTORY_FILE, NULL, &h, &fi, path, err);
  if (rc == CS_ENOENT)
    rc = cs__win_failf(err, ERROR_PATH_NOT_FOUND, "cannot open lock file %s", path);
  if (rc != CS_OK)
    goto out;
  /* emptied and written below: a second name would make that another file's */
  if (fi.nNumberOfLinks != 1) {
    rc = cs_err_set(err, CS_ENOTREG, 0,
                    "lock file %s has more than one name (a hard link to a file elsewhere): "
                    "not used",
                    path);
    goto out;
  }
  memset(&ov, 0, sizeof ov);
  ov.OffsetHigh = LOCK_OFFSET_HIGH;
  if (!LockFileEx(h, LOCKFILE_EXCLUSIVE_LOCK | LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &ov)) {
    DWORD e = GetLastError();
    unsigned long holder;
    if (e != ERROR_LOCK_VIOLATION && e != ERROR_IO_PENDING) {
      rc = cs__win_failf(err, e, "cannot lock %s", path);
      goto out;
    }
    if ((holder = holder_pid(h)) > 0)
      rc = cs_err_set(err, CS_EBUSY, (long)e, "%s is held by process %lu", path, holder);
    else
      rc = cs_err_set(err, CS_EBUSY, (long)e, "%s is held by another process", path);
    goto out;
  }
  /* A pid left by a holder that crashed is overwritten here; it is never read unless locked. */
  len = snprintf(pid, sizeof pid, "%lu\r\n", (unsigned long)GetCurrentProcessId());
  memset(&ov, 0, sizeof ov);
  if (SetFilePointer(h, 0, NULL, FILE_BEGIN) == INVALID_SET_FILE_POINTER || !SetEndOfFile(h) ||
      !WriteFile(h, pid, (DWORD)len, &n, &ov) || n != (DWORD)len) {
    rc = cs__win_failf(err, GetLastError(), "cannot write the pid into lock file %s", path);
    goto out;
  }
  if ((l = malloc(sizeof *l)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory locking %s", path);
    goto out;
  }
  l->h = h;
  h = INVALID_HANDLE_VALUE;
  *lock = l;
  rc = CS_OK;
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h); /* releases a lock taken before a later failure */
  cs__win_at_close(&at);
  free(w);
  return rc;
}

void cs_plat_unlock(cs_plat_lock_t *lock) {
  OVERLAPPED at;
  if (lock == NULL)
    return;
  /* Emptied while still held: after the close, the file may already be another's.
   * It is not removed: a process that opened it meanwhile would hold a lock on a
   * file nobody else sees. A failure costs only the pid in a later message. */
  (void)SetFilePointer(lock->h, 0, NULL, FILE_BEGIN);
  (void)SetEndOfFile(lock->h);
  memset(&at, 0, sizeof at);
  at.OffsetHigh = LOCK_OFFSET_HIGH;
  (void)UnlockFileEx(lock->h, 0, 1, 0, &at);
  CloseHandle(lock->h);
  free(lock);
}
