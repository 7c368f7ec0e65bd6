/* POSIX half of platform.h: READ on a private key file for a service account, as a
 * POSIX ACL entry (what `setfacl -m u:ACCOUNT:r KEY` does), merged into what is there. */
#include "../platform.h"
#include "posix.h"

#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#define KEY_FILE_MAX (1u << 20) /* a key, or a certificate chain with its key */

int cs__posix_account_uid(const char *account, uid_t *uid, cs_err_t *err) {
  struct passwd pw, *found = NULL;
  char *buf = NULL;
  size_t size = 1024;
  int e, rc;

  if (account == NULL || *account == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no account name");
  for (;;) {
    char *bigger = realloc(buf, size);
    if (bigger == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory looking up user %s", account);
      goto out;
    }
    buf = bigger;
    e = getpwnam_r(account, &pw, buf, size, &found);
    if (e != ERANGE || size >= 1024 * 1024)
      break;
    size *= 2;
  }
  /* Some NSS modules say "not found" with an error code rather than a NULL result. */
  if (found == NULL && (e == 0 || e == ENOENT || e == ESRCH))
    rc = cs_err_set(err, CS_ENOENT, 0, "no such user: %s", account);
  else if (e != 0)
    rc = cs_err_set(err, CS_EIO, e, "cannot look up user %s: %s", account, strerror(e));
  else {
    *uid = pw.pw_uid;
    rc = CS_OK;
  }
out:
  free(buf);
  return rc;
}

/* The entry with tag (and, for ACL_USER, qualifier uid); 1 if found. */
static int find_entry(acl_t acl, acl_tag_t tag, uid_t uid, acl_entry_t *found) {
  acl_entry_t e;
  int which = ACL_FIRST_ENTRY;

  while (acl_get_entry(acl, which, &e) == 1) {
    acl_tag_t t;
    which = ACL_NEXT_ENTRY;
    if (acl_get_tag_type(e, &t) != 0 || t != tag)
      continue;
    if (tag == ACL_USER) {
      uid_t *q = acl_get_qualifier(e);
      int same = q != NULL && *q == uid;
      if (q != NULL)
        acl_free(q);
      if (!same)
        continue;
    }
    *found = e;
    return 1;
  }
  return 0;
}

static int entry_reads(acl_entry_t e) {
  acl_permset_t ps;
  return acl_get_permset(e, &ps) == 0 && acl_get_perm(ps, ACL_READ) == 1;
}

static int add_read(acl_entry_t e) {
  acl_permset_t ps;
  return acl_get_permset(e, &ps) == 0 && acl_add_perm(ps, ACL_READ) == 0 && acl_set_permset(e, ps) == 0 ? 0 : -1;
}

/* What the kernel decides for uid: the owner goes by user:: alone, anyone else with
 * an entry of their own by that entry within the mask (group and other entries are
 * not what a grant gives, so they do not count). */
static int acl_grants(acl_t acl, uid_t uid, uid_t owner) {
  acl_entry_t e;
  if (uid == owner)
    return find_entry(acl, ACL_USER_OBJ, 0, &e) && entry_reads(e);
  if (!find_entry(acl, ACL_USER, uid, &e) || !entry_reads(e))
    return 0;
  return !find_entry(acl, ACL_MASK, 0, &e) || entry_reads(e);
}

/* The mask gains READ and nothing else. acl_calc_mask would make it the union of all
 * group-class entries, which re-opens write that an admin closed with chmod g-w. */
static int widen_mask(acl_t *acl) {
  acl_entry_t mask;
  if (find_entry(*acl, ACL_MASK, 0, &mask))
    return add_read(mask);
  /* No mask yet means no named entries before ours: the union is group:: plus READ. */
  return acl_calc_mask(acl);
}

/* Opens the key without following a link in any component (walk.c) and judges it by
 * its descriptor: a regular file with one name, owned by root, this process's user or
 * the account itself (PostgreSQL wants its own key). Anything else is refused, never
 * granted: a link or a second name could make the grant land on another file. */
static int open_key(const char *key_path, uid_t account, int *fd, struct stat *st, cs_err_t *err) {
  int rc;
  if ((rc = cs__posix_open_file(key_path, O_RDONLY | O_NONBLOCK, 0, fd, err)) != CS_OK)
    return rc;
  if (fstat(*fd, st) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot stat key %s: %s", key_path, strerror(errno));
  else if (!S_ISREG(st->st_mode))
    rc = cs_err_set(err, CS_ENOTREG, 0, "key %s is not a regular file; no permission is granted on it", key_path);
  else if (st->st_nlink != 1)
    rc = cs_err_set(err, CS_ENOTREG, 0,
                    "key %s has %lu names (hard links); no permission is granted on it: another name could belong "
                    "to another file's owner",
                    key_path, (unsigned long)st->st_nlink);
  else if (st->st_uid != 0 && st->st_uid != geteuid() && st->st_uid != account)
    rc = cs_err_set(err, CS_EACCES, 0,
                    "key %s is owned by user %lu, neither root nor the account; no permission is granted on it",
                    key_path, (unsigned long)st->st_uid);
  if (rc != CS_OK) {
    close(*fd);
    *fd = -1;
  }
  return rc;
}

/* 1 when the text holds a PEM private key block: a line "-----BEGIN <label>PRIVATE
 * KEY-----" (PKCS#8, RSA, EC, encrypted; "Bag Attributes" or a certificate before it
 * are fine, as openssl and HAProxy write them). */
static int holds_pem_key(const unsigned char *p, size_t len) {
  static const char begin[] = "-----BEGIN ", end[] = "PRIVATE KEY-----";
  size_t i = 0, n, e;
  while (i < len) {
    for (n = 0; i + n < len && p[i + n] != '\n'; n++)
      ;
    e = n > 0 && p[i + n - 1] == '\r' ? n - 1 : n;
    if (e >= sizeof begin - 1 + sizeof end - 1 && memcmp(p + i, begin, sizeof begin - 1) == 0 &&
        memcmp(p + i + e - (sizeof end - 1), end, sizeof end - 1) == 0)
      return 1;
    i += n + 1;
  }
  return 0;
}

/* The grant is for the service's private key alone. The account may be able to put
 * another file of root's at key_file's path (a rename needs write on the folders
 * only: its TLS folder and any folder it may write on the same file system), and the
 * key check repeats the grant every check_interval: a file that holds no PEM private
 * key gets no READ. Read through the descriptor the grant is set on. */
static int key_content(int fd, const char *key_path, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  int rc;
  if ((rc = cs__posix_read_fd(fd, key_path, KEY_FILE_MAX, &data, &len, err)) != CS_OK)
    return rc;
  if (!holds_pem_key(data, len))
    /* one text for whatever it holds: the account that put it there learns nothing of a file it cannot read */
    rc = cs_err_set(err, CS_EFORMAT, 0,
                    "key %s is not a private key certsteward can grant; no permission is granted on it", key_path);
  cs_plat_free_file(data, len);
  return rc;
}

/* Reads the key's ACL through fd; CS_EFAILED where the file system has no ACLs. */
static int read_acl(int fd, const char *key_path, acl_t *acl, cs_err_t *err) {
  if ((*acl = acl_get_fd(fd)) == NULL) {
    if (errno == ENOTSUP || errno == EOPNOTSUPP)
      return cs_err_set(err, CS_EFAILED, errno, "the file system holding %s has no POSIX ACLs", key_path);
    return cs_err_set(err, cs__posix_errno(errno), errno, "cannot read the ACL of %s: %s", key_path, strerror(errno));
  }
  return CS_OK;
}

int cs_plat_key_check(const char *key_path, const char *account, int *granted, cs_err_t *err) {
  acl_t acl = NULL;
  struct stat st;
  uid_t uid;
  int fd = -1, rc;

  *granted = 0;
  if ((rc = cs__posix_account_uid(account, &uid, err)) != CS_OK)
    goto out;
  if ((rc = open_key(key_path, uid, &fd, &st, err)) != CS_OK || (rc = read_acl(fd, key_path, &acl, err)) != CS_OK)
    goto out;
  *granted = acl_grants(acl, uid, st.st_uid);
out:
  if (acl != NULL) /* libacl's acl_free does not take NULL quietly */
    acl_free(acl);
  if (fd >= 0)
    close(fd);
  return rc;
}

int cs_plat_key_grant(const char *key_path, const char *account, cs_err_t *err) {
  acl_t acl = NULL;
  acl_entry_t entry;
  struct stat st;
  uid_t uid;
  int fd = -1, rc;

  if ((rc = cs__posix_account_uid(account, &uid, err)) != CS_OK)
    goto out;
  if ((rc = open_key(key_path, uid, &fd, &st, err)) != CS_OK || (rc = key_content(fd, key_path, err)) != CS_OK ||
      (rc = read_acl(fd, key_path, &acl, err)) != CS_OK)
    goto out;
  if (acl_grants(acl, uid, st.st_uid))
    goto out; /* already there: rewriting it would only change its ctime */
  if (uid == st.st_uid) {
    /* An entry naming the owner would be ignored by the kernel; the owner's bits are what count. */
    if (!find_entry(acl, ACL_USER_OBJ, 0, &entry) || add_read(entry) != 0) {
      rc = cs_err_set(err, CS_EFAILED, errno, "cannot add READ for the owner %s to the ACL of %s", account, key_path);
      goto out;
    }
  } else {
    /* An existing entry keeps what it had (say, write) and gains READ; no second one is made. */
    if (!find_entry(acl, ACL_USER, uid, &entry) &&
        (acl_create_entry(&acl, &entry) != 0 || acl_set_tag_type(entry, ACL_USER) != 0 ||
         acl_set_qualifier(entry, &uid) != 0)) {
      rc = cs_err_set(err, CS_EFAILED, errno, "cannot make an ACL entry for %s on %s: %s", account, key_path,
                      strerror(errno));
      goto out;
    }
    if (add_read(entry) != 0 || widen_mask(&acl) != 0) {
      rc = cs_err_set(err, CS_EFAILED, errno, "cannot add READ for %s to the ACL of %s: %s", account, key_path,
                      strerror(errno));
      goto out;
    }
  }
  if (acl_valid(acl) != 0) {
    rc = cs_err_set(err, CS_EFAILED, errno, "the ACL made for %s on %s is not valid", account, key_path);
    goto out;
  }
  /* Through the descriptor judged above: the very file, whatever the path names now. */
  if (acl_set_fd(fd, acl) != 0) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot set the ACL of %s: %s", key_path, strerror(errno));
    goto out;
  }
  /* Read back: what counts is what the file system kept. */
  acl_free(acl);
  acl = NULL;
  if ((rc = read_acl(fd, key_path, &acl, err)) != CS_OK)
    goto out;
  if (!acl_grants(acl, uid, st.st_uid))
    rc = cs_err_set(err, CS_EFAILED, 0, "READ for %s on %s did not take effect", account, key_path);
out:
  if (acl != NULL)
    acl_free(acl);
  if (fd >= 0)
    close(fd);
  return rc;
}

int cs_plat_key_identity(const char *key_ref, char *out, size_t len, cs_err_t *err) {
  struct stat st;
  int fd = -1, rc;
  if (len > 0)
    out[0] = '\0';
  if ((rc = cs__posix_open_file(key_ref, O_RDONLY | O_NONBLOCK, 0, &fd, err)) != CS_OK)
    return rc;
  if (fstat(fd, &st) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot stat key %s: %s", key_ref, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    rc = cs_err_set(err, CS_ENOTREG, 0, "key %s is not a regular file", key_ref);
  else if (st.st_nlink != 1)
    rc = cs_err_set(err, CS_ENOTREG, 0, "key %s has %lu names (hard links)", key_ref, (unsigned long)st.st_nlink);
  else if (snprintf(out, len, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino) >= (int)len)
    rc = cs_err_set(err, CS_ETOOBIG, 0, "no room for the identity of key %s", key_ref);
  close(fd);
  return rc;
}
