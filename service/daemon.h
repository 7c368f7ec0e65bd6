/* The daemon (certsteward run): its loop is daemon.c; what it knows and
 * publishes about certificates (daemon_state.c): the one in service (expiry
 * events, the key permission, metrics) and the monitored ones ([store] monitor,
 * monitor.h: listed in the metrics and by certsteward status). */
#ifndef CS_DAEMON_H
#define CS_DAEMON_H

#include "config.h"
#include "monitor.h"
#include "renewal.h"
#include "text.h"
#include "worker.h"

typedef struct cs_daemon_stats_s {
  unsigned long accepted, rejected, rollbacks; /* drops since start */
  unsigned long adopted, not_adopted;          /* certificates found in the store or adopt_from */
  int has_last;                                /* a renewal ended since start */
  cs_outcome_t last_result;
  long long last_time;
  char tp[41];           /* the certificate in service at the last expiry check; "" unknown */
  char key_said[96];     /* why READ on its key is not kept, as last said (daemon_state.c) */
  char expiry_said[160]; /* why it could not be read for its expiry check, as last said */
  char subject[512];
  long long not_after; /* 0 unknown */
  long long next_due;  /* seconds until the next expiry check is due */
  /* [store] monitor at the last expiry check: how many of its certificates the
   * metrics carry, kept in <state_dir>/monitored (CS_STATE_MONITORED) rather
   * than in memory: a list of 10,000 would more than double the idle daemon's
   * memory. The expiry job writes it on the thread pool; the loop reads it only in
   * after_work, when no job runs. */
  size_t monitored;
} cs_daemon_stats_t;

/* <state_dir>/CS_STATE_MONITORED (statedir.h): one line per monitored certificate in
 * the metrics, "thumbprint TAB not_after_epoch TAB source TAB subject" (sanitised
 * text, no tab in it). */

/* At each expiry check (blocking: asks the worker; runs on the thread pool):
 * - expiry events for the certificate in service (once per threshold, remembered
 *   in <state_dir>/expiry); fills st's certificate fields and next_due;
 * - [connector] account's READ on its private key: granted again when gone
 *   (KEY_PERMISSION_REPAIRED), CONNECTOR_MISSING when that fails;
 * - [store] monitor listed again into <state_dir>/monitored and st->monitored (no
 *   expiry events for those). */
void cs_daemon_expiry_check(const cs_config_t *cfg, const cs_renewal_env_t *env, cs_daemon_stats_t *st);

/* Writes the metrics file ([log] metrics_file, else <state_dir>/certsteward.prom):
 * the certificate in service (source "service") and each described monitored
 * file (source = its path). */
void cs_daemon_write_metrics(const cs_config_t *cfg, const cs_daemon_stats_t *st);

/* certsteward run [--config FILE] [--foreground] [--once] (cs_daemon_main without a host). */
int cs_cmd_run(int argc, char **argv);

/* A running step may finish this long after a stop was asked; then the process ends
 * and the journal rolls the step back at the next start. */
#define CS_DAEMON_STOP_GRACE_MS 20000

/* What runs the daemon besides a console: the Windows service (service/winsvc.c). */
typedef struct cs_daemon_host_s {
  /* On the loop's thread, once the loop runs: the service reports RUNNING. */
  void (*running)(void *arg);
  /* The daemon could not start and its event sinks were not open yet (bad
   * configuration): why, for the host to report (the console has it on stderr). */
  void (*failed)(void *arg, const char *config_path, const char *why);
  /* The stop outlasted CS_DAEMON_STOP_GRACE_MS: the process ends right after this. */
  void (*abandoned)(void *arg);
  void *arg;
} cs_daemon_host_t;

/* The daemon with argv as certsteward run takes it (argv[1] the command's name);
 * host may be NULL. Returns the exit status (CS_EXIT_OK, CS_EXIT_USAGE). */
int cs_daemon_main(int argc, char **argv, const cs_daemon_host_t *host);

/* Asks the daemon to stop as SIGTERM does. From any thread, at any time: asked
 * before the loop runs, the daemon stops as soon as it does. */
void cs_daemon_request_stop(void);

/* daemon_guard.c: the files certsteward writes as root outside the state folder (the
 * [store] files, [log] events_file and metrics_file, the binding files), whose folders
 * are judged by cs_plat_path_writers: cs_daemon_written_file(cfg, i) for i below
 * cs_daemon_written_count(cfg), in a fixed order, NULL where one is not configured. */
size_t cs_daemon_written_count(const cs_config_t *cfg);
const char *cs_daemon_written_file(const cs_config_t *cfg, size_t i);

#endif
