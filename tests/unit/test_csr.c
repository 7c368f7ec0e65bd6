/* The certificate request for the automatic renewal (common/csr.c) and the request keys
 * (platform.h; common/posix/reqkey.c, common/win/reqkey.c), and the pure conversions of
 * CNG's blobs and signatures (common/cngblob.c) on both builds, with blobs made from
 * OpenSSL keys. Each request is read back with OpenSSL: its signature checked with the
 * key's public half, its names and extensions read one by one.
 * Under Wine (the Windows build's tests), ncrypt keeps a new key in memory only: RSA keys
 * are created, finalized, exported and sign; P-256 keys are refused (NTE_NOT_SUPPORTED);
 * NCryptOpenKey is not supported at all, so nothing made can be opened or deleted again;
 * a second key of the same name is created where Windows answers NTE_EXISTS; the export
 * policy and the security descriptor are kept as properties of the handle and enforced
 * nowhere. What the tests claim there is said at each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#ifdef _WIN32
#include <windows.h>
#include <bcrypt.h>
#include <ncrypt.h>
#include "win/keyacl.h"
#include "win/reqkey.h"
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cngblob.h"
#include "config.h"
#include "cs_test.h"
#include "csr.h"
#include "platform.h"
#include "text.h"

#define HOST "board.example.test"

static cs_config_t cfg_;
static char dir_[512];

/* A configuration whose state folder is a new temp folder; the connector's account is
 * the connector's virtual account (Windows: READ on the key). */
static const cs_config_t *setup(void) {
  CHECK_INT(cs_config_defaults(&cfg_), ==, CS_OK);
  cs_test_mkdtemp("cs-csr", dir_, sizeof dir_);
  free(cfg_.store.state_dir);
  cfg_.store.state_dir = cs_strdup(cs_test_join(dir_, "state"));
  free(cfg_.connector.account);
  cfg_.connector.account = cs_strdup("NT SERVICE\\BOARD Connector Service");
  return &cfg_;
}

static void teardown(void) {
  CHECK_INT(cs_plat_remove_tree(dir_, NULL), ==, CS_OK);
  cs_config_free(&cfg_);
}

static int under_wine(void) {
#ifdef _WIN32
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
#else
  return 0;
#endif
}

static X509_REQ *parse(const char *pem) {
  BIO *bio = BIO_new_mem_buf(pem, -1);
  X509_REQ *req = bio != NULL ? PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  CHECK(req != NULL);
  return req;
}

static X509_EXTENSION *find_ext(STACK_OF(X509_EXTENSION) *exts, const char *oid) {
  ASN1_OBJECT *obj = OBJ_txt2obj(oid, 1);
  int i = X509v3_get_ext_by_OBJ(exts, obj, -1);
  ASN1_OBJECT_free(obj);
  return i >= 0 ? X509v3_get_ext(exts, i) : NULL;
}

/* The request's SAN dNSNames, "," between them. */
static void sans_of(STACK_OF(X509_EXTENSION) *exts, char *buf, size_t len) {
  X509_EXTENSION *ext = find_ext(exts, "2.5.29.17");
  GENERAL_NAMES *gens = ext != NULL ? X509V3_EXT_d2i(ext) : NULL;
  int i;
  buf[0] = '\0';
  CHECK(gens != NULL);
  for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    CHECK_INT(g->type, ==, GEN_DNS);
    if (g->type == GEN_DNS)
      snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
               (const char *)ASN1_STRING_get0_data(g->d.dNSName));
  }
  GENERAL_NAMES_free(gens);
}

