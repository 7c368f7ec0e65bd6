/* The daemon's adoption from the system store ([store] adopt on Windows; see
 * daemon_adopt.c for the loop's side and the record): a renewed certificate an admin's
 * tool left in LocalMachine\My (the MMC's import, autoenrollment, certreq -accept,
 * win-acme). Its change notifications (cs_plat_store_watch_start) and the rescan timer
 * start a look once settle_seconds have passed quietly. The candidates and their order are
 * adopt_pick.c's: a key, not archived (listed all the same, so that the certificate in
 * service is found when autoenrollment archived it), not ruled out by the store's own
 * purposes, expiring after and issued after the one in service, not judged before; the
 * one its renewal link leads to first, then the latest-expiring. Whether one is for this
 * host is asked of the worker (OpenSSL's name rules, as for a file) before anything is
 * said: a certificate for another site is recorded, not announced. The chosen one's key
 * must open and be its own, and be kept to the administrators (any user may make a
 * machine key that a certificate gets linked to); it is then exported (DER, never its
 * key) and validated bound to that key in the store; the others for this host are said in
 * one event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt_pick.h"
#include "adopted.h"
#include "daemon_int.h"
#include "events.h"
#include "platform.h"
#include "report.h"
#include "statedir.h"
#include "text.h"

/* Whether the worker found the exported certificate at path to be for this host (the
 * names, as a file's are judged; cert and key: the one in service, as
 * cs_plat_store_current gives them); -1 when it could not tell (err). */
static int for_this_host(daemon_t *d, const char *path, const char *cert, const char *key, cs_err_t *err) {
  cs_reply_t reply;
  size_t i;
  int ok = 1;
  if (cs_worker_validate_probing(&d->worker, path, cert, key, NULL, NULL, NULL, 0, 0, CS_WORKER_OWN_KEY, &reply, err) !=
      CS_OK)
    return -1;
  for (i = 0; i < reply.report.n_checks; i++)
    if (!reply.report.checks[i].ok && (strcmp(reply.report.checks[i].id, CS_CHECK_SAN_HOST) == 0 ||
                                       strcmp(reply.report.checks[i].id, CS_CHECK_CN_HOST) == 0))
      ok = 0;
  if (reply.report.n_checks == 0)
    ok = -1, cs_err_set(err, CS_EFAILED, 0, "the worker made no check");
  cs_reply_free(&reply);
  return ok;
}

/* The store's certificates (cs_plat_store_list) */
struct listing_s {
  cs_plat_cert_t *certs;
  size_t n;
};

/* Writes the DER of store certificate tp to path. */
static int export_cert(const char *tp, const char *path, cs_err_t *err) {
  unsigned char *der = NULL;
  size_t len = 0;
  int rc = cs_plat_store_cert(tp, &der, &len, err);
  if (rc == CS_OK)
    rc = cs_plat_write_atomic(path, der, len, 0600, err);
  free(der);
  return rc;
}

static int judged_cb(const char *tp, const void *arg) { return cs__adopt_known(arg, tp); }

static int in_store(const char *tp, void *arg) {
  const cs_plat_cert_t *certs = ((const struct listing_s *)arg)->certs;
  size_t n = ((const struct listing_s *)arg)->n, i;
  for (i = 0; i < n; i++)
    if (strcmp(certs[i].tp, tp) == 0)
      return 1;
  return 0;
}

/* What key_fit found */
enum { KEY_FIT, KEY_REJECTED, KEY_REFUSED, KEY_UNKNOWN };

/* The chosen candidate's key (the worker judged the certificate, not the key): KEY_FIT;
 * KEY_REJECTED, recorded and said, when it is the certificate's fault (a key that is
 * missing or another's); KEY_REFUSED, said once and tried again at the next look, when
 * the key's access rules are at fault, which an admin can mend; KEY_UNKNOWN when it
 * cannot be told now (job->why). */
static int key_fit(daemon_t *d, job_t *job, const cs_plat_cert_t *c, const char *in_service) {
  char why[600], text[800];
  cs_err_t err;
  int m = cs_plat_store_key_matches(c->tp, why, sizeof why, &err);
  if (m < 0) {
    snprintf(job->why, sizeof job->why, "%.600s", err.text);
    return KEY_UNKNOWN;
  }
  if (m == 0) {
    snprintf(text, sizeof text, "key_match: %s", why);
    cs__adopt_record(d, c->tp, CS_ADOPT_REJECTED, c->tp, text);
    job->rejected++;
    cs_event_cert(CS_EV_NOT_ADOPTED, c->tp, in_service, c->subject, NULL, cs_plat_store_name(d->cfg), text, NULL);
    return KEY_REJECTED;
  }
  m = cs_plat_store_key_private(c->tp, d->cfg->connector.account, why, sizeof why, &err);
  if (m == 1)
    return KEY_FIT;
  snprintf(text, sizeof text, "%s (certlm.msc, the certificate, All Tasks, Manage Private Keys)",
           m == 0 ? why : err.text);
  cs__adopt_deferred(d, c->tp, in_service, c->subject, text);
  return KEY_REFUSED;
}

