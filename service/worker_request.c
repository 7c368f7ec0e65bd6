/* certsteward-worker request: the OpenSSL half of the renewal with no person
 * ([request]; the daemon, which never loads OpenSSL, decides when and keeps the record,
 * common/request.h). make and delete run unconfined (they make and delete the
 * machine's request keys) and parse nothing untrusted; join reads the CA's answer and
 * runs confined, as validate does.
 *
 *   request make --config FILE --name N --host H [--dns "A B ..."] [--template T] --out CSR
 *       makes the key N ([request] key's kind) where it will live (platform.h:
 *       cs_plat_reqkey_make), the request for H and the names (csr.h) into CSR, and
 *       (Windows) its placeholder in LocalMachine\REQUEST (cs_plat_reqkey_place).
 *   request join --config FILE --name N --out FILE ANSWER
 *       reads the CA's answer (PEM certificate and chain, DER, or PKCS#7), checks that
 *       its certificate carries the public key of request N (its .csr; check key_match), and writes the
 *       certificate and its chain, with the key on POSIX, as one PEM file for the renewal
 *       (Windows: the renewal pairs it with the key through its placeholder).
 *   request delete --config FILE --name N
 *       deletes key N (a request given up or rejected); one gone already is fine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "csr.h"
#include "load.h"
#include "platform.h"
#include "reply.h"
#include "report.h"
#include "request.h"
#include "text.h"
#include "worker_int.h"

#define ANSWER_MAX (1024 * 1024)
#define KEY_FILE_MAX (64 * 1024)

enum { O_CONFIG, O_NAME, O_HOST, O_DNS, O_TEMPLATE, O_OUT, O_N };

/* The names of --dns, split at spaces, into v (room for n); their count */
static size_t split_names(char *s, const char **v, size_t n) {
  size_t k = 0;
  char *p = s;
  while (p != NULL && *p != '\0' && k < n) {
    while (*p == ' ')
      p++;
    if (*p == '\0')
      break;
    v[k++] = p;
    p = strchr(p, ' ');
    if (p != NULL)
      *p++ = '\0';
  }
  return k;
}

static int make(const cs_config_t *cfg, cs_opt_t *o, cs_buf_t *out) {
  cs_plat_reqkey_t *key = NULL;
  cs_keykind_t kind;
  cs_csr_names_t names;
  const char *dns[64];
  char *dns_text = NULL, *pem = NULL;
  cs_err_t err;
  int rc = EXIT_FAILED;

  if (o[O_HOST].value == NULL || o[O_OUT].value == NULL)
    return cs__worker_fail(out, EXIT_USAGE, "request make needs --host and --out");
  if (cs_keykind_parse(cfg->request.key, &kind) != CS_OK)
    return cs__worker_fail(out, EXIT_FAILED, "[request] key is not rsa2048, rsa3072 or ec-p256");
  memset(&names, 0, sizeof names);
  names.host = o[O_HOST].value;
  names.template_name = o[O_TEMPLATE].value;
  if (o[O_DNS].value != NULL) {
    if ((dns_text = cs_strdup(o[O_DNS].value)) == NULL)
      return cs__worker_fail(out, EXIT_FAILED, "out of memory");
    names.n_dns = split_names(dns_text, dns, sizeof dns / sizeof dns[0]);
    names.dns = dns;
  }
  if (cs_plat_reqkey_make(cfg, o[O_NAME].value, kind, &key, &err) != CS_OK ||
      cs_csr_build(&names, key, &pem, &err) != CS_OK ||
      cs_plat_write_atomic(o[O_OUT].value, pem, strlen(pem), 0600, &err) != CS_OK ||
      cs_plat_reqkey_place(cfg, key, names.host, &err) != CS_OK) {
    cs_err_t ignored;
    if (key != NULL) /* a key without its request is of no use: not left behind, nor the request */
      (void)cs_plat_reqkey_delete(cfg, o[O_NAME].value, &ignored);
    if (cs_plat_exists(o[O_OUT].value))
      (void)cs_plat_remove(o[O_OUT].value, &ignored);
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  cs_reply_put(out, "file", o[O_OUT].value);
  rc = EXIT_ANSWERED;
out:
  cs_plat_reqkey_free(key);
  free(pem);
  free(dns_text);
  return rc;
}

/* The certificate, its chain and (key_file not NULL: POSIX) the key file's PEM into one
 * PEM file. Windows: no key (it never leaves its provider); the renewal joins the
 * certificate with it through the request's placeholder in LocalMachine\REQUEST. */
static int write_joined(const char *path, const cs_bundle_t *b, const char *key_file, cs_err_t *err) {
  BIO *mem = BIO_new(BIO_s_mem());
  unsigned char *key = NULL;
  size_t key_len = 0;
  char *data;
  long len;
  int i, rc = CS_OK;

  if (mem == NULL || !PEM_write_bio_X509(mem, b->leaf))
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  for (i = 0; rc == CS_OK && b->chain != NULL && i < sk_X509_num(b->chain); i++)
    if (!PEM_write_bio_X509(mem, sk_X509_value(b->chain, i)))
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (rc == CS_OK && key_file != NULL &&
      (rc = cs_plat_read_file(key_file, KEY_FILE_MAX, CS_READ_NOFOLLOW, &key, &key_len, err)) == CS_OK &&
      BIO_write(mem, key, (int)key_len) != (int)key_len)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (rc == CS_OK) {
    len = BIO_get_mem_data(mem, &data);
    rc = cs_plat_write_atomic(path, data, (size_t)len, 0600, err);
  }
  if (key != NULL)
    cs_plat_free_file(key, key_len);
  BIO_free(mem); /* the key's bytes in it: BIO_s_mem's buffer is cleared on free (BUF_MEM_free) */
  return rc;
}

/* The public key of request name, from its .csr (public: no key needs opening) */
static EVP_PKEY *request_public(const cs_config_t *cfg, const char *name, cs_err_t *err) {
  char path[4096];
  unsigned char *data = NULL;
  size_t len = 0;
  BIO *bio = NULL;
  X509_REQ *req = NULL;
  EVP_PKEY *pub = NULL;
  if (cs_request_file(cfg->store.state_dir, name, CS_REQUEST_CSR, path, sizeof path, err) != CS_OK ||
      cs_plat_read_file(path, 64 * 1024, CS_READ_NOFOLLOW, &data, &len, err) != CS_OK)
    return NULL;
  if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL || (req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL)) == NULL ||
      (pub = X509_REQ_get_pubkey(req)) == NULL)
    cs_err_set(err, CS_EFORMAT, 0, "the request %s cannot be read back", path);
  X509_REQ_free(req);
  BIO_free(bio);
  cs_plat_free_file(data, len);
  return pub;
}

