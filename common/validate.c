/* The validation set-up shared by `certsteward check` and certsteward-worker
 * (validate.h): both must judge a file by the very same policy. */
#include "validate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>

#include "password.h"
#include "platform.h"

void cs_validate_close(cs_validate_t *v) {
  X509_STORE_free(v->policy.trust);
  EVP_PKEY_free(v->policy.service_key);
  EVP_PKEY_free(v->request_key);
  cs_bundle_free(&v->current);
  cs_password_free(v->password);
  memset(v, 0, sizeof *v);
}

/* Why the certificate or key in service cannot be read (cs_load_content_error). */
static int in_service_unreadable(int rc, const cs_err_t *why, const char *what, const char *path, cs_err_t *err) {
  if (cs_load_content_error(rc))
    return cs_err_set(err, rc, 0, "cannot read the %s in service %s as a %s (" CS_LOAD_UNSAID ")", what, path,
                      strcmp(what, "key") == 0 ? "private key" : "certificate");
  return cs_err_set(err, rc, why->raw, "cannot read the %s in service %s: %s", what, path, why->text);
}

int cs_validate_open(cs_validate_t *v, const cs_config_t *cfg, const cs_validate_opts_t *o, cs_err_t *err) {
  const char *pw_file = o->password_file ? o->password_file : cfg->watch.password_file;
  const char *ca_file = o->ca_file ? o->ca_file : cfg->policy.ca_file;
  cs_err_t why;
  int rc;

  memset(v, 0, sizeof *v);
  cs_err_clear(&why);
  if ((rc = cs_crypto_init(err)) != CS_OK) /* legacy PFX files need the legacy provider */
    goto out;
  v->max_file_size = (size_t)cfg->watch.max_file_size;
  if ((rc = cs_config_host(cfg, o->host, v->host, sizeof v->host, err)) != CS_OK)
    goto out;
  v->policy.host = v->host;

  if (pw_file != NULL && (rc = cs_password_read(pw_file, &v->password, err)) != CS_OK)
    goto out;
  if ((rc = cs_policy_trust_load(ca_file, &v->policy.trust, err)) != CS_OK)
    goto out;
  if (o->current != NULL) {
    rc = cs_load_file(o->current, v->max_file_size, CS_READ_NOFOLLOW, v->password, &v->current, &why);
    if (rc != CS_OK) {
      rc = in_service_unreadable(rc, &why, "certificate", o->current, err);
      goto out;
    }
    v->policy.current = v->current.leaf;
  }
  if (o->key != NULL) {
    rc = cs_load_key_file(o->key, v->max_file_size, v->password, &v->policy.service_key, &why);
    if (rc != CS_OK) {
      rc = in_service_unreadable(rc, &why, "key", o->key, err);
      goto out;
    }
  } else if (o->key_in_store && v->current.leaf != NULL) {
    /* The key never leaves the store: what key_match compares is the public half. */
    if ((v->policy.service_key = X509_get_pubkey(v->current.leaf)) == NULL) {
      rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(),
                      "cannot read the public key of the certificate in service %s", o->current);
      ERR_clear_error();
      goto out;
    }
    v->store_key = 1;
  }
  /* the request's key: not the file's fault when it cannot be read (the file is then
   * judged as any key-less one) */
  if (o->request_key != NULL &&
      cs_load_key_file(o->request_key, v->max_file_size, NULL, &v->request_key, &why) != CS_OK)
    v->request_key = NULL;
  v->own_key = o->own_key_in_store && v->policy.service_key == NULL;
  v->pending_ok = o->own_key_in_store;
  v->cfg = cfg;
  v->policy.min_valid_days = cfg->policy.min_valid_days;
  v->policy.min_rsa_bits = cfg->policy.min_rsa_bits;
  v->policy.allow_sha1 = cfg->policy.allow_sha1;
  v->policy.require_cn = cfg->policy.require_cn;
  v->policy.now = time(NULL);
  rc = CS_OK;
out:
  if (rc != CS_OK)
    cs_validate_close(v);
  return rc;
}

/* The verdict of a key-less file joined to its request's key (the store's wording:
 * only Windows keeps pending requests, cs_plat_store_pending). */
