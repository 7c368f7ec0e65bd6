/* Inside the daemon: what daemon.c (the loop's reactions: jobs, the drop folder,
 * timers) and daemon_main.c (the command, start and stop, the service's hooks)
 * share. Not for other files. */
#ifndef CS_DAEMON_INT_H
#define CS_DAEMON_INT_H

#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "daemon.h"
#include "renewal.h"
#include "worker.h"

#define PATH_LEN 4096

typedef enum { JOB_RECOVER, JOB_EXPIRY, JOB_DROP } job_kind_t;

/* What the daemon trusts (daemon_guard.c), as bits of a mask: 1u << GUARD_DROP ... */
enum { GUARD_DROP, GUARD_STATE, GUARD_PASSWORD, GUARD_CONFIG, GUARD_COUNT };
#define GUARD_BIT(g) (1u << (g))
#define GUARD_ALL (GUARD_BIT(GUARD_COUNT) - 1u)
/* What each guard last said */
enum { GUARD_UNCHECKED = 0, GUARD_SAFE, GUARD_SAID_UNSAFE };

typedef struct job_s {
  job_kind_t kind;
  char path[PATH_LEN]; /* JOB_DROP: the taken file under state_dir/incoming or waiting */
  char name[256];      /* its name as dropped (sanitised) */
  int from_window;     /* the window has opened for a waiting file: no new wait */
  struct job_s *next;
} job_t;

typedef struct drop_s {
  char *name;
  long long size;
  double mtime;
  uint64_t stable_since; /* loop time (ms) when size and mtime last changed */
  unsigned seen;         /* scan generation that last saw it */
} drop_t;

typedef struct daemon_s {
  uv_loop_t *loop;
  const cs_config_t *cfg;
  const cs_daemon_host_t *host; /* NULL: certsteward run */
  cs_worker_t worker;
  cs_renewal_env_t env;
  char host_name[256];
  int once, stopping, blocked; /* blocked: a rollback failed; only recovery runs */
  uv_fs_event_t watch;
  uv_timer_t rescan, settle, expiry, window, stop, ready;
  uv_signal_t sigterm, sigint;
  uv_async_t wake; /* cs_daemon_request_stop, from another thread */
  drop_t *drops;
  size_t n_drops;
  unsigned generation;
  job_t *queue, *running;
  uv_work_t work;
  cs_renewal_result_t res; /* of the running job */
  cs_daemon_stats_t stats;
  long long window_open;   /* when the waiting file may go, 0 = none waiting */
  int guard[GUARD_COUNT];  /* GUARD_UNCHECKED, GUARD_SAFE, GUARD_SAID_UNSAFE */
  int watching;            /* the drop folder's change notifications run */
  int orphans_pending;     /* a previous run's files in incoming, not yet set aside */
  int once_incomplete;     /* run --once: something due was held back (unsafe, blocked) */
  char **writers;          /* per written file (daemon_guard.c): "folder\nwho" said in 1014, or NULL */
} daemon_t;

/* daemon_guard.c */
/* Checks the paths in which (GUARD_BIT()s; a path not configured is skipped) and
 * says each change (unsafe: its error event with the reason; safe again: 1008).
 * Returns the unsafe ones; *cleared (may be NULL) receives those that were said
 * unsafe before and are safe now. A check that fails counts as unsafe. */
unsigned cs__daemon_guard(daemon_t *d, unsigned which, unsigned *cleared);
/* Judges the folders on the path of each file certsteward writes outside the state
 * folder (cs_plat_path_writers) and says a change once: 1014 when others can change
 * one (again when the folder or who changes), 1015 when that stops. A warning only. */
void cs__daemon_writers(daemon_t *d);
/* Frees what cs__daemon_writers keeps (d->cfg still set). */
void cs__daemon_writers_free(daemon_t *d);

/* daemon.c */
/* Sets up the loop's timers, sets aside what a previous run left in incoming, queues
 * the recovery and the first expiry check, and starts watching the drop folder.
 * What is unsafe (daemon_guard.c) is said and waited out, not used. */
void cs__daemon_start(daemon_t *d);
/* Frees the queue and the tracked drops (the loop is closed). */
void cs__daemon_free(daemon_t *d);

#endif
