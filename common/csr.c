/* The certificate request (csr.h): built by OpenSSL, signed by the platform's request
 * key. The request is assembled, its CertificationRequestInfo encoded (i2d_re_X509_REQ_tbs)
 * and handed to cs_plat_reqkey_sign, and the signature put in place with its algorithm:
 * the same path whether the key is a file (POSIX) or stays in a key storage provider
 * (Windows). The signature is checked with OpenSSL before the request is given out. */
#include "csr.h"
#include "text.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DNS_MAX 253
#define LABEL_MAX 63
#define TEMPLATE_MAX 255 /* characters; AD CS template names are far shorter */
#define CERT_MAX (1024 * 1024)
#define OID_TEMPLATE_NAME "1.3.6.1.4.1.311.20.2" /* szOID_ENROLL_CERTTYPE_EXTENSION */

static const char *const kind_names[] = {"rsa2048", "rsa3072", "ec-p256"};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static int same_ci(const char *a, const char *b) {
  for (; *a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b); a++, b++)
    ;
  return *a == '\0' && *b == '\0';
}

/* s as it can be shown in a message (control characters escaped). */
static const char *shown(cs_buf_t *b, const char *s) {
  cs_buf_free(b);
  cs_text_sanitize(b, s);
  return cs_buf_str(b) != NULL ? cs_buf_str(b) : "?";
}

int cs_keykind_parse(const char *s, cs_keykind_t *out) {
  size_t i;
  for (i = 0; s != NULL && i < sizeof kind_names / sizeof kind_names[0]; i++)
    if (same_ci(s, kind_names[i])) {
      *out = (cs_keykind_t)i;
      return CS_OK;
    }
  return CS_ECONFIG;
}

const char *cs_keykind_name(cs_keykind_t k) {
  return (unsigned)k < sizeof kind_names / sizeof kind_names[0] ? kind_names[k] : "?";
}

int cs_keykind_of(const EVP_PKEY *pk, cs_keykind_t *out, cs_err_t *err) {
  char group[64];
  size_t n = 0;
  if (pk != NULL && EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) == 2048)
    *out = CS_KEYKIND_RSA2048;
  else if (pk != NULL && EVP_PKEY_is_a(pk, "RSA") && EVP_PKEY_get_bits(pk) == 3072)
    *out = CS_KEYKIND_RSA3072;
  else if (pk != NULL && EVP_PKEY_is_a(pk, "EC") && EVP_PKEY_get_group_name(pk, group, sizeof group, &n) == 1 &&
           strcmp(group, SN_X9_62_prime256v1) == 0)
    *out = CS_KEYKIND_EC_P256;
  else
    return cs_err_set(err, CS_EFORMAT, 0, "the request key is of no kind made for requests (%s, %d bits)",
                      pk != NULL ? EVP_PKEY_get0_type_name(pk) : "none", pk != NULL ? EVP_PKEY_get_bits(pk) : 0);
  return CS_OK;
}

int cs_reqkey_name_check(const char *name, cs_err_t *err) {
  size_t i, n = name != NULL ? strlen(name) : 0;
  int ok = n > 0 && n <= CS_REQKEY_NAME_MAX && name[0] != '.';
  for (i = 0; ok && i < n; i++)
    ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
         (name[i] >= '0' && name[i] <= '9') || name[i] == '.' || name[i] == '_' || name[i] == '-';
  if (!ok) {
    cs_buf_t b = {0};
    cs_err_set(err, CS_EINVAL, 0,
               "\"%s\" cannot name a request key (1 to %d of A-Z a-z 0-9 . _ -, not starting with '.')",
               shown(&b, name != NULL ? name : ""), CS_REQKEY_NAME_MAX);
    cs_buf_free(&b);
    return CS_EINVAL;
  }
  return CS_OK;
}

