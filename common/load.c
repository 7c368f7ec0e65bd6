/* Certificate file loading. The format is told by content: PEM armour, else the
 * DER structure that parses (PKCS#12, X.509, PKCS#7). OpenSSL does the parsing. */
#include "load.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>

#include "platform.h"

/* Password callback state: tells "no password configured" from "wrong password". */
typedef struct pw_s {
  const char *password;
  int asked;
} pw_t;

static int pw_cb(char *buf, int size, int rwflag, void *u) {
  pw_t *pw = u;
  size_t n;
  (void)rwflag;
  pw->asked = 1;
  if (pw->password == NULL)
    return -1;
  n = strlen(pw->password);
  if (n > (size_t)size)
    return -1;
  memcpy(buf, pw->password, n);
  return (int)n;
}

/* The reason OpenSSL gave last, then an empty error queue (it must not leak into
 * the next file's verdict). */
static const char *ossl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_last_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;
  snprintf(buf, len, "%s", r ? r : "no detail");
  ERR_clear_error();
  return buf;
}

static OSSL_PROVIDER *prov_default, *prov_legacy;

static void crypto_unload(void) {
  OSSL_PROVIDER_unload(prov_legacy);
  OSSL_PROVIDER_unload(prov_default);
  prov_legacy = prov_default = NULL;
}

int cs_crypto_init(cs_err_t *err) {
  if (prov_default != NULL)
    return CS_OK;
  /* Loading "legacy" alone would disable "default": load both, default first. */
  prov_default = OSSL_PROVIDER_load(NULL, "default");
  if (prov_default == NULL)
    return cs_err_set(err, CS_ECRYPTO, (long)ERR_get_error(), "cannot load OpenSSL's default provider");
  /* Not fatal when missing: modern files still load; legacy ones fail with a clear reason. */
  prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
  ERR_clear_error();
  /* Runs before OpenSSL's own exit handler, registered earlier. */
  atexit(crypto_unload);
  return CS_OK;
}

const char *cs_format_name(cs_format_t f) {
  switch (f) {
  case CS_FMT_PKCS12:
    return "PKCS#12";
  case CS_FMT_PEM:
    return "PEM";
  case CS_FMT_DER:
    return "DER";
  case CS_FMT_PKCS7:
    return "PKCS#7";
  default:
    return "unknown";
  }
}

void cs_bundle_free(cs_bundle_t *b) {
  X509_free(b->leaf);
  sk_X509_pop_free(b->chain, X509_free);
  EVP_PKEY_free(b->key); /* OpenSSL clears private key material on free */
  memset(b, 0, sizeof *b);
}

/* 1 if some other certificate in certs was issued by c. */
static int issued_another(STACK_OF(X509) *certs, X509 *c) {
  int i;
  for (i = 0; i < sk_X509_num(certs); i++) {
    X509 *o = sk_X509_value(certs, i);
    if (o != c && X509_check_issued(c, o) == X509_V_OK)
      return 1;
  }
  return 0;
}

/* Moves certs into b: the leaf is the certificate of the key when there is one,
 * else the one certificate that issued no other and is not a CA, else the first. */
static int pick_leaf(cs_bundle_t *b, STACK_OF(X509) *certs, cs_err_t *err) {
  int i, leaf = -1;
  if (sk_X509_num(certs) == 0)
    return cs_err_set(err, CS_EFORMAT, 0, "the file holds no certificate");
  for (i = 0; b->key != NULL && leaf < 0 && i < sk_X509_num(certs); i++) {
    if (X509_check_private_key(sk_X509_value(certs, i), b->key) == 1)
      leaf = i;
  }
  ERR_clear_error();
  for (i = 0; leaf < 0 && i < sk_X509_num(certs); i++) {
    X509 *c = sk_X509_value(certs, i);
    if (X509_check_ca(c) == 0 && !issued_another(certs, c))
      leaf = i;
  }
  if (leaf < 0)
    leaf = 0;
  b->leaf = sk_X509_delete(certs, leaf);
  b->chain = certs;
  return CS_OK;
}

