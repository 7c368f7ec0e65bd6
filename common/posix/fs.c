/* POSIX half of platform.h: atomic file replacement, folders, rename and remove. */
#include "../platform.h"
#include "posix.h"
#include "../text.h"

#include <acl/libacl.h>
#include <dirent.h>
#include <limits.h>
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

/* Creates ".<base>.XXXXXX" in the folder dfd, exclusively, close-on-exec from the
 * start (mkstemp is not: a fork in another thread could inherit it), 0600 until its
 * owner and mode are set. */
static int open_temp(const char *path, int dfd, const char *base, char **tmp, int *fd, cs_err_t *err) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  size_t n = strlen(base) + 9;
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
    snprintf(*tmp, n, ".%s.XXXXXX", base);
    for (x = strlen(*tmp) - 6, i = 0; i < 6; i++, z /= 62)
      (*tmp)[x + (size_t)i] = alphabet[z % 62];
    *fd = openat(dfd, *tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
    if (*fd >= 0)
      return CS_OK;
    if (errno != EEXIST)
      break;
  }
  {
    int e = errno;
    free(*tmp);
    *tmp = NULL;
    return cs_err_set(err, cs__posix_errno(e), e, "cannot create a temp file for %s: %s", path, strerror(e));
  }
}

static const char *kind_of(mode_t m) {
  return S_ISLNK(m)    ? "a symbolic link"
         : S_ISDIR(m)  ? "a folder"
         : S_ISFIFO(m) ? "a FIFO"
         : S_ISSOCK(m) ? "a socket"
                       : "a device";
}

/* The owner, group, mode and ACL of the file open at fd: a regular file with one name. */
static int meta_fd(int fd, const char *path, cs__posix_meta_t *m, cs_err_t *err) {
  struct stat st;
  acl_t acl = NULL;
  int rc = CS_OK;

  memset(m, 0, sizeof *m);
  if (fstat(fd, &st) != 0)
    return cs_err_set(err, CS_EIO, errno, "cannot stat %s: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return cs_err_set(err, CS_ENOTREG, 0, "%s is %s, not a regular file; not replaced", path, kind_of(st.st_mode));
  if (st.st_nlink != 1)
    return cs_err_set(err, CS_ENOTREG, 0,
                      "%s has %lu names (hard links): another name could reach what is written there; not replaced",
                      path, (unsigned long)st.st_nlink);
  m->uid = (long long)st.st_uid;
  m->gid = (long long)st.st_gid;
  m->mode = (int)(st.st_mode & 07777);
  if ((acl = acl_get_fd(fd)) == NULL) {
    if (errno != ENOTSUP && errno != EOPNOTSUPP)
      rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot read the ACL of %s: %s", path, strerror(errno));
    return rc;
  }
  if (acl_equiv_mode(acl, NULL) != 0) {
    char *text = acl_to_any_text(acl, NULL, ',', TEXT_ABBREVIATE | TEXT_NUMERIC_IDS);
    if (text == NULL || (m->acl = cs_strdup(text)) == NULL)
      rc = cs_err_set(err, CS_ENOMEM, errno, "cannot keep the ACL of %s", path);
    if (text != NULL)
      acl_free(text);
  }
  acl_free(acl); /* libacl's acl_free does not take NULL quietly */
  if (rc != CS_OK)
    cs__posix_meta_free(m);
  return rc;
}

/* Opens base in dfd for reading, never followed; O_NONBLOCK: a FIFO put there must not
 * hold this open (meta_fd / the read refuse it). CS_ENOENT when absent. */
static int open_at(int dfd, const char *base, const char *path, int *fd, cs_err_t *err) {
  struct stat st;
  int e;
  if ((*fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) >= 0)
    return CS_OK;
  e = errno;
  if (e == ENOENT)
    return cs_err_set(err, CS_ENOENT, e, "%s does not exist", path);
  if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISREG(st.st_mode))
    return cs_err_set(err, CS_ENOTREG, e, "%s is %s, not a regular file; not replaced", path, kind_of(st.st_mode));
  return cs_err_set(err, cs__posix_errno(e), e, "cannot open %s: %s", path, strerror(e));
}

