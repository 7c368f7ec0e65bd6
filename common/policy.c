/* The validation rules, one function each. Names, chains and keys are judged by
 * OpenSSL (X509_check_host, X509_verify_cert, X509_check_private_key): nothing
 * here re-implements them. */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "platform.h"
#include "text.h"

/* Browsers' and Schannel's reading of RFC 6125: a wildcard only as a whole left-most label. */
#define HOST_FLAGS X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS

int cs_x509_thumbprint(X509 *x, char out[41]) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0, i;
  static const char hex[] = "0123456789ABCDEF";
  out[0] = '\0';
  if (!X509_digest(x, EVP_sha1(), md, &n) || n != 20)
    return CS_ECRYPTO;
  for (i = 0; i < n; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[40] = '\0';
  return CS_OK;
}

static void iso_time(const ASN1_TIME *t, char *buf, size_t len) {
  struct tm tm;
  buf[0] = '\0';
  if (t != NULL && ASN1_TIME_to_tm(t, &tm))
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static char *name_text(const X509_NAME *n) {
  BIO *bio = BIO_new(BIO_s_mem());
  char *out = NULL, *p;
  long len;
  if (bio == NULL)
    return NULL;
  /* RFC 2253 order, UTF-8 kept as UTF-8, control characters escaped by OpenSSL. */
  if (X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0 &&
      (len = BIO_get_mem_data(bio, &p)) >= 0 && (out = malloc((size_t)len + 1)) != NULL) {
    memcpy(out, p, (size_t)len);
    out[len] = '\0';
  }
  BIO_free(bio);
  return out;
}

/* Appends the dNSName entries of x's SAN, comma-separated; returns their count
 * (-1 when x has no SAN extension at all). */
static int dns_names(X509 *x, cs_buf_t *out) {
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  int i, count = 0;
  if (names == NULL)
    return -1;
  for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    if (g->type != GEN_DNS)
      continue;
    cs_buf_printf(out, "%s%.*s", count ? ", " : "", ASN1_STRING_length(g->d.dNSName),
                  (const char *)ASN1_STRING_get0_data(g->d.dNSName));
    count++;
  }
  GENERAL_NAMES_free(names);
  return count;
}

#define ADD(ok, ...) (cs_report_add(r, id, (ok), __VA_ARGS__) == CS_OK ? CS_OK : CS_ENOMEM)

static int check_key_match(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_KEY_MATCH;
  int ok;
  if (b->key != NULL) {
    ok = X509_check_private_key(b->leaf, b->key) == 1;
    ERR_clear_error();
    return ok ? ADD(true, "the private key in the file belongs to the certificate")
              : ADD(false, "the private key in the file does not belong to the certificate");
  }
  if (p->service_key != NULL) {
    ok = EVP_PKEY_eq(X509_get0_pubkey(b->leaf), p->service_key) == 1;
    ERR_clear_error();
    return ok ? ADD(true, "no key in the file; the certificate's public key matches the key in service")
              : ADD(false, "no key in the file, and the certificate's public key does not match the key in service");
  }
  return ADD(false, "the file holds no private key; a renewal that kept its key is accepted only with the key in "
                    "service (--key)");
}

static int check_san_host(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_SAN_HOST;
  cs_buf_t names = CS_BUF_INIT;
  char *peer = NULL;
  int n, rc;
  n = dns_names(b->leaf, &names);
  if (n < 0)
    rc = ADD(false, "the certificate has no Subject Alternative Name; the connector needs one holding %s", p->host);
  else if (X509_check_host(b->leaf, p->host, 0, HOST_FLAGS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, &peer) == 1)
    rc = ADD(true, "%s matches the SAN entry DNS:%s", p->host, peer);
  else
    rc = ADD(false, "%s is not among the SAN DNS names (%s)", p->host, n > 0 ? cs_buf_str(&names) : "none");
  OPENSSL_free(peer);
  cs_buf_free(&names);
  ERR_clear_error();
  return rc;
}

