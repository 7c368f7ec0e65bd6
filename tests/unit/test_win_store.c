/* The Windows certificate store (common/win/store.c) against Wine's real crypt32
 * LocalMachine\My and LocalMachine\CA in the test run's private prefix: import,
 * find, list, intermediates, undo (also half-done), archive, key-less binding, a
 * rollback bound to its own key (and refused without it), the certificate in service,
 * and the worker's stage end to end. What only real Windows
 * proves (which provider holds a key, machine keys, deleting a key container) is
 * marked in store.c and not claimed here: under Wine every import shares one key
 * container. Certificates are checked through crypt32 directly, not through the code
 * under test, except where the listing itself is under test. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <windows.h>
#include <wincrypt.h>
#include <ncrypt.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "config.h"
#include "load.h"
#include "pfx.h"
#include "platform.h"
#include "policy.h"
#include "reply.h"
#include "validate.h"
#include "win/store.h"
#include "worker.h"

#include "store_fx_win.h"

/* ---- tests ------------------------------------------------------------------------- */

CS_TEST(install_lists_adds_chain_and_undo_removes_it) {
  char tp[41], inter[41], friendly[40], na[21], *subject = NULL, tp2[41];
  long long epoch = 0;
  cs_plat_cert_t e;
  cs_bundle_t b;
  cs_err_t err;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("inter.pem", inter);
  stage(&f, "good-bundle.pem", NULL, tp);
  purge(L"My", tp);
  purge(L"CA", inter);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  /* found by thumbprint, listed with the expiry OpenSSL reads and today's friendly name */
  CHECK(in_store(L"My", tp));
  CHECK(in_store(L"CA", inter));
  memset(&e, 0, sizeof e);
  CHECK(listed(tp, &e));
  if (load("good-bundle.pem", &b)) {
    CHECK_INT(cs_x509_describe(b.leaf, tp2, &subject, na, &epoch), ==, 0);
    CHECK_INT(e.not_after, ==, epoch);
    cs_bundle_free(&b);
  }
  today(friendly, sizeof friendly);
  CHECK_STR(e.friendly, friendly);
  CHECK_CONTAINS(e.subject, "CN=board.example.test");
  CHECK_INT(e.has_key, ==, 1);
  free(e.subject);
  free(e.friendly);
  free(subject);
  /* undo: exactly what was added goes, and again is harmless */
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  CHECK(!listed(tp, NULL));
  CHECK(!in_store(L"CA", inter));
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  fx_close(&f);
}

