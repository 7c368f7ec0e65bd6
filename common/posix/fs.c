/* POSIX half of platform.h: atomic file replacement, folders, rename and remove. */
#include "../platform.h"
#include "posix.h"
#include "../text.h"

#include <acl/libacl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define TEMP_ATTEMPTS 100


/* The folder part of path (new string, "." or "/" when there is none) and its last component. */
static int split_path(const char *path, char **dir, const char **base, cs_err_t *err) {
  const char *slash = strrchr(path, '/');

  *dir = NULL;
  *base = slash != NULL ? slash + 1 : path;
  if (**base == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "%s names a folder, not a file", path);
  if (slash == NULL)
    *dir = cs_strdup(".");
  else if (slash == path)
    *dir = cs_strdup("/");
  else if ((*dir = malloc((size_t)(slash - path) + 1)) != NULL) {
    memcpy(*dir, path, (size_t)(slash - path));
    (*dir)[slash - path] = '\0';
  }
  return *dir != NULL ? CS_OK : cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
}

/* Creates ".<base>.XXXXXX" in dir, exclusively, close-on-exec from the start (mkstemp
 * is not: a fork in another thread could inherit it), with mode from the first byte. */
static int open_temp(const char *path, const char *dir, const char *base, int mode, char **tmp, int *fd,
                     cs_err_t *err) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t n = strlen(dir) + strlen(base) + 10;
  struct timespec ts;
  uint64_t seed;
  size_t x;
  int attempt, i;

  *fd = -1;
  if ((*tmp = malloc(n)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
  clock_gettime(CLOCK_REALTIME, &ts);
  seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)tmp;
  for (attempt = 0; attempt < TEMP_ATTEMPTS; attempt++) {
    /* splitmix64: unpredictability is not needed (O_EXCL settles clashes), spread is */
    uint64_t z = (seed += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    snprintf(*tmp, n, "%s/.%s.XXXXXX", dir, base);
    for (x = strlen(*tmp) - 6, i = 0; i < 6; i++, z /= 62)
      (*tmp)[x + (size_t)i] = alphabet[z % 62];
    *fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, (mode_t)(mode & 0777));
    if (*fd >= 0)
      return CS_OK;
    if (errno != EEXIST)
      break;
  }
  {
    int e = errno;
    free(*tmp);
    *tmp = NULL;
    return cs_err_set(err, cs__posix_errno(e), e, "cannot create a temp file for %s in %s: %s", path, dir, strerror(e));
  }
}

/* Gives the new file the ACL of the one it replaces. A target without extended
 * entries needs nothing beyond its mode, unless the temp file inherited entries
 * from the folder's default ACL that the old file did not have. */
static int copy_acl(int fd, const char *path, cs_err_t *err) {
  acl_t acl = NULL;
  int rc = CS_OK;

  acl = acl_get_file(path, ACL_TYPE_ACCESS);
  if (acl == NULL) {
    if (errno != ENOTSUP && errno != EOPNOTSUPP)
      rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot read the ACL of %s: %s", path, strerror(errno));
    goto out;
  }
  if ((acl_equiv_mode(acl, NULL) != 0 || acl_extended_fd(fd) == 1) && acl_set_fd(fd, acl) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot give the new %s the ACL of the old one: %s", path,
                    strerror(errno));
out:
  if (acl != NULL) /* libacl's acl_free does not take NULL quietly */
    acl_free(acl);
  return rc;
}

/* Owner and group first: fchown clears set-id bits, so the mode comes after it, and
 * the ACL last, since it rewrites the group bits of the mode (they hold its mask). */
