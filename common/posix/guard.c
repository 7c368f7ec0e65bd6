/* POSIX half of platform.h's safety checks (cs_plat_folder_unsafe,
 * cs_plat_secret_file_unsafe, cs_plat_config_file_unsafe): may anyone but root or
 * this process's user change (or, for a secret, read) what a path names?
 *
 * The whole path is judged, not only its last component: whoever can write to a
 * folder above can rename what lies below away and put their own in its place. So
 * every folder from / down is looked at with lstat, a symbolic link on the way is
 * followed by hand (its target judged the same way; the link itself can only be
 * replaced by who can write to the folder that holds it, which is judged too), and
 * the last component must be the plain folder or file itself, never a link.
 * A folder above that others can write (mode or ACL) is accepted only when it is
 * sticky and the entry below it is owned by root or this user (/tmp), since then
 * they cannot rename or remove that entry.
 *
 * Fail closed: anything that cannot be looked at (missing, not searchable, an
 * unreadable ACL, a path too long, too many links) counts as unsafe, with the
 * reason. There is no "error" answer to ignore. */
#include "../platform.h"

#include <acl/libacl.h>

#include <dirent.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include "../error.h"
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUARD_MAX_LINKS 40 /* as the kernel's own limit on links in one path */

typedef enum { G_FOLDER, G_SECRET, G_CONFIG } guard_kind_t;

static int trusted_uid(uid_t u) { return u == 0 || u == geteuid(); }

/* Fills why and returns 1: the answer "unsafe", with its reason. */
static int say(char *why, size_t len, const char *fmt, ...) CS_PRINTF(3, 4);
static int say(char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
  return 1;
}

/* Whether a POSIX ACL on path lets named users or groups write: only when it has
 * entries beyond the mode (extended) and its mask (shown as the group bits) allows
 * writing. 0 no, 1 yes, -1 cannot tell (errno). */
static int acl_writers(const char *path, const struct stat *st) {
  int ext;
  if (!(st->st_mode & S_IWGRP))
    return 0; /* the mask caps every named entry: nobody named can write */
  ext = acl_extended_file_nofollow(path);
  if (ext < 0 && errno == ENOTSUP)
    return 0;
  return ext;
}

/* Whether a folder's default ACL lets anyone but the owner write what is created in
 * it (a dropped file, a state file): a named user or group, the owning group or
 * others with write (the first three only as far as the mask allows). 0 no, 1 yes,
 * -1 cannot tell (errno). */
static int default_acl_writers(const char *dir) {
  acl_t acl = acl_get_file(dir, ACL_TYPE_DEFAULT);
  acl_entry_t e;
  int which = ACL_FIRST_ENTRY, r, masked = 0, other = 0, mask_w = 1;
  if (acl == NULL)
    return errno == ENOTSUP || errno == ENOSYS ? 0 : -1;
  while ((r = acl_get_entry(acl, which, &e)) == 1) {
    acl_tag_t t;
    acl_permset_t ps;
    int w;
    which = ACL_NEXT_ENTRY;
    if (acl_get_tag_type(e, &t) != 0 || acl_get_permset(e, &ps) != 0 || (w = acl_get_perm(ps, ACL_WRITE)) < 0) {
      r = -1;
      break;
    }
    if (t == ACL_MASK)
      mask_w = w;
    else if (t == ACL_USER || t == ACL_GROUP || t == ACL_GROUP_OBJ)
      masked |= w;
    else if (t == ACL_OTHER)
      other |= w;
  }
  acl_free(acl);
  if (r < 0)
    return -1;
  return other || (masked && mask_w);
}

/* May someone untrusted change what folder dir (lstat in st) holds? For a folder
 * above the target, child_trusted says the entry below it is owned by root or
 * this user (then a sticky folder protects it); for the target folder pass -1. */
static int folder_open(const char *dir, const struct stat *st, int child_trusted, char *why, size_t len) {
  int sticky_ok = child_trusted == 1 && (st->st_mode & S_ISVTX);
  int acl;
  if (!trusted_uid(st->st_uid))
    return say(why, len, "%s is owned by user %ld, who can change what it holds", dir, (long)st->st_uid);
  if ((st->st_mode & S_IWOTH) && !sticky_ok)
    return say(why, len, "%s can be written by all users (mode %03lo)", dir, (unsigned long)(st->st_mode & 07777));
  if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !sticky_ok)
    return say(why, len, "%s can be written by group %ld", dir, (long)st->st_gid);
  if ((acl = acl_writers(dir, st)) < 0)
    return say(why, len, "cannot read the ACL of %s: %s", dir, strerror(errno));
  if (acl == 1 && !sticky_ok)
    return say(why, len, "%s can be written by the users and groups its ACL names", dir);
  if (child_trusted == -1 && (acl = default_acl_writers(dir)) != 0)
    return acl < 0 ? say(why, len, "cannot read the default ACL of %s: %s", dir, strerror(errno))
                   : say(why, len, "%s gives others write access to what is created in it (its default ACL)", dir);
  return 0;
}

