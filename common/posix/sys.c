/* POSIX half of platform.h: files, host name, paths. */
#include "../platform.h"
#include "posix.h"
#include "../text.h"

#include <errno.h>
#include <sys/random.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

int cs_plat_is_windows(void) { return 0; }

/* What the platform is (platform.h): a POSIX system, its store the [store] files. */
char cs_plat_path_sep(void) { return '/'; }
int cs_plat_is_path_sep(int c) { return c == '/'; }
int cs_plat_has_file_modes(void) { return 1; }

int cs_plat_names_case_sensitive(void) { return 1; }
const char *cs_plat_service_account(void) { return "root"; }
const char *cs_plat_admins(void) { return "root"; }
int cs_plat_store_is_system(void) { return 0; }
int cs_plat_store_holds_keys(void) { return 0; }
int cs_plat_machine_trust(void) { return 0; }
int cs_plat_service_config_known(void) { return 0; }

int cs__posix_errno(int e) {
  switch (e) {
  case ENOENT:
  case ENOTDIR:
    return CS_ENOENT;
  case EACCES:
  case EPERM:
  case EROFS:
    return CS_EACCES;
  case ELOOP:
  case EISDIR:
    return CS_ENOTREG;
  case ENOMEM:
    return CS_ENOMEM;
  case EFBIG:
  case ENOSPC:
  case EDQUOT:
    return CS_ETOOBIG;
  default:
    return CS_EIO;
  }
}

