/* The pure conversions between what Windows' CNG gives for a request key and what
 * OpenSSL takes (common/win/reqkey.c uses them; portable, so that both builds test them
 * with blobs made from OpenSSL keys). The layouts are Microsoft's documented ones:
 * BCRYPT_RSAKEY_BLOB (Magic, BitLength, cbPublicExp, cbModulus, cbPrime1, cbPrime2: six
 * little-endian ULONGs) then the exponent and the modulus, big-endian; BCRYPT_ECCKEY_BLOB
 * (Magic, cbKey) then X and Y, big-endian, cbKey bytes each. */
#ifndef CS_CNGBLOB_H
#define CS_CNGBLOB_H

#include <stddef.h>

#include "platform.h"

#define CS_CNG_RSAPUBLIC_MAGIC 0x31415352UL         /* BCRYPT_RSAPUBLIC_MAGIC, "RSA1" */
#define CS_CNG_ECDSA_P256_PUBLIC_MAGIC 0x31534345UL /* BCRYPT_ECDSA_PUBLIC_P256_MAGIC, "ECS1" */
#define CS_CNG_RSA_HEADER 24                        /* sizeof(BCRYPT_RSAKEY_BLOB) */
#define CS_CNG_ECC_HEADER 8                         /* sizeof(BCRYPT_ECCKEY_BLOB) */

/* The public key of a BCRYPT_RSAPUBLIC_BLOB or a P-256 BCRYPT_ECCPUBLIC_BLOB (len bytes,
 * as NCryptExportKey gave it) as a new OpenSSL key (*out, EVP_PKEY_free). A blob whose
 * lengths do not add up to len, of another kind, or whose point is not on the curve:
 * CS_EFORMAT, saying why. */
int cs_cng_blob_to_pkey(const unsigned char *blob, size_t len, EVP_PKEY **out, cs_err_t *err);

/* An ECDSA signature as CNG gives it (r || s, each half the group's size, big-endian)
 * as the DER Ecdsa-Sig-Value X.509 carries (*der new, free()). CS_EFORMAT when len is
 * odd, zero or over two P-521 halves. */
int cs_cng_ecdsa_der(const unsigned char *rs, size_t len, unsigned char **der, size_t *der_len, cs_err_t *err);

#endif
