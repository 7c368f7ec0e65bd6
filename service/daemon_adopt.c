/* The daemon's adoption ([store] adopt): a renewed certificate found where an admin's
 * tool left it is put in service by the same checks and the same transaction as a
 * dropped file (renewal.c, CS_RENEW_ADOPT).
 *
 * - The system store (Windows: LocalMachine\My): daemon_adopt_store.c.
 * - A folder ([store] adopt_from, POSIX): an ACME client's output. Its change
 *   notifications and the rescan timer start a look; a version (cs_plat_source_read:
 *   the files' identities) is taken once it has not changed since the look before,
 *   settle_seconds ago, and read again unchanged: certbot flips its links one by one.
 *   What is judged is its content, so that a change of metadata alone runs nothing
 *   again. The certificate and key are joined into a private file of the state folder
 *   and put in service into [store] cert_file / key_file. certsteward never writes there.
 *
 * A judged certificate or version is recorded and said once: adopted, rejected (the
 * reasons), already in service, or for another host. A refusal that is not the
 * certificate's fault (the pre-flight, a worker that failed, a full state folder, a key
 * others can read) is not recorded: it is tried again at the next look and said again
 * (3106) only when its reason changes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "adopted.h"
#include "clock.h"
#include "daemon_int.h"
#include "events.h"
#include "platform.h"
#include "report.h"
#include "statedir.h"
#include "text.h"

#define MAX_SOURCE_FILE (1024 * 1024) /* a certificate, its chain or its key */

/* The files an ACME client leaves (source_read) */
#define LEAF_NAME "cert.pem"
#define CHAIN_NAME "chain.pem"
#define KEY_NAME "privkey.pem"

/* ---- the record ----------------------------------------------------------------- */