/* What cs_plat_read_file does once the file is open (fd opened O_NONBLOCK). */
int cs__posix_read_fd(int fd, const char *path, size_t max, unsigned char **data, size_t *len, cs_err_t *err) {
  unsigned char *buf = NULL;
  size_t got = 0;
  struct stat st;
  int rc;

  *data = NULL;
  *len = 0;
  if (fstat(fd, &st) != 0) {
    rc = cs_err_set(err, CS_EIO, errno, "cannot stat %s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (%s)", path,
                    S_ISDIR(st.st_mode)    ? "a folder"
                    : S_ISFIFO(st.st_mode) ? "a FIFO"
                    : S_ISSOCK(st.st_mode) ? "a socket"
                                           : "a device");
    goto out;
  }
  if ((unsigned long long)st.st_size > (unsigned long long)max) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "%s is %lld bytes, over the limit of %zu", path, (long long)st.st_size, max);
    goto out;
  }
  (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  /* Read at most max + 1 bytes: a file that grew past the limit since fstat is refused too. */
  buf = malloc(max + 2);
  if (buf == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory reading %s", path);
    goto out;
  }
  for (;;) {
    ssize_t n = read(fd, buf + got, max + 1 - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = cs_err_set(err, CS_EIO, errno, "cannot read %s: %s", path, strerror(errno));
      goto out;
    }
    if (n == 0)
      break;
    got += (size_t)n;
    if (got > max) {
      rc = cs_err_set(err, CS_ETOOBIG, 0, "%s grew over the limit of %zu bytes while read", path, max);
      goto out;
    }
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  buf = NULL;
  rc = CS_OK;
out:
  if (buf != NULL)
    cs_plat_free_file(buf, got);
  return rc;
}

int cs_plat_read_file(const char *path, size_t max, unsigned flags, unsigned char **data, size_t *len, cs_err_t *err) {
  int fd = -1, rc;
  /* O_NONBLOCK: opening a FIFO must not wait for a writer; cleared for regular files. */
  int oflags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

  *data = NULL;
  *len = 0;
  if (flags & CS_READ_NOFOLLOW) {
    /* no link in any component (walk.c); what a link points to is never opened, so
     * nothing of it (size, kind) reaches a message */
    if ((rc = cs__posix_open_file(path, oflags, 0, &fd, err)) != CS_OK)
      return rc;
  } else if ((fd = open(path, oflags)) < 0) {
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot open %s: %s", path, strerror(errno));
  }
  rc = cs__posix_read_fd(fd, path, max, data, len, err);
  close(fd);
  return rc;
}

void cs_plat_wipe(void *p, size_t n) {
  /* A volatile function pointer keeps the compiler from proving the memset dead. */
  static void *(*const volatile do_memset)(void *, int, size_t) = memset;
  if (p != NULL && n > 0)
    do_memset(p, 0, n);
}

int cs_plat_fqdn(char *buf, size_t len, cs_err_t *err) {
  char host[256];
  struct addrinfo hints, *res = NULL;

  if (gethostname(host, sizeof host) != 0)
    return cs_err_set(err, CS_EIO, errno, "cannot read the host name: %s", strerror(errno));
  host[sizeof host - 1] = '\0';
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_CANONNAME;
  if (strchr(host, '.') == NULL && getaddrinfo(host, NULL, &hints, &res) == 0 && res != NULL &&
      res->ai_canonname != NULL && strchr(res->ai_canonname, '.') != NULL) {
    snprintf(host, sizeof host, "%s", res->ai_canonname);
  }
  if (res != NULL)
    freeaddrinfo(res);
  if (strlen(host) >= len)
    return cs_err_set(err, CS_ETOOBIG, 0, "host name too long");
  memcpy(buf, host, strlen(host) + 1);
  return CS_OK;
}

int cs_plat_default_config_path(char *buf, size_t len) {
  return snprintf(buf, len, "%s", "/etc/certsteward/certsteward.ini") < (int)len ? CS_OK : CS_ETOOBIG;
}

int cs_plat_path_is_absolute(const char *path) { return path != NULL && path[0] == '/'; }

/* path with "." and ".." folded away by name: "/a/./b/../c" -> "/a/c", "a/.." -> ".".
 * Sound because no operation follows a link (walk.c): without links, the folder a
 * name's ".." leads to is the one written before it. A relative path that climbs above
 * its start keeps its leading "..". Read from a copy, written over path (never longer);
 * out of memory: path is left as it is (the walk then refuses its "..", failing closed). */
static void fold_dots(char *path) {
  int absolute = path[0] == '/';
  char *src = strdup(path), *out = path + absolute;
  const char *r;
  size_t kept = 0; /* components written after any leading ".." */

  if (src == NULL)
    return;
  for (r = src + absolute; *r != '\0';) {
    size_t n = strcspn(r, "/");
    const char *comp = r;
    r += n;
    while (*r == '/')
      r++;
    if (n == 0 || (n == 1 && comp[0] == '.'))
      continue;
    if (n == 2 && comp[0] == '.' && comp[1] == '.') {
      if (kept > 0) { /* drop the last component written and the '/' after it */
        out--;
        while (out > path + absolute && out[-1] != '/')
          out--;
        kept--;
        continue;
      }
      if (absolute)
        continue; /* "/.." is "/" */
    } else {
      kept++;
    }
    memcpy(out, comp, n);
    out += n;
    *out++ = '/';
  }
  if (out > path + absolute)
    out--; /* the last '/' */
  *out = '\0';
  if (path[0] == '\0')
    strcpy(path, ".");
  free(src);
}

char *cs_plat_path_resolve(const char *relative_to_file, const char *path) {
  const char *slash;
  size_t dir_len;
  char *out;

  if (cs_plat_path_is_absolute(path) || relative_to_file == NULL || (slash = strrchr(relative_to_file, '/')) == NULL) {
    if ((out = strdup(path)) != NULL)
      fold_dots(out);
    return out;
  }
  dir_len = (size_t)(slash - relative_to_file);
  out = malloc(dir_len + 1 + strlen(path) + 1);
  if (out == NULL)
    return NULL;
  memcpy(out, relative_to_file, dir_len);
  out[dir_len] = '/';
  strcpy(out + dir_len + 1, path);
  fold_dots(out);
  return out;
}

void cs_plat_sleep_ms(int ms) {
  struct timespec ts;
  if (ms <= 0)
    return;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

long long cs_plat_monotonic_ms(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) /* EINVAL only: every POSIX system this runs on has it; */
    return (long long)time(NULL) * 1000;        /* a clock that stood still would keep deadlines off */
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cs_plat_random(void *buf, size_t n, cs_err_t *err) {
  unsigned char *p = buf;
  while (n > 0) {
    ssize_t got = getrandom(p, n, 0);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return cs_err_set(err, CS_EIO, errno, "no random bytes from the system: %s", strerror(errno));
    p += got;
    n -= (size_t)got;
  }
  return CS_OK;
}

int cs_plat_localtime(long long t, struct tm *out) {
  time_t tt = (time_t)t;
  return localtime_r(&tt, out) != NULL ? CS_OK : CS_EINVAL;
}

/* A Linux machine's trust is a file OpenSSL reads (cs_policy_trust_load), not an engine. */
int cs_plat_machine_chain(const cs_der_t *leaf, const cs_der_t *extra, size_t n_extra, time_t at,
                          cs_machine_chain_t *out, cs_err_t *err) {
  (void)leaf;
  (void)extra;
  (void)n_extra;
  (void)at;
  memset(out, 0, sizeof *out);
  return cs_err_set(err, CS_EINVAL, 0, "this system has no certificate chain engine of its own");
}

/* sh: quotes group words; outside them these chain, substitute, redirect, escape or
 * glob, and inside "..." $ ` and \ still do (POSIX, Shell Command Language 2.2, 2.6);
 * parameters, globs, braces and the tilde make a word into others as it runs */
const cs_plat_shell_syntax_t *cs_plat_shell_syntax(void) {
  static const cs_plat_shell_syntax_t sh = {"\"'", ";&|<>`$()\\*?[]{}~\r\n", "$`\\", "$*?[]{}~", '\\'};
  return &sh;
}

/* sh expands while it reads words: nothing is done before */
int cs_plat_shell_expand(const char *command, char **out, cs_err_t *err) {
  if ((*out = cs_strdup(command != NULL ? command : "")) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return CS_OK;
}
