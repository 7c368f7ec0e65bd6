/* What the daemon knows about the certificate in service: expiry events and
 * the metrics file. */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "daemon.h"
#include "events.h"
#include "expiry.h"
#include "metrics.h"
#include "platform.h"

static void state_file(const cs_config_t *cfg, char *out, size_t len, const char *name) {
  if (snprintf(out, len, "%s%s%s", cfg->store.state_dir, cs_plat_is_windows() ? "\\" : "/", name) >= (int)len)
    out[0] = '\0';
}

void cs_daemon_expiry_check(const cs_config_t *cfg, const cs_renewal_env_t *env, cs_daemon_stats_t *st) {
  char tp[41], cert[4096], key[4096], path[4096];
  int days[CS_EXPIRY_MAX_THRESHOLDS], changed = 0;
  long long next_due = CS_EXPIRY_NEVER;
  cs_expiry_state_t es;
  cs_reply_t reply;
  size_t n = 0;
  cs_err_t err;

  st->next_due = cfg->expiry.check_interval;
  memset(&reply, 0, sizeof reply);
  if (cs_renewal_current(env, tp, &err) != CS_OK ||
      cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, &err) != CS_OK || cert[0] == '\0' ||
      cs_worker_scan(env->worker, cert, &reply, &err) != CS_OK || reply.not_after_epoch == 0)
    goto out; /* nothing known to check: said at start (CONNECTOR_MISSING) */
  memcpy(st->tp, reply.report.thumbprint, sizeof st->tp);
  snprintf(st->subject, sizeof st->subject, "%s", reply.report.subject ? reply.report.subject : "");
  st->not_after = reply.not_after_epoch;
  if (cs_expiry_thresholds(&cfg->expiry.warn_days, days, CS_EXPIRY_MAX_THRESHOLDS, &n) != CS_OK)
    n = 0;
  state_file(cfg, path, sizeof path, "expiry");
  (void)cs_expiry_load(path, &es, &err); /* a damaged state is an empty one: at worst a repeated warning */
  cs_expiry_check(&es, st->tp, st->subject, st->not_after, cs_clock_now(), days, n, &changed, &next_due);
  if (changed && cs_expiry_save(path, &es, &err) != CS_OK) {
    cs_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.id = CS_EV_STATE_ERROR;
    ev.args[0] = cfg->store.state_dir;
    ev.args[1] = err.text;
    cs_event_emit(&ev);
  }
  if (next_due < st->next_due)
    st->next_due = next_due;
out:
  cs_reply_free(&reply);
}

void cs_daemon_write_metrics(const cs_config_t *cfg, const cs_daemon_stats_t *st) {
  cs_metrics_cert_t cert;
  cs_metrics_t m;
  char path[4096];
  cs_err_t err;

  memset(&m, 0, sizeof m);
  memset(&cert, 0, sizeof cert);
  if (st->tp[0] != '\0') {
    cert.thumbprint = st->tp;
    cert.subject = st->subject;
    cert.host = cfg->connector.host;
    cert.source = "service";
    cert.not_after = st->not_after;
    m.certs = &cert;
    m.n_certs = 1;
  }
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
}