int cs_csr_dns_ok(const char *s, int wildcard) {
  size_t i = 0, label = 0, n;
  if (s == NULL || (n = strlen(s)) == 0 || n > DNS_MAX)
    return 0;
  if (wildcard && s[0] == '*' && s[1] == '.' && s[2] != '\0')
    i = 2;
  for (; i <= n; i++) {
    char c = s[i];
    if (c == '.' || c == '\0') {
      /* empty label (leading, doubled or trailing dot); '-' at either end */
      if (label == 0 || s[i - 1] == '-' || s[i - label] == '-')
        return 0;
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-') {
      if (++label > LABEL_MAX)
        return 0;
    } else
      return 0;
  }
  return 1;
}

static int template_ok(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s), i = 0, chars = 0;
  while (i < n) {
    unsigned long cp;
    size_t k = cs_utf8_decode(p + i, n - i, &cp);
    /* a BMPString holds the Basic Multilingual Plane only */
    if (k == 0 || cs_text_unsafe_cp(cp) || cp > 0xFFFF || ++chars > TEMPLATE_MAX)
      return 0;
    i += k;
  }
  return chars > 0;
}

/* Every name checked before anything is made; the SAN list: host, then each of dns
 * once. *sans is new (free(); the strings are borrowed). */
static int check_names(const cs_csr_names_t *names, const char ***sans, size_t *n_sans, cs_err_t *err) {
  cs_buf_t b = {0};
  size_t i, j;
  int rc = CS_OK;

  *sans = NULL;
  *n_sans = 0;
  if (names == NULL || names->host == NULL || names->host[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "the request has no host name");
  if (!cs_csr_dns_ok(names->host, 0))
    rc = cs_err_set(err, CS_EINVAL, 0, "the host name \"%s\" is no DNS name a request can carry",
                    shown(&b, names->host));
  for (i = 0; rc == CS_OK && i < names->n_dns; i++)
    if (names->dns[i] == NULL || !cs_csr_dns_ok(names->dns[i], 1))
      rc = cs_err_set(err, CS_EINVAL, 0, "the certificate's name \"%s\" is no DNS name a request can carry",
                      names->dns[i] != NULL ? shown(&b, names->dns[i]) : "");
  if (rc == CS_OK && names->template_name != NULL && names->template_name[0] != '\0' &&
      !template_ok(names->template_name))
    rc = cs_err_set(err, CS_EINVAL, 0,
                    "the certificate template name \"%s\" is not a name (printable text of up to %d characters)",
                    shown(&b, names->template_name), TEMPLATE_MAX);
  cs_buf_free(&b);
  if (rc != CS_OK)
    return rc;
  if ((*sans = malloc((names->n_dns + 1) * sizeof **sans)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  (*sans)[(*n_sans)++] = names->host;
  for (i = 0; i < names->n_dns; i++) {
    for (j = 0; j < *n_sans && !same_ci((*sans)[j], names->dns[i]); j++)
      ;
    if (j == *n_sans)
      (*sans)[(*n_sans)++] = names->dns[i];
  }
  return CS_OK;
}

/* The template name extension: its value the DER of a BMPString. */
static X509_EXTENSION *template_ext(const char *name) {
  ASN1_STRING *bmp = NULL;
  ASN1_OCTET_STRING *oct = NULL;
  ASN1_OBJECT *obj = NULL;
  X509_EXTENSION *ext = NULL;
  unsigned char *der = NULL;
  int n;

  if (ASN1_mbstring_copy(&bmp, (const unsigned char *)name, -1, MBSTRING_UTF8, B_ASN1_BMPSTRING) > 0 &&
      (n = i2d_ASN1_BMPSTRING(bmp, &der)) > 0 && (oct = ASN1_OCTET_STRING_new()) != NULL &&
      ASN1_OCTET_STRING_set(oct, der, n) && (obj = OBJ_txt2obj(OID_TEMPLATE_NAME, 1)) != NULL)
    ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, oct);
  ASN1_OBJECT_free(obj);
  ASN1_OCTET_STRING_free(oct);
  OPENSSL_free(der);
  ASN1_STRING_free(bmp);
  return ext;
}

/* SAN (not critical: the subject has a CN), keyUsage (critical, as RFC 5280 asks),
 * extendedKeyUsage serverAuth, and the template's name. */
static int add_extensions(X509_REQ *req, const char *const *sans, size_t n_sans, int rsa, const char *template_name) {
  STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
  GENERAL_NAMES *gens = GENERAL_NAMES_new();
  ASN1_BIT_STRING *ku = ASN1_BIT_STRING_new();
  EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
  X509_EXTENSION *tmpl = NULL;
  size_t i;
  int ok = exts != NULL && gens != NULL && ku != NULL && eku != NULL;

  for (i = 0; ok && i < n_sans; i++) {
    GENERAL_NAME *g = GENERAL_NAME_new();
    ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();
    ok = g != NULL && ia5 != NULL && ASN1_STRING_set(ia5, sans[i], -1);
    if (ok) {
      GENERAL_NAME_set0_value(g, GEN_DNS, ia5);
      ia5 = NULL;
      ok = sk_GENERAL_NAME_push(gens, g) > 0;
      if (ok)
        g = NULL;
    }
    ASN1_IA5STRING_free(ia5);
    GENERAL_NAME_free(g);
  }
  ok = ok && ASN1_BIT_STRING_set_bit(ku, 0, 1) /* digitalSignature */ && (!rsa || ASN1_BIT_STRING_set_bit(ku, 2, 1));
  ok = ok && sk_ASN1_OBJECT_push(eku, OBJ_nid2obj(NID_server_auth)) > 0;
  ok = ok && X509V3_add1_i2d(&exts, NID_subject_alt_name, gens, 0, X509V3_ADD_APPEND) == 1 &&
       X509V3_add1_i2d(&exts, NID_key_usage, ku, 1, X509V3_ADD_APPEND) == 1 &&
       X509V3_add1_i2d(&exts, NID_ext_key_usage, eku, 0, X509V3_ADD_APPEND) == 1;
  if (ok && template_name != NULL && template_name[0] != '\0') {
    ok = (tmpl = template_ext(template_name)) != NULL && sk_X509_EXTENSION_push(exts, tmpl) > 0;
    if (ok)
      tmpl = NULL;
  }
  ok = ok && X509_REQ_add_extensions(req, exts) == 1;
  X509_EXTENSION_free(tmpl);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  GENERAL_NAMES_free(gens);
  ASN1_BIT_STRING_free(ku);
  sk_ASN1_OBJECT_free(eku); /* OBJ_nid2obj's objects are static */
  return ok;
}

/* The signature algorithm of the key's kind, set into alg */
static int set_algo(X509_ALGOR *alg, int rsa) {
  return X509_ALGOR_set0(alg, OBJ_nid2obj(rsa ? NID_sha256WithRSAEncryption : NID_ecdsa_with_SHA256),
                         rsa ? V_ASN1_NULL : V_ASN1_UNDEF, NULL);
}

/* Signs the n bytes of tbs (a to-be-signed encoding) with key into bits, every bit of the
 * signature kept (no trailing zero bits dropped on encoding) */
static int sign_into(cs_plat_reqkey_t *key, const unsigned char *tbs, int n, ASN1_BIT_STRING *bits, cs_err_t *err) {
  unsigned char *sig = NULL;
  size_t sig_len = 0;
  int rc = cs_plat_reqkey_sign(key, tbs, (size_t)n, &sig, &sig_len, err);
  if (rc == CS_OK && (sig_len > 0x7fffffff || !ASN1_BIT_STRING_set(bits, sig, (int)sig_len)))
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (rc == CS_OK) {
    bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
    bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  }
  free(sig);
  return rc;
}

/* Signs the request's CertificationRequestInfo with key and puts the signature and its
 * algorithm in place. */
static int sign(X509_REQ *req, cs_plat_reqkey_t *key, int rsa, cs_err_t *err) {
  unsigned char *tbs = NULL;
  X509_ALGOR *alg = X509_ALGOR_new();
  ASN1_BIT_STRING *bits = ASN1_BIT_STRING_new();
  int n, rc = CS_OK;

  if (alg == NULL || bits == NULL || !set_algo(alg, rsa) || X509_REQ_set1_signature_algo(req, alg) != 1 ||
      (n = i2d_re_X509_REQ_tbs(req, &tbs)) <= 0) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot encode the certificate request");
    goto out;
  }
  if ((rc = sign_into(key, tbs, n, bits, err)) != CS_OK)
    goto out;
  X509_REQ_set0_signature(req, bits);
  bits = NULL;
out:
  X509_ALGOR_free(alg);
  ASN1_BIT_STRING_free(bits);
  OPENSSL_free(tbs);
  return rc;
}

int cs_csr_build(const cs_csr_names_t *names, cs_plat_reqkey_t *key, char **pem, cs_err_t *err) {
  const char **sans = NULL;
  size_t n_sans = 0;
  X509_REQ *req = NULL;
  X509_NAME *subject = NULL;
  EVP_PKEY *pub;
  BIO *bio = NULL;
  BUF_MEM *mem = NULL;
  int rsa, rc;

  *pem = NULL;
  if ((rc = check_names(names, &sans, &n_sans, err)) != CS_OK)
    goto out;
  if (key == NULL || (pub = cs_plat_reqkey_public(key)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "no key for the certificate request");
    goto out;
  }
  rsa = cs_plat_reqkey_kind(key) != CS_KEYKIND_EC_P256;
  if ((req = X509_REQ_new()) == NULL || (subject = X509_NAME_new()) == NULL ||
      X509_REQ_set_version(req, X509_REQ_VERSION_1) != 1 ||
      !X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8, (const unsigned char *)names->host, -1, -1,
                                  0) ||
      X509_REQ_set_subject_name(req, subject) != 1 || X509_REQ_set_pubkey(req, pub) != 1 ||
      !add_extensions(req, sans, n_sans, rsa, names->template_name)) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot build the certificate request");
    goto out;
  }
  if ((rc = sign(req, key, rsa, err)) != CS_OK)
    goto out;
  /* a signature the key's public half does not verify never leaves */
  if (X509_REQ_verify(req, pub) != 1) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(),
                    "the certificate request's signature does not verify with its key (%s)", cs_plat_reqkey_where(key));
    goto out;
  }
  if ((bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_X509_REQ(bio, req) != 1 ||
      BIO_get_mem_ptr(bio, &mem) != 1 || (*pem = (char *)cs_memdup(mem->data, mem->length)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, (long)ERR_peek_last_error(), "cannot write the certificate request");
    goto out;
  }
out:
  ERR_clear_error();
  BIO_free(bio);
  X509_NAME_free(subject);
  X509_REQ_free(req);
  free(sans);
  return rc;
}

