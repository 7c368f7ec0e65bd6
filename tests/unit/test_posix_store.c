/* The POSIX store's backup and undo (common/posix/store.c) against what someone who
 * can write the folders of [store] cert_file and key_file, or the state folder's
 * manifest, can arrange: the undo acts on the configured files only, checking the
 * whole manifest first; it restores the owner, mode and ACL recorded at backup time,
 * not those of whatever sits at the path; it does not write over a file whose owner
 * changed; the backup follows no link. Root's cases (chown, ACL entries) run as root,
 * as the product does. */
#include <acl/libacl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "journal.h"
#include "cs_test.h"
#include "platform.h"
#include "posix/posix.h"
#include "text.h"

#define NOBODY 65534 /* uid and gid of nobody / nogroup on Debian */

static char dir_[256];
static char cert_[512], key_[512], chain_[512];
static cs_config_t cfg_;
static char nobody_[] = "nobody";

static const char *at(const char *name) { return cs_test_join(dir_, name); }

/* dir_: tls/cert.pem ("old cert"), tls/key.pem ("old key", 0600), stage/ with the new
 * ones, state/tx/store (the backup folder, made by install), outside/x and outside/y
 * (files the configuration does not name: /etc/x and /etc/y). */
static void setup(void) {
  cs_test_mkdtemp("cs-store", dir_, sizeof dir_);
  CHECK_INT(mkdir(at("tls"), 0755), ==, 0);
  CHECK_INT(mkdir(at("stage"), 0700), ==, 0);
  CHECK_INT(mkdir(at("outside"), 0755), ==, 0);
  CHECK_INT(mkdir(at("state"), 0700), ==, 0);
  cs_test_put_str(at("tls/cert.pem"), "old cert");
  cs_test_put_str(at("tls/key.pem"), "old key");
  CHECK_INT(chmod(at("tls/cert.pem"), 0644), ==, 0);
  CHECK_INT(chmod(at("tls/key.pem"), 0600), ==, 0);
  cs_test_put_str(at("stage/cert.pem"), "new cert");
  cs_test_put_str(at("stage/key.pem"), "new key");
  cs_test_put_str(at("stage/chain.pem"), "new chain");
  cs_test_put_str(at("outside/x"), "root's x");
  cs_test_put_str(at("outside/y"), "root's y");
  snprintf(cert_, sizeof cert_, "%s", at("tls/cert.pem"));
  snprintf(key_, sizeof key_, "%s", at("tls/key.pem"));
  snprintf(chain_, sizeof chain_, "%s", at("tls/chain.pem"));
  memset(&cfg_, 0, sizeof cfg_);
  cfg_.store.cert_file = cert_;
  cfg_.store.key_file = key_;
}

static void teardown(void) { CHECK_INT(cs_plat_remove_tree(dir_, NULL), ==, CS_OK); }

static const char *backup(void) { return at("state/tx/store"); }

static void install(void) {
  cs_err_t err;
  CHECK_INT(cs_plat_store_install(&cfg_, at("stage"), backup(), &err), ==, CS_OK);
  cs_test_file_is_str(cert_, "new cert");
  cs_test_file_is_str(key_, "new key");
}

static void outside_untouched(void) {
  CHECK_INT(cs_test_count_entries(at("outside")), ==, 2);
  cs_test_file_is_str(at("outside/x"), "root's x");
  cs_test_file_is_str(at("outside/y"), "root's y");
}

/* Replaces path by a new file (a new inode, as the account would make it) holding
 * text, with mode, owned by uid:gid when this runs as root. */
static void plant(const char *path, const char *text, int mode, int uid) {
  CHECK_INT(unlink(path), ==, 0);
  cs_test_put_str(path, text);
  CHECK_INT(chmod(path, (mode_t)mode), ==, 0);
  if (geteuid() == 0)
    CHECK_INT(chown(path, (uid_t)uid, (gid_t)uid), ==, 0);
}

