/* POSIX half of the secrets at rest (platform.h, password.h): nothing to seal with
 * (no DPAPI), so the file itself is the protection: mode 0600, owned by the caller
 * (root for the daemon), no ACL entries for anyone else. */
#include "../password.h"
#include "../platform.h"
#include "../text.h"
#include "posix.h"

#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

static int copy_out(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err) {
  *out_len = 0;
  if ((*out = cs_memdup(data, len)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  *out_len = len;
  return CS_OK;
}

int cs_plat_secret_seal(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err) {
  return copy_out(data, len, out, out_len, err);
}

int cs_plat_secret_unseal(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err) {
  *out = NULL;
  *out_len = 0;
  if (len >= CS_SECRET_HEADER_LEN && memcmp(data, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN) == 0)
    return cs_err_set(err, CS_EFORMAT, 0,
                      "it was sealed with Windows DPAPI, which only the Windows machine that sealed it can open; "
                      "write the password here with certsteward set-password");
  return copy_out(data, len, out, out_len, err);
}

/* Restricts the file that is about to be replaced, so that cs_plat_write_atomic (which
 * gives the new file the old one's owner, mode and ACL) makes a 0600 file: mode 0600,
 * ACL entries removed, and owner root:root when run as root. */
static int restrict_old(const char *path, cs_err_t *err) {
  struct stat st;
  acl_t acl = NULL;
  int fd, rc = CS_OK;

  /* O_NOFOLLOW | O_NONBLOCK: a link or a FIFO is refused here, not followed or waited on */
  fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    if (errno == ENOENT)
      return CS_OK;
    if (errno == ELOOP)
      return cs_err_set(err, CS_ENOTREG, 0, "%s is a symbolic link; not replaced", path);
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot open %s: %s", path, strerror(errno));
  }
  if (fstat(fd, &st) != 0) {
    rc = cs_err_set(err, CS_EIO, errno, "cannot stat %s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file; not replaced", path);
    goto out;
  }
  if (geteuid() == 0 && (st.st_uid != 0 || st.st_gid != 0) && fchown(fd, 0, 0) != 0) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot give %s to root: %s", path, strerror(errno));
    goto out;
  }
  /* An access ACL equal to mode 0600 drops every named entry (and the mask). */
  if ((acl = acl_from_mode(0600)) != NULL && acl_set_fd(fd, acl) != 0 && errno != ENOTSUP && errno != EOPNOTSUPP) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove the ACL entries of %s: %s", path,
                    strerror(errno));
    goto out;
  }
  if (fchmod(fd, 0600) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot set mode 0600 on %s: %s", path, strerror(errno));
out:
  if (acl != NULL)
    acl_free(acl);
  close(fd);
  return rc;
}

int cs_plat_secret_store(const char *path, const void *data, size_t len, cs_err_t *err) {
  struct stat st;
  int rc;

  if ((rc = restrict_old(path, err)) != CS_OK)
    return rc;
  if ((rc = cs_plat_write_atomic(path, data, len, 0600, err)) != CS_OK)
    return rc;
  /* What is there now is what the service will read: say so if it is not private. */
  if (lstat(path, &st) != 0)
    return cs_err_set(err, CS_EIO, errno, "cannot stat %s after writing it: %s", path, strerror(errno));
  if ((st.st_mode & 077) != 0)
    return cs_err_set(err, CS_EACCES, 0, "%s was written but others can access it (mode %04o)", path,
                      (unsigned)(st.st_mode & 07777));
  return CS_OK;
}
