/* No link followed in any component (common/posix/walk.c) by what certsteward does
 * as root: each test puts a symbolic link where a folder of the path was (what an
 * account that can write the folder above can do at any moment) and checks that the
 * operation is refused, saying so, and that nothing at the link's target was read,
 * made, changed or removed. Also the key grant's own rules (one name, an expected
 * owner) and the write that restores recorded owner, mode and ACL. */
#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_test.h"
#include "platform.h"
#include "posix/posix.h"

#define NOBODY 65534 /* uid and gid of nobody / nogroup on Debian */

static char dir_[256];

/* dir_ with "real/" (the folder meant), "elsewhere/" (the target a link points to,
 * holding "f" and "secret") and "via" -> elsewhere: a path through "via" must fail. */
static void setup(void) {
  cs_test_mkdtemp("cs-walk", dir_, sizeof dir_);
  CHECK_INT(mkdir(cs_test_join(dir_, "real"), 0700), ==, 0);
  CHECK_INT(mkdir(cs_test_join(dir_, "elsewhere"), 0700), ==, 0);
  cs_test_put_str(cs_test_join(dir_, "elsewhere/f"), "other");
  cs_test_put_str(cs_test_join(dir_, "elsewhere/secret"), "root only, 29 bytes of secret");
  CHECK_INT(symlink(cs_test_join(dir_, "elsewhere"), cs_test_join(dir_, "via")), ==, 0);
}

static void teardown(void) { CHECK_INT(cs_plat_remove_tree(dir_, NULL), ==, CS_OK); }

static const char *at(const char *name) { return cs_test_join(dir_, name); }

/* the link's target is as setup made it: nothing added, changed or removed */
static void elsewhere_untouched(void) {
  CHECK_INT(cs_test_count_entries(at("elsewhere")), ==, 2);
  cs_test_file_is_str(at("elsewhere/f"), "other");
  cs_test_file_is_str(at("elsewhere/secret"), "root only, 29 bytes of secret");
}

