/* Reaching a file without following a link in any component of its path.
 *
 * certsteward runs as root beside accounts that can write near its files (the
 * connector's account often owns the folder of its key or settings). Whoever can
 * write a folder can put a symbolic link in place of anything below it, at any
 * moment, and a path handed to open(), rename() or acl_set_file() is resolved anew by
 * every call. So every file certsteward works on is reached here: its folder opened
 * once, from / (or the current folder, for a relative path) one component at a time
 * with O_NOFOLLOW | O_DIRECTORY, and then only through that folder's descriptor
 * (openat, fstatat, renameat, unlinkat, fchown, fchmod, acl_*_fd). A component that is
 * a symbolic link is refused, whoever owns it: the admin names the real folder.
 * ".." is refused too (it would climb out of a folder already judged). cs_plat_mkdirs
 * is here too: the same walk, making the levels that are missing. */
#include "../platform.h"
#include "posix.h"
#include "../text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)

/* What stands at name in dfd that cannot be gone through as a folder. */
static int refuse(int dfd, const char *name, const char *shown, const char *whole, int e, cs_err_t *err) {
  struct stat st;
  if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISLNK(st.st_mode))
      return cs_err_set(err, CS_ENOTREG, ELOOP,
                        "%s is a symbolic link: certsteward follows no link in the paths it works on as root "
                        "(one could be put there by anyone who can write the folder that holds it); name the "
                        "real folder",
                        shown);
    if (!S_ISDIR(st.st_mode))
      return cs_err_set(err, CS_ENOTREG, ENOTDIR, "cannot reach %s: %s is not a folder", whole, shown);
  }
  return cs_err_set(err, cs__posix_errno(e), e, "cannot reach %s: the folder %s: %s", whole, shown, strerror(e));
}

/* Opens the folders of path[0 .. end) one by one; *dfd the last. mode >= 0: a missing
 * folder is made, with mode exactly (not through the umask), and opened again by its
 * name without following, so that a name swapped meanwhile is caught. */
static int walk(const char *path, size_t end, int mode, int *dfd, cs_err_t *err) {
  char comp[NAME_MAX + 1];
  size_t i = 0, n;
  int fd, next;

  *dfd = -1;
  fd = open(path[0] == '/' ? "/" : ".", DIR_FLAGS);
  if (fd < 0)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot open the folder %s: %s",
                      path[0] == '/' ? "/" : "the current folder", strerror(errno));
  while (i < end) {
    int made = 0;
    while (i < end && path[i] == '/')
      i++;
    for (n = 0; i + n < end && path[i + n] != '/'; n++)
      ;
    if (n == 0)
      break;
    if (n > NAME_MAX) {
      close(fd);
      return cs_err_set(err, CS_EINVAL, ENAMETOOLONG, "a name in the path %s is too long", path);
    }
    memcpy(comp, path + i, n);
    comp[n] = '\0';
    i += n;
    if (strcmp(comp, ".") == 0)
      continue;
    if (strcmp(comp, "..") == 0) {
      close(fd);
      return cs_err_set(err, CS_EINVAL, 0, "the path %s goes up a folder (..): name the folder itself", path);
    }
    if (mode >= 0) {
      if (mkdirat(fd, comp, (mode_t)(mode & 07777)) == 0)
        made = 1;
      else if (errno != EEXIST) {
        int e = errno;
        close(fd);
        return cs_err_set(err, cs__posix_errno(e), e, "cannot create folder %s: mkdir %.*s: %s", path, (int)i, path,
                          strerror(e));
      }
    }
    if ((next = openat(fd, comp, DIR_FLAGS)) < 0) {
      int e = errno, rc;
      char *shown = strndup(path, i);
      rc = refuse(fd, comp, shown != NULL ? shown : path, path, e, err);
      free(shown);
      close(fd);
      return rc;
    }
    close(fd);
    fd = next;
    if (made && fchmod(fd, (mode_t)(mode & 07777)) != 0) {
      int e = errno;
      close(fd);
      return cs_err_set(err, cs__posix_errno(e), e, "cannot create folder %s: cannot set mode %04o on %.*s: %s", path,
                        (unsigned)(mode & 07777), (int)i, path, strerror(e));
    }
  }
  *dfd = fd;
  return CS_OK;
}

int cs_plat_mkdirs(const char *path, int mode, cs_err_t *err) {
  int fd = -1, rc;
  if (path == NULL || *path == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "empty folder path");
  if ((rc = walk(path, strlen(path), mode & 07777, &fd, err)) == CS_OK)
    close(fd);
  return rc;
}

int cs__posix_open_parent(const char *path, int *dfd, char **base, cs_err_t *err) {
  size_t len, b;
  int rc;

  *dfd = -1;
  *base = NULL;
  if (path == NULL || *path == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "empty path");
  len = strlen(path);
  for (b = len; b > 0 && path[b - 1] != '/'; b--)
    ;
  if (b == len || strcmp(path + b, ".") == 0 || strcmp(path + b, "..") == 0)
    return cs_err_set(err, CS_EINVAL, 0, "%s names a folder, not a file", path);
  if (len - b > NAME_MAX)
    return cs_err_set(err, CS_EINVAL, ENAMETOOLONG, "the name %s is too long", path + b);
  if ((*base = cs_strdup(path + b)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if ((rc = walk(path, b, -1, dfd, err)) != CS_OK) {
    free(*base);
    *base = NULL;
  }
  return rc;
}

int cs__posix_open_file(const char *path, int flags, int mode, int *fd, cs_err_t *err) {
  char *base = NULL;
  int dfd = -1, rc;

  *fd = -1;
  if ((rc = cs__posix_open_parent(path, &dfd, &base, err)) != CS_OK)
    return rc;
  if ((*fd = openat(dfd, base, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, (mode_t)mode)) < 0) {
    int e = errno;
    struct stat st;
    if (e == ELOOP || (e == ENXIO && fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)))
      rc = cs_err_set(err, CS_ENOTREG, e,
                      "%s is a symbolic link: certsteward follows no link in the paths it works on as root; "
                      "name the real file",
                      path);
    else
      rc = cs_err_set(err, cs__posix_errno(e), e, "cannot open %s: %s", path, strerror(e));
  }
  close(dfd);
  free(base);
  return rc;
}