static void set_acl(const char *path, const char *text) {
  acl_t acl = acl_from_text(text);
  CHECK(acl != NULL && acl_set_file(path, ACL_TYPE_ACCESS, acl) == 0);
  if (acl != NULL)
    acl_free(acl);
}

/* The manifest as an attacker (or an older certsteward) would have written it. */
static void put_manifest(const char *text) { cs_test_put_str(cs_test_join(backup(), "manifest"), text); }

/* The undo puts back the recorded owner, mode and ACL, whatever sits at the path: a key
 * its service's account owns (nobody here, as PostgreSQL keeps its key), 0600 with an
 * ACL entry, and a certificate 0644, both replaced by world-readable files of the same
 * owners before the undo. Today's undo kept the mode of what it found. */
CS_TEST(undo_restores_recorded_owner_mode_acl) {
  cs__posix_meta_t before, now;
  cs_err_t err;
  struct stat st;
  setup();
  cfg_.connector.account = nobody_;
  if (geteuid() == 0) {
    CHECK_INT(chown(key_, NOBODY, NOBODY), ==, 0);
    set_acl(key_, "u::rw-,u:1:r--,g::---,m::r--,o::---");
  }
  CHECK_INT(cs__posix_meta_read(key_, &before, &err), ==, CS_OK);
  install();
  /* the install gave the new key what was recorded */
  CHECK_INT(cs__posix_meta_read(key_, &now, &err), ==, CS_OK);
  CHECK_INT(now.uid, ==, before.uid);
  CHECK_INT(now.mode, ==, before.mode);
  cs__posix_meta_free(&now);
  plant(key_, "planted key", 0666, geteuid() == 0 ? NOBODY : (int)geteuid());
  plant(cert_, "planted cert", 0666, (int)geteuid());
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(key_, "old key");
  cs_test_file_is_str(cert_, "old cert");
  CHECK_INT(cs__posix_meta_read(key_, &now, &err), ==, CS_OK);
  CHECK_INT(now.uid, ==, before.uid);
  CHECK_INT(now.gid, ==, before.gid);
  CHECK_INT(now.mode, ==, before.mode);
  CHECK_INT(now.mode & 0007, ==, 0);
  CHECK((now.acl == NULL) == (before.acl == NULL));
  if (now.acl != NULL && before.acl != NULL)
    CHECK_STR(now.acl, before.acl);
  if (geteuid() == 0)
    CHECK(before.acl != NULL && strstr(before.acl, "u:1:r") != NULL);
  cs__posix_meta_free(&now);
  cs__posix_meta_free(&before);
  CHECK_INT(lstat(cert_, &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0644);
  outside_untouched();
  teardown();
}

/* A manifest naming a file the configuration does not (key.pem -> outside/x) is refused
 * whole: outside/x is not written, and cert.pem, whose line is right, is not touched
 * either. The same in the format written before owners were recorded. */
CS_TEST(undo_refuses_target_not_configured) {
  cs_buf_t m = CS_BUF_INIT;
  cs_err_t err;
  int fmt;
  for (fmt = 1; fmt <= 2; fmt++) {
    setup();
    install();
    if (fmt == 2)
      cs_buf_printf(&m, "certsteward-store-manifest 2\ncert.pem\t1\t0\t0\t644\t-\t%s\nkey.pem\t1\t0\t0\t644\t-\t%s\n",
                    cert_, at("outside/x"));
    else
      cs_buf_printf(&m, "cert.pem\t1\t%s\nkey.pem\t1\t%s\n", cert_, at("outside/x"));
    put_manifest(cs_buf_str(&m));
    cs_buf_free(&m);
    CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_ECONFIG);
    CHECK_CONTAINS(err.text, "not of the configured files");
    CHECK_CONTAINS(err.text, "key_file");
    CHECK_CONTAINS(err.text, "outside/x");
    outside_untouched();
    cs_test_file_is_str(cert_, "new cert");
    cs_test_file_is_str(key_, "new key");
    teardown();
  }
}

