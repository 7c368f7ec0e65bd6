/* certsteward run: the daemon. A libuv loop that only reacts — to the drop folder
 * (change notifications and a rescan timer), to timers (settling files, expiry,
 * the maintenance window) and to a stop (daemon_main.c: the command, signals, the
 * Windows service's stop). Everything that blocks (the worker, the renewal
 * transaction) runs one job at a time on libuv's thread pool. The daemon never
 * loads OpenSSL: the worker process does that work. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>
#ifdef __GLIBC__
#include <malloc.h> /* mallopt, malloc_trim */
#endif

#include "cli.h"
#include "clock.h"
#include "daemon_int.h"
#include "drop.h"
#include "events.h"
#include "expiry.h"
#include "platform.h"
#include "renewal.h"
#include "statedir.h"
#include "text.h"
#include "window.h"

static void interrupted(daemon_t *d, const cs_renewal_result_t *recovered);
static void arm_window(daemon_t *d, long long wait);
static void expiry_cb(uv_timer_t *t);
static void orphans(daemon_t *d);

/* run --once: what is due cannot all be done now; the run ends, and says so. */
void cs__daemon_once_cut_short(daemon_t *d) {
  d->once_incomplete = 1;
  uv_stop(d->loop);
}

/* 1 when every path in which (GUARD_BIT()s) is safe to use now. What depends on a
 * path that has become safe again is picked up here: the drop folder's watch
 * (the folder may be a new one) and the files a previous run left in incoming. */
int cs__daemon_trusted(daemon_t *d, unsigned which) {
  unsigned cleared = 0, bad = cs__daemon_guard(d, which, &cleared);
  if ((cleared & GUARD_BIT(GUARD_DROP)) && !d->once) {
    (void)cs__daemon_watch(d);
  }
  if (d->orphans_pending && (which & GUARD_BIT(GUARD_STATE)) && !(bad & GUARD_BIT(GUARD_STATE))) {
    d->orphans_pending = 0;
    orphans(d);
  }
  return bad == 0;
}

void cs__daemon_state_path(const daemon_t *d, char *out, const char *name) {
  (void)cs_plat_path_join(out, PATH_LEN, d->cfg->store.state_dir, name); /* too long: "", fails by name where used */
}

/* ---- jobs ------------------------------------------------------------------ */

void cs__daemon_enqueue(daemon_t *d, job_t *job) {
  job_t **p = &d->queue;
  while (*p != NULL)
    p = &(*p)->next;
  *p = job;
  cs__daemon_pump(d);
}

job_t *cs__daemon_new_job(job_kind_t kind) {
  job_t *j = calloc(1, sizeof *j);
  if (j != NULL)
    j->kind = kind;
  return j;
}

/* Moves a file the job is done with to folder (under the state folder), with a
 * reason file beside it when reason is not NULL. */
static void park(daemon_t *d, const job_t *job, const char *folder, const char *reason, char *where) {
  char dir[PATH_LEN], name[300], target[PATH_LEN], rpath[PATH_LEN + 8];
  cs_err_t err;
  cs__daemon_state_path(d, dir, folder);
  cs__daemon_stored_name(name, sizeof name, job->name);
  cs_plat_path_join(target, PATH_LEN, dir, name);
  if (cs_plat_mkdirs(dir, 0700, &err) != CS_OK || cs_plat_rename(job->path, target, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, job->name, d->cfg->store.state_dir, err.text, NULL);
    (void)cs_plat_remove(job->path, NULL); /* it may hold a private key: never left in incoming */
    return;
  }
  if (where != NULL)
    snprintf(where, PATH_LEN, "%s", target);
  if (reason != NULL) {
    snprintf(rpath, sizeof rpath, "%s" CS_STATE_REASON_SUFFIX, target);
    (void)cs_plat_write_atomic(rpath, reason, strlen(reason), 0600, &err);
  }
}

