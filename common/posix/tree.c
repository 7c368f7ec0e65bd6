/* Removing a folder tree (the renewal's scratch folder, a quarantined entry) without
 * following links: the tree's folder is reached by a walk that follows none (walk.c),
 * and everything below through folder descriptors (unlinkat, openat with O_NOFOLLOW),
 * so a link inside is removed itself and a folder swapped for one is not entered. */
#include "../platform.h"
#include "posix.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TREE_DEPTH 64

/* Removes name in dfd: a file or link at once, a folder after its contents. */
static int remove_at(int dfd, const char *name, int depth) {
  struct dirent *e;
  DIR *d;
  int fd, rc = 0;

  if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
    return 0;
  if (errno != EISDIR && errno != EPERM)
    return -1;
  if (depth >= TREE_DEPTH) {
    errno = ELOOP;
    return -1;
  }
  if ((fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0)
    return -1;
  if ((d = fdopendir(fd)) == NULL) {
    close(fd);
    return -1;
  }
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (remove_at(dirfd(d), e->d_name, depth + 1) != 0 && rc == 0)
      rc = -1;
  }
  closedir(d);
  if (rc == 0 && unlinkat(dfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    rc = -1;
  return rc;
}

int cs_plat_remove_tree(const char *path, cs_err_t *err) {
  char *base = NULL;
  int dfd = -1, rc;

  rc = cs__posix_open_parent(path, &dfd, &base, err);
  if (rc == CS_ENOENT)
    return CS_OK; /* its folder is gone: so is the tree */
  if (rc == CS_OK && remove_at(dfd, base, 0) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove %s: %s", path, strerror(errno));
  if (dfd >= 0)
    close(dfd);
  free(base);
  return rc;
}