static int check_cn_host(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_CN_HOST;
  X509 *subject_only = NULL;
  X509_NAME *subj = X509_get_subject_name(b->leaf);
  char cn[256];
  int rc;
  if (!p->require_cn)
    return ADD(true, "not required ([policy] require_cn = no)");
  if (X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof cn) < 0)
    return ADD(false, "the subject has no CN; the connector needs CN=%s", p->host);
  /* X509_check_host judges a CN only on a certificate without DNS SANs: ask it
   * about a copy that holds nothing but the subject. */
  subject_only = X509_new();
  if (subject_only == NULL || !X509_set_subject_name(subject_only, subj)) {
    X509_free(subject_only);
    return CS_ENOMEM;
  }
  if (X509_check_host(subject_only, p->host, 0, HOST_FLAGS | X509_CHECK_FLAG_ALWAYS_CHECK_SUBJECT, NULL) == 1)
    rc = ADD(true, "subject CN %s matches %s", cn, p->host);
  else
    rc = ADD(false, "subject CN %s does not match %s", cn, p->host);
  X509_free(subject_only);
  ERR_clear_error();
  return rc;
}

static int check_validity(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_VALIDITY;
  const ASN1_TIME *nb = X509_get0_notBefore(b->leaf), *na = X509_get0_notAfter(b->leaf);
  time_t now = p->now, floor_time = p->now + (time_t)p->min_valid_days * 86400;
  ASN1_TIME *now_asn1 = ASN1_TIME_set(NULL, now);
  char from[32], to[32];
  int days = 0, secs = 0, rc;

  if (now_asn1 == NULL)
    return CS_ENOMEM;
  iso_time(nb, from, sizeof from);
  iso_time(na, to, sizeof to);
  (void)ASN1_TIME_diff(&days, &secs, now_asn1, na);
  if (X509_cmp_time(nb, &now) >= 0)
    rc = ADD(false, "not valid yet: valid from %s", from);
  else if (X509_cmp_time(na, &now) <= 0)
    rc = ADD(false, "expired on %s", to);
  else if (X509_cmp_time(na, &floor_time) <= 0)
    rc = ADD(false, "expires on %s, in %d day(s); at least %d required ([policy] min_valid_days)", to, days,
             p->min_valid_days);
  else
    rc = ADD(true, "valid from %s to %s (%d days left)", from, to, days);
  ASN1_TIME_free(now_asn1);
  return rc;
}

/* What a server sends after the leaf, from all (the verified chain, the leaf
 * first; taken over): without the leaf and without a self-signed trust anchor at
 * its top (a client has it, or must not take it from the server); in the chain's
 * order, the leaf's issuer first. *out is all, or NULL with CS_ENOMEM. */
static int chain_to_send(STACK_OF(X509) *all, STACK_OF(X509) **out) {
  X509 *top;
  *out = NULL;
  if (all == NULL)
    return CS_ENOMEM;
  X509_free(sk_X509_shift(all)); /* the leaf */
  top = sk_X509_value(all, sk_X509_num(all) - 1);
  if (top != NULL && (X509_get_extension_flags(top) & EXFLAG_SS))
    X509_free(sk_X509_pop(all));
  *out = all;
  return CS_OK;
}

/* "A <- B <- C": the subjects of chain, the leaf first, into path. */
static void chain_names(STACK_OF(X509) *chain, cs_buf_t *path) {
  int i;
  for (i = 0; i < sk_X509_num(chain); i++) {
    char *n = name_text(X509_get_subject_name(sk_X509_value(chain, i)));
    cs_buf_printf(path, "%s%s", i ? " <- " : "", n ? n : "?");
    free(n);
  }
}

/* The file's certificates as DER for the machine's chain engine: der[0] the leaf,
 * then the others; *n entries made. The caller frees each der[i].p (owned in buf[i])
 * with OPENSSL_free. der and buf hold sk_X509_num(b->chain) + 1 entries. */
