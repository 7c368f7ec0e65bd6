/* POSIX half of the secrets at rest (platform.h, password.h): nothing to seal with
 * (no DPAPI), so the file itself is the protection: mode 0600, owned by the caller
 * (root for the daemon), no ACL entries for anyone else. */
#include "../password.h"
#include "../platform.h"
#include "../text.h"
#include "posix.h"

#include <string.h>
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

/* Written as cs__posix_write_meta writes (the folder reached without following a
 * link in any component, a temp file given root's owner, mode 0600 and no ACL entry
 * before any byte, renamed over the old file): nothing of the old file's owner, mode
 * or ACL carries over, and nothing is done to whatever occupies the path. */
int cs_plat_secret_store(const char *path, const void *data, size_t len, cs_err_t *err) {
  cs__posix_meta_t m;
  int rc;

  memset(&m, 0, sizeof m);
  m.uid = (long long)geteuid();
  m.gid = (long long)getegid();
  m.mode = 0600;
  if ((rc = cs__posix_write_meta(path, data, len, &m, err)) != CS_OK)
    return rc;
  /* What is there now is what the service will read: say so if it is not private. */
  if ((rc = cs__posix_meta_read(path, &m, err)) != CS_OK)
    return rc;
  if ((m.mode & 077) != 0 || m.acl != NULL)
    rc = cs_err_set(err, CS_EACCES, 0, "%s was written but others can access it (mode %04o%s)", path,
                    (unsigned)(m.mode & 07777), m.acl != NULL ? ", ACL entries" : "");
  cs__posix_meta_free(&m);
  return rc;
}
