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
#include "posix.h"

#include <acl/libacl.h>

#include <dirent.h>
#include <grp.h>
#include <pwd.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include "../error.h"
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define GUARD_MAX_LINKS 40 /* as the kernel's own limit on links in one path */

typedef enum { G_FOLDER, G_SECRET, G_CONFIG, G_WRITERS } guard_kind_t;

/* What G_WRITERS tells besides why: the folder at fault and who can write it. */
typedef struct writer_s {
  char *at, *who;
  size_t at_len, who_len;
} writer_t;

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

/* The name of a user (group 0) or group (group 1) by its number ("www-data"), or the
 * number when it has none here. */
static void id_name(int group, unsigned long id, char *out, size_t len) {
  struct passwd pw, *user = NULL;
  struct group gr, *grp = NULL;
  char buf[4096];
  const char *name = NULL;
  if (!group && getpwuid_r((uid_t)id, &pw, buf, sizeof buf, &user) == 0 && user != NULL)
    name = user->pw_name;
  else if (group && getgrgid_r((gid_t)id, &gr, buf, sizeof buf, &grp) == 0 && grp != NULL)
    name = grp->gr_name;
  if (name != NULL)
    snprintf(out, len, "%s", name);
  else
    snprintf(out, len, "%lu", id);
}

/* The users and groups the access ACL of path names with write ("user www-data,
 * group adm"), into out; "" when none can be read (the caller then says so in general). */
static void acl_writer_names(const char *path, char *out, size_t len) {
  acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
  acl_entry_t e;
  int which = ACL_FIRST_ENTRY;
  size_t n = 0;
  out[0] = '\0';
  if (acl == NULL)
    return;
  while (acl_get_entry(acl, which, &e) == 1 && n + 1 < len) {
    acl_tag_t t;
    acl_permset_t ps;
    char name[256];
    void *q;
    which = ACL_NEXT_ENTRY;
    if (acl_get_tag_type(e, &t) != 0 || (t != ACL_USER && t != ACL_GROUP) || acl_get_permset(e, &ps) != 0 ||
        acl_get_perm(ps, ACL_WRITE) != 1 || (q = acl_get_qualifier(e)) == NULL)
      continue;
    id_name(t == ACL_GROUP, t == ACL_USER ? (unsigned long)*(uid_t *)q : (unsigned long)*(gid_t *)q, name, sizeof name);
    acl_free(q);
    n += (size_t)snprintf(out + n, len - n, "%s%s %s", n ? ", " : "", t == ACL_USER ? "user" : "group", name);
  }
  acl_free(acl);
  if (n >= len)
    out[len - 1] = '\0';
}

/* Says who can write (who, may be NULL): the account, group or entries at fault. */
static void name_writer(char *who, size_t wlen, const char *fmt, ...) CS_PRINTF(3, 4);
static void name_writer(char *who, size_t wlen, const char *fmt, ...) {
  va_list ap;
  if (who == NULL)
    return;
  va_start(ap, fmt);
  vsnprintf(who, wlen, fmt, ap);
  va_end(ap);
}

/* May someone untrusted change what folder dir (lstat in st) holds? For a folder
 * above the target, child_trusted says the entry below it is owned by root or
 * this user (then a sticky folder protects it); for the target folder pass -1.
 * who (may be NULL) receives who can, by name ("user www-data (owner)"). */
static int folder_open(const char *dir, const struct stat *st, int child_trusted, char *why, size_t len, char *who,
                       size_t wlen) {
  int sticky_ok = child_trusted == 1 && (st->st_mode & S_ISVTX);
  char name[256], names[512];
  int acl;
  if (!trusted_uid(st->st_uid)) {
    id_name(0, st->st_uid, name, sizeof name);
    name_writer(who, wlen, "user %s (owner)", name);
    return say(why, len, "%s is owned by user %ld, who can change what it holds", dir, (long)st->st_uid);
  }
  if ((st->st_mode & S_IWOTH) && !sticky_ok) {
    name_writer(who, wlen, "all users (mode %03lo)", (unsigned long)(st->st_mode & 07777));
    return say(why, len, "%s can be written by all users (mode %03lo)", dir, (unsigned long)(st->st_mode & 07777));
  }
  if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && !sticky_ok) {
    id_name(1, st->st_gid, name, sizeof name);
    name_writer(who, wlen, "group %s (mode %03lo)", name, (unsigned long)(st->st_mode & 07777));
    return say(why, len, "%s can be written by group %ld", dir, (long)st->st_gid);
  }
  if ((acl = acl_writers(dir, st)) < 0) {
    name_writer(who, wlen, "cannot be told: its ACL cannot be read (%s)", strerror(errno));
    return say(why, len, "cannot read the ACL of %s: %s", dir, strerror(errno));
  }
  if (acl == 1 && !sticky_ok) {
    if (who != NULL)
      acl_writer_names(dir, names, sizeof names);
    name_writer(who, wlen, "%s (ACL)", who != NULL && names[0] ? names : "the users and groups its ACL names");
    return say(why, len, "%s can be written by the users and groups its ACL names", dir);
  }
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