void cs__adopt_record(daemon_t *d, const char *key, const char *verdict, const char *tp, const char *reason) {
  cs_err_t err;
  if (cs_adopted_put(d->cfg->store.state_dir, &d->adopted, key, verdict, cs_clock_now(), tp ? tp : "",
                     reason ? reason : "", &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, d->cfg->store.state_dir, err.text, NULL);
}

void cs__daemon_adopt_judged(daemon_t *d, const char *tp, const char *verdict, const char *reason) {
  if (d->adopt_mode == ADOPT_STORE && tp[0])
    cs__adopt_record(d, tp, verdict, tp, reason);
}

int cs__adopt_known(const daemon_t *d, const char *key) { return cs_adopted_find(&d->adopted, key) != NULL; }

/* Said once, until the reason changes: a refusal that is not the certificate's fault
 * (3106; tried again at the next look). tp, in_service, subject may be NULL. */
void cs__adopt_deferred(daemon_t *d, const char *tp, const char *in_service, const char *subject, const char *why) {
  const char *source = d->adopt_mode == ADOPT_STORE ? cs_plat_store_name(d->cfg) : d->cfg->store.adopt_from;
  if (strcmp(why, d->adopt_refused_said) == 0)
    return;
  snprintf(d->adopt_refused_said, sizeof d->adopt_refused_said, "%s", why);
  cs_event_cert(CS_EV_ADOPT_DEFERRED, tp, in_service, subject, NULL, source, why, NULL);
}

/* ---- the folder (POSIX) ------------------------------------------------------------ */

/* The first of names[0..n) that is in folder: its version into id and (data not NULL)
 * its bytes, its name into *which. CS_ENOENT when none is; another error (not
 * trusted, too big) is that file's. One look per name: cs_plat_source_read judges the
 * path each time. */
static int read_first(const char *folder, const char *const *names, size_t n, int secret, unsigned char **data,
                      size_t *len, char *id, size_t id_len, const char **which, cs_err_t *err) {
  size_t i;
  int rc = CS_ENOENT;
  for (i = 0; i < n && rc == CS_ENOENT; i++) {
    *which = names[i];
    rc = cs_plat_source_read(folder, names[i], secret, MAX_SOURCE_FILE, data, len, id, id_len, err);
  }
  return rc;
}

/* Reads the pair into one PEM text (*all, *all_len: free with cs_plat_free_file; all
 * NULL: only their version): the certificate (a full chain, else the leaf with the
 * chain beside it when there is one), then the key. version receives "name=id;..." of
 * the files read. CS_OK, or the first file's error in err. */
static int source_read(const char *folder, unsigned char **all, size_t *all_len, char *version, size_t vlen,
                       cs_err_t *err) {
  static const char *const cert_names[] = {"fullchain.pem", "fullchain.cer", "fullchain.crt", LEAF_NAME};
  static const char *const chain_names[] = {CHAIN_NAME}, *const key_names[] = {KEY_NAME};
  static const struct {
    const char *const *names;
    size_t n;
    int optional, secret;
  } parts[3] = {{cert_names, 4, 0, 0}, {chain_names, 1, 1, 0}, {key_names, 1, 0, 1}};
  unsigned char *bytes[3] = {NULL, NULL, NULL};
  size_t len[3] = {0, 0, 0}, used = 0, total = 0, i;
  const char *which = NULL, *cert = NULL;
  char id[256];
  int rc = CS_OK;
  version[0] = '\0';
  if (all != NULL) {
    *all = NULL;
    *all_len = 0;
  }
  for (i = 0; i < 3 && rc == CS_OK; i++) {
    if (i == 1 && strcmp(cert, LEAF_NAME) != 0)
      continue; /* a full chain holds it */
    rc = read_first(folder, parts[i].names, parts[i].n, parts[i].secret, all ? &bytes[i] : NULL, &len[i], id, sizeof id,
                    &which, err);
    if (rc == CS_ENOENT && parts[i].optional) {
      rc = CS_OK;
      continue;
    }
    if (rc == CS_ENOENT && i == 0)
      rc = cs_err_set(err, CS_ENOENT, 0, "no fullchain.pem, fullchain.cer, fullchain.crt or cert.pem in %s", folder);
    if (rc != CS_OK)
      break;
    if (i == 0)
      cert = which;
    used += (size_t)snprintf(version + used, used < vlen ? vlen - used : 0, "%s%s=%s", used ? ";" : "", which, id);
    total += len[i] + 1;
  }
  if (rc == CS_OK && used >= vlen)
    rc = cs_err_set(err, CS_ETOOBIG, 0, "the version of %s does not fit", folder);
  if (rc == CS_OK && all != NULL) {
    if ((*all = malloc(total + 1)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    } else {
      for (i = 0; i < 3; i++) {
        if (len[i] == 0)
          continue;
        memcpy(*all + *all_len, bytes[i], len[i]);
        *all_len += len[i];
        (*all)[(*all_len)++] = '\n';
      }
      (*all)[*all_len] = '\0';
    }
  }
  for (i = 0; i < 3; i++)
    if (bytes[i] != NULL)
      cs_plat_free_file(bytes[i], len[i]);
  return rc;
}

/* Whether the joined file at job->path holds the certificate in service: then its
 * content is recorded as such, without a word. */
static int in_service(daemon_t *d, job_t *job) {
  cs_reply_t reply;
  char tp[41];
  cs_err_t err;
  int same;
  if (cs_renewal_current(&d->env, tp, &err) != CS_OK || cs_worker_scan(&d->worker, job->path, &reply, &err) != CS_OK)
    return 0; /* the transaction finds out, and says */
  same = strcmp(reply.report.thumbprint, tp) == 0;
  cs_reply_free(&reply);
  if (same)
    cs__adopt_record(d, job->key, CS_ADOPT_IN_SERVICE, tp, "");
  return same;
}

/* Whether a failure to read the folder is the folder's (what it holds, or who may change
 * it: judged once, until that changes) rather than this machine's now (a full disk,
 * memory: tried again at the next look). */
static int folders_fault(int rc) {
  return rc == CS_ENOENT || rc == CS_EACCES || rc == CS_ETOOBIG || rc == CS_ENOTREG || rc == CS_EFORMAT;
}

/* The look at the folder, on the thread pool. The version (the files' identities) says
 * whether anything changed and whether it settled; what is judged and recorded is the
 * content (job->key: its FNV-1a and length), so that a change of metadata alone (a
 * chmod, a restored backup, a second link) runs nothing again. */
static void folder_work(daemon_t *d, job_t *job) {
  const char *folder = d->cfg->store.adopt_from;
  unsigned char *pem = NULL;
  size_t pem_len = 0;
  char again[sizeof job->version];
  cs_err_t err;
  int rc;

  job->adopt = ADOPT_NOTHING;
  rc = source_read(folder, NULL, NULL, job->version, sizeof job->version, &err);
  if (rc != CS_OK) {
    snprintf(job->why, sizeof job->why, "%s", err.text);
    if (!folders_fault(rc)) {
      job->adopt = ADOPT_DEFERRED;
      return;
    }
    snprintf(job->key, sizeof job->key, "unusable:%s", err.text); /* said once, until the reason changes */
    if (!cs__adopt_known(d, job->key))
      job->adopt = ADOPT_UNUSABLE;
    return;
  }
  if (!job->from_window && strcmp(job->version, d->adopt_done_version) == 0)
    return; /* this version was judged, or waits for the window */
  if (!job->settled && strcmp(job->version, job->seen) != 0) {
    job->adopt = ADOPT_UNSETTLED; /* changed since the last look: looked at again after settle_seconds */
    return;
  }
  rc = source_read(folder, &pem, &pem_len, again, sizeof again, &err);
  if (rc == CS_OK && strcmp(again, job->version) != 0) {
    job->adopt = ADOPT_UNSETTLED; /* changed while it was read */
    snprintf(job->version, sizeof job->version, "%s", again);
  } else if (rc == CS_OK) {
    snprintf(job->key, sizeof job->key, "content:%016llx:%zu", cs_text_fnv1a(CS_FNV1A_INIT, pem, pem_len), pem_len);
    if (cs__adopt_known(d, job->key))
      job->adopt = ADOPT_KNOWN;
    else
      rc = cs_plat_write_atomic(job->path, pem, pem_len, 0600, &err);
  }
  if (pem != NULL)
    cs_plat_free_file(pem, pem_len);
  if (job->adopt != ADOPT_NOTHING)
    return;
  if (rc != CS_OK) {
    snprintf(job->why, sizeof job->why, "%s", err.text);
    job->adopt = ADOPT_DEFERRED; /* a read that failed now, a state folder that is full: tried again */
    return;
  }
  if (in_service(d, job)) { /* certsteward started after the client's last renewal, or adopted it before */
    (void)cs_plat_remove(job->path, NULL);
    job->adopt = ADOPT_KNOWN;
    return;
  }
  job->adopt = ADOPT_RAN;
  cs_event_say(CS_EV_ADOPT_FOUND, folder, folder, "a new version of its certificate and key", NULL);
  cs__daemon_run_gated(d, folder, job->path, CS_RENEW_ADOPT);
  (void)cs_plat_remove(job->path, NULL); /* it holds the key (a crash leaves it: removed at start) */
}

/* ---- the loop's side ------------------------------------------------------------ */

void cs__daemon_adopt_work(daemon_t *d, job_t *job) {
  memset(&d->res, 0, sizeof d->res);
  cs__daemon_state_path(d, job->path, CS_STATE_ADOPTING);
  if (job->path[0] == '\0') {
    snprintf(job->why, sizeof job->why, "the state folder's path is too long");
    job->adopt = ADOPT_NOTHING;
    return;
  }
  if (d->adopt_mode == ADOPT_STORE)
    cs__daemon_adopt_store(d, job);
  else
    folder_work(d, job);
}

static void settle_cb(uv_timer_t *t);

/* The failed checks of a rejected certificate, or why its run ended. */
static void reasons(const cs_renewal_result_t *res, cs_buf_t *out) {
  size_t i, n = 0;
  for (i = 0; i < res->validation.report.n_checks; i++)
    if (!res->validation.report.checks[i].ok)
      cs_buf_printf(out, "%s%s: %s", n++ ? "; " : "", res->validation.report.checks[i].id,
                    res->validation.report.checks[i].detail);
  if (n == 0)
    cs_buf_printf(out, "%s", res->err.text[0] ? res->err.text : cs_outcome_name(res->outcome));
}

void cs__daemon_adopt_after(daemon_t *d, job_t *job) {
  const char *source = d->adopt_mode == ADOPT_STORE ? cs_plat_store_name(d->cfg) : d->cfg->store.adopt_from;
  const cs_renewal_result_t *res = &d->res;
  cs_buf_t why = CS_BUF_INIT;

  d->adopt_queued = 0;
  d->stats.not_adopted += (unsigned long)job->rejected;
  switch (job->adopt) {
  case ADOPT_NOTHING:
    return;
  case ADOPT_KNOWN:
    snprintf(d->adopt_done_version, sizeof d->adopt_done_version, "%s", job->version);
    return;
  case ADOPT_UNSETTLED:
    snprintf(d->adopt_seen, sizeof d->adopt_seen, "%s", job->version);
    uv_timer_start(&d->adopt_settle, settle_cb, (uint64_t)d->cfg->watch.settle_seconds * 1000 + 100, 0);
    return;
  case ADOPT_DEFERRED:
    cs__adopt_deferred(d, NULL, NULL, NULL, job->why);
    return;
  case ADOPT_UNUSABLE:
    cs__adopt_record(d, job->key, CS_ADOPT_REJECTED, "", job->why);
    d->stats.not_adopted++;
    cs_event_say(CS_EV_NOT_ADOPTED, source, source, job->why, NULL);
    return;
  default:
    break;
  }
  /* this version was looked at: the next look runs it again only when it changes, or
   * when the window opens for it (a refusal that is not its fault clears this, below) */
  snprintf(d->adopt_done_version, sizeof d->adopt_done_version, "%s", job->version);
  switch (res->outcome) {
  case CS_OUT_VALID: /* fit, outside the maintenance window: looked at again when it opens */
    d->adopt_waiting = 1;
    snprintf(d->adopt_held, sizeof d->adopt_held, "%s", job->key);
    cs_event_say(CS_EV_DROP_WAITING, source, source, d->cfg->connector.maintenance_window, NULL);
    cs__daemon_arm_window(d);
    return;
  case CS_OUT_COMMITTED:
    d->stats.adopted++;
    d->adopt_refused_said[0] = '\0'; /* a refusal said before is over */
    cs__adopt_record(d, job->key, CS_ADOPT_ADOPTED, res->new_tp, "");
    cs__daemon_adopt_judged(d, res->old_tp, CS_ADOPT_REPLACED, "replaced by an adopted certificate");
    cs_buf_printf(&why, "%s", res->new_tp);
    if (res->validation.report.not_after[0])
      cs_buf_printf(&why, ", which expires %s", res->validation.report.not_after);
    cs_event_cert(CS_EV_CERT_ADOPTED, res->new_tp, res->old_tp, res->validation.report.subject, NULL, source,
                  cs_buf_str(&why), NULL);
    cs__daemon_enqueue(d, cs__daemon_new_job(JOB_EXPIRY));
    break;
  case CS_OUT_REJECTED:
    if (res->new_tp[0] && strcmp(res->new_tp, res->old_tp) == 0) {
      cs__adopt_record(d, job->key, CS_ADOPT_IN_SERVICE, res->new_tp, "");
      break;
    }
    /* fall through */
  case CS_OUT_ROLLED_BACK:
  case CS_OUT_ROLLBACK_FAILED:
    if (res->outcome == CS_OUT_ROLLBACK_FAILED)
      d->blocked = 1;
    if (res->outcome != CS_OUT_REJECTED) {
      d->stats.rollbacks++;
      cs_buf_printf(&why, "its renewal failed at step %s and was %s: ", cs_step_name(res->step),
                    res->outcome == CS_OUT_ROLLED_BACK ? "rolled back" : "NOT rolled back");
    }
    reasons(res, &why);
    d->stats.not_adopted++;
    cs__adopt_record(d, job->key, CS_ADOPT_REJECTED, res->new_tp, cs_buf_str(&why));
    /* a rollback that failed leaves the certificate in service in doubt: not "unchanged" */
    cs_event_cert(res->outcome == CS_OUT_ROLLBACK_FAILED ? CS_EV_ADOPT_NOT_UNDONE : CS_EV_NOT_ADOPTED, res->new_tp,
                  res->old_tp, res->validation.report.subject, NULL, source, cs_buf_str(&why), NULL);
    break;
  default: /* refused by the pre-flight, or could not run: not the certificate's fault */
    d->adopt_done_version[0] = '\0';
    cs_buf_printf(&why, "%s: ", res->outcome == CS_OUT_REFUSED ? "the pre-flight refused" : cs_step_name(res->step));
    reasons(res, &why);
    if (cs_buf_str(&why) != NULL)
      cs__adopt_deferred(d, res->new_tp, res->old_tp, res->validation.report.subject, cs_buf_str(&why));
    break;
  }
  if (res->outcome != CS_OUT_VALID) {
    d->adopt_held[0] = '\0';
    d->stats.has_last = 1;
    d->stats.last_result = res->outcome;
    d->stats.last_time = cs_clock_now();
  }
  cs_buf_free(&why);
}

/* The store watch's thread: only wakes the loop. */
static void store_changed(void *arg) { uv_async_send(arg); }

/* The store's change notifications, (re)started: at start, and at each look while they
 * do not run (a watch that ended by itself, or could not start); said once per reason. */
static void store_watch(daemon_t *d) {
  cs_err_t err;
  if (d->adopt_mode != ADOPT_STORE || d->once || d->store_watch != NULL)
    return;
  if (cs_plat_store_watch_start(store_changed, &d->adopt_wake, &d->store_watch, &err) == CS_OK) {
    d->adopt_unwatched_said[0] = '\0';
  } else if (strcmp(err.text, d->adopt_unwatched_said) != 0) {
    snprintf(d->adopt_unwatched_said, sizeof d->adopt_unwatched_said, "%s", err.text);
    cs_event_say(CS_EV_ADOPT_UNWATCHED, NULL, cs_plat_store_name(d->cfg), err.text, NULL);
  }
}

/* Queues a look unless one is queued or running. */
void cs__daemon_adopt_look(daemon_t *d, int from_window) {
  job_t *job;
  if (d->adopt_mode == ADOPT_OFF || d->adopt_queued)
    return;
  store_watch(d);
  if ((job = cs__daemon_new_job(JOB_ADOPT)) == NULL)
    return;
  job->from_window = from_window;
  job->settled = d->once; /* run --once: what is there now, there is no later look */
  snprintf(job->seen, sizeof job->seen, "%s", d->adopt_seen);
  snprintf(job->name, sizeof job->name, "%s",
           d->adopt_mode == ADOPT_STORE ? cs_plat_store_name(d->cfg) : d->cfg->store.adopt_from);
  d->adopt_queued = 1;
  if (from_window)
    d->adopt_waiting = 0;
  cs__daemon_enqueue(d, job);
}

static void settle_cb(uv_timer_t *t) { cs__daemon_adopt_look(t->data, 0); }

/* A change: the look comes once settle_seconds have passed without another. */
static void changed(daemon_t *d) {
  uv_timer_start(&d->adopt_settle, settle_cb, (uint64_t)d->cfg->watch.settle_seconds * 1000 + 100, 0);
}

static void fs_cb(uv_fs_event_t *h, const char *name, int events, int status) {
  (void)name;
  (void)events;
  (void)status;
  changed(h->data);
}

static void async_cb(uv_async_t *h) {
  daemon_t *d = h->data;
  cs_err_t err;
  if (cs_plat_store_watch_failed(d->store_watch, &err)) { /* started again at the next look */
    snprintf(d->adopt_unwatched_said, sizeof d->adopt_unwatched_said, "%s", err.text);
    cs_event_say(CS_EV_ADOPT_UNWATCHED, NULL, cs_plat_store_name(d->cfg), err.text, NULL);
    cs_plat_store_watch_stop(d->store_watch);
    d->store_watch = NULL;
  }
  changed(d);
}

/* What a crash left of the joined copy (it holds a key): state_dir/adopting and a
 * temporary file of its write (".adopting.XXXXXX"), whatever adoption is set to now. */
static void leftovers(daemon_t *d) {
  char path[PATH_LEN];
  uv_fs_t req;
  uv_dirent_t ent;
  cs_err_t err;
  if (d->guard[GUARD_STATE] != GUARD_SAFE)
    return; /* not a folder to act in now; the next adoption overwrites it */
  if (uv_fs_scandir(NULL, &req, d->cfg->store.state_dir, 0, NULL) >= 0) {
    while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
      if (strcmp(ent.name, CS_STATE_ADOPTING) != 0 &&
          strncmp(ent.name, "." CS_STATE_ADOPTING ".", sizeof CS_STATE_ADOPTING + 1) != 0)
        continue;
      cs__daemon_state_path(d, path, ent.name);
      if (path[0] && cs_plat_remove(path, &err) != CS_OK)
        cs_event_say(CS_EV_STATE_ERROR, ent.name, d->cfg->store.state_dir, err.text, NULL);
    }
  }
  uv_fs_req_cleanup(&req);
}

void cs__daemon_adopt_start(daemon_t *d) {
  cs_err_t err;
  leftovers(d);
  d->adopt_mode = !d->cfg->store.adopt               ? ADOPT_OFF
                  : cs_plat_store_is_system()        ? ADOPT_STORE
                  : d->cfg->store.adopt_from != NULL ? ADOPT_FOLDER
                                                     : ADOPT_OFF;
  uv_timer_init(d->loop, &d->adopt_settle);
  d->adopt_settle.data = d;
  uv_async_init(d->loop, &d->adopt_wake, async_cb);
  d->adopt_wake.data = d;
  uv_fs_event_init(d->loop, &d->adopt_fs);
  d->adopt_fs.data = d;
  if (d->adopt_mode == ADOPT_OFF)
    return;
  if (cs_adopted_read(d->cfg->store.state_dir, &d->adopted, &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, d->cfg->store.state_dir, err.text, NULL);
  /* the store's notifications start with the first look */
  if (!d->once && d->adopt_mode == ADOPT_FOLDER &&
      uv_fs_event_start(&d->adopt_fs, fs_cb, d->cfg->store.adopt_from, 0) != 0)
    cs_event_say(CS_EV_ADOPT_UNWATCHED, NULL, d->cfg->store.adopt_from, "the system refused a change notification",
                 NULL);
  cs__daemon_adopt_look(d, 0); /* what changed while certsteward did not run */
}

void cs__daemon_adopt_stop(daemon_t *d) {
  cs_plat_store_watch_stop(d->store_watch); /* no uv_async_send after this */
  d->store_watch = NULL;
}

void cs__daemon_adopt_free(daemon_t *d) { cs_adopted_free(&d->adopted); }
