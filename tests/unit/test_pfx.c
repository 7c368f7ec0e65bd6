/* The PKCS#12 certsteward hands to Windows (common/pfx.c), read back with OpenSSL:
 * PBE-SHA1-3DES for the shrouded key and the certificates, a SHA-1 MAC, leaf, key
 * and chain inside, the password works; the stage files; and a key-less renewal
 * judged against the public key of the certificate in service (validate.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "cs_test.h"
#include "load.h"
#include "pfx.h"
#include "platform.h"
#include "policy.h"
#include "validate.h"

#define PW "pfx-test-pass"

static int load(const char *name, cs_bundle_t *b) {
  cs_err_t err;
  memset(b, 0, sizeof *b);
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  if (cs_load_file(cs_test_path(name), 1 << 20, 0, "demo-pass", b, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "%s does not load: %s", name, err.text);
    return 0;
  }
  return 1;
}

/* The bag attribute nid of bag as UTF-8 (new, OPENSSL_free), or NULL. */
static char *attr_text(const PKCS12_SAFEBAG *bag, int nid) {
  const ASN1_TYPE *t = PKCS12_SAFEBAG_get0_attr(bag, nid);
  if (t == NULL || t->type != V_ASN1_BMPSTRING)
    return NULL;
  return OPENSSL_uni2utf8(t->value.bmpstring->data, t->value.bmpstring->length);
}

static void check_attr(const PKCS12_SAFEBAG *bag, int nid, const char *want) {
  char *got = attr_text(bag, nid);
  if (want == NULL)
    CHECK(got == NULL);
  else
    CHECK_STR(got, want);
  OPENSSL_free(got);
}

/* What the PKCS#12 der holds, checked against leaf, key and chain and o's names. */
static void check_pfx(const unsigned char *der, size_t len, X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
                      const cs_pfx_opts_t *o) {
  const unsigned char *p = der;
  PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);
  STACK_OF(PKCS7) *safes = NULL;
  STACK_OF(X509) *ca = NULL;
  const ASN1_OBJECT *obj = NULL;
  const X509_ALGOR *alg = NULL;
  EVP_PKEY *got_key = NULL;
  X509 *got_leaf = NULL;
  int i, j, n_certs = 0, n_keys = 0;

  CHECK(p12 != NULL);
  if (p12 == NULL)
    return;
  CHECK_INT(p == der + len, ==, 1);
  /* MAC: HMAC-SHA-1, keyed by the password and by no other */
  CHECK_INT(PKCS12_mac_present(p12), ==, 1);
  PKCS12_get0_mac(NULL, &alg, NULL, NULL, p12);
  X509_ALGOR_get0(&obj, NULL, NULL, alg);
  CHECK_INT(OBJ_obj2nid(obj), ==, NID_sha1);
  CHECK_INT(PKCS12_verify_mac(p12, o->password, -1), ==, 1);
  CHECK_INT(PKCS12_verify_mac(p12, "not-the-password", -1), ==, 0);
  ERR_clear_error();
  /* each bag and its encryption */
  safes = PKCS12_unpack_authsafes(p12);
  CHECK(safes != NULL);
  for (i = 0; i < sk_PKCS7_num(safes); i++) {
    PKCS7 *p7 = sk_PKCS7_value(safes, i);
    STACK_OF(PKCS12_SAFEBAG) *bags = NULL;
    int nid = OBJ_obj2nid(p7->type);
    if (nid == NID_pkcs7_encrypted) {
      X509_ALGOR_get0(&obj, NULL, NULL, p7->d.encrypted->enc_data->algorithm);
      CHECK_INT(OBJ_obj2nid(obj), ==, NID_pbe_WithSHA1And3_Key_TripleDES_CBC);
      bags = PKCS12_unpack_p7encdata(p7, o->password, -1);
    } else {
      CHECK_INT(nid, ==, NID_pkcs7_data);
      bags = PKCS12_unpack_p7data(p7);
    }
    CHECK(bags != NULL);
    for (j = 0; j < sk_PKCS12_SAFEBAG_num(bags); j++) {
      const PKCS12_SAFEBAG *bag = sk_PKCS12_SAFEBAG_value(bags, j);
      if (PKCS12_SAFEBAG_get_nid(bag) == NID_pkcs8ShroudedKeyBag) {
        const X509_SIG *sig = PKCS12_SAFEBAG_get0_pkcs8(bag);
        const X509_ALGOR *kalg = NULL;
        X509_SIG_get0(sig, &kalg, NULL);
        X509_ALGOR_get0(&obj, NULL, NULL, kalg);
        CHECK_INT(OBJ_obj2nid(obj), ==, NID_pbe_WithSHA1And3_Key_TripleDES_CBC);
        CHECK_INT(nid, ==, NID_pkcs7_data); /* the shrouded key is not encrypted twice */
        check_attr(bag, NID_friendlyName, o->key_name);
        check_attr(bag, NID_ms_csp_name, o->csp);
        CHECK(PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID) != NULL);
        n_keys++;
      } else {
        CHECK_INT(PKCS12_SAFEBAG_get_nid(bag), ==, NID_certBag);
        CHECK_INT(nid, ==, NID_pkcs7_encrypted); /* certificates only in the 3DES safe */
        if (PKCS12_SAFEBAG_get0_attr(bag, NID_localKeyID) != NULL)
          check_attr(bag, NID_friendlyName, o->friendly);
        n_certs++;
      }
    }
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  }
  CHECK_INT(n_keys, ==, 1);
  CHECK_INT(n_certs, ==, 1 + (chain != NULL ? sk_X509_num(chain) : 0));
  /* and what an importer gets out of it with the password */
  CHECK_INT(PKCS12_parse(p12, o->password, &got_key, &got_leaf, &ca), ==, 1);
  CHECK(got_leaf != NULL && X509_cmp(got_leaf, leaf) == 0);
  CHECK(got_key != NULL && EVP_PKEY_eq(got_key, key) == 1);
  CHECK_INT(ca != NULL ? sk_X509_num(ca) : 0, ==, chain != NULL ? sk_X509_num(chain) : 0);
  for (i = 0; i < sk_X509_num(chain) && i < sk_X509_num(ca); i++)
    CHECK_INT(X509_cmp(sk_X509_value(ca, i), sk_X509_value(chain, i)), ==, 0);
  ERR_clear_error();
  EVP_PKEY_free(got_key);
  X509_free(got_leaf);
  sk_X509_pop_free(ca, X509_free);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  PKCS12_free(p12);
}