static int to_der(const cs_bundle_t *b, cs_der_t *der, unsigned char **buf, int *n) {
  int i, len;
  *n = 0;
  for (i = 0; i <= sk_X509_num(b->chain); i++) {
    buf[i] = NULL;
    if ((len = i2d_X509(i == 0 ? b->leaf : sk_X509_value(b->chain, i - 1), &buf[i])) <= 0)
      return CS_ENOMEM;
    der[i].p = buf[i];
    der[i].len = (size_t)len;
    *n = i + 1;
  }
  return CS_OK;
}

/* The chain check by the machine itself (Windows with [policy] ca_file empty:
 * common/win/trust.c says why its chain engine decides). The chain it built is
 * named and sent as OpenSSL's would be. */
static int check_chain_machine(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r, STACK_OF(X509) **built) {
  static const char id[] = CS_CHECK_CHAIN;
  cs_machine_chain_t mc;
  size_t m = (size_t)sk_X509_num(b->chain) + 1;
  cs_der_t *der = calloc(m, sizeof *der);
  unsigned char **buf = calloc(m, sizeof *buf);
  STACK_OF(X509) *path = sk_X509_new_null();
  cs_buf_t names = CS_BUF_INIT;
  cs_err_t err;
  size_t k;
  int n = 0, i, rc = CS_ENOMEM;

  memset(&mc, 0, sizeof mc);
  if (path == NULL || der == NULL || buf == NULL || to_der(b, der, buf, &n) != CS_OK)
    goto out;
  cs_err_clear(&err);
  if (cs_plat_machine_chain(&der[0], der + 1, m - 1, p->now, &mc, &err) != CS_OK) {
    rc = ADD(false, "this machine's trust cannot be asked: %s", err.text);
    goto out;
  }
  for (k = 0; k < mc.n; k++) {
    const unsigned char *d = mc.der[k];
    X509 *x = d2i_X509(NULL, &d, (long)mc.der_len[k]);
    if (x == NULL || !sk_X509_push(path, x)) {
      X509_free(x);
      goto out;
    }
  }
  chain_names(path, &names);
  if (!mc.trusted) {
    rc = ADD(false, "not trusted by this machine: %s (chain built: %s)", mc.why,
             cs_buf_str(&names) ? cs_buf_str(&names) : "");
    goto out;
  }
  rc = ADD(true, "trusted chain: %s (root from %s)", cs_buf_str(&names) ? cs_buf_str(&names) : "", mc.root_from);
  if (rc == CS_OK && built != NULL) {
    rc = chain_to_send(path, built);
    path = NULL;
  }
out:
  sk_X509_pop_free(path, X509_free);
  cs_buf_free(&names);
  cs_plat_machine_chain_free(&mc);
  for (i = 0; buf != NULL && i < n; i++)
    OPENSSL_free(buf[i]);
  free(buf);
  free(der);
  ERR_clear_error();
  return rc;
}

/* The chain check against the trust anchors p->trust (ca_file, or OpenSSL's default
 * store); check_chain_machine when the machine decides (p->trust NULL). */
