/* The fixture of the Windows certificate store's tests (store_fx_win.h). */
#include "store_fx_win.h"

#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "pfx.h"
#include "policy.h"
#include "reply.h"
#include "validate.h"
#include "worker.h"

/* ---- fixture ------------------------------------------------------------------- */

void lock_store(void) {
  HANDLE m = CreateMutexW(NULL, FALSE, L"Local\\certsteward-test-win-store");
  CHECK(m != NULL && WaitForSingleObject(m, 50000) != WAIT_TIMEOUT);
}

/* A temporary folder and a configuration: thumbprint in service (NULL = none), old
 * certificates keep/delete, key provider; no binding files. */
void fx_open(fx_t *f, const char *tp, const char *old, const char *provider) {
  char ini[2048], path[MAX_PATH + 32];
  cs_err_t err;
  lock_store();
  cs_test_mkdtemp("store", f->dir, sizeof f->dir);
  snprintf(f->stage, sizeof f->stage, "%s\\stage", f->dir);
  snprintf(f->backup, sizeof f->backup, "%s\\backup", f->dir);
  snprintf(f->state, sizeof f->state, "%s\\state", f->dir);
  snprintf(f->archive, sizeof f->archive, "%s\\archive", f->dir);
  snprintf(path, sizeof path, "%s\\certsteward.ini", f->dir);
  snprintf(ini, sizeof ini,
           "[connector]\nthumbprint = %s\nbinding_files =\n[store]\nstate_dir = %s\nold_certificates = %s\n"
           "key_provider = %s\n",
           tp ? tp : "", f->state, old ? old : "keep", provider ? provider : "default");
  if (cs_config_load_mem(&f->cfg, path, (const unsigned char *)ini, strlen(ini), &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "configuration: %s", err.text);
    exit(1);
  }
  CHECK_INT(cs_plat_mkdirs(f->stage, 0700, &err), ==, 0);
}

void fx_close(fx_t *f) {
  cs_config_free(&f->cfg);
  (void)cs_plat_remove_tree(f->dir, NULL);
}

/* ---- crypt32, directly ------------------------------------------------------------ */

static int hash_of(const char *tp, BYTE h[20]) {
  static const char digits[] = "0123456789ABCDEF";
  const char *hi, *lo;
  int i;
  for (i = 0; i < 20; i++) {
    if (tp[2 * i] == '\0' || (hi = strchr(digits, tp[2 * i])) == NULL || tp[2 * i + 1] == '\0' ||
        (lo = strchr(digits, tp[2 * i + 1])) == NULL)
      return 0;
    h[i] = (BYTE)((hi - digits) << 4 | (lo - digits));
  }
  return 1;
}

/* tp in an open store s (free the context), or NULL. */
PCCERT_CONTEXT find_in(HCERTSTORE s, const char *tp) {
  BYTE h[20];
  CRYPT_HASH_BLOB b = {20, h};
  if (!hash_of(tp, h)) {
    cs_test_fail(__FILE__, __LINE__, "not a thumbprint: %s", tp);
    return NULL;
  }
  return CertFindCertificateInStore(s, ENC, 0, CERT_FIND_SHA1_HASH, &b, NULL);
}

/* tp in LocalMachine\<store>, opened anew (free the context), or NULL. */
PCCERT_CONTEXT find(const wchar_t *store, const char *tp) {
  HCERTSTORE s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, store);
  PCCERT_CONTEXT c = NULL;
  CHECK(s != NULL);
  if (s != NULL) {
    c = find_in(s, tp);
    CertCloseStore(s, 0);
  }
  return c;
}

int in_store(const wchar_t *store, const char *tp) {
  PCCERT_CONTEXT c = find(store, tp);
  CertFreeCertificateContext(c);
  return c != NULL;
}

/* The key c is linked to (free()), NULL when none. */
CRYPT_KEY_PROV_INFO *key_of(PCCERT_CONTEXT c) {
  CRYPT_KEY_PROV_INFO *p = NULL;
  DWORD n = 0;
  if (c != NULL && CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n) &&
      (p = malloc(n)) != NULL && !CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, p, &n)) {
    free(p);
    p = NULL;
  }
  return p;
}