CS_TEST(undo_leaves_what_was_there_before) {
  char tp[41], inter[41], first[MAX_PATH + 8];
  PCCERT_CONTEXT c;
  cs_plat_cert_t e;
  cs_err_t err;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("inter.pem", inter);
  stage(&f, "good-bundle.pem", NULL, tp);
  purge(L"My", tp);
  purge(L"CA", inter);
  /* already in My with its key, intermediate in CA: a second install changes nothing */
  snprintf(first, sizeof first, "%s1", f.backup);
  CHECK_INT(install(&f, first, &err), ==, 0);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(listed(tp, &e) && e.has_key);
  CHECK(in_store(L"CA", inter));
  CHECK_INT(cs_plat_store_undo(&f.cfg, first, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  CHECK(!in_store(L"CA", inter));
  /* in My without a key: linked by the install, left as it was by the undo */
  c = find(L"My", tp);
  CHECK(c == NULL);
  {
    HCERTSTORE s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"My");
    unsigned char *der = NULL;
    size_t len = 0;
    char path[MAX_PATH + 16];
    snprintf(path, sizeof path, "%s\\leaf.der", f.stage);
    CHECK_INT(cs_plat_read_file(path, 1 << 20, 0, &der, &len, NULL), ==, 0);
    CHECK(CertAddEncodedCertificateToStore(s, ENC, der, (DWORD)len, CERT_STORE_ADD_NEW, NULL));
    CHECK(CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
    CertCloseStore(s, 0);
    cs_plat_free_file(der, len);
  }
  CHECK(listed(tp, &e) && !e.has_key);
  (void)cs_plat_remove_tree(f.backup, NULL);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK(listed(tp, &e) && e.has_key);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(listed(tp, &e) && !e.has_key);
  purge(L"My", tp);
  fx_close(&f);
}

CS_TEST(undo_after_a_half_done_install) {
  char tp[41], inter[41], bad[600], path[MAX_PATH + 16];
  cs_err_t err;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("inter.pem", inter);
  /* never ran: no manifest, nothing to do */
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  /* the manifest written, the import not done (here: it fails on a wrong password) */
  stage(&f, "good-bundle.pem", NULL, tp);
  purge(L"My", tp);
  purge(L"CA", inter);
  snprintf(bad, sizeof bad, "pfx %s\npassword wrong\n", CS_PFX_FILE);
  put(f.stage, CS_PFX_INFO_FILE, bad, strlen(bad));
  CHECK(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err) != CS_OK);
  CHECK_CONTAINS(err.text, "cannot import the private key into");
  CHECK_CONTAINS(err.text, "key_provider = default");
  snprintf(path, sizeof path, "%s\\manifest", f.backup);
  CHECK(cs_plat_exists(path));
  CHECK(!in_store(L"My", tp));
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  CHECK(!in_store(L"CA", inter));
  /* the import done, nothing else (the intermediate never reached CA) */
  (void)cs_plat_remove_tree(f.backup, NULL);
  stage(&f, "good-bundle.pem", NULL, tp);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  purge(L"CA", inter);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  fx_close(&f);
}

/* The old certificate (bad-eku.pem's, with key) in service, good-bundle.pem installed
 * over it, then archived as old_certificates says. */
static void archive_case(const char *mode) {
  char old_tp[41], tp[41], path[MAX_PATH + 16], old_backup[MAX_PATH + 8];
  unsigned char *data = NULL, *der = NULL;
  size_t len = 0;
  int n;
  cs_bundle_t b;
  cs_err_t err;
  fx_t f;
  thumbprint_of("bad-eku.pem", old_tp);
  fx_open(&f, old_tp, mode, NULL);
  snprintf(old_backup, sizeof old_backup, "%s0", f.backup);
  stage(&f, "bad-eku.pem", NULL, old_tp);
  purge(L"My", old_tp);
  CHECK_INT(install(&f, old_backup, &err), ==, 0);
  stage(&f, "good-bundle.pem", NULL, tp);
  purge(L"My", tp);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  /* nothing happens before COMMIT: the archive is a separate call */
  CHECK(in_store(L"My", old_tp));
  CHECK_INT(cs_plat_store_archive(&f.cfg, f.backup, f.archive, &err), ==, 0);
  snprintf(path, sizeof path, "%s\\cert.cer", f.archive);
  CHECK_INT(cs_plat_read_file(path, 1 << 20, 0, &data, &len, NULL), ==, 0);
  if (load("bad-eku.pem", &b)) {
    n = i2d_X509(b.leaf, &der);
    CHECK(n > 0 && (size_t)n == len && data != NULL && memcmp(der, data, len) == 0);
    OPENSSL_free(der);
    cs_bundle_free(&b);
  }
  cs_plat_free_file(data, len);
  /* find() opens the store anew: a delete must have been saved to be missing there */
  CHECK_INT(in_store(L"My", old_tp), ==, strcmp(mode, "keep") == 0);
  CHECK(in_store(L"My", tp));
  /* again (a recovery after a crash): fine */
  CHECK_INT(cs_plat_store_archive(&f.cfg, f.backup, f.archive, &err), ==, 0);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK_INT(cs_plat_store_undo(&f.cfg, old_backup, &err), ==, 0);
  purge(L"My", old_tp);
  fx_close(&f);
}

CS_TEST(archive_keep_exports_the_old_certificate) { archive_case("keep"); }
CS_TEST(archive_delete_exports_and_removes_it) { archive_case("delete"); }

CS_TEST(keyless_renewal_shares_the_key_in_service) {
  char old_tp[41], tp[41], old_backup[MAX_PATH + 8], friendly[40];
  CRYPT_KEY_PROV_INFO *k_old, *k_new;
  PCCERT_CONTEXT c_old, c_new;
  cs_plat_cert_t e;
  cs_err_t err;
  fx_t f;
  thumbprint_of("good-bundle.pem", old_tp);
  fx_open(&f, old_tp, NULL, NULL);
  snprintf(old_backup, sizeof old_backup, "%s0", f.backup);
  stage(&f, "good-bundle.pem", NULL, old_tp);
  purge(L"My", old_tp);
  CHECK_INT(install(&f, old_backup, &err), ==, 0);
  (void)cs_plat_remove_tree(f.stage, NULL);
  CHECK_INT(cs_plat_mkdirs(f.stage, 0700, &err), ==, 0);
  /* current-later.pem: no key in the file, the public key of good-bundle.pem */
  stage(&f, "current-later.pem", old_tp, tp);
  purge(L"My", tp);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  c_old = find(L"My", old_tp);
  c_new = find(L"My", tp);
  k_old = key_of(c_old);
  k_new = key_of(c_new);
  CHECK(k_old != NULL && k_new != NULL);
  if (k_old != NULL && k_new != NULL) {
    CHECK(wcscmp(k_old->pwszContainerName, k_new->pwszContainerName) == 0);
    CHECK(k_old->pwszProvName != NULL && k_new->pwszProvName != NULL &&
          wcscmp(k_old->pwszProvName, k_new->pwszProvName) == 0);
    CHECK_INT(k_old->dwProvType, ==, k_new->dwProvType);
    CHECK_INT(k_old->dwKeySpec, ==, k_new->dwKeySpec);
  }
  today(friendly, sizeof friendly);
  CHECK(listed(tp, &e));
  CHECK_STR(e.friendly, friendly);
  free(e.subject);
  free(e.friendly);
  free(k_old);
  free(k_new);
  CertFreeCertificateContext(c_old);
  CertFreeCertificateContext(c_new);
  /* undo: the new one goes, the one in service keeps its key */
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  CHECK(listed(old_tp, &e) && e.has_key);
  free(e.subject);
  free(e.friendly);
  CHECK_INT(cs_plat_store_undo(&f.cfg, old_backup, &err), ==, 0);
  fx_close(&f);
}

CS_TEST(keyless_renewal_refused_without_that_key) {
  char old_tp[41], tp[41], old_backup[MAX_PATH + 8], path[MAX_PATH + 16];
  cs_err_t err;
  fx_t f;
  thumbprint_of("bad-rsa1024.pem", old_tp);
  fx_open(&f, old_tp, NULL, NULL);
  snprintf(old_backup, sizeof old_backup, "%s0", f.backup);
  /* bound to a certificate that is not in My */
  purge(L"My", old_tp);
  stage(&f, "current-later.pem", old_tp, tp);
  purge(L"My", tp);
  CHECK_INT(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, old_tp);
  /* bound to one with another key */
  stage(&f, "bad-rsa1024.pem", NULL, old_tp);
  CHECK_INT(install(&f, old_backup, &err), ==, 0);
  stage(&f, "current-later.pem", old_tp, tp);
  CHECK_INT(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "public key");
  CHECK(!in_store(L"My", tp));
  snprintf(path, sizeof path, "%s\\manifest", f.backup);
  CHECK(!cs_plat_exists(path)); /* refused before anything changed */
  CHECK_INT(cs_plat_store_undo(&f.cfg, old_backup, &err), ==, 0);
  CHECK(!in_store(L"My", old_tp));
  fx_close(&f);
}

static void pfx_as_is(const char *file) {
  char tp[41];
  cs_plat_cert_t e;
  cs_err_t err;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  stage_pfx_as_is(&f, file, tp);
  purge(L"My", tp);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK(listed(tp, &e) && e.has_key);
  free(e.subject);
  free(e.friendly);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  fx_close(&f);
}

CS_TEST(aes_pfx_imports) { pfx_as_is("good-aes.pfx"); }
CS_TEST(legacy_pfx_imports) { pfx_as_is("good-legacy.pfx"); }

/* cng / capi: under Wine the provider is not proven (store.c says so); what this
 * proves is that the import either works or says which provider refused it. */
static void provider_case(const char *provider, const char *name) {
  char tp[41];
  cs_plat_cert_t e;
  cs_err_t err;
  int rc;
  fx_t f;
  fx_open(&f, NULL, NULL, provider);
  stage(&f, "good-bundle.pem", NULL, tp);
  purge(L"My", tp);
  rc = cs_plat_store_install(&f.cfg, f.stage, f.backup, &err);
  if (rc == CS_OK) {
    CHECK(listed(tp, &e) && e.has_key);
    free(e.subject);
    free(e.friendly);
  } else {
    fprintf(stderr, "%s: %s\n", provider, err.text);
    CHECK_CONTAINS(err.text, name);
    CHECK_CONTAINS(err.text, provider);
  }
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  fx_close(&f);
}

CS_TEST(provider_cng_imports_or_names_it) { provider_case("cng", CS_PFX_KSP_NAME); }
CS_TEST(provider_capi_imports_or_names_it) { provider_case("capi", CS_PFX_CSP_NAME); }

CS_TEST(current_exports_the_certificate_in_service) {
  char tp[41], lower[41], cert[MAX_PATH + 32], key[64], want[MAX_PATH + 32], json[128], ref[64];
  unsigned char *a = NULL, *b = NULL;
  size_t alen = 0, blen = 0, i;
  cs_err_t err;
  fx_t f, g;
  fx_open(&f, NULL, NULL, NULL);
  stage(&f, "good-bundle.pem", NULL, tp);
  purge(L"My", tp);
  /* nothing named in service: a first install */
  CHECK_INT(cs_plat_store_current(&f.cfg, cert, sizeof cert, key, sizeof key, &err), ==, 0);
  CHECK_STR(cert, "");
  CHECK_STR(key, "");
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  /* named by a binding file, in lower case */
  for (i = 0; i < 41; i++)
    lower[i] = (char)(tp[i] >= 'A' && tp[i] <= 'F' ? tp[i] + 32 : tp[i]);
  snprintf(json, sizeof json, "{\"thumbprint\": \"%s\"}\r\n", lower);
  put(f.dir, "tls.json", json, strlen(json));
  cs_config_free(&f.cfg);
  {
    char ini[2048], path[MAX_PATH + 32];
    snprintf(path, sizeof path, "%s\\certsteward.ini", f.dir);
    snprintf(ini, sizeof ini, "[connector]\nbinding_files = tls.json\n[store]\nstate_dir = %s\n", f.state);
    CHECK_INT(cs_config_load_mem(&f.cfg, path, (const unsigned char *)ini, strlen(ini), &err), ==, 0);
  }
  CHECK_INT(cs_plat_store_current(&f.cfg, cert, sizeof cert, key, sizeof key, &err), ==, 0);
  snprintf(want, sizeof want, "%s\\current.cer", f.state);
  CHECK_STR(cert, want);
  CHECK_STR(key, "");
  snprintf(want, sizeof want, "%s\\leaf.der", f.stage);
  CHECK_INT(cs_plat_read_file(cert, 1 << 20, 0, &a, &alen, NULL), ==, 0);
  CHECK_INT(cs_plat_read_file(want, 1 << 20, 0, &b, &blen, NULL), ==, 0);
  CHECK(alen == blen && alen > 0 && memcmp(a, b, alen) == 0);
  cs_plat_free_file(a, alen);
  cs_plat_free_file(b, blen);
  /* the key reference is the thumbprint itself */
  CHECK_INT(cs_plat_store_key_ref(&f.cfg, lower, ref, sizeof ref), ==, 0);
  CHECK_STR(ref, tp);
  CHECK_INT(cs_plat_store_key_ref(&f.cfg, "not-a-thumbprint", ref, sizeof ref), ==, CS_EINVAL);
  /* named, but not in My */
  fx_open(&g, "00112233445566778899AABBCCDDEEFF00112233", NULL, NULL);
  CHECK_INT(cs_plat_store_current(&g.cfg, cert, sizeof cert, key, sizeof key, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "00112233445566778899AABBCCDDEEFF00112233");
  CHECK_STR(cert, "");
  fx_close(&g);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  fx_close(&f);
}

CS_TEST(worker_stage_is_what_the_store_imports) {
  char tp[41], new_tp[41], cert[MAX_PATH + 32], key[64], old_backup[MAX_PATH + 8];
  CRYPT_KEY_PROV_INFO *k;
  PCCERT_CONTEXT c;
  cs_err_t err;
  fx_t f;
  thumbprint_of("good-bundle.pem", tp);
  thumbprint_of("current-later.pem", new_tp);
  fx_open(&f, tp, NULL, NULL);
  purge(L"My", tp);
  purge(L"My", new_tp);
  snprintf(old_backup, sizeof old_backup, "%s0", f.backup);
  /* with a key: the PKCS#12 */
  CHECK(worker_stage(&f, "good-bundle.pem", NULL));
  CHECK(staged(&f, CS_PFX_FILE) && staged(&f, CS_PFX_INFO_FILE) && staged(&f, "leaf.der"));
  CHECK_INT(install(&f, old_backup, &err), ==, 0);
  c = find(L"My", tp);
  CHECK((k = key_of(c)) != NULL);
  free(k);
  CertFreeCertificateContext(c);
  /* without a key, judged against the certificate in service: no key file at all */
  CHECK_INT(cs_plat_store_current(&f.cfg, cert, sizeof cert, key, sizeof key, &err), ==, 0);
  (void)cs_plat_remove_tree(f.stage, NULL);
  CHECK(worker_stage(&f, "current-later.pem", cert));
  CHECK(staged(&f, CS_PFX_INFO_FILE) && staged(&f, "leaf.der") && staged(&f, "chain.pem"));
  CHECK(!staged(&f, CS_PFX_FILE) && !staged(&f, "key.pem") && !staged(&f, "bundle.pem"));
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  c = find(L"My", new_tp);
  CHECK((k = key_of(c)) != NULL);
  free(k);
  CertFreeCertificateContext(c);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK_INT(cs_plat_store_undo(&f.cfg, old_backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp) && !in_store(L"My", new_tp));
  fx_close(&f);
}

/* bad-eku.pem's certificate in service, good-bundle.pem's still in My with its key
 * (old_certificates = keep): the worker stages good-leaf.der (that certificate, no
 * key) bound to its own key; install adds nothing, undo removes nothing; archived
 * after the commit, the one it replaced is exported in turn. */
CS_TEST(rollback_install_adds_nothing_and_undo_leaves_it) {
  char tp[41], cur_tp[41], path[MAX_PATH + 16], own[64];
  char back_x[MAX_PATH + 8], back_y[MAX_PATH + 8];
  CRYPT_KEY_PROV_INFO *k_before, *k_after;
  PCCERT_CONTEXT c;
  unsigned char *info = NULL;
  size_t info_len = 0, n_my;
  cs_plat_cert_t e;
  cs_err_t err;
  fx_t f;
  thumbprint_of("good-bundle.pem", tp);
  thumbprint_of("bad-eku.pem", cur_tp);
  fx_open(&f, cur_tp, NULL, NULL);
  snprintf(back_x, sizeof back_x, "%sx", f.backup);
  snprintf(back_y, sizeof back_y, "%sy", f.backup);
  purge(L"My", tp);
  purge(L"My", cur_tp);
  stage(&f, "good-bundle.pem", NULL, tp);
  CHECK_INT(install(&f, back_x, &err), ==, 0);
  stage(&f, "bad-eku.pem", NULL, cur_tp);
  CHECK_INT(install(&f, back_y, &err), ==, 0);
  (void)cs_plat_remove_tree(f.stage, NULL);
  CHECK_INT(cs_plat_mkdirs(f.stage, 0700, &err), ==, 0);
  /* the worker, with no certificate in service given (a rollback): its own key */
  CHECK(worker_stage(&f, "good-leaf.der", NULL));
  CHECK(!staged(&f, CS_PFX_FILE) && !staged(&f, "key.pem"));
  snprintf(path, sizeof path, "%s\\%s", f.stage, CS_PFX_INFO_FILE);
  CHECK_INT(cs_plat_read_file(path, 1 << 20, 0, &info, &info_len, NULL), ==, 0);
  snprintf(own, sizeof own, "keyless %s\n", tp);
  CHECK_STR((const char *)info, own);
  cs_plat_free_file(info, info_len);
  /* install: in My with its key already, so nothing is added or changed */
  c = find(L"My", tp);
  k_before = key_of(c);
  CertFreeCertificateContext(c);
  n_my = count_my();
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK(manifest_says(f.backup, "existed 1\nhad_key 1\n"));
  CHECK_INT(count_my(), ==, n_my);
  c = find(L"My", tp);
  k_after = key_of(c);
  CertFreeCertificateContext(c);
  CHECK(k_before != NULL && k_after != NULL);
  if (k_before != NULL && k_after != NULL)
    CHECK(wcscmp(k_before->pwszContainerName, k_after->pwszContainerName) == 0);
  /* undo: the certificate stays, with its key */
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(listed(tp, &e) && e.has_key);
  free(e.subject);
  free(e.friendly);
  CHECK_INT(count_my(), ==, n_my);
  /* committed instead: the certificate it replaced is archived and kept */
  (void)cs_plat_remove_tree(f.backup, NULL);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK_INT(cs_plat_store_archive(&f.cfg, f.backup, f.archive, &err), ==, 0);
  snprintf(path, sizeof path, "%s\\cert.cer", f.archive);
  CHECK(cs_plat_exists(path));
  CHECK(in_store(L"My", cur_tp) && in_store(L"My", tp));
  free(k_before);
  free(k_after);
  CHECK_INT(cs_plat_store_undo(&f.cfg, back_y, &err), ==, 0);
  CHECK_INT(cs_plat_store_undo(&f.cfg, back_x, &err), ==, 0);
  CHECK(!in_store(L"My", tp) && !in_store(L"My", cur_tp));
  fx_close(&f);
}

/* The same, once the certificate has left My (old_certificates = delete) or lost its
 * key: refused by the worker and by the store, with what to do, nothing changed. */
CS_TEST(rollback_refused_without_its_own_key) {
  char tp[41], own[41], path[MAX_PATH + 16], why[CS_FX_WHY];
  unsigned char *der = NULL;
  size_t len = 0, n_my;
  cs_plat_cert_t e;
  cs_err_t err;
  HCERTSTORE s;
  fx_t f;
  thumbprint_of("good-bundle.pem", tp);
  fx_open(&f, NULL, NULL, NULL);
  purge(L"My", tp);
  /* not in My: the worker's verdict */
  CHECK(!worker_judge(&f, "good-leaf.der", NULL, why));
  CHECK_CONTAINS(why, "not in LocalMachine\\My");
  CHECK_CONTAINS(why, "drop a PFX file");
  CHECK(!staged(&f, CS_PFX_INFO_FILE));
  /* the store itself, staged by hand */
  memcpy(own, tp, sizeof own);
  stage(&f, "good-bundle.pem", own, tp);
  n_my = count_my();
  CHECK_INT(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, tp);
  CHECK_CONTAINS(err.text, "no longer in LocalMachine\\My");
  CHECK_CONTAINS(err.text, "drop its PFX file");
  CHECK(!in_store(L"My", tp));
  CHECK_INT(count_my(), ==, n_my);
  snprintf(path, sizeof path, "%s\\manifest", f.backup);
  CHECK(!cs_plat_exists(path)); /* refused before anything changed */
  /* in My without its key */
  snprintf(path, sizeof path, "%s\\leaf.der", f.stage);
  CHECK_INT(cs_plat_read_file(path, 1 << 20, 0, &der, &len, NULL), ==, 0);
  s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"My");
  CHECK(s != NULL && CertAddEncodedCertificateToStore(s, ENC, der, (DWORD)len, CERT_STORE_ADD_NEW, NULL));
  CHECK(s != NULL && CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
  if (s != NULL)
    CertCloseStore(s, 0);
  cs_plat_free_file(der, len);
  CHECK_INT(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "in LocalMachine\\My without its private key");
  CHECK(listed(tp, &e) && !e.has_key);
  free(e.subject);
  free(e.friendly);
  snprintf(path, sizeof path, "%s\\manifest", f.backup);
  CHECK(!cs_plat_exists(path));
  purge(L"My", tp);
  fx_close(&f);
}

/* ---- how the undo deletes an imported key (pure) ------------------------------------ */

/* What only real Windows proves is that the key file then goes (store.c): under Wine
 * NCryptOpenKey is not supported and CAPI keys share one container. Proven here: the
 * key spec and the flags the undo opens the key with, from the link the import left. */
static wchar_t container[] = L"certsteward-0123-abcd", ksp[] = MS_KEY_STORAGE_PROVIDER, csp[] = MS_ENH_RSA_AES_PROV_W,
               no_name[] = L"";

static CRYPT_KEY_PROV_INFO link_of(wchar_t *prov, DWORD type, DWORD spec, DWORD flags) {
  CRYPT_KEY_PROV_INFO kp;
  memset(&kp, 0, sizeof kp);
  kp.pwszContainerName = container;
  kp.pwszProvName = prov;
  kp.dwProvType = type;
  kp.dwKeySpec = spec;
  kp.dwFlags = flags;
  return kp;
}

CS_TEST(undo_opens_a_cng_key_with_its_key_spec) {
  CRYPT_KEY_PROV_INFO kp = link_of(ksp, 0, AT_KEYEXCHANGE, CRYPT_MACHINE_KEYSET);
  cs__store_keydel_t d;
  /* an RSA key of a PKCS#12 in the KSP: AT_KEYEXCHANGE, a machine key, no UI */
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK(d.cng);
  CHECK_INT(d.spec, ==, AT_KEYEXCHANGE);
  CHECK_INT(d.flags, ==, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
  CHECK(d.container == kp.pwszContainerName && d.prov == kp.pwszProvName);
  kp.dwKeySpec = AT_SIGNATURE;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK_INT(d.spec, ==, AT_SIGNATURE);
  /* CERT_NCRYPT_KEY_SPEC (an ECDSA key, say) or nothing: no legacy spec */
  kp.dwKeySpec = CERT_NCRYPT_KEY_SPEC;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK_INT(d.spec, ==, 0);
  kp.dwKeySpec = 0;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK_INT(d.spec, ==, 0);
  /* a user key: no machine flag; other link flags are not NCryptOpenKey's */
  kp.dwFlags = CERT_SET_KEY_CONTEXT_PROP_ID;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK_INT(d.flags, ==, NCRYPT_SILENT_FLAG);
}

CS_TEST(undo_deletes_a_capi_container_with_its_provider_type) {
  CRYPT_KEY_PROV_INFO kp =
      link_of(csp, PROV_RSA_AES, AT_KEYEXCHANGE, CRYPT_MACHINE_KEYSET | CERT_SET_KEY_CONTEXT_PROP_ID);
  cs__store_keydel_t d;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK(!d.cng);
  CHECK_INT(d.type, ==, PROV_RSA_AES);
  CHECK_INT(d.flags, ==, CRYPT_DELETEKEYSET | CRYPT_SILENT | CRYPT_MACHINE_KEYSET);
  kp.dwFlags = 0;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, 0);
  CHECK_INT(d.flags, ==, CRYPT_DELETEKEYSET | CRYPT_SILENT);
  /* no container named: CAPI would open the default one; nothing is deleted */
  kp.pwszContainerName = no_name;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, -1);
  kp.pwszContainerName = NULL;
  CHECK_INT(cs__store_keydel(&kp, &d), ==, -1);
  CHECK_INT(cs__store_keydel(NULL, &d), ==, -1);
}

/* ---- paths beyond the ANSI code page ------------------------------------------------- */

/* The worker as the daemon starts it (cs_worker_validate: a wide command line, the
 * restricted token) reads a file and writes its stage under a folder whose name no
 * single ANSI code page holds; the store imports that stage. */
CS_TEST(worker_reads_and_stages_under_a_non_ascii_path) {
  char dir[MAX_PATH + 64], file[MAX_PATH + 96], tp[41];
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  fx_t f;
  thumbprint_of("good-bundle.pem", tp);
  fx_open(&f, NULL, NULL, NULL);
  purge(L"My", tp);
  snprintf(dir, sizeof dir, "%s\\Übergang 証明書", f.dir);
  snprintf(file, sizeof file, "%s\\neu ключ.pem", dir);
  snprintf(f.stage, sizeof f.stage, "%s\\stage", dir);
  CHECK_INT(cs_plat_mkdirs(f.stage, 0700, &err), ==, 0);
  CHECK_INT(cs_plat_read_file(cs_test_path("good-bundle.pem"), 1 << 20, 0, &data, &len, NULL), ==, 0);
  CHECK_INT(cs_plat_write_atomic(file, data, len, 0600, &err), ==, 0);
  cs_plat_free_file(data, len);
  CHECK(worker_stage(&f, file, NULL));
  CHECK(staged(&f, CS_PFX_FILE) && staged(&f, CS_PFX_INFO_FILE) && staged(&f, "leaf.der"));
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK(in_store(L"My", tp));
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", tp));
  fx_close(&f);
}
