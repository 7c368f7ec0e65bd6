/* Inside certsteward-worker: what worker.c (the answering commands and the dispatch)
 * takes from worker_stage.c (the staging of a validated file) and worker_check.c
 * (certsteward check). Not for other files. */
#ifndef CS_WORKER_INT_H
#define CS_WORKER_INT_H

#include <openssl/x509.h>

#include "config.h"
#include "error.h"
#include "load.h"
#include "validate.h"

/* Writes the staged files of the accepted file b into dir (worker_stage.c). */
int cs__worker_stage(const char *dir, const cs_config_t *cfg, const cs_validate_t *v, const cs_bundle_t *b,
                     STACK_OF(X509) *chain, cs_err_t *err);

/* certsteward check with its own output and exit statuses (worker_check.c). */
int cs__worker_check(int argc, char **argv);

#endif