void cs_csr_dns_free(cs_csr_dns_t *l) {
  size_t i;
  for (i = 0; l != NULL && l->v != NULL && i < l->n; i++)
    free(l->v[i]);
  if (l != NULL) {
    free(l->v);
    l->v = NULL;
    l->n = 0;
  }
}

/* Adds the n bytes at s once to l when they are a DNS name. */
static int add_name(cs_csr_dns_t *l, const unsigned char *s, int n) {
  char *name, **v;
  size_t i;
  if (n <= 0 || n > DNS_MAX || memchr(s, '\0', (size_t)n) != NULL)
    return CS_OK;
  if ((name = (char *)cs_memdup(s, (size_t)n)) == NULL)
    return CS_ENOMEM;
  for (i = 0; i < l->n && !same_ci(l->v[i], name); i++)
    ;
  if (i < l->n || !cs_csr_dns_ok(name, 1)) {
    free(name);
    return CS_OK;
  }
  if ((v = realloc(l->v, (l->n + 1) * sizeof *v)) == NULL) {
    free(name);
    return CS_ENOMEM;
  }
  l->v = v;
  l->v[l->n++] = name;
  return CS_OK;
}

int cs_csr_x509_names(X509 *cert, cs_csr_dns_t *out, cs_err_t *err) {
  GENERAL_NAMES *gens;
  X509_NAME *subject;
  int i, rc = CS_OK, any_dns = 0;

  out->v = NULL;
  out->n = 0;
  if (cert == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "no certificate to take names from");
  gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  for (i = 0; rc == CS_OK && i < sk_GENERAL_NAME_num(gens); i++) {
    const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
    if (g->type == GEN_DNS) {
      any_dns = 1;
      rc = add_name(out, ASN1_STRING_get0_data(g->d.dNSName), ASN1_STRING_length(g->d.dNSName));
    }
  }
  GENERAL_NAMES_free(gens);
  /* RFC 6125: the CN counts only when there is no SAN dNSName */
  subject = X509_get_subject_name(cert);
  for (i = -1; rc == CS_OK && !any_dns && (i = X509_NAME_get_index_by_NID(subject, NID_commonName, i)) >= 0;) {
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
    if (n > 0)
      rc = add_name(out, utf8, n);
    OPENSSL_free(utf8);
  }
  if (rc != CS_OK)
    cs_err_set(err, rc, 0, "out of memory reading the certificate's names");
  return rc;
}