/* An entry marked "did not exist" deletes its target on undo: with a target the
 * configuration does not name, nothing is deleted, there or anywhere. A name the
 * configuration leaves unset (chain.pem) is refused too. */
CS_TEST(undo_not_existed_foreign_target_deletes_nothing) {
  cs_buf_t m = CS_BUF_INIT;
  cs_err_t err;
  int i;
  for (i = 0; i < 3; i++) {
    setup();
    install();
    if (i == 0)
      cs_buf_printf(&m, "cert.pem\t0\t%s\n", at("outside/y"));
    else if (i == 1)
      cs_buf_printf(&m, "certsteward-store-manifest 2\nkey.pem\t0\t-\t-\t-\t-\t%s\ncert.pem\t0\t-\t-\t-\t-\t%s\n", key_,
                    at("outside/y"));
    else
      cs_buf_printf(&m, "certsteward-store-manifest 2\nchain.pem\t0\t-\t-\t-\t-\t%s\n", at("outside/y"));
    put_manifest(cs_buf_str(&m));
    cs_buf_free(&m);
    CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_ECONFIG);
    CHECK_CONTAINS(err.text, "outside/y");
    if (i == 2)
      CHECK_CONTAINS(err.text, "not set");
    outside_untouched();
    cs_test_file_is_str(cert_, "new cert");
    cs_test_file_is_str(key_, "new key");
    teardown();
  }
}

/* Lines the undo does not know are refused before any file is touched: a name not of
 * the store, a name twice, a damaged owner, another format's first line. */
CS_TEST(undo_refuses_damaged_manifest_whole) {
  /* first line, then a right line for cert.pem, then the bad line, its target key_file */
  static const char *const bad[][2] = {
      {"certsteward-store-manifest 2", "../../outside/x\t1\t0\t0\t600\t-\t"},
      {"certsteward-store-manifest 2", "cert.pem\t1\t0\t0\t600\t-\t"},
      {"certsteward-store-manifest 2", "key.pem\t1\tx\t0\t600\t-\t"},
      {"certsteward-store-manifest 2", "key.pem\t1\t0\t0\t600\tnot an acl\t"},
      {"certsteward-store-manifest 2", "key.pem\t2\t0\t0\t600\t-\t"},
      {"certsteward-store-manifest 3", "key.pem\t0\t"},
  };
  cs_buf_t m = CS_BUF_INIT;
  cs_err_t err;
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    setup();
    install();
    cs_buf_printf(&m, "%s\ncert.pem\t0\t-\t-\t-\t-\t%s\n%s%s\n", bad[i][0], cert_, bad[i][1], key_);
    put_manifest(cs_buf_str(&m));
    cs_buf_free(&m);
    CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_EFORMAT);
    cs_test_file_is_str(cert_, "new cert"); /* its line came first and was right */
    cs_test_file_is_str(key_, "new key");
    outside_untouched();
    teardown();
  }
}

/* The key at the path is now someone else's (the account put its own file there after
 * the install): it is not written over, and the undo carries on with the certificate
 * and reports the failure. */
CS_TEST(undo_refuses_target_whose_owner_changed) {
  cs_err_t err;
  struct stat st;
  setup();
  if (geteuid() != 0) {
    printf("needs root (chown): only the legitimate undo is checked\n");
    install();
    CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
    cs_test_file_is_str(key_, "old key");
    teardown();
    return;
  }
  install();
  plant(key_, "planted", 0644, NOBODY);
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_EACCES);
  CHECK_CONTAINS(err.text, "was not put back");
  CHECK_CONTAINS(err.text, "owned by uid 65534");
  cs_test_file_is_str(key_, "planted");
  CHECK_INT(lstat(key_, &st), ==, 0);
  CHECK_INT(st.st_uid, ==, NOBODY);
  cs_test_file_is_str(cert_, "old cert");
  /* the legitimate case: the new key, owned as recorded, is replaced */
  plant(key_, "new key", 0600, 0);
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(key_, "old key");
  teardown();
}

/* A link at the path when the undo comes (the account replaced the key by one) is not
 * written through, nor replaced. */