/* The failed checks of a rejected file, "eku: ...; chain: ..." */
static void failed_checks(const cs_report_t *r, cs_buf_t *out) {
  size_t i, n = 0;
  for (i = 0; i < r->n_checks; i++) {
    if (r->checks[i].ok)
      continue;
    cs_buf_printf(out, "%s%s: %s", n++ ? "; " : "", r->checks[i].id, r->checks[i].detail);
  }
}

/* res: the transaction's result when there was one (its checks go into the
 * reason file), NULL otherwise. id: DROP_REJECTED, which says the certificate in
 * service is unchanged, or DROP_NOT_UNDONE when that is not known. */
static void quarantine_as(daemon_t *d, const job_t *job, int id, const char *why, const cs_renewal_result_t *res) {
  static const cs_renewal_result_t none;
  cs_buf_t reason = CS_BUF_INIT;
  char where[PATH_LEN] = "";
  if (res == NULL)
    res = &none;
  cs_buf_printf(&reason, "file %s\nreason %s\n", job->name, why);
  if (res->validation.report.n_checks > 0) {
    size_t i;
    for (i = 0; i < res->validation.report.n_checks; i++) {
      const cs_check_t *c = &res->validation.report.checks[i];
      cs_buf_printf(&reason, "check %s %s ", c->id, c->ok ? "ok" : "failed");
      cs_text_sanitize(&reason, c->detail);
      cs_buf_puts(&reason, "\n");
    }
  }
  park(d, job, CS_STATE_QUARANTINE, cs_buf_str(&reason) ? cs_buf_str(&reason) : why, where);
  cs_event_cert(id, res->new_tp, res->old_tp, res->validation.report.subject, job->name, job->name, why, where);
  d->stats.rejected++;
  cs_buf_free(&reason);
}

/* A renewal whose undo failed may have left anything in service. */
void cs__daemon_quarantine(daemon_t *d, const job_t *job, const char *why, const cs_renewal_result_t *res) {
  int in_doubt = res != NULL && res->outcome == CS_OUT_ROLLBACK_FAILED;
  quarantine_as(d, job, in_doubt ? CS_EV_DROP_NOT_UNDONE : CS_EV_DROP_REJECTED, why, res);
}

/* Seconds until the maintenance window opens (0: open now, or none configured). */
static long long window_wait(const daemon_t *d) {
  cs_window_t w;
  struct tm now;
  if (d->cfg->connector.maintenance_window == NULL ||
      cs_window_parse(d->cfg->connector.maintenance_window, &w) != CS_OK ||
      cs_plat_localtime(cs_clock_now(), &now) != CS_OK)
    return 0;
  return cs_window_wait(&w, &now);
}

/* The renewal's gate (cs_renewal_env_t): the file passed validation and the
 * pre-flight, nothing has changed yet. Outside the maintenance window it waits
 * (1: the run ends as CS_OUT_VALID and the loop parks the file), unless the
 * certificate in service expires first. */
static int gate_cb(const cs_renewal_result_t *res, void *arg) {
  daemon_t *d = arg;
  const job_t *job = d->running;
  long long wait;
  (void)res;
  if (!job->from_window && job->kind == JOB_DROP)
    cs_event_say(CS_EV_DROP_ACCEPTED, job->name, job->name, NULL, NULL);
  wait = job->from_window ? 0 : window_wait(d);
  return wait > 0 && !(d->stats.not_after > 0 && d->stats.not_after <= cs_clock_now() + wait);
}

void cs__daemon_run_gated(daemon_t *d, const char *name, const char *path, unsigned flags) {
  /* one job at a time: the events name what it came from, the gate decides on the
   * window between the pre-flight and BEGIN (one validation, one pre-flight) */
  d->env.name = name;
  d->env.gate_cb = gate_cb;
  d->env.gate_arg = d;
  cs_renewal_run(&d->env, path, flags, &d->res);
  d->env.gate_cb = NULL;
  d->env.gate_arg = NULL;
}

