/* The fixture of tests/unit/test_renewal.c on Windows (see renewal_fx.h): the real
 * LocalMachine\\My, the test PKI's certificates, the connector as a restart command or
 * as a service registered with the SCM. */
#include "renewal_fx.h"

#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <wincrypt.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "load.h"
#include "pfx.h"
#include "platform.h"
#include "policy.h"

#define OLD_FILE "current-ok.pem" /* its key: leaf.key */
#define NEW_FILE "good-bundle.pem"

/* LocalMachine\\My is one store, shared with test_win_store (ctest's resource lock keeps
 * the other users out; the mutex, other tests of this file): one at a time. */
static void lock_store(void) {
  HANDLE m = CreateMutexW(NULL, FALSE, L"Local\\certsteward-test-win-store");
  CHECK(m != NULL && WaitForSingleObject(m, 50000) != WAIT_TIMEOUT);
}

static int load_pki(const char *name, cs_bundle_t *b) {
  cs_err_t err;
  memset(b, 0, sizeof *b);
  CHECK_INT(cs_crypto_init(&err), ==, CS_OK);
  if (cs_load_file(cs_test_path(name), 1 << 20, 0, NULL, b, &err) == CS_OK && b->leaf != NULL)
    return 1;
  cs_test_fail(__FILE__, __LINE__, "%s: %s", name, err.text);
  return 0;
}

/* tp in LocalMachine\\My (crypt32 directly, not the code under test); remove: delete it. */
static int in_my(const char *tp, int remove) {
  BYTE h[20];
  CRYPT_HASH_BLOB blob = {20, h};
  HCERTSTORE s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"MY");
  PCCERT_CONTEXT c = NULL;
  unsigned v;
  int i, found;
  for (i = 0; i < 20; i++) {
    (void)sscanf(tp + 2 * i, "%2x", &v);
    h[i] = (BYTE)v;
  }
  if (s != NULL)
    c = CertFindCertificateInStore(s, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob, NULL);
  if ((found = c != NULL) && remove) /* frees c; Wine's registry store keeps the change once committed */
    CHECK(CertDeleteCertificateFromStore(c) && CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
  else if (c != NULL)
    CertFreeCertificateContext(c);
  if (s != NULL)
    CertCloseStore(s, 0);
  return found;
}

/* The certificate in service put into LocalMachine\\My with its key, as a renewal does. */
static void install_old(fx_t *f) {
  const char *stage = fx_at(f, "oldstage"), *backup = fx_at(f, "oldbackup");
  unsigned char *der = NULL;
  EVP_PKEY *key = NULL;
  cs_bundle_t b;
  cs_err_t err;
  int n;
  if (!load_pki(OLD_FILE, &b))
    return;
  CHECK_INT(cs_load_key_file(cs_test_path("leaf.key"), 1 << 20, NULL, &key, &err), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(stage, 0700, &err), ==, CS_OK);
  n = i2d_X509(b.leaf, &der);
  CHECK(n > 0);
  cs_test_put(cs_test_join(stage, "leaf.der"), der, n > 0 ? (size_t)n : 0);
  cs_test_put_str(cs_test_join(stage, "chain.pem"), "");
  CHECK_INT(cs_pfx_stage(stage, "default", b.leaf, key, b.chain, NULL, &err), ==, CS_OK);
  CHECK_INT(cs_plat_store_install(&f->cfg, stage, backup, &err), ==, CS_OK);
  CHECK(in_my(OLD_TP, 0));
  CHECK_INT(cs_plat_remove_tree(stage, &err), ==, CS_OK);
  CHECK_INT(cs_plat_remove_tree(backup, &err), ==, CS_OK);
  OPENSSL_free(der);
  EVP_PKEY_free(key);
  cs_bundle_free(&b);
}

/* Waits until path exists (want 1) or is gone (want 0), 15 s at most. */
static int wait_file(const char *path, int want) {
  int i;
  for (i = 0; i < 300 && cs_plat_exists(path) != want; i++)
    Sleep(50);
  return cs_plat_exists(path) == want;
}

/* The connector as a service (split plan): cs-testsvc registered with the SCM, its
 * folder the fixture's; it keeps tls.json open while it runs and writes back what it
 * read when it stops (win_testsvc.c's "settings"). Started with the SCM's own calls. */
static int services;

static void service_create(fx_t *f) {
  char exe[1024], image[2048];
  wchar_t wname[96];
  SC_HANDLE scm, svc = NULL;
  CHECK_INT(cs_plat_sibling_path("cs-testsvc", exe, sizeof exe, NULL), ==, CS_OK);
  snprintf(image, sizeof image, "\"%s\" %s \"%s\"", exe, f->service, f->dir);
  cs_test_put_str(fx_at(f, "settings"), fx_at(f, "tls.json"));
  if (!cs_test_service_create(f->service, image, NULL, NULL)) {
    f->service[0] = '\0';
    return;
  }
  MultiByteToWideChar(CP_UTF8, 0, f->service, -1, wname, 96);
  if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) != NULL)
    svc = OpenServiceW(scm, wname, SERVICE_START);
  CHECK(svc != NULL && StartServiceW(svc, 0, NULL));
  CHECK(wait_file(fx_at(f, "running"), 1));
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
}

