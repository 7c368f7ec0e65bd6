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

static void pump(daemon_t *d);
static void interrupted(daemon_t *d, const cs_renewal_result_t *recovered);
static void arm_window(daemon_t *d, long long wait);
static void expiry_cb(uv_timer_t *t);
static void fs_cb(uv_fs_event_t *h, const char *name, int events, int status);
static void orphans(daemon_t *d);

/* 1 when every path in which (GUARD_BIT()s) is safe to use now. What depends on a
 * path that has become safe again is picked up here: the drop folder's watch
 * (the folder may be a new one) and the files a previous run left in incoming. */
/* run --once: what is due cannot all be done now; the run ends, and says so. */
static void once_cut_short(daemon_t *d) {
  d->once_incomplete = 1;
  uv_stop(d->loop);
}

static int trusted(daemon_t *d, unsigned which) {
  unsigned cleared = 0, bad = cs__daemon_guard(d, which, &cleared);
  if ((cleared & GUARD_BIT(GUARD_DROP)) && !d->once) {
    if (d->watching)
      uv_fs_event_stop(&d->watch);
    d->watching = uv_fs_event_start(&d->watch, fs_cb, d->cfg->watch.folder, 0) == 0;
  }
  if (d->orphans_pending && (which & GUARD_BIT(GUARD_STATE)) && !(bad & GUARD_BIT(GUARD_STATE))) {
    d->orphans_pending = 0;
    orphans(d);
  }
  return bad == 0;
}

static void state_path(const daemon_t *d, char *out, const char *name) {
  (void)cs_plat_path_join(out, PATH_LEN, d->cfg->store.state_dir, name); /* too long: "", fails by name where used */
}


/* A file name as it will be stored: the dropped name with anything but
 * [A-Za-z0-9._-] replaced, behind a time stamp that keeps names unique. */
static void stored_name(char *out, size_t len, const char *name) {
  static unsigned counter;
  size_t i, n = (size_t)snprintf(out, len, "%lld-%u-", cs_clock_now(), counter++);
  for (i = 0; name[i] != '\0' && n + 1 < len; i++) {
    char c = name[i];
    out[n++] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                       c == '-' || c == '_'
                   ? c
                   : '_';
  }
  out[n] = '\0';
}

/* ---- jobs ------------------------------------------------------------------ */

static void enqueue(daemon_t *d, job_t *job) {
  job_t **p = &d->queue;
  while (*p != NULL)
    p = &(*p)->next;
  *p = job;
  pump(d);
}

