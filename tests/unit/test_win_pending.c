/* A key-less certificate joined to the private key its request left in
 * LocalMachine\REQUEST, as certreq -accept does (common/win/store_pending.c, store.c,
 * validate.c), against Wine's real crypt32 stores in the test run's private prefix.
 *
 * The REQUEST entry is planted as certreq -new leaves one: a self-signed placeholder
 * with the request's public key (the test PKI's leaf.key) and a CERT_KEY_PROV_INFO
 * link to that key in the machine key set, the link taken from a PKCS#12 import of
 * that key (good-aes.pfx). What only a real Windows server proves (store_pending.c
 * says it too): certreq's and the MMC's own entries (their extra properties, CNG keys
 * in the Software Key Storage Provider), machine key ACLs, and that certreq -accept
 * accepts an entry the undo put back. Under Wine every PKCS#12 import shares one key
 * container, so each test plants its entry after any other import it makes. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <wincrypt.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "bindings.h"
#include "load.h"
#include "pfx.h"
#include "platform.h"
#include "policy.h"
#include "win/store.h"

#include "store_fx_win.h"

#define REQ L"REQUEST"
#define HOST "board.example.test"

/* ---- the request's entry, as certreq -new leaves it ---------------------------------- */

/* A self-signed certificate for HOST with keyfile's key (DER, OPENSSL_free). */
static int placeholder(const char *keyfile, unsigned char **der) {
  EVP_PKEY *key = NULL;
  X509 *x = X509_new();
  X509_NAME *n = X509_NAME_new();
  cs_err_t err;
  int len = 0;
  *der = NULL;
  CHECK_INT(cs_load_key_file(cs_test_path(keyfile), 1 << 20, NULL, &key, &err), ==, 0);
  if (key != NULL && x != NULL && n != NULL && X509_set_version(x, 2) &&
      ASN1_INTEGER_set(X509_get_serialNumber(x), 0x5eed) && X509_gmtime_adj(X509_getm_notBefore(x), 0) &&
      X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 30) &&
      X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)HOST, -1, -1, 0) &&
      X509_set_subject_name(x, n) && X509_set_issuer_name(x, n) && X509_set_pubkey(x, key) &&
      X509_sign(x, key, EVP_sha256()) > 0)
    len = i2d_X509(x, der);
  CHECK(len > 0);
  X509_NAME_free(n);
  X509_free(x);
  EVP_PKEY_free(key);
  return len;
}

/* The key link of pfx's leaf once its key is imported into the machine key set (free()):
 * how certreq links its placeholder to the key it made. The spec and the machine flag as
 * certreq gives a machine request's key (Wine's import writes neither). */
static CRYPT_KEY_PROV_INFO *imported_link(const char *pfx) {
  unsigned char *data = NULL;
  size_t len = 0;
  CRYPT_DATA_BLOB blob;
  HCERTSTORE s = NULL;
  PCCERT_CONTEXT c = NULL;
  CRYPT_KEY_PROV_INFO *kp = NULL;
  CHECK_INT(cs_plat_read_file(cs_test_path(pfx), 1 << 20, 0, &data, &len, NULL), ==, 0);
  blob.cbData = (DWORD)len;
  blob.pbData = data;
  CHECK((s = PFXImportCertStore(&blob, L"" PASS, CRYPT_MACHINE_KEYSET)) != NULL);
  while (s != NULL && kp == NULL && (c = CertEnumCertificatesInStore(s, c)) != NULL)
    kp = key_of(c);
  CHECK(kp != NULL);
  if (kp != NULL) {
    kp->dwKeySpec = AT_KEYEXCHANGE;
    kp->dwFlags |= CRYPT_MACHINE_KEYSET;
  }
  if (c != NULL)
    CertFreeCertificateContext(c);
  if (s != NULL)
    CertCloseStore(s, 0);
  cs_plat_free_file(data, len);
  return kp;
}

/* Adds der to LocalMachine\REQUEST linked to kp (none when NULL), committed; its
 * thumbprint in tp. */