static int check_chain(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r, STACK_OF(X509) **built) {
  static const char id[] = CS_CHECK_CHAIN;
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_VERIFY_PARAM *param;
  cs_buf_t path = CS_BUF_INIT;
  int rc, verr;

  if (built != NULL)
    *built = NULL;
  if (ctx == NULL || !X509_STORE_CTX_init(ctx, p->trust, b->leaf, b->chain)) {
    X509_STORE_CTX_free(ctx);
    return CS_ENOMEM;
  }
  X509_STORE_CTX_set_time(ctx, 0, p->now); /* every certificate of the chain valid now */
  param = X509_STORE_CTX_get0_param(ctx);
  /* Security level 1 rejects MD5/SHA-1 signatures and keys under 80 bits;
   * allow_sha1 drops to 0 so signature_hash alone decides on SHA-1. */
  X509_VERIFY_PARAM_set_auth_level(param, p->allow_sha1 ? 0 : 1);
  if (X509_verify_cert(ctx) == 1) {
    chain_names(X509_STORE_CTX_get0_chain(ctx), &path);
    rc = ADD(true, "trusted chain: %s", cs_buf_str(&path) ? cs_buf_str(&path) : "");
    if (rc == CS_OK && built != NULL)
      rc = chain_to_send(X509_STORE_CTX_get1_chain(ctx), built);
  } else {
    X509 *bad = X509_STORE_CTX_get_current_cert(ctx);
    char *n = bad ? name_text(X509_get_subject_name(bad)) : NULL;
    verr = X509_STORE_CTX_get_error(ctx);
    rc = ADD(false, "%s (at depth %d: %s)%s", X509_verify_cert_error_string(verr), X509_STORE_CTX_get_error_depth(ctx),
             n ? n : "?",
             verr == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY && sk_X509_num(b->chain) == 0
                 ? "; the file carries no intermediate certificate: add it to the file or to the trust anchors"
                 : "");
    free(n);
  }
  cs_buf_free(&path);
  X509_STORE_CTX_free(ctx);
  ERR_clear_error();
  return rc;
}

static int check_not_ca(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_NOT_CA;
  (void)p;
  return X509_check_ca(b->leaf) != 0 ? ADD(false, "the certificate is a CA certificate, not a server certificate")
                                     : ADD(true, "end-entity certificate (not a CA)");
}

static int check_eku(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_EKU;
  uint32_t xku;
  (void)p;
  if (!(X509_get_extension_flags(b->leaf) & EXFLAG_XKUSAGE))
    return ADD(true, "no extended key usage extension (any use allowed)");
  xku = X509_get_extended_key_usage(b->leaf);
  if (xku & XKU_SSL_SERVER)
    return ADD(true, "extended key usage includes serverAuth");
  if (xku & XKU_ANYEKU)
    return ADD(true, "extended key usage includes anyExtendedKeyUsage");
  return ADD(false, "extended key usage lacks serverAuth (TLS Web Server Authentication)");
}

static int check_key_usage(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_KEY_USAGE;
  uint32_t ku;
  int rsa;
  (void)p;
  if (!(X509_get_extension_flags(b->leaf) & EXFLAG_KUSAGE))
    return ADD(true, "no key usage extension (any use allowed)");
  ku = X509_get_key_usage(b->leaf);
  rsa = EVP_PKEY_get_base_id(X509_get0_pubkey(b->leaf)) == EVP_PKEY_RSA;
  if (!(ku & KU_DIGITAL_SIGNATURE))
    return ADD(false, "key usage lacks digitalSignature");
  if (rsa && !(ku & KU_KEY_ENCIPHERMENT))
    return ADD(false, "key usage lacks keyEncipherment, which RSA key exchange needs");
  return ADD(true, rsa ? "key usage allows digitalSignature and keyEncipherment" : "key usage allows digitalSignature");
}

static int check_key_strength(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_KEY_STRENGTH;
  EVP_PKEY *pub = X509_get0_pubkey(b->leaf);
  char group[64] = "";
  size_t glen = 0;
  int bits;
  if (pub == NULL)
    return ADD(false, "the certificate's public key cannot be read");
  bits = EVP_PKEY_get_bits(pub);
  switch (EVP_PKEY_get_base_id(pub)) {
  case EVP_PKEY_RSA:
    return bits >= p->min_rsa_bits
               ? ADD(true, "RSA %d bits", bits)
               : ADD(false, "RSA %d bits, under the minimum of %d ([policy] min_rsa_bits)", bits, p->min_rsa_bits);
  case EVP_PKEY_EC:
    if (!EVP_PKEY_get_group_name(pub, group, sizeof group, &glen))
      return ADD(false, "EC key on an unnamed curve");
    if (strcmp(group, "prime256v1") == 0 || strcmp(group, "secp384r1") == 0 || strcmp(group, "secp521r1") == 0)
      return ADD(true, "EC %s", group);
    return ADD(false, "EC curve %s is not accepted (P-256, P-384 and P-521 are)", group);
  default:
    return ADD(false, "%s keys are not accepted (RSA and ECDSA are)", OBJ_nid2sn(EVP_PKEY_get_base_id(pub)));
  }
}