CS_TEST(read_refuses_link_in_folder) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  setup();
  CHECK_INT(cs_plat_read_file(at("via/secret"), 1024, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_ENOTREG);
  CHECK(data == NULL);
  CHECK_CONTAINS(err.text, "is a symbolic link");
  CHECK_CONTAINS(err.text, "/via");
  /* nothing of what it points to reaches the message */
  CHECK(strstr(err.text, "29") == NULL);
  CHECK(strstr(err.text, "secret ") == NULL);
  /* the last component too; the real path reads */
  CHECK_INT(symlink(at("elsewhere/secret"), at("real/key")), ==, 0);
  CHECK_INT(cs_plat_read_file(at("real/key"), 1024, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_ENOTREG);
  CHECK(strstr(err.text, "29") == NULL);
  CHECK_INT(cs_plat_read_file(at("elsewhere/secret"), 1024, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_OK);
  CHECK_INT(len, ==, 29);
  cs_plat_free_file(data, len);
  /* ".." climbs out of a folder already judged */
  CHECK_INT(cs_plat_read_file(at("real/../elsewhere/f"), 1024, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "..");
  teardown();
}

CS_TEST(write_refuses_link_in_folder) {
  cs_err_t err;
  setup();
  CHECK_INT(cs_plat_write_atomic(at("via/f"), "attack", 6, 0600, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "is a symbolic link");
  CHECK_INT(cs_plat_write_atomic(at("via/new"), "attack", 6, 0600, &err), ==, CS_ENOTREG);
  CHECK_INT(cs_plat_write_recorded(at("via/new"), "attack", 6, NULL, at("real"), &err), ==, CS_ENOTREG);
  elsewhere_untouched();
  /* a link deeper in: real/sub -> elsewhere */
  CHECK_INT(symlink(at("elsewhere"), at("real/sub")), ==, 0);
  CHECK_INT(cs_plat_write_atomic(at("real/sub/f"), "attack", 6, 0600, &err), ==, CS_ENOTREG);
  elsewhere_untouched();
  teardown();
}

/* The folder is swapped for a link after it was opened: the write goes on inside the
 * folder first opened (its descriptor), never into the link's target. */
CS_TEST(write_lands_in_folder_opened_not_swapped_one) {
  cs_err_t err;
  int dfd = -1;
  char *base = NULL;
  setup();
  CHECK_INT(cs__posix_open_parent(at("real/f"), &dfd, &base, &err), ==, CS_OK);
  CHECK_INT(rename(at("real"), at("real.moved")), ==, 0);
  CHECK_INT(symlink(at("elsewhere"), at("real")), ==, 0);
  CHECK_INT(openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600) >= 0, ==, 1);
  close(dfd);
  free(base);
  CHECK_INT(cs_plat_exists(at("real.moved/f")), ==, 1);
  elsewhere_untouched();
  teardown();
}

CS_TEST(remove_rename_mkdirs_refuse_link_in_folder) {
  cs_err_t err;
  setup();
  CHECK_INT(cs_plat_remove(at("via/f"), &err), ==, CS_ENOTREG);
  CHECK_INT(cs_plat_rename(at("via/f"), at("real/f"), &err), ==, CS_ENOTREG);
  cs_test_put_str(at("real/mine"), "mine");
  CHECK_INT(cs_plat_rename(at("real/mine"), at("via/f"), &err), ==, CS_ENOTREG);
  CHECK_INT(cs_plat_mkdirs(at("via/made/deeper"), 0700, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(cs_plat_remove_tree(at("via/f"), &err), ==, CS_ENOTREG);
  CHECK_INT(cs_plat_remove_temps(at("via/f"), &err), ==, CS_ENOTREG);
  elsewhere_untouched();
  cs_test_file_is_str(at("real/mine"), "mine");
  /* the real paths work */
  CHECK_INT(cs_plat_mkdirs(at("real/made/deeper"), 0700, &err), ==, CS_OK);
  CHECK_INT(cs_plat_rename(at("real/mine"), at("real/made/deeper/mine"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_remove(at("real/made/deeper/mine"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_exists(at("real/made/deeper/mine")), ==, 0);
  teardown();
}

/* A link inside a tree is removed itself, not followed. */
CS_TEST(remove_tree_removes_links_not_targets) {
  cs_err_t err;
  setup();
  CHECK_INT(mkdir(at("real/tx"), 0700), ==, 0);
  CHECK_INT(symlink(at("elsewhere"), at("real/tx/dir-link")), ==, 0);
  CHECK_INT(symlink(at("elsewhere/f"), at("real/tx/file-link")), ==, 0);
  cs_test_put_str(at("real/tx/own"), "own");
  CHECK_INT(cs_plat_remove_tree(at("real/tx"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_exists(at("real/tx")), ==, 0);
  elsewhere_untouched();
  teardown();
}

CS_TEST(lock_and_log_refuse_link_in_folder) {
  cs_plat_lock_t *lock = NULL;
  cs_err_t err;
  FILE *f;
  setup();
  CHECK_INT(cs_plat_lock(at("via/lock"), &lock, &err), ==, CS_ENOTREG);
  CHECK(lock == NULL);
  errno = 0;
  f = cs_plat_fopen_log(at("via/events.log"));
  CHECK(f == NULL);
  CHECK_INT(errno, ==, EPERM);
  if (f != NULL)
    fclose(f);
  elsewhere_untouched();
  teardown();
}

/* Key grant: a link (last component or folder), a second name, an owner that is
 * neither root nor the account: refused, and the file it would land on unchanged. */
CS_TEST(key_grant_refuses_link_hardlink_and_stranger) {
  cs_err_t err;
  int granted = -1;
  acl_t acl;
  setup();
  CHECK_INT(chmod(at("elsewhere/secret"), 0600), ==, 0);
  CHECK_INT(symlink(at("elsewhere/secret"), at("real/key.pem")), ==, 0);
  CHECK_INT(cs_plat_key_grant(at("real/key.pem"), "nobody", &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(cs_plat_key_grant(at("via/secret"), "nobody", &err), ==, CS_ENOTREG);
  CHECK_INT(cs_plat_key_check(at("real/key.pem"), "nobody", &granted, &err), ==, CS_ENOTREG);
  CHECK_INT(granted, ==, 0);
  /* the target still has no entry beyond its mode */
  acl = acl_get_file(at("elsewhere/secret"), ACL_TYPE_ACCESS);
  CHECK(acl != NULL);
  if (acl != NULL) {
    CHECK_INT(acl_equiv_mode(acl, NULL), ==, 0);
    acl_free(acl);
  }
  /* a second name */
  CHECK_INT(unlink(at("real/key.pem")), ==, 0);
  CHECK_INT(link(at("elsewhere/secret"), at("real/key.pem")), ==, 0);
  CHECK_INT(cs_plat_key_grant(at("real/key.pem"), "nobody", &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "hard links");
  /* someone else's file: owned by daemon (uid 1), granted to nobody */
  CHECK_INT(unlink(at("real/key.pem")), ==, 0);
  cs_test_put_str(at("real/key.pem"), "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n");
  if (geteuid() == 0) {
    CHECK_INT(chown(at("real/key.pem"), 1, 1), ==, 0);
    CHECK_INT(cs_plat_key_grant(at("real/key.pem"), "nobody", &err), ==, CS_EACCES);
    CHECK_CONTAINS(err.text, "neither root nor the account");
    /* the account's own file is fine (PostgreSQL keeps its key so) */
    CHECK_INT(chown(at("real/key.pem"), NOBODY, NOBODY), ==, 0);
    CHECK_INT(cs_plat_key_grant(at("real/key.pem"), "nobody", &err), ==, CS_OK);
  }
  elsewhere_untouched();
  teardown();
}

/* set-password's file (cs_plat_secret_store): a link in a folder of its path is
 * refused before anything is done to the file it leads to (its owner, mode and ACL
 * were once made root's and 0600 through the link); a file of someone else's at the
 * path itself is replaced by root's 0600 file, not changed in place. */
CS_TEST(secret_store_refuses_link_in_folder_and_changes_nothing_there) {
  struct stat st, before;
  cs_err_t err;
  setup();
  CHECK_INT(chmod(at("elsewhere/f"), 0644), ==, 0);
  if (geteuid() == 0)
    CHECK_INT(chown(at("elsewhere/f"), NOBODY, NOBODY), ==, 0);
  CHECK_INT(stat(at("elsewhere/f"), &before), ==, 0);
  CHECK_INT(cs_plat_secret_store(at("via/f"), "pw", 2, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(stat(at("elsewhere/f"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0644);
  CHECK_INT(st.st_uid, ==, before.st_uid);
  CHECK_INT(st.st_ino, ==, before.st_ino);
  elsewhere_untouched();
  /* someone else's world-readable file at the path: a new root 0600 file takes its place */
  cs_test_put_str(at("real/pw"), "old");
  CHECK_INT(chmod(at("real/pw"), 0644), ==, 0);
  if (geteuid() == 0)
    CHECK_INT(chown(at("real/pw"), NOBODY, NOBODY), ==, 0);
  CHECK_INT(stat(at("real/pw"), &before), ==, 0);
  CHECK_INT(cs_plat_secret_store(at("real/pw"), "pw", 2, &err), ==, CS_OK);
  CHECK_INT(stat(at("real/pw"), &st), ==, 0);
  CHECK(st.st_ino != before.st_ino);
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  CHECK_INT(st.st_uid, ==, geteuid());
  cs_test_file_is_str(at("real/pw"), "pw");
  teardown();
}

/* The undo's write: the recorded owner, mode and ACL, whatever sits at the path now. */
/* A recorded mode with set-user-ID, set-group-ID or sticky bits (a manifest a planted
 * journal named) never makes a program: the bits are dropped, the rest kept */
CS_TEST(write_meta_never_sets_set_id_bits) {
  cs__posix_meta_t m;
  cs_err_t err;
  struct stat st;
  setup();
  cs_test_put_str(at("real/cert.pem"), "old");
  CHECK_INT(cs__posix_meta_read(at("real/cert.pem"), &m, &err), ==, CS_OK);
  m.mode = 07755;
  CHECK_INT(cs__posix_write_meta(at("real/cert.pem"), "new", 3, &m, &err), ==, CS_OK);
  CHECK_INT(lstat(at("real/cert.pem"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0755);
  cs__posix_meta_free(&m);
  teardown();
}

CS_TEST(write_meta_restores_recorded_not_present) {
  cs__posix_meta_t m, now;
  cs_err_t err;
  struct stat st;
  setup();
  cs_test_put_str(at("real/cert.pem"), "old");
  CHECK_INT(chmod(at("real/cert.pem"), 0640), ==, 0);
  if (geteuid() == 0) {
    acl_t acl = acl_from_text("u::rw-,u:65534:r--,g::r--,m::r--,o::---");
    CHECK(acl != NULL && acl_set_file(at("real/cert.pem"), ACL_TYPE_ACCESS, acl) == 0);
    if (acl != NULL)
      acl_free(acl);
  }
  CHECK_INT(cs__posix_meta_read(at("real/cert.pem"), &m, &err), ==, CS_OK);
  CHECK_INT(m.mode & 0777, ==, 0640);
  if (geteuid() == 0)
    CHECK(m.acl != NULL && strstr(m.acl, "65534") != NULL);
  /* someone puts a file of their own, world-readable, in its place */
  CHECK_INT(unlink(at("real/cert.pem")), ==, 0);
  cs_test_put_str(at("real/cert.pem"), "planted");
  CHECK_INT(chmod(at("real/cert.pem"), 0666), ==, 0);
  if (geteuid() == 0)
    CHECK_INT(chown(at("real/cert.pem"), NOBODY, NOBODY), ==, 0);
  CHECK_INT(cs__posix_write_meta(at("real/cert.pem"), "old", 3, &m, &err), ==, CS_OK);
  cs_test_file_is_str(at("real/cert.pem"), "old");
  CHECK_INT(lstat(at("real/cert.pem"), &st), ==, 0);
  CHECK_INT(st.st_uid, ==, m.uid);
  CHECK_INT(cs__posix_meta_read(at("real/cert.pem"), &now, &err), ==, CS_OK);
  CHECK_INT(now.mode, ==, m.mode);
  CHECK((now.acl == NULL) == (m.acl == NULL));
  if (now.acl != NULL && m.acl != NULL)
    CHECK_STR(now.acl, m.acl);
  cs__posix_meta_free(&now);
  cs__posix_meta_free(&m);
  /* a link or a second name is not read as a file to record */
  CHECK_INT(symlink(at("elsewhere/f"), at("real/link")), ==, 0);
  CHECK_INT(cs__posix_meta_read(at("real/link"), &m, &err), ==, CS_ENOTREG);
  CHECK_INT(cs__posix_meta_read(at("real/none"), &m, &err), ==, CS_ENOENT);
  teardown();
}

/* A binding file read with cs_plat_read_file_meta (root's, 0600) and then swapped by
 * the folder's owner for a world-writable file of its own: cs_plat_write_recorded with
 * that meta gives the new file what the file read had, not the swapped one's owner and
 * mode, every time (the rewrite, the undo). A second name is refused at the read; a
 * meta that cannot be read back is refused before anything is written. */
CS_TEST(write_recorded_gives_what_the_read_kept) {
  unsigned char *data = NULL;
  size_t len = 0;
  struct stat st;
  char *meta = NULL;
  cs_err_t err;
  setup();
  cs_test_put_str(at("real/tls.json"), "root only");
  CHECK_INT(chmod(at("real/tls.json"), 0600), ==, 0);
  CHECK_INT(cs_plat_read_file_meta(at("real/tls.json"), 1024, &data, &len, &meta, &err), ==, CS_OK);
  CHECK_INT(len, ==, 9);
  CHECK(meta != NULL && strchr(meta, '\t') == NULL && strchr(meta, '\n') == NULL);
  cs_plat_free_file(data, len);
  /* the swap */
  CHECK_INT(unlink(at("real/tls.json")), ==, 0);
  cs_test_put_str(at("real/tls.json"), "planted");
  CHECK_INT(chmod(at("real/tls.json"), 0666), ==, 0);
  if (geteuid() == 0)
    CHECK_INT(chown(at("real/tls.json"), NOBODY, NOBODY), ==, 0);
  CHECK_INT(cs_plat_write_recorded(at("real/tls.json"), "root only 2", 11, meta, at("elsewhere"), &err), ==, CS_OK);
  CHECK_INT(stat(at("real/tls.json"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  CHECK_INT((long)st.st_uid, ==, (long)geteuid());
  /* swapped again before the undo: the same */
  CHECK_INT(unlink(at("real/tls.json")), ==, 0);
  cs_test_put_str(at("real/tls.json"), "planted");
  CHECK_INT(chmod(at("real/tls.json"), 0666), ==, 0);
  CHECK_INT(cs_plat_write_recorded(at("real/tls.json"), "root only", 9, meta, at("elsewhere"), &err), ==, CS_OK);
  CHECK_INT(stat(at("real/tls.json"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  cs_test_file_is_str(at("real/tls.json"), "root only");
  /* without meta: what is at the path (the old behaviour, for a manifest of format 1) */
  CHECK_INT(chmod(at("real/tls.json"), 0640), ==, 0);
  CHECK_INT(cs_plat_write_recorded(at("real/tls.json"), "x", 1, NULL, at("elsewhere"), &err), ==, CS_OK);
  CHECK_INT(stat(at("real/tls.json"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0640);
  /* a meta that is not one: refused, nothing written */
  CHECK_INT(cs_plat_write_recorded(at("real/tls.json"), "y", 1, "0:0:999999:-", at("elsewhere"), &err), ==, CS_EFORMAT);
  CHECK_INT(cs_plat_write_recorded(at("real/tls.json"), "y", 1, "root:0:600:-", at("elsewhere"), &err), ==, CS_EFORMAT);
  cs_test_file_is_str(at("real/tls.json"), "x");
  free(meta);
  meta = NULL;
  /* a second name: refused when read, nothing given */
  CHECK_INT(link(at("elsewhere/secret"), at("real/two")), ==, 0);
  CHECK_INT(cs_plat_read_file_meta(at("real/two"), 1024, &data, &len, &meta, &err), ==, CS_ENOTREG);
  CHECK(data == NULL);
  CHECK(meta == NULL);
  CHECK_CONTAINS(err.text, "hard links");
  CHECK_INT(unlink(at("real/two")), ==, 0);
  elsewhere_untouched();
  teardown();
}

/* Paths from the configuration are taken relative to its folder and folded by name
 * ("conf/../build/x" is "build/x"): the walk refuses "..", and with no link followed
 * the name is the folder. */
CS_TEST(path_resolve_folds_dots) {
  static const struct {
    const char *file, *path, *want;
  } cases[] = {
      {"conf/demo.ini", "../build/demo/state", "build/demo/state"},
      {"/etc/certsteward/certsteward.ini", "../ssl/./key.pem", "/etc/ssl/key.pem"},
      {"/etc/certsteward/certsteward.ini", "/var/lib//certsteward/", "/var/lib/certsteward"},
      {"/a.ini", "../../x", "/x"},
      {"a.ini", "x/..", "."}, /* no folder in the file's name: the path as written, folded */
      {"c/a.ini", "../../x/y", "../x/y"},
      {"c/a.ini", "..", "."},
      {NULL, "/a/b/../../..", "/"},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char *got = cs_plat_path_resolve(cases[i].file, cases[i].path);
    CHECK(got != NULL);
    if (got != NULL)
      CHECK_STR(got, cases[i].want);
    free(got);
  }
}

/* One way to join a folder and a name: one separator, and a path that does not fit is
 * refused whole (out ""), never used cut short. */
CS_TEST(path_join_one_rule) {
  char out[16];
  char *p;
  CHECK_INT(cs_plat_path_join(out, sizeof out, "/var/lib", "x"), ==, CS_OK);
  CHECK_STR(out, "/var/lib/x");
  CHECK_INT(cs_plat_path_join(out, sizeof out, "/", "x"), ==, CS_OK);
  CHECK_STR(out, "/x");
  CHECK_INT(cs_plat_path_join(out, sizeof out, "state/", "journal"), ==, CS_OK);
  CHECK_STR(out, "state/journal");
  CHECK_INT(cs_plat_path_join(out, sizeof out, "/var/lib/cs", "journal"), ==, CS_ETOOBIG);
  CHECK_STR(out, "");
  CHECK_INT(cs_plat_path_join(out, 11, "/var/lib", "xy"), ==, CS_ETOOBIG); /* 11 bytes + NUL needed */
  CHECK_INT(cs_plat_path_join(out, 12, "/var/lib", "xy"), ==, CS_OK);
  p = cs_plat_path_join_new("/var/lib/certsteward", "tx");
  CHECK(p != NULL);
  if (p != NULL)
    CHECK_STR(p, "/var/lib/certsteward/tx");
  free(p);
}
