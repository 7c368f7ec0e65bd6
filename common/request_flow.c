#include "committed.h"
#include "request_flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_command.h"
#include "clock.h"
#include "events.h"
#include "platform.h"
#include "reply.h"
#include "report.h"
#include "statedir.h"
#include "text.h"

#define PATH_LEN 4096
#define CSR_MAX (64 * 1024)

/* <state_dir>/request/<name><suffix> */
static int file_of(const cs_reqflow_t *f, const char *name, const char *suffix, char *out, size_t len, cs_err_t *err) {
  return cs_request_file(f->cfg->store.state_dir, name, suffix, out, len, err);
}

static void remove_file(const cs_reqflow_t *f, const char *name, const char *suffix) {
  char path[PATH_LEN];
  cs_err_t err;
  if (file_of(f, name, suffix, path, sizeof path, &err) == CS_OK && cs_plat_exists(path) &&
      cs_plat_remove(path, &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, f->cfg->store.state_dir, err.text, NULL);
}

/* The request is over: its key (unless it now lives on as the certificate's, keep_key),
 * its files and its record go. A failure is said; the record goes last, so that what
 * stays is found again. */
static void end_request(const cs_reqflow_t *f, const cs_request_t *r, int keep_key) {
  cs_err_t err;
  if (!keep_key && cs_worker_request_delete(f->worker, r->name, &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, f->cfg->store.state_dir, err.text, NULL);
  remove_file(f, r->name, CS_REQUEST_CSR);
  remove_file(f, r->name, CS_REQUEST_ANSWER);
  remove_file(f, r->name, CS_REQUEST_READY);
  /* the next request waits a while, however this one ended (CS_REQUEST_COOLDOWN) */
  if (cs_request_ended_write(f->cfg->store.state_dir, cs_clock_now(), &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, f->cfg->store.state_dir, err.text, NULL);
  if (cs_request_remove(f->cfg->store.state_dir, &err) != CS_OK) /* the record whatever came before */
    cs_event_say(CS_EV_STATE_ERROR, NULL, f->cfg->store.state_dir, err.text, NULL);
}

static int save(const cs_reqflow_t *f, const cs_request_t *r, cs_err_t *err) {
  return cs_request_write(f->cfg->store.state_dir, r, err);
}

/* A failure said once until it changes (an unreachable CA is said once, then retried) */
static void say_once(cs_request_t *r, int id, const char *what) {
  if (r->said != NULL && strcmp(r->said, what) == 0)
    return;
  cs_event_say(id, NULL, r->name, what, NULL);
  free(r->said);
  r->said = cs_strdup(what);
}

static const char *route_of(const cs_config_t *cfg) {
  return cfg->request.route == NULL ? "manual" : cfg->request.route;
}

/* A cookie that is a CA's request id (digits only, as AD CS numbers its requests): shown;
 * any other cookie is the helper's own and never shown */
static int is_request_id(const char *cookie) {
  size_t n = cookie != NULL ? strlen(cookie) : 0, i;
  for (i = 0; i < n; i++)
    if (cookie[i] < '0' || cookie[i] > '9')
      return 0;
  return n > 0 && n <= 20;
}

/* The request's PEM, read back from its file (the worker wrote it) */
static int read_csr(const cs_reqflow_t *f, const cs_request_t *r, char **pem, cs_err_t *err) {
  char path[PATH_LEN];
  unsigned char *data = NULL;
  size_t len = 0;
  int rc;
  *pem = NULL;
  if ((rc = file_of(f, r->name, CS_REQUEST_CSR, path, sizeof path, err)) != CS_OK ||
      (rc = cs_plat_read_file(path, CSR_MAX, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
    return rc;
  if ((*pem = malloc(len + 1)) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else {
    memcpy(*pem, data, len);
    (*pem)[len] = '\0';
  }
  cs_plat_free_file(data, len);
  return rc;
}

/* The next look after a failure or a wait: 1, 2, 4 ... minutes (or the CA's delay) */
static void retry_later(cs_request_t *r, long long now, long ca_delay) {
  r->next = now + cs_request_backoff(r->tries, ca_delay);
  if (r->tries < 1000000)
    r->tries++;
}

/* The CA issued: its answer kept, checked against the key and joined with it into ready */
static int issued(const cs_reqflow_t *f, cs_request_t *r, const cs_ca_answer_t *a, cs_rq_state_t *st, char *ready,
                  size_t ready_len, cs_err_t *err) {
  char answer[PATH_LEN];
  const cs_check_t *match;
  cs_reply_t reply;
  int rc;

  memset(&reply, 0, sizeof reply);
  if ((rc = file_of(f, r->name, CS_REQUEST_ANSWER, answer, sizeof answer, err)) != CS_OK ||
      (rc = file_of(f, r->name, CS_REQUEST_READY, ready, ready_len, err)) != CS_OK ||
      (rc = cs_plat_write_atomic(answer, a->out, a->out_len, 0600, err)) != CS_OK)
    return rc;
  rc = cs_worker_request_join(f->worker, r->name, answer, ready, &reply, err);
  match = rc == CS_OK ? cs_report_find(&reply.report, CS_CHECK_KEY_MATCH) : NULL;
  if (rc != CS_OK || match == NULL || !match->ok || reply.staged == NULL) {
    /* the CA's answer is not this request's certificate: said, and the request stays
     * pending (polled again: a CA that answered by mistake may answer right) */
    cs_event_say(CS_EV_REQUEST_WRONG_KEY, NULL, r->name,
                 rc != CS_OK                   ? err->text
                 : match != NULL && !match->ok ? match->detail
                                               : "the worker did not join the certificate with its key",
                 NULL);
    cs_reply_free(&reply);
    remove_file(f, r->name, CS_REQUEST_READY);
    strcpy(r->state, CS_REQ_PENDING);
    *st = CS_RQ_WAIT;
    return CS_OK;
  }
  snprintf(r->new_tp, sizeof r->new_tp, "%s", reply.report.thumbprint);
  cs_reply_free(&reply);
  strcpy(r->state, CS_REQ_ISSUED);
  cs_event_say(CS_EV_REQUEST_ISSUED, NULL, r->name, r->ca_id != NULL ? r->ca_id : "-", NULL);
  *st = CS_RQ_ISSUED;
  return CS_OK;
}

/* Asks the CA through the request's route: the CA helper (command), or Windows' CA
 * enrollment API in certsteward-worker (adcs, within the helper's time limit) */
static int ask_ca(const cs_reqflow_t *f, const cs_request_t *r, cs_ca_op_t op, const char *csr, cs_ca_answer_t *a,
                  cs_err_t *err) {
  const cs_config_t *cfg = f->cfg;
  if (strcmp(r->route, "adcs") == 0)
    return cs_worker_adcs(f->worker, op, r->name, r->cookie, cfg->store.state_dir, CS_CA_TIMEOUT_MS, a, err);
  return cs_ca_command_run(cfg->request.submit_command, cfg->store.state_dir, op, csr, cfg->request.template_name,
                           f->host, r->cookie, a, err);
}

/* Submit (or poll, once submitted) through the request's route, and act on the answer */
static int submit(const cs_reqflow_t *f, long long now, cs_request_t *r, cs_rq_state_t *st, char *ready,
                  size_t ready_len, cs_err_t *err) {
  cs_ca_answer_t a;
  /* a poll needs the helper's cookie; without one the request is submitted (again), as
   * certmonger does */
  cs_ca_op_t op = r->cookie != NULL && r->cookie[0] != '\0' ? CS_CA_OP_POLL : CS_CA_OP_SUBMIT;
  char *csr = NULL, secs[32];
  int rc, adcs = strcmp(r->route, "adcs") == 0;

  *st = CS_RQ_WAIT;
  if ((rc = read_csr(f, r, &csr, err)) != CS_OK) { /* said once, looked at again later, never in a loop */
    say_once(r, CS_EV_REQUEST_MISCONFIGURED, err->text);
    retry_later(r, now, -1);
    return CS_OK;
  }
  rc = ask_ca(f, r, op, csr, &a, err);
  free(csr);
  if (rc != CS_OK) { /* refused before it ran, the shell or the worker could not be started or
                      * failed: tried again */
    say_once(r, CS_EV_REQUEST_MISCONFIGURED, err->text);
    retry_later(r, now, -1);
    return CS_OK;
  }
  if (op == CS_CA_OP_SUBMIT && r->submitted == 0 &&
      (a.status == CS_CA_ISSUED || a.status == CS_CA_WAIT || a.status == CS_CA_WAIT_DELAY)) {
    r->submitted = now;
    cs_event_say(CS_EV_REQUEST_SUBMITTED, NULL, r->name, adcs ? "route adcs" : "route command", NULL);
  }
  switch (a.status) {
  case CS_CA_ISSUED:
    rc = issued(f, r, &a, st, ready, ready_len, err);
    if (*st == CS_RQ_WAIT)
      retry_later(r, now, -1);
    else
      r->next = now; /* put in service now */
    break;
  case CS_CA_WAIT:
  case CS_CA_WAIT_DELAY:
    free(r->cookie);
    r->cookie = a.cookie;
    a.cookie = NULL;
    if (is_request_id(r->cookie)) { /* AD CS's helper: the CA's request id, said in events and status */
      free(r->ca_id);
      r->ca_id = cs_strdup(r->cookie);
    }
    strcpy(r->state, CS_REQ_PENDING);
    retry_later(r, now, a.delay);
    if (r->said == NULL || strcmp(r->said, "pending") != 0) {
      snprintf(secs, sizeof secs, "%lld", r->next - now);
      cs_event_say(CS_EV_REQUEST_PENDING, NULL, r->name, r->ca_id != NULL ? r->ca_id : "-", secs);
      free(r->said);
      r->said = cs_strdup("pending");
    }
    break;
  case CS_CA_REJECTED:
    cs_event_say(CS_EV_REQUEST_REJECTED, NULL, r->name, a.message, NULL);
    end_request(f, r, 0);
    *st = CS_RQ_ENDED;
    break;
  case CS_CA_UNREACHABLE:
    say_once(r, CS_EV_CA_UNREACHABLE, a.message);
    retry_later(r, now, -1);
    break;
  default: /* misconfigured, unsupported, or a helper that broke the contract */
  {
    char what[700];
    snprintf(what, sizeof what, "%s %s: %s", adcs ? "route adcs: the CA's answer is" : "the CA helper answered",
             cs_ca_status_name(a.status), a.message);
    say_once(r, CS_EV_REQUEST_MISCONFIGURED, what);
  }
    retry_later(r, now, -1);
    break;
  }
  cs_ca_answer_free(&a);
  return rc;
}

/* After the worker made the key and request: the manual route's outbox */
static int to_outbox(const cs_reqflow_t *f, cs_request_t *r, cs_err_t *err) {
  char dir[PATH_LEN], path[PATH_LEN], file[CS_REQUEST_NAME_MAX + 8];
  char *csr = NULL;
  int rc;
  snprintf(file, sizeof file, "%s.csr", r->name);
  if (cs_plat_path_join(dir, sizeof dir, f->cfg->store.state_dir, CS_STATE_OUTBOX) != CS_OK ||
      cs_plat_path_join(path, sizeof path, dir, file) != CS_OK)
    return cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is too long");
  if ((rc = read_csr(f, r, &csr, err)) != CS_OK)
    return rc;
  if ((cs_plat_exists(dir) || (rc = cs_plat_mkdirs(dir, 0700, err)) == CS_OK) &&
      (rc = cs_plat_write_atomic(path, csr, strlen(csr), 0644, err)) == CS_OK) {
    strcpy(r->state, CS_REQ_OUTBOX);
    cs_event_say(CS_EV_REQUEST_OUTBOX, NULL, r->name, path, NULL);
  }
  free(csr);
  return rc;
}

int cs_reqflow_start(const cs_reqflow_t *f, long long now, cs_request_t *r, cs_rq_state_t *st, char *ready,
                     size_t ready_len, cs_err_t *err) {
  const cs_config_t *cfg = f->cfg;
  char cert[PATH_LEN], key[PATH_LEN], csr[PATH_LEN], dir[PATH_LEN], expiry[40], names[1200];
  const cs_check_t *chain;
  cs_reply_t scan;
  int rc, trusted;

  *st = CS_RQ_NONE;
  memset(&scan, 0, sizeof scan);
  rc = cs_request_read(cfg->store.state_dir, r, err);
  if (rc == CS_OK) {
    *st = strcmp(r->state, CS_REQ_HELD) == 0 ? CS_RQ_HELD : CS_RQ_WAIT;
    return cs_err_set(err, CS_EEXIST, 0, "a certificate request is in flight already: %s (%s, made %s)", r->name,
                      r->state, cs_time_utc(r->made, expiry, sizeof expiry));
  }
  if (rc != CS_ENOENT)
    return rc;
  memset(r, 0, sizeof *r);
  if ((rc = cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, err)) != CS_OK)
    return rc;
  if (cert[0] == '\0')
    return cs_err_set(err, CS_ENOENT, 0, "the certificate in service is unknown: a request renews it, with its names");
  /* the names are copied only from a certificate a trusted CA issued: the file in service
   * may be one the connector's account can write, and a request for names it chose,
   * signed by our CA with this machine's rights, would be theirs */
  if ((rc = cs_worker_validate(f->worker, cert, NULL, NULL, NULL, &scan, err)) != CS_OK) {
    cs_reply_free(&scan);
    return rc;
  }
  /* ... and that certsteward vouches for (committed.h): a certificate a public CA
   * issued for names of the account's choosing chains to a trusted root too */
  chain = cs_report_find(&scan.report, CS_CHECK_CHAIN);
  trusted = chain != NULL && chain->ok && cs_committed_vouches(cfg, scan.report.thumbprint, NULL, 0);
  if ((rc = cs_request_name(now, r->name, err)) != CS_OK) {
    cs_reply_free(&scan);
    return rc;
  }
  /* the request's folder (POSIX: made with the key; Windows: the key is in its provider) */
  if ((rc = cs_request_dir(cfg->store.state_dir, dir, sizeof dir, err)) != CS_OK ||
      (!cs_plat_exists(dir) && (rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)) {
    cs_reply_free(&scan);
    return rc;
  }
  if ((rc = cs_request_file(cfg->store.state_dir, r->name, CS_REQUEST_CSR, csr, sizeof csr, err)) != CS_OK ||
      (rc = cs_worker_request_make(f->worker, r->name, f->host, trusted ? scan.dns : NULL, cfg->request.template_name,
                                   csr, err)) != CS_OK) {
    cs_reply_free(&scan);
    return rc;
  }
  strcpy(r->state, CS_REQ_MADE);
  snprintf(r->route, sizeof r->route, "%s", route_of(cfg));
  snprintf(r->key_kind, sizeof r->key_kind, "%s", cfg->request.key);
  snprintf(r->old_tp, sizeof r->old_tp, "%s", scan.report.thumbprint);
  r->made = now;
  r->next = now;
  r->deadline = now + (long long)cfg->request.give_up_days * 86400;
  snprintf(names, sizeof names, "%s%s", trusted && scan.dns != NULL ? scan.dns : f->host,
           trusted ? ""
                   : " alone (the other names of the certificate in service are copied only when it chains to a "
                     "trusted root and is one certsteward put in service itself, or the one [connector] thumbprint "
                     "names)");
  cs_event_say(CS_EV_REQUEST_MADE, NULL, r->name, names,
               scan.not_after_epoch > 0 ? cs_time_utc(scan.not_after_epoch, expiry, sizeof expiry) : "(unknown)");
  cs_reply_free(&scan);
  if ((rc = save(f, r, err)) != CS_OK) { /* no record, no request: what was made goes */
    end_request(f, r, 0);
    return rc;
  }
  if (strcmp(r->route, "manual") == 0) {
    if ((rc = to_outbox(f, r, err)) == CS_OK)
      rc = save(f, r, err);
    *st = CS_RQ_WAIT;
    return rc;
  }
  return cs_reqflow_step(f, now, r, st, ready, ready_len, err);
}

/* The certificate in service is no longer the one the request renews: its own (put in
 * service after a crash cut the finish short, or by an admin's apply of a held one), or
 * another (a dropped or adopted one, or, for a manual request on Windows, the returned
 * certificate joined with the key through its placeholder). The request is over; a key a
 * certificate is bound to is kept (platform.h: cs_plat_reqkey_delete). 1 when so. */
int cs_reqflow_replaced(const char *in_service, const cs_request_t *r) {
  return in_service != NULL && in_service[0] != '\0' && r->old_tp[0] != '\0' && strcmp(in_service, r->old_tp) != 0;
}

static int over(const cs_reqflow_t *f, cs_request_t *r) {
  char why[200];
  if (!cs_reqflow_replaced(f->in_service, r))
    return 0;
  if (r->new_tp[0] != '\0' && strcmp(f->in_service, r->new_tp) == 0)
    snprintf(why, sizeof why, "its certificate %s is in service", r->new_tp);
  else
    snprintf(why, sizeof why, "the certificate in service is %s now, no longer %s", f->in_service, r->old_tp);
  cs_event_say(CS_EV_REQUEST_ENDED, NULL, r->name, why, NULL);
  end_request(f, r, r->new_tp[0] != '\0' && strcmp(f->in_service, r->new_tp) == 0 && cs_plat_store_holds_keys());
  return 1;
}

int cs_reqflow_step(const cs_reqflow_t *f, long long now, cs_request_t *r, cs_rq_state_t *st, char *ready,
                    size_t ready_len, cs_err_t *err) {
  int rc = CS_OK;

  *st = CS_RQ_WAIT;
  if (over(f, r)) {
    *st = CS_RQ_ENDED;
    return CS_OK;
  }
  if (strcmp(r->state, CS_REQ_HELD) == 0) {
    *st = CS_RQ_HELD;
    if ((rc = file_of(f, r->name, CS_REQUEST_READY, ready, ready_len, err)) != CS_OK)
      return rc;
    if (now >= r->next) { /* said again each day until an admin acts */
      cs_event_say(CS_EV_REQUEST_HELD, NULL, r->name, r->said != NULL ? r->said : "its renewal did not commit", ready);
      r->next = now + CS_REQUEST_COOLDOWN;
      rc = save(f, r, err);
    }
    return rc;
  }
  if (strcmp(r->state, CS_REQ_ISSUED) == 0) { /* to be put in service (again after a renewal that could not run) */
    if (now < r->next)
      return CS_OK;
    *st = CS_RQ_ISSUED;
    return file_of(f, r->name, CS_REQUEST_READY, ready, ready_len, err);
  }
  if (now > r->deadline) {
    char why[200], when[40];
    snprintf(why, sizeof why, "the CA did not issue it by %s ([request] give_up_days = %d)",
             cs_time_utc(r->deadline, when, sizeof when), f->cfg->request.give_up_days);
    cs_event_say(CS_EV_REQUEST_GIVEN_UP, NULL, r->name, why, NULL);
    end_request(f, r, 0);
    *st = CS_RQ_ENDED;
    return CS_OK;
  }
  if (strcmp(r->state, CS_REQ_OUTBOX) == 0 || now < r->next)
    return CS_OK; /* an admin's to submit / not yet */
  if (strcmp(r->route, "command") == 0 || strcmp(r->route, "adcs") == 0) {
    rc = submit(f, now, r, st, ready, ready_len, err);
  } else if (strcmp(r->route, "manual") == 0) { /* its outbox could not be written when it was made */
    if (to_outbox(f, r, err) != CS_OK) {
      say_once(r, CS_EV_REQUEST_MISCONFIGURED, err->text);
      retry_later(r, now, -1);
    }
  } else {
    say_once(r, CS_EV_REQUEST_MISCONFIGURED, "the request's route is not known to this certsteward");
    retry_later(r, now, -1);
  }
  if (*st != CS_RQ_ENDED) {
    cs_err_t werr;
    if (save(f, r, rc == CS_OK ? err : &werr) != CS_OK && rc == CS_OK)
      rc = err->code;
  }
  return rc;
}

void cs_reqflow_finish(const cs_reqflow_t *f, cs_request_t *r, int outcome, const char *why, const char *ready) {
  long long now = cs_clock_now();
  cs_err_t err;
  switch (outcome) {
  case CS_RQ_DONE_COMMITTED:
    /* Windows: the key is the certificate's now, in the store; POSIX: it was installed
     * into [store] key_file, its file here goes */
    end_request(f, r, cs_plat_store_holds_keys());
    return;
  case CS_RQ_DONE_HELD:
    cs_event_say(CS_EV_REQUEST_HELD, NULL, r->name, why, ready);
    strcpy(r->state, CS_REQ_HELD);
    free(r->said); /* said again each day while it is held */
    r->said = cs_strdup(why);
    r->next = now + CS_REQUEST_COOLDOWN;
    break;
  default: /* the renewal could not run (a worker that failed, a pre-flight refused): again later */
    say_once(r, CS_EV_REQUEST_MISCONFIGURED, why);
    strcpy(r->state, CS_REQ_ISSUED);
    retry_later(r, now, -1);
    break;
  }
  if (save(f, r, &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, f->cfg->store.state_dir, err.text, NULL);
}

void cs_reqflow_renewed(const cs_reqflow_t *f, cs_request_t *r, const cs_renewal_result_t *res, const char *ready) {
  char why[700];
  cs_err_t err;
  snprintf(why, sizeof why, "its renewal ended %s at %s: %.500s", cs_outcome_name(res->outcome),
           cs_step_name(res->step), res->err.text);
  switch (res->outcome) {
  case CS_OUT_COMMITTED:
    cs_reqflow_finish(f, r, CS_RQ_DONE_COMMITTED, NULL, ready);
    break;
  case CS_OUT_REJECTED:
  case CS_OUT_ROLLED_BACK:
  case CS_OUT_ROLLBACK_FAILED:
    cs_reqflow_finish(f, r, CS_RQ_DONE_HELD, why, ready);
    break;
  case CS_OUT_VALID: /* fit, outside the maintenance window: the window's opening runs it */
    r->next = cs_clock_now() + CS_REQUEST_COOLDOWN;
    if (save(f, r, &err) != CS_OK)
      cs_event_say(CS_EV_STATE_ERROR, NULL, f->cfg->store.state_dir, err.text, NULL);
    break;
  default:
    cs_reqflow_finish(f, r, CS_RQ_DONE_RETRY, why, ready);
    break;
  }
}

int cs_reqflow_due(const cs_config_t *cfg, const cs_request_t *r, int have_record, long long not_after, long long ended,
                   long long now) {
  if (have_record) {
    if (strcmp(r->state, CS_REQ_HELD) == 0)
      return now >= r->next; /* said again */
    if (strcmp(r->state, CS_REQ_OUTBOX) == 0)
      return now > r->deadline; /* given up */
    if (strcmp(r->state, CS_REQ_ISSUED) == 0)
      return now >= r->next; /* no deadline: the CA has answered */
    return now >= r->next || now > r->deadline;
  }
  return not_after > 0 && cs_request_due(not_after, now, cfg->request.renew_days) &&
         !(ended > 0 && now < ended + CS_REQUEST_COOLDOWN && now >= ended);
}