/* The template name extension's BMPString as UTF-8 ("" when absent). */
static void template_of(STACK_OF(X509_EXTENSION) *exts, char *buf, size_t len) {
  X509_EXTENSION *ext = find_ext(exts, "1.3.6.1.4.1.311.20.2");
  const ASN1_OCTET_STRING *v = ext != NULL ? X509_EXTENSION_get_data(ext) : NULL;
  const unsigned char *p = v != NULL ? ASN1_STRING_get0_data(v) : NULL;
  ASN1_BMPSTRING *bmp = p != NULL ? d2i_ASN1_BMPSTRING(NULL, &p, ASN1_STRING_length(v)) : NULL;
  unsigned char *utf8 = NULL;
  buf[0] = '\0';
  if (bmp != NULL && ASN1_STRING_to_UTF8(&utf8, bmp) >= 0)
    snprintf(buf, len, "%s", (const char *)utf8);
  CHECK(ext == NULL || bmp != NULL);
  CHECK(ext == NULL || !X509_EXTENSION_get_critical(ext));
  OPENSSL_free(utf8);
  ASN1_BMPSTRING_free(bmp);
}

/* A request made with a new key of kind: verified with the key's public half, CN the
 * host, SANs the host and the others once each (case ignored, order kept), serverAuth,
 * keyUsage as the kind wants (critical), the template's name, SHA-256. */
static void request_for(cs_keykind_t kind) {
  static const char *const dns[] = {"www.example.test", "BOARD.example.test", "api.example.test", "WWW.Example.Test",
                                    "*.apps.example.test"};
  const char *tmpl = "Webserver-Zertifikat-\xc3\xbc"; /* "ü": a BMPString is UTF-16 */
  cs_csr_names_t names = {HOST, dns, sizeof dns / sizeof dns[0], tmpl};
  cs_plat_reqkey_t *k = NULL;
  X509_REQ *req = NULL;
  STACK_OF(X509_EXTENSION) *exts = NULL;
  EXTENDED_KEY_USAGE *eku = NULL;
  ASN1_BIT_STRING *ku = NULL;
  char *pem = NULL, buf[512], cn[128];
  const cs_config_t *cfg = setup();
  cs_err_t err;
  int rsa = kind != CS_KEYKIND_EC_P256, rc;

  rc = cs_plat_reqkey_make(cfg, "req-1", kind, &k, &err);
  if (under_wine() && kind == CS_KEYKIND_EC_P256) {
    /* Wine's ncrypt creates no ECDSA key: refused, and said so; real Windows makes it */
    CHECK_INT(rc, <, 0);
    CHECK(k == NULL);
    CHECK_CONTAINS(err.text, "certsteward-req-1");
    teardown();
    return;
  }
  CHECK_INT(rc, ==, CS_OK);
  if (rc != CS_OK) {
    fprintf(stderr, "%s\n", err.text);
    teardown();
    return;
  }
  CHECK_INT(cs_plat_reqkey_kind(k), ==, kind);
  CHECK_INT(cs_csr_build(&names, k, &pem, &err), ==, CS_OK);
  CHECK_CONTAINS(pem, "-----BEGIN CERTIFICATE REQUEST-----");
  req = parse(pem != NULL ? pem : "");
  if (req != NULL) {
    CHECK_INT(X509_REQ_verify(req, cs_plat_reqkey_public(k)), ==, 1);
    CHECK_INT(EVP_PKEY_eq(X509_REQ_get0_pubkey(req), cs_plat_reqkey_public(k)), ==, 1);
    CHECK_INT(X509_REQ_get_version(req), ==, X509_REQ_VERSION_1);
    CHECK_INT(X509_REQ_get_signature_nid(req), ==, rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256);
    CHECK_INT(X509_NAME_get_text_by_NID(X509_REQ_get_subject_name(req), NID_commonName, cn, sizeof cn), >, 0);
    CHECK_STR(cn, HOST);
    CHECK_INT(X509_NAME_entry_count(X509_REQ_get_subject_name(req)), ==, 1);
    exts = X509_REQ_get_extensions(req);
    sans_of(exts, buf, sizeof buf);
    CHECK_STR(buf, HOST ",www.example.test,api.example.test,*.apps.example.test");
    eku = X509V3_get_d2i(exts, NID_ext_key_usage, NULL, NULL);
    CHECK(eku != NULL && sk_ASN1_OBJECT_num(eku) == 1 && OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)) == NID_server_auth);
    ku = X509V3_get_d2i(exts, NID_key_usage, NULL, NULL);
    CHECK(ku != NULL);
    CHECK_INT(ASN1_BIT_STRING_get_bit(ku, 0), ==, 1);
    CHECK_INT(ASN1_BIT_STRING_get_bit(ku, 2), ==, rsa);
    CHECK_INT(ASN1_BIT_STRING_get_bit(ku, 5), ==, 0);
    CHECK_INT(X509_EXTENSION_get_critical(find_ext(exts, "2.5.29.15")), ==, 1);
    template_of(exts, buf, sizeof buf);
    CHECK_STR(buf, tmpl);
  }
  /* a request changed by one byte no longer verifies: the check above means something */
  if (req != NULL) {
    unsigned char *der = NULL, *p;
    const unsigned char *q;
    int n = i2d_X509_REQ(req, &der);
    X509_REQ *bad;
    CHECK_INT(n, >, 100);
    p = der;
    p[n / 3] ^= 0x01;
    q = der;
    bad = d2i_X509_REQ(NULL, &q, n);
    CHECK(bad == NULL || X509_REQ_verify(bad, cs_plat_reqkey_public(k)) != 1);
    X509_REQ_free(bad);
    OPENSSL_free(der);
  }
  ERR_clear_error();
  ASN1_BIT_STRING_free(ku);
  sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  free(pem);
  cs_plat_reqkey_free(k);
  if (!under_wine()) /* Wine's ncrypt opens no key, so deletes none */
    CHECK_INT(cs_plat_reqkey_delete(cfg, "req-1", &err), ==, CS_OK);
  teardown();
}

