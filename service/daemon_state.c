/* What the daemon knows about certificates: the one in service (expiry events,
 * the private key's permission, the metrics file) and the monitored ones
 * ([store] monitor: listed, described by the worker, published; also for status). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "clock.h"
#include "daemon.h"
#include "events.h"
#include "expiry.h"
#include "metrics.h"
#include "platform.h"
#include "text.h"

#define PATH_LEN 4096

static void state_file(const cs_config_t *cfg, char *out, size_t len, const char *name) {
  if (snprintf(out, len, "%s%s%s", cfg->store.state_dir, cs_plat_is_windows() ? "\\" : "/", name) >= (int)len)
    out[0] = '\0';
}

static void state_error(const cs_config_t *cfg, const char *why) {
  cs_event_say(CS_EV_STATE_ERROR, NULL, cfg->store.state_dir, why, NULL);
}

/* The certificate in service into st, and its expiry events. CS_ENOENT when it
 * is not known (said at start: CONNECTOR_MISSING). */
static int service_expiry(const cs_config_t *cfg, const cs_renewal_env_t *env, cs_daemon_stats_t *st) {
  char tp[41], cert[PATH_LEN], key[PATH_LEN], path[PATH_LEN];
  int days[CS_EXPIRY_MAX_THRESHOLDS], changed = 0, rc = CS_ENOENT;
  long long next_due = CS_EXPIRY_NEVER;
  cs_expiry_state_t es;
  cs_reply_t reply;
  size_t n = 0;
  cs_err_t err;

  memset(&reply, 0, sizeof reply);
  if (cs_renewal_current(env, tp, &err) != CS_OK ||
      cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, &err) != CS_OK || cert[0] == '\0' ||
      cs_worker_scan(env->worker, cert, &reply, &err) != CS_OK || reply.not_after_epoch == 0)
    goto out;
  rc = CS_OK;
  memcpy(st->tp, reply.report.thumbprint, sizeof st->tp);
  snprintf(st->subject, sizeof st->subject, "%s", reply.report.subject ? reply.report.subject : "");
  st->not_after = reply.not_after_epoch;
  if (cs_expiry_thresholds(&cfg->expiry.warn_days, days, CS_EXPIRY_MAX_THRESHOLDS, &n) != CS_OK)
    n = 0;
  state_file(cfg, path, sizeof path, "expiry");
  (void)cs_expiry_load(path, &es, &err); /* a damaged state is an empty one: at worst a repeated warning */
  cs_expiry_check(&es, st->tp, st->subject, st->not_after, cs_clock_now(), days, n, &changed, &next_due);
  if (changed && cs_expiry_save(path, &es, &err) != CS_OK)
    state_error(cfg, err.text);
  if (next_due < st->next_due)
    st->next_due = next_due;
out:
  cs_reply_free(&reply);
  return rc;
}

/* [connector] account keeps READ on the private key in service: an entry that
 * went missing is granted again (read back by cs_plat_key_grant). */
static void key_permission(const cs_config_t *cfg, const cs_daemon_stats_t *st) {
  const char *account = cfg->connector.account;
  char ref[PATH_LEN], what[PATH_LEN + 256];
  int granted = 0, rc;
  cs_event_t ev;
  cs_err_t err;

  if (account == NULL || cs_plat_store_key_ref(cfg, st->tp, ref, sizeof ref) != CS_OK)
    return; /* no grant step, or no key to grant on: the renewal's grant step says so */
  rc = cs_plat_key_check(ref, account, &granted, &err);
  if (rc == CS_OK && granted)
    return;
  if (rc == CS_OK)
    rc = cs_plat_key_grant(ref, account, &err);
  memset(&ev, 0, sizeof ev);
  ev.thumbprint = st->tp;
  ev.subject = st->subject[0] ? st->subject : NULL;
  if (rc == CS_OK) {
    ev.id = CS_EV_KEY_PERMISSION_REPAIRED;
    ev.args[0] = account;
  } else { /* no such account, no key file, no ACLs there, not permitted: the service may not read its key */
    snprintf(what, sizeof what, "%s (key %s)", account, ref);
    ev.id = CS_EV_KEY_PERMISSION_FAILED;
    ev.args[0] = what;
    ev.args[1] = err.text;
  }
  cs_event_emit(&ev);
}

