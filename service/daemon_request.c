/* The daemon's side of the renewal with no person ([request]; the request's life is
 * common/request_flow.c): after each expiry check, and when the request in flight is
 * due for its next poll, a look runs on the thread pool. It makes a request when the
 * certificate in service is due, submits or polls the one in flight, and puts an issued
 * certificate in service through the renewal transaction, gated by the maintenance
 * window like every other. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "daemon_int.h"
#include "events.h"
#include "request_flow.h"
#include "statedir.h"
#include "text.h"

static void timer_cb(uv_timer_t *t) { cs__daemon_request_look(t->data, 0); }

void cs__daemon_request_start(daemon_t *d) {
  uv_timer_init(d->loop, &d->request_timer);
  d->request_timer.data = d;
}

/* A request is in flight: its record is there (whatever [request] says now) */
static int in_flight(const daemon_t *d) {
  char path[PATH_LEN];
  cs_err_t err;
  return cs_request_file(d->cfg->store.state_dir, CS_REQUEST_RECORD, "", path, sizeof path, &err) == CS_OK &&
         cs_plat_exists(path);
}

void cs__daemon_request_look(daemon_t *d, int from_window) {
  job_t *job;
  if (d->request_queued || (d->cfg->request.renew_days == 0 && !in_flight(d)))
    return;
  if ((job = cs__daemon_new_job(JOB_REQUEST)) == NULL)
    return;
  job->from_window = from_window;
  d->request_queued = 1;
  cs__daemon_enqueue(d, job);
}

void cs__daemon_request_work(daemon_t *d, job_t *job) {
  cs_reqflow_t f;
  cs_request_t r;
  cs_rq_state_t st = CS_RQ_NONE;
  cs_err_t err;
  char ready[PATH_LEN];
  long long now = cs_clock_now();
  int rc, have;

  memset(&r, 0, sizeof r);
  f.cfg = d->cfg;
  f.worker = &d->worker;
  f.host = d->host_name;
  f.in_service = d->stats.tp;
  d->request_next = 0;
  rc = cs_request_read(d->cfg->store.state_dir, &r, &err);
  if (rc != CS_OK && rc != CS_ENOENT) { /* damaged, or another version's: said, left as it is */
    cs_event_say(CS_EV_STATE_ERROR, NULL, d->cfg->store.state_dir, err.text, NULL);
    return;
  }
  have = rc == CS_OK;
  /* due; or issued and the maintenance window just opened for it; or the certificate in
   * service is no longer the one the request renews (cs_reqflow_step ends it) */
  if (have && job->from_window && strcmp(r.state, CS_REQ_ISSUED) == 0)
    r.next = now;
  if (!cs_reqflow_due(d->cfg, &r, have, d->stats.not_after, cs_request_ended_read(d->cfg->store.state_dir), now) &&
      !(have && cs_reqflow_replaced(d->stats.tp, &r))) {
    d->request_next = have && strcmp(r.state, CS_REQ_OUTBOX) != 0 ? r.next : 0;
    cs_request_free(&r);
    return;
  }
  rc = have ? cs_reqflow_step(&f, now, &r, &st, ready, sizeof ready, &err)
            : cs_reqflow_start(&f, now, &r, &st, ready, sizeof ready, &err);
  if (rc != CS_OK)
    cs_event_say(CS_EV_REQUEST_MISCONFIGURED, NULL, r.name[0] ? r.name : "(new)", err.text, NULL);
  if (st == CS_RQ_ISSUED) {
    job->request_ran = 1;
    cs__daemon_run_gated(d, r.name, ready, 0);
    cs_reqflow_renewed(&f, &r, &d->res, ready);
    if ((strcmp(r.state, CS_REQ_ISSUED) == 0 && d->res.outcome != CS_OUT_VALID) || strcmp(r.state, CS_REQ_HELD) == 0)
      d->request_next = r.next; /* could not run: again after the back-off; held: said again in a day */
  } else if ((st == CS_RQ_WAIT && strcmp(r.state, CS_REQ_OUTBOX) != 0) || st == CS_RQ_HELD) {
    d->request_next = r.next;
  }
  cs_request_free(&r);
}

void cs__daemon_request_after(daemon_t *d, job_t *job) {
  long long wait;
  d->request_queued = 0;
  if (job->request_ran) {
    const cs_renewal_result_t *res = &d->res;
    d->request_waiting = res->outcome == CS_OUT_VALID;
    if (res->outcome == CS_OUT_VALID) {
      cs_event_say(CS_EV_DROP_WAITING, NULL, "the certificate issued for the request",
                   d->cfg->connector.maintenance_window, NULL);
      cs__daemon_arm_window(d);
    } else {
      if (res->outcome == CS_OUT_ROLLBACK_FAILED)
        d->blocked = 1;
      if (res->outcome == CS_OUT_ROLLED_BACK || res->outcome == CS_OUT_ROLLBACK_FAILED)
        d->stats.rollbacks++;
      d->stats.has_last = 1;
      d->stats.last_result = res->outcome;
      d->stats.last_time = cs_clock_now();
    }
    if (res->outcome == CS_OUT_COMMITTED) {
      d->stats.accepted++;
      cs__daemon_adopt_judged(d, res->old_tp, CS_ADOPT_REPLACED, "replaced by the certificate issued for a request");
      cs__daemon_enqueue(d, cs__daemon_new_job(JOB_EXPIRY)); /* a new certificate in service: a new expiry */
    }
  }
  if (d->once || d->request_next <= 0)
    return;
  wait = d->request_next - cs_clock_now();
  /* at most a day at a time: the wall clock may jump while we sleep; at least half a
   * minute: a look that left its time in the past must not run again at once */
  uv_timer_start(&d->request_timer, timer_cb, (uint64_t)(wait < 30 ? 30 : wait > 86400 ? 86400 : wait) * 1000, 0);
}