/* Removes tp from a store (a clean start, whatever an earlier run left). */
void purge(const wchar_t *store, const char *tp) {
  HCERTSTORE s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, store);
  PCCERT_CONTEXT c;
  CHECK(s != NULL);
  if (s == NULL)
    return;
  if ((c = find_in(s, tp)) != NULL) {
    CHECK(CertDeleteCertificateFromStore(c));
    CHECK(CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL));
  }
  CertCloseStore(s, 0);
  CHECK(!in_store(store, tp));
}

/* ---- test PKI ----------------------------------------------------------------------- */

int load(const char *name, cs_bundle_t *b) {
  cs_err_t err;
  memset(b, 0, sizeof *b);
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  if (cs_load_file(cs_test_path(name), 1 << 20, 0, PASS, b, &err) == CS_OK)
    return 1;
  cs_test_fail(__FILE__, __LINE__, "%s: %s", name, err.text);
  return 0;
}

void thumbprint_of(const char *name, char tp[41]) {
  cs_bundle_t b;
  tp[0] = '\0';
  if (load(name, &b))
    CHECK_INT(cs_x509_thumbprint(b.leaf, tp), ==, 0);
  cs_bundle_free(&b);
}

void put(const char *dir, const char *name, const void *data, size_t len) {
  char path[MAX_PATH + 32];
  cs_err_t err;
  snprintf(path, sizeof path, "%s\\%s", dir, name);
  if (cs_plat_write_atomic(path, data, len, 0600, &err) != CS_OK)
    cs_test_fail(__FILE__, __LINE__, "%s: %s", path, err.text);
}

/* leaf.der and chain.pem of b, as the worker stages them. */
void put_certs(const char *dir, const cs_bundle_t *b) {
  unsigned char *der = NULL;
  BIO *bio = BIO_new(BIO_s_mem());
  char *pem;
  long len;
  int n = i2d_X509(b->leaf, &der), i;
  CHECK(n > 0 && bio != NULL);
  put(dir, "leaf.der", der, (size_t)n);
  for (i = 0; i < sk_X509_num(b->chain); i++)
    CHECK(PEM_write_bio_X509(bio, sk_X509_value(b->chain, i)) == 1);
  len = BIO_get_mem_data(bio, &pem);
  put(dir, "chain.pem", len > 0 ? pem : "", len > 0 ? (size_t)len : 0);
  OPENSSL_free(der);
  BIO_free(bio);
}

/* Stages a test PKI file as the worker does on Windows (cs_pfx_stage); bound_tp
 * not NULL: key-less, sharing that certificate's key. tp: the leaf's thumbprint. */
void stage(const fx_t *f, const char *file, const char *bound_tp, char tp[41]) {
  cs_bundle_t b;
  cs_err_t err;
  tp[0] = '\0';
  if (!load(file, &b))
    return;
  CHECK_INT(cs_x509_thumbprint(b.leaf, tp), ==, 0);
  put_certs(f->stage, &b);
  if (cs_pfx_stage(f->stage, f->cfg.store.key_provider, b.leaf, bound_tp ? NULL : b.key, b.chain, bound_tp, &err) !=
      CS_OK)
    cs_test_fail(__FILE__, __LINE__, "cs_pfx_stage %s: %s", file, err.text);
  cs_bundle_free(&b);
}

/* Stages a PKCS#12 file of the test PKI as it is (password demo-pass). */
void stage_pfx_as_is(const fx_t *f, const char *file, char tp[41]) {
  static const char info[] = "pfx store.pfx\npassword " PASS "\n";
  unsigned char *data = NULL;
  size_t len = 0;
  cs_bundle_t b;
  if (!load(file, &b))
    return;
  CHECK_INT(cs_x509_thumbprint(b.leaf, tp), ==, 0);
  put_certs(f->stage, &b);
  CHECK_INT(cs_plat_read_file(cs_test_path(file), 1 << 20, 0, &data, &len, NULL), ==, 0);
  put(f->stage, CS_PFX_FILE, data, len);
  put(f->stage, CS_PFX_INFO_FILE, info, sizeof info - 1);
  cs_plat_free_file(data, len);
  cs_bundle_free(&b);
}

int install(const fx_t *f, const char *backup, cs_err_t *err) {
  int rc = cs_plat_store_install(&f->cfg, f->stage, backup, err);
  if (rc != CS_OK)
    fprintf(stderr, "install: %s\n", err->text);
  return rc;
}