/* The certificates of m the metrics carry into <state_dir>/monitored (removed when
 * none); how many. Said as a STATE_ERROR when it cannot be written. */
static size_t save_monitored(const cs_config_t *cfg, const cs_daemon_monitor_t *m) {
  cs_buf_t b = CS_BUF_INIT;
  char path[PATH_LEN];
  cs_err_t err;
  size_t i, k = 0;
  int rc;

  state_file(cfg, path, sizeof path, CS_DAEMON_MONITORED_FILE);
  for (i = 0; i < m->n; i++) {
    const cs_daemon_cert_t *c = &m->certs[i];
    if (!c->in_metrics)
      continue;
    /* sanitised (idempotent on the worker's text): no tab or newline in a field */
    cs_buf_printf(&b, "%s\t%lld\t", c->tp, c->not_after_epoch);
    cs_text_sanitize(&b, c->shown);
    cs_buf_puts(&b, "\t");
    cs_text_sanitize(&b, c->subject);
    cs_buf_puts(&b, "\n");
    k++;
  }
  if (k == 0) {
    (void)cs_plat_remove(path, NULL);
    rc = CS_OK;
  } else {
    rc = cs_buf_str(&b) == NULL ? cs_err_set(&err, CS_ENOMEM, 0, "out of memory listing the monitored certificates")
                                : cs_plat_write_atomic(path, b.p, b.len, 0600, &err);
  }
  cs_buf_free(&b);
  if (rc == CS_OK)
    return k;
  state_error(cfg, err.text);
  return 0;
}

void cs_daemon_expiry_check(const cs_config_t *cfg, const cs_renewal_env_t *env, cs_daemon_stats_t *st) {
  cs_daemon_monitor_t m;

  st->next_due = cfg->expiry.check_interval;
  if (service_expiry(cfg, env, st) == CS_OK)
    key_permission(cfg, st);
  if (cs_daemon_monitor_source(cfg) != NULL) {
    /* one job at a time, and the loop reads st only between jobs: replaced here safely */
    memset(&m, 0, sizeof m);
    (void)cs_daemon_monitor_scan(cfg, env->worker, &m);
    st->monitored = save_monitored(cfg, &m);
    cs_daemon_monitor_free(&m);
  }
}

/* Reads up to max lines of <state_dir>/monitored into certs (pointing into *data,
 * which the caller frees with cs_plat_free_file); how many. A line that is not
 * well-formed is left out. */
static size_t load_monitored(const cs_config_t *cfg, cs_metrics_cert_t *certs, size_t max, unsigned char **data,
                             size_t *len) {
  char path[PATH_LEN], *p, *end, *f[4];
  size_t k = 0, i;
  cs_err_t err;

  *data = NULL;
  *len = 0;
  state_file(cfg, path, sizeof path, CS_DAEMON_MONITORED_FILE);
  if (cs_plat_read_file(path, (size_t)64 << 20, CS_READ_NOFOLLOW, data, len, &err) != CS_OK)
    return 0;
  for (p = (char *)*data; k < max && (end = strchr(p, '\n')) != NULL; p = end + 1) {
    *end = '\0';
    for (i = 0, f[0] = p; i < 3 && (f[i + 1] = strchr(f[i], '\t')) != NULL; i++)
      *f[i + 1]++ = '\0';
    if (i < 3 || strlen(f[0]) != 40)
      continue;
    certs[k].thumbprint = f[0];
    certs[k].not_after = strtoll(f[1], NULL, 10);
    certs[k].source = f[2];
    certs[k].subject = f[3];
    certs[k++].host = NULL; /* not known for a monitored file */
  }
  return k;
}