/* The last component, a plain file: a secret must be readable and writable by
 * root (or this user) only, ACL included; a configuration file writable by them only. */
static int file_open(const char *path, const struct stat *st, guard_kind_t kind, char *why, size_t len) {
  int ext;
  if (!S_ISREG(st->st_mode))
    return say(why, len, "%s is not a plain file", path);
  if (!trusted_uid(st->st_uid))
    return say(why, len, "%s is owned by user %ld, who can change it", path, (long)st->st_uid);
  if (kind == G_SECRET) {
    if (st->st_mode & (S_IROTH | S_IWOTH))
      return say(why, len, "it can be read or changed by all users (mode %03lo)", (unsigned long)(st->st_mode & 0777));
    if ((st->st_mode & (S_IRGRP | S_IWGRP)) && st->st_gid != 0)
      return say(why, len, "it can be read or changed by group %ld (mode %03lo)", (long)st->st_gid,
                 (unsigned long)(st->st_mode & 0777));
    ext = acl_extended_file_nofollow(path);
    if (ext == 1)
      return say(why, len, "it can be read or changed by the users and groups its ACL names");
    if (ext < 0 && errno != ENOTSUP)
      return say(why, len, "cannot read the ACL of %s: %s", path, strerror(errno));
    return 0;
  }
  if (st->st_mode & S_IWOTH)
    return say(why, len, "%s can be changed by all users (mode %03lo)", path, (unsigned long)(st->st_mode & 0777));
  if ((st->st_mode & S_IWGRP) && st->st_gid != 0)
    return say(why, len, "%s can be changed by group %ld", path, (long)st->st_gid);
  if ((ext = acl_writers(path, st)) < 0)
    return say(why, len, "cannot read the ACL of %s: %s", path, strerror(errno));
  if (ext == 1)
    return say(why, len, "%s can be changed by the users and groups its ACL names", path);
  return 0;
}

/* Takes the next component of *rest into comp ("" when none is left); -1 when it
 * is longer than any name can be. */
static int next_component(const char **rest, char *comp, size_t len) {
  const char *p = *rest, *end;
  size_t n;
  while (*p == '/')
    p++;
  end = strchr(p, '/');
  n = end ? (size_t)(end - p) : strlen(p);
  if (n >= len)
    return -1;
  memcpy(comp, p, n);
  comp[n] = '\0';
  *rest = p + n;
  return 0;
}

static int only_slashes(const char *s) {
  while (*s == '/')
    s++;
  return *s == '\0';
}

static int chain_unsafe(const char *path, guard_kind_t kind, char *why, size_t len) {
  char cur[PATH_MAX], cand[PATH_MAX], comp[NAME_MAX + 1], target[PATH_MAX];
  char work[2][2 * PATH_MAX + 2];
  const char *rest;
  struct stat dst, st;
  int links = 0, w = 0;

  if (path == NULL || path[0] == '\0')
    return say(why, len, "no path is given");
  if (path[0] == '/') {
    snprintf(work[w], sizeof work[w], "%s", path);
  } else {
    if (getcwd(cur, sizeof cur) == NULL)
      return say(why, len, "cannot tell the current folder, which %s is relative to: %s", path, strerror(errno));
    if (snprintf(work[w], sizeof work[w], "%s/%s", cur, path) >= (int)sizeof work[w])
      return say(why, len, "the path %s is too long to be checked", path);
  }
  rest = work[w];
  snprintf(cur, sizeof cur, "/");
  if (lstat("/", &dst) != 0)
    return say(why, len, "cannot look at /: %s", strerror(errno));
  for (;;) {
    int last;
    if (next_component(&rest, comp, sizeof comp) != 0)
      return say(why, len, "a name in the path %s is too long to be checked", path);
    if (comp[0] == '\0')
      break; /* the path named / itself */
    last = only_slashes(rest);
    if (strcmp(comp, ".") == 0 && !last)
      continue;
    if (strcmp(comp, "..") == 0 && !last) {
      /* cur holds no link: its parent is the folder before it, already judged */
      char *slash = strrchr(cur, '/');
      if (slash != NULL && slash != cur)
        *slash = '\0';
      else
        snprintf(cur, sizeof cur, "/");
      if (lstat(cur, &dst) != 0)
        return say(why, len, "cannot look at %s: %s", cur, strerror(errno));
      continue;
    }
    if (strcmp(comp, ".") == 0 || strcmp(comp, "..") == 0)
      return say(why, len, "the path %s ends in . or .., which names no file of its own", path);
    if (snprintf(cand, sizeof cand, "%s/%s", strcmp(cur, "/") == 0 ? "" : cur, comp) >= (int)sizeof cand)
      return say(why, len, "the path %s is too long to be checked", path);
    if (lstat(cand, &st) != 0)
      return say(why, len, "cannot look at %s: %s", cand, strerror(errno));
    /* the folder that holds this entry: whoever can write it can replace the entry */
    if (folder_open(cur, &dst, trusted_uid(st.st_uid), why, len))
      return 1;
    if (S_ISLNK(st.st_mode)) {
      ssize_t n;
      if (last)
        return say(why, len, "%s is a symbolic link: name the %s itself", cand, kind == G_FOLDER ? "folder" : "file");
      if (++links > GUARD_MAX_LINKS)
        return say(why, len, "too many symbolic links in %s", path);
      if ((n = readlink(cand, target, sizeof target - 1)) < 0 || (size_t)n >= sizeof target - 1)
        return say(why, len, "cannot read the symbolic link %s: %s", cand, n < 0 ? strerror(errno) : "too long");
      target[n] = '\0';
      /* the link's target, then what was left of the path; from / when absolute */
      if (snprintf(work[!w], sizeof work[!w], "%s/%s", target, rest) >= (int)sizeof work[!w])
        return say(why, len, "the path %s is too long to be checked", path);
      w = !w;
      rest = work[w];
      if (target[0] == '/') {
        snprintf(cur, sizeof cur, "/");
        if (lstat("/", &dst) != 0)
          return say(why, len, "cannot look at /: %s", strerror(errno));
      }
      continue;
    }
    if (!last) {
      if (!S_ISDIR(st.st_mode))
        return say(why, len, "%s is not a folder", cand);
      memcpy(cur, cand, strlen(cand) + 1);
      dst = st;
      continue;
    }
    if (kind == G_FOLDER) {
      if (!S_ISDIR(st.st_mode))
        return say(why, len, "%s is not a folder", cand);
      return folder_open(cand, &st, -1, why, len);
    }
    return file_open(cand, &st, kind, why, len);
  }
  /* the path is / */
  if (kind != G_FOLDER)
    return say(why, len, "%s is not a plain file", path);
  return folder_open("/", &dst, -1, why, len);
}