static int load_pkcs12(const unsigned char *data, size_t len, const char *password, cs_bundle_t *b, cs_err_t *err) {
  const unsigned char *p = data;
  PKCS12 *p12 = NULL;
  X509 *cert = NULL;
  STACK_OF(X509) *ca = NULL;
  char why[256];
  int rc;

  p12 = d2i_PKCS12(NULL, &p, (long)len);
  if (p12 == NULL) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "malformed PKCS#12 file (%s)", ossl_reason(why, sizeof why));
    goto out;
  }
  /* PKCS12_parse checks the MAC itself (with no password: "" and none): its
   * failure is told by the reason it leaves last, not by checking (and paying
   * for the key derivation) twice. */
  ERR_clear_error();
  if (!PKCS12_parse(p12, password, &b->key, &cert, &ca)) {
    unsigned long e = ERR_peek_last_error();
    if (ERR_GET_LIB(e) == ERR_LIB_PKCS12 && ERR_GET_REASON(e) == PKCS12_R_MAC_VERIFY_FAILURE) {
      ERR_clear_error();
      rc = cs_err_set(err, CS_EPASSWORD, 0, "%s",
                      password == NULL ? "the PKCS#12 file is password-protected and no password is configured "
                                         "([watch] password_file)"
                                       : "wrong password for the PKCS#12 file (integrity check failed)");
    } else {
      rc = cs_err_set(err, CS_EFORMAT, 0, "cannot decrypt the PKCS#12 file (%s)", ossl_reason(why, sizeof why));
    }
    goto out;
  }
  if (ca == NULL && (ca = sk_X509_new_null()) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if (cert != NULL) {
    if (!sk_X509_insert(ca, cert, 0)) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    cert = NULL;
  }
  b->format = CS_FMT_PKCS12;
  rc = pick_leaf(b, ca, err);
  if (rc == CS_OK)
    ca = NULL;
out:
  X509_free(cert);
  sk_X509_pop_free(ca, X509_free);
  PKCS12_free(p12);
  return rc;
}

/* Appends the certificates of a signed-data PKCS#7 to certs. */
static int take_pkcs7_certs(PKCS7 *p7, STACK_OF(X509) *certs, cs_err_t *err) {
  STACK_OF(X509) *in = NULL;
  int i;
  if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL)
    in = p7->d.sign->cert;
  else if (PKCS7_type_is_signedAndEnveloped(p7) && p7->d.signed_and_enveloped != NULL)
    in = p7->d.signed_and_enveloped->cert;
  else
    return cs_err_set(err, CS_EFORMAT, 0, "the PKCS#7 structure is not a certificate bundle");
  for (i = 0; in != NULL && i < sk_X509_num(in); i++) {
    if (!X509_add_cert(certs, sk_X509_value(in, i), X509_ADD_FLAG_UP_REF))
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  return CS_OK;
}

/* 1 if the text s occurs in data[0..len). */
static int mem_find(const unsigned char *data, size_t len, const char *s) {
  size_t n = strlen(s), i;
  for (i = 0; i + n <= len; i++)
    if (data[i] == (unsigned char)s[0] && memcmp(data + i, s, n) == 0)
      return 1;
  return 0;
}

/* PEM armour may follow a byte-order mark, blank lines or explanatory text. */
static int is_pem(const unsigned char *data, size_t len) { return mem_find(data, len, "-----BEGIN "); }

/* The first private key of a PEM text (PKCS#8 plain or encrypted, traditional RSA / EC). */
static int read_pem_key(const unsigned char *data, size_t len, const char *password, EVP_PKEY **key, cs_err_t *err) {
  BIO *bio = BIO_new_mem_buf(data, (int)len);
  pw_t pw = {password, 0};
  char why[256];
  int rc = CS_OK;

  *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw) : NULL;
  if (bio == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else if (*key == NULL && pw.asked && password == NULL)
    rc = cs_err_set(err, CS_EPASSWORD, 0,
                    "the private key is encrypted and no password is configured ([watch] password_file)");
  else if (*key == NULL && pw.asked)
    rc = cs_err_set(err, CS_EPASSWORD, 0, "cannot decrypt the private key: wrong password (%s)",
                    ossl_reason(why, sizeof why));
  else if (*key == NULL)
    rc = cs_err_set(err, CS_EFORMAT, 0, "the private key block is malformed (%s)", ossl_reason(why, sizeof why));
  ERR_clear_error();
  BIO_free(bio);
  return rc;
}