void cs_daemon_write_metrics(const cs_config_t *cfg, const cs_daemon_stats_t *st) {
  cs_metrics_cert_t one, *certs = &one, *more = NULL;
  unsigned char *data = NULL;
  size_t len = 0, k = 0;
  cs_metrics_t m;
  char path[PATH_LEN];
  cs_err_t err;

  memset(&m, 0, sizeof m);
  memset(&one, 0, sizeof one);
  if (st->monitored > 0 && (more = calloc(st->monitored + 1, sizeof *more)) != NULL)
    certs = more; /* out of memory: the certificate in service alone */
  if (st->tp[0] != '\0') {
    certs[k].thumbprint = st->tp;
    certs[k].subject = st->subject;
    certs[k].host = cfg->connector.host;
    certs[k].source = "service";
    certs[k++].not_after = st->not_after;
  }
  if (more != NULL)
    k += load_monitored(cfg, certs + k, st->monitored, &data, &len);
  m.certs = k > 0 ? certs : NULL;
  m.n_certs = k;
  m.last_result = st->has_last ? cs_outcome_name(st->last_result) : NULL;
  m.last_time = st->last_time;
  m.drops_accepted = st->accepted;
  m.drops_rejected = st->rejected;
  m.rollbacks = st->rollbacks;
  if (cfg->log.metrics_file != NULL)
    snprintf(path, sizeof path, "%s", cfg->log.metrics_file);
  else
    state_file(cfg, path, sizeof path, "certsteward.prom");
  (void)cs_metrics_write(path, &m, cs_clock_now(), &err);
  if (data != NULL)
    cs_plat_free_file(data, len);
  free(more);
}

/* ---- [store] monitor ------------------------------------------------------------ */

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A new string: s sanitised as a log line shows it; NULL when out of memory. */
static char *sanitised(const char *s) {
  cs_buf_t b = CS_BUF_INIT;
  char *out;
  cs_text_sanitize(&b, s);
  out = cs_buf_str(&b) != NULL ? cs_strdup(cs_buf_str(&b)) : NULL;
  cs_buf_free(&b);
  return out;
}

/* 1 if path is a regular file itself (a link is not followed). */
static int regular(const char *path) {
  uv_fs_t st;
  int yes = uv_fs_lstat(NULL, &st, path, NULL) == 0 && (st.statbuf.st_mode & S_IFMT) == S_IFREG;
  uv_fs_req_cleanup(&st);
  return yes;
}

/* The worker's description of path appended to m (room was made): why is NULL and
 * reply what it answered, or why the reason it could not be asked (reply not read). */
static void add(cs_daemon_monitor_t *m, const char *path, const cs_reply_t *reply, const char *why) {
  cs_daemon_cert_t *c = &m->certs[m->n++];
  const char *named = why == NULL && reply->report.file != NULL ? reply->report.file : path;
  size_t k = strlen(named);

  memset(c, 0, sizeof *c);
  if ((c->shown = sanitised(path)) == NULL) {
    c->error = cs_strdup("out of memory");
  } else if (why != NULL || reply->error != NULL) {
    why = why != NULL ? why : reply->error; /* "<file>: <why>": the file is said already */
    c->error = cs_strdup(strncmp(why, named, k) == 0 && strncmp(why + k, ": ", 2) == 0 ? why + k + 2 : why);
  } else if (reply->report.thumbprint[0] == '\0') {
    c->error = cs_strdup("the worker's scan answer names no certificate");
  } else if (reply->not_after_epoch == 0) {
    c->error = cs_strdup("the worker's answer gives no notAfter");
  } else {
    memcpy(c->tp, reply->report.thumbprint, sizeof c->tp);
    c->subject = reply->report.subject != NULL ? cs_strdup(reply->report.subject) : NULL;
    memcpy(c->not_after, reply->report.not_after, sizeof c->not_after);
    c->not_after_epoch = reply->not_after_epoch;
  }
}

