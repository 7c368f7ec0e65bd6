/* Validation policy against the test PKI (tests/support/testpki.c): each good file
 * passes every check; each bad file fails exactly the checks it was made to fail. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_test.h"
#include "load.h"
#include "password.h"
#include "policy.h"

#define HOST "board.example.test"

typedef struct opts_s {
  const char *current; /* --current */
  const char *key;     /* --key */
  int allow_sha1;
  int require_cn;      /* 0 = default (yes), -1 = no */
  const char *host;
  const char *ca;      /* --ca, default root.pem */
} opts_t;

/* Loads file and runs the policy with the test PKI's root as the trust anchor. */
static void run(const char *file, const opts_t *o, cs_report_t *r) {
  cs_bundle_t b, cur;
  cs_policy_t p;
  cs_err_t err;
  char *pw = NULL;

  memset(&p, 0, sizeof p);
  memset(&cur, 0, sizeof cur);
  CHECK_INT(cs_crypto_init(&err), ==, 0);
  CHECK_INT(cs_report_init(r, file), ==, 0);
  CHECK_INT(cs_password_read(cs_test_path("pass.txt"), &pw, &err), ==, 0);
  CHECK_INT(cs_policy_trust_load(cs_test_path(o && o->ca ? o->ca : "root.pem"), &p.trust, &err), ==, 0);
  p.host = o && o->host ? o->host : HOST;
  p.min_valid_days = 7;
  p.min_rsa_bits = 2048;
  p.allow_sha1 = o && o->allow_sha1;
  p.require_cn = !(o && o->require_cn < 0);
  p.now = time(NULL);
  if (o && o->key)
    CHECK_INT(cs_load_key_file(cs_test_path(o->key), 1 << 20, NULL, &p.service_key, &err), ==, 0);
  if (o && o->current) {
    CHECK_INT(cs_load_file(cs_test_path(o->current), 1 << 20, 0, NULL, &cur, &err), ==, 0);
    p.current = cur.leaf;
  }
  if (cs_load_file(cs_test_path(file), 1 << 20, 0, pw, &b, &err) != 0) {
    cs_test_fail(__FILE__, __LINE__, "%s does not load: %s", file, err.text);
  } else {
    CHECK_INT(cs_policy_check(&p, &b, r), ==, 0);
    cs_bundle_free(&b);
  }
  cs_bundle_free(&cur);
  EVP_PKEY_free(p.service_key);
  X509_STORE_free(p.trust);
  cs_password_free(pw);
}

/* Every check of r is ok except exactly those named in failing (space-separated). */
static void expect(const char *file, const cs_report_t *r, const char *failing) {
  size_t i;
  CHECK(r->n_checks >= 10);
  for (i = 0; i < r->n_checks; i++) {
    const cs_check_t *c = &r->checks[i];
    const char *hit = strstr(failing, c->id);
    size_t n = strlen(c->id);
    int should_fail = hit != NULL && (hit == failing || hit[-1] == ' ') && (hit[n] == '\0' || hit[n] == ' ');
    if (c->ok == should_fail)
      cs_test_fail(__FILE__, __LINE__, "%s: check %s is %s (%s)", file, c->id, c->ok ? "ok" : "failed", c->detail);
  }
  CHECK(cs_report_accepted(r) == (failing[0] == '\0'));
}

static void expect_file(const char *file, const opts_t *o, const char *failing) {
  cs_report_t r;
  run(file, o, &r);
  expect(file, &r, failing);
  cs_report_free(&r);
}

CS_TEST(good_aes_pfx) { expect_file("good-aes.pfx", NULL, ""); }
CS_TEST(good_legacy_pfx) { expect_file("good-legacy.pfx", NULL, ""); }
CS_TEST(good_pem_bundle) { expect_file("good-bundle.pem", NULL, ""); }
CS_TEST(good_pem_encrypted_key) { expect_file("good-enc.pem", NULL, ""); }
CS_TEST(good_pem_traditional_rsa) { expect_file("good-trad-rsa.pem", NULL, ""); }
CS_TEST(good_ec_key) { expect_file("good-ec.pem", NULL, ""); }
CS_TEST(good_wildcard) { expect_file("good-wildcard.pfx", NULL, ""); }
CS_TEST(good_host_as_later_san) { expect_file("good-later-san.pem", NULL, ""); }

/* A lone DER certificate carries no intermediate: the trust anchors must. */
CS_TEST(der_without_key_rejected) {
  opts_t o = {.ca = "ca-chain.pem"};
  expect_file("good-leaf.der", &o, "key_match");
}
CS_TEST(der_with_key_in_service) {
  opts_t o = {.key = "leaf.key", .ca = "ca-chain.pem"};
  expect_file("good-leaf.der", &o, "");
}
CS_TEST(der_without_intermediate) {
  opts_t o = {.key = "leaf.key"};
  expect_file("good-leaf.der", &o, "chain");
}
CS_TEST(p7b_pem_with_key_in_service) {
  opts_t o = {.key = "leaf.key"};
  expect_file("good-chain.p7b", &o, "");
}
CS_TEST(p7b_der_with_key_in_service) {
  opts_t o = {.key = "leaf.key"};
  expect_file("good-chain-der.p7b", &o, "");
}
CS_TEST(key_in_service_must_match) {
  opts_t o = {.key = "leaf.key"};
  expect_file("good-ec.pem", &o, ""); /* the file's own key wins over --key */
  expect_file("bad-ec-k256.pem", &o, "key_strength");
}