CS_TEST(undo_refuses_link_at_target) {
  cs_err_t err;
  setup();
  install();
  CHECK_INT(unlink(key_), ==, 0);
  CHECK_INT(symlink(at("outside/x"), key_), ==, 0);
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  outside_untouched();
  cs_test_file_is_str(cert_, "old cert");
  teardown();
}

/* A manifest written before owners were recorded ("name TAB existed TAB target") is
 * still undone, by the rule in store.c: the files go back root's (this process's),
 * mode 0600, no ACL, whatever sits at the path (here a world-readable file of nobody's). */
CS_TEST(undo_old_format_restores_root_0600) {
  cs__posix_meta_t now;
  cs_buf_t m = CS_BUF_INIT;
  cs_err_t err;
  setup();
  cfg_.store.chain_file = chain_;
  if (geteuid() == 0)
    set_acl(key_, "u::rw-,u:65534:r--,g::---,m::r--,o::---");
  install();
  cs_test_file_is_str(chain_, "new chain");
  cs_buf_printf(&m, "cert.pem\t1\t%s\nkey.pem\t1\t%s\nchain.pem\t0\t%s\n", cert_, key_, chain_);
  put_manifest(cs_buf_str(&m));
  cs_buf_free(&m);
  plant(key_, "planted", 0666, geteuid() == 0 ? NOBODY : (int)geteuid());
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(key_, "old key");
  cs_test_file_is_str(cert_, "old cert");
  CHECK_INT(cs_plat_exists(chain_), ==, 0);
  CHECK_INT(cs__posix_meta_read(key_, &now, &err), ==, CS_OK);
  CHECK_INT(now.uid, ==, geteuid());
  CHECK_INT(now.mode, ==, 0600);
  CHECK(now.acl == NULL);
  cs__posix_meta_free(&now);
  CHECK_INT(cs__posix_meta_read(cert_, &now, &err), ==, CS_OK);
  CHECK_INT(now.mode, ==, 0600);
  cs__posix_meta_free(&now);
  outside_untouched();
  teardown();
}

/* The backup reads the file at the path without following a link: a key that is a link
 * to another file fails the install before anything is replaced, and that file's bytes
 * are not saved. A link in a folder of the path too. */
