/* certsteward-worker: the staging of a validated file (validate --stage DIR): the PEM
 * files the store installs, the leaf in DER and, where the system store imports one,
 * the PKCS#12 (pfx.h), written into the stage folder with the modes a key needs. */
#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fault.h"
#include "pfx.h"
#include "platform.h"
#include "policy.h"
#include "statedir.h"
#include "worker_int.h"

/* Frees a memory BIO that held key material, wiping its buffer first. */
static void free_secret_bio(BIO *b) {
  BUF_MEM *m = NULL;
  if (b != NULL && BIO_get_mem_ptr(b, &m) == 1 && m != NULL && m->data != NULL)
    OPENSSL_cleanse(m->data, m->max);
  BIO_free(b);
}

/* leaf (unless NULL), then chain in its order. */
static int pem_certs(BIO *b, X509 *leaf, STACK_OF(X509) *chain) {
  int i;
  if (leaf != NULL && !PEM_write_bio_X509(b, leaf))
    return 0;
  for (i = 0; i < sk_X509_num(chain); i++)
    if (!PEM_write_bio_X509(b, sk_X509_value(chain, i)))
      return 0;
  return 1;
}

static const char *const staged_names[] = {CS_STAGE_CERT, CS_STAGE_CHAIN, CS_STAGE_KEY, CS_STAGE_BUNDLE,
                                           CS_STAGE_LEAF_DER};
enum { S_CERT, S_CHAIN, S_KEY, S_BUNDLE, S_DER, S_N };

/* Writes the files the store installs (platform.h: cs_plat_store_install) into
 * dir, created 0700. The certificates after the leaf are chain, the chain that
 * validation built (cs_validate_file), not what the file held: a lone leaf gets
 * the intermediate from the trust anchors, a certificate of the file off the
 * path is left out, the self-signed root is never sent. An existing file is
 * removed first: cs_plat_write_atomic keeps an existing file's mode, and a key
 * must not inherit a readable one. On failure the files written are removed again.
 * Windows also gets what its store imports (pfx.h, cs_pfx_stage): the PKCS#12, or
 * for a file without key that v accepted against a key in the store, no key file at
 * all but the thumbprint whose key the certificate is bound to: the certificate in
 * service's (v->store_key, a renewal that kept its key) or its own (v->own_key, a
 * rollback to a certificate still in the store with its key), or (v->pending, which
 * validation set) the request whose private key waits in the store for it, which the
 * store joins it to as certreq -accept does. The PKCS#12 is written on Windows only:
 * nothing else reads it, and every copy of a key on disk is one more to protect. */
int cs__worker_stage(const char *dir, const cs_config_t *cfg, const cs_validate_t *v, const cs_bundle_t *b,
                     STACK_OF(X509) *chain, cs_err_t *err) {
  static const int modes[S_N] = {0644, 0644, 0600, 0600, 0644};
  int pending = b->key == NULL && v->pending[0] != '\0'; /* accepted with its request's key */
  int own = b->key == NULL && v->own_key && !pending;    /* accepted: so the store holds its key */
  int keyless = b->key == NULL && (v->store_key || own || pending);
  EVP_PKEY *key = b->key ? b->key : keyless ? NULL : v->policy.service_key;
  BIO *bios[S_N] = {NULL};
  char path[S_N][4096], bound_tp[41] = "";
  char *data;
  long len;
  int i, written = 0, rc;

  if (key == NULL && !keyless) {
    rc = cs_err_set(err, CS_EINVAL, 0, "no private key to stage (the file has none and no --key was given)");
    goto out;
  }
  if (keyless && !pending && cs_x509_thumbprint(own ? b->leaf : v->current.leaf, bound_tp) != CS_OK) {
    rc = cs_err_set(err, CS_ECRYPTO, 0, "cannot read the thumbprint of the certificate whose key it keeps");
    goto out;
  }
  if (chain == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "no verified chain to stage");
    goto out;
  }
  for (i = 0; i < S_N; i++) {
    if (cs_plat_path_join(path[i], sizeof path[i], dir, staged_names[i]) != CS_OK) {
      rc = cs_err_set(err, CS_EINVAL, 0, "stage folder path too long");
      goto out;
    }
    if ((bios[i] = BIO_new(BIO_s_mem())) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
  }
  /* Unencrypted PKCS#8: the server reads it unattended from a root-only file.
   * Key-less: key.pem and bundle.pem stay empty and are not written. */
  if (!pem_certs(bios[S_CERT], b->leaf, chain) || !pem_certs(bios[S_CHAIN], NULL, chain) ||
      (key != NULL && !PEM_write_bio_PKCS8PrivateKey(bios[S_KEY], key, NULL, NULL, 0, NULL, NULL)) ||
      (key != NULL && !pem_certs(bios[S_BUNDLE], b->leaf, chain)) ||
      (key != NULL && !PEM_write_bio_PKCS8PrivateKey(bios[S_BUNDLE], key, NULL, NULL, 0, NULL, NULL)) ||
      !i2d_X509_bio(bios[S_DER], b->leaf)) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot encode the staged files");
    goto out;
  }
  if ((rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)
    goto out;
  for (written = 0; written < S_N; written++) {
    len = BIO_get_mem_data(bios[written], &data);
    if (len < 0) {
      rc = cs_err_set(err, CS_ECRYPTO, 0, "cannot encode %s", staged_names[written]);
      goto out;
    }
    if ((rc = cs_plat_remove(path[written], err)) != CS_OK)
      goto out;
    if (key == NULL && (written == S_KEY || written == S_BUNDLE))
      continue;
    if ((rc = cs_plat_write_atomic(path[written], len ? data : "", (size_t)len, modes[written], err)) != CS_OK)
      goto out;
    cs_fault_point2("worker_stage:", staged_names[written]); /* test builds: crash.sh */
  }
  if (cs_plat_store_is_system() && /* the system store imports a PKCS#12 */
      (rc = pending ? cs_pfx_stage_pending(dir, v->pending, err)
                    : cs_pfx_stage(dir, cfg->store.key_provider, b->leaf, key, chain, keyless ? bound_tp : NULL,
                                   err)) != CS_OK)
    goto out;
  rc = CS_OK;
out:
  if (rc != CS_OK)
    for (i = 0; i < written && i < S_N; i++)
      (void)cs_plat_remove(path[i], NULL);
  ERR_clear_error();
  for (i = 0; i < S_N; i++)
    free_secret_bio(bios[i]);
  return rc;
}