CS_TEST(request_rsa2048_verifies_and_carries_the_names) { request_for(CS_KEYKIND_RSA2048); }
CS_TEST(request_rsa3072_verifies_and_carries_the_names) { request_for(CS_KEYKIND_RSA3072); }
CS_TEST(request_ec_p256_verifies_and_carries_the_names) { request_for(CS_KEYKIND_EC_P256); }

/* Without a template, no template extension; a host alone is the only SAN. */
CS_TEST(request_without_template_or_more_names) {
  cs_csr_names_t names = {HOST, NULL, 0, ""};
  cs_plat_reqkey_t *k = NULL;
  X509_REQ *req;
  STACK_OF(X509_EXTENSION) *exts;
  char *pem = NULL, buf[256];
  const cs_config_t *cfg = setup();
  cs_err_t err;
  CHECK_INT(cs_plat_reqkey_make(cfg, "plain", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  CHECK_INT(cs_csr_build(&names, k, &pem, &err), ==, CS_OK);
  req = parse(pem != NULL ? pem : "");
  exts = req != NULL ? X509_REQ_get_extensions(req) : NULL;
  CHECK(find_ext(exts, "1.3.6.1.4.1.311.20.2") == NULL);
  sans_of(exts, buf, sizeof buf);
  CHECK_STR(buf, HOST);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_free(req);
  free(pem);
  cs_plat_reqkey_free(k);
  if (!under_wine())
    CHECK_INT(cs_plat_reqkey_delete(cfg, "plain", &err), ==, CS_OK);
  teardown();
}

/* A bad name: CS_EINVAL naming it (control characters escaped), no request. */
CS_TEST(bad_names_are_refused) {
  static const struct {
    const char *host, *dns, *tmpl, *says;
  } bad[] = {
      {"", NULL, NULL, "no host name"},
      {"board..example.test", NULL, NULL, "board..example.test"},
      {"*.example.test", NULL, NULL, "*.example.test"},     /* the host is no wildcard */
      {"board.example.test.", NULL, NULL, "example.test."}, /* no trailing dot */
      {"-board.example.test", NULL, NULL, "-board"},
      {"board_1.example.test", NULL, NULL, "board_1"},
      {HOST, "www.example.test\n", NULL, "www.example.test\\x0A"},
      {HOST, "a b.example.test", NULL, "a b"},
      {HOST, "", NULL, "\"\""},
      {HOST, "x.*.example.test", NULL, "x.*"},
      {HOST, "l234567890123456789012345678901234567890123456789012345678901234.test", NULL, "l2345"},
      {HOST, NULL, "Web\tServer", "Web\\x09Server"},
      {HOST, NULL, "\xff\xfe", "template"},
      {HOST, NULL, "\xf0\x9f\x94\x92", "template"}, /* outside the BMP: no BMPString holds it */
  };
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = setup();
  cs_err_t err;
  size_t i;
  CHECK_INT(cs_plat_reqkey_make(cfg, "names", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  for (i = 0; k != NULL && i < sizeof bad / sizeof bad[0]; i++) {
    const char *dns[1] = {bad[i].dns};
    cs_csr_names_t names = {bad[i].host, dns, bad[i].dns != NULL, bad[i].tmpl};
    static char untouched[] = "untouched";
    char *pem = untouched;
    CHECK_INT(cs_csr_build(&names, k, &pem, &err), ==, CS_EINVAL);
    CHECK(pem == NULL);
    CHECK_CONTAINS(err.text, bad[i].says);
  }
  {
    char *pem = NULL;
    CHECK_INT(cs_csr_build(NULL, k, &pem, &err), ==, CS_EINVAL);
  }
  cs_plat_reqkey_free(k);
  if (!under_wine())
    CHECK_INT(cs_plat_reqkey_delete(cfg, "names", &err), ==, CS_OK);
  teardown();
}

CS_TEST(dns_name_syntax) {
  CHECK(cs_csr_dns_ok("board", 0));
  CHECK(cs_csr_dns_ok("xn--bcher-kva.example", 0));
  CHECK(cs_csr_dns_ok("a-b.c1.example", 0));
  CHECK(cs_csr_dns_ok("*.example.test", 1));
  CHECK(!cs_csr_dns_ok("*.example.test", 0));
  CHECK(!cs_csr_dns_ok("*", 1));
  CHECK(!cs_csr_dns_ok("*.", 1));
  CHECK(!cs_csr_dns_ok("a.-b.c", 0));
  CHECK(!cs_csr_dns_ok("a.b-.c", 0));
  CHECK(!cs_csr_dns_ok(".a", 0));
  CHECK(!cs_csr_dns_ok("", 0));
  CHECK(!cs_csr_dns_ok(NULL, 0));
  CHECK(!cs_csr_dns_ok("a\x01.b", 0));
  CHECK(!cs_csr_dns_ok("bo\xc3\xa4rd.example", 0)); /* U-labels: the A-label is the DNS name */
}

CS_TEST(key_kinds_parse_and_name) {
  cs_keykind_t k = CS_KEYKIND_RSA2048;
  CHECK_INT(cs_keykind_parse("rsa3072", &k), ==, CS_OK);
  CHECK_INT(k, ==, CS_KEYKIND_RSA3072);
  CHECK_INT(cs_keykind_parse("EC-P256", &k), ==, CS_OK);
  CHECK_INT(k, ==, CS_KEYKIND_EC_P256);
  CHECK_INT(cs_keykind_parse("rsa2048", &k), ==, CS_OK);
  CHECK_INT(k, ==, CS_KEYKIND_RSA2048);
  CHECK_INT(cs_keykind_parse("rsa4096", &k), ==, CS_ECONFIG);
  CHECK_INT(cs_keykind_parse("rsa2048 ", &k), ==, CS_ECONFIG);
  CHECK_INT(cs_keykind_parse("", &k), ==, CS_ECONFIG);
  CHECK_INT(cs_keykind_parse(NULL, &k), ==, CS_ECONFIG);
  CHECK_INT(k, ==, CS_KEYKIND_RSA2048); /* untouched by what was refused */
  CHECK_STR(cs_keykind_name(CS_KEYKIND_EC_P256), "ec-p256");
  CHECK_STR(cs_keykind_name(CS_KEYKIND_RSA2048), "rsa2048");
  CHECK_STR(cs_keykind_name((cs_keykind_t)7), "?");
}

/* A key's name: no path, nothing hidden; refused before anything is made. */
CS_TEST(bad_key_names_are_refused) {
  static const char *const bad[] = {
      "",     ".",       "..",  "../x",      "a/b",
      "a\\b", ".hidden", "a b", "k\xc3\xa4", "0123456789012345678901234567890123456789012345678901234567890123X"};
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = setup();
  cs_err_t err;
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(cs_plat_reqkey_make(cfg, bad[i], CS_KEYKIND_RSA2048, &k, &err), ==, CS_EINVAL);
    CHECK(k == NULL);
    CHECK_CONTAINS(err.text, "cannot name a request key");
    CHECK_INT(cs_plat_reqkey_open(cfg, bad[i], &k, &err), ==, CS_EINVAL);
    CHECK_INT(cs_plat_reqkey_delete(cfg, bad[i], &err), ==, CS_EINVAL);
  }
  CHECK_INT(cs_reqkey_name_check("renewal-2026.11_A", &err), ==, CS_OK);
  CHECK(!cs_plat_exists(cfg->store.state_dir)); /* nothing made */
  teardown();
}

/* ---- the names of the certificate in service ---------------------------------------- */

static X509 *cert_with(const char *cn, const char *san) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  X509 *x = X509_new();
  X509V3_CTX ctx;
  X509_EXTENSION *ext = NULL;
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  if (san != NULL) {
    X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
    CHECK(ext != NULL);
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  CHECK(X509_sign(x, key, EVP_sha256()) > 0);
  EVP_PKEY_free(key);
  return x;
}

CS_TEST(names_of_the_certificate_in_service) {
  X509 *x = cert_with("ignored.example.test",
                      "DNS:board.example.test,IP:10.0.0.1,DNS:WWW.example.test,DNS:www.EXAMPLE.test,DNS:bad_name.test,"
                      "email:a@example.test,DNS:*.apps.example.test");
  cs_csr_dns_t l = {0};
  unsigned char *der = NULL;
  int n;
  cs_err_t err;
  CHECK_INT(cs_csr_x509_names(x, &l, &err), ==, CS_OK);
  CHECK_INT(l.n, ==, 3);
  if (l.n == 3) {
    CHECK_STR(l.v[0], "board.example.test");
    CHECK_STR(l.v[1], "WWW.example.test");
    CHECK_STR(l.v[2], "*.apps.example.test");
  }
  cs_csr_dns_free(&l);
  CHECK(l.v == NULL && l.n == 0);
  /* from DER bytes as the store gives them */
  n = i2d_X509(x, &der);
  CHECK_INT(cs_csr_cert_names(der, (size_t)n, &l, &err), ==, CS_OK);
  CHECK_INT(l.n, ==, 3);
  cs_csr_dns_free(&l);
  CHECK_INT(cs_csr_cert_names(der, 10, &l, &err), ==, CS_EFORMAT);
  OPENSSL_free(der);
  X509_free(x);
  /* no SAN dNSName: the CN, from PEM */
  x = cert_with("legacy.example.test", "IP:10.0.0.2");
  {
    BIO *bio = BIO_new(BIO_s_mem());
    char *pem = NULL;
    long len;
    PEM_write_bio_X509(bio, x);
    len = BIO_get_mem_data(bio, &pem);
    CHECK_INT(cs_csr_cert_names((const unsigned char *)pem, (size_t)len, &l, &err), ==, CS_OK);
    CHECK_INT(l.n, ==, 1);
    if (l.n == 1)
      CHECK_STR(l.v[0], "legacy.example.test");
    cs_csr_dns_free(&l);
    BIO_free(bio);
  }
  X509_free(x);
}

/* ---- CNG's blobs and signatures ------------------------------------------------------ */

static void put_le32(unsigned char *p, unsigned long v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

/* A BCRYPT_RSAPUBLIC_BLOB of key, laid out as Microsoft documents it (new, free()). */
static unsigned char *rsa_blob(EVP_PKEY *key, size_t *len) {
  BIGNUM *n = NULL, *e = NULL;
  unsigned char *b;
  int nb, eb;
  CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
  CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
  nb = BN_num_bytes(n);
  eb = BN_num_bytes(e);
  *len = 24 + (size_t)eb + (size_t)nb;
  b = calloc(1, *len);
  put_le32(b, 0x31415352UL);
  put_le32(b + 4, (unsigned long)BN_num_bits(n));
  put_le32(b + 8, (unsigned long)eb);
  put_le32(b + 12, (unsigned long)nb);
  BN_bn2bin(e, b + 24);
  BN_bn2bin(n, b + 24 + eb);
  BN_free(n);
  BN_free(e);
  return b;
}

CS_TEST(rsa_public_blob_becomes_the_same_key) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), *pub = NULL;
  size_t len;
  unsigned char *b = rsa_blob(key, &len);
  cs_err_t err;
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_OK);
  CHECK_INT(EVP_PKEY_eq(pub, key), ==, 1);
  EVP_PKEY_free(pub);
  /* lengths that do not add up, a private blob's magic, primes announced */
  CHECK_INT(cs_cng_blob_to_pkey(b, len - 1, &pub, &err), ==, CS_EFORMAT);
  CHECK(pub == NULL);
  put_le32(b + 16, 128);
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_EFORMAT);
  put_le32(b + 16, 0);
  put_le32(b + 4, 2047);
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_EFORMAT);
  put_le32(b + 4, 2048);
  put_le32(b, 0x32415352UL); /* BCRYPT_RSAPRIVATE_MAGIC */
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "0x32415352");
  CHECK_INT(cs_cng_blob_to_pkey(b, 3, &pub, &err), ==, CS_EFORMAT);
  free(b);
  EVP_PKEY_free(key);
}