CS_TEST(build_3des_sha1_with_key_and_chain) {
  cs_pfx_opts_t o = {PW, "certsteward 2026-11-27", "certsteward-KEY", CS_PFX_KSP_NAME};
  unsigned char *der = NULL;
  size_t len = 0;
  cs_bundle_t b;
  cs_err_t err;
  if (!load("good-bundle.pem", &b))
    return;
  CHECK_INT(sk_X509_num(b.chain), ==, 1);
  CHECK_INT(cs_pfx_build(b.leaf, b.key, b.chain, &o, &der, &len, &err), ==, 0);
  CHECK(der != NULL && len > 0);
  if (der != NULL)
    check_pfx(der, len, b.leaf, b.key, b.chain, &o);
  cs_pfx_free(der, len);
  /* an EC key, no chain, no names */
  cs_bundle_free(&b);
  if (!load("good-ec.pem", &b))
    return;
  o.friendly = o.key_name = o.csp = NULL;
  CHECK_INT(cs_pfx_build(b.leaf, b.key, NULL, &o, &der, &len, &err), ==, 0);
  if (der != NULL)
    check_pfx(der, len, b.leaf, b.key, NULL, &o);
  cs_pfx_free(der, len);
  cs_bundle_free(&b);
}

/* A leaf read from a PKCS#12 carries that file's friendlyName and localKeyID: the
 * built file has ours, once each (OpenSSL refuses a duplicate attribute). */
CS_TEST(build_from_a_pfx_leaf) {
  static const char *const files[] = {"good-aes.pfx", "good-legacy.pfx"};
  cs_pfx_opts_t o = {PW, "certsteward 2026-11-27", "certsteward-KEY", NULL};
  size_t i;
  for (i = 0; i < sizeof files / sizeof files[0]; i++) {
    unsigned char *der = NULL;
    size_t len = 0;
    cs_bundle_t b;
    cs_err_t err;
    if (!load(files[i], &b))
      return;
    if (cs_pfx_build(b.leaf, b.key, b.chain, &o, &der, &len, &err) != CS_OK)
      cs_test_fail(__FILE__, __LINE__, "%s: %s", files[i], err.text);
    else
      check_pfx(der, len, b.leaf, b.key, b.chain, &o);
    cs_pfx_free(der, len);
    cs_bundle_free(&b);
  }
}