static void work_cb(uv_work_t *req) {
  daemon_t *d = req->data;
  job_t *job = d->running;
  memset(&d->res, 0, sizeof d->res);
  switch (job->kind) {
  case JOB_RECOVER:
    if (cs_renewal_recover(&d->env, &d->res) == CS_ENOENT)
      d->res.outcome = CS_OUT_VALID; /* nothing was unfinished */
    break;
  case JOB_EXPIRY:
    cs_daemon_expiry_check(d->cfg, &d->env, &d->stats);
    break;
  case JOB_DROP:
    cs__daemon_run_gated(d, job->name, job->path, 0);
    break;
  case JOB_ADOPT:
    cs__daemon_adopt_work(d, job);
    break;
  case JOB_REQUEST:
    cs__daemon_request_work(d, job);
    break;
  }
}

static void after_drop(daemon_t *d, job_t *job) {
  char why[700];
  long long wait;
  switch (d->res.outcome) {
  case CS_OUT_VALID: /* accepted, outside the window */
    wait = window_wait(d);
    park(d, job, CS_STATE_WAITING, NULL, NULL);
    cs_event_say(CS_EV_DROP_WAITING, job->name, job->name, d->cfg->connector.maintenance_window, NULL);
    arm_window(d, wait);
    break;
  case CS_OUT_COMMITTED:
    d->stats.accepted++;
    cs__daemon_adopt_judged(d, d->res.old_tp, CS_ADOPT_REPLACED, "replaced by a dropped certificate");
    if (d->cfg->watch.keep_processed)
      park(d, job, CS_STATE_PROCESSED, NULL, NULL);
    else if (cs_plat_remove(job->path, NULL) != CS_OK)
      cs_event_say(CS_EV_STATE_ERROR, job->name, d->cfg->store.state_dir, "cannot delete a committed drop", NULL);
    cs__daemon_enqueue(d, cs__daemon_new_job(JOB_EXPIRY)); /* a new certificate in service: a new expiry */
    break;
  case CS_OUT_REJECTED:
    if (d->res.validation.report.n_checks > 0 && !cs_report_accepted(&d->res.validation.report)) {
      cs_buf_t b = CS_BUF_INIT;
      failed_checks(&d->res.validation.report, &b);
      cs__daemon_quarantine(d, job, cs_buf_str(&b) ? cs_buf_str(&b) : "failed validation", &d->res);
      cs_buf_free(&b);
    } else {
      cs__daemon_quarantine(d, job, d->res.err.text, &d->res);
    }
    break;
  case CS_OUT_ROLLBACK_FAILED:
    d->blocked = 1;
    /* fall through */
  case CS_OUT_ROLLED_BACK:
    d->stats.rollbacks++;
    cs__daemon_adopt_judged(d, d->res.new_tp, CS_ADOPT_REJECTED, "its renewal from the drop folder failed");
    snprintf(why, sizeof why, "the renewal failed at step %s and was %s: %.500s", cs_step_name(d->res.step),
             d->res.outcome == CS_OUT_ROLLED_BACK ? "rolled back" : "NOT rolled back", d->res.err.text);
    cs__daemon_quarantine(d, job, why, &d->res);
    break;
  case CS_OUT_REFUSED:
    snprintf(why, sizeof why, "pre-flight refused: %.600s", d->res.err.text);
    cs__daemon_quarantine(d, job, why, &d->res);
    break;
  default:
    if (d->res.step == CS_STEP_VALIDATE)
      cs_event_say(CS_EV_WORKER_FAILED, job->name, job->name, d->res.err.text, NULL);
    snprintf(why, sizeof why, "could not be processed at %s: %.600s", cs_step_name(d->res.step), d->res.err.text);
    cs__daemon_quarantine(d, job, why, &d->res);
    break;
  }
  if (d->res.outcome != CS_OUT_VALID) {
    d->stats.has_last = 1;
    d->stats.last_result = d->res.outcome;
    d->stats.last_time = cs_clock_now();
  }
}

