/* The life of a certificate request ([request]; the record is request.h's): made when
 * the certificate in service is due, submitted, polled, and once issued handed over as
 * one file to the renewal transaction. Crypto-free: the key, the request and the CA's
 * answer are the worker's (certsteward-worker request), the CA helper is
 * ca_command.h's, Windows' CA enrollment API adcs.h's (certsteward-worker adcs).
 * Blocking: the daemon runs it off its event loop; the caller holds the state
 * folder's lock. Every step is said as an event (32xx). */
#ifndef CS_REQUEST_FLOW_H
#define CS_REQUEST_FLOW_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "renewal.h"
#include "request.h"
#include "worker.h"

typedef struct cs_reqflow_s {
  const cs_config_t *cfg;
  const cs_worker_t *worker;
  const char *host;       /* the DNS name the request is for */
  const char *in_service; /* the thumbprint in service now; NULL or "" when unknown */
} cs_reqflow_t;

typedef enum {
  CS_RQ_NONE,   /* no request in flight */
  CS_RQ_WAIT,   /* in flight: look again at r->next */
  CS_RQ_ISSUED, /* issued: the file ready (certificate, chain and key) waits to be put in service */
  CS_RQ_HELD,   /* issued, its renewal did not commit: left for an admin's apply */
  CS_RQ_ENDED   /* ended now (rejected, given up): its key and record are gone */
} cs_rq_state_t;

/* Makes a request now: the names of the certificate in service (its SAN DNS names),
 * the key and the request (the worker), the record; then the first submit (route
 * command or adcs) or the outbox (manual). CS_EEXIST when one is in flight already. */
int cs_reqflow_start(const cs_reqflow_t *f, long long now, cs_request_t *r, cs_rq_state_t *st, char *ready,
                     size_t ready_len, cs_err_t *err);

/* Does what is due at now for the request in flight (none: CS_RQ_NONE): gives up past
 * its deadline, submits or polls (route command or adcs), and when the CA issued, checks and
 * joins its answer with the key into ready. */
int cs_reqflow_step(const cs_reqflow_t *f, long long now, cs_request_t *r, cs_rq_state_t *st, char *ready,
                    size_t ready_len, cs_err_t *err);

/* How the renewal of an issued certificate ended, for cs_reqflow_finish */
enum {
  CS_RQ_DONE_COMMITTED, /* in service: the request is over (its files go; POSIX its key file too,
                           installed by then where the service reads it) */
  CS_RQ_DONE_HELD,      /* rejected by a check, or rolled back: held, said now and each day,
                           ready kept for `certsteward apply`, never tried again */
  CS_RQ_DONE_RETRY      /* it could not run (a worker failed, the pre-flight refused): tried
                           again after a back-off */
};
/* why: what is said (held: event 3210 naming ready; retry: 3208 once) */
void cs_reqflow_finish(const cs_reqflow_t *f, cs_request_t *r, int outcome, const char *why, const char *ready);

/* The renewal of ready ended as res says: committed, held (a check or the rollback),
 * waiting for the maintenance window (issued, run when it opens), or again later. */
void cs_reqflow_renewed(const cs_reqflow_t *f, cs_request_t *r, const cs_renewal_result_t *res, const char *ready);

/* 1 when the certificate in service (its thumbprint; NULL or "" when unknown) is no
 * longer the one r renews: cs_reqflow_step then ends r (event 3211), whenever it is due. */
int cs_reqflow_replaced(const char *in_service, const cs_request_t *r);

/* The request in flight is due for a look at now (a held one: to be said again; one in
 * the outbox: to be given up), or none is and the certificate in service (expiring at
 * not_after; 0 = unknown) is due for one, the last request having ended (ended, 0 =
 * never) more than CS_REQUEST_COOLDOWN ago. */
int cs_reqflow_due(const cs_config_t *cfg, const cs_request_t *r, int have_record, long long not_after, long long ended,
                   long long now);

#endif
