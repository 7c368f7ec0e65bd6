/* A certificate request in flight ([request], the renewal with no person): the record
 * <state_dir>/request/record, written durably before the request is submitted and
 * after each answer, so that a crash or restart resumes polling where it stopped, and
 * the pure decisions of its life (when one is due, when to poll next, when to give up).
 * The key (platform.h: cs_plat_reqkey_*) and the request's PEM (<name>.csr) sit in the
 * same folder. Crypto-free. */
#ifndef CS_REQUEST_H
#define CS_REQUEST_H

#include "error.h"

#define CS_REQUEST_NAME_MAX 64

/* A request's states */
#define CS_REQ_MADE "made"       /* key and request made, not submitted yet (or not accepted by the CA yet) */
#define CS_REQ_PENDING "pending" /* submitted; the CA asked us to wait: polled */
#define CS_REQ_OUTBOX "outbox"   /* manual route: written to the outbox for an admin to submit */
#define CS_REQ_ISSUED "issued"   /* the CA issued it; the renewal puts it in service */
#define CS_REQ_HELD "held" /* issued, but its renewal did not commit: kept for an admin's apply, not tried again */

typedef struct cs_request_s {
  char state[16];
  char name[CS_REQUEST_NAME_MAX + 1]; /* the key's name ([A-Za-z0-9._-]) */
  char route[16];                     /* "command", "adcs" or "manual" */
  char key_kind[16];                  /* as [request] key */
  char old_tp[41];                    /* the certificate in service when it was made */
  char new_tp[41];                    /* the certificate issued for it; "" until then */
  long long made;                     /* seconds since 1970 */
  long long submitted;                /* 0: not yet */
  long long next;                     /* the next submit or poll */
  long long deadline;                 /* given up after this */
  int tries;                          /* answers that said wait, or failed, in a row (the back-off) */
  char *cookie;                       /* the CA helper's cookie; adcs: the CA's request id; NULL = none */
  char *ca_id;                        /* the CA's request id as said in events and status; NULL = none */
  char *said;                         /* the last failure said once (an unreachable CA is said once) */
} cs_request_t;

/* The folder and its files: <state_dir>/request, and <state_dir>/request/<name><suffix>
 * (the record: CS_REQUEST_RECORD, ""; a request's: its name and CS_REQUEST_CSR, ...);
 * CS_ETOOBIG. */
int cs_request_dir(const char *state_dir, char *out, size_t len, cs_err_t *err);
int cs_request_file(const char *state_dir, const char *name, const char *suffix, char *out, size_t len, cs_err_t *err);
#define CS_REQUEST_CSR ".csr"       /* the request as made (PEM) */
#define CS_REQUEST_KEY ".key"       /* POSIX: its private key (common/posix/reqkey.c) */
#define CS_REQUEST_ANSWER ".answer" /* what the CA helper answered */
#define CS_REQUEST_READY ".pem"     /* the issued certificate joined, waiting for its renewal */

/* Writes r durably (atomic replace, 0600; the folder made 0700 when missing). */
int cs_request_write(const char *state_dir, const cs_request_t *r, cs_err_t *err);
/* CS_ENOENT when no request is in flight; CS_EFORMAT for a record that is damaged or
 * of another version (said, never guessed at). Free with cs_request_free. */
int cs_request_read(const char *state_dir, cs_request_t *r, cs_err_t *err);
int cs_request_parse(const char *text, size_t len, const char *path, cs_request_t *r, cs_err_t *err);
/* The record goes (the request ended); its key and request are the caller's to remove. */
int cs_request_remove(const char *state_dir, cs_err_t *err);
void cs_request_free(cs_request_t *r);

/* 1 when a request is due now: the certificate in service expires (not_after) within
 * renew_days of now; 0 when renew_days is 0 (never). */
int cs_request_due(long long not_after, long long now, int renew_days);

/* Seconds until the next poll after tries answers that said wait (or failed): what the
 * CA asked for (ca_delay >= 0) within 30 s .. 1 day, else 1, 2, 4 ... minutes, at
 * most 6 hours, so that a CA manager's approval hours later is seen within hours. */
long long cs_request_backoff(int tries, long ca_delay);

/* The key's name for a request made at now: "cs-YYYYMMDDTHHMMSSZ-" and 8 random hex
 * digits, which nobody can take before it is made (Windows lets any user make a
 * machine key of a name). CS_EIO when the system gives no random bytes. */
int cs_request_name(long long now, char out[CS_REQUEST_NAME_MAX + 1], cs_err_t *err);

/* When the last request ended (rejected, given up, over): <state_dir>/request/ended, so
 * that a new one is not made at once again (a day's wait, CS_REQUEST_COOLDOWN), whoever
 * made the last one end. read: 0 when none is recorded. */
#define CS_REQUEST_COOLDOWN 86400
int cs_request_ended_write(const char *state_dir, long long when, cs_err_t *err);
long long cs_request_ended_read(const char *state_dir);

#endif