/* G_WRITERS: who can write the folder cur (its lstat in dst), which holds the next
 * entry; child_trusted as folder_open. */
static int writers_at(writer_t *wr, const char *cur, const struct stat *dst, int child_trusted, char *why, size_t len) {
  snprintf(wr->at, wr->at_len, "%s", cur);
  return folder_open(cur, dst, child_trusted, why, len, wr->who, wr->who_len);
}

/* G_WRITERS (wr set): every folder from / down to the one that holds the last
 * component, links on the way followed and judged as for the others; the last
 * component itself is not judged (it may not exist yet, and its writes replace it,
 * never follow it), but the folder that holds it is, as the folder of an entry
 * others could create when it is missing. */
/* follow: a link at the end of the path is followed too (cs__posix_source_unsafe). */
static int chain_unsafe(const char *path, guard_kind_t kind, int follow, char *why, size_t len, writer_t *wr) {
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
    if (cs_plat_path_join(cand, sizeof cand, cur, comp) != CS_OK)
      return say(why, len, "the path %s is too long to be checked", path);
    if (lstat(cand, &st) != 0) {
      if (kind == G_WRITERS && last && errno == ENOENT)
        return writers_at(wr, cur, &dst, 0, why, len); /* not there yet: whoever can create it */
      if (wr != NULL)
        snprintf(wr->at, wr->at_len, "%s", cur);
      return say(why, len, "cannot look at %s: %s", cand, strerror(errno));
    }
    /* the folder that holds this entry: whoever can write it can replace the entry */
    if (kind == G_WRITERS) {
      if (writers_at(wr, cur, &dst, trusted_uid(st.st_uid), why, len))
        return 1;
      if (last)
        return 0;
    } else if (folder_open(cur, &dst, trusted_uid(st.st_uid), why, len, NULL, 0)) {
      return 1;
    }
    if (S_ISLNK(st.st_mode)) {
      ssize_t n;
      if (last && !follow)
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
      return folder_open(cand, &st, -1, why, len, NULL, 0);
    }
    return file_open(cand, &st, kind, why, len);
  }
  /* the path is / */
  if (kind != G_FOLDER)
    return say(why, len, "%s is not a plain file", path);
  return folder_open("/", &dst, -1, why, len, NULL, 0);
}

int cs_plat_folder_unsafe(const char *path, char *why, size_t len) {
  return chain_unsafe(path, G_FOLDER, 0, why, len, NULL);
}

int cs_plat_secret_file_unsafe(const char *path, char *why, size_t len) {
  return chain_unsafe(path, G_SECRET, 0, why, len, NULL);
}

int cs_plat_config_file_unsafe(const char *path, char *why, size_t len) {
  return chain_unsafe(path, G_CONFIG, 0, why, len, NULL);
}

int cs__posix_source_unsafe(const char *path, int kind, char *why, size_t len) {
  return chain_unsafe(path,
                      kind == CS__SOURCE_FOLDER   ? G_FOLDER
                      : kind == CS__SOURCE_SECRET ? G_SECRET
                                                  : G_CONFIG,
                      1, why, len, NULL);
}

int cs_plat_path_writers(const char *path, char *folder, size_t folder_len, char *who, size_t who_len) {
  char why[1024];
  writer_t wr;
  int rc;
  snprintf(folder, folder_len, "%s", path != NULL ? path : "");
  who[0] = '\0';
  wr.at = folder;
  wr.at_len = folder_len;
  wr.who = who;
  wr.who_len = who_len;
  if ((rc = chain_unsafe(path, G_WRITERS, 0, why, sizeof why, &wr)) != 0 && who[0] == '\0')
    snprintf(who, who_len, "cannot be told: %s", why); /* fail closed, with what stopped the check */
  return rc != 0;
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
    if (cs_plat_path_join(child, sizeof child, path, e->d_name) != CS_OK)
      rc = say(why, len, "a path below %s is too long to be checked", path);
    else
      rc = state_level(child, depth + 1, why, len);
  }
  closedir(d);
  return rc;
}

int cs_plat_state_unsafe(const char *path, char *why, size_t len) { return state_level(path, 0, why, len); }