static void add_request(const unsigned char *der, int len, const CRYPT_KEY_PROV_INFO *kp, char tp[41]) {
  HCERTSTORE s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, REQ);
  PCCERT_CONTEXT added = NULL;
  tp[0] = '\0';
  CHECK(s != NULL && CertAddEncodedCertificateToStore(s, ENC, der, (DWORD)len, CERT_STORE_ADD_NEW, &added));
  /* on the context the add returned: Wine keeps no property set through another */
  if (added != NULL && kp != NULL)
    CHECK(CertSetCertificateContextProperty(added, CERT_KEY_PROV_INFO_PROP_ID, 0, kp));
  CHECK(added != NULL && cs__store_tp(added, tp));
  CHECK(s != NULL && CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
  if (added != NULL)
    CertFreeCertificateContext(added);
  if (s != NULL)
    CertCloseStore(s, 0);
}

/* The request certreq -new leaves for leaf.key's key: its placeholder's thumbprint in tp,
 * its link (free()) returned. */
static CRYPT_KEY_PROV_INFO *plant(char tp[41]) {
  unsigned char *der = NULL;
  CRYPT_KEY_PROV_INFO *kp = imported_link("good-aes.pfx");
  int len = placeholder("leaf.key", &der);
  add_request(der, len, kp, tp);
  OPENSSL_free(der);
  return kp;
}

/* The DER of a test PKI file's leaf (OPENSSL_free). */
static int der_of(const char *file, unsigned char **der) {
  cs_bundle_t b;
  int n = 0;
  *der = NULL;
  if (load(file, &b))
    n = i2d_X509(b.leaf, der);
  cs_bundle_free(&b);
  CHECK(n > 0);
  return n;
}

/* Both links name the same key (container, provider, type, spec, flags). */
static int same_link(const CRYPT_KEY_PROV_INFO *a, const CRYPT_KEY_PROV_INFO *b) {
  return a != NULL && b != NULL && a->pwszContainerName != NULL && b->pwszContainerName != NULL &&
         wcscmp(a->pwszContainerName, b->pwszContainerName) == 0 && a->pwszProvName != NULL &&
         b->pwszProvName != NULL && wcscmp(a->pwszProvName, b->pwszProvName) == 0 && a->dwProvType == b->dwProvType &&
         a->dwKeySpec == b->dwKeySpec && a->dwFlags == b->dwFlags;
}

/* The link tp in LocalMachine\<store> has (free()), NULL when none or not there. */
static CRYPT_KEY_PROV_INFO *link_in(const wchar_t *store, const char *tp) {
  PCCERT_CONTEXT c = find(store, tp);
  CRYPT_KEY_PROV_INFO *kp = key_of(c);
  if (c != NULL)
    CertFreeCertificateContext(c);
  return kp;
}

/* The key container kp names is still there (opened, not created): in the machine key
 * set, or where Wine's import put it (among the user's keys: it loses the machine flag). */
static int key_there(const CRYPT_KEY_PROV_INFO *kp) {
  HCRYPTPROV h = 0;
  if (kp == NULL || (!CryptAcquireContextW(&h, kp->pwszContainerName, kp->pwszProvName, kp->dwProvType,
                                           CRYPT_SILENT | (kp->dwFlags & CRYPT_MACHINE_KEYSET)) &&
                     !CryptAcquireContextW(&h, kp->pwszContainerName, kp->pwszProvName, kp->dwProvType, CRYPT_SILENT)))
    return 0;
  CryptReleaseContext(h, 0);
  return 1;
}

/* current-later.pem (leaf.key's public key, no key in the file) staged key-less for
 * the request tp, as the worker stages it; its thumbprint in new_tp. */
static void stage_pending(const fx_t *f, const char *tp, char new_tp[41]) {
  cs_bundle_t b;
  cs_err_t err;
  new_tp[0] = '\0';
  if (!load("current-later.pem", &b))
    return;
  CHECK_INT(cs_x509_thumbprint(b.leaf, new_tp), ==, 0);
  put_certs(f->stage, &b);
  CHECK_INT(cs_pfx_stage_pending(f->stage, tp, &err), ==, 0);
  cs_bundle_free(&b);
}

/* The state every test starts from and leaves: neither the placeholder nor the
 * certificate in the stores. */
static void clean(const char *req_tp, const char *new_tp) {
  if (req_tp != NULL && req_tp[0])
    purge(REQ, req_tp);
  if (new_tp != NULL && new_tp[0])
    purge(L"My", new_tp);
}

/* ---- tests ----------------------------------------------------------------------------- */