static int meta_at(int dfd, const char *base, const char *path, cs__posix_meta_t *m, cs_err_t *err) {
  int fd, rc;
  memset(m, 0, sizeof *m);
  if ((rc = open_at(dfd, base, path, &fd, err)) != CS_OK)
    return rc;
  rc = meta_fd(fd, path, m, err);
  close(fd);
  return rc;
}

int cs__posix_read_meta(const char *path, size_t max, unsigned char **data, size_t *len, cs__posix_meta_t *m,
                        cs_err_t *err) {
  char *base = NULL;
  int dfd = -1, fd = -1, rc;

  *data = NULL;
  *len = 0;
  memset(m, 0, sizeof *m);
  if ((rc = cs__posix_open_parent(path, &dfd, &base, err)) == CS_OK &&
      (rc = open_at(dfd, base, path, &fd, err)) == CS_OK && (rc = meta_fd(fd, path, m, err)) == CS_OK &&
      (rc = cs__posix_read_fd(fd, path, max, data, len, err)) != CS_OK)
    cs__posix_meta_free(m);
  if (fd >= 0)
    close(fd);
  if (dfd >= 0)
    close(dfd);
  free(base);
  return rc;
}

void cs__posix_meta_free(cs__posix_meta_t *m) {
  free(m->acl);
  m->acl = NULL;
}

int cs__posix_meta_read(const char *path, cs__posix_meta_t *m, cs_err_t *err) {
  char *base = NULL;
  int dfd = -1, rc;
  memset(m, 0, sizeof *m);
  if ((rc = cs__posix_open_parent(path, &dfd, &base, err)) == CS_OK)
    rc = meta_at(dfd, base, path, m, err);
  if (dfd >= 0)
    close(dfd);
  free(base);
  return rc;
}

int cs__posix_meta_private(cs__posix_meta_t *m, cs_err_t *err) {
  acl_entry_t e;
  acl_permset_t ps;
  acl_t acl;
  char *text;
  int which = ACL_FIRST_ENTRY, rc = CS_OK;

  m->mode &= ~07;
  if (m->acl == NULL)
    return CS_OK;
  if ((acl = acl_from_text(m->acl)) == NULL)
    return cs_err_set(err, CS_EFORMAT, errno, "the ACL recorded for a private key cannot be read back");
  while (acl_get_entry(acl, which, &e) == 1) {
    acl_tag_t t;
    which = ACL_NEXT_ENTRY;
    if (acl_get_tag_type(e, &t) == 0 && t == ACL_OTHER &&
        (acl_get_permset(e, &ps) != 0 || acl_clear_perms(ps) != 0 || acl_set_permset(e, ps) != 0))
      rc = cs_err_set(err, CS_EFAILED, errno, "cannot take others' access out of a private key's ACL");
  }
  if (rc == CS_OK) {
    if ((text = acl_to_any_text(acl, NULL, ',', TEXT_ABBREVIATE | TEXT_NUMERIC_IDS)) == NULL)
      rc = cs_err_set(err, CS_ENOMEM, errno, "out of memory");
    else {
      char *copy = cs_strdup(text);
      acl_free(text);
      if (copy == NULL)
        rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      else {
        free(m->acl);
        m->acl = copy;
      }
    }
  }
  acl_free(acl);
  return rc;
}

int cs__posix_owner_unchanged(const char *path, long long uid, cs_err_t *err) {
  cs__posix_meta_t now;
  int rc = cs__posix_meta_read(path, &now, err);
  if (rc == CS_ENOENT)
    return CS_OK;
  if (rc != CS_OK)
    return rc;
  rc = now.uid == uid ? CS_OK
                      : cs_err_set(err, CS_EACCES, 0,
                                   "%s is now owned by uid %lld, not by uid %lld as when it was saved (another file "
                                   "was put in its place since)",
                                   path, now.uid, uid);
  cs__posix_meta_free(&now);
  return rc;
}