/* Adds the certificate(s) of one PEM block to certs by its label; other labels
 * (keys, requests, CRLs, parameters) are left alone. */
static int take_pem_block(const char *name, const unsigned char *der, long len, cs_bundle_t *b, STACK_OF(X509) *certs,
                          cs_err_t *err) {
  const unsigned char *p = der;
  X509 *x = NULL;
  PKCS7 *p7 = NULL;
  int rc = CS_OK;
  char why[256];

  if (strcmp(name, PEM_STRING_X509) == 0 || strcmp(name, PEM_STRING_X509_OLD) == 0) {
    x = d2i_X509(NULL, &p, len);
  } else if (strcmp(name, PEM_STRING_X509_TRUSTED) == 0) {
    x = d2i_X509_AUX(NULL, &p, len);
  } else if (strcmp(name, PEM_STRING_PKCS7) == 0 || strcmp(name, PEM_STRING_PKCS7_SIGNED) == 0) {
    if ((p7 = d2i_PKCS7(NULL, &p, len)) == NULL)
      return cs_err_set(err, CS_EFORMAT, 0, "the PKCS#7 block of the PEM file is malformed (%s)",
                        ossl_reason(why, sizeof why));
    b->format = CS_FMT_PKCS7;
    rc = take_pkcs7_certs(p7, certs, err);
    PKCS7_free(p7);
    return rc;
  } else {
    return CS_OK;
  }
  if (x == NULL)
    return cs_err_set(err, CS_EFORMAT, 0, "a certificate block of the PEM file is malformed (%s)",
                      ossl_reason(why, sizeof why));
  if (!sk_X509_push(certs, x)) {
    X509_free(x);
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  return CS_OK;
}

static int load_pem(const unsigned char *data, size_t len, const char *password, cs_bundle_t *b, cs_err_t *err) {
  BIO *bio = NULL;
  STACK_OF(X509) *certs = NULL;
  char *name = NULL, *header = NULL, why[256];
  unsigned char *der = NULL;
  long der_len = 0;
  unsigned long e;
  int rc;

  certs = sk_X509_new_null();
  bio = BIO_new_mem_buf(data, (int)len);
  if (certs == NULL || bio == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  /* Each block by its label: OpenSSL's typed readers accept aliases (a
   * CERTIFICATE block read as PKCS#7), so dispatch here instead. */
  while (PEM_read_bio(bio, &name, &header, &der, &der_len) == 1) {
    rc = take_pem_block(name, der, der_len, b, certs, err);
    OPENSSL_free(name);
    OPENSSL_free(header);
    OPENSSL_clear_free(der, (size_t)der_len); /* may be a private key */
    name = header = NULL;
    der = NULL;
    if (rc != CS_OK)
      goto out;
  }
  e = ERR_peek_last_error();
  if (ERR_GET_LIB(e) != ERR_LIB_PEM || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "a block of the PEM file is malformed or truncated (%s)",
                    ossl_reason(why, sizeof why));
    goto out;
  }
  ERR_clear_error();
  if (mem_find(data, len, "PRIVATE KEY-----") && (rc = read_pem_key(data, len, password, &b->key, err)) != CS_OK)
    goto out;
  if (b->format == CS_FMT_UNKNOWN)
    b->format = CS_FMT_PEM;
  rc = pick_leaf(b, certs, err);
  if (rc == CS_OK)
    certs = NULL;
out:
  BIO_free(bio);
  sk_X509_pop_free(certs, X509_free);
  return rc;
}

/* DER: a PKCS#12, an X.509 certificate or a PKCS#7 bundle. */
static int load_der(const unsigned char *data, size_t len, const char *password, cs_bundle_t *b, cs_err_t *err) {
  const unsigned char *p = data;
  long obj_len = 0;
  int tag = 0, cls = 0, rc, ret;
  X509 *x = NULL;
  PKCS7 *p7 = NULL;
  PKCS12 *p12 = NULL;
  STACK_OF(X509) *certs = NULL;

  ret = ASN1_get_object(&p, &obj_len, &tag, &cls, (long)len);
  if ((ret & 0x80) || tag != V_ASN1_SEQUENCE) {
    rc = cs_err_set(err, CS_EFORMAT, 0,
                    (ret & 0x80) && tag == V_ASN1_SEQUENCE
                        ? "the file is truncated: its DER structure is longer than the %zu bytes present"
                        : "not a certificate file: neither PEM nor DER (PKCS#12, X.509, PKCS#7), %zu bytes",
                    len);
    goto out;
  }
  p = data;
  if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) != NULL) {
    PKCS12_free(p12);
    p12 = NULL;
    rc = load_pkcs12(data, len, password, b, err);
    goto out;
  }
  p = data;
  if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
    if ((certs = sk_X509_new_null()) == NULL || !sk_X509_push(certs, x)) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    x = NULL;
    b->format = CS_FMT_DER;
  } else if ((p = data, p7 = d2i_PKCS7(NULL, &p, (long)len)) != NULL) {
    if ((certs = sk_X509_new_null()) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    if ((rc = take_pkcs7_certs(p7, certs, err)) != CS_OK)
      goto out;
    b->format = CS_FMT_PKCS7;
  } else {
    rc =
        cs_err_set(err, CS_EFORMAT, 0, "unrecognised DER structure: not a PKCS#12, X.509 certificate or PKCS#7 bundle");
    goto out;
  }
  rc = pick_leaf(b, certs, err);
  if (rc == CS_OK)
    certs = NULL;
out:
  ERR_clear_error();
  X509_free(x);
  PKCS7_free(p7);
  sk_X509_pop_free(certs, X509_free);
  return rc;
}

