/* Loading a certificate file of any supported format, detected by content:
 * PKCS#12 (AES-256 and legacy 3DES/RC2), PEM (certificates, private key, chain,
 * PKCS#7), DER certificate, PKCS#7 bundle (PEM or DER). */
#ifndef CS_LOAD_H
#define CS_LOAD_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "error.h"

typedef enum cs_format_e { CS_FMT_UNKNOWN = 0, CS_FMT_PKCS12, CS_FMT_PEM, CS_FMT_DER, CS_FMT_PKCS7 } cs_format_t;

typedef struct cs_bundle_s {
  cs_format_t format;
  X509 *leaf;            /* the end-entity certificate */
  STACK_OF(X509) *chain; /* every other certificate in the file; never NULL once loaded */
  EVP_PKEY *key;         /* the private key in the file, NULL if none */
} cs_bundle_t;

/* Loads OpenSSL's "default" and "legacy" providers (old PFX files use RC2-40 and
 * 3DES). Call once before loading; safe to call again. */
int cs_crypto_init(cs_err_t *err);

/* "PKCS#12", "PEM", ... */
const char *cs_format_name(cs_format_t f);

/* Parses data (len bytes) into *b. password may be NULL (none configured).
 * Errors: CS_EEMPTY, CS_EFORMAT (garbage, truncated, no certificate),
 * CS_EPASSWORD (needed and missing, or wrong). On error *b is empty.
 * The caller frees *b with cs_bundle_free. */
int cs_load_mem(const unsigned char *data, size_t len, const char *password, cs_bundle_t *b, cs_err_t *err);

/* Reads the file (at most max bytes, CS_READ_* flags, see platform.h), then cs_load_mem. */
int cs_load_file(const char *path, size_t max, unsigned flags, const char *password, cs_bundle_t *b, cs_err_t *err);

/* Loads a private key alone (PEM, DER or the key of a PKCS#12 file), reached with no link in
 * any component of path (the key in service, in a folder others may write); *key owned by the caller. */
int cs_load_key_file(const char *path, size_t max, const char *password, EVP_PKEY **key, cs_err_t *err);

/* 1 when rc (of cs_load_file or cs_load_key_file) is about what the file holds, not
 * about reaching it. A file in service sits in a folder others may write, and whoever
 * can rename a root-only file to its path would learn from the error what the parser
 * said of its content (its size, that it is not PEM): for such a file only that it is
 * not a readable certificate or key is said (CS_LOAD_UNSAID), the file system's
 * answers (no such file, a link, permission) in full. */
int cs_load_content_error(int rc);
#define CS_LOAD_UNSAID "certsteward check on it says why"

/* Frees what b holds; b is left empty. */
void cs_bundle_free(cs_bundle_t *b);

#endif
