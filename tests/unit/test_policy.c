/* Validation policy against the test PKI (tests/support/testpki.c): each good file
 * passes every check; each bad file fails exactly the checks it was made to fail. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cs_test.h"
#include "load.h"
#include "password.h"
#include "policy.h"

#define HOST "board.example.test"

typedef struct opts_s {
  const char *current; /* --current */
  const char *key;     /* --key */
  int allow_sha1;
  int require_cn; /* 0 = default (yes), -1 = no */
  const char *host;
  const char *ca; /* --ca, default root.pem */
} opts_t;

/* Loads file and runs the policy with the test PKI's root as the trust anchor;
 * the verified chain into *chain when chain is not NULL (caller frees). */
static void run_chain(const char *file, const opts_t *o, cs_report_t *r, STACK_OF(X509) **chain) {
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
    CHECK_INT(cs_policy_check(&p, &b, r, chain), ==, 0);
    cs_bundle_free(&b);
  }
  cs_bundle_free(&cur);
  EVP_PKEY_free(p.service_key);
  X509_STORE_free(p.trust);
  cs_password_free(pw);
}

static void run(const char *file, const opts_t *o, cs_report_t *r) { run_chain(file, o, r, NULL); }

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
  static const char *const bad[] = {"bad-nosan.pem", "bad-expired.pem", "bad-untrusted.pem",
                                    "bad-eku.pem",   "bad-rsa1024.pem", "bad-md5.pem"};
  size_t i, j;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cs_report_t r;
    run(bad[i], NULL, &r);
    for (j = 0; j < r.n_checks; j++)
      CHECK(r.checks[j].detail != NULL && strlen(r.checks[j].detail) > 10);
    cs_report_free(&r);
  }
}

/* ---- the verified chain (cs_policy_check's chain output) ----------------------- */

static X509 *pki_cert(const char *name) {
  BIO *b = BIO_new_file(cs_test_path(name), "rb");
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  CHECK(x != NULL);
  return x;
}

/* chain holds exactly want (n certificates), in that order. */
static void expect_chain(STACK_OF(X509) *chain, X509 *const *want, int n) {
  int i;
  CHECK(chain != NULL);
  CHECK_INT(sk_X509_num(chain), ==, n);
  for (i = 0; chain != NULL && i < n && i < sk_X509_num(chain); i++)
    if (want[i] == NULL || X509_cmp(sk_X509_value(chain, i), want[i]) != 0)
      cs_test_fail(__FILE__, __LINE__, "chain[%d] is not the expected certificate", i);
}

/* A lone DER leaf: the intermediate comes from the trust anchors, where it is
 * not self-signed, so it is sent; the root is not. */
CS_TEST(chain_of_lone_der_comes_from_trust_anchors) {
  opts_t o = {.key = "leaf.key", .ca = "ca-chain.pem"};
  STACK_OF(X509) *chain = NULL;
  X509 *inter = pki_cert("inter.pem");
  cs_report_t r;
  run_chain("good-leaf.der", &o, &r, &chain);
  expect("good-leaf.der", &r, "");
  expect_chain(chain, &inter, 1);
  sk_X509_pop_free(chain, X509_free);
  X509_free(inter);
  cs_report_free(&r);
}

CS_TEST(chain_of_bundle_is_its_intermediate) {
  STACK_OF(X509) *chain = NULL;
  X509 *inter = pki_cert("inter.pem");
  cs_report_t r;
  run_chain("good-aes.pfx", NULL, &r, &chain);
  expect("good-aes.pfx", &r, "");
  expect_chain(chain, &inter, 1);
  sk_X509_pop_free(chain, X509_free);
  X509_free(inter);
  cs_report_free(&r);
}

CS_TEST(no_chain_when_it_does_not_build) {
  opts_t o = {.key = "leaf.key"};              /* root.pem alone: the intermediate is missing */
  STACK_OF(X509) *chain = (STACK_OF(X509) *)1; /* must be overwritten */
  cs_report_t r;
  run_chain("good-leaf.der", &o, &r, &chain);
  expect("good-leaf.der", &r, "chain");
  CHECK(chain == NULL);
  cs_report_free(&r);
  chain = (STACK_OF(X509) *)1;
  run_chain("bad-untrusted.pem", NULL, &r, &chain);
  CHECK(chain == NULL);
  cs_report_free(&r);
}

/* A private PKI root -> ca1 -> ca2 -> leaf (and root -> direct), EC P-256, made here. */
enum { X_ROOT, X_CA1, X_CA2, X_LEAF, X_DIRECT, X_JUNK, X_N };

