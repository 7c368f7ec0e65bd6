/* The Prometheus text file (exposition format 0.0.4) for node_exporter's and
 * windows_exporter's textfile collectors: the certificates' expiry, the last
 * renewal, counters of drops and rollbacks. Family names, their order and their
 * label names are an interface (dashboards and alerts use them): never rename. */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <stddef.h>

#include "error.h"

/* One certificate: every string may be NULL (written as ""); they are untrusted
 * (from certificates and file names) and escaped and sanitised on output. */
typedef struct cs_metrics_cert_s {
  const char *thumbprint;
  const char *subject;
  const char *host;
  const char *source;  /* "service" for the one in service, else the monitored file's path */
  long long not_after; /* seconds since 1970 */
} cs_metrics_cert_t;

/* Everything is borrowed: the caller owns the strings and the array. Label sets
 * must differ between certificates (source does for monitored files), or the
 * collector rejects the file. */
typedef struct cs_metrics_s {
  const cs_metrics_cert_t *certs; /* written in this order */
  size_t n_certs;
  const char *last_result; /* "committed", "rolled-back", "rejected", ...; NULL = no renewal yet */
  long long last_time;     /* when last_result happened; unused when last_result is NULL */
  /* counters: never decrease while the daemon runs; a reset at a restart is fine (rate() handles it) */
  unsigned long long drops_accepted; /* certsteward_drops_accepted_total */
  unsigned long long drops_rejected; /* certsteward_drops_rejected_total */
  unsigned long long rollbacks;      /* certsteward_rollbacks_total */
  unsigned long long adopted;        /* certsteward_adopted_total */
  unsigned long long not_adopted;    /* certsteward_not_adopted_total */
  int request_pending;               /* certsteward_request_pending: 1 while a certificate request is in flight */
  long long request_made;            /* when it was made (its age is written); unused when none is */
} cs_metrics_t;

/* The text of m at time now (seconds since 1970) as a new string in *out, which
 * the caller frees with free(). For tests and for `certsteward status`. */
int cs_metrics_format(const cs_metrics_t *m, long long now, char **out, cs_err_t *err);

/* Writes the text of m to path atomically (mode 0644 for a new file: the
 * exporter runs as another user), so the collector never reads half a file.
 * Without a renewal yet, certsteward_last_renewal_timestamp_seconds and
 * certsteward_last_renewal_result have no sample (HELP and TYPE only). */
int cs_metrics_write(const char *path, const cs_metrics_t *m, long long now, cs_err_t *err);

#endif