/* Appends path to m (room was made) as a worker process of its own describes it. */
static void describe(cs_daemon_monitor_t *m, const cs_worker_t *w, const char *path) {
  cs_reply_t reply;
  cs_err_t err;
  cs_err_clear(&err);
  if (cs_worker_scan(w, path, &reply, &err) == CS_OK)
    add(m, path, &reply, NULL);
  else
    add(m, path, NULL, err.text);
  cs_reply_free(&reply);
}

/* Appends files[0..n) to m (room was made), many to a worker process; the files of
 * a process that failed as a whole (a file that crashes or hangs it, an answer that
 * is garbage) are asked again one process each: the bad one says so, the others
 * are described. */
static void describe_all(cs_daemon_monitor_t *m, const cs_worker_t *w, const char *const *files, size_t n) {
  cs_reply_t *replies = n > 1 ? calloc(n < CS_WORKER_SCAN_FILES ? n : CS_WORKER_SCAN_FILES, sizeof *replies) : NULL;
  size_t i = 0, k, j;
  cs_err_t err;

  while (i < n) {
    k = cs_worker_scan_fit(w, files + i, n - i);
    if (replies != NULL && k > 1 && cs_worker_scan_many(w, files + i, k, replies, &err) == CS_OK) {
      for (j = 0; j < k; j++) {
        add(m, files[i + j], &replies[j], NULL);
        cs_reply_free(&replies[j]);
      }
    } else {
      for (j = 0; j < k; j++)
        describe(m, w, files[i + j]);
    }
    i += k;
  }
  free(replies);
}

static int cmp_shown(const void *a, const void *b) {
  const cs_daemon_cert_t *x = *(const cs_daemon_cert_t *const *)a, *y = *(const cs_daemon_cert_t *const *)b;
  int c = strcmp(x->shown, y->shown);
  return c != 0 ? c : x < y ? -1 : x > y; /* the same label: the first listed first */
}

/* Which files the metrics carry: described ones whose source label is not one
 * already there. Paths in one folder differ, but two names can sanitise alike. */
static void pick_for_metrics(cs_daemon_monitor_t *m) {
  cs_daemon_cert_t **v = m->n > 1 ? malloc(m->n * sizeof *v) : NULL;
  size_t i, k = 0;
  for (i = 0; i < m->n; i++) {
    cs_daemon_cert_t *c = &m->certs[i];
    c->in_metrics = c->tp[0] != '\0' && c->shown != NULL && strcmp(c->shown, "service") != 0;
    if (c->in_metrics && v != NULL)
      v[k++] = c;
  }
  if (v == NULL && m->n > 1) { /* out of memory: none rather than a label twice */
    for (i = 0; i < m->n; i++)
      m->certs[i].in_metrics = 0;
    return;
  }
  if (k > 1)
    qsort(v, k, sizeof *v, cmp_shown);
  for (i = 1; i < k; i++)
    if (strcmp(v[i]->shown, v[i - 1]->shown) == 0)
      v[i]->in_metrics = 0;
  free(v);
}

const char *cs_daemon_monitor_source(const cs_config_t *cfg) {
  if (cfg->store.monitor != NULL)
    return cfg->store.monitor;
  return cs_plat_is_windows() ? CS_DAEMON_STORE_NAME : NULL;
}

