/* The certificate request for the automatic renewal (common/csr.c): made with a request
 * key of each kind (platform.h) and read back with OpenSSL, its signature checked with the
 * key's public half and its names and extensions read one by one; bad names refused; the
 * names of the certificate in service. The keys themselves and CNG's blobs: test_reqkey.c.
 * Under Wine (the Windows build's tests) ncrypt makes RSA keys in memory only and no
 * ECDSA key (NTE_NOT_SUPPORTED), and opens none again: what the tests claim there is said
 * at each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cs_test.h"
#include "csr.h"
#include "csr_fx.h"
#include "platform.h"

#define HOST "board.example.test"

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
  const cs_config_t *cfg = csr_setup();
  cs_err_t err;
  int rsa = kind != CS_KEYKIND_EC_P256, rc;

  rc = cs_plat_reqkey_make(cfg, "req-1", kind, &k, &err);
  if (csr_under_wine() && kind == CS_KEYKIND_EC_P256) {
    /* Wine's ncrypt creates no ECDSA key: refused, and said so; real Windows makes it */
    CHECK_INT(rc, <, 0);
    CHECK(k == NULL);
    CHECK_CONTAINS(err.text, "certsteward-req-1");
    csr_teardown();
    return;
  }
  CHECK_INT(rc, ==, CS_OK);
  if (rc != CS_OK) {
    fprintf(stderr, "%s\n", err.text);
    csr_teardown();
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
  if (!csr_under_wine()) /* Wine's ncrypt opens no key, so deletes none */
    CHECK_INT(cs_plat_reqkey_delete(cfg, "req-1", &err), ==, CS_OK);
  csr_teardown();
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
  const cs_config_t *cfg = csr_setup();
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
  if (!csr_under_wine())
    CHECK_INT(cs_plat_reqkey_delete(cfg, "plain", &err), ==, CS_OK);
  csr_teardown();
}

/* The placeholder a request leaves where Windows pairs a returned certificate: a
 * self-signed certificate for the host carrying the key's public half, its signature
 * made by the key (verified with it), its issuer itself */
CS_TEST(placeholder_is_self_signed_by_the_key) {
  cs_plat_reqkey_t *k = NULL;
  unsigned char *der = NULL;
  const unsigned char *p;
  size_t len = 0;
  X509 *x = NULL;
  char cn[256];
  const cs_config_t *cfg = csr_setup();
  cs_err_t err;
  CHECK_INT(cs_plat_reqkey_make(cfg, "holder", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  CHECK_INT(cs_csr_placeholder(HOST, k, &der, &len, &err), ==, CS_OK);
  p = der;
  x = der != NULL ? d2i_X509(NULL, &p, (long)len) : NULL;
  CHECK(x != NULL);
  if (x != NULL) {
    CHECK_INT(X509_verify(x, cs_plat_reqkey_public(k)), ==, 1);
    CHECK(EVP_PKEY_eq(X509_get0_pubkey(x), cs_plat_reqkey_public(k)) == 1);
    CHECK_INT(X509_check_issued(x, x), ==, X509_V_OK);
    CHECK(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0);
    CHECK_STR(cn, HOST);
  }
  X509_free(x);
  free(der);
  /* a host that is no DNS name: nothing made */
  CHECK_INT(cs_csr_placeholder("bad host", k, &der, &len, &err), ==, CS_EINVAL);
  cs_plat_reqkey_free(k);
  if (!csr_under_wine())
    CHECK_INT(cs_plat_reqkey_delete(cfg, "holder", &err), ==, CS_OK);
  csr_teardown();
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
  const cs_config_t *cfg = csr_setup();
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
  if (!csr_under_wine())
    CHECK_INT(cs_plat_reqkey_delete(cfg, "names", &err), ==, CS_OK);
  csr_teardown();
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
  const cs_config_t *cfg = csr_setup();
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
  csr_teardown();
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
