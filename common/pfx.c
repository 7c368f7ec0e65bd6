/* The PKCS#12 for the Windows store (pfx.h), assembled bag by bag: PKCS12_create
 * gives the key and the certificate the same friendlyName, but Windows takes the
 * key's as a key container name and shows the certificate's in the MMC. */
#include "pfx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include "bindings.h"
#include "platform.h"
#include "policy.h"
#include "text.h"

/* Readable by every Windows certsteward supports (Server 2016 RTM included). */
#define PBE_NID NID_pbe_WithSHA1And3_Key_TripleDES_CBC
#define PFX_ITER PKCS12_DEFAULT_ITER

void cs_pfx_free(unsigned char *der, size_t len) {
  if (der != NULL)
    OPENSSL_cleanse(der, len);
  OPENSSL_free(der);
}

const char *cs_pfx_provider(const char *key_provider) {
  if (key_provider != NULL && OPENSSL_strcasecmp(key_provider, "cng") == 0)
    return CS_PFX_KSP_NAME;
  if (key_provider != NULL && OPENSSL_strcasecmp(key_provider, "capi") == 0)
    return CS_PFX_CSP_NAME;
  return NULL;
}

int cs_pfx_build(X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain, const cs_pfx_opts_t *o, unsigned char **der,
                 size_t *len, cs_err_t *err) {
  STACK_OF(PKCS12_SAFEBAG) *certs = NULL, *keys = NULL;
  STACK_OF(PKCS7) *safes = NULL;
  PKCS12_SAFEBAG *bag;
  PKCS12 *p12 = NULL;
  X509 *bare = NULL;
  unsigned char md[EVP_MAX_MD_SIZE], *out = NULL;
  unsigned int md_len = 0;
  int i, n, rc = CS_ECRYPTO;

  *der = NULL;
  *len = 0;
  if (o == NULL || o->password == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "a PKCS#12 for Windows needs a password");
  if (X509_check_private_key(leaf, key) != 1) {
    ERR_clear_error();
    return cs_err_set(err, CS_EINVAL, 0, "the private key does not belong to the certificate");
  }
  /* localKeyID (the certificate's SHA-1) is how an importer pairs key and certificate */
  if (!X509_digest(leaf, EVP_sha1(), md, &md_len))
    goto out;
  /* a leaf read from a PKCS#12 keeps that file's friendlyName and localKeyID (X509 aux),
   * which PKCS12_add_cert would copy: ours would then be duplicate attributes */
  if ((bare = X509_dup(leaf)) == NULL || !X509_alias_set1(bare, NULL, 0) || !X509_keyid_set1(bare, NULL, 0))
    goto out;
  if ((bag = PKCS12_add_cert(&certs, bare)) == NULL || !PKCS12_add_localkeyid(bag, md, (int)md_len) ||
      (o->friendly != NULL && !PKCS12_add_friendlyname_utf8(bag, o->friendly, -1)))
    goto out;
  for (i = 0; i < sk_X509_num(chain); i++)
    if (PKCS12_add_cert(&certs, sk_X509_value(chain, i)) == NULL)
      goto out;
  /* key_usage 0: no key usage attribute, so Windows gives an RSA key AT_KEYEXCHANGE (what TLS needs) */
  if ((bag = PKCS12_add_key(&keys, key, 0, PFX_ITER, PBE_NID, o->password)) == NULL ||
      !PKCS12_add_localkeyid(bag, md, (int)md_len) ||
      (o->key_name != NULL && !PKCS12_add_friendlyname_utf8(bag, o->key_name, -1)) ||
      (o->csp != NULL && !PKCS12_add_CSPName_asc(bag, o->csp, -1)))
    goto out;
  /* the certificates in an encrypted safe, the (already shrouded) key in a plain one */
  if (!PKCS12_add_safe(&safes, certs, PBE_NID, PFX_ITER, o->password) || !PKCS12_add_safe(&safes, keys, -1, 0, NULL) ||
      (p12 = PKCS12_add_safes(safes, 0)) == NULL ||
      !PKCS12_set_mac(p12, o->password, -1, NULL, 0, PFX_ITER, EVP_sha1()) || (n = i2d_PKCS12(p12, &out)) <= 0)
    goto out;
  *der = out;
  *len = (size_t)n;
  rc = CS_OK;
out:
  if (rc != CS_OK) {
    unsigned long e = ERR_peek_last_error();
    char why[256];
    ERR_error_string_n(e, why, sizeof why);
    rc = cs_err_set(err, rc, (long)e, "cannot build the PKCS#12 for the Windows store: %s",
                    e != 0 ? why : "unknown OpenSSL error");
  }
  ERR_clear_error();
  sk_PKCS12_SAFEBAG_pop_free(certs, PKCS12_SAFEBAG_free);
  sk_PKCS12_SAFEBAG_pop_free(keys, PKCS12_SAFEBAG_free);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  PKCS12_free(p12);
  X509_free(bare);
  return rc;
}

