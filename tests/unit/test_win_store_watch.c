/* What certsteward reads of LocalMachine\My to adopt a renewal made there (common/win/
 * store_watch.c, store_key.c, store_list.c), against Wine's real crypt32 and registry in
 * the test run's private prefix: change notifications (an import and a removal by
 * another process, the end of a watch, a watch whose key goes away), whether a
 * certificate's linked key is its own, and the renewal link. Certificates are put in
 * and taken out through crypt32 directly or cs-certtool, not through the code under
 * test.
 *
 * What Wine does not prove (store_key.c, store_watch.c say why): keys are linked to
 * this user's key set here, because Wine's CryptAcquireCertificatePrivateKey looks for a
 * machine key among the user's keys and never returns a CNG key; the machine keys and
 * CNG keys of a real server, the provider loaded for a smart card or HSM, and the
 * registry's signal when a watched key itself is deleted are proven on Windows only. */
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <wincrypt.h>

#include <openssl/x509.h>

#include "load.h"
#include "platform.h"
#include "policy.h"
#include "win/store.h"

#define ENC (X509_ASN_ENCODING | PKCS_7_ASN_ENCODING)
#define PASS "demo-pass"
#define WAIT_MS 20000 /* a bound on a wait for the registry's signal, not a goal */
#define QUIET_MS 1500 /* how long nothing must come for "no call" */
#define SCRATCH L"Software\\certsteward-test-store-watch"

/* ---- fixture ------------------------------------------------------------------- */

/* LocalMachine\My is shared with test_win_store (and ctest runs tests side by side):
 * one at a time, released when the process ends. */
static void lock_store(void) {
  HANDLE m = CreateMutexW(NULL, FALSE, L"Local\\certsteward-test-win-store");
  CHECK(m != NULL && WaitForSingleObject(m, 50000) != WAIT_TIMEOUT);
}

/* What a watch's callback saw: how many calls, each one signalling ev; with block
 * set, the first call waits for go after signalling entered (a change made meanwhile
 * must still be seen); with stop_w set, the call stops that watch (from cb). */
typedef struct hits_s {
  HANDLE ev, entered, go;
  volatile LONG calls;
  int block;
  cs_plat_store_watch_t *stop_w;
} hits_t;

static void on_change(void *arg) {
  hits_t *h = arg;
  if (InterlockedIncrement(&h->calls) == 1 && h->block) {
    SetEvent(h->entered);
    WaitForSingleObject(h->go, WAIT_MS);
  }
  if (h->stop_w != NULL) {
    cs_plat_store_watch_t *w = h->stop_w;
    h->stop_w = NULL;
    cs_plat_store_watch_stop(w);
  }
  SetEvent(h->ev);
}

static void hits_open(hits_t *h) {
  memset(h, 0, sizeof *h);
  h->ev = CreateEventW(NULL, FALSE, FALSE, NULL);
  h->entered = CreateEventW(NULL, TRUE, FALSE, NULL);
  h->go = CreateEventW(NULL, TRUE, FALSE, NULL);
  CHECK(h->ev != NULL && h->entered != NULL && h->go != NULL);
}

static void hits_close(hits_t *h) {
  CloseHandle(h->ev);
  CloseHandle(h->entered);
  CloseHandle(h->go);
}

static int called(hits_t *h) { return WaitForSingleObject(h->ev, WAIT_MS) == WAIT_OBJECT_0; }

/* Until QUIET_MS pass without a call (the end of a burst), at most 20 rounds. */
static void settle(hits_t *h) {
  int i;
  for (i = 0; i < 20 && WaitForSingleObject(h->ev, QUIET_MS) == WAIT_OBJECT_0; i++)
    ;
}

/* ---- certificates, through crypt32 directly ---------------------------------------- */

static HCERTSTORE open_my(void) {
  HCERTSTORE s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"My");
  CHECK(s != NULL);
  return s;
}

