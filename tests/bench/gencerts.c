/* gencerts: the certificates the benchmark needs, made with libcrypto.
 *   gencerts monitor DIR N
 *       N PEM certificates DIR/cert-00001.pem..., as a store holds them: RSA-2048
 *       leaves (one key shared: parsing does not depend on it) with SAN, key usage
 *       and EKU, signed by a P-256 CA (DIR/../monitor-ca.pem), notAfter spread
 *       from 30 days ago to two years ahead.
 *   gencerts renewals DIR N HOST PASSWORD
 *       DIR/ca.pem (root, the trust anchor), DIR/inter.pem, DIR/key.pem (the
 *       leaf key), DIR/current.pem (the certificate in service, 60 days left) and
 *       N renewals DIR/renew-001.pfx... (leaf + key + intermediate, OpenSSL 3's
 *       default AES-256 / PBKDF2 export), each expiring a day later than the one
 *       before, so that every renewal is a valid successor of the previous one.
 * Exit 0, or 1 with a message on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400L

static int fail(const char *what) {
  fprintf(stderr, "gencerts: %s\n", what);
  ERR_print_errors_fp(stderr);
  return 0;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509_EXTENSION *e;
  int ok;
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
    return 0;
  ok = X509_add_ext(x, e, -1);
  X509_EXTENSION_free(e);
  return ok;
}

/* A certificate for key, named cn, signed by issuer / issuer_key (itself when
 * issuer is NULL), valid from nb to na seconds from now. ca: a CA certificate. */
static X509 *make(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, long serial, long nb, long na,
                  int ca) {
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  char san[300];
  int ok = x != NULL && name != NULL && X509_set_version(x, 2) && ASN1_INTEGER_set(X509_get_serialNumber(x), serial) &&
           X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"certsteward bench", -1, -1, 0) &&
           X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0) &&
           X509_set_subject_name(x, name) && X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) &&
           X509_gmtime_adj(X509_getm_notBefore(x), nb) && X509_gmtime_adj(X509_getm_notAfter(x), na) &&
           X509_set_pubkey(x, key);
  if (ok && ca) {
    ok = add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(x, issuer ? issuer : x, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash");
  } else if (ok) {
    snprintf(san, sizeof san, "DNS:%s", cn);
    ok = add_ext(x, issuer, NID_basic_constraints, "CA:FALSE") &&
         add_ext(x, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") &&
         add_ext(x, issuer, NID_ext_key_usage, "serverAuth") && add_ext(x, issuer, NID_subject_alt_name, san);
  }
  if (ok && issuer != NULL)
    ok = add_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
  ok = ok && X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
  X509_NAME_free(name);
  if (!ok) {
    X509_free(x);
    fail("cannot make a certificate");
    return NULL;
  }
  return x;
}

static int write_pem(const char *path, X509 *x, EVP_PKEY *key) {
  BIO *b = BIO_new_file(path, "wb");
  int ok = b != NULL && (x == NULL || PEM_write_bio_X509(b, x)) &&
           (key == NULL || PEM_write_bio_PKCS8PrivateKey(b, key, NULL, NULL, 0, NULL, NULL));
  if (BIO_free(b) != 1 || !ok)
    return fail(path);
  return 1;
}

static int monitor(const char *dir, int n) {
  EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *leaf_key = EVP_RSA_gen(2048);
  X509 *ca = NULL, *x;
  char path[4096], cn[64];
  int i, ok = ca_key != NULL && leaf_key != NULL;
  if (ok && (ca = make("certsteward bench monitor CA", ca_key, NULL, NULL, 1, -DAY, 3650 * DAY, 1)) == NULL)
    ok = 0;
  snprintf(path, sizeof path, "%s/../monitor-ca.pem", dir);
  ok = ok && write_pem(path, ca, NULL);
  for (i = 1; ok && i <= n; i++) {
    long na = ((long)(i * 37) % 760 - 30) * DAY + 3600; /* -30 .. +729 days */
    snprintf(cn, sizeof cn, "host-%05d.example.test", i);
    snprintf(path, sizeof path, "%s/cert-%05d.pem", dir, i);
    ok = (x = make(cn, leaf_key, ca, ca_key, 1000 + i, na - 365 * DAY, na, 0)) != NULL && write_pem(path, x, NULL);
    X509_free(x);
  }
  X509_free(ca);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(leaf_key);
  return ok;
}

static int renewals(const char *dir, int n, const char *host, const char *pass) {
  EVP_PKEY *root_key = EVP_EC_gen("P-256"), *inter_key = EVP_EC_gen("P-256"), *key = EVP_RSA_gen(2048);
  X509 *root = NULL, *inter = NULL, *x = NULL;
  STACK_OF(X509) *chain = sk_X509_new_null();
  PKCS12 *p12 = NULL;
  char path[4096];
  BIO *b;
  int i, ok = root_key != NULL && inter_key != NULL && key != NULL && chain != NULL;

  ok = ok && (root = make("certsteward bench root", root_key, NULL, NULL, 1, -DAY, 3650 * DAY, 1)) != NULL &&
       (inter = make("certsteward bench intermediate", inter_key, root, root_key, 2, -DAY, 1825 * DAY, 1)) != NULL &&
       sk_X509_push(chain, inter) > 0;
  snprintf(path, sizeof path, "%s/ca.pem", dir);
  ok = ok && write_pem(path, root, NULL);
  snprintf(path, sizeof path, "%s/inter.pem", dir);
  ok = ok && write_pem(path, inter, NULL);
  snprintf(path, sizeof path, "%s/key.pem", dir);
  ok = ok && write_pem(path, NULL, key);
  snprintf(path, sizeof path, "%s/current.pem", dir);
  ok = ok && (x = make(host, key, inter, inter_key, 100, -335 * DAY, 60 * DAY, 0)) != NULL && write_pem(path, x, NULL);
  X509_free(x);
  for (i = 1; ok && i <= n; i++) {
    x = make(host, key, inter, inter_key, 100 + i, -DAY, (400L + i) * DAY, 0);
    /* nid 0, 0, iter 0, mac_iter 0: OpenSSL 3's defaults (AES-256-CBC, PBKDF2, SHA-256 MAC) */
    ok = x != NULL && (p12 = PKCS12_create(pass, NULL, key, x, chain, 0, 0, 0, 0, 0)) != NULL;
    snprintf(path, sizeof path, "%s/renew-%03d.pfx", dir, i);
    b = ok ? BIO_new_file(path, "wb") : NULL;
    ok = ok && b != NULL && i2d_PKCS12_bio(b, p12) == 1;
    ok = BIO_free(b) == 1 && ok;
    if (!ok)
      fail(path);
    PKCS12_free(p12);
    p12 = NULL;
    X509_free(x);
  }
  sk_X509_free(chain);
  X509_free(inter);
  X509_free(root);
  EVP_PKEY_free(root_key);
  EVP_PKEY_free(inter_key);
  EVP_PKEY_free(key);
  return ok;
}

int main(int argc, char **argv) {
  int ok = 0;
  if (argc == 4 && strcmp(argv[1], "monitor") == 0 && atoi(argv[3]) > 0)
    ok = monitor(argv[2], atoi(argv[3]));
  else if (argc == 6 && strcmp(argv[1], "renewals") == 0 && atoi(argv[3]) > 0)
    ok = renewals(argv[2], atoi(argv[3]), argv[4], argv[5]);
  else
    fprintf(stderr, "usage: gencerts monitor DIR N | renewals DIR N HOST PASSWORD\n");
  return ok ? 0 : 1;
}