/* Owner and group first: fchown clears set-id bits, so the mode comes after it, and
 * the ACL last, since it rewrites the group bits of the mode (they hold its mask).
 * A temp file that inherited entries from the folder's default ACL gets the mode's
 * own ACL, so that it has exactly what m says. */
static int set_meta(int fd, const char *path, const cs__posix_meta_t *m, cs_err_t *err) {
  acl_t acl = NULL;
  int rc = CS_OK, ext;

  if (fchown(fd, (uid_t)m->uid, (gid_t)m->gid) != 0)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot give the new %s the owner %lld:%lld: %s", path,
                      m->uid, m->gid, strerror(errno));
  /* never a set-user-ID, set-group-ID or sticky bit: no file certsteward writes is a
   * program, and a mode read from a manifest a planted journal named must not make
   * one (root-owned and set-user-ID) */
  if (fchmod(fd, (mode_t)(m->mode & 0777)) != 0)
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot set mode %04o on the new %s: %s",
                      (unsigned)(m->mode & 0777), path, strerror(errno));
  if (m->acl != NULL)
    acl = acl_from_text(m->acl);
  else if ((ext = acl_extended_fd(fd)) == 1)
    acl = acl_from_mode((mode_t)(m->mode & 0777));
  else
    return CS_OK; /* no ACL to give, none inherited (or a file system without ACLs) */
  if (acl == NULL)
    return cs_err_set(err, CS_EFORMAT, errno, "the ACL recorded for %s cannot be read back", path);
  if (acl_set_fd(fd, acl) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot give the new %s its ACL: %s", path, strerror(errno));
  acl_free(acl);
  return rc;
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

/* The atomic replacement, inside the folder dfd only: a temp file there with m's
 * owner, mode and ACL before any data, flushed, renamed over base, the folder flushed.
 * Nothing is resolved by path again, so a folder swapped meanwhile changes nothing. */
static int write_at(int dfd, const char *base, const char *path, const void *data, size_t len,
                    const cs__posix_meta_t *m, cs_err_t *err) {
  char *tmp = NULL;
  int fd = -1, renamed = 0, rc;

  if ((rc = open_temp(path, dfd, base, &tmp, &fd, err)) != CS_OK)
    goto out;
  if ((rc = set_meta(fd, path, m, err)) != CS_OK)
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
  if (renameat(dfd, tmp, dfd, base) != 0) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot rename the temp file %s over %s: %s", tmp, path,
                    strerror(errno));
    goto out;
  }
  renamed = 1;
  /* The rename is durable only once the folder entry is on disk. */
  if (fsync(dfd) != 0 && errno != EINVAL) {
    rc = cs_err_set(err, CS_EIO, errno, "%s was replaced, but its folder cannot be flushed to disk: %s", path,
                    strerror(errno));
    goto out;
  }
  rc = CS_OK;
out:
  if (fd >= 0)
    close(fd);
  if (tmp != NULL && !renamed)
    unlinkat(dfd, tmp, 0);
  free(tmp);
  return rc;
}

/* m NULL: keep what is at path (owner, group, mode, ACL), or a new file owned by this
 * process with mode. */
static int write_file(const char *path, const void *data, size_t len, int mode, const cs__posix_meta_t *m,
                      cs_err_t *err) {
  cs__posix_meta_t old;
  char *base = NULL;
  int dfd = -1, rc;

  memset(&old, 0, sizeof old);
  if ((rc = cs__posix_open_parent(path, &dfd, &base, err)) != CS_OK)
    goto out;
  if (m == NULL) {
    cs_err_t why;
    cs_err_clear(&why);
    if ((rc = meta_at(dfd, base, path, &old, &why)) == CS_ENOENT) {
      old.uid = (long long)geteuid();
      old.gid = (long long)getegid();
      old.mode = mode & 07777;
    } else if (rc != CS_OK) {
      rc = cs_err_set(err, rc, why.raw, "%s", why.text);
      goto out;
    }
    m = &old;
  }
  rc = write_at(dfd, base, path, data, len, m, err);
out:
  if (dfd >= 0)
    close(dfd);
  free(base);
  cs__posix_meta_free(&old);
  return rc;
}

