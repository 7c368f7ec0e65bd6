/* What the daemon knows about certificates: the one in service (expiry events,
 * the private key's permission, the metrics file) and the monitored ones
 * ([store] monitor, listed by monitor.c: published in the metrics). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "committed.h"
#include "clock.h"
#include "daemon.h"
#include "events.h"
#include "expiry.h"
#include "metrics.h"
#include "platform.h"
#include "request.h"
#include "statedir.h"
#include "text.h"

#define PATH_LEN 4096

static void state_file(const cs_config_t *cfg, char *out, size_t len, const char *name) {
  (void)cs_plat_path_join(out, len, cfg->store.state_dir, name); /* "" when too long: fails where used */
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
  cert[0] = '\0';
  if (cs_renewal_current(env, tp, &err) != CS_OK ||
      cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, &err) != CS_OK || cert[0] == '\0')
    goto out;
  if (cs_worker_scan(env->worker, cert, &reply, &err) != CS_OK || reply.not_after_epoch == 0) {
    /* a file put at cert_file that is no certificate must not silence the warnings:
     * said once for each reason (the worker's words tell nothing of its content) */
    const char *why = reply.error != NULL ? reply.error : err.text;
    if (strncmp(st->expiry_said, why, sizeof st->expiry_said - 1) != 0) {
      snprintf(st->expiry_said, sizeof st->expiry_said, "%.159s", why);
      cs_event_say(CS_EV_CERT_UNREADABLE, NULL, cert, why, NULL);
    }
    goto out;
  }
  st->expiry_said[0] = '\0';
  rc = CS_OK;
  memcpy(st->tp, reply.report.thumbprint, sizeof st->tp);
  snprintf(st->subject, sizeof st->subject, "%s", reply.report.subject ? reply.report.subject : "");
  st->not_after = reply.not_after_epoch;
  if (cs_expiry_thresholds(&cfg->expiry.warn_days, days, CS_EXPIRY_MAX_THRESHOLDS, &n) != CS_OK)
    n = 0;
  state_file(cfg, path, sizeof path, CS_STATE_EXPIRY);
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

/* Only the key of a certificate certsteward vouches for (committed.h) is kept readable:
 * what names the certificate in service (a binding file, the key file's folder) may be
 * the connector's account's to change, and a grant that followed it would give the
 * account the machine's other keys. 1 when ref may be granted on; else said once per
 * certificate and reason (st->key_said). */
static int key_vouched(const cs_config_t *cfg, cs_daemon_stats_t *st, const char *ref) {
  char id[200], now[200], why[PATH_LEN + 200], said[sizeof st->key_said];
  cs_err_t err;
  int ok = 1;

  if (!cs_committed_vouches(cfg, st->tp, id, sizeof id)) {
    snprintf(why, sizeof why,
             "the certificate in service is not one certsteward put in service, nor the one [connector] thumbprint "
             "names");
    ok = 0;
  } else if (cs_plat_key_identity(ref, now, sizeof now, &err) != CS_OK) {
    snprintf(why, sizeof why, "%s", err.text);
    ok = 0;
  } else if (now[0] != '\0' && strcmp(id, now) != 0) {
    /* POSIX: another file at key_file than the one certsteward wrote (or none recorded:
     * a certificate [connector] thumbprint names, whose key file it never wrote) */
    snprintf(why, sizeof why, "%s is not the key file certsteward put in service with the certificate", ref);
    ok = 0;
  }
  if (ok) {
    st->key_said[0] = '\0';
    return 1;
  }
  snprintf(said, sizeof said, "%s %.40s", st->tp, why);
  if (strcmp(said, st->key_said) != 0) {
    snprintf(st->key_said, sizeof st->key_said, "%s", said);
    cs_event_cert(CS_EV_KEY_PERMISSION_NOT_KEPT, st->tp, NULL, st->subject[0] ? st->subject : NULL, NULL,
                  cfg->connector.account, why, NULL);
  }
  return 0;
}

/* [connector] account keeps READ on the private key in service: an entry that
 * went missing is granted again (read back by cs_plat_key_grant). */
static void key_permission(const cs_config_t *cfg, cs_daemon_stats_t *st) {
  const char *account = cfg->connector.account;
  char ref[PATH_LEN], what[PATH_LEN + 256];
  int granted = 0, rc;
  cs_err_t err;

  if (account == NULL || cs_plat_store_key_ref(cfg, st->tp, ref, sizeof ref) != CS_OK)
    return; /* no grant step, or no key to grant on: the renewal's grant step says so */
  if (!key_vouched(cfg, st, ref))
    return;
  rc = cs_plat_key_check(ref, account, &granted, &err);
  if (rc == CS_OK && granted)
    return;
  if (rc == CS_OK)
    rc = cs_plat_key_grant(ref, account, &err);
  if (rc == CS_OK) {
    cs_event_cert(CS_EV_KEY_PERMISSION_REPAIRED, st->tp, NULL, st->subject[0] ? st->subject : NULL, NULL, account, NULL,
                  NULL);
  } else { /* no such account, no key file, no ACLs there, not permitted: the service may not read its key */
    snprintf(what, sizeof what, "%s (key %s)", account, ref);
    cs_event_cert(CS_EV_KEY_PERMISSION_FAILED, st->tp, NULL, st->subject[0] ? st->subject : NULL, NULL, what, err.text,
                  NULL);
  }
}

/* The certificates of m the metrics carry into <state_dir>/monitored (removed when
 * none); how many. Said as a STATE_ERROR when it cannot be written. */
static size_t save_monitored(const cs_config_t *cfg, const cs_monitor_t *m) {
  cs_buf_t b = CS_BUF_INIT;
  char path[PATH_LEN];
  cs_err_t err;
  size_t i, k = 0;
  int rc;

  state_file(cfg, path, sizeof path, CS_STATE_MONITORED);
  for (i = 0; i < m->n; i++) {
    const cs_monitor_cert_t *c = &m->certs[i];
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
  cs_monitor_t m;

  st->next_due = cfg->expiry.check_interval;
  if (service_expiry(cfg, env, st) == CS_OK)
    key_permission(cfg, st);
  if (cs_monitor_source(cfg) != NULL) {
    /* one job at a time, and the loop reads st only between jobs: replaced here safely */
    memset(&m, 0, sizeof m);
    (void)cs_monitor_scan(cfg, env->worker, &m);
    st->monitored = save_monitored(cfg, &m);
    cs_monitor_free(&m);
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
  state_file(cfg, path, sizeof path, CS_STATE_MONITORED);
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
  cs_request_t req;
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
  m.adopted = st->adopted;
  m.not_adopted = st->not_adopted;
  if (cs_request_read(cfg->store.state_dir, &req, &err) == CS_OK) {
    m.request_pending = strcmp(req.state, CS_REQ_HELD) != 0;
    m.request_made = req.made;
    cs_request_free(&req);
  }
  if (cfg->log.metrics_file != NULL)
    snprintf(path, sizeof path, "%s", cfg->log.metrics_file);
  else
    state_file(cfg, path, sizeof path, CS_STATE_METRICS);
  (void)cs_metrics_write(path, &m, cs_clock_now(), &err);
  if (data != NULL)
    cs_plat_free_file(data, len);
  free(more);
}