/* 0 if the signature hash of x is acceptable, else its name in *bad. */
static int weak_signature(const cs_policy_t *p, X509 *x, const char **bad) {
  int md = NID_undef;
  if (!X509_get_signature_info(x, &md, NULL, NULL, NULL)) {
    ERR_clear_error();
    *bad = "unknown";
    return 1;
  }
  if (md == NID_md5 || md == NID_md5_sha1 || md == NID_md4 || md == NID_md2 || (md == NID_sha1 && !p->allow_sha1)) {
    *bad = OBJ_nid2sn(md);
    return 1;
  }
  return 0;
}

/* The leaf and the intermediates that would be sent: the verified chain when it
 * built (intermediates from the trust anchors included, junk in the file not),
 * else the file's other certificates. */
static int check_signature(const cs_policy_t *p, const cs_bundle_t *b, STACK_OF(X509) *sent, cs_report_t *r) {
  static const char id[] = CS_CHECK_SIGNATURE;
  STACK_OF(X509) *chain = sent != NULL ? sent : b->chain;
  cs_buf_t weak = CS_BUF_INIT;
  const char *bad;
  int i, n = 0, rc;
  if (weak_signature(p, b->leaf, &bad)) {
    cs_buf_printf(&weak, "the certificate is signed with %s", bad);
    n++;
  }
  for (i = 0; i < sk_X509_num(chain); i++) {
    X509 *c = sk_X509_value(chain, i);
    char *name;
    if (X509_get_extension_flags(c) & EXFLAG_SS)
      continue; /* a root's signature on itself proves nothing either way */
    if (!weak_signature(p, c, &bad))
      continue;
    name = name_text(X509_get_subject_name(c));
    cs_buf_printf(&weak, "%sintermediate %s is signed with %s", n ? "; " : "", name ? name : "?", bad);
    free(name);
    n++;
  }
  if (n > 0)
    rc = ADD(false, "%s%s", cs_buf_str(&weak) ? cs_buf_str(&weak) : "",
             p->allow_sha1 ? "" : " (SHA-1 only with [policy] allow_sha1 = yes; MD5 never)");
  else
    rc = ADD(true, "no MD5 or SHA-1 signatures%s", p->allow_sha1 ? " (SHA-1 allowed)" : "");
  cs_buf_free(&weak);
  return rc;
}

static int check_expires_later(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_EXPIRES_LATER;
  char cur[32], neu[32];
  iso_time(X509_get0_notAfter(p->current), cur, sizeof cur);
  iso_time(X509_get0_notAfter(b->leaf), neu, sizeof neu);
  if (ASN1_TIME_compare(X509_get0_notAfter(b->leaf), X509_get0_notAfter(p->current)) > 0)
    return ADD(true, "expires %s, after the certificate in service (%s)", neu, cur);
  return ADD(false, "expires %s, not after the certificate in service (%s)", neu, cur);
}

/* 1 if x's SAN holds the DNS entry name verbatim (case-insensitive). */
static int has_dns_entry(X509 *x, const char *name, size_t len) {
  GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
  int i, found = 0;
  for (i = 0; !found && i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    found = g->type == GEN_DNS && (size_t)ASN1_STRING_length(g->d.dNSName) == len &&
            OPENSSL_strncasecmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), name, len) == 0;
  }
  GENERAL_NAMES_free(names);
  return found;
}

