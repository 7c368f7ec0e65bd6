/* Inside the daemon: what daemon.c (the loop's reactions: jobs, timers),
 * daemon_drop.c (the drop folder), daemon_guard.c (what is safe to use) and
 * daemon_main.c (the command, start and stop, the service's hooks) share. Not for other files. */
#ifndef CS_DAEMON_INT_H
#define CS_DAEMON_INT_H

#include <stdint.h>

#include <uv.h>

#include "adopted.h"
#include "config.h"
#include "daemon.h"
#include "platform.h"
#include "renewal.h"
#include "worker.h"

#define PATH_LEN 4096

typedef enum { JOB_RECOVER, JOB_EXPIRY, JOB_DROP, JOB_ADOPT, JOB_REQUEST } job_kind_t;

/* Where adoption looks (daemon_adopt.c) */
enum { ADOPT_OFF, ADOPT_STORE, ADOPT_FOLDER };
/* What a JOB_ADOPT's look found */
enum {
  ADOPT_NOTHING,   /* nothing new (or not judged now: said, or tried at the next look) */
  ADOPT_UNSETTLED, /* a new version, still changing: looked at again after settle_seconds */
  ADOPT_KNOWN,     /* a version whose content was judged before (or is in service) */
  ADOPT_DEFERRED,  /* not now, not its fault (the state folder full, a read cut short): job->why */
  ADOPT_UNUSABLE,  /* a new version that cannot be read or is not trusted: job->why */
  ADOPT_RAN        /* a candidate went through cs_renewal_run: d->res */
};

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
  /* JOB_ADOPT (daemon_adopt.c) */
  int settled;       /* run --once: taken as it is, without waiting for it to settle */
  char seen[512];    /* the folder's version at the look before */
  char version[512]; /* ADOPT_FOLDER: the files' identities (cs_plat_source_read) at this look */
  char key[600];     /* what was judged (adopted.h): its content, the store certificate's thumbprint */
  int adopt;         /* ADOPT_NOTHING ... */
  char why[700];     /* ADOPT_UNUSABLE: why */
  int rejected;      /* certificates the look rejected besides the one it ran (their keys) */
  /* JOB_REQUEST (daemon_request.c) */
  int request_ran; /* an issued certificate went through cs_renewal_run: d->res */
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
  long long window_open;  /* when the waiting file may go, 0 = none waiting */
  int guard[GUARD_COUNT]; /* GUARD_UNCHECKED, GUARD_SAFE, GUARD_SAID_UNSAFE */
  int watching;           /* the drop folder's change notifications run */
  int orphans_pending;    /* a previous run's files in incoming, not yet set aside */
  int once_incomplete;    /* run --once: something due was held back (unsafe, blocked) */
  char **writers;         /* per written file (daemon_guard.c): "folder\nwho" said in 1014, or NULL */
  /* adoption (daemon_adopt.c) */
  int adopt_mode;                     /* ADOPT_OFF, ADOPT_STORE, ADOPT_FOLDER */
  uv_timer_t adopt_settle;            /* the look after a change, once it settled */
  uv_fs_event_t adopt_fs;             /* ADOPT_FOLDER: the folder's changes */
  uv_async_t adopt_wake;              /* ADOPT_STORE: the store changed (from the watch's thread) */
  cs_plat_store_watch_t *store_watch; /* ADOPT_STORE */
  cs_adopted_t adopted;               /* what was judged (adopted.h) */
  int adopt_queued;                   /* a look is queued or running */
  int adopt_waiting;                  /* a fit candidate waits for the maintenance window */
  char adopt_seen[512];               /* ADOPT_FOLDER: the version at the last look */
  char adopt_done_version[512];       /* ADOPT_FOLDER: the last version judged (or waiting) */
  char adopt_held[600];               /* what waits for the maintenance window (job_t.key) */
  char adopt_others_said[1024];       /* the other candidates last said (3103) */
  char adopt_refused_said[1024];      /* the last refusal said that was not the certificate's fault */
  char adopt_unwatched_said[512];     /* why the store's notifications do not run, as last said */
  /* certificate requests (daemon_request.c) */
  uv_timer_t request_timer; /* the next look at the request in flight */
  long long request_next;   /* when that is (seconds since 1970), 0 = none */
  int request_queued;       /* a look is queued or running */
  int request_waiting;      /* an issued certificate waits for the maintenance window */
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
/* 1 when every path in which (GUARD_BIT()s) is safe to use now; what depends on a
 * path that became safe again is picked up (the watch, the files left in incoming). */