int cs_csr_cert_names(const unsigned char *cert, size_t len, cs_csr_dns_t *out, cs_err_t *err) {
  X509 *x = NULL;
  const unsigned char *p = cert;
  int rc;

  out->v = NULL;
  out->n = 0;
  if (cert == NULL || len == 0 || len > CERT_MAX)
    return cs_err_set(err, CS_EFORMAT, 0, "no certificate to take names from (%zu bytes)", len);
  if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
    BIO *bio = BIO_new_mem_buf(cert, (int)len);
    x = bio != NULL ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
  }
  ERR_clear_error();
  if (x == NULL)
    return cs_err_set(err, CS_EFORMAT, 0, "the certificate to take names from is neither DER nor PEM");
  rc = cs_csr_x509_names(x, out, err);
  X509_free(x);
  return rc;
}

/* OpenSSL 3.0 hands out a certificate's signature algorithm and value as const pointers
 * only (X509_get0_tbs_sigalg, X509_get0_signature); they point into the certificate,
 * which the caller owns and changes here before it encodes it */
static void *owned(const void *p) {
  union {
    const void *c;
    void *m;
  } u;
  u.c = p;
  return u.m;
}

int cs_csr_placeholder(const char *host, cs_plat_reqkey_t *key, unsigned char **der, size_t *len, cs_err_t *err) {
  X509 *x = NULL;
  X509_NAME *name = NULL;
  EVP_PKEY *pub = cs_plat_reqkey_public(key);
  const ASN1_BIT_STRING *psig = NULL;
  const X509_ALGOR *palg = NULL;
  unsigned char *tbs = NULL, *out = NULL;
  int n, rc = CS_OK, rsa = cs_plat_reqkey_kind(key) != CS_KEYKIND_EC_P256;

  *der = NULL;
  *len = 0;
  if (pub == NULL || host == NULL || !cs_csr_dns_ok(host, 0))
    return cs_err_set(err, CS_EINVAL, 0, "no key or no valid host for the request's placeholder");
  if ((x = X509_new()) == NULL || (name = X509_NAME_new()) == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x), 1) != 1 ||
      !X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8, (const unsigned char *)host, -1, -1, 0) ||
      X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
      X509_gmtime_adj(X509_getm_notAfter(x), 365L * 86400) == NULL || X509_set_pubkey(x, pub) != 1 ||
      !set_algo(owned(X509_get0_tbs_sigalg(x)), rsa)) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot build the request's placeholder");
    goto out;
  }
  /* the outer algorithm and signature: OpenSSL 3.0 has no setter for a certificate's, only
   * these pointers (the request's path has X509_REQ_set0_signature) */
  X509_get0_signature(&psig, &palg, x);
  if (!set_algo(owned(palg), rsa) || (n = i2d_re_X509_tbs(x, &tbs)) <= 0) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot encode the request's placeholder");
    goto out;
  }
  if ((rc = sign_into(key, tbs, n, owned(psig), err)) != CS_OK)
    goto out;
  if (X509_verify(x, pub) != 1 || (n = i2d_X509(x, &out)) <= 0) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(),
                    "the request's placeholder does not verify with its key (%s)", cs_plat_reqkey_where(key));
    goto out;
  }
  if ((*der = cs_memdup(out, (size_t)n)) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else
    *len = (size_t)n;
out:
  ERR_clear_error();
  OPENSSL_free(tbs);
  OPENSSL_free(out);
  X509_NAME_free(name);
  X509_free(x);
  return rc;
}