/* The look-up the worker makes: found by public key, with its key; not for another key. */
CS_TEST(pending_finds_the_request_by_its_public_key) {
  CRYPT_KEY_PROV_INFO *kp;
  unsigned char *der = NULL;
  char req_tp[41], tp[41] = "x", why[512] = "x";
  cs_err_t err;
  int len;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  len = der_of("current-later.pem", &der);
  /* nothing pending: a Wine prefix may not even have the store yet */
  CHECK_INT(cs_plat_store_pending(der, (size_t)len, tp, why, sizeof why, &err), ==, 0);
  CHECK_STR(tp, "");
  CHECK_STR(why, "");
  kp = plant(req_tp);
  CHECK_INT(cs_plat_store_pending(der, (size_t)len, tp, why, sizeof why, &err), ==, 1);
  CHECK_STR(tp, req_tp);
  OPENSSL_free(der);
  /* another key: none */
  len = der_of("bad-rsa1024.pem", &der);
  CHECK_INT(cs_plat_store_pending(der, (size_t)len, tp, why, sizeof why, &err), ==, 0);
  CHECK_STR(tp, "");
  CHECK_STR(why, "");
  CHECK_INT(cs_plat_store_pending((const unsigned char *)"junk", 4, tp, why, sizeof why, &err), ==, CS_EFORMAT);
  OPENSSL_free(der);
  clean(req_tp, NULL);
  free(kp);
  fx_close(&f);
}

/* An entry with the certificate's public key that cannot serve: no key linked, or a
 * link to a container that is not there. Not pending, and why says so. */
CS_TEST(pending_says_why_an_entry_cannot_serve) {
  static wchar_t missing[] = L"certsteward-test-no-such-request-key";
  CRYPT_KEY_PROV_INFO *kp, gone;
  unsigned char *der = NULL, *ph = NULL;
  char req_tp[41], tp[41], why[512];
  cs_err_t err;
  int len, ph_len;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  len = der_of("current-later.pem", &der);
  ph_len = placeholder("leaf.key", &ph);
  add_request(ph, ph_len, NULL, req_tp);
  CHECK_INT(cs_plat_store_pending(der, (size_t)len, tp, why, sizeof why, &err), ==, 0);
  CHECK_CONTAINS(why, "LocalMachine\\REQUEST holds the request made on this machine for its key");
  CHECK_CONTAINS(why, req_tp);
  CHECK_CONTAINS(why, "no private key is linked to it");
  clean(req_tp, NULL);
  if ((kp = imported_link("good-aes.pfx")) != NULL) {
    gone = *kp;
    gone.pwszContainerName = missing;
    add_request(ph, ph_len, &gone, req_tp);
    CHECK_INT(cs_plat_store_pending(der, (size_t)len, tp, why, sizeof why, &err), ==, 0);
    CHECK_CONTAINS(why, "cannot be opened");
    CHECK_STR(tp, "");
    clean(req_tp, NULL);
  }
  free(kp);
  OPENSSL_free(ph);
  OPENSSL_free(der);
  fx_close(&f);
}

/* Install joins the certificate to the request's key and removes the entry; the undo
 * takes the certificate out of My, never the key, and puts the entry back with its
 * link, so that it can be accepted again. */
CS_TEST(install_pairs_and_undo_puts_the_request_back) {
  CRYPT_KEY_PROV_INFO *kp, *k_new, *k_back;
  char req_tp[41], new_tp[41], where[64], line[64], tp[41], why[256], path[MAX_PATH + 32];
  unsigned char *der = NULL;
  cs_err_t err;
  int len;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("current-later.pem", new_tp);
  clean(NULL, new_tp);
  kp = plant(req_tp);
  stage_pending(&f, req_tp, new_tp);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  /* My: the certificate, linked to the request's key; REQUEST: the entry gone */
  k_new = link_in(L"My", new_tp);
  CHECK(same_link(k_new, kp));
  CHECK(!in_store(REQ, req_tp));
  snprintf(line, sizeof line, "pending %s\n", req_tp);
  CHECK(manifest_says(f.backup, line));
  snprintf(path, sizeof path, "%s\\%s", f.backup, CS__STORE_REQUEST_SAVED);
  CHECK(cs_plat_exists(path));
  CHECK_INT(cs_plat_store_paired(f.backup, where, sizeof where), ==, 1);
  CHECK_STR(where, "LocalMachine\\REQUEST");
  /* undo: the certificate gone, the key not, the entry back with its link */
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(!in_store(L"My", new_tp));
  CHECK(key_there(kp));
  k_back = link_in(REQ, req_tp);
  CHECK(same_link(k_back, kp));
  /* so it can be accepted again: the look-up finds it, with its key */
  len = der_of("current-later.pem", &der);
  CHECK_INT(cs_plat_store_pending(der, (size_t)len, tp, why, sizeof why, &err), ==, 1);
  CHECK_STR(tp, req_tp);
  /* again (a recovery after a crash): nothing more changes */
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  CHECK(in_store(REQ, req_tp) && !in_store(L"My", new_tp));
  OPENSSL_free(der);
  clean(req_tp, new_tp);
  free(k_back);
  free(k_new);
  free(kp);
  fx_close(&f);
}