/* The listing's entry for tp (copied into *out); 0 when not listed. */
int listed(const char *tp, cs_plat_cert_t *out) {
  cs_plat_cert_t *v = NULL;
  size_t n = 0, i;
  cs_err_t err;
  int found = 0;
  if (out != NULL)
    memset(out, 0, sizeof *out);
  CHECK_INT(cs_plat_store_list(NULL, &v, &n, &err), ==, 0);
  for (i = 0; i < n; i++) {
    if (strcmp(v[i].tp, tp) != 0)
      continue;
    found = 1;
    if (out != NULL) {
      *out = v[i];
      out->subject = v[i].subject ? _strdup(v[i].subject) : NULL;
      out->friendly = v[i].friendly ? _strdup(v[i].friendly) : NULL;
    }
  }
  cs_plat_store_list_free(v, n);
  return found;
}

void today(char *buf, size_t len) {
  struct tm tm;
  CHECK_INT(cs_plat_localtime((long long)time(NULL), &tm), ==, 0);
  strftime(buf, len, "certsteward %Y-%m-%d", &tm);
}

/* certsteward-worker validate FILE --stage f->stage [--current current]; 1 when staged;
 * why (not NULL): the key_match check's text. FILE: of the test PKI, or a path. */
int worker_judge(const fx_t *f, const char *file, const char *current, char why[CS_FX_WHY]) {
  const char *exe = getenv("CS_WORKER");
  char ini[4096], ini_path[MAX_PATH + 32], path[MAX_PATH + 32];
  cs_worker_t w;
  cs_reply_t reply;
  cs_err_t err;
  int ok;
  memset(&w, 0, sizeof w);
  if (why != NULL)
    why[0] = '\0';
  if (exe == NULL) {
    cs_test_fail(__FILE__, __LINE__, "CS_WORKER is not set");
    return 0;
  }
  /* a POSIX path from CTest: the same file on Wine's Z: drive */
  snprintf(w.exe, sizeof w.exe, "%s%s", exe[0] == '/' ? "Z:" : "", exe);
  snprintf(ini_path, sizeof ini_path, "%s\\worker.ini", f->dir);
  snprintf(ini, sizeof ini,
           "[connector]\nhost = board.example.test\n[policy]\nca_file = %s\n[store]\nkey_provider = %s\n",
           cs_test_path("ca-chain.pem"), f->cfg.store.key_provider);
  put(f->dir, "worker.ini", ini, strlen(ini));
  w.config_path = ini_path;
  snprintf(path, sizeof path, "%s", strchr(file, '\\') != NULL ? file : cs_test_path(file));
  if (cs_worker_validate(&w, path, current, NULL, f->stage, &reply, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "worker: %s", err.text);
    return 0;
  }
  ok = cs_report_accepted(&reply.report) && reply.staged != NULL;
  if (why != NULL) {
    const cs_check_t *c = cs_report_find(&reply.report, CS_CHECK_KEY_MATCH);
    snprintf(why, CS_FX_WHY, "%s", c != NULL ? c->detail : "");
  }
  cs_reply_free(&reply);
  return ok;
}

int worker_stage(const fx_t *f, const char *file, const char *current) { return worker_judge(f, file, current, NULL); }

int staged(const fx_t *f, const char *name) {
  char path[MAX_PATH + 32];
  snprintf(path, sizeof path, "%s\\%s", f->stage, name);
  return cs_plat_exists(path);
}

/* The store's manifest of backup holds line (e.g. "had_key 1"). */
int manifest_says(const char *backup, const char *line) {
  unsigned char *data = NULL;
  size_t len = 0;
  char path[MAX_PATH + 16];
  int found;
  snprintf(path, sizeof path, "%s\\manifest", backup);
  if (cs_plat_read_file(path, 1 << 20, 0, &data, &len, NULL) != CS_OK)
    return 0;
  found = strstr((const char *)data, line) != NULL;
  cs_plat_free_file(data, len);
  return found;
}

size_t count_my(void) {
  cs_plat_cert_t *v = NULL;
  size_t n = 0;
  cs_err_t err;
  CHECK_INT(cs_plat_store_list(NULL, &v, &n, &err), ==, 0);
  cs_plat_store_list_free(v, n);
  return n;
}