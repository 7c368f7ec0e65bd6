/* Validation policy: is a loaded certificate fit to replace the one in service?
 * Every check runs and lands in the report with a stable id (report.h), so an
 * admin sees every reason at once. OpenSSL does the name, chain and key work. */
#ifndef CS_POLICY_H
#define CS_POLICY_H

#include <stdbool.h>
#include <time.h>

#include <openssl/x509.h>

#include "error.h"
#include "load.h"
#include "report.h"

typedef struct cs_policy_s {
  const char *host;  /* DNS name the certificate must carry (SAN, and CN when require_cn) */
  X509_STORE *trust; /* trust anchors (cs_policy_trust_load); NULL: the machine's (Windows) */
  int min_valid_days;
  int min_rsa_bits;
  bool allow_sha1;
  bool require_cn;
  EVP_PKEY *service_key; /* key the server holds now, for key-less files; may be NULL */
  X509 *current;         /* certificate in service now; may be NULL */
  time_t now;
} cs_policy_t;

/* New trust store: the PEM certificates in ca_file; with ca_file NULL, the system's
 * default store (OpenSSL's default paths) on POSIX, and on Windows *store = NULL:
 * the chain check then asks the machine's chain engine (cs_plat_machine_chain).
 * Caller frees with X509_STORE_free. */
int cs_policy_trust_load(const char *ca_file, X509_STORE **store, cs_err_t *err);

/* Fills r's thumbprint, subject and not_after from b's leaf and adds one check
 * per rule. Returns 0 (the verdict is in r) or CS_ENOMEM.
 * chain may be NULL. Otherwise *chain receives, when the chain check passed, the
 * chain that validation built (X509_verify_cert), as a server must send it after
 * the leaf: without the leaf and without the self-signed trust anchor at its top,
 * the leaf's issuer first. Its certificates may come from the file (b->chain) or
 * from the trust anchors (an intermediate in ca_file is sent); a certificate of
 * the file that is not on the path is not in it. It may be empty (a leaf issued
 * by the root itself). NULL when the chain check failed or on error. The caller
 * frees it with sk_X509_pop_free(*chain, X509_free). */
int cs_policy_check(const cs_policy_t *p, const cs_bundle_t *b, cs_report_t *r, STACK_OF(X509) **chain);

/* SHA-1 thumbprint as Windows shows it: 40 upper-case hex digits. */
int cs_x509_thumbprint(X509 *x, char out[41]);

#endif