static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, int ca, long serial) {
  X509 *x = X509_new();
  X509V3_CTX v3;
  X509_EXTENSION *e = NULL;
  int ok =
      x != NULL && X509_set_version(x, X509_VERSION_3) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
      X509_gmtime_adj(X509_getm_notBefore(x), -86400) && X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400) &&
      X509_set_pubkey(x, key) &&
      X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
      X509_set_issuer_name(x, X509_get_subject_name(issuer ? issuer : x));
  if (ok) {
    X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
    e = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
    ok = e != NULL && X509_add_ext(x, e, -1) && X509_sign(x, issuer ? issuer_key : key, EVP_sha256()) > 0;
  }
  X509_EXTENSION_free(e);
  CHECK(ok);
  if (!ok) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static void make_pki(X509 *x[X_N], EVP_PKEY *k[X_N]) {
  int i;
  for (i = 0; i < X_N; i++)
    CHECK((k[i] = EVP_EC_gen("P-256")) != NULL);
  x[X_ROOT] = make("chain test root", k[X_ROOT], NULL, NULL, 1, 1);
  x[X_CA1] = make("chain test CA 1", k[X_CA1], x[X_ROOT], k[X_ROOT], 1, 2);
  x[X_CA2] = make("chain test CA 2", k[X_CA2], x[X_CA1], k[X_CA1], 1, 3);
  x[X_LEAF] = make(HOST, k[X_LEAF], x[X_CA2], k[X_CA2], 0, 4);
  x[X_DIRECT] = make(HOST, k[X_DIRECT], x[X_ROOT], k[X_ROOT], 0, 5);
  x[X_JUNK] = make("chain test junk root", k[X_JUNK], NULL, NULL, 1, 6);
}

static void free_pki(X509 *x[X_N], EVP_PKEY *k[X_N]) {
  int i;
  for (i = 0; i < X_N; i++) {
    X509_free(x[i]);
    EVP_PKEY_free(k[i]);
  }
}

/* Checks leaf with the file's other certificates (in[], n_in) against the trust
 * anchors (anchors[], n_anchors); the chain check must pass; *chain out. */
static void check_made(X509 *leaf, X509 *const *in, int n_in, X509 *const *anchors, int n_anchors,
                       STACK_OF(X509) **chain) {
  cs_bundle_t b;
  cs_policy_t p;
  cs_report_t r;
  const cs_check_t *c;
  int i;
  memset(&b, 0, sizeof b);
  memset(&p, 0, sizeof p);
  p.host = HOST;
  p.min_rsa_bits = 2048;
  p.now = time(NULL);
  CHECK((p.trust = X509_STORE_new()) != NULL);
  for (i = 0; p.trust != NULL && i < n_anchors; i++)
    CHECK(X509_STORE_add_cert(p.trust, anchors[i]) == 1);
  b.format = CS_FMT_PEM;
  b.leaf = leaf;
  CHECK((b.chain = sk_X509_new_null()) != NULL);
  for (i = 0; b.chain != NULL && i < n_in; i++)
    CHECK(sk_X509_push(b.chain, in[i]) > 0);
  CHECK_INT(cs_report_init(&r, "made"), ==, 0);
  CHECK_INT(cs_policy_check(&p, &b, &r, chain), ==, 0);
  c = cs_report_find(&r, CS_CHECK_CHAIN);
  CHECK(c != NULL && c->ok);
  cs_report_free(&r);
  sk_X509_free(b.chain); /* the certificates belong to the caller */
  X509_STORE_free(p.trust);
}

/* Issuer of the leaf first whatever the file's order; the file's root and an
 * unrelated certificate are not sent. */
CS_TEST(chain_is_in_path_order_without_root_or_junk) {
  X509 *x[X_N] = {NULL}, *in[4], *want[2];
  EVP_PKEY *k[X_N] = {NULL};
  STACK_OF(X509) *chain = NULL;
  make_pki(x, k);
  in[0] = x[X_JUNK];
  in[1] = x[X_CA1];
  in[2] = x[X_ROOT];
  in[3] = x[X_CA2];
  want[0] = x[X_CA2];
  want[1] = x[X_CA1];
  check_made(x[X_LEAF], in, 4, &x[X_ROOT], 1, &chain);
  expect_chain(chain, want, 2);
  sk_X509_pop_free(chain, X509_free);
  free_pki(x, k);
}