CS_TEST(p256_public_blob_becomes_the_same_key) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *pub = NULL;
  unsigned char point[65], b[8 + 64];
  size_t n = 0;
  cs_err_t err;
  CHECK(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &n) == 1);
  CHECK_INT(n, ==, 65);
  CHECK_INT(point[0], ==, 4);
  put_le32(b, 0x31534345UL);
  put_le32(b + 4, 32);
  memcpy(b + 8, point + 1, 64);
  CHECK_INT(cs_cng_blob_to_pkey(b, sizeof b, &pub, &err), ==, CS_OK);
  CHECK_INT(EVP_PKEY_eq(pub, key), ==, 1);
  EVP_PKEY_free(pub);
  pub = NULL;
  b[8 + 63] ^= 0x01; /* off the curve */
  CHECK_INT(cs_cng_blob_to_pkey(b, sizeof b, &pub, &err), ==, CS_EFORMAT);
  CHECK(pub == NULL);
  b[8 + 63] ^= 0x01;
  put_le32(b + 4, 48); /* a P-384 length in a P-256 blob */
  CHECK_INT(cs_cng_blob_to_pkey(b, sizeof b, &pub, &err), ==, CS_EFORMAT);
  EVP_PKEY_free(key);
}

/* An OpenSSL ECDSA signature taken apart into CNG's r || s, then put together again by
 * cs_cng_ecdsa_der: the result verifies, for 64 signatures (some r or s with high or
 * zero leading bytes among them). */