/* Runs confined as validate does: the CA's answer is untrusted input. It is compared with
 * the request's public key (its .csr); POSIX appends the key file, which the worker, run
 * as root there like every worker, reads; Windows needs no key (it never leaves its
 * provider: the renewal joins the certificate with it through the placeholder). */
static int join(const cs_config_t *cfg, cs_opt_t *o, const char *answer, cs_buf_t *out) {
  cs_plat_reqkey_t *key = NULL;
  EVP_PKEY *pub = NULL;
  cs_bundle_t b;
  cs_err_t err;
  int rc = EXIT_FAILED, same;

  memset(&b, 0, sizeof b);
  if (o[O_OUT].value == NULL)
    return cs__worker_fail(out, EXIT_USAGE, "request join needs --out");
  if ((pub = request_public(cfg, o[O_NAME].value, &err)) == NULL ||
      (!cs_plat_store_holds_keys() && cs_plat_reqkey_open(cfg, o[O_NAME].value, &key, &err) != CS_OK) ||
      cs_load_file(answer, ANSWER_MAX, CS_READ_NOFOLLOW, NULL, &b, &err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  if (b.leaf == NULL) {
    cs__worker_fail(out, rc, "the CA's answer holds no certificate");
    goto out;
  }
  if (cs__worker_put_leaf(out, b.leaf) != CS_OK) {
    cs__worker_fail(out, rc, "out of memory");
    goto out;
  }
  same = EVP_PKEY_eq(X509_get0_pubkey(b.leaf), pub) == 1;
  cs_reply_put(out, "check",
               same ? CS_CHECK_KEY_MATCH " ok the certificate carries the request's key"
                    : CS_CHECK_KEY_MATCH " failed the certificate carries another public key than the request's");
  if (!same) {
    rc = EXIT_ANSWERED; /* answered: the daemon says it (3209) and keeps the request */
    goto out;
  }
  if (write_joined(o[O_OUT].value, &b, key != NULL ? cs_plat_reqkey_where(key) : NULL, &err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  cs_reply_put(out, "staged", o[O_OUT].value);
  rc = EXIT_ANSWERED;
out:
  EVP_PKEY_free(pub);
  cs_bundle_free(&b);
  cs_plat_reqkey_free(key);
  return rc;
}

int cs__worker_request(int argc, char **argv, cs_buf_t *out) {
  cs_opt_t o[] = {{"config", 1, NULL},   {"name", 1, NULL}, {"host", 1, NULL}, {"dns", 1, NULL},
                  {"template", 1, NULL}, {"out", 1, NULL},  {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)(argc > 0 ? argc : 1));
  const char *op;
  cs_config_t cfg;
  cs_err_t err;
  int n = 0, rc = EXIT_USAGE, have_cfg = 0;

  cs_err_clear(&err);
  if (operands == NULL)
    return cs__worker_fail(out, EXIT_FAILED, "out of memory");
  if (cs__worker_args(argc, argv, o, operands, &n, out) != 0)
    goto out;
  op = n > 0 ? operands[0] : "";
  if (o[O_NAME].value == NULL) {
    cs__worker_fail(out, rc, "request needs --name (the request key's name)");
    goto out;
  }
  if ((o[O_CONFIG].value ? cs_config_load(&cfg, o[O_CONFIG].value, &err) : cs_config_defaults(&cfg)) != CS_OK) {
    rc = cs__worker_fail(out, EXIT_FAILED, err.text[0] ? err.text : "cannot load the configuration");
    goto out;
  }
  have_cfg = 1;
  if (cs_crypto_init(&err) != CS_OK) {
    rc = cs__worker_fail(out, EXIT_FAILED, err.text);
    goto out;
  }
  if (strcmp(op, "make") == 0 && n == 1)
    rc = make(&cfg, o, out);
  else if (strcmp(op, "join") == 0 && n == 2)
    rc = join(&cfg, o, operands[1], out);
  else if (strcmp(op, "delete") == 0 && n == 1)
    rc = cs_plat_reqkey_delete(&cfg, o[O_NAME].value, &err) == CS_OK ? EXIT_ANSWERED
                                                                     : cs__worker_fail(out, EXIT_FAILED, err.text);
  else
    cs__worker_fail(out, rc, "request takes make, join ANSWER or delete");
out:
  if (have_cfg)
    cs_config_free(&cfg);
  free(operands);
  return rc;
}