/* Replaces path with data: an existing file is removed first, so that nothing keeps
 * the mode or ACL of an older one (as the worker's other staged files). */
static int put(const char *path, const void *data, size_t len, cs_err_t *err) {
  int rc = cs_plat_remove(path, err);
  return rc != CS_OK ? rc : cs_plat_write_atomic(path, data, len, 0600, err);
}

static void hex(char *out, const unsigned char *p, size_t n) {
  static const char digits[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n; i++) {
    out[2 * i] = digits[p[i] >> 4];
    out[2 * i + 1] = digits[p[i] & 15];
  }
  out[2 * n] = '\0';
}

int cs_pfx_stage(const char *dir, const char *key_provider, X509 *leaf, EVP_PKEY *key, STACK_OF(X509) *chain,
                 const char *bound_tp, cs_err_t *err) {
  char pfx_path[4096], info_path[4096], tp[41], password[33], nonce[9], key_name[64], friendly[32];
  unsigned char rnd[20];
  unsigned char *der = NULL;
  size_t der_len = 0;
  cs_buf_t info = CS_BUF_INIT;
  cs_pfx_opts_t o;
  struct tm tm;
  int rc, wrote_pfx = 0;

  if (cs_plat_path_join(pfx_path, sizeof pfx_path, dir, CS_PFX_FILE) ||
      cs_plat_path_join(info_path, sizeof info_path, dir, CS_PFX_INFO_FILE))
    return cs_err_set(err, CS_EINVAL, 0, "stage folder path too long");
  if (key == NULL) {
    if (bound_tp == NULL || strlen(bound_tp) != 40)
      return cs_err_set(err, CS_EINVAL, 0,
                        "no private key to stage and no certificate in the store whose key it keeps");
    cs_buf_printf(&info, "keyless %s\n", bound_tp);
  } else {
    memset(&o, 0, sizeof o);
    o.csp = cs_pfx_provider(key_provider);
    if (o.csp != NULL && strcmp(o.csp, CS_PFX_CSP_NAME) == 0 && EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
      rc = cs_err_set(err, CS_EINVAL, 0,
                      "[store] key_provider = capi: the %s holds RSA keys only, and this certificate's key is %s; "
                      "use key_provider = cng or default",
                      CS_PFX_CSP_NAME, OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
      goto out;
    }
    if (cs_x509_thumbprint(leaf, tp) != CS_OK || RAND_bytes(rnd, (int)sizeof rnd) != 1) {
      rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot name the key for the Windows store");
      goto out;
    }
    hex(password, rnd, 16);
    hex(nonce, rnd + 16, 4);
    /* A name of our own, unique per import: the undo can find the container by it even
     * when a crash came before the certificate reached the store. No spaces: some
     * providers and callers mishandle them in container names. */
    snprintf(key_name, sizeof key_name, "certsteward-%s-%s", tp, nonce);
    friendly[0] = '\0';
    if (cs_plat_localtime((long long)time(NULL), &tm) == CS_OK)
      strftime(friendly, sizeof friendly, "certsteward %Y-%m-%d", &tm);
    o.password = password;
    o.friendly = friendly[0] ? friendly : NULL;
    o.key_name = key_name;
    if ((rc = cs_pfx_build(leaf, key, chain, &o, &der, &der_len, err)) != CS_OK)
      goto out;
    cs_buf_printf(&info, "pfx %s\npassword %s\ncontainer %s\n", CS_PFX_FILE, password, key_name);
    if ((rc = put(pfx_path, der, der_len, err)) != CS_OK)
      goto out;
    wrote_pfx = 1;
  }
  if (cs_buf_str(&info) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  rc = put(info_path, info.p, info.len, err);
out:
  if (rc != CS_OK && wrote_pfx)
    (void)cs_plat_remove(pfx_path, NULL);
  cs_pfx_free(der, der_len);
  if (info.p != NULL)
    OPENSSL_cleanse(info.p, info.len);
  cs_buf_free(&info);
  OPENSSL_cleanse(password, sizeof password);
  OPENSSL_cleanse(rnd, sizeof rnd);
  return rc;
}

int cs_pfx_stage_pending(const char *dir, const char *pending_tp, cs_err_t *err) {
  char path[4096], line[64];
  if (pending_tp == NULL || !cs_thumbprint_valid(pending_tp))
    return cs_err_set(err, CS_EINVAL, 0, "no pending request whose private key the certificate is joined to");
  if (cs_plat_path_join(path, sizeof path, dir, CS_PFX_INFO_FILE) != CS_OK)
    return cs_err_set(err, CS_EINVAL, 0, "stage folder path too long");
  snprintf(line, sizeof line, "pending %s\n", pending_tp);
  return put(path, line, strlen(line), err);
}
