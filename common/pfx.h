/* The PKCS#12 the worker hands to the Windows certificate store, built in memory
 * with OpenSSL in the one form every supported Windows reads: Server 2016 before
 * 1709 cannot open AES-256 / PBKDF2 files, so key and certificates are encrypted
 * with PBE-SHA1-3DES and the MAC is HMAC-SHA-1. Also the stage files that tell
 * cs_plat_store_install (common/win/store.c, which reads them) what to import. */
#ifndef CS_PFX_H
#define CS_PFX_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "error.h"

#include "statedir.h" /* CS_PFX_FILE, CS_PFX_INFO_FILE: the stage folder's files */

/* Provider names for [store] key_provider (a PKCS#12 names the provider Windows
 * imports its key into in the Microsoft CSP name attribute, 1.3.6.1.4.1.311.17.1). */
#define CS_PFX_KSP_NAME "Microsoft Software Key Storage Provider"               /* cng */
#define CS_PFX_CSP_NAME "Microsoft Enhanced RSA and AES Cryptographic Provider" /* capi */

typedef struct cs_pfx_opts_s {
  const char *password; /* encrypts key and certificates and keys the MAC; not NULL */
  const char *friendly; /* friendlyName of the certificate; NULL = none */
  const char *key_name; /* friendlyName of the key bag, which Windows takes as the name of
                           the key container it creates (a GUID when taken; real Windows
                           only: under Wine all imports share one container); NULL = none */
  const char *csp;      /* the provider the key goes into (CS_PFX_*_NAME); NULL = Windows' choice */
} cs_pfx_opts_t;

/* PKCS#12 of leaf, key (must be leaf's) and chain (may be NULL or empty; certificates
 * after the leaf), linked by a localKeyID, as DER in *der (new; free with
 * cs_pfx_free, which wipes it). CS_EINVAL (key is not leaf's), CS_ECRYPTO, CS_ENOMEM. */
int cs_pfx_build(X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain, const cs_pfx_opts_t *o, unsigned char **der,
                 size_t *len, cs_err_t *err);
void cs_pfx_free(unsigned char *der, size_t len);

/* The provider name [store] key_provider stands for: CS_PFX_KSP_NAME for cng,
 * CS_PFX_CSP_NAME for capi, NULL for default (or NULL). */
const char *cs_pfx_provider(const char *key_provider);

/* Writes into dir (which must exist) what the Windows store imports besides the staged
 * certificate files (leaf.der, chain.pem):
 *  - key not NULL: CS_PFX_FILE (cs_pfx_build with a random password, the key container
 *    name certsteward-<thumbprint>-<random> and the provider of key_provider) and
 *    CS_PFX_INFO_FILE with the lines "pfx store.pfx", "password <hex>", "container <name>";
 *  - key NULL (a key already in the store): CS_PFX_INFO_FILE only, with the line
 *    "keyless <bound_tp>": the store binds the certificate to the key of the
 *    certificate bound_tp, the one in service (a renewal that kept its key), or the
 *    certificate's own thumbprint (a rollback to a certificate still in
 *    LocalMachine\My with its key: the store adds nothing, and refuses when it is
 *    no longer there with that key).
 * The password protects nothing the folder's ACL does not (dir is the service's own,
 * like the staged key.pem); it is there because Windows reads an empty or missing
 * PKCS#12 password in more than one way. CS_EINVAL for a key the provider cannot
 * hold (capi: RSA only) or a keyless call without bound_tp; files written are
 * removed again on failure. */
int cs_pfx_stage(const char *dir, const char *key_provider, X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
                 const char *bound_tp, cs_err_t *err);

/* Writes into dir (which must exist) CS_PFX_INFO_FILE with the line "pending <pending_tp>":
 * the store joins the key-less certificate (leaf.der) to the private key that its
 * request left in the store's pending requests (Windows: LocalMachine\REQUEST entry
 * pending_tp, as cs_plat_store_pending found it), as certreq -accept does. CS_EINVAL
 * when pending_tp is not a thumbprint. */
int cs_pfx_stage_pending(const char *dir, const char *pending_tp, cs_err_t *err);

#endif
