/* POSIX: reading [store] adopt_from (platform.h: cs_plat_source_read). The folder is
 * an ACME client's, and certbot's is made of links into its archive: every other path
 * certsteward reads as root refuses a link, this one follows links, and only where
 * guard.c found that nobody but root or this user can change a link or a folder on the
 * way. Its answer is not a snapshot that can go stale: what only root can change, no
 * one else can swap between the judgement and the open. The file is then opened by its
 * real path, which holds no link, without following one. */
#include "../platform.h"
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cs_plat_source_read(const char *folder, const char *name, int secret, size_t max, unsigned char **data, size_t *len,
                        char *id, size_t id_len, cs_err_t *err) {
  char path[PATH_MAX], why[1024];
  char *real = NULL;
  struct stat st;
  int fd = -1, rc;

  if (data != NULL) {
    *data = NULL;
    *len = 0;
  }
  if (id_len > 0)
    id[0] = '\0';
  if (cs_plat_path_join(path, sizeof path, folder, name) != CS_OK)
    return cs_err_set(err, CS_EINVAL, 0, "the path of %s in %s is too long", name, folder);
  /* the folder first: whether a name is there is asked only of a folder no one else
   * can change (else a link put there by another account would make it an oracle of
   * what root can see) */
  if (cs__posix_source_unsafe(folder, CS__SOURCE_FOLDER, why, sizeof why))
    return cs_err_set(err, CS_EACCES, 0, "the folder %s is not trusted: %s", folder, why);
  if (lstat(path, &st) != 0 && errno == ENOENT)
    return cs_err_set(err, CS_ENOENT, ENOENT, "%s is not there", path);
  if (cs__posix_source_unsafe(path, secret ? CS__SOURCE_SECRET : CS__SOURCE_FILE, why, sizeof why))
    return cs_err_set(err, CS_EACCES, 0, "%s is not trusted: %s", path, why);
  if ((real = realpath(path, NULL)) == NULL)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot resolve %s: %s", path, strerror(errno));
  rc = cs__posix_open_file(real, O_RDONLY | O_NONBLOCK, 0, &fd, err);
  if (rc == CS_OK && fstat(fd, &st) != 0)
    rc = cs_err_set(err, CS_EIO, errno, "cannot look at %s: %s", real, strerror(errno));
  if (rc == CS_OK && !S_ISREG(st.st_mode))
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s (%s) is not a regular file", path, real);
  if (rc == CS_OK && (unsigned long long)st.st_size > (unsigned long long)max)
    rc = cs_err_set(err, CS_ETOOBIG, 0, "%s is %lld bytes, over the %zu allowed", path, (long long)st.st_size, max);
  if (rc == CS_OK && id_len > 0)
    snprintf(id, id_len, "%llx:%llx:%lld:%lld.%09ld", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
             (long long)st.st_size, (long long)st.st_ctim.tv_sec, (long)st.st_ctim.tv_nsec);
  if (rc == CS_OK && data != NULL)
    rc = cs__posix_read_fd(fd, real, max, data, len, err);
  if (fd >= 0)
    close(fd);
  free(real);
  return rc;
}