#define PENDING_OK                                                                                                     \
  "no key in the file; its private key waits in LocalMachine\\REQUEST from the request made on this machine "          \
  "(entry %s): it is joined to it as certreq -accept does"

/* Replaces the check at (key_match) by a new verdict, in its place. */
static int replace_check(cs_report_t *r, size_t at, bool ok, const char *detail) {
  if (cs_report_add(r, r->checks[at].id, ok, "%s", detail) != CS_OK)
    return CS_ENOMEM;
  free(r->checks[at].detail); /* the new verdict, added last, takes the old one's place */
  r->checks[at] = r->checks[--r->n_checks];
  return CS_OK;
}

/* Whether the private key of leaf waits in the store, left by a request made on this
 * machine (cs_plat_store_pending, which opens it and compares its public half): 1
 * with v->pending named; else 0 and note, "" or what to add to the refusal (an entry
 * for its key that cannot serve; the store not readable: refused, fail closed). */
static int ask_pending(cs_validate_t *v, X509 *leaf, char *note, size_t len) {
  unsigned char *der = NULL;
  char why[512];
  cs_err_t err;
  int n, rc = CS_EFORMAT;
  note[0] = '\0';
  v->pending[0] = '\0';
  cs_err_clear(&err);
  if (!v->pending_ok)
    return 0;
  if ((n = i2d_X509(leaf, &der)) > 0)
    rc = cs_plat_store_pending(der, (size_t)n, v->pending, why, sizeof why, &err);
  ERR_clear_error();
  OPENSSL_free(der);
  if (rc < 0)
    snprintf(note, len, "; whether a request made on this machine left its private key in the store cannot be told: %s",
             err.text[0] ? err.text : cs_strerror(rc));
  else if (rc == 0 && why[0])
    snprintf(note, len, "; %s", why);
  if (rc != 1)
    v->pending[0] = '\0';
  return rc == 1;
}

/* (cs_plat_store_key_matches, which opens the key and compares its public half, is not
 * asked here yet: under Wine the machine key of a certificate put back by a rollback
 * is not opened; see common/win/store_key.c.)
 * v->own_key and a file without key: policy.c's key_match ("no private key") is
 * replaced, in its place, by whether the store holds the certificate with a key linked
 * to it (only real Windows proves that the key itself is still there: the link is a
 * property naming a key container; the grant and the probe find out), else whether
 * its request left its key in the store. */
static int own_key_check(cs_validate_t *v, const cs_bundle_t *b, cs_report_t *r) {
  cs_plat_cert_t *certs = NULL;
  size_t n = 0, i, at;
  int found = -1; /* -1 not in the store, 0 there without key, 1 with */
  char tp[41], note[640], text[1024];
  cs_err_t err;

  for (at = 0; at < r->n_checks && strcmp(r->checks[at].id, CS_CHECK_KEY_MATCH) != 0; at++)
    ;
  if (at == r->n_checks) /* no key check made: nothing to replace */
    return CS_OK;
  if (cs_x509_thumbprint(b->leaf, tp) != CS_OK) {
    return replace_check(r, at, false, "no key in the file, and its thumbprint cannot be read");
  } else if (cs_plat_store_list(v->cfg, &certs, &n, &err) != CS_OK) {
    snprintf(text, sizeof text, "no key in the file, and the certificate store cannot be read: %s", err.text);
    return replace_check(r, at, false, text);
  }
  for (i = 0; i < n; i++)
    if (strcmp(certs[i].tp, tp) == 0)
      found = certs[i].has_key != 0;
  cs_plat_store_list_free(certs, n);
  if (found == 1)
    return replace_check(r, at, true,
                         "no key in the file; the certificate is in LocalMachine\\My with its own "
                         "private key, which it keeps");
  if (ask_pending(v, b->leaf, note, sizeof note)) {
    snprintf(text, sizeof text, PENDING_OK, v->pending);
    return replace_check(r, at, true, text);
  }
  snprintf(text, sizeof text,
           "no key in the file, and the certificate is %s: certsteward has no key "
           "for it; drop a PFX file with its private key instead%s",
           found == 0 ? "in LocalMachine\\My without a private key" : "not in LocalMachine\\My", note);
  return replace_check(r, at, false, text);
}

