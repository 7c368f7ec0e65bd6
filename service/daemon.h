/* The daemon (certsteward run): its loop is daemon.c; what it knows and
 * publishes about certificates (daemon_state.c): the one in service (expiry
 * events, the key permission, metrics) and the monitored ones ([store] monitor,
 * listed in the metrics and by certsteward status). */
#ifndef CS_DAEMON_H
#define CS_DAEMON_H

#include "config.h"
#include "renewal.h"
#include "text.h"
#include "worker.h"

/* [store] monitor: at most this many files are listed, the first by name (byte order). */
#define CS_DAEMON_MONITOR_MAX 1000

/* One monitored file. Every string is owned by the list. */
typedef struct cs_daemon_cert_s {
  char *path;               /* as the worker opens it (raw bytes) */
  char *shown;              /* path sanitised (cs_text_sanitize): status and the metrics' source label */
  char tp[41];              /* "" when the file could not be described (error says why) */
  char *subject;            /* may be NULL */
  char not_after[21];       /* YYYY-MM-DDTHH:MM:SSZ */
  long long not_after_epoch;
  char *error;              /* NULL when described */
  int in_metrics;           /* 0: not described, or its source label repeats an earlier one's */
} cs_daemon_cert_t;

/* The files of [store] monitor: regular files only (links, folders, FIFOs and
 * devices are not listed), sorted by name. Free with cs_daemon_monitor_free. */
typedef struct cs_daemon_monitor_s {
  cs_daemon_cert_t *certs;
  size_t n;
  size_t left_out; /* files past CS_DAEMON_MONITOR_MAX, not listed */
  cs_err_t err;    /* the folder could not be listed; code CS_OK otherwise */
} cs_daemon_monitor_t;

typedef struct cs_daemon_stats_s {
  unsigned long accepted, rejected, rollbacks; /* drops since start */
  int has_last;                                /* a renewal ended since start */
  cs_outcome_t last_result;
  long long last_time;
  char tp[41];          /* the certificate in service at the last expiry check; "" unknown */
  char subject[512];
  long long not_after;  /* 0 unknown */
  long long next_due;   /* seconds until the next expiry check is due */
  /* [store] monitor at the last expiry check (owned). The expiry job replaces it on
   * the thread pool; the loop reads it only in after_work, when no job runs. */
  cs_daemon_monitor_t monitored;
} cs_daemon_stats_t;

/* At each expiry check (blocking: asks the worker; runs on the thread pool):
 * - expiry events for the certificate in service (once per threshold, remembered
 *   in <state_dir>/expiry); fills st's certificate fields and next_due;
 * - [connector] account's READ on its private key: granted again when gone
 *   (KEY_PERMISSION_REPAIRED), CONNECTOR_MISSING when that fails;
 * - [store] monitor listed again into st->monitored (no expiry events for those). */
void cs_daemon_expiry_check(const cs_config_t *cfg, const cs_renewal_env_t *env, cs_daemon_stats_t *st);

/* Frees what st owns (the monitored list). */
void cs_daemon_stats_free(cs_daemon_stats_t *st);

/* Writes the metrics file ([log] metrics_file, else <state_dir>/certsteward.prom):
 * the certificate in service (source "service") and each described monitored
 * file (source = its path). */
void cs_daemon_write_metrics(const cs_config_t *cfg, const cs_daemon_stats_t *st);

/* Lists [store] monitor (cfg->store.monitor, not NULL) into m (zeroed by the caller
 * or freed before) and has the worker describe each file, one process per file.
 * 0, or the CS_E* also in m->err when the folder cannot be listed. */
int cs_daemon_monitor_scan(const cs_config_t *cfg, const cs_worker_t *w, cs_daemon_monitor_t *m);
void cs_daemon_monitor_free(cs_daemon_monitor_t *m);

/* For certsteward status at time now: m as text lines (labels padded to width,
 * every string sanitised), or as one JSON object
 * {"folder":…,"files":[{"file","thumbprint","subject","not_after","days_left","error"}],"left_out":N,"error":…}.
 * folder: [store] monitor; NULL (not set) writes nothing / null. */
void cs_daemon_monitor_text(cs_buf_t *b, const char *folder, const cs_daemon_monitor_t *m, long long now, int width);
void cs_daemon_monitor_json(cs_buf_t *b, const char *folder, const cs_daemon_monitor_t *m, long long now);

int cs_cmd_run(int argc, char **argv);

#endif
