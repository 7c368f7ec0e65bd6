/* The certificate request (PKCS#10) for the automatic renewal: the host as CN, the host
 * and the certificate in service's DNS names as SANs, serverAuth, the key's usages, and
 * for AD CS the certificate template's name. One OpenSSL code path on both platforms;
 * only the signature comes from the platform's request key (cs_plat_reqkey_sign), which
 * on Windows never leaves its key storage provider. OpenSSL part (cs_crypto). */
#ifndef CS_CSR_H
#define CS_CSR_H

#include <stddef.h>

#include "platform.h" /* cs_keykind_t, cs_plat_reqkey_t */

struct x509_st;

/* "rsa2048", "rsa3072", "ec-p256" (ASCII case ignored) into *out; other text (NULL
 * too): CS_ECONFIG. */
int cs_keykind_parse(const char *s, cs_keykind_t *out);
/* "rsa2048", ...; "?" for a value out of range. */
const char *cs_keykind_name(cs_keykind_t k);
/* What kind pk is: RSA of 2048 or 3072 bits, EC on P-256; anything else CS_EFORMAT. */
int cs_keykind_of(const EVP_PKEY *pk, cs_keykind_t *out, cs_err_t *err);

typedef struct {
  const char *host;          /* CN and the first SAN */
  const char *const *dns;    /* more SANs (the certificate in service's); */
  size_t n_dns;              /* deduplicated ignoring ASCII case, host not repeated */
  const char *template_name; /* NULL / "": none; else the Microsoft certificate template
                              * name extension (1.3.6.1.4.1.311.20.2, a BMPString) */
} cs_csr_names_t;

/* Builds the request for names with key's public half and signs it with key (SHA-256
 * over the DER of the CertificationRequestInfo), then checks the signature with
 * OpenSSL. *pem is new ("-----BEGIN CERTIFICATE REQUEST-----", free()). A name that is
 * empty, holds a control character or is no DNS name (host: no wildcard; dns: "*." may
 * lead), or a template name that is not text: CS_EINVAL naming it, nothing made. */
int cs_csr_build(const cs_csr_names_t *names, cs_plat_reqkey_t *key, char **pem, cs_err_t *err);

/* The placeholder a request leaves in Windows' LocalMachine\REQUEST store, as certreq
 * -new does: a self-signed certificate (CN = host, a year) with key's public half, signed
 * by key, so that the certificate the CA returns is joined with the key by public key
 * (win/store_pending.c), whoever brings it. *der new (free()). */
int cs_csr_placeholder(const char *host, cs_plat_reqkey_t *key, unsigned char **der, size_t *len, cs_err_t *err);

/* A list of names (cs_csr_cert_names's answer): v[0 .. n), each a new string. */
typedef struct {
  char **v;
  size_t n;
} cs_csr_dns_t;

/* The DNS names of a certificate, for names->dns: its SAN dNSName entries in their
 * order, else its subject's CN(s) when it has no SAN dNSName (what name matching falls
 * back to); duplicates (ASCII case ignored) once. cert_der: DER or PEM (the first
 * certificate). A name that is no DNS name is left out. Free *out with cs_csr_dns_free
 * (also after an error). */
int cs_csr_cert_names(const unsigned char *cert, size_t len, cs_csr_dns_t *out, cs_err_t *err);
int cs_csr_x509_names(struct x509_st *cert, cs_csr_dns_t *out, cs_err_t *err);
void cs_csr_dns_free(cs_csr_dns_t *l);

/* CS_OK when name can name a request key: 1 to CS_REQKEY_NAME_MAX of [A-Za-z0-9._-],
 * not "." nor ".." nor starting with '.' (a hidden or temp file's name); else CS_EINVAL
 * saying so. */
int cs_reqkey_name_check(const char *name, cs_err_t *err);

/* 1 when s is a DNS name a request may carry: labels of letters, digits and '-' (not at
 * either end), 1 to 63 each, 253 in all, no trailing dot; wildcard 1 lets "*." lead. */
int cs_csr_dns_ok(const char *s, int wildcard);

#endif