int cs_plat_write_atomic(const char *path, const void *data, size_t len, int mode, cs_err_t *err) {
  return write_file(path, data, len, mode, NULL, err);
}

int cs__posix_write_meta(const char *path, const void *data, size_t len, const cs__posix_meta_t *m, cs_err_t *err) {
  return write_file(path, data, len, 0, m, err);
}

int cs_plat_rename(const char *from, const char *to, cs_err_t *err) {
  char *fb = NULL, *tb = NULL;
  int fd = -1, td = -1, rc;

  if ((rc = cs__posix_open_parent(from, &fd, &fb, err)) != CS_OK ||
      (rc = cs__posix_open_parent(to, &td, &tb, err)) != CS_OK)
    goto out;
  if (renameat(fd, fb, td, tb) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot rename %s to %s: %s", from, to, strerror(errno));
out:
  if (fd >= 0)
    close(fd);
  if (td >= 0)
    close(td);
  free(fb);
  free(tb);
  return rc;
}

int cs_plat_remove(const char *path, cs_err_t *err) {
  char *base = NULL;
  int dfd = -1, rc;

  rc = cs__posix_open_parent(path, &dfd, &base, err);
  if (rc == CS_ENOENT) /* its folder is gone: so is the file */
    return CS_OK;
  if (rc == CS_OK && unlinkat(dfd, base, 0) != 0 && errno != ENOENT)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove %s: %s", path, strerror(errno));
  if (dfd >= 0)
    close(dfd);
  free(base);
  return rc;
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
  char *base = NULL;
  struct dirent *e;
  DIR *d = NULL;
  int dfd = -1, list, rc;

  if ((rc = cs__posix_open_parent(path, &dfd, &base, err)) != CS_OK) {
    if (rc == CS_ENOENT)
      rc = CS_OK; /* no folder, no temp files */
    goto out;
  }
  if ((list = dup(dfd)) < 0 || (d = fdopendir(list)) == NULL) {
    if (list >= 0)
      close(list);
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot look for temp files of %s: %s", path, strerror(errno));
    goto out;
  }
  while ((e = readdir(d)) != NULL)
    if (is_temp_of(e->d_name, base, strlen(base)) && unlinkat(dfd, e->d_name, 0) != 0 && errno != ENOENT && rc == CS_OK)
      rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove the temp file %s of %s: %s", e->d_name, path,
                      strerror(errno));
out:
  if (d != NULL)
    closedir(d);
  if (dfd >= 0)
    close(dfd);
  free(base);
  return rc;
}

/* Something there, as far as a walk that follows no link can tell: a link in the way
 * counts as something (what is then done with the path says what it is). */
int cs_plat_exists(const char *path) {
  struct stat st;
  char *base = NULL;
  int dfd = -1, rc, found;

  rc = cs__posix_open_parent(path, &dfd, &base, NULL);
  if (rc != CS_OK)
    return rc == CS_ENOENT ? 0 : 1;
  found = fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
  close(dfd);
  free(base);
  return found;
}

FILE *cs_plat_fopen(const char *path, const char *mode) { return fopen(path, mode); }

FILE *cs_plat_fopen_log(const char *path) {
  struct stat st;
  FILE *f;
  cs_err_t why;
  int fd;
  if (cs__posix_open_file(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0600, &fd, &why) != CS_OK) {
    /* a link on the way: "something else sits at path" */
    errno = why.raw == 0 || why.raw == ELOOP || why.raw == ENOTDIR ? EPERM : (int)why.raw;
    return NULL;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || (st.st_uid != 0 && st.st_uid != geteuid())) {
    close(fd);
    errno = EPERM; /* a FIFO, a second name of another file, someone else's file */
    return NULL;
  }
  if ((f = fdopen(fd, "ab")) == NULL)
    close(fd);
  return f;
}