/* The machine's store (Windows) as crypt32 lists it: no worker, no OpenSSL. */
static int store_scan(const cs_config_t *cfg, cs_daemon_monitor_t *m) {
  cs_plat_cert_t *certs = NULL;
  size_t n = 0, i;
  cs_buf_t name = CS_BUF_INIT;
  int rc = cs_plat_store_list(cfg, &certs, &n, &m->err);

  if (rc != CS_OK)
    return rc;
  if (n > CS_DAEMON_MONITOR_MAX) {
    m->left_out = n - CS_DAEMON_MONITOR_MAX;
    n = CS_DAEMON_MONITOR_MAX;
  }
  if (n > 0 && (m->certs = calloc(n, sizeof *m->certs)) == NULL) {
    rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", CS_DAEMON_STORE_NAME);
    goto out;
  }
  for (i = 0; i < n; i++) {
    cs_daemon_cert_t *c = &m->certs[m->n++];
    cs_buf_free(&name);
    cs_buf_printf(&name, "%s\\%s", CS_DAEMON_STORE_NAME, certs[i].tp);
    c->shown = cs_buf_str(&name) != NULL ? sanitised(cs_buf_str(&name)) : NULL;
    if (c->shown == NULL) {
      c->error = cs_strdup("out of memory");
      continue;
    }
    memcpy(c->tp, certs[i].tp, sizeof c->tp);
    c->subject = certs[i].subject != NULL ? cs_strdup(certs[i].subject) : NULL;
    c->not_after_epoch = certs[i].not_after;
    cs_time_utc(certs[i].not_after, c->not_after, sizeof c->not_after);
  }
  pick_for_metrics(m);
out:
  cs_buf_free(&name);
  cs_plat_store_list_free(certs, n + m->left_out);
  return rc;
}

int cs_daemon_monitor_scan(const cs_config_t *cfg, const cs_worker_t *w, cs_daemon_monitor_t *m) {
  const char *dir = cfg->store.monitor;
  cs_buf_t path = CS_BUF_INIT;
  char **names = NULL, **nv, **files = NULL;
  size_t n = 0, room = 0, i, cap, nf = 0;
  uv_dirent_t ent;
  uv_fs_t req;
  int r, rc = CS_OK;

  cs_err_clear(&m->err);
  if (dir == NULL)
    return cs_plat_is_windows() ? store_scan(cfg, m) : CS_OK;
  if ((r = uv_fs_scandir(NULL, &req, dir, 0, NULL)) < 0) {
    rc = cs_err_set(&m->err, r == UV_ENOENT ? CS_ENOENT : CS_EIO, r, "cannot list %s: %s", dir, uv_strerror(r));
    uv_fs_req_cleanup(&req);
    goto out;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    char *copy;
    if (ent.type != UV_DIRENT_FILE && ent.type != UV_DIRENT_UNKNOWN)
      continue; /* a link, folder, FIFO, device or socket: not listed */
    if (n == room && (nv = realloc(names, (room ? 2 * room : 64) * sizeof *nv)) != NULL) {
      names = nv;
      room = room ? 2 * room : 64;
    }
    if (n == room || (copy = cs_strdup(ent.name)) == NULL) {
      rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
      break;
    }
    names[n++] = copy;
  }
  uv_fs_req_cleanup(&req);
  if (rc != CS_OK)
    goto out;
  if (n > 1)
    qsort(names, n, sizeof *names, cmp_names);
  /* the first cap regular files by name: their paths, then what the worker says */
  cap = n < CS_DAEMON_MONITOR_MAX ? n : CS_DAEMON_MONITOR_MAX;
  if (cap > 0 && ((m->certs = calloc(cap, sizeof *m->certs)) == NULL || (files = calloc(cap, sizeof *files)) == NULL)) {
    rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
    goto out;
  }
  for (i = 0; i < n; i++) {
    if (nf == cap) {
      m->left_out = n - i;
      break;
    }
    cs_buf_free(&path);
    cs_buf_printf(&path, "%s%s%s", dir, cs_plat_is_windows() ? "\\" : "/", names[i]);
    if (cs_buf_str(&path) == NULL || !regular(cs_buf_str(&path)))
      continue;
    if ((files[nf] = cs_strdup(cs_buf_str(&path))) == NULL) {
      rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
      goto out;
    }
    nf++;
  }
  describe_all(m, w, (const char *const *)files, nf);
  pick_for_metrics(m);
out:
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
  for (i = 0; i < nf; i++)
    free(files[i]);
  free(files);
  cs_buf_free(&path);
  return rc;
}

void cs_daemon_monitor_free(cs_daemon_monitor_t *m) {
  size_t i;
  for (i = 0; i < m->n; i++) {
    free(m->certs[i].shown);
    free(m->certs[i].subject);
    free(m->certs[i].error);
  }
  free(m->certs);
  memset(m, 0, sizeof *m);
}