static int check_names_kept(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  static const char id[] = CS_CHECK_NAMES_KEPT;
  GENERAL_NAMES *names = X509_get_ext_d2i(p->current, NID_subject_alt_name, NULL, NULL);
  cs_buf_t missing = CS_BUF_INIT;
  int i, n = 0, rc;
  for (i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
    const char *name;
    size_t len;
    if (g->type != GEN_DNS)
      continue;
    name = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
    len = (size_t)ASN1_STRING_length(g->d.dNSName);
    /* kept: the same entry, or a new entry (a wildcard) that covers the name */
    if (has_dns_entry(b->leaf, name, len) ||
        X509_check_host(b->leaf, name, len, HOST_FLAGS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1)
      continue;
    cs_buf_printf(&missing, "%s%.*s", n ? ", " : "", (int)len, name);
    n++;
  }
  ERR_clear_error();
  GENERAL_NAMES_free(names);
  if (n > 0)
    rc = ADD(false, "the certificate in service also covers %s, which the new one lacks",
             cs_buf_str(&missing) ? cs_buf_str(&missing) : "");
  else
    rc = ADD(true, "every DNS name of the certificate in service is kept");
  cs_buf_free(&missing);
  return rc;
}

typedef int (*check_fn)(const cs_policy_t *, const cs_bundle_t *, cs_report_t *);

static int run_checks(const check_fn *fns, size_t n, const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r) {
  size_t i;
  int rc;
  for (i = 0; i < n; i++)
    if ((rc = fns[i](p, b, r)) != CS_OK)
      return rc;
  return CS_OK;
}

#define RUN(fns) run_checks((fns), sizeof(fns) / sizeof(fns)[0], p, b, r)

int cs_policy_check(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r, STACK_OF(X509) **chain) {
  /* the report's order: these, chain, then the rest */
  static const check_fn before_chain[] = {check_key_match, check_san_host, check_cn_host, check_validity};
  static const check_fn after_chain[] = {check_not_ca, check_eku, check_key_usage, check_key_strength};
  static const check_fn renewal[] = {check_expires_later, check_names_kept};
  STACK_OF(X509) *built = NULL;
  int rc;

  if (chain != NULL)
    *chain = NULL;
  (void)cs_x509_thumbprint(b->leaf, r->thumbprint);
  iso_time(X509_get0_notAfter(b->leaf), r->not_after, sizeof r->not_after);
  free(r->subject);
  r->subject = name_text(X509_get_subject_name(b->leaf));
  if ((rc = RUN(before_chain)) != CS_OK ||
      (rc = (p->trust != NULL ? check_chain : check_chain_machine)(p, b, r, &built)) != CS_OK ||
      (rc = RUN(after_chain)) != CS_OK || (rc = check_signature(p, b, built, r)) != CS_OK ||
      (p->current != NULL && (rc = RUN(renewal)) != CS_OK))
    goto out;
  if (chain != NULL) {
    *chain = built;
    built = NULL;
  }
  rc = CS_OK;
out:
  sk_X509_pop_free(built, X509_free);
  return rc;
}

#undef RUN

int cs_policy_trust_load(const char *ca_file, X509_STORE **store, cs_err_t *err) {
  X509_STORE *s = X509_STORE_new();
  char why[256];
  int rc = CS_OK;
  *store = NULL;
  if (s == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (ca_file != NULL) {
    if (X509_STORE_load_file(s, ca_file) != 1) {
      unsigned long e = ERR_peek_last_error();
      snprintf(why, sizeof why, "%s", e ? ERR_reason_error_string(e) : "no certificate");
      rc = cs_err_set(err, CS_ECONFIG, (long)e, "cannot load trust anchors from %s (%s)", ca_file, why);
    }
  } else if (cs_plat_machine_trust()) {
    /* The machine decides (check_chain_machine): OpenSSL's default paths on Windows
     * are a folder named when OpenSSL was built, which any user may create. */
    X509_STORE_free(s);
    return CS_OK;
  } else if (X509_STORE_set_default_paths(s) != 1) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot load the system's trust store");
  }
  ERR_clear_error();
  if (rc != CS_OK) {
    X509_STORE_free(s);
    return rc;
  }
  *store = s;
  return CS_OK;
}