CS_TEST(key_in_service_other_key) {
  opts_t o = {.key = "good-ec.pem", .ca = "ca-chain.pem"}; /* the EC key of another certificate */
  expect_file("good-leaf.der", &o, "key_match");
}

CS_TEST(key_mismatch) { expect_file("bad-keymismatch.pem", NULL, "key_match"); }
CS_TEST(no_san) { expect_file("bad-nosan.pem", NULL, "san_host"); }
CS_TEST(wrong_host) { expect_file("bad-wronghost.pem", NULL, "san_host cn_host"); }
CS_TEST(cn_mismatch) { expect_file("bad-cn.pem", NULL, "cn_host"); }
CS_TEST(cn_not_required) {
  opts_t o = {.require_cn = -1};
  expect_file("bad-cn.pem", &o, "");
}
CS_TEST(wildcard_is_one_label_only) {
  opts_t o = {.host = "a.board.example.test"};
  expect_file("good-wildcard.pfx", &o, "san_host cn_host");
}
CS_TEST(expired) { expect_file("bad-expired.pem", NULL, "validity chain"); }
CS_TEST(not_yet_valid) { expect_file("bad-notyet.pem", NULL, "validity chain"); }
CS_TEST(short_lived) { expect_file("bad-shortlived.pem", NULL, "validity"); }
CS_TEST(untrusted_root) { expect_file("bad-untrusted.pem", NULL, "chain"); }
CS_TEST(expired_intermediate) { expect_file("bad-inter-expired.pem", NULL, "chain"); }
CS_TEST(leaf_is_ca) { expect_file("bad-ca.pem", NULL, "not_ca"); }
CS_TEST(eku_without_server_auth) { expect_file("bad-eku.pem", NULL, "eku"); }
CS_TEST(key_usage_without_digital_signature) { expect_file("bad-ku.pem", NULL, "key_usage"); }
CS_TEST(rsa_key_usage_without_key_encipherment) { expect_file("bad-ku-rsa.pem", NULL, "key_usage"); }
CS_TEST(rsa_1024) { expect_file("bad-rsa1024.pem", NULL, "key_strength"); }
CS_TEST(ec_curve_secp256k1) { expect_file("bad-ec-k256.pem", NULL, "key_strength"); }
/* OpenSSL's security level 1 also refuses these signatures while building the chain. */
CS_TEST(sha1_signature) { expect_file("bad-sha1.pem", NULL, "signature_hash chain"); }
CS_TEST(md5_signature) { expect_file("bad-md5.pem", NULL, "signature_hash chain"); }
CS_TEST(sha1_intermediate) { expect_file("bad-inter-sha1.pem", NULL, "signature_hash chain"); }
CS_TEST(sha1_allowed_by_policy) {
  opts_t o = {.allow_sha1 = 1};
  expect_file("bad-sha1.pem", &o, "");
  expect_file("bad-inter-sha1.pem", &o, "");
  expect_file("bad-md5.pem", &o, "signature_hash"); /* MD5 never */
}

CS_TEST(renewal_of_current) {
  opts_t o = {.current = "current-ok.pem"};
  cs_report_t r;
  run("good-bundle.pem", &o, &r);
  expect("good-bundle.pem", &r, "");
  CHECK(cs_report_find(&r, "expires_later") != NULL);
  CHECK(cs_report_find(&r, "names_kept") != NULL);
  cs_report_free(&r);
}
CS_TEST(renewal_expires_earlier) {
  opts_t o = {.current = "current-later.pem"};
  expect_file("good-bundle.pem", &o, "expires_later");
}
CS_TEST(renewal_drops_a_name) {
  opts_t o = {.current = "current-more-names.pem"};
  cs_report_t r;
  run("good-bundle.pem", &o, &r);
  expect("good-bundle.pem", &r, "names_kept");
  CHECK_CONTAINS(cs_report_find(&r, "names_kept")->detail, "extra.example.test");
  cs_report_free(&r);
}
CS_TEST(renewal_by_wildcard_keeps_names) {
  opts_t o = {.current = "current-ok.pem"};
  expect_file("good-wildcard.pfx", &o, "");
}

CS_TEST(report_fields) {
  cs_report_t r;
  size_t i;
  run("good-bundle.pem", NULL, &r);
  CHECK_INT(strlen(r.thumbprint), ==, 40);
  for (i = 0; i < 40; i++)
    CHECK((r.thumbprint[i] >= '0' && r.thumbprint[i] <= '9') || (r.thumbprint[i] >= 'A' && r.thumbprint[i] <= 'F'));
  CHECK_CONTAINS(r.subject, "CN=board.example.test");
  CHECK_INT(strlen(r.not_after), ==, 20);
  CHECK(r.not_after[4] == '-' && r.not_after[10] == 'T' && r.not_after[19] == 'Z');
  CHECK_CONTAINS(cs_report_find(&r, "san_host")->detail, "DNS:board.example.test");
  CHECK_CONTAINS(cs_report_find(&r, "key_strength")->detail, "RSA 2048");
  cs_report_free(&r);
}

CS_TEST(every_failure_says_why) {
  static const char *const bad[] = {"bad-nosan.pem", "bad-expired.pem", "bad-untrusted.pem", "bad-eku.pem",
                                    "bad-rsa1024.pem", "bad-md5.pem"};
  size_t i, j;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cs_report_t r;
    run(bad[i], NULL, &r);
    for (j = 0; j < r.n_checks; j++)
      CHECK(r.checks[j].detail != NULL && strlen(r.checks[j].detail) > 10);
    cs_report_free(&r);
  }
}