CS_TEST(install_refuses_link_at_target) {
  cs_err_t err;
  setup();
  CHECK_INT(rename(key_, at("tls/key.real")), ==, 0);
  CHECK_INT(symlink(at("outside/x"), key_), ==, 0);
  CHECK_INT(cs_plat_store_install(&cfg_, at("stage"), backup(), &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_CONTAINS(err.text, "nothing was replaced");
  cs_test_file_is_str(cert_, "old cert");
  CHECK_INT(cs_plat_exists(cs_test_join(backup(), "key.pem")), ==, 0);
  CHECK_INT(cs_plat_exists(cs_test_join(backup(), "manifest")), ==, 0);
  outside_untouched();
  /* the undo after it has nothing to do */
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(cert_, "old cert");
  outside_untouched();
  teardown();
}

/* The key in service is what the new key inherits its owner from: one owned by neither
 * root nor the connector's account (put there by whoever can write the folder, uid 1
 * here) is refused before anything is replaced, saying whose it is; the connector's own
 * is fine. Whatever the old key allowed others (mode, ACL), the new one allows them
 * nothing; the old one is put back as it was. */
CS_TEST(install_refuses_key_of_another_account_and_gives_others_nothing) {
  cs__posix_meta_t now;
  cs_err_t err;
  setup();
  if (geteuid() == 0) {
    plant(key_, "planted key", 0644, 1);
    CHECK_INT(cs_plat_store_install(&cfg_, at("stage"), backup(), &err), ==, CS_EACCES);
    CHECK_CONTAINS(err.text, "owned by uid 1, neither root nor the connector's account");
    CHECK_CONTAINS(err.text, "nothing was replaced");
    cs_test_file_is_str(key_, "planted key");
    cs_test_file_is_str(cert_, "old cert");
    CHECK_INT(cs_plat_exists(cs_test_join(backup(), "manifest")), ==, 0);
    cfg_.connector.account = nobody_; /* still uid 1's: refused */
    CHECK_INT(cs_plat_store_install(&cfg_, at("stage"), backup(), &err), ==, CS_EACCES);
    CHECK_CONTAINS(err.text, "account nobody");
    plant(key_, "old key", 0640, NOBODY); /* the connector's own */
    install();
    CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
    CHECK_INT(cs_plat_remove_tree(backup(), &err), ==, CS_OK);
  }
  /* root's key readable by all, and by all through its ACL */
  CHECK_INT(chmod(key_, 0644), ==, 0);
  set_acl(key_, "u::rw-,u:1:r--,g::r--,m::r--,o::r--");
  install();
  CHECK_INT(cs__posix_meta_read(key_, &now, &err), ==, CS_OK);
  CHECK_INT(now.mode & 0007, ==, 0);
  CHECK(now.acl != NULL && strstr(now.acl, "u:1:r") != NULL && strstr(now.acl, "o::---") != NULL);
  cs__posix_meta_free(&now);
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(key_, "old key");
  CHECK_INT(cs__posix_meta_read(key_, &now, &err), ==, CS_OK);
  CHECK_INT(now.mode & 0007, ==, 04); /* put back as it was */
  cs__posix_meta_free(&now);
  teardown();
}

/* What the install records: one line per configured file with its owner, mode and ACL,
 * read back by the undo (the legitimate round trip, a file that did not exist removed). */
CS_TEST(install_records_meta_and_undo_round_trips) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  char want[600];
  setup();
  cfg_.store.chain_file = chain_;
  install();
  CHECK_INT(cs_plat_read_file(cs_test_join(backup(), "manifest"), 4096, CS_READ_NOFOLLOW, &data, &len, &err), ==,
            CS_OK);
  if (data != NULL) {
    CHECK(strncmp((char *)data, "certsteward-store-manifest 2\n", 29) == 0);
    snprintf(want, sizeof want, "key.pem\t1\t%lld\t%lld\t600\t-\t%s\n", (long long)geteuid(), (long long)getegid(),
             key_);
    CHECK_CONTAINS((char *)data, want);
    snprintf(want, sizeof want, "chain.pem\t0\t-\t-\t-\t-\t%s\n", chain_);
    CHECK_CONTAINS((char *)data, want);
  }
  cs_plat_free_file(data, len);
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(cert_, "old cert");
  cs_test_file_is_str(key_, "old key");
  CHECK_INT(cs_plat_exists(chain_), ==, 0);
  /* an undo done twice (a crash after it) is harmless */
  CHECK_INT(cs_plat_store_undo(&cfg_, backup(), &err), ==, CS_OK);
  cs_test_file_is_str(key_, "old key");
  teardown();
}

/* A journal is acted on only when it names this state folder's transaction folder: one
 * naming another (planted, or of another configuration) is refused before any undo. */
CS_TEST(journal_naming_another_txdir_is_refused) {
  char plan[] = "install grant bindings restart probe", txdir[512];
  cs_journal_t j, back;
  cs_err_t err;
  setup();
  snprintf(txdir, sizeof txdir, "%s", at("outside"));
  memset(&j, 0, sizeof j);
  snprintf(j.state, sizeof j.state, "%s", CS_TX_ROLLING_BACK);
  j.plan = plan;
  j.step = 1;
  j.txdir = txdir;
  CHECK_INT(cs_journal_write(at("state/journal"), &j, &err), ==, CS_OK);
  CHECK_INT(cs_journal_read(at("state/journal"), &back, &err), ==, CS_OK);
  CHECK_INT(cs_journal_check_txdir(&back, at("state/journal"), at("state/tx"), &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "not written for this state folder");
  CHECK_INT(cs_journal_check_txdir(&back, at("state/journal"), at("outside"), &err), ==, CS_OK);
  cs_journal_free(&back);
  teardown();
}
