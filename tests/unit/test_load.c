/* Loading every supported format by content, and refusing bad input clearly. */
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cs_test.h"
#include "load.h"
#include "password.h"

#define MIB (1u << 20)

static char *password(const char *file) {
  char *pw = NULL;
  cs_err_t err;
  CHECK_INT(cs_password_read(cs_test_path(file), &pw, &err), ==, 0);
  return pw;
}

/* Loads file with the test password; checks format, key presence and chain length. */
static void expect_load(const char *file, cs_format_t fmt, int has_key, int chain_len) {
  char *pw = password("pass.txt");
  cs_bundle_t b;
  cs_err_t err;
  char cn[256] = "";
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  if (cs_load_file(cs_test_path(file), MIB, 0, pw, &b, &err) != 0) {
    cs_test_fail(__FILE__, __LINE__, "%s: %s", file, err.text);
  } else {
    CHECK_INT(b.format, ==, fmt);
    CHECK_INT(b.key != NULL, ==, has_key);
    CHECK_INT(sk_X509_num(b.chain), ==, chain_len);
    X509_NAME_get_text_by_NID(X509_get_subject_name(b.leaf), NID_commonName, cn, sizeof cn);
    CHECK(strstr(cn, "example.test") != NULL);
    if (has_key)
      CHECK_INT(X509_check_private_key(b.leaf, b.key), ==, 1);
    cs_bundle_free(&b);
  }
  cs_password_free(pw);
}

/* Loading file fails with code and a message containing text. */
static void expect_error(const char *file, const char *pwfile, size_t max, int code, const char *text) {
  char *pw = pwfile ? password(pwfile) : NULL;
  cs_bundle_t b;
  cs_err_t err;
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  cs_err_clear(&err);
  CHECK_INT(cs_load_file(cs_test_path(file), max, 0, pw, &b, &err), ==, code);
  CHECK_CONTAINS(err.text, text);
  CHECK(b.leaf == NULL && b.key == NULL && b.chain == NULL);
  cs_password_free(pw);
}

CS_TEST(pkcs12_aes) { expect_load("good-aes.pfx", CS_FMT_PKCS12, 1, 1); }
CS_TEST(pkcs12_legacy_rc2_3des) { expect_load("good-legacy.pfx", CS_FMT_PKCS12, 1, 1); }
CS_TEST(pem_bundle) { expect_load("good-bundle.pem", CS_FMT_PEM, 1, 1); }
CS_TEST(pem_encrypted_pkcs8) { expect_load("good-enc.pem", CS_FMT_PEM, 1, 1); }
CS_TEST(pem_traditional_rsa) { expect_load("good-trad-rsa.pem", CS_FMT_PEM, 1, 1); }
CS_TEST(pem_traditional_ec) { expect_load("good-ec.pem", CS_FMT_PEM, 1, 1); }
CS_TEST(der_certificate) { expect_load("good-leaf.der", CS_FMT_DER, 0, 0); }
CS_TEST(pkcs7_pem) { expect_load("good-chain.p7b", CS_FMT_PKCS7, 0, 1); }
CS_TEST(pkcs7_der) { expect_load("good-chain-der.p7b", CS_FMT_PKCS7, 0, 1); }

CS_TEST(leaf_found_whatever_the_order) {
  /* a PKCS#7 has no order guarantee: the leaf is the one that issued nothing */
  char *pw = password("pass.txt");
  cs_bundle_t b;
  cs_err_t err;
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  CHECK_INT(cs_load_file(cs_test_path("good-chain.p7b"), MIB, 0, pw, &b, &err), ==, 0);
  CHECK_INT(X509_check_ca(b.leaf), ==, 0);
  CHECK_INT(X509_check_ca(sk_X509_value(b.chain, 0)), !=, 0);
  cs_bundle_free(&b);
  cs_password_free(pw);
}

CS_TEST(password_file_with_bom_and_crlf) {
  char *pw = password("pass-bom-crlf.txt");
  CHECK_STR(pw, "demo-pass");
  cs_password_free(pw);
  expect_error("good-aes.pfx", NULL, MIB, CS_EPASSWORD, "no password is configured");
}

CS_TEST(wrong_pfx_password) { expect_error("good-aes.pfx", "root.pem", MIB, CS_EPASSWORD, "wrong password"); }
CS_TEST(encrypted_key_without_password) {
  expect_error("good-enc.pem", NULL, MIB, CS_EPASSWORD, "no password is configured");
}
CS_TEST(encrypted_key_wrong_password) { expect_error("good-enc.pem", "root.pem", MIB, CS_EPASSWORD, "wrong password"); }

CS_TEST(empty_file) { expect_error("empty.pfx", NULL, MIB, CS_EEMPTY, "empty"); }
CS_TEST(garbage_file) { expect_error("garbage.bin", NULL, MIB, CS_EFORMAT, "not a certificate file"); }
CS_TEST(truncated_pfx) { expect_error("truncated.pfx", "pass.txt", MIB, CS_EFORMAT, "truncated"); }
CS_TEST(over_size_limit) {
  cs_bundle_t b;
  cs_err_t err;
  expect_error("big.pem", NULL, MIB, CS_ETOOBIG, "over the limit");
  /* the same file is fine under a larger limit */
  CHECK_INT(cs_load_file(cs_test_path("big.pem"), 4 * MIB, 0, NULL, &b, &err), ==, 0);
  CHECK(b.key != NULL);
  cs_bundle_free(&b);
}
CS_TEST(missing_file) { expect_error("no-such-file.pem", NULL, MIB, CS_ENOENT, "no-such-file.pem"); }
CS_TEST(folder_refused) { expect_error(".", NULL, MIB, CS_ENOTREG, "not a regular file"); }

CS_TEST(truncated_pem) {
  /* the good bundle cut in the middle of its first certificate */
  unsigned char *data = NULL;
  size_t len;
  cs_bundle_t b;
  cs_err_t err;
  FILE *f = fopen(cs_test_path("good-bundle.pem"), "rb");
  CHECK(f != NULL);
  if (f == NULL)
    return;
  data = malloc(MIB);
  len = fread(data, 1, MIB, f);
  fclose(f);
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  CHECK_INT(cs_load_mem(data, len / 8, NULL, &b, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "malformed or truncated");
  /* the whole text loads, also when it is not NUL-terminated */
  CHECK_INT(cs_load_mem(data, len, NULL, &b, &err), ==, 0);
  cs_bundle_free(&b);
  free(data);
}

CS_TEST(key_file_formats) {
  EVP_PKEY *k = NULL;
  cs_err_t err;
  char *pw = password("pass.txt");
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  CHECK_INT(cs_load_key_file(cs_test_path("leaf.key"), MIB, NULL, &k, &err), ==, 0);
  CHECK(k != NULL && EVP_PKEY_get_bits(k) == 2048);
  EVP_PKEY_free(k);
  CHECK_INT(cs_load_key_file(cs_test_path("good-aes.pfx"), MIB, pw, &k, &err), ==, 0);
  CHECK(k != NULL);
  EVP_PKEY_free(k);
  CHECK_INT(cs_load_key_file(cs_test_path("good-leaf.der"), MIB, NULL, &k, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "no private key");
  CHECK(k == NULL);
  cs_password_free(pw);
}