/* ---- [store] monitor in certsteward status -------------------------------------- */

/* One line: the label padded to width, then each piece (NULL ends them) sanitised. */
static void line(cs_buf_t *b, int width, const char *label, ...) {
  const char *piece;
  va_list ap;
  cs_buf_printf(b, "%-*s", width, label);
  va_start(ap, label);
  while ((piece = va_arg(ap, const char *)) != NULL)
    cs_text_sanitize(b, piece);
  va_end(ap);
  cs_buf_puts(b, "\n");
}

void cs_daemon_monitor_text(cs_buf_t *b, const char *folder, const cs_daemon_monitor_t *m, long long now, int width) {
  char count[96];
  size_t i;
  if (folder == NULL)
    return; /* [store] monitor not set: nothing to say */
  snprintf(count, sizeof count, ": %zu %s%s", m->n, strcmp(folder, CS_DAEMON_STORE_NAME) == 0 ? "certificate" : "file",
           m->n == 1 ? "" : "s");
  line(b, width, "monitored", folder, m->err.code != CS_OK ? ": " : count, m->err.code != CS_OK ? m->err.text : "",
       NULL);
  for (i = 0; i < m->n; i++) {
    const cs_daemon_cert_t *c = &m->certs[i];
    long long days = (c->not_after_epoch - now) / 86400;
    if (c->tp[0] == '\0') {
      line(b, width, "  file", c->shown ? c->shown : "?", ": ", c->error ? c->error : "out of memory", NULL);
      continue;
    }
    if (c->not_after_epoch < now)
      snprintf(count, sizeof count, " (EXPIRED)");
    else
      snprintf(count, sizeof count, " (%lld day%s left)", days, days == 1 ? "" : "s");
    line(b, width, "  file", c->shown, NULL);
    line(b, width, "    thumbprint", c->tp, NULL);
    line(b, width, "    subject", c->subject ? c->subject : "", NULL);
    line(b, width, "    not after", c->not_after, count, NULL);
  }
  if (m->left_out > 0) {
    snprintf(count, sizeof count, "%zu more file%s not listed: only the first %d by name are", m->left_out,
             m->left_out == 1 ? "" : "s", CS_DAEMON_MONITOR_MAX);
    line(b, width, "", count, NULL);
  }
}

void cs_daemon_monitor_json(cs_buf_t *b, const char *folder, const cs_daemon_monitor_t *m, long long now) {
  char *shown;
  size_t i;
  if (folder == NULL) {
    cs_buf_puts(b, "null"); /* [store] monitor not set */
    return;
  }
  shown = sanitised(folder);
  cs_buf_puts(b, "{\"folder\":");
  cs_json_str(b, shown);
  cs_buf_puts(b, ",\"files\":[");
  for (i = 0; i < m->n; i++) {
    const cs_daemon_cert_t *c = &m->certs[i];
    int ok = c->tp[0] != '\0';
    cs_buf_puts(b, i ? ",{\"file\":" : "{\"file\":");
    cs_json_str(b, c->shown);
    cs_buf_puts(b, ",\"thumbprint\":");
    cs_json_str(b, ok ? c->tp : NULL);
    cs_buf_puts(b, ",\"subject\":");
    cs_json_str(b, ok ? c->subject : NULL);
    cs_buf_puts(b, ",\"not_after\":");
    cs_json_str(b, ok ? c->not_after : NULL);
    if (ok) {
      cs_buf_printf(b, ",\"days_left\":%lld,\"error\":null}", (c->not_after_epoch - now) / 86400);
    } else {
      cs_buf_puts(b, ",\"days_left\":null,\"error\":");
      cs_json_str(b, c->error ? c->error : "out of memory");
      cs_buf_puts(b, "}");
    }
  }
  cs_buf_printf(b, "],\"left_out\":%zu,\"error\":", m->left_out);
  cs_json_str(b, m->err.code != CS_OK ? m->err.text : NULL);
  cs_buf_puts(b, "}");
  free(shown);
}