/* The leaf of a test PKI file as DER (OPENSSL_free) and its thumbprint. */
static int der_of(const char *file, unsigned char **der, int *len, char tp[41]) {
  cs_bundle_t b;
  cs_err_t err;
  *der = NULL;
  *len = 0;
  memset(&b, 0, sizeof b);
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  if (cs_load_file(cs_test_path(file), 1 << 20, 0, PASS, &b, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "%s: %s", file, err.text);
    return 0;
  }
  *len = i2d_X509(b.leaf, der);
  CHECK(*len > 0 && cs_x509_thumbprint(b.leaf, tp) == 0);
  cs_bundle_free(&b);
  return *len > 0;
}

/* Removes tp from My, committed (a clean start, whatever an earlier run left). */
static void purge(const char *tp) {
  HCERTSTORE s = open_my();
  PCCERT_CONTEXT c;
  if (s == NULL)
    return;
  if ((c = cs__store_find(s, tp)) != NULL) {
    CHECK(CertDeleteCertificateFromStore(c));
    CHECK(CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
  }
  CertCloseStore(s, 0);
}

/* Adds the leaf of file to My anew, its key link kp (NULL: none) and renewal link (a
 * renewal_len-byte value, NULL: none) set on the context the add returns, committed.
 * Wine saves a store only when something was added to or removed from that handle's
 * view (a replaced certificate or a property set on one already stored is not), hence
 * the purge first and a store opened after it. */
static void add_cert(const char *file, const CRYPT_KEY_PROV_INFO *kp, BYTE *renewal, DWORD renewal_len, char tp[41]) {
  unsigned char *der = NULL;
  int len = 0;
  HCERTSTORE s = NULL;
  PCCERT_CONTEXT c = NULL;
  CRYPT_DATA_BLOB blob;
  if (der_of(file, &der, &len, tp))
    purge(tp);
  if (len <= 0 || (s = open_my()) == NULL) {
    OPENSSL_free(der);
    return;
  }
  CHECK(CertAddEncodedCertificateToStore(s, ENC, der, (DWORD)len, CERT_STORE_ADD_NEW, &c));
  if (c != NULL && kp != NULL)
    CHECK(CertSetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, 0, kp));
  if (c != NULL && renewal != NULL) {
    blob.cbData = renewal_len;
    blob.pbData = renewal;
    CHECK(CertSetCertificateContextProperty(c, CERT_RENEWAL_PROP_ID, 0, &blob));
  }
  CHECK(CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
  CertFreeCertificateContext(c);
  CertCloseStore(s, 0);
  OPENSSL_free(der);
}

/* Imports good-aes.pfx's leaf into My with its key in this user's key set (the one
 * Wine's CryptAcquireCertificatePrivateKey opens); tp: the leaf. *kp: the key link
 * (free()). Wine's import links the key to every certificate of the file, and with
 * dwKeySpec AT_KEYEXCHANGE | AT_SIGNATURE (its provider's PP_KEYSPEC), which names no
 * key: the link is set again as Windows' import makes it, AT_KEYEXCHANGE for RSA. */
static void import_user_pfx(char tp[41], CRYPT_KEY_PROV_INFO **kp) {
  unsigned char *data = NULL, *der = NULL;
  size_t len = 0;
  int der_len = 0;
  CRYPT_DATA_BLOB blob;
  HCERTSTORE pfx = NULL, s = NULL;
  PCCERT_CONTEXT c = NULL, added = NULL;
  *kp = NULL;
  CHECK(der_of("good-aes.pfx", &der, &der_len, tp));
  OPENSSL_free(der);
  purge(tp);
  CHECK_INT(cs_plat_read_file(cs_test_path("good-aes.pfx"), 1 << 20, 0, &data, &len, NULL), ==, 0);
  blob.cbData = (DWORD)len;
  blob.pbData = data;
  CHECK((pfx = PFXImportCertStore(&blob, L"" PASS, CRYPT_USER_KEYSET)) != NULL);
  CHECK(pfx != NULL && (c = cs__store_find(pfx, tp)) != NULL && (*kp = cs__store_key(c)) != NULL);
  if (*kp != NULL && (s = open_my()) != NULL) {
    (*kp)->dwKeySpec = AT_KEYEXCHANGE;
    CHECK(CertAddCertificateContextToStore(s, c, CERT_STORE_ADD_NEW, &added));
    CHECK(added != NULL && CertSetCertificateContextProperty(added, CERT_KEY_PROV_INFO_PROP_ID, 0, *kp));
    CHECK(CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
    CertFreeCertificateContext(added);
    CertCloseStore(s, 0);
  }
  CertFreeCertificateContext(c);
  if (pfx != NULL)
    CertCloseStore(pfx, 0);
  cs_plat_free_file(data, len);
}

/* Deletes the key container kp names (what import_user_pfx made). */
static void delete_key(const CRYPT_KEY_PROV_INFO *kp) {
  HCRYPTPROV p = 0;
  if (kp != NULL)
    CHECK(CryptAcquireContextW(&p, kp->pwszContainerName, kp->pwszProvName, kp->dwProvType,
                               CRYPT_DELETEKEYSET | (kp->dwFlags & CRYPT_MACHINE_KEYSET)));
}

/* The listing's renewal link for tp into renewal; 0 when tp is not listed. */
static int renewal_listed(const char *tp, char renewal[41]) {
  cs_plat_cert_t *v = NULL;
  size_t n = 0, i;
  cs_err_t err;
  int found = 0;
  renewal[0] = '\0';
  CHECK_INT(cs_plat_store_list(NULL, &v, &n, &err), ==, 0);
  for (i = 0; i < n; i++)
    if (strcmp(v[i].tp, tp) == 0) {
      found = 1;
      memcpy(renewal, v[i].renewal, 41);
    }
  cs_plat_store_list_free(v, n);
  return found;
}

/* cs-certtool (next to this program) with up to three arguments; its exit status, its
 * output in out (may be NULL). */
static int certtool(const char *a, const char *b, const char *c, char *out, size_t out_len) {
  char exe[MAX_PATH * 2];
  const char *argv[5];
  cs_run_result_t res;
  cs_err_t err;
  int code;
  if (out != NULL)
    out[0] = '\0';
  if (cs_plat_sibling_path("cs-certtool.exe", exe, sizeof exe, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "cs-certtool: %s", err.text);
    return -1;
  }
  argv[0] = exe;
  argv[1] = a;
  argv[2] = b;
  argv[3] = c;
  argv[4] = NULL;
  if (cs_plat_run(argv, NULL, 0, 60000, 4096, &res, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "cs-certtool %s: %s", a, err.text);
    return -1;
  }
  code = res.exit_code;
  if (out != NULL && res.out != NULL)
    snprintf(out, out_len, "%.*s", (int)strcspn(res.out, "\r\n"), res.out);
  cs_run_result_free(&res);
  return code;
}

/* ---- change notifications ---------------------------------------------------------- */

/* Another process imports a PFX into My, then removes it: each is said; after stop,
 * nothing more is, whatever changes. */
CS_TEST(watch_sees_an_import_and_a_removal_then_stops) {
  char dir[MAX_PATH], pass[MAX_PATH + 16], tp[41] = "", again[41] = "", want[41];
  unsigned char *der = NULL;
  int len = 0;
  cs_plat_store_watch_t *w = NULL;
  cs_err_t err;
  hits_t h;
  LONG n;
  lock_store();
  hits_open(&h);
  cs_test_mkdtemp("watch", dir, sizeof dir);
  snprintf(pass, sizeof pass, "%s\\pass.txt", dir);
  cs_test_put_str(pass, PASS "\n");
  CHECK(der_of("good-aes.pfx", &der, &len, want));
  OPENSSL_free(der);
  purge(want);
  CHECK_INT(cs_plat_store_watch_start(on_change, &h, &w, &err), ==, 0);
  CHECK(w != NULL && !cs_plat_store_watch_failed(w, NULL));
  /* an import (certlm.msc, win-acme, certreq -accept all add a certificate this way) */
  CHECK_INT(certtool("import", cs_test_path("good-aes.pfx"), pass, tp, sizeof tp), ==, 0);
  CHECK_STR(tp, want);
  CHECK(called(&h));
  settle(&h);
  /* a removal */
  CHECK_INT(certtool("remove", tp, NULL, NULL, 0), ==, 0);
  CHECK(called(&h));
  settle(&h);
  CHECK(!cs_plat_store_watch_failed(w, &err));
  /* stopped: no call, though the store changes */
  n = h.calls;
  cs_plat_store_watch_stop(w);
  CHECK_INT(certtool("import", cs_test_path("good-aes.pfx"), pass, again, sizeof again), ==, 0);
  CHECK(WaitForSingleObject(h.ev, QUIET_MS) == WAIT_TIMEOUT);
  CHECK_INT(h.calls, ==, n);
  cs_plat_store_watch_stop(NULL);
  CHECK_INT(cs_plat_store_watch_failed(NULL, &err), ==, 0);
  purge(want);
  (void)cs_plat_remove_tree(dir, NULL);
  hits_close(&h);
}

static void set_value(HKEY k, DWORD v) {
  CHECK(RegSetValueExW(k, L"v", 0, REG_DWORD, (const BYTE *)&v, sizeof v) == ERROR_SUCCESS);
}

/* A watch of a key of the test's own (HKCU\SCRATCH, with a subkey "sub"; *k open on
 * it), for what LocalMachine\My's key must not be put through. block: a change made
 * and its call running, held until h->go. */
static cs_plat_store_watch_t *scratch_open(hits_t *h, int block, HKEY *k) {
  cs_plat_store_watch_t *w = NULL;
  HKEY sub = NULL;
  cs_err_t err;
  lock_store();
  hits_open(h);
  h->block = block;
  (void)RegDeleteTreeW(HKEY_CURRENT_USER, SCRATCH);
  CHECK(RegCreateKeyExW(HKEY_CURRENT_USER, SCRATCH, 0, NULL, 0, KEY_ALL_ACCESS, NULL, k, NULL) == ERROR_SUCCESS);
  CHECK(RegCreateKeyExW(*k, L"sub", 0, NULL, 0, KEY_ALL_ACCESS, NULL, &sub, NULL) == ERROR_SUCCESS);
  RegCloseKey(sub);
  CHECK_INT(cs__store_watch_key(HKEY_CURRENT_USER, SCRATCH, "the test key", on_change, h, &w, &err), ==, 0);
  if (block) {
    set_value(*k, 1);
    CHECK(WaitForSingleObject(h->entered, WAIT_MS) == WAIT_OBJECT_0);
  }
  return w;
}

static void scratch_close(hits_t *h, HKEY k) {
  RegCloseKey(k);
  (void)RegDeleteTreeW(HKEY_CURRENT_USER, SCRATCH);
  hits_close(h);
}

/* A change made while cb runs is said again once cb returns (the next notification
 * is armed before cb is called). */
CS_TEST(watch_sees_a_change_made_while_its_callback_runs) {
  cs_err_t err;
  hits_t h;
  HKEY k;
  cs_plat_store_watch_t *w = scratch_open(&h, 1, &k);
  set_value(k, 2);
  SetEvent(h.go);
  CHECK(called(&h));
  CHECK(called(&h));
  CHECK_INT(h.calls, ==, 2);
  CHECK(!cs_plat_store_watch_failed(w, &err));
  cs_plat_store_watch_stop(w);
  scratch_close(&h, k);
}

/* The watched key deleted while cb runs: the change made meanwhile is still said, once,
 * and the watch then says it has ended, and why; no call after that. */
CS_TEST(watch_says_when_it_ends_by_itself) {
  cs_err_t err;
  hits_t h;
  HKEY k;
  cs_plat_store_watch_t *w = scratch_open(&h, 1, &k);
  /* cb is running: a subkey goes (signalled), then the key itself (none can watch it) */
  CHECK(RegDeleteKeyW(k, L"sub") == ERROR_SUCCESS);
  CHECK(RegDeleteKeyW(HKEY_CURRENT_USER, SCRATCH) == ERROR_SUCCESS);
  CHECK(!cs_plat_store_watch_failed(w, &err));
  SetEvent(h.go);
  CHECK(called(&h)); /* the first call returns */
  CHECK(called(&h)); /* the last one, for the change made while it ran */
  CHECK(cs_plat_store_watch_failed(w, &err));
  CHECK_CONTAINS(err.text, "cannot watch the test key for changes any longer");
  CHECK(err.code != CS_OK && err.raw == ERROR_KEY_DELETED);
  CHECK(WaitForSingleObject(h.ev, QUIET_MS) == WAIT_TIMEOUT);
  CHECK_INT(h.calls, ==, 2);
  cs_plat_store_watch_stop(w);
  scratch_close(&h, k);
}

/* stop called from cb: it returns at once, the watch ends when cb returns. */
CS_TEST(watch_stopped_from_its_own_callback) {
  hits_t h;
  HKEY k;
  h.stop_w = scratch_open(&h, 0, &k);
  set_value(k, 1);
  CHECK(called(&h));
  set_value(k, 2);
  CHECK(WaitForSingleObject(h.ev, QUIET_MS) == WAIT_TIMEOUT);
  CHECK_INT(h.calls, ==, 1);
  scratch_close(&h, k);
}

CS_TEST(watch_refuses_what_it_cannot_watch) {
  cs_plat_store_watch_t *w = NULL;
  cs_err_t err;
  hits_t h;
  lock_store();
  hits_open(&h);
  (void)RegDeleteTreeW(HKEY_CURRENT_USER, SCRATCH);
  CHECK_INT(cs__store_watch_key(HKEY_CURRENT_USER, SCRATCH, "the test key", on_change, &h, &w, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "cannot open the test key to watch it");
  CHECK(w == NULL);
  CHECK_INT(cs_plat_store_watch_start(NULL, NULL, &w, &err), ==, CS_EINVAL);
  CHECK(w == NULL);
  hits_close(&h);
}

/* ---- whether a certificate's key is its own ---------------------------------------- */

CS_TEST(key_matches_its_own_key) {
  CRYPT_KEY_PROV_INFO *kp = NULL;
  char tp[41], why[512] = "x", lower[41];
  cs_err_t err;
  size_t i;
  lock_store();
  import_user_pfx(tp, &kp);
  CHECK_INT(cs_plat_store_key_matches(tp, why, sizeof why, &err), ==, 1);
  CHECK_STR(why, "");
  for (i = 0; i < 41; i++)
    lower[i] = (char)(tp[i] >= 'A' && tp[i] <= 'F' ? tp[i] + 32 : tp[i]);
  CHECK_INT(cs_plat_store_key_matches(lower, why, sizeof why, &err), ==, 1);
  purge(tp);
  delete_key(kp);
  free(kp);
}

CS_TEST(key_matches_says_why_not) {
  static wchar_t missing[] = L"certsteward-test-no-such-container";
  CRYPT_KEY_PROV_INFO *kp = NULL, gone;
  char tp[41], own_tp[41], why[512];
  cs_err_t err;
  lock_store();
  import_user_pfx(own_tp, &kp);
  /* added without a key (a .cer) */
  add_cert("bad-rsa1024.pem", NULL, NULL, 0, tp);
  CHECK_INT(cs_plat_store_key_matches(tp, why, sizeof why, &err), ==, 0);
  CHECK_CONTAINS(why, "no private key is linked to it");
  /* linked to another certificate's key container */
  if (kp != NULL) {
    add_cert("bad-rsa1024.pem", kp, NULL, 0, tp);
    CHECK_INT(cs_plat_store_key_matches(tp, why, sizeof why, &err), ==, 0);
    CHECK_CONTAINS(why, "the private key linked to it is another certificate's");
    CHECK_CONTAINS(why, own_tp);
    /* linked to a container that is not there */
    gone = *kp;
    gone.pwszContainerName = missing;
    add_cert("bad-rsa1024.pem", &gone, NULL, 0, tp);
    CHECK_INT(cs_plat_store_key_matches(tp, why, sizeof why, &err), ==, 0);
    CHECK_CONTAINS(why, "the private key linked to it in ");
    CHECK_CONTAINS(why, " cannot be opened: ");
  }
  /* not in My, not a thumbprint */
  purge(tp);
  CHECK_INT(cs_plat_store_key_matches(tp, why, sizeof why, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, tp);
  CHECK_STR(why, "");
  CHECK_INT(cs_plat_store_key_matches("not-a-thumbprint", why, sizeof why, &err), ==, CS_EINVAL);
  CHECK_INT(cs_plat_store_key_matches(NULL, why, 0, &err), ==, CS_EINVAL);
  purge(own_tp);
  delete_key(kp);
  free(kp);
}

/* ---- the renewal link -------------------------------------------------------------- */

CS_TEST(list_reports_the_renewal_link) {
  BYTE next[20], short_hash[19];
  char old_tp[41], new_tp[41], plain_tp[41], odd_tp[41], renewal[41];
  unsigned char *der = NULL;
  int len = 0, i;
  lock_store();
  CHECK(der_of("good-aes.pfx", &der, &len, new_tp));
  OPENSSL_free(der);
  for (i = 0; i < 20; i++) {
    unsigned v = 0;
    CHECK(sscanf(new_tp + 2 * i, "%2x", &v) == 1);
    next[i] = (BYTE)v;
  }
  memset(short_hash, 0xab, sizeof short_hash);
  /* as the enrollment process leaves it: on the old certificate, the new one's hash */
  add_cert("bad-rsa1024.pem", NULL, next, sizeof next, old_tp);
  add_cert("bad-eku.pem", NULL, NULL, 0, plain_tp);
  add_cert("bad-ku.pem", NULL, short_hash, sizeof short_hash, odd_tp);
  CHECK(renewal_listed(old_tp, renewal));
  CHECK_STR(renewal, new_tp);
  CHECK(renewal_listed(plain_tp, renewal));
  CHECK_STR(renewal, "");
  CHECK(renewal_listed(odd_tp, renewal)); /* not 20 bytes: no SHA-1 hash */
  CHECK_STR(renewal, "");
  purge(old_tp);
  purge(plain_tp);
  purge(odd_tp);
}

/* cs-certtool link, as the end-to-end tests use it: on a certificate already in My. */
CS_TEST(certtool_links_a_stored_certificate) {
  char old_tp[41], new_tp[41], renewal[41];
  unsigned char *der = NULL;
  int len = 0;
  lock_store();
  CHECK(der_of("good-aes.pfx", &der, &len, new_tp));
  OPENSSL_free(der);
  add_cert("bad-rsa1024.pem", NULL, NULL, 0, old_tp);
  CHECK(renewal_listed(old_tp, renewal));
  CHECK_STR(renewal, "");
  CHECK_INT(certtool("link", old_tp, new_tp, NULL, 0), ==, 0);
  CHECK(renewal_listed(old_tp, renewal));
  CHECK_STR(renewal, new_tp);
  purge(old_tp);
  CHECK_INT(certtool("link", old_tp, new_tp, NULL, 0), ==, 1);
  CHECK_INT(certtool("link", new_tp, "xyz", NULL, 0), ==, 2);
}
