/* Inside certsteward-worker: what worker.c (the answering commands and the dispatch)
 * takes from worker_stage.c (the staging of a validated file) and worker_check.c
 * (certsteward check). Not for other files. */
#ifndef CS_WORKER_INT_H
#define CS_WORKER_INT_H

#include <openssl/x509.h>

#include "config.h"
#include "error.h"
#include "load.h"
#include "opts.h"
#include "text.h"
#include "validate.h"

/* The worker's exit statuses: answered (a rejected file too), could not do what was
 * asked (an "error" line says why), bad usage */
#define EXIT_ANSWERED 0
#define EXIT_FAILED 1
#define EXIT_USAGE 2

/* worker.c: the options of a command (a usage error becomes an answer's error line,
 * -1); an error line and code; the leaf's description lines (thumbprint, subject,
 * not_after, not_after_epoch, dns) */
int cs__worker_args(int argc, char **argv, cs_opt_t *opts, const char **operands, int *n, cs_buf_t *out);
int cs__worker_fail(cs_buf_t *out, int code, const char *text);
int cs__worker_put_leaf(cs_buf_t *out, X509 *leaf);

/* worker_request.c: certsteward-worker request make|join|delete (the renewal with no
 * person's key, request and issued certificate) */
int cs__worker_request(int argc, char **argv, cs_buf_t *out);

/* worker_adcs.c: certsteward-worker adcs submit|poll|identify ([request] route = adcs) */
int cs__worker_adcs(int argc, char **argv, cs_buf_t *out);

/* Writes the staged files of the accepted file b into dir (worker_stage.c). */
int cs__worker_stage(const char *dir, const cs_config_t *cfg, const cs_validate_t *v, const cs_bundle_t *b,
                     STACK_OF(X509) *chain, cs_err_t *err);

/* certsteward check with its own output and exit statuses (worker_check.c). */
int cs__worker_check(int argc, char **argv);

#endif