static void after_work_cb(uv_work_t *req, int status) {
  daemon_t *d = req->data;
  job_t *job = d->running;
  (void)status;
  /* d->running stays set until d->res is freed: a job queued meanwhile must not start */
  if (job->kind == JOB_DROP) {
    after_drop(d, job);
  } else if (job->kind == JOB_ADOPT) {
    cs__daemon_adopt_after(d, job);
  } else if (job->kind == JOB_RECOVER) {
    d->blocked = d->res.outcome == CS_OUT_ROLLBACK_FAILED || d->res.outcome == CS_OUT_ERROR;
    interrupted(d, &d->res); /* what the crash left in incoming, now that its fate is known */
  } else if (job->kind == JOB_REQUEST) {
    cs__daemon_request_after(d, job);
  } else if (job->kind == JOB_EXPIRY) {
    if (!d->once) /* the next check when it is due, no sooner */
      uv_timer_start(&d->expiry, expiry_cb, (uint64_t)(d->stats.next_due > 0 ? d->stats.next_due : 1) * 1000, 0);
    cs__daemon_request_look(d, 0); /* with the certificate in service's expiry known */
  }
  cs_renewal_result_free(&d->res);
  free(job);
  d->running = NULL;
  cs_daemon_write_metrics(d->cfg, &d->stats);
#ifdef __GLIBC__
  /* glibc keeps what a job freed (the thread pool's own arena too) mapped; after an
   * expiry check that listed thousands of files that is megabytes the idle daemon
   * would hold: handed back to the system here, between jobs. */
  (void)malloc_trim(0);
#endif
  if (d->stopping) {
    uv_stop(d->loop);
    return;
  }
  cs__daemon_pump(d);
}

/* Starts the next job when none runs. While blocked, only recovery runs. Every job
 * reads and writes the state folder and acts on the configuration; a renewal also
 * reads the password file: each is checked first, and while one is unsafe the job
 * waits (the rescan timer checks again). */
void cs__daemon_pump(daemon_t *d) {
  job_t **p;
  unsigned need;
  if (d->running != NULL || d->stopping)
    return;
  for (p = &d->queue; *p != NULL; p = &(*p)->next)
    if (!d->blocked || ((*p)->kind != JOB_DROP && (*p)->kind != JOB_ADOPT && (*p)->kind != JOB_REQUEST))
      break;
  if (*p == NULL) {
    if (d->once && d->n_drops == 0) {
      if (d->queue != NULL)
        cs__daemon_once_cut_short(d); /* renewals held back by a failed rollback */
      else
        uv_stop(d->loop);
    }
    return;
  }
  need = GUARD_BIT(GUARD_STATE) | GUARD_BIT(GUARD_CONFIG);
  if ((*p)->kind == JOB_DROP || (*p)->kind == JOB_ADOPT)
    need |= GUARD_BIT(GUARD_PASSWORD);
  if (!cs__daemon_trusted(d, need)) {
    if (d->once)
      cs__daemon_once_cut_short(d);
    return;
  }
  if ((*p)->kind == JOB_DROP || (*p)->kind == JOB_ADOPT)
    cs__daemon_writers(d); /* said, not refused: see daemon_guard.c */
  d->running = *p;
  *p = d->running->next;
  d->work.data = d;
  uv_queue_work(d->loop, &d->work, work_cb, after_work_cb);
}

/* ---- timers: window and expiry --------------------------------------------- */

