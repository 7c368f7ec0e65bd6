/* Asking the worker process (certsteward-worker, next to certsteward) to do the
 * work that touches untrusted input or OpenSSL: validating a dropped file, probing
 * an endpoint, describing certificate files. A worker that crashes, hangs or answers garbage is an error here,
 * never a crash of the caller. Crypto-free. */
#ifndef CS_WORKER_H
#define CS_WORKER_H

#include "ca_command.h"
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

/* The same, and in the same process, once the file is accepted (and staged): what
 * each of endpoints[0..n) serves with SNI sni (each probe bounded by timeout_ms),
 * in reply->preflight in their order. One process instead of two for a renewal's
 * validation and pre-flight; a failed probe is a "-" there, not a failure. */
int cs_worker_validate_probing(const cs_worker_t *w, const char *file, const char *current, const char *key,
                               const char *stage_dir, const char *sni, const char *const *endpoints, size_t n,
                               int timeout_ms, unsigned flags, cs_reply_t *reply, cs_err_t *err);
/* cs_worker_validate_probing flags */
#define CS_WORKER_OWN_KEY                                                                                              \
  0x1 /* file is a certificate of the system store, bound to its own key there (an adopted                             \
       * one): key_match asks whether that key is its own, never compares it with key */

/* The renewal with no person's OpenSSL half (certsteward-worker request; not confined:
 * it makes and opens the machine's request keys). make: a new key name where it will
 * live and the request for host and dns (the certificate in service's names,
 * space-separated; may be NULL) with the template (may be NULL), its PEM into
 * csr_path. join: the CA's answer (a file) checked against key name (reply's check
 * key_match) and, when it carries that key, written with its chain and key as one PEM
 * file out (reply->staged). delete: key name goes. */
int cs_worker_request_make(const cs_worker_t *w, const char *name, const char *host, const char *dns,
                           const char *template_name, const char *csr_path, cs_err_t *err);
int cs_worker_request_join(const cs_worker_t *w, const char *name, const char *answer, const char *out,
                           cs_reply_t *reply, cs_err_t *err);
int cs_worker_request_delete(const cs_worker_t *w, const char *name, cs_err_t *err);

/* [request] route = adcs: certsteward-worker adcs (not confined: the CA sees this
 * computer's account) submits request name (its .csr), polls the CA's request id
 * cookie, or (CS_CA_OP_IDENTIFY, name NULL) asks the CA its name, within timeout_ms.
 * ans (emptied first) holds the CA's answer as a CA helper's; issued: the CA's bytes,
 * read back from <state_dir>/request/<name>.answer. CS_EFAILED when the worker failed
 * (could not start, timed out, said why in an error line: err). */
int cs_worker_adcs(const cs_worker_t *w, cs_ca_op_t op, const char *name, const char *cookie, const char *state_dir,
                   int timeout_ms, cs_ca_answer_t *ans, cs_err_t *err);

/* What endpoint (host:port) serves with SNI sni: its thumbprint in served. */
int cs_worker_probe(const cs_worker_t *w, const char *endpoint, const char *sni, int timeout_ms, char served[41],
                    cs_err_t *err);

/* The same with `confirm` TLS handshakes back to back in one worker process
 * (1 to CS_WORKER_CONFIRM_MAX): served only when every one of them saw the same
 * certificate, else CS_EFAILED naming both (a server answering from old and new
 * processes at once, as a reloading nginx does for a moment). */
#define CS_WORKER_CONFIRM_MAX 10
int cs_worker_probe_confirmed(const cs_worker_t *w, const char *endpoint, const char *sni, int timeout_ms, int confirm,
                              char served[41], cs_err_t *err);

/* Thumbprint, subject and expiry of the certificate in a file (reply fields). */
int cs_worker_scan(const cs_worker_t *w, const char *file, cs_reply_t *reply, cs_err_t *err);

/* The same for files[0..n) in one worker process: out[i] (an array of n from the
 * caller, filled here) describes files[i], or says in out[i].error why it could not
 * ("<file as the worker names it>: <why>"). CS_EFAILED when the worker failed as a
 * whole (it could not start, crashed, timed out, answered garbage or not for exactly
 * these files, in order): then out holds nothing, and asking file by file
 * (cs_worker_scan) tells which file it was. Free each out[i] with cs_reply_free,
 * whatever this returned. */
int cs_worker_scan_many(const cs_worker_t *w, const char *const *files, size_t n, cs_reply_t *out, cs_err_t *err);

/* How many of files[0..n) one cs_worker_scan_many takes (at least one when n > 0):
 * at most CS_WORKER_SCAN_FILES, so that the answer of ordinary files stays well
 * under CS_REPLY_MAX, and no more than a command line holds on Windows (32,767
 * characters, CreateProcessW). */
#define CS_WORKER_SCAN_FILES 500
size_t cs_worker_scan_fit(const cs_worker_t *w, const char *const *files, size_t n);

#endif