/* The states a crash during install can leave, in its order: the manifest and the
 * saved entry written, nothing changed yet; the certificate in My too; (the entry
 * removed: install done). The same undo puts each back. */
CS_TEST(undo_after_a_crash_at_each_step) {
  CRYPT_KEY_PROV_INFO *kp, *k_back;
  unsigned char *saved = NULL;
  size_t saved_len = 0;
  char req_tp[41], new_tp[41];
  HCERTSTORE s;
  cs_err_t err;
  int step;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("current-later.pem", new_tp);
  clean(NULL, new_tp);
  kp = plant(req_tp);
  for (step = 0; step < 3; step++) {
    (void)cs_plat_remove_tree(f.backup, NULL);
    stage_pending(&f, req_tp, new_tp);
    CHECK_INT(install(&f, f.backup, &err), ==, 0);
    if (step < 2) { /* the entry not removed yet: as it was saved */
      CHECK_INT(cs__store_read(f.backup, CS__STORE_REQUEST_SAVED, &saved, &saved_len, &err), ==, 0);
      s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, REQ);
      CHECK(s != NULL && CertAddSerializedElementToStore(s, saved, (DWORD)saved_len, CERT_STORE_ADD_NEW, 0,
                                                         CERT_STORE_CERTIFICATE_CONTEXT_FLAG, NULL, NULL));
      CHECK(s != NULL && CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
      if (s != NULL)
        CertCloseStore(s, 0);
      cs_plat_free_file(saved, saved_len);
      CHECK(in_store(REQ, req_tp));
    }
    if (step < 1) /* nor the certificate added */
      purge(L"My", new_tp);
    CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
    CHECK(!in_store(L"My", new_tp));
    k_back = link_in(REQ, req_tp);
    CHECK(same_link(k_back, kp));
    free(k_back);
    CHECK(key_there(kp));
  }
  clean(req_tp, new_tp);
  free(kp);
  fx_close(&f);
}

/* Install refuses, changing nothing, when the entry is gone or is for another key; an
 * install of a PKCS#12 pairs nothing. */
