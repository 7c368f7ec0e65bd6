/* CNG key blobs and signatures into OpenSSL's forms (cngblob.h). */
#include "cngblob.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#define P256_BYTES 32
#define RSA_MIN_BITS 1024
#define RSA_MAX_BITS 16384
#define ECDSA_HALF_MAX 66 /* P-521 */

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* An EVP_PKEY of type name ("RSA", "EC") from params, the public half only. */
static int from_params(const char *name, OSSL_PARAM_BLD *bld, EVP_PKEY **out, cs_err_t *err) {
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = NULL;
  int rc = CS_OK;

  if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL || (ctx = EVP_PKEY_CTX_new_from_name(NULL, name, NULL)) == NULL ||
      EVP_PKEY_fromdata_init(ctx) <= 0)
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot make an OpenSSL %s key", name);
  else if (EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) <= 0)
    rc = cs_err_set(err, CS_EFORMAT, (long)ERR_peek_last_error(),
                    "the key storage provider's %s public key is not a valid one", name);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  return rc;
}

static int rsa_blob(const unsigned char *blob, size_t len, EVP_PKEY **out, cs_err_t *err) {
  uint32_t bits = le32(blob + 4), cb_e = le32(blob + 8), cb_n = le32(blob + 12);
  OSSL_PARAM_BLD *bld = NULL;
  BIGNUM *e = NULL, *n = NULL;
  int rc = CS_OK;

  /* the public blob holds no primes; its lengths must account for every byte */
  if (le32(blob + 16) != 0 || le32(blob + 20) != 0 || cb_e == 0 || cb_e > 8 || cb_n == 0 ||
      (size_t)cb_e + cb_n != len - CS_CNG_RSA_HEADER)
    return cs_err_set(err, CS_EFORMAT, 0, "the RSA public key blob's lengths do not add up (%zu bytes)", len);
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS || cb_n != (bits + 7) / 8)
    return cs_err_set(err, CS_EFORMAT, 0, "the RSA public key blob says %lu bits in a %lu-byte modulus",
                      (unsigned long)bits, (unsigned long)cb_n);
  if ((e = BN_bin2bn(blob + CS_CNG_RSA_HEADER, (int)cb_e, NULL)) == NULL ||
      (n = BN_bin2bn(blob + CS_CNG_RSA_HEADER + cb_e, (int)cb_n, NULL)) == NULL ||
      (bld = OSSL_PARAM_BLD_new()) == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
      !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory reading an RSA public key blob");
  else if ((unsigned)BN_num_bits(n) != bits)
    rc = cs_err_set(err, CS_EFORMAT, 0, "the RSA public key blob says %lu bits, its modulus has %d",
                    (unsigned long)bits, BN_num_bits(n));
  else
    rc = from_params("RSA", bld, out, err);
  OSSL_PARAM_BLD_free(bld);
  BN_free(e);
  BN_free(n);
  return rc;
}

static int ecc_blob(const unsigned char *blob, size_t len, EVP_PKEY **out, cs_err_t *err) {
  unsigned char point[1 + 2 * P256_BYTES];
  OSSL_PARAM_BLD *bld = NULL;
  int rc;

  if (le32(blob + 4) != P256_BYTES || len != CS_CNG_ECC_HEADER + 2 * P256_BYTES)
    return cs_err_set(err, CS_EFORMAT, 0, "the P-256 public key blob's lengths do not add up (%zu bytes)", len);
  point[0] = POINT_CONVERSION_UNCOMPRESSED;
  memcpy(point + 1, blob + CS_CNG_ECC_HEADER, 2 * P256_BYTES);
  if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
      !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point))
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory reading a P-256 public key blob");
  else
    rc = from_params("EC", bld, out, err); /* decoding the point checks that it is on the curve */
  OSSL_PARAM_BLD_free(bld);
  return rc;
}

int cs_cng_blob_to_pkey(const unsigned char *blob, size_t len, EVP_PKEY **out, cs_err_t *err) {
  *out = NULL;
  if (blob == NULL || len < CS_CNG_ECC_HEADER)
    return cs_err_set(err, CS_EFORMAT, 0, "the public key blob is too short (%zu bytes)", len);
  if (le32(blob) == CS_CNG_RSAPUBLIC_MAGIC && len >= CS_CNG_RSA_HEADER)
    return rsa_blob(blob, len, out, err);
  if (le32(blob) == CS_CNG_ECDSA_P256_PUBLIC_MAGIC)
    return ecc_blob(blob, len, out, err);
  return cs_err_set(err, CS_EFORMAT, (long)le32(blob),
                    "the public key blob is neither an RSA nor a P-256 ECDSA one (magic 0x%08lx)",
                    (unsigned long)le32(blob));
}

int cs_cng_ecdsa_der(const unsigned char *rs, size_t len, unsigned char **der, size_t *der_len, cs_err_t *err) {
  ECDSA_SIG *sig = NULL;
  BIGNUM *r = NULL, *s = NULL;
  unsigned char *p = NULL;
  int n, rc = CS_OK;

  *der = NULL;
  *der_len = 0;
  if (rs == NULL || len == 0 || len % 2 != 0 || len / 2 > ECDSA_HALF_MAX)
    return cs_err_set(err, CS_EFORMAT, 0, "an ECDSA signature of %zu bytes is no r || s pair", len);
  if ((sig = ECDSA_SIG_new()) == NULL || (r = BN_bin2bn(rs, (int)(len / 2), NULL)) == NULL ||
      (s = BN_bin2bn(rs + len / 2, (int)(len / 2), NULL)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory converting an ECDSA signature");
    goto out;
  }
  if (BN_is_zero(r) || BN_is_zero(s)) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "an ECDSA signature with r or s zero is no signature");
    goto out;
  }
  ECDSA_SIG_set0(sig, r, s); /* sig owns them now */
  r = s = NULL;
  if ((n = i2d_ECDSA_SIG(sig, &p)) <= 0) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot encode an ECDSA signature");
    goto out;
  }
  /* OpenSSL's allocation: copied into one free() releases */
  if ((*der = malloc((size_t)n)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory converting an ECDSA signature");
    goto out;
  }
  memcpy(*der, p, (size_t)n);
  *der_len = (size_t)n;
out:
  OPENSSL_free(p);
  BN_free(r);
  BN_free(s);
  ECDSA_SIG_free(sig);
  return rc;
}