static job_t *new_job(job_kind_t kind) {
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
  state_path(d, dir, folder);
  stored_name(name, sizeof name, job->name);
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
static void quarantine(daemon_t *d, const job_t *job, const char *why, const cs_renewal_result_t *res) {
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
  if (!job->from_window)
    cs_event_say(CS_EV_DROP_ACCEPTED, job->name, job->name, NULL, NULL);
  wait = job->from_window ? 0 : window_wait(d);
  return wait > 0 && !(d->stats.not_after > 0 && d->stats.not_after <= cs_clock_now() + wait);
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
    /* one job at a time: the events name the dropped file, the gate decides on the
     * window between the pre-flight and BEGIN (one validation, one pre-flight) */
    d->env.name = job->name;
    d->env.gate_cb = gate_cb;
    d->env.gate_arg = d;
    cs_renewal_run(&d->env, job->path, 0, &d->res);
    d->env.gate_cb = NULL;
    d->env.gate_arg = NULL;
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
    if (d->cfg->watch.keep_processed)
      park(d, job, CS_STATE_PROCESSED, NULL, NULL);
    else if (cs_plat_remove(job->path, NULL) != CS_OK)
      cs_event_say(CS_EV_STATE_ERROR, job->name, d->cfg->store.state_dir, "cannot delete a committed drop", NULL);
    enqueue(d, new_job(JOB_EXPIRY)); /* a new certificate in service: a new expiry */
    break;
  case CS_OUT_REJECTED:
    if (d->res.validation.report.n_checks > 0 && !cs_report_accepted(&d->res.validation.report)) {
      cs_buf_t b = CS_BUF_INIT;
      failed_checks(&d->res.validation.report, &b);
      quarantine(d, job, cs_buf_str(&b) ? cs_buf_str(&b) : "failed validation", &d->res);
      cs_buf_free(&b);
    } else {
      quarantine(d, job, d->res.err.text, &d->res);
    }
    break;
  case CS_OUT_ROLLBACK_FAILED:
    d->blocked = 1;
    /* fall through */
  case CS_OUT_ROLLED_BACK:
    d->stats.rollbacks++;
    snprintf(why, sizeof why, "the renewal failed at step %s and was %s: %.500s", cs_step_name(d->res.step),
             d->res.outcome == CS_OUT_ROLLED_BACK ? "rolled back" : "NOT rolled back", d->res.err.text);
    quarantine(d, job, why, &d->res);
    break;
  case CS_OUT_REFUSED:
    snprintf(why, sizeof why, "pre-flight refused: %.600s", d->res.err.text);
    quarantine(d, job, why, &d->res);
    break;
  default:
    if (d->res.step == CS_STEP_VALIDATE)
      cs_event_say(CS_EV_WORKER_FAILED, job->name, job->name, d->res.err.text, NULL);
    snprintf(why, sizeof why, "could not be processed at %s: %.600s", cs_step_name(d->res.step), d->res.err.text);
    quarantine(d, job, why, &d->res);
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
  } else if (job->kind == JOB_RECOVER) {
    d->blocked = d->res.outcome == CS_OUT_ROLLBACK_FAILED || d->res.outcome == CS_OUT_ERROR;
    interrupted(d, &d->res); /* what the crash left in incoming, now that its fate is known */
  } else if (job->kind == JOB_EXPIRY && !d->once) { /* the next check when it is due, no sooner */
    uv_timer_start(&d->expiry, expiry_cb, (uint64_t)(d->stats.next_due > 0 ? d->stats.next_due : 1) * 1000, 0);
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
  pump(d);
}

/* Starts the next job when none runs. While blocked, only recovery runs. Every job
 * reads and writes the state folder and acts on the configuration; a renewal also
 * reads the password file: each is checked first, and while one is unsafe the job
 * waits (the rescan timer checks again). */
static void pump(daemon_t *d) {
  job_t **p;
  unsigned need;
  if (d->running != NULL || d->stopping)
    return;
  for (p = &d->queue; *p != NULL; p = &(*p)->next)
    if (!d->blocked || (*p)->kind != JOB_DROP)
      break;
  if (*p == NULL) {
    if (d->once && d->n_drops == 0) {
      if (d->queue != NULL)
        once_cut_short(d); /* renewals held back by a failed rollback */
      else
        uv_stop(d->loop);
    }
    return;
  }
  need = GUARD_BIT(GUARD_STATE) | GUARD_BIT(GUARD_CONFIG);
  if ((*p)->kind == JOB_DROP)
    need |= GUARD_BIT(GUARD_PASSWORD);
  if (!trusted(d, need)) {
    if (d->once)
      once_cut_short(d);
    return;
  }
  if ((*p)->kind == JOB_DROP)
    cs__daemon_writers(d); /* said, not refused: see daemon_guard.c */
  d->running = *p;
  *p = d->running->next;
  d->work.data = d;
  uv_queue_work(d->loop, &d->work, work_cb, after_work_cb);
}

/* ---- the drop folder --------------------------------------------------------- */

/* The user this daemon runs as (libuv: -1 on Windows, where files show owner 0). */
static unsigned long self_uid(void) {
  static unsigned long uid;
  static int known;
  uv_passwd_t pw;
  if (!known && uv_os_get_passwd(&pw) == 0) {
    uid = pw.uid;
    uv_os_free_passwd(&pw);
    known = 1;
  }
  return uid;
}

/* Why the file at path the daemon is about to read is not trusted, into why (NULL: it
 * is): st (NULL: it could not be looked at) is not a regular file, is owned by someone
 * other than root or this service's account, who could rewrite it at any moment, or
 * others may write it (POSIX mode), or, judged on the file itself through one handle
 * (cs_plat_state_unsafe; on Windows the owner and DACL, which libuv's stat does not
 * show), it has a second name, an owner other than an administrator or a writer who
 * is not one. */
static const char *untrusted_file(const char *path, const uv_stat_t *st, char *why, size_t len) {
  char detail[1024];
  if (st == NULL || (st->st_mode & S_IFMT) != S_IFREG)
    return "not a regular file (a link, FIFO, device or folder), not read";
  if (st->st_uid != 0 && st->st_uid != self_uid()) {
    snprintf(why, len, "owned by user %lu, not by root (or this service's account): not read; copy it in as root",
             (unsigned long)st->st_uid);
    return why;
  }
  if (cs_plat_has_file_modes() && (st->st_mode & 022)) { /* whoever holds it open could change it */
    snprintf(why, len, "mode %03lo: others can change it; not read. Copy it in as root, mode 0600",
             (unsigned long)(st->st_mode & 0777));
    return why;
  }
  if (cs_plat_state_unsafe(path, detail, sizeof detail)) {
    snprintf(why, len, "%s: not read; copy it in as an administrator (root)", detail);
    return why;
  }
  return NULL;
}

/* Takes a settled file out of the drop folder (it may hold a private key) into
 * state_dir/incoming, and queues it unless untrusted_file(st) says otherwise. */
static void take(daemon_t *d, const char *name, const uv_stat_t *st) {
  char from[PATH_LEN], dir[PATH_LEN], stored[300], why[1200];
  const char *reason;
  job_t *job = new_job(JOB_DROP);
  cs_err_t err;
  if (job == NULL)
    return;
  cs_buf_t clean = CS_BUF_INIT;
  cs_text_sanitize(&clean, name);
  snprintf(job->name, sizeof job->name, "%s", cs_buf_str(&clean) ? cs_buf_str(&clean) : "?");
  cs_buf_free(&clean);
  cs_plat_path_join(from, PATH_LEN, d->cfg->watch.folder, name);
  state_path(d, dir, CS_STATE_INCOMING);
  stored_name(stored, sizeof stored, name);
  cs_plat_path_join(job->path, PATH_LEN, dir, stored);
  if (cs_plat_mkdirs(dir, 0700, &err) != CS_OK || cs_plat_rename(from, job->path, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, job->name, d->cfg->store.state_dir, err.text, NULL);
    free(job);
    return;
  }
  cs_event_say(CS_EV_DROP_DETECTED, job->name, job->name, NULL, NULL);
  if ((reason = untrusted_file(job->path, st, why, sizeof why)) != NULL) { /* never opened: out of the way */
    quarantine(d, job, reason, NULL);
    free(job);
    return;
  }
  enqueue(d, job);
}

static void forget(daemon_t *d, size_t i) {
  free(d->drops[i].name);
  memmove(&d->drops[i], &d->drops[i + 1], (d->n_drops - i - 1) * sizeof *d->drops);
  d->n_drops--;
}

static void settle_cb(uv_timer_t *t);

/* Looks at the drop folder: new and changed files are tracked, files unchanged
 * for settle_seconds are taken, in the order they arrived. */
static void scan(daemon_t *d) {
  uint64_t now = uv_now(d->loop), settle = (uint64_t)d->cfg->watch.settle_seconds * 1000, next = 0;
  uv_fs_t req, st;
  uv_dirent_t ent;
  char path[PATH_LEN];
  size_t i;

  if (d->stopping)
    return;
  if (!trusted(d, GUARD_ALL)) { /* an unsafe drop or state folder is not looked into; files wait */
    if (d->once)
      once_cut_short(d);
    return;
  }
  d->generation++;
  if (uv_fs_scandir(NULL, &req, d->cfg->watch.folder, 0, NULL) < 0) {
    uv_fs_req_cleanup(&req);
    return;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    if (!cs_drop_candidate(ent.name))
      continue;
    cs_plat_path_join(path, PATH_LEN, d->cfg->watch.folder, ent.name);
    if (uv_fs_lstat(NULL, &st, path, NULL) != 0) {
      uv_fs_req_cleanup(&st);
      continue; /* gone meanwhile */
    }
    for (i = 0; i < d->n_drops && strcmp(d->drops[i].name, ent.name) != 0; i++)
      ;
    if (i == d->n_drops) {
      drop_t *nd = realloc(d->drops, (d->n_drops + 1) * sizeof *nd);
      if (nd == NULL || (nd[d->n_drops].name = cs_strdup(ent.name)) == NULL) {
        d->drops = nd ? nd : d->drops;
        uv_fs_req_cleanup(&st);
        continue;
      }
      d->drops = nd;
      d->n_drops++;
      d->drops[i].size = -1;
    }
    if (d->drops[i].size != (long long)st.statbuf.st_size ||
        d->drops[i].mtime != st.statbuf.st_mtim.tv_sec + st.statbuf.st_mtim.tv_nsec / 1e9) {
      d->drops[i].size = (long long)st.statbuf.st_size;
      d->drops[i].mtime = st.statbuf.st_mtim.tv_sec + st.statbuf.st_mtim.tv_nsec / 1e9;
      d->drops[i].stable_since = now;
    }
    d->drops[i].seen = d->generation;
    if ((st.statbuf.st_mode & S_IFMT) != S_IFREG)
      d->drops[i].stable_since = 0; /* nothing to wait for */
    uv_fs_req_cleanup(&st);
  }
  uv_fs_req_cleanup(&req);
  for (i = 0; i < d->n_drops;) {
    drop_t *p = &d->drops[i];
    if (p->seen != d->generation) {
      forget(d, i); /* removed by the admin before it settled */
    } else if (p->stable_since + settle <= now) {
      char *name = p->name;
      cs_plat_path_join(path, PATH_LEN, d->cfg->watch.folder, name);
      p->name = NULL;
      forget(d, i);
      {
        uv_fs_t s2;
        int seen = uv_fs_lstat(NULL, &s2, path, NULL) == 0;
        take(d, name, seen ? &s2.statbuf : NULL);
        uv_fs_req_cleanup(&s2);
      }
      free(name);
    } else {
      uint64_t due = p->stable_since + settle;
      if (next == 0 || due < next)
        next = due;
      i++;
    }
  }
  if (next != 0)
    uv_timer_start(&d->settle, settle_cb, next - now, 0);
  pump(d);
}

static void settle_cb(uv_timer_t *t) { scan(t->data); }

static void fs_cb(uv_fs_event_t *h, const char *name, int events, int status) {
  (void)name;
  (void)events;
  (void)status;
  scan(h->data);
}

/* Removes quarantine entries older than quarantine_days. */
static void quarantine_gc(daemon_t *d) {
  char dir[PATH_LEN], path[PATH_LEN];
  long long limit = cs_clock_now() - (long long)d->cfg->watch.quarantine_days * 86400;
  uv_fs_t req, st;
  uv_dirent_t ent;
  state_path(d, dir, CS_STATE_QUARANTINE);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) < 0) {
    uv_fs_req_cleanup(&req);
    return;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    cs_plat_path_join(path, PATH_LEN, dir, ent.name);
    if (uv_fs_lstat(NULL, &st, path, NULL) == 0 && st.statbuf.st_mtim.tv_sec < limit)
      (void)((st.statbuf.st_mode & S_IFMT) == S_IFDIR ? cs_plat_remove_tree(path, NULL) : cs_plat_remove(path, NULL));
    uv_fs_req_cleanup(&st);
  }
  uv_fs_req_cleanup(&req);
}

