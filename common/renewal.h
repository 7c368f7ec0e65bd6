/* The renewal transaction: put a dropped certificate in service and prove it, or
 * leave the old one in service. All of it is in renewal.c:
 *
 *   validate (worker) -> pre-flight (every endpoint serves the old certificate)
 *   -> BEGIN (journal) -> install -> grant key READ -> stop the connector
 *   -> rewrite bindings -> start it -> probe (every endpoint serves the new
 *   certificate) -> COMMIT -> archive old
 *
 * (With an admin's restart_command: install, grant, bindings, restart, probe; the
 * plans are txplan.h's.) The journal is written before each step and names the plan;
 * a failure after BEGIN undoes the steps in reverse order (the connector stopped
 * first where it may run on changed files), brings the connector back and proves the
 * old certificate is served again. cs_renewal_recover does the same at start for a
 * transaction a crash left unfinished, by the plan its journal names (a journal of the
 * previous version: its one plan). Blocking: the daemon runs it off its event loop. The caller holds the
 * state folder's lock. Crypto-free (OpenSSL work goes to the worker). */
#ifndef CS_RENEWAL_H
#define CS_RENEWAL_H

#include "config.h"
#include "error.h"
#include "reply.h"
#include "txplan.h"
#include "worker.h"

typedef enum cs_outcome_e {
  CS_OUT_COMMITTED = 0,   /* the new certificate is in service, proven */
  CS_OUT_VALID,           /* dry run or gate_cb: the file is fit and the pre-flight passed */
  CS_OUT_REJECTED,        /* the file failed validation: nothing changed */
  CS_OUT_REFUSED,         /* pre-flight failed: nothing changed */
  CS_OUT_ROLLED_BACK,     /* a step failed; the old certificate is served again */
  CS_OUT_ROLLBACK_FAILED, /* undoing failed too: manual action needed */
  CS_OUT_ERROR            /* could not run at all (configuration, state folder, worker) */
} cs_outcome_t;

struct cs_renewal_result_s;

typedef struct cs_renewal_env_s {
  const cs_config_t *cfg;
  const cs_worker_t *worker;
  const char *host; /* the DNS name (SNI for probes) */
  const char *name; /* how events name the file (the name it was dropped as); NULL = its path */
  /* cs_renewal_run asks it once the file passed validation and the pre-flight, just
   * before BEGIN (res says what was found): 0 goes on; anything else ends the run
   * there as CS_OUT_VALID, nothing changed (the daemon: outside the maintenance
   * window). NULL: always go on. */
  int (*gate_cb)(const struct cs_renewal_result_s *res, void *arg);
  void *gate_arg;
} cs_renewal_env_t;

typedef struct cs_renewal_result_s {
  cs_outcome_t outcome;
  cs_reply_t validation; /* the worker's verdict on the file, when it ran */
  char old_tp[41];
  char new_tp[41];
  cs_step_t step; /* where it failed or ended (a step of the plan, or a phase
                     outside it: validate, preflight, ...); CS_STEP_NONE when
                     nowhere; cs_step_name says it as events print it */
  cs_err_t err;   /* why it failed */
} cs_renewal_result_t;

const char *cs_outcome_name(cs_outcome_t o); /* "committed", "rolled-back", ... */

/* cs_renewal_run flags */
#define CS_RENEW_DRY_RUN 0x1 /* validation and pre-flight only: nothing changes */
#define CS_RENEW_ROLLBACK                                                                                              \
  0x2 /* a deliberate step back to an archived certificate: not judged                                                 \
         against the one in service (expires_later, names_kept) */
#define CS_RENEW_ADOPT                                                                                                 \
  0x4 /* file is a certificate found where an admin's tool left it (the system store:                                  \
         it is bound to its own key there, which never leaves it; a rollback leaves it                                 \
         in the store, as it was found) */

/* Runs the whole transaction on file (CS_RENEW_* flags). Returns 0 when it ran
 * to an outcome (see res, even for a rejection), or CS_E* when it could not run
 * (res->outcome is CS_OUT_ERROR). Free res with cs_renewal_result_free. */
int cs_renewal_run(const cs_renewal_env_t *env, const char *file, unsigned flags, cs_renewal_result_t *res);

/* At start: finishes (COMMITTED) or rolls back an unfinished transaction.
 * CS_ENOENT when there was none. */
int cs_renewal_recover(const cs_renewal_env_t *env, cs_renewal_result_t *res);

/* The thumbprint of the certificate in service: [connector] thumbprint, else the
 * one the binding files name, else the one in the store's certificate file. */
int cs_renewal_current(const cs_renewal_env_t *env, char tp[41], cs_err_t *err);

void cs_renewal_result_free(cs_renewal_result_t *res);

#endif