int cs_load_mem(const unsigned char *data, size_t len, const char *password, cs_bundle_t *b, cs_err_t *err) {
  int rc;
  memset(b, 0, sizeof *b);
  if (len == 0)
    return cs_err_set(err, CS_EEMPTY, 0, "the file is empty");
  if (len > 0x7fffffff)
    return cs_err_set(err, CS_ETOOBIG, 0, "the file is too big");
  ERR_clear_error();
  rc = is_pem(data, len) ? load_pem(data, len, password, b, err) : load_der(data, len, password, b, err);
  if (rc != CS_OK)
    cs_bundle_free(b);
  return rc;
}

int cs_load_file(const char *path, size_t max, unsigned flags, const char *password, cs_bundle_t *b, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  int rc;
  memset(b, 0, sizeof *b);
  rc = cs_plat_read_file(path, max, flags, &data, &len, err);
  if (rc == CS_OK)
    rc = cs_load_mem(data, len, password, b, err);
  cs_plat_free_file(data, len);
  return rc;
}

int cs_load_content_error(int rc) {
  return rc == CS_EFORMAT || rc == CS_EEMPTY || rc == CS_ETOOBIG || rc == CS_ECRYPTO || rc == CS_EPASSWORD;
}

int cs_load_key_file(const char *path, size_t max, const char *password, EVP_PKEY **key, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  const unsigned char *p;
  cs_bundle_t b;
  int rc;

  memset(&b, 0, sizeof b);
  *key = NULL;
  rc = cs_plat_read_file(path, max, CS_READ_NOFOLLOW, &data, &len, err);
  if (rc != CS_OK)
    goto out;
  if (len == 0) {
    rc = cs_err_set(err, CS_EEMPTY, 0, "%s is empty", path);
  } else if (is_pem(data, len)) {
    rc = read_pem_key(data, len, password, key, err);
  } else if (p = data, (*key = d2i_AutoPrivateKey(NULL, &p, (long)len)) != NULL) {
    rc = CS_OK;
  } else if ((rc = cs_load_mem(data, len, password, &b, err)) == CS_OK) {
    /* the key of a PKCS#12 file */
    *key = b.key;
    b.key = NULL;
    if (*key == NULL)
      rc = cs_err_set(err, CS_EFORMAT, 0, "%s holds no private key", path);
  }
out:
  ERR_clear_error();
  cs_bundle_free(&b);
  cs_plat_free_file(data, len);
  return rc;
}
