/* Validating a certificate file the one way certsteward knows: the policy built
 * from the configuration and the command line (`certsteward check` and the worker
 * share it, so a file the CLI accepts is one the service accepts), then a file
 * loaded and checked into a report. Also the plain description of a certificate
 * (thumbprint, subject, expiry) for answers without a verdict: expiry scan, probe. */
#ifndef CS_VALIDATE_H
#define CS_VALIDATE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "config.h"
#include "error.h"
#include "load.h"
#include "policy.h"
#include "report.h"

/* What the command line says; NULL (or "" for host) falls back to the configuration. */
typedef struct cs_validate_opts_s {
  const char *host;          /* else [connector] host, else this machine's FQDN */
  const char *ca_file;       /* else [policy] ca_file (NULL there = system store) */
  const char *password_file; /* else [watch] password_file (NULL there = none) */
  const char *current;       /* certificate in service, any format; NULL = none */
  const char *key;           /* key in service, for key-less files; NULL = none */
  int key_in_store;          /* the key in service is held by the system's store (Windows), not
                                a file: without key, a file lacking a key is judged against
                                the public key of current (the store binds it to that key) */
  int own_key_in_store;      /* the transaction on Windows: with neither current nor key (a rollback,
                                a first install), a file without key is judged by its own key, which
                                must be in the system's store with that very certificate (the store
                                then imports nothing); and a file without key whose key is neither
                                the one in service nor its own there is accepted when its request
                                left its key in the store (cs_plat_store_pending). Not for `check`,
                                which judges a file alone. */
  const char *request_key;   /* POSIX: the key file of the certificate request in flight
                                ([request], <state_dir>/request/<name>.key); a file without key
                                whose certificate carries its public key takes it (the returned
                                certificate of a request dropped into the drop folder); NULL = none */
} cs_validate_opts_t;

typedef struct cs_validate_s {
  cs_policy_t policy;     /* trust, service_key owned; host points into host[], current into current;
                             service_key is only the current certificate's public key when
                             key_in_store took it from there (then store_key is 1) */
  int store_key;          /* a key-less file is bound to the key of current in the store */
  int own_key;            /* a key-less file is bound to its own key in the store (own_key_in_store,
                             no key in service): accepted only when the store holds it with its key */
  int pending_ok;         /* own_key_in_store: a key-less file may take the key its request left in
                             the store */
  char pending[41];       /* set by cs_validate_file: the store's entry (Windows: LocalMachine\REQUEST)
                             whose private key the accepted key-less file is to be joined to; "" none */
  const cs_config_t *cfg; /* what v was opened with (not owned) */
  char host[256];
  char *password;        /* owned, wiped on close; never printed */
  cs_bundle_t current;   /* the certificate in service, when given */
  EVP_PKEY *request_key; /* opts' request_key, read; NULL when none or unreadable */
  size_t max_file_size;  /* [watch] max_file_size */
} cs_validate_t;

/* Fills v from cfg and o (reads the password file, trust anchors, the certificate
 * and key in service). On error v is closed and err says what (for a person, no
 * secrets). Close with cs_validate_close whatever it returned. */
int cs_validate_open(cs_validate_t *v, const cs_config_t *cfg, const cs_validate_opts_t *o, cs_err_t *err);
void cs_validate_close(cs_validate_t *v);

/* Loads file (at most max_file_size bytes, CS_READ_* flags) and checks it into r,
 * which the caller made with cs_report_init. With v->own_key, the key_match check of
 * a file without key says whether the store holds the certificate with its own key;
 * with v->pending_ok, a file without key that key_match refused (not the key in service,
 * not in the store with its own) is accepted when the private key its request left in
 * the store is its own, named in v->pending. A file that cannot be loaded gets a
 * failed "load" check (the verdict, not an error). b receives what was loaded
 * (empty when the load failed; the caller frees it with cs_bundle_free: the
 * worker stages its leaf and key). chain, when not NULL, receives the verified
 * chain to send after the leaf, as cs_policy_check gives it (NULL unless the
 * chain check passed; the caller frees it with sk_X509_pop_free(*chain,
 * X509_free)): the worker stages it. Returns 0 (verdict in r) or CS_ENOMEM. */
int cs_validate_file(cs_validate_t *v, const char *file, unsigned flags, cs_bundle_t *b, cs_report_t *r,
                     STACK_OF(X509) **chain);

/* Describes x: SHA-1 thumbprint (cs_x509_thumbprint), subject in RFC 2253 (the
 * same form as the report's; *subject new, caller frees with free()), notAfter as
 * YYYY-MM-DDTHH:MM:SSZ and as seconds since 1970. 0, CS_ENOMEM or CS_ECRYPTO. */
int cs_x509_describe(X509 *x, char thumbprint[41], char **subject, char not_after[21], long long *not_after_epoch);

#endif