/* A failed rollback is not tried again before the next start (event 5002 says so):
 * each try restarts the connector, which an admin may be repairing by hand. */
static void rescan_cb(uv_timer_t *t) {
  daemon_t *d = t->data;
  scan(d); /* checks what it trusts first, and so notices what is safe again */
  if (d->guard[GUARD_STATE] == GUARD_SAFE)
    quarantine_gc(d);
  pump(d); /* a job that waited for a path to be safe again */
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
  if (!trusted(d, GUARD_BIT(GUARD_STATE))) { /* looked at again in a while */
    arm_window(d, d->cfg->watch.rescan_interval);
    return;
  }
  state_path(d, dir, CS_STATE_WAITING);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) >= 0) {
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
      job_t *job;
      uv_fs_t st;
      char why[1200];
      const char *reason;
      if (!cs_parked_candidate(ent.name))
        continue;
      if ((job = new_job(JOB_DROP)) == NULL)
        break;
      cs_plat_path_join(job->path, PATH_LEN, dir, ent.name);
      snprintf(job->name, sizeof job->name, "%s", ent.name);
      job->from_window = 1;
      /* only what this daemon parked, as take() judged it: the folder may have been
       * open to others once */
      reason = untrusted_file(job->path, uv_fs_lstat(NULL, &st, job->path, NULL) == 0 ? &st.statbuf : NULL, why,
                              sizeof why);
      uv_fs_req_cleanup(&st);
      if (reason != NULL) {
        quarantine(d, job, reason, NULL);
        free(job);
        continue;
      }
      enqueue(d, job);
    }
  }
  uv_fs_req_cleanup(&req);
}

