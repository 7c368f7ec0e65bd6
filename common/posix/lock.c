/* POSIX half of platform.h: one instance at a time, with flock(2).
 * flock rather than fcntl locks: those belong to the process and vanish when any of
 * its descriptors for the file is closed, and do not exclude a second open in the same
 * process; flock belongs to the open file description and ends with it, however the
 * process ends. (On NFS, Linux emulates flock with fcntl locks, so keep the file local.) */
#include "../platform.h"
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

struct cs_plat_lock_s {
  int fd;
};

/* For the message only: the holder writes its pid once it has the lock. */
static long holder_pid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  char *end;
  long pid;

  if (n <= 0)
    return 0;
  buf[n] = '\0';
  pid = strtol(buf, &end, 10);
  return end != buf && (*end == '\n' || *end == '\0') && pid > 0 ? pid : 0;
}

int cs_plat_lock(const char *path, cs_plat_lock_t **lock, cs_err_t *err) {
  cs_plat_lock_t *l = NULL;
  char pid[32];
  struct stat st;
  int fd = -1, rc, n;

  *lock = NULL;
  /* no link in any component; O_NONBLOCK: a FIFO put there cannot hold this open */
  if ((rc = cs__posix_open_file(path, O_RDWR | O_CREAT | O_NONBLOCK, 0600, &fd, err)) != CS_OK)
    goto out;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "the lock file %s is not a regular file", path);
    goto out;
  }
  while ((n = flock(fd, LOCK_EX | LOCK_NB)) != 0 && errno == EINTR)
    ;
  if (n != 0) {
    long holder;
    if (errno != EWOULDBLOCK) {
      rc = cs_err_set(err, CS_EIO, errno, "cannot lock %s: %s", path, strerror(errno));
      goto out;
    }
    if ((holder = holder_pid(fd)) > 0)
      rc = cs_err_set(err, CS_EBUSY, EWOULDBLOCK, "%s is held by process %ld", path, holder);
    else
      rc = cs_err_set(err, CS_EBUSY, EWOULDBLOCK, "%s is held by another process", path);
    goto out;
  }
  /* A pid left by a holder that crashed is overwritten here; it is never read unless locked. */
  n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
    rc = cs_err_set(err, CS_EIO, errno, "cannot write the pid into lock file %s: %s", path, strerror(errno));
    goto out;
  }
  if ((l = malloc(sizeof *l)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory locking %s", path);
    goto out;
  }
  l->fd = fd;
  fd = -1;
  *lock = l;
  rc = CS_OK;
out:
  if (fd >= 0)
    close(fd);
  return rc;
}

void cs_plat_unlock(cs_plat_lock_t *lock) {
  int ignored;

  if (lock == NULL)
    return;
  /* Emptied while still held: after the close, the file may already be another's.
   * It is not removed: a process that opened it meanwhile would hold a lock on a
   * file nobody else sees. A failure costs only the pid in a later message. */
  ignored = ftruncate(lock->fd, 0);
  (void)ignored;
  close(lock->fd);
  free(lock);
}