CS_TEST(ecdsa_r_s_becomes_der_that_verifies) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  const char msg[] = "CertificationRequestInfo";
  int i;
  cs_err_t err;
  for (i = 0; i < 64; i++) {
    unsigned char sig[80], rs[64], *der = NULL;
    const unsigned char *p = sig;
    size_t sig_len = sizeof sig, der_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ECDSA_SIG *s;
    CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1);
    CHECK(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)msg, sizeof msg) == 1);
    EVP_MD_CTX_free(ctx);
    s = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
    CHECK(s != NULL);
    BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32);
    ECDSA_SIG_free(s);
    CHECK_INT(cs_cng_ecdsa_der(rs, sizeof rs, &der, &der_len, &err), ==, CS_OK);
    ctx = EVP_MD_CTX_new();
    CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1);
    CHECK_INT(EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)msg, sizeof msg), ==, 1);
    EVP_MD_CTX_free(ctx);
    free(der);
  }
  {
    unsigned char rs[64] = {0}, *der = NULL;
    size_t der_len = 0;
    CHECK_INT(cs_cng_ecdsa_der(rs, 63, &der, &der_len, &err), ==, CS_EFORMAT);
    CHECK_INT(cs_cng_ecdsa_der(rs, 64, &der, &der_len, &err), ==, CS_EFORMAT); /* r = s = 0 */
    CHECK_INT(cs_cng_ecdsa_der(rs, 0, &der, &der_len, &err), ==, CS_EFORMAT);
    CHECK(der == NULL);
  }
  EVP_PKEY_free(key);
}