static int set_meta(int fd, const char *path, const struct stat *old, int mode, cs_err_t *err) {
  struct stat st;

  if (old != NULL) {
    if (fstat(fd, &st) != 0)
      return cs_err_set(err, CS_EIO, errno, "cannot stat the temp file for %s: %s", path, strerror(errno));
    if ((st.st_uid != old->st_uid || st.st_gid != old->st_gid) && fchown(fd, old->st_uid, old->st_gid) != 0)
      return cs_err_set(err, cs__posix_errno(errno), errno, "cannot give the new %s the owner %ld:%ld of the old one: %s",
                        path, (long)old->st_uid, (long)old->st_gid, strerror(errno));
    mode = (int)(old->st_mode & 07777);
  }
  /* The mode given to open() went through the umask; this makes it exact. */
  if (fchmod(fd, (mode_t)(mode & 07777)) != 0)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot set mode %04o on the new %s: %s", (unsigned)(mode & 07777),
                      path, strerror(errno));
  return old != NULL ? copy_acl(fd, path, err) : CS_OK;
}

static int write_all(int fd, const char *path, const unsigned char *p, size_t len, cs_err_t *err) {
  while (len > 0) {
    ssize_t n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return cs_err_set(err, cs__posix_errno(errno), errno, "cannot write the new %s: %s", path, strerror(errno));
    }
    p += n;
    len -= (size_t)n;
  }
  return CS_OK;
}

int cs_plat_write_atomic(const char *path, const void *data, size_t len, int mode, cs_err_t *err) {
  char *dir = NULL, *tmp = NULL;
  const char *base;
  struct stat old;
  int fd = -1, dfd = -1, have_old = 0, renamed = 0, rc;

  if ((rc = split_path(path, &dir, &base, err)) != CS_OK)
    goto out;
  if (lstat(path, &old) == 0) {
    /* Renaming over a link would replace the link, not what it points to. */
    if (!S_ISREG(old.st_mode)) {
      rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (%s); not replaced", path,
                      S_ISLNK(old.st_mode) ? "a symbolic link" : S_ISDIR(old.st_mode) ? "a folder" : "special");
      goto out;
    }
    have_old = 1;
  } else if (errno != ENOENT) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot stat %s: %s", path, strerror(errno));
    goto out;
  }
  if ((rc = open_temp(path, dir, base, have_old ? (int)(old.st_mode & 0777) : mode, &tmp, &fd, err)) != CS_OK)
    goto out;
  /* Permissions are settled before the first byte of data goes in. */
  if ((rc = set_meta(fd, path, have_old ? &old : NULL, mode, err)) != CS_OK)
    goto out;
  if ((rc = write_all(fd, path, data, len, err)) != CS_OK)
    goto out;
  if (fsync(fd) != 0) {
    rc = cs_err_set(err, CS_EIO, errno, "cannot flush the new %s to disk: %s", path, strerror(errno));
    goto out;
  }
  /* close() can report a delayed write error (NFS) */
  if (close(fd) != 0) {
    fd = -1;
    rc = cs_err_set(err, CS_EIO, errno, "cannot close the new %s: %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  if (rename(tmp, path) != 0) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot rename %s over %s: %s", tmp, path, strerror(errno));
    goto out;
  }
  renamed = 1;
  /* The rename is durable only once the folder entry is on disk. */
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL)) {
    rc = cs_err_set(err, CS_EIO, errno, "%s was replaced, but its folder %s cannot be flushed to disk: %s", path,
                    dir, strerror(errno));
    goto out;
  }
  rc = CS_OK;
out:
  if (fd >= 0)
    close(fd);
  if (dfd >= 0)
    close(dfd);
  if (tmp != NULL && !renamed)
    unlink(tmp);
  free(tmp);
  free(dir);
  return rc;
}

/* One level of cs_plat_mkdirs: created with mode exactly (not through the umask), or
 * already a folder (a link to one is fine, as for mkdir -p). */
static int make_level(const char *path, const char *level, int mode, cs_err_t *err) {
  struct stat st;
  int fd, e;

  if (mkdir(level, (mode_t)(mode & 07777)) != 0) {
    e = errno;
    if (e == EEXIST && stat(level, &st) == 0) {
      if (S_ISDIR(st.st_mode))
        return CS_OK;
      return cs_err_set(err, CS_ENOTREG, 0, "cannot create folder %s: %s exists and is not a folder", path, level);
    }
    return cs_err_set(err, cs__posix_errno(e), e, "cannot create folder %s: mkdir %s: %s", path, level, strerror(e));
  }
  /* Through an fd opened without following links: the name may have been swapped meanwhile. */
  fd = open(level, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 || fchmod(fd, (mode_t)(mode & 07777)) != 0) {
    e = errno;
    if (fd >= 0)
      close(fd);
    return cs_err_set(err, cs__posix_errno(e), e, "cannot create folder %s: cannot set mode %04o on %s: %s", path,
                      (unsigned)(mode & 07777), level, strerror(e));
  }
  close(fd);
  return CS_OK;
}

