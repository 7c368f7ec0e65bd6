/* The daemon (certsteward run): its loop is daemon.c; what it knows and
 * publishes about the certificate in service (expiry events, metrics) is
 * daemon_state.c. */
#ifndef CS_DAEMON_H
#define CS_DAEMON_H

#include "config.h"
#include "renewal.h"

typedef struct cs_daemon_stats_s {
  unsigned long accepted, rejected, rollbacks; /* drops since start */
  int has_last;                                /* a renewal ended since start */
  cs_outcome_t last_result;
  long long last_time;
  char tp[41];          /* the certificate in service at the last expiry check; "" unknown */
  char subject[512];
  long long not_after;  /* 0 unknown */
  long long next_due;   /* seconds until the next expiry check is due */
} cs_daemon_stats_t;

/* Expiry events for the certificate in service (once per threshold, remembered in
 * <state_dir>/expiry); fills st's certificate fields and next_due. Blocking
 * (asks the worker): runs on the thread pool. */
void cs_daemon_expiry_check(const cs_config_t *cfg, const cs_renewal_env_t *env, cs_daemon_stats_t *st);

/* Writes the metrics file ([log] metrics_file, else <state_dir>/certsteward.prom). */
void cs_daemon_write_metrics(const cs_config_t *cfg, const cs_daemon_stats_t *st);

int cs_cmd_run(int argc, char **argv);

#endif