int cs_plat_folder_unsafe(const char *path, char *why, size_t len) { return chain_unsafe(path, G_FOLDER, why, len); }

int cs_plat_secret_file_unsafe(const char *path, char *why, size_t len) {
  return chain_unsafe(path, G_SECRET, why, len);
}

int cs_plat_config_file_unsafe(const char *path, char *why, size_t len) {
  return chain_unsafe(path, G_CONFIG, why, len);
}

/* ---- state files (cs_plat_state_unsafe) ---------------------------------------- */

#define STATE_DEPTH 16 /* deeper than anything certsteward makes in its state folder */

/* One level: path itself by lstat (never followed), then, for a folder, each entry.
 * The folders above are judged by cs_plat_folder_unsafe on the state folder. */
static int state_level(const char *path, int depth, char *why, size_t len) {
  struct stat st;
  struct dirent *e;
  DIR *d;
  char child[PATH_MAX];
  int rc = 0, w;
  if (lstat(path, &st) != 0) {
    if (errno == ENOENT)
      return 0; /* nothing there (or gone since it was listed): nothing to trust */
    return say(why, len, "cannot look at %s: %s", path, strerror(errno));
  }
  if (S_ISLNK(st.st_mode))
    return say(why, len, "%s is a symbolic link", path);
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    return say(why, len, "%s is neither a plain file nor a folder", path);
  if (S_ISREG(st.st_mode) && st.st_nlink != 1)
    return say(why, len, "%s has more than one name (a hard link)", path);
  if (!trusted_uid(st.st_uid))
    return say(why, len, "%s is owned by user %lu, not by root", path, (unsigned long)st.st_uid);
  if (st.st_mode & 022)
    return say(why, len, "%s can be changed by others (mode %03lo)", path, (unsigned long)(st.st_mode & 0777));
  if ((w = acl_writers(path, &st)) != 0)
    return say(why, len, w < 0 ? "cannot read the ACL of %s" : "%s can be changed by others (ACL)", path);
  if (!S_ISDIR(st.st_mode))
    return 0;
  if (depth >= STATE_DEPTH)
    return say(why, len, "%s is nested deeper than certsteward makes its state", path);
  if ((d = opendir(path)) == NULL)
    return say(why, len, "cannot list %s: %s", path, strerror(errno));
  while (rc == 0 && (e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (snprintf(child, sizeof child, "%s/%s", path, e->d_name) >= (int)sizeof child)
      rc = say(why, len, "a path below %s is too long to be checked", path);
    else
      rc = state_level(child, depth + 1, why, len);
  }
  closedir(d);
  return rc;
}

int cs_plat_state_unsafe(const char *path, char *why, size_t len) { return state_level(path, 0, why, len); }