void cs__daemon_adopt_store(daemon_t *d, job_t *job) {
  struct listing_s all = {NULL, 0};
  size_t j, *order = NULL, n_cand;
  const char *store = cs_plat_store_name(d->cfg);
  char tp[41], renewed[41], date[32], cert[PATH_LEN], key[PATH_LEN];
  cs_buf_t others = CS_BUF_INIT;
  const cs_plat_cert_t *chosen = NULL;
  cs_err_t err;
  int host, fit;

  job->adopt = ADOPT_NOTHING;
  if (cs_renewal_current(&d->env, tp, &err) != CS_OK || cs_plat_store_list(d->cfg, &all.certs, &all.n, &err) != CS_OK ||
      cs_plat_store_current(d->cfg, cert, sizeof cert, key, sizeof key, &err) != CS_OK) {
    snprintf(job->why, sizeof job->why, "%s", err.text); /* said by the expiry check; status shows it */
    goto out;
  }
  /* what left the store is judged no more: the record holds what is there */
  if (cs_adopted_retain(d->cfg->store.state_dir, &d->adopted, in_store, &all, &err) != CS_OK)
    cs_event_say(CS_EV_STATE_ERROR, NULL, d->cfg->store.state_dir, err.text, NULL);
  if ((order = calloc(all.n ? all.n : 1, sizeof *order)) == NULL)
    goto out;
  n_cand = cs_pick_order(all.certs, all.n, tp, judged_cb, d, order);
  for (j = 0; j < n_cand; j++) {
    const cs_plat_cert_t *c = &all.certs[order[j]];
    if (export_cert(c->tp, job->path, &err) != CS_OK) {
      snprintf(job->why, sizeof job->why, "%s", err.text); /* gone meanwhile: the next look sees */
      continue;
    }
    if ((host = for_this_host(d, job->path, cert, key, &err)) < 0) {
      snprintf(job->why, sizeof job->why, "%s", err.text);
      continue; /* the worker failed: not judged, looked at again at the next rescan */
    }
    if (host == 0) {
      cs__adopt_record(d, c->tp, CS_ADOPT_OTHER_HOST, c->tp, "not for this host");
      continue;
    }
    if (chosen != NULL) {
      cs_buf_printf(&others, "%s%s (expires %s)", others.len ? ", " : "", c->tp,
                    cs_time_utc(c->not_after, date, sizeof date));
      continue;
    }
    if ((fit = key_fit(d, job, c, tp)) == KEY_FIT)
      chosen = c;
    else if (fit == KEY_REFUSED)
      goto out; /* its key's access rules are at fault: no other certificate is put in its place */
  }
  if (chosen == NULL) {
    if (job->why[0]) /* a candidate could not be judged now (a worker, a key that cannot be told) */
      cs__adopt_deferred(d, NULL, tp, NULL, job->why);
    goto out;
  }
  if (others.len > 0 && cs_buf_str(&others) != NULL && strcmp(cs_buf_str(&others), d->adopt_others_said) != 0) {
    snprintf(d->adopt_others_said, sizeof d->adopt_others_said, "%s", cs_buf_str(&others));
    cs_event_say(CS_EV_ADOPT_OTHERS, NULL, store, cs_buf_str(&others), NULL);
  }
  snprintf(job->key, sizeof job->key, "%s", chosen->tp);
  if (!job->from_window && strcmp(chosen->tp, d->adopt_held) == 0)
    goto out; /* fit, and waiting for the maintenance window */
  if (export_cert(chosen->tp, job->path, &err) != CS_OK) {
    snprintf(job->why, sizeof job->why, "%s", err.text);
    goto out;
  }
  job->adopt = ADOPT_RAN;
  cs_pick_renewed(all.certs, all.n, tp, renewed);
  {
    char what[200];
    snprintf(what, sizeof what, "%s, which expires %s%s", chosen->tp, cs_time_utc(chosen->not_after, date, sizeof date),
             strcmp(renewed, chosen->tp) == 0 ? ", named by the renewal link of the one in service" : "");
    cs_event_cert(CS_EV_ADOPT_FOUND, chosen->tp, tp, chosen->subject, NULL, store, what, NULL);
  }
  cs__daemon_run_gated(d, store, job->path, CS_RENEW_ADOPT);
out:
  (void)cs_plat_remove(job->path, NULL); /* the certificate alone, exported: no key */
  cs_buf_free(&others);
  free(order);
  cs_plat_store_list_free(all.certs, all.n);
}