/* Queues every file parked in state_dir/waiting, the window being open. */
static void window_cb(uv_timer_t *t) {
  daemon_t *d = t->data;
  char dir[PATH_LEN];
  uv_fs_t req;
  uv_dirent_t ent;
  long long wait = window_wait(d);
  if (wait > 0) { /* woken early (a long wait is split), or the clock moved */
    arm_window(d, wait);
    return;
  }
  if (!cs__daemon_trusted(d, GUARD_BIT(GUARD_STATE))) { /* looked at again in a while */
    arm_window(d, d->cfg->watch.rescan_interval);
    return;
  }
  if (d->adopt_waiting)
    cs__daemon_adopt_look(d, 1);
  if (d->request_waiting)
    cs__daemon_request_look(d, 1);
  cs__daemon_state_path(d, dir, CS_STATE_WAITING);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) >= 0) {
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
      job_t *job;
      uv_fs_t st;
      char why[1200];
      const char *reason;
      if (!cs_parked_candidate(ent.name))
        continue;
      if ((job = cs__daemon_new_job(JOB_DROP)) == NULL)
        break;
      cs_plat_path_join(job->path, PATH_LEN, dir, ent.name);
      snprintf(job->name, sizeof job->name, "%s", ent.name);
      job->from_window = 1;
      /* only what this daemon parked, as take() judged it: the folder may have been
       * open to others once */
      reason = cs__daemon_untrusted_file(job->path, uv_fs_lstat(NULL, &st, job->path, NULL) == 0 ? &st.statbuf : NULL,
                                         why, sizeof why);
      uv_fs_req_cleanup(&st);
      if (reason != NULL) {
        cs__daemon_quarantine(d, job, reason, NULL);
        free(job);
        continue;
      }
      cs__daemon_enqueue(d, job);
    }
  }
  uv_fs_req_cleanup(&req);
}

void cs__daemon_arm_window(daemon_t *d) { arm_window(d, window_wait(d)); }

static void arm_window(daemon_t *d, long long wait) {
  /* at most a day at a time: the wall clock may jump (DST, NTP) while we sleep */
  uint64_t ms = (uint64_t)(wait > 86400 ? 86400 : wait < 0 ? 0 : wait) * 1000;
  uv_timer_start(&d->window, window_cb, ms, 0);
}

static void expiry_cb(uv_timer_t *t) { cs__daemon_enqueue(t->data, cs__daemon_new_job(JOB_EXPIRY)); }

/* ---- start and end (the command itself: daemon_main.c) ------------------------ */

/* Files a previous run had taken but not finished (it stopped or crashed): moved
 * out of incoming at start, before anything new is taken, and settled by
 * interrupted() once the journal's recovery has said how the renewal ended. */
static void orphans(daemon_t *d) {
  char dir[PATH_LEN], to_dir[PATH_LEN], from[PATH_LEN], to[PATH_LEN];
  uv_fs_t req;
  uv_dirent_t ent;
  cs_err_t err;
  cs__daemon_state_path(d, dir, CS_STATE_INCOMING);
  cs__daemon_state_path(d, to_dir, CS_STATE_INTERRUPTED);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) >= 0) {
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
      cs_plat_path_join(from, PATH_LEN, dir, ent.name);
      cs_plat_path_join(to, PATH_LEN, to_dir, ent.name);
      if (ent.name[0] == '.') { /* a write into incoming cut short (a joined pair's temporary file, which may
                                   hold a key): never a taken file, whose stored name starts with its time */
        if (cs_plat_remove(from, &err) != CS_OK)
          cs_event_say(CS_EV_STATE_ERROR, ent.name, d->cfg->store.state_dir, err.text, NULL);
        continue;
      }
      if (cs_plat_mkdirs(to_dir, 0700, &err) != CS_OK || cs_plat_rename(from, to, &err) != CS_OK)
        cs_event_say(CS_EV_STATE_ERROR, ent.name, d->cfg->store.state_dir, err.text, NULL);
    }
  }
  uv_fs_req_cleanup(&req);
}

/* 1 when stored name a ("<time>-<counter>-...") was taken before b */
static int taken_before(const char *a, const char *b) {
  char *ea, *eb;
  long long ta = strtoll(a, &ea, 10), tb = strtoll(b, &eb, 10);
  if (ta != tb)
    return ta < tb;
  return strtoull(*ea == '-' ? ea + 1 : ea, NULL, 10) < strtoull(*eb == '-' ? eb + 1 : eb, NULL, 10);
}

/* The orphans, once the recovery is done. One job runs at a time, in the order
 * taken, so the first one taken was the one in the transaction: put in service
 * when the recovery completed it, else quarantined as interrupted. The others
 * never started. None is tried again (one may be what made the service fall over). */