int cs__daemon_trusted(daemon_t *d, unsigned which);
/* run --once: what is due cannot all be done now; the run ends, and says so. */
void cs__daemon_once_cut_short(daemon_t *d);
/* state_dir joined with name into out (PATH_LEN); "" when too long (fails by name where used). */
void cs__daemon_state_path(const daemon_t *d, char *out, const char *name);
job_t *cs__daemon_new_job(job_kind_t kind);       /* NULL: out of memory */
void cs__daemon_enqueue(daemon_t *d, job_t *job); /* takes job; NULL is ignored */
/* Moves the job's file to the quarantine with why (res: the renewal's answer, may be NULL). */
void cs__daemon_quarantine(daemon_t *d, const job_t *job, const char *why, const cs_renewal_result_t *res);
void cs__daemon_pump(daemon_t *d); /* starts the next queued job when none runs */
/* Sets up the loop's timers, sets aside what a previous run left in incoming, queues
 * the recovery and the first expiry check, and starts watching the drop folder.
 * What is unsafe (daemon_guard.c) is said and waited out, not used. */
void cs__daemon_start(daemon_t *d);
/* Frees the queue and the tracked drops (the loop is closed). */
void cs__daemon_free(daemon_t *d);

/* The running job's renewal of path (cs_renewal_run with flags), its events naming name;
 * outside the maintenance window a fit certificate is held back (CS_OUT_VALID) unless
 * the one in service expires first. On the thread pool; d->res receives the outcome. */
void cs__daemon_run_gated(daemon_t *d, const char *name, const char *path, unsigned flags);
/* The window timer, for what waits for the maintenance window to open. */
void cs__daemon_arm_window(daemon_t *d);

/* daemon_adopt.c */
/* Reads what was judged, starts the store's or the folder's watch ([store] adopt), and
 * queues the first look. */
void cs__daemon_adopt_start(daemon_t *d);
/* Queues a look unless one is queued or running (the rescan, the window opening). */
void cs__daemon_adopt_look(daemon_t *d, int from_window);
void cs__daemon_adopt_work(daemon_t *d, job_t *job);  /* the look, on the thread pool */
void cs__daemon_adopt_after(daemon_t *d, job_t *job); /* its outcome, on the loop */
/* Ends the store watch's thread (before the loop's handles close). */
void cs__daemon_adopt_stop(daemon_t *d);
void cs__daemon_adopt_free(daemon_t *d);
/* Within adoption (daemon_adopt.c, daemon_adopt_store.c): what was judged, written to the
 * record (adopted.h; a failure said); whether key was judged before; a refusal that is not
 * the certificate's fault, said once until its reason changes (3106; tp, in_service and
 * subject may be NULL). */
void cs__adopt_record(daemon_t *d, const char *key, const char *verdict, const char *tp, const char *reason);
int cs__adopt_known(const daemon_t *d, const char *key);
void cs__adopt_deferred(daemon_t *d, const char *tp, const char *in_service, const char *subject, const char *why);
/* daemon_adopt_store.c: the look at the system store, on the thread pool */
void cs__daemon_adopt_store(daemon_t *d, job_t *job);
/* A certificate of the store that is not to be adopted (verdict, adopted.h): one whose
 * renewal from the drop folder failed (it stays there: it was in the store before), one
 * a renewal replaced. Nothing when adoption is not from the store. */
void cs__daemon_adopt_judged(daemon_t *d, const char *tp, const char *verdict, const char *reason);

/* daemon_request.c */
void cs__daemon_request_start(daemon_t *d); /* its timer */
/* Queues a look at the certificate request (a new one when the certificate in service
 * is due, the one in flight polled) unless [request] is off and none is in flight. */
void cs__daemon_request_look(daemon_t *d, int from_window);
void cs__daemon_request_work(daemon_t *d, job_t *job);  /* the look, on the thread pool */
void cs__daemon_request_after(daemon_t *d, job_t *job); /* its outcome, on the loop */

/* daemon_drop.c */
/* Looks at the drop folder: new and changed files are tracked, files unchanged for
 * settle_seconds are taken, in the order they arrived. */
void cs__daemon_scan(daemon_t *d);
/* (Re)starts the drop folder's change notifications; 1 when they run. */
int cs__daemon_watch(daemon_t *d);
void cs__daemon_rescan_cb(uv_timer_t *t);   /* the rescan timer: scan, quarantine clean-up */
void cs__daemon_quarantine_gc(daemon_t *d); /* quarantine entries older than quarantine_days go */
/* Why the file at path the daemon is about to read is not trusted, into why; NULL: it is. */
const char *cs__daemon_untrusted_file(const char *path, const uv_stat_t *st, char *why, size_t len);
/* The dropped name as stored: [A-Za-z0-9._-] kept, behind a unique time stamp. */
void cs__daemon_stored_name(char *out, size_t len, const char *name);
void cs__daemon_drops_free(daemon_t *d); /* the tracked drops */

#endif