/* v->store_key and a file without key that key_match refused (its public key is not
 * the one in service): accepted instead when its request left its key in the store;
 * else the refusal stays, with why an entry there could not serve. */
static int pending_check(cs_validate_t *v, const cs_bundle_t *b, cs_report_t *r) {
  char note[640], text[1024];
  size_t at;
  for (at = 0; at < r->n_checks && strcmp(r->checks[at].id, CS_CHECK_KEY_MATCH) != 0; at++)
    ;
  if (at == r->n_checks || r->checks[at].ok)
    return CS_OK;
  if (ask_pending(v, b->leaf, note, sizeof note)) {
    snprintf(text, sizeof text, PENDING_OK, v->pending);
    return replace_check(r, at, true, text);
  }
  if (note[0] == '\0')
    return CS_OK;
  snprintf(text, sizeof text, "%s%s", r->checks[at].detail, note);
  return replace_check(r, at, false, text);
}

int cs_validate_file(cs_validate_t *v, const char *file, unsigned flags, cs_bundle_t *b, cs_report_t *r,
                     STACK_OF(X509) **chain) {
  cs_err_t err;
  int rc;
  cs_err_clear(&err);
  v->pending[0] = '\0';
  if (chain != NULL)
    *chain = NULL;
  rc = cs_load_file(file, v->max_file_size, flags, v->password, b, &err);
  if (rc != CS_OK)
    return cs_report_add(r, CS_CHECK_LOAD, false, "%s", err.text[0] ? err.text : cs_strerror(rc));
  /* a certificate issued for the request in flight, dropped alone: joined with its key */
  if (b->key == NULL && b->leaf != NULL && v->request_key != NULL &&
      EVP_PKEY_eq(X509_get0_pubkey(b->leaf), v->request_key) == 1 && EVP_PKEY_up_ref(v->request_key) == 1)
    b->key = v->request_key;
  if ((rc = cs_policy_check(&v->policy, b, r, chain)) == CS_OK && b->key == NULL && b->leaf != NULL) {
    if (v->own_key)
      rc = own_key_check(v, b, r);
    else if (v->store_key && v->pending_ok)
      rc = pending_check(v, b, r);
  }
  if (rc != CS_OK && chain != NULL) {
    sk_X509_pop_free(*chain, X509_free);
    *chain = NULL;
  }
  return rc;
}

int cs_x509_describe(X509 *x, char thumbprint[41], char **subject, char not_after[21], long long *not_after_epoch) {
  const ASN1_TIME *na = X509_get0_notAfter(x);
  ASN1_TIME *epoch = NULL;
  BIO *bio = NULL;
  struct tm tm;
  char *text;
  long len;
  int days = 0, secs = 0, rc = CS_ECRYPTO;

  *subject = NULL;
  not_after[0] = '\0';
  *not_after_epoch = 0;
  if (cs_x509_thumbprint(x, thumbprint) != CS_OK)
    goto out;
  /* notAfter as a count from 1970 by OpenSSL itself: timegm is neither C11 nor on Windows. */
  epoch = ASN1_TIME_set(NULL, 0);
  if (na == NULL || epoch == NULL || !ASN1_TIME_to_tm(na, &tm) || !ASN1_TIME_diff(&days, &secs, epoch, na))
    goto out;
  strftime(not_after, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
  *not_after_epoch = (long long)days * 86400 + secs;
  /* The report's form (policy.c): RFC 2253, UTF-8 kept, control characters escaped,
   * so a subject from the probe compares equal to one from a validation. */
  rc = CS_ENOMEM;
  bio = BIO_new(BIO_s_mem());
  if (bio == NULL || X509_NAME_print_ex(bio, X509_get_subject_name(x), 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    goto out;
  len = BIO_get_mem_data(bio, &text);
  if (len < 0 || (*subject = malloc((size_t)len + 1)) == NULL)
    goto out;
  memcpy(*subject, text, (size_t)len);
  (*subject)[len] = '\0';
  rc = CS_OK;
out:
  ERR_clear_error();
  BIO_free(bio);
  ASN1_TIME_free(epoch);
  return rc;
}