/* ---- POSIX: the key file ------------------------------------------------------------- */
#ifndef _WIN32

static const char *state(const char *name) { return cs_test_join(cfg_.store.state_dir, name); }

/* 0600, owned by this user (root), a plain file in request/ of mode 0700, holding the
 * key whose public half the handle gives; an existing request/ of a wider mode is
 * tightened. */
CS_TEST(key_file_is_private_in_a_private_folder) {
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = setup();
  struct stat st;
  cs_err_t err;
  EVP_PKEY *read = NULL;
  FILE *f;
  CHECK_INT(cs_test_mkdir(cfg->store.state_dir), ==, 0);
  CHECK_INT(mkdir(state("request"), 0755), ==, 0);
  CHECK_INT(chmod(state("request"), 0755), ==, 0);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_EC_P256, &k, &err), ==, CS_OK);
  CHECK_STR(cs_plat_reqkey_where(k), state("request/k1.key"));
  CHECK_INT(lstat(state("request/k1.key"), &st), ==, 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  CHECK_INT(st.st_uid, ==, geteuid());
  CHECK_INT(st.st_nlink, ==, 1);
  CHECK_INT(lstat(state("request"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0700);
  CHECK_INT(cs_test_count_entries(state("request")), ==, 1); /* no temp file left */
  f = fopen(state("request/k1.key"), "r");
  CHECK(f != NULL);
  if (f != NULL) {
    read = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
  }
  CHECK(read != NULL && k != NULL && EVP_PKEY_eq(read, cs_plat_reqkey_public(k)) == 1);
  EVP_PKEY_free(read);
  cs_plat_reqkey_free(k);
  teardown();
}

/* A second make of the same name: CS_EEXIST, the first key byte for byte as it was. */
CS_TEST(existing_key_is_never_overwritten) {
  cs_plat_reqkey_t *k = NULL, *k2 = NULL;
  const cs_config_t *cfg = setup();
  cs_err_t err;
  char *before, *after;
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  before = cs_test_read_text(state("request/k1.key"));
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_EC_P256, &k2, &err), ==, CS_EEXIST);
  CHECK(k2 == NULL);
  CHECK_CONTAINS(err.text, "never overwritten");
  after = cs_test_read_text(state("request/k1.key"));
  CHECK(before != NULL && after != NULL && strcmp(before, after) == 0);
  CHECK_INT(cs_test_count_entries(state("request")), ==, 1);
  free(before);
  free(after);
  cs_plat_reqkey_free(k);
  teardown();
}