CS_TEST(build_refuses_foreign_key_and_no_password) {
  cs_pfx_opts_t o = {PW, NULL, NULL, NULL};
  unsigned char *der = NULL;
  size_t len = 0;
  cs_bundle_t b;
  cs_err_t err;
  if (!load("bad-keymismatch.pem", &b))
    return;
  CHECK_INT(cs_pfx_build(b.leaf, b.key, b.chain, &o, &der, &len, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "does not belong");
  CHECK(der == NULL && len == 0);
  o.password = NULL;
  CHECK_INT(cs_pfx_build(b.leaf, b.key, b.chain, &o, &der, &len, &err), ==, CS_EINVAL);
  cs_bundle_free(&b);
}

/* Reads dir/name into a new NUL-terminated buffer (free), *len its size; NULL if missing. */
static char *slurp(const char *dir, const char *name, size_t *len) {
  char path[4096];
  unsigned char *data = NULL;
  char *copy = NULL;
  size_t n = 0;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  if (cs_plat_read_file(path, 1 << 20, 0, &data, &n, NULL) != CS_OK)
    return NULL;
  if ((copy = malloc(n + 1)) != NULL) {
    memcpy(copy, data, n);
    copy[n] = '\0';
  }
  cs_plat_free_file(data, n);
  if (len != NULL)
    *len = n;
  return copy;
}

/* The value of "name value" in store.txt text, into out. */
static int info_value(const char *text, const char *name, char *out, size_t len) {
  const char *p = text;
  size_t n = strlen(name);
  for (; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
    if (strncmp(p, name, n) == 0 && p[n] == ' ') {
      snprintf(out, len, "%.*s", (int)strcspn(p + n + 1, "\n"), p + n + 1);
      return 1;
    }
  }
  return 0;
}

static void check_stage(const char *provider, const char *csp) {
  char dir[512], pw[128], container[128], pfx_name[64], prefix[80], tp[41], friendly[32];
  cs_pfx_opts_t o;
  cs_bundle_t b;
  cs_err_t err;
  char *info, *pfx;
  size_t len = 0;
  struct tm tm;

  if (!load("good-bundle.pem", &b))
    return;
  cs_test_mkdtemp("pfx-stage", dir, sizeof dir);
  CHECK_INT(cs_pfx_stage(dir, provider, b.leaf, b.key, b.chain, NULL, &err), ==, 0);
  info = slurp(dir, CS_PFX_INFO_FILE, NULL);
  CHECK(info != NULL);
  if (info == NULL)
    goto out;
  CHECK(info_value(info, "pfx", pfx_name, sizeof pfx_name) && strcmp(pfx_name, CS_PFX_FILE) == 0);
  CHECK(info_value(info, "password", pw, sizeof pw) && strlen(pw) == 32);
  CHECK(!info_value(info, "keyless", prefix, sizeof prefix));
  CHECK_INT(cs_x509_thumbprint(b.leaf, tp), ==, 0);
  snprintf(prefix, sizeof prefix, "certsteward-%s-", tp);
  CHECK(info_value(info, "container", container, sizeof container) && strncmp(container, prefix, strlen(prefix)) == 0 &&
        strlen(container) == strlen(prefix) + 8 && strchr(container, ' ') == NULL);
  CHECK_INT(cs_plat_localtime((long long)time(NULL), &tm), ==, 0);
  strftime(friendly, sizeof friendly, "certsteward %Y-%m-%d", &tm);
  o.password = pw;
  o.friendly = friendly;
  o.key_name = container;
  o.csp = csp;
  if ((pfx = slurp(dir, CS_PFX_FILE, &len)) != NULL)
    check_pfx((const unsigned char *)pfx, len, b.leaf, b.key, b.chain, &o);
  CHECK(pfx != NULL);
  free(pfx);
  free(info);
out:
  cs_plat_remove_tree(dir, NULL);
  cs_bundle_free(&b);
}

CS_TEST(stage_default_names_no_provider) { check_stage("default", NULL); }
CS_TEST(stage_cng_names_the_ksp) { check_stage("cng", CS_PFX_KSP_NAME); }
CS_TEST(stage_capi_names_the_csp) { check_stage("CAPI", CS_PFX_CSP_NAME); }

CS_TEST(stage_capi_refuses_ec_key) {
  char dir[512];
  cs_bundle_t b;
  cs_err_t err;
  if (!load("good-ec.pem", &b))
    return;
  cs_test_mkdtemp("pfx-ec", dir, sizeof dir);
  CHECK_INT(cs_pfx_stage(dir, "capi", b.leaf, b.key, b.chain, NULL, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "RSA keys only");
  CHECK_CONTAINS(err.text, "key_provider");
  CHECK(slurp(dir, CS_PFX_FILE, NULL) == NULL);
  CHECK(slurp(dir, CS_PFX_INFO_FILE, NULL) == NULL);
  /* the same key with the other providers is fine */
  CHECK_INT(cs_pfx_stage(dir, "cng", b.leaf, b.key, b.chain, NULL, &err), ==, 0);
  cs_plat_remove_tree(dir, NULL);
  cs_bundle_free(&b);
}

CS_TEST(stage_keyless_names_the_bound_certificate) {
  static const char tp[] = "0123456789ABCDEF0123456789ABCDEF01234567";
  char dir[512], *info;
  cs_bundle_t b;
  cs_err_t err;
  if (!load("current-later.pem", &b))
    return;
  CHECK(b.key == NULL);
  cs_test_mkdtemp("pfx-keyless", dir, sizeof dir);
  CHECK_INT(cs_pfx_stage(dir, "default", b.leaf, NULL, b.chain, tp, &err), ==, 0);
  info = slurp(dir, CS_PFX_INFO_FILE, NULL);
  CHECK_STR(info, "keyless 0123456789ABCDEF0123456789ABCDEF01234567\n");
  CHECK(slurp(dir, CS_PFX_FILE, NULL) == NULL);
  free(info);
  CHECK_INT(cs_pfx_stage(dir, "default", b.leaf, NULL, b.chain, NULL, &err), ==, CS_EINVAL);
  cs_plat_remove_tree(dir, NULL);
  cs_bundle_free(&b);
}

CS_TEST(stage_pending_names_the_request) {
  char dir[512], *info;
  cs_err_t err;
  cs_test_mkdtemp("pfx-pending", dir, sizeof dir);
  CHECK_INT(cs_pfx_stage_pending(dir, "89ABCDEF0123456789ABCDEF0123456789abcdef", &err), ==, 0);
  info = slurp(dir, CS_PFX_INFO_FILE, NULL);
  CHECK_STR(info, "pending 89ABCDEF0123456789ABCDEF0123456789abcdef\n");
  CHECK(slurp(dir, CS_PFX_FILE, NULL) == NULL);
  free(info);
  CHECK_INT(cs_pfx_stage_pending(dir, "not-a-thumbprint", &err), ==, CS_EINVAL);
  CHECK_INT(cs_pfx_stage_pending(dir, NULL, &err), ==, CS_EINVAL);
  cs_plat_remove_tree(dir, NULL);
}

/* Validates file with the certificate in service current (NULL: none) and no --key;
 * key_in_store and own_key_in_store as given. Returns whether key_match passed (-1
 * when it is missing); *flags: store_key + 2 * own_key; detail: its text. */
static int keyless_judge(const char *file, const char *current, int key_in_store, int own_key_in_store, int *flags,
                         char detail[256]) {
  cs_validate_opts_t vo;
  cs_validate_t v;
  cs_config_t cfg;
  cs_report_t r;
  cs_bundle_t b;
  cs_err_t err;
  const cs_check_t *c;
  char ca[4096], cur[4096];
  int ok = -1;
  memset(&vo, 0, sizeof vo);
  detail[0] = '\0';
  snprintf(ca, sizeof ca, "%s", cs_test_path("ca-chain.pem")); /* cs_test_path: one static buffer */
  if (current != NULL)
    snprintf(cur, sizeof cur, "%s", cs_test_path(current));
  memset(&b, 0, sizeof b);
  CHECK_INT(cs_config_defaults(&cfg), ==, 0);
  vo.host = "board.example.test";
  vo.ca_file = ca;
  vo.current = current != NULL ? cur : NULL;
  vo.key_in_store = key_in_store;
  vo.own_key_in_store = own_key_in_store;
  if (cs_validate_open(&v, &cfg, &vo, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "cs_validate_open: %s", err.text);
    cs_config_free(&cfg);
    return -1;
  }
  *flags = v.store_key + 2 * v.own_key;
  CHECK_INT(cs_report_init(&r, file), ==, 0);
  CHECK_INT(cs_validate_file(&v, cs_test_path(file), 0, &b, &r, NULL), ==, 0);
  if ((c = cs_report_find(&r, CS_CHECK_KEY_MATCH)) != NULL) {
    ok = c->ok;
    snprintf(detail, 256, "%s", c->detail);
  }
  cs_report_free(&r);
  cs_bundle_free(&b);
  cs_validate_close(&v);
  cs_config_free(&cfg);
  return ok;
}

static int keyless_match(const char *file, const char *current, int key_in_store, int *store_key) {
  char detail[256];
  int flags = 0, ok = keyless_judge(file, current, key_in_store, 0, &flags, detail);
  *store_key = flags & 1;
  return ok;
}

CS_TEST(keyless_judged_against_the_current_public_key) {
  int store_key = -1;
  /* current-later.pem: no key, the key of good-leaf.der (in service) */
  CHECK_INT(keyless_match("current-later.pem", "good-leaf.der", 1, &store_key), ==, 1);
  CHECK_INT(store_key, ==, 1);
  /* another key: refused */
  CHECK_INT(keyless_match("current-later.pem", "good-ec.pem", 1, &store_key), ==, 0);
  /* without key_in_store (Linux): no key in service, refused as before */
  CHECK_INT(keyless_match("current-later.pem", "good-leaf.der", 0, &store_key), ==, 0);
  CHECK_INT(store_key, ==, 0);
  /* a file with its own key is judged by that key either way */
  CHECK_INT(keyless_match("good-bundle.pem", "current-ok.pem", 1, &store_key), ==, 1);
}

/* A rollback on Windows: no certificate in service given, so a key-less file is judged
 * by its own key in the store (the store side and the "found" case: test_win_store). */
CS_TEST(keyless_rollback_judged_by_its_own_key_in_the_store) {
  char detail[256];
  int flags = -1;
  /* only without a key in service: with one, the renewal's rule holds */
  CHECK_INT(keyless_judge("current-later.pem", "good-leaf.der", 1, 1, &flags, detail), ==, 1);
  CHECK_INT(flags, ==, 1);
  CHECK_CONTAINS(detail, "matches the key in service");
  /* a key in the file: judged by that key, the store is not asked */
  CHECK_INT(keyless_judge("good-bundle.pem", NULL, 1, 1, &flags, detail), ==, 1);
  CHECK_INT(flags, ==, 2);
  CHECK_CONTAINS(detail, "private key in the file belongs");
  /* no key in the file: the store is asked. current-more-names.pem is never put in a
   * store by any test; POSIX has no store, and says so */
  CHECK_INT(keyless_judge("current-more-names.pem", NULL, 1, 1, &flags, detail), ==, 0);
  CHECK_INT(flags, ==, 2);
#ifdef _WIN32
  CHECK_CONTAINS(detail, "is not in LocalMachine\\My");
  CHECK_CONTAINS(detail, "drop a PFX file");
#else
  CHECK_CONTAINS(detail, "the certificate store cannot be read");
#endif
  /* without own_key_in_store (the worker's check, Linux): refused as before */
  CHECK_INT(keyless_judge("current-more-names.pem", NULL, 1, 0, &flags, detail), ==, 0);
  CHECK_INT(flags, ==, 0);
  CHECK_CONTAINS(detail, "holds no private key");
}

#ifndef _WIN32
CS_TEST(posix_store_list_says_there_is_none) {
  cs_plat_cert_t *certs = (cs_plat_cert_t *)1;
  size_t n = 7;
  cs_err_t err;
  CHECK_INT(cs_plat_store_list(NULL, &certs, &n, &err), ==, CS_EINVAL);
  CHECK(certs == NULL && n == 0);
  CHECK_CONTAINS(err.text, "no certificate store");
  cs_plat_store_list_free(certs, n);
}

CS_TEST(posix_store_has_no_pending_requests) {
  char tp[41] = "x", why[64] = "x", where[64] = "x";
  cs_err_t err;
  CHECK_INT(cs_plat_store_pending((const unsigned char *)"x", 1, tp, why, sizeof why, &err), ==, 0);
  CHECK_STR(tp, "");
  CHECK_STR(why, "");
  CHECK_INT(cs_plat_store_paired("/nonexistent", where, sizeof where), ==, 0);
  CHECK_STR(where, "");
}
#endif
