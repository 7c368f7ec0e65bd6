/* Asking the worker process (certsteward-worker, next to certsteward) to do the
 * work that touches untrusted input or OpenSSL: validating a dropped file, probing
 * an endpoint. A worker that crashes, hangs or answers garbage is an error here,
 * never a crash of the caller. Crypto-free. */
#ifndef CS_WORKER_H
#define CS_WORKER_H

#include "error.h"
#include "reply.h"

#define CS_WORKER_NAME "certsteward-worker"
#define CS_WORKER_TIMEOUT_MS 60000

typedef struct cs_worker_s {
  char exe[4096];
  const char *config_path; /* passed on as --config; NULL = built-in defaults (not owned) */
} cs_worker_t;

/* Finds the worker next to this executable. */
int cs_worker_init(cs_worker_t *w, const char *config_path, cs_err_t *err);

/* Validates file (current / key: the certificate and key in service, may be ""
 * or NULL; stage_dir: where to stage it when accepted, may be NULL). The verdict
 * is in reply->report; CS_EFAILED when the worker failed (reason in err). */
int cs_worker_validate(const cs_worker_t *w, const char *file, const char *current, const char *key,
                       const char *stage_dir, cs_reply_t *reply, cs_err_t *err);

/* What endpoint (host:port) serves with SNI sni: its thumbprint in served. */
int cs_worker_probe(const cs_worker_t *w, const char *endpoint, const char *sni, int timeout_ms, char served[41],
                    cs_err_t *err);

/* Thumbprint, subject and expiry of the certificate in a file (reply fields). */
int cs_worker_scan(const cs_worker_t *w, const char *file, cs_reply_t *reply, cs_err_t *err);

#endif
