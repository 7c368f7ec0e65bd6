/* Expiry bookkeeping for the daemon: which warning thresholds ([expiry] warn_days)
 * the certificate in service has crossed, which were already announced (persisted,
 * so that "once" survives restarts), and when the next one is due. Crypto-free:
 * the worker reads the certificate, this only does the arithmetic and the events. */
#ifndef CS_EXPIRY_H
#define CS_EXPIRY_H

#include <limits.h>
#include <stddef.h>

#include "config.h"
#include "error.h"

/* One bit of cs_expiry_state_t.notified per threshold. */
#define CS_EXPIRY_MAX_THRESHOLDS 32

/* *next_due when nothing more is due for this certificate (expiry announced):
 * take min(check_interval, next_due) before adding it to a time. */
#define CS_EXPIRY_NEVER LLONG_MAX

/* Parses l (decimal day counts 0..3650, as [expiry] warn_days holds them) into
 * days[0..*n), sorted descending, duplicates dropped. CS_EINVAL on a value that is
 * not a number of days, CS_ETOOBIG past max or CS_EXPIRY_MAX_THRESHOLDS distinct
 * values. An empty list is fine (*n = 0: only the expiry itself is announced). */
int cs_expiry_thresholds(const cs_strlist_t *l, int *days, size_t max, size_t *n);

typedef struct {
  char tp[41];       /* thumbprint the state is about; "" = none yet */
  unsigned notified; /* bit i: threshold i (in the sorted list) already announced */
  int expired_announced;
} cs_expiry_state_t;

/* Reads the state saved by cs_expiry_save. A missing file gives an empty state
 * and 0. A damaged or unreadable one gives an empty state too (the worst outcome
 * is one warning said again), but returns CS_EFORMAT / CS_E* with err set so that
 * the caller can log it. */
int cs_expiry_load(const char *path, cs_expiry_state_t *st, cs_err_t *err);

/* Writes st to path atomically, mode 0600. */
int cs_expiry_save(const char *path, const cs_expiry_state_t *st, cs_err_t *err);

/* The decision, at time now, for the certificate tp (1..40 hex digits, compared
 * without regard to case) that expires at not_after (seconds since 1970):
 * - a tp other than st->tp resets st: a new certificate is in service;
 * - expired (not_after <= now): CERT_EXPIRED, once;
 * - else, with days_left = floor((not_after - now) / 86400), CERT_EXPIRING once
 *   for the smallest threshold with days_left <= threshold not yet announced; it
 *   and every larger threshold are then marked announced (started with 5 days
 *   left and thresholds 30, 14, 7: one warning, "7").
 * days[0..n) as cs_expiry_thresholds makes them (strictly descending). Events go
 * through cs_event_emit with subject (may be NULL; untrusted, sanitised there).
 * *changed = 1 when st changed and must be saved. *next_due = seconds (>= 1) from
 * now until the next threshold is crossed or the certificate expires, or
 * CS_EXPIRY_NEVER. CS_EINVAL on bad arguments (st untouched). */
int cs_expiry_check(cs_expiry_state_t *st, const char *tp, const char *subject, long long not_after, long long now,
                    const int *days, size_t n, int *changed, long long *next_due);

#endif