/* A link at the key's path (to a file, or dangling) is not written through, nor is its
 * target made or changed. */
CS_TEST(link_at_key_path_is_not_followed) {
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = setup();
  cs_err_t err;
  CHECK_INT(cs_plat_mkdirs(state("request"), 0700, &err), ==, CS_OK);
  cs_test_put_str(cs_test_join(dir_, "target"), "not a key");
  CHECK_INT(symlink(cs_test_join(dir_, "target"), state("request/k1.key")), ==, 0);
  CHECK_INT(symlink(cs_test_join(dir_, "made-through-link"), state("request/k2.key")), ==, 0);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(cs_plat_reqkey_make(cfg, "k2", CS_KEYKIND_RSA2048, &k, &err), ==, CS_ENOTREG);
  CHECK(k == NULL);
  cs_test_file_is_str(cs_test_join(dir_, "target"), "not a key");
  CHECK(!cs_plat_exists(cs_test_join(dir_, "made-through-link")));
  /* open refuses it too */
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k, &err), ==, CS_ENOTREG);
  CHECK_INT(cs_test_count_entries(state("request")), ==, 2);
  teardown();
}

/* request/ itself a link to another folder: nothing made there. */
CS_TEST(link_at_request_folder_is_not_followed) {
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = setup();
  cs_err_t err;
  CHECK_INT(cs_test_mkdir(cfg->store.state_dir), ==, 0);
  CHECK_INT(cs_test_mkdir(cs_test_join(dir_, "elsewhere")), ==, 0);
  CHECK_INT(symlink(cs_test_join(dir_, "elsewhere"), state("request")), ==, 0);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_ENOTREG);
  CHECK(k == NULL);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(cs_test_count_entries(cs_test_join(dir_, "elsewhere")), ==, 0);
  CHECK_INT(cs_plat_reqkey_delete(cfg, "k1", &err), ==, CS_ENOTREG);
  teardown();
}