int cs_plat_mkdirs(const char *path, int mode, cs_err_t *err) {
  char *p = NULL;
  size_t i, n;
  int rc = CS_OK;

  if (path == NULL || *path == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "empty folder path");
  if ((p = cs_strdup(path)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory creating %s", path);
    goto out;
  }
  n = strlen(p);
  while (n > 1 && p[n - 1] == '/')
    p[--n] = '\0';
  for (i = 1; i <= n; i++) {
    char c = p[i];
    if ((c != '/' && c != '\0') || p[i - 1] == '/')
      continue;
    p[i] = '\0';
    rc = make_level(path, p, mode, err);
    p[i] = c;
    if (rc != CS_OK)
      goto out;
  }
out:
  free(p);
  return rc;
}

int cs_plat_rename(const char *from, const char *to, cs_err_t *err) {
  if (rename(from, to) != 0)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot rename %s to %s: %s", from, to, strerror(errno));
  return CS_OK;
}

int cs_plat_remove(const char *path, cs_err_t *err) {
  if (unlink(path) != 0 && errno != ENOENT)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove %s: %s", path, strerror(errno));
  return CS_OK;
}

/* ".<base>.XXXXXX", as open_temp makes them */
static int is_temp_of(const char *name, const char *base, size_t len) {
  size_t i;
  if (name[0] != '.' || strncmp(name + 1, base, len) != 0 || name[len + 1] != '.' || strlen(name + len + 2) != 6)
    return 0;
  for (i = len + 2; name[i] != '\0'; i++)
    if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z') ||
          (name[i] >= '0' && name[i] <= '9')))
      return 0;
  return 1;
}

int cs_plat_remove_temps(const char *path, cs_err_t *err) {
  char *dir = NULL;
  const char *base;
  struct dirent *e;
  DIR *d = NULL;
  int rc;

  if ((rc = split_path(path, &dir, &base, err)) != CS_OK)
    goto out;
  if ((d = opendir(dir)) == NULL) {
    if (errno != ENOENT)
      rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot look for temp files of %s in %s: %s", path, dir,
                      strerror(errno));
    goto out;
  }
  while ((e = readdir(d)) != NULL)
    if (is_temp_of(e->d_name, base, strlen(base)) && unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT &&
        rc == CS_OK)
      rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove the temp file %s/%s: %s", dir, e->d_name,
                      strerror(errno));
out:
  if (d != NULL)
    closedir(d);
  free(dir);
  return rc;
}

int cs_plat_exists(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0;
}

FILE *cs_plat_fopen(const char *path, const char *mode) { return fopen(path, mode); }

FILE *cs_plat_fopen_log(const char *path) {
  struct stat st;
  FILE *f;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600);
  if (fd < 0)
    return NULL;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
      (st.st_uid != 0 && st.st_uid != geteuid())) {
    close(fd);
    errno = EPERM; /* a FIFO, a second name of another file, someone else's file */
    return NULL;
  }
  if ((f = fdopen(fd, "ab")) == NULL)
    close(fd);
  return f;
}

/* Here the temp file is made beside path and swept from path's folder as before;
 * record_dir is used by the Windows half only. */
int cs_plat_write_recorded(const char *path, const void *data, size_t len, int mode, const char *record_dir,
                           cs_err_t *err) {
  (void)record_dir;
  return cs_plat_write_atomic(path, data, len, mode, err);
}

int cs_plat_recover_recorded(const char *path, const char *record_dir, cs_err_t *err) {
  (void)record_dir;
  return cs_plat_remove_temps(path, err);
}