static void arm_window(daemon_t *d, long long wait) {
  /* at most a day at a time: the wall clock may jump (DST, NTP) while we sleep */
  uint64_t ms = (uint64_t)(wait > 86400 ? 86400 : wait < 0 ? 0 : wait) * 1000;
  uv_timer_start(&d->window, window_cb, ms, 0);
}

static void expiry_cb(uv_timer_t *t) { enqueue(t->data, new_job(JOB_EXPIRY)); }

/* ---- start and end (the command itself: daemon_main.c) ------------------------ */

/* Files a previous run had taken but not finished (it stopped or crashed): moved
 * out of incoming at start, before anything new is taken, and settled by
 * interrupted() once the journal's recovery has said how the renewal ended. */
static void orphans(daemon_t *d) {
  char dir[PATH_LEN], to_dir[PATH_LEN], from[PATH_LEN], to[PATH_LEN];
  uv_fs_t req;
  uv_dirent_t ent;
  cs_err_t err;
  state_path(d, dir, CS_STATE_INCOMING);
  state_path(d, to_dir, "interrupted");
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) >= 0) {
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
      cs_plat_path_join(from, PATH_LEN, dir, ent.name);
      cs_plat_path_join(to, PATH_LEN, to_dir, ent.name);
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
  state_path(d, dir, "interrupted");
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
      quarantine(d, &job, "interrupted: certsteward stopped before this file was put in service; nothing was "
                          "changed for it", NULL);
    else if (recovered->outcome == CS_OUT_ROLLED_BACK)
      quarantine(d, &job, "interrupted: certsteward stopped while this file was being put in service; the renewal "
                          "was rolled back", recovered);
    else if (recovered->outcome != CS_OUT_COMMITTED) /* not undone, or the recovery could not run */
      quarantine_as(d, &job, CS_EV_DROP_NOT_UNDONE,
                    "interrupted: certsteward stopped while this file was being put in service; the renewal could "
                    "be neither undone nor finished (see the events before this one)", recovered);
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
  (void)trusted(d, GUARD_ALL);
  enqueue(d, new_job(JOB_RECOVER)); /* an unfinished transaction before anything else */
  enqueue(d, new_job(JOB_EXPIRY));
  arm_window(d, 0);                 /* files parked before a restart */
  if (!d->once) {
    d->watching = uv_fs_event_start(&d->watch, fs_cb, d->cfg->watch.folder, 0) == 0;
    if (!d->watching)
      cs_event_say(CS_EV_STATE_ERROR, NULL, d->cfg->watch.folder,
                       "cannot watch the folder for changes; rescanning only", NULL);
    /* the rescan also checks again what was unsafe */
    uv_timer_start(&d->rescan, rescan_cb, (uint64_t)d->cfg->watch.rescan_interval * 1000,
                   (uint64_t)d->cfg->watch.rescan_interval * 1000);
  }
  if (d->guard[GUARD_STATE] == GUARD_SAFE)
    quarantine_gc(d);
  scan(d);
}

void cs__daemon_free(daemon_t *d) {
  while (d->queue != NULL) {
    job_t *j = d->queue;
    d->queue = j->next;
    free(j);
  }
  while (d->n_drops > 0)
    forget(d, d->n_drops - 1);
  free(d->drops);
  d->drops = NULL;
}