/* Opened again: the same key, which signs what its public half verifies; a key file
 * others can read is refused; delete removes it and the key is then gone. */
CS_TEST(key_opens_signs_and_deletes) {
  cs_plat_reqkey_t *k = NULL, *k2 = NULL;
  const cs_config_t *cfg = setup();
  cs_err_t err;
  unsigned char *sig = NULL;
  size_t sig_len = 0;
  EVP_MD_CTX *ctx;
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_ENOENT);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA3072, &k, &err), ==, CS_OK);
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_OK);
  CHECK(k != NULL && k2 != NULL && EVP_PKEY_eq(cs_plat_reqkey_public(k), cs_plat_reqkey_public(k2)) == 1);
  CHECK_INT(cs_plat_reqkey_kind(k2), ==, CS_KEYKIND_RSA3072);
  CHECK_INT(cs_plat_reqkey_sign(k2, "data", 4, &sig, &sig_len, &err), ==, CS_OK);
  CHECK_INT(sig_len, ==, 384);
  ctx = EVP_MD_CTX_new();
  CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, cs_plat_reqkey_public(k)) == 1);
  CHECK_INT(EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)"data", 4), ==, 1);
  EVP_MD_CTX_free(ctx);
  free(sig);
  cs_plat_reqkey_free(k2);
  k2 = NULL;
  CHECK_INT(chmod(state("request/k1.key"), 0640), ==, 0);
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_EACCES);
  CHECK_INT(cs_plat_reqkey_delete(cfg, "k1", &err), ==, CS_OK);
  CHECK(!cs_plat_exists(state("request/k1.key")));
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_ENOENT);
  CHECK_INT(cs_plat_reqkey_delete(cfg, "k1", &err), ==, CS_OK); /* gone already */
  cs_plat_reqkey_free(k);
  teardown();
}

#endif