/* An intermediate that is a trust anchor is still sent: only a self-signed root is not. */
CS_TEST(chain_sends_intermediate_trust_anchor) {
  X509 *x[X_N] = {NULL}, *anchors[2], *want[2];
  EVP_PKEY *k[X_N] = {NULL};
  STACK_OF(X509) *chain = NULL;
  make_pki(x, k);
  anchors[0] = x[X_ROOT];
  anchors[1] = x[X_CA1];
  want[0] = x[X_CA2];
  want[1] = x[X_CA1];
  check_made(x[X_LEAF], &x[X_CA2], 1, anchors, 2, &chain);
  expect_chain(chain, want, 2);
  sk_X509_pop_free(chain, X509_free);
  free_pki(x, k);
}

/* A leaf the root signed itself: nothing to send after it (an empty chain, not none). */
CS_TEST(chain_of_leaf_issued_by_root_is_empty) {
  X509 *x[X_N] = {NULL};
  EVP_PKEY *k[X_N] = {NULL};
  STACK_OF(X509) *chain = NULL;
  make_pki(x, k);
  check_made(x[X_DIRECT], &x[X_JUNK], 1, &x[X_ROOT], 1, &chain);
  expect_chain(chain, NULL, 0);
  sk_X509_pop_free(chain, X509_free);
  free_pki(x, k);
}

/* signature_hash judges what would be sent: a weak intermediate taken from the trust
 * anchors fails it, a weak certificate in the file that is off the path does not.
 * MD5 needs an RSA signer: CA 1 here has an RSA key. */
CS_TEST(signature_hash_judges_the_chain_sent) {
  X509 *x[X_N] = {NULL}, *ca1 = NULL, *ca2 = NULL, *leaf = NULL, *junk = NULL;
  EVP_PKEY *k[X_N] = {NULL}, *rsa = EVP_RSA_gen(2048);
  const cs_check_t *c;
  cs_bundle_t b;
  cs_policy_t p;
  cs_report_t r;
  int i;
  make_pki(x, k);
  CHECK(rsa != NULL);
  ca1 = make("chain test CA 1", rsa, x[X_ROOT], k[X_ROOT], 1, 7);
  ca2 = make("chain test CA 2", k[X_CA2], ca1, rsa, 1, 8);
  CHECK(ca2 != NULL && X509_sign(ca2, rsa, EVP_md5()) > 0); /* an anchor, signed with MD5 */
  leaf = make(HOST, k[X_LEAF], ca2, k[X_CA2], 0, 9);
  junk = make("chain test junk", k[X_JUNK], ca1, rsa, 0, 10);
  CHECK(junk != NULL && X509_sign(junk, rsa, EVP_md5()) > 0); /* in the file, off the path */
  for (i = 0; i < 2; i++) {
    memset(&b, 0, sizeof b);
    memset(&p, 0, sizeof p);
    p.host = HOST;
    p.min_rsa_bits = 2048;
    p.allow_sha1 = true; /* security level 0: the chain builds, signature_hash alone decides */
    p.now = time(NULL);
    CHECK((p.trust = X509_STORE_new()) != NULL);
    CHECK(X509_STORE_add_cert(p.trust, x[X_ROOT]) == 1 && X509_STORE_add_cert(p.trust, ca1) == 1 &&
          X509_STORE_add_cert(p.trust, ca2) == 1);
    b.leaf = i == 0 ? leaf : x[X_DIRECT];
    CHECK((b.chain = sk_X509_new_null()) != NULL && sk_X509_push(b.chain, junk) > 0);
    CHECK_INT(cs_report_init(&r, "made"), ==, 0);
    CHECK_INT(cs_policy_check(&p, &b, &r, NULL), ==, 0);
    CHECK((c = cs_report_find(&r, CS_CHECK_CHAIN)) != NULL && c->ok);
    c = cs_report_find(&r, CS_CHECK_SIGNATURE);
    CHECK(c != NULL);
    if (c != NULL && i == 0) { /* leaf <- CA 2 (MD5, from the anchors) <- CA 1 <- root */
      CHECK(!c->ok);
      CHECK_CONTAINS(c->detail, "chain test CA 2");
    } else if (c != NULL) { /* leaf signed by the root; only the junk is MD5 */
      CHECK(c->ok);
    }
    cs_report_free(&r);
    sk_X509_free(b.chain);
    X509_STORE_free(p.trust);
  }
  X509_free(ca1);
  X509_free(ca2);
  X509_free(leaf);
  X509_free(junk);
  EVP_PKEY_free(rsa);
  free_pki(x, k);
}