CS_TEST(install_refuses_a_request_no_longer_there) {
  CRYPT_KEY_PROV_INFO *kp;
  unsigned char *ph = NULL;
  char req_tp[41], new_tp[41], other_tp[41], where[64] = "x", path[MAX_PATH + 32];
  cs_err_t err;
  int ph_len;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("current-later.pem", new_tp);
  clean(NULL, new_tp);
  kp = plant(req_tp);
  purge(REQ, req_tp);
  stage_pending(&f, req_tp, new_tp);
  CHECK_INT(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, req_tp);
  CHECK_CONTAINS(err.text, "no longer in LocalMachine\\REQUEST");
  CHECK_CONTAINS(err.text, "certreq -accept");
  snprintf(path, sizeof path, "%s\\manifest", f.backup);
  CHECK(!cs_plat_exists(path));
  CHECK(!in_store(L"My", new_tp));
  /* an entry for another key (bad-rsa1024.pem's) under that name */
  ph_len = placeholder("bad-rsa1024.pem", &ph);
  add_request(ph, ph_len, kp, other_tp);
  stage_pending(&f, other_tp, new_tp);
  CHECK_INT(cs_plat_store_install(&f.cfg, f.stage, f.backup, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "not for the certificate's public key");
  CHECK(!cs_plat_exists(path));
  CHECK(in_store(REQ, other_tp) && !in_store(L"My", new_tp));
  CHECK_INT(cs_plat_store_paired(f.backup, where, sizeof where), ==, 0);
  CHECK_STR(where, "");
  clean(other_tp, NULL);
  /* a PKCS#12 install: nothing paired */
  (void)cs_plat_remove_tree(f.stage, NULL);
  CHECK_INT(cs_plat_mkdirs(f.stage, 0700, &err), ==, 0);
  stage(&f, "good-bundle.pem", NULL, other_tp);
  purge(L"My", other_tp);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  CHECK_INT(cs_plat_store_paired(f.backup, where, sizeof where), ==, 0);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  OPENSSL_free(ph);
  free(kp);
  fx_close(&f);
}

/* ---- the worker's verdict and stage --------------------------------------------------- */

/* current-later.pem as a .cer (no key), the certificate in service bad-rsa1024.pem's (another
 * key): key_match says the key waits in REQUEST, store.txt names the entry, and the store
 * pairs what the worker staged. Without a certificate in service (its own key looked for
 * in My first) the same. */
CS_TEST(worker_joins_a_cer_to_its_pending_key) {
  CRYPT_KEY_PROV_INFO *kp, *k_new;
  unsigned char *info = NULL;
  size_t info_len = 0;
  char req_tp[41], new_tp[41], why[CS_FX_WHY], want[64], path[MAX_PATH + 32];
  cs_err_t err;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("current-later.pem", new_tp);
  clean(NULL, new_tp);
  kp = plant(req_tp);
  CHECK(worker_judge(&f, "current-later.pem", cs_test_path("bad-rsa1024.pem"), why));
  CHECK_CONTAINS(why, "its private key waits in LocalMachine\\REQUEST from the request made on this machine");
  CHECK_CONTAINS(why, req_tp);
  CHECK_CONTAINS(why, "certreq -accept");
  CHECK(!staged(&f, CS_PFX_FILE) && !staged(&f, "key.pem") && staged(&f, "leaf.der"));
  snprintf(path, sizeof path, "%s\\%s", f.stage, CS_PFX_INFO_FILE);
  CHECK_INT(cs_plat_read_file(path, 1 << 20, 0, &info, &info_len, NULL), ==, 0);
  snprintf(want, sizeof want, "pending %s\n", req_tp);
  CHECK_STR((const char *)info, want);
  cs_plat_free_file(info, info_len);
  CHECK_INT(install(&f, f.backup, &err), ==, 0);
  k_new = link_in(L"My", new_tp);
  CHECK(same_link(k_new, kp));
  CHECK(!in_store(REQ, req_tp));
  free(k_new);
  CHECK_INT(cs_plat_store_undo(&f.cfg, f.backup, &err), ==, 0);
  /* no certificate in service: not in My, so its request's key */
  (void)cs_plat_remove_tree(f.stage, NULL);
  CHECK(worker_judge(&f, "current-later.pem", NULL, why));
  CHECK_CONTAINS(why, "waits in LocalMachine\\REQUEST");
  clean(req_tp, new_tp);
  free(kp);
  fx_close(&f);
}

/* A .cer whose key is not pending stays rejected with the reason it had; one whose
 * request's entry cannot serve says that too. */
CS_TEST(worker_rejects_a_cer_whose_key_is_not_pending) {
  unsigned char *ph = NULL;
  char req_tp[41], new_tp[41], why[CS_FX_WHY];
  int ph_len;
  fx_t f;
  fx_open(&f, NULL, NULL, NULL);
  thumbprint_of("current-later.pem", new_tp);
  clean(NULL, new_tp);
  CHECK(!worker_judge(&f, "current-later.pem", cs_test_path("bad-rsa1024.pem"), why));
  CHECK_STR(why, "no key in the file, and the certificate's public key does not match the key in service");
  CHECK(!staged(&f, CS_PFX_INFO_FILE));
  CHECK(!worker_judge(&f, "current-later.pem", NULL, why));
  CHECK_CONTAINS(why, "not in LocalMachine\\My: certsteward has no key for it; drop a PFX file");
  CHECK(strstr(why, "REQUEST") == NULL);
  /* a request for its key, without the key linked */
  ph_len = placeholder("leaf.key", &ph);
  add_request(ph, ph_len, NULL, req_tp);
  CHECK(!worker_judge(&f, "current-later.pem", cs_test_path("bad-rsa1024.pem"), why));
  CHECK_CONTAINS(why, "does not match the key in service; LocalMachine\\REQUEST holds the request");
  CHECK_CONTAINS(why, "no private key is linked to it");
  CHECK(!staged(&f, CS_PFX_INFO_FILE));
  clean(req_tp, NULL);
  OPENSSL_free(ph);
  fx_close(&f);
}