/* Stops the service (the SCM's own calls) and deletes it. */
static void service_delete(fx_t *f) {
  wchar_t wname[96];
  SC_HANDLE scm, svc = NULL;
  SERVICE_STATUS st;
  if (f->service[0] == '\0')
    return;
  MultiByteToWideChar(CP_UTF8, 0, f->service, -1, wname, 96);
  if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) != NULL)
    svc = OpenServiceW(scm, wname, SERVICE_STOP | SERVICE_QUERY_STATUS);
  if (svc != NULL && ControlService(svc, SERVICE_CONTROL_STOP, &st))
    CHECK(wait_file(fx_at(f, "running"), 0));
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  cs_test_service_delete(f->service);
  Sleep(200); /* its process ends after it reported STOPPED, its files closed */
}

/* split: the connector is the service above; else the restart command copies tls.json
 * to served, which a probe reads. */
void fx_setup(fx_t *f, int split) {
  char ini[4096], connector[1200];
  unsigned char *data = NULL;
  size_t len = 0;
  cs_bundle_t b;
  cs_err_t err;
  const char *given = getenv("CS_RENEWAL_FX_DIR"); /* a child of a recovery test (test_renewal.c) */
  memset(f, 0, sizeof *f);
  f->split = split;
  if (given == NULL || *given == '\0')
    lock_store(); /* else its parent holds it */
  if (load_pki(OLD_FILE, &b))
    CHECK_INT(cs_x509_thumbprint(b.leaf, OLD_TP), ==, 0);
  cs_bundle_free(&b);
  if (load_pki(NEW_FILE, &b))
    CHECK_INT(cs_x509_thumbprint(b.leaf, NEW_TP), ==, 0);
  cs_bundle_free(&b);
  fx_tls_json(OLD_TP, old_tls, sizeof old_tls);
  if (given != NULL && *given != '\0')
    snprintf(f->dir, sizeof f->dir, "%s", given);
  else
    cs_test_mkdtemp("cs-renewal", f->dir, sizeof f->dir);
  CHECK_INT(cs_plat_mkdirs(fx_at(f, "state"), 0700, &err), ==, CS_OK);
  cs_test_put_str(fx_at(f, "tls.json"), old_tls);
  cs_test_put_str(fx_at(f, "served"), old_tls); /* the connector runs, on the old certificate */
  CHECK_INT(cs_plat_read_file(cs_test_path(NEW_FILE), 1 << 20, 0, &data, &len, &err), ==, CS_OK);
  cs_test_put(fx_at(f, "renewed.pem"), data, len);
  cs_plat_free_file(data, len);
  if (split) { /* a name of its own each time: a deleted service's name may stay taken a while */
    snprintf(f->service, sizeof f->service, "cs-test-%lu-renewal-%d", (unsigned long)GetCurrentProcessId(), ++services);
    snprintf(connector, sizeof connector, "service = %s\n", f->service);
  } else
    snprintf(connector, sizeof connector, "restart_command = copy /y \"%s\" \"%s\" >NUL\n", fx_at(f, "tls.json"),
             fx_at(f, "served"));
  snprintf(ini, sizeof ini,
           "[connector]\nhost = standin.test\naccount =\nendpoints = 127.0.0.1:9\nbinding_files = %s\n"
           "%srestart_timeout = 10\n\n[store]\nstate_dir = %s\nold_certificates = keep\nkey_provider = default\n",
           fx_at(f, "tls.json"), connector, fx_at(f, "state"));
  cs_test_put_str(fx_at(f, "cs.ini"), ini);
  cs_test_setenv("CS_STANDIN_SERVED", fx_at(f, split ? "tls.json" : "served"));
  cs_test_setenv("CS_STANDIN_RUNNING", split ? fx_at(f, "running") : NULL);
  if (split)
    service_create(f);
  fx_open_events(f);
  fx_load(f);
  (void)in_my(NEW_TP, 1); /* left by a test that failed */
  install_old(f);
}

/* The old certificate in service, the binding file byte for byte, nothing of the new one. */
void fx_old_in_service(const fx_t *f) {
  cs_test_file_is_str(fx_at(f, "tls.json"), old_tls);
  if (f->split) /* it runs (on tls.json, which it read at its start) */
    CHECK(cs_plat_exists(fx_at(f, "running")));
  else
    cs_test_file_is_str(fx_at(f, "served"), old_tls);
  CHECK(in_my(OLD_TP, 0));
  CHECK(!in_my(NEW_TP, 0));
  fx_no_transaction_left(f);
}

void fx_new_in_service(const fx_t *f) {
  char want[512];
  fx_tls_json(NEW_TP, want, sizeof want);
  cs_test_file_is_str(fx_at(f, "tls.json"), want);
  if (f->split)
    CHECK(cs_plat_exists(fx_at(f, "running")));
  else
    cs_test_file_is_str(fx_at(f, "served"), want);
  CHECK(in_my(NEW_TP, 0));
  fx_no_transaction_left(f);
}

void fx_platform_teardown(fx_t *f) {
  service_delete(f);
  (void)in_my(NEW_TP, 1);
  (void)in_my(OLD_TP, 1);
  CHECK(!in_my(NEW_TP, 0) && !in_my(OLD_TP, 0));
}