static void interrupted(daemon_t *d, const cs_renewal_result_t *recovered) {
  char dir[PATH_LEN], first[256] = "";
  uv_fs_t req;
  uv_dirent_t ent;
  cs__daemon_state_path(d, dir, CS_STATE_INTERRUPTED);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) >= 0)
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF)
      if (first[0] == '\0' || taken_before(ent.name, first))
        snprintf(first, sizeof first, "%s", ent.name);
  uv_fs_req_cleanup(&req);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) < 0) {
    uv_fs_req_cleanup(&req);
    return;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    job_t job;
    memset(&job, 0, sizeof job);
    cs_plat_path_join(job.path, PATH_LEN, dir, ent.name);
    snprintf(job.name, sizeof job.name, "%s", ent.name);
    if (strcmp(ent.name, first) != 0 || recovered->outcome == CS_OUT_VALID)
      cs__daemon_quarantine(d, &job,
                            "interrupted: certsteward stopped before this file was put in service; nothing was "
                            "changed for it",
                            NULL);
    else if (recovered->outcome == CS_OUT_ROLLED_BACK)
      cs__daemon_quarantine(d, &job,
                            "interrupted: certsteward stopped while this file was being put in service; the renewal "
                            "was rolled back",
                            recovered);
    else if (recovered->outcome != CS_OUT_COMMITTED) /* not undone, or the recovery could not run */
      quarantine_as(d, &job, CS_EV_DROP_NOT_UNDONE,
                    "interrupted: certsteward stopped while this file was being put in service; the renewal could "
                    "be neither undone nor finished (see the events before this one)",
                    recovered);
    else if (d->cfg->watch.keep_processed) /* the recovery completed it: in service */
      park(d, &job, CS_STATE_PROCESSED, NULL, NULL);
    else
      (void)cs_plat_remove(job.path, NULL);
  }
  uv_fs_req_cleanup(&req);
}

void cs__daemon_start(daemon_t *d) {
#ifdef __GLIBC__
  /* One malloc arena for every thread, before the thread pool starts: a pool thread's
   * own arena keeps the top of its heap mapped after an expiry check that listed
   * thousands of files (malloc_trim does not trim it), about 1.5 MiB for 10,000. */
  (void)mallopt(M_ARENA_MAX, 1);
#endif
  uv_timer_init(d->loop, &d->rescan);
  uv_timer_init(d->loop, &d->settle);
  uv_timer_init(d->loop, &d->expiry);
  uv_timer_init(d->loop, &d->window);
  d->rescan.data = d->settle.data = d->expiry.data = d->window.data = d;

  uv_fs_event_init(d->loop, &d->watch);
  d->watch.data = d;

  /* what is unsafe is said now; the files a crash left in incoming are set aside
   * once the state folder is safe (now, or when it becomes so) */
  d->orphans_pending = 1;
  (void)cs__daemon_trusted(d, GUARD_ALL);
  cs__daemon_enqueue(d, cs__daemon_new_job(JOB_RECOVER)); /* an unfinished transaction before anything else */
  cs__daemon_enqueue(d, cs__daemon_new_job(JOB_EXPIRY));
  arm_window(d, 0); /* files parked before a restart */
  if (!d->once) {
    if (!cs__daemon_watch(d))
      cs_event_say(CS_EV_STATE_ERROR, NULL, d->cfg->watch.folder,
                   "cannot watch the folder for changes; rescanning only", NULL);
    /* the rescan also checks again what was unsafe */
    uv_timer_start(&d->rescan, cs__daemon_rescan_cb, (uint64_t)d->cfg->watch.rescan_interval * 1000,
                   (uint64_t)d->cfg->watch.rescan_interval * 1000);
  }
  if (d->guard[GUARD_STATE] == GUARD_SAFE)
    cs__daemon_quarantine_gc(d);
  cs__daemon_scan(d);
  cs__daemon_adopt_start(d);
  cs__daemon_request_start(d);
}

void cs__daemon_free(daemon_t *d) {
  while (d->queue != NULL) {
    job_t *j = d->queue;
    d->queue = j->next;
    free(j);
  }
  cs__daemon_drops_free(d);
  cs__daemon_adopt_free(d);
}
