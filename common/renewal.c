/* The renewal transaction (see renewal.h): one function per step, one undo per
 * step, the journal written before each. */
#include "committed.h"
#include "renewal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bindings.h"
#include "connector.h"
#include "connector_ctl.h"
#include "events.h"
#include "fault.h"
#include "journal.h"
#include "last.h"
#include "platform.h"
#include "statedir.h"
#include "text.h"
#include "txplan.h"

#define PATH_LEN 4096
#define PROBE_TIMEOUT_MS 5000   /* one probe; retried until restart_timeout */
#define PROBE_PAUSE_FIRST_MS 20 /* between tries: doubled after each one that fails ... */
#define PROBE_PAUSE_MS 250      /* ... up to this */
#define PROBE_CONFIRM 2         /* handshakes in a row that must agree after a restart */

typedef struct tx_s {
  const cs_renewal_env_t *env;
  cs_renewal_result_t *res;
  cs_journal_t j;
  cs_plan_t plan; /* j.plan, parsed */
  char journal[PATH_LEN];
  char txdir[PATH_LEN];
  char stage[PATH_LEN];
  char store_backup[PATH_LEN];
  char bind_backup[PATH_LEN];
  unsigned long long skipped; /* bit i: default endpoint i, left out by the pre-flight */
  int skipped_read;           /* the pre-flight's list was read back (a recovery) */
} tx_t;

typedef struct step_s {
  int (*run)(tx_t *tx, cs_err_t *err);
  int (*undo)(tx_t *tx, cs_err_t *err); /* NULL: nothing to undo (see the step) */
} step_t;

const char *cs_outcome_name(cs_outcome_t o) {
  switch (o) {
  case CS_OUT_COMMITTED:
    return "committed";
  case CS_OUT_VALID:
    return "valid";
  case CS_OUT_REJECTED:
    return "rejected";
  case CS_OUT_REFUSED:
    return "refused";
  case CS_OUT_ROLLED_BACK:
    return "rolled-back";
  case CS_OUT_ROLLBACK_FAILED:
    return "rollback-failed";
  default:
    return "error";
  }
}

/* An event about this transaction's certificates and file. */
static void emit(const tx_t *tx, int id, const char *a1, const char *a2) {
  cs_event_cert(id, tx->j.new_tp, tx->j.old_tp, tx->j.subject, tx->j.file, a1, a2, NULL);
}

static int journal(tx_t *tx, cs_err_t *err) { return cs_journal_write(tx->journal, &tx->j, err); }

/* ---- steps ------------------------------------------------------------------ */

static int step_install(tx_t *tx, cs_err_t *err) {
  char where[64];
  int rc = cs_plat_store_install(tx->env->cfg, tx->stage, tx->store_backup, err);
  if (rc == CS_OK)
    emit(tx, CS_EV_CERT_INSTALLED, cs_plat_store_name(tx->env->cfg), NULL);
  /* a key-less certificate joined to the key its request left in the store */
  if (rc == CS_OK && cs_plat_store_paired(tx->store_backup, where, sizeof where) == 1)
    emit(tx, CS_EV_PENDING_PAIRED, where, NULL);
  return rc;
}

static int undo_install(tx_t *tx, cs_err_t *err) { return cs_plat_store_undo(tx->env->cfg, tx->store_backup, err); }

/* No undo: on POSIX the new key file is replaced by the old one (with its own
 * ACL) when install is undone; on Windows the new key goes with its certificate. */
static int step_grant(tx_t *tx, cs_err_t *err) {
  const char *account = tx->env->cfg->connector.account;
  char ref[PATH_LEN];
  int rc;
  if (account == NULL)
    return CS_OK;
  if ((rc = cs_plat_store_key_ref(tx->env->cfg, tx->j.new_tp, ref, sizeof ref)) != CS_OK)
    return cs_err_set(err, rc, 0, "no private key to grant access to ([store] key_file)");
  if ((rc = cs_plat_key_grant(ref, account, err)) == CS_OK)
    emit(tx, CS_EV_KEY_PERMISSION_GRANTED, account, NULL);
  return rc;
}

static int step_bindings(tx_t *tx, cs_err_t *err) {
  const cs_strlist_t *files = &tx->env->cfg->connector.binding_files;
  cs_bindings_backup_t backup;
  cs_buf_t names = CS_BUF_INIT;
  size_t i;
  int rc;
  if (files->n == 0)
    return CS_OK;
  rc = cs_bindings_rewrite((const char *const *)files->v, files->n, tx->j.old_tp, tx->j.new_tp, tx->bind_backup,
                           &backup, err);
  if (rc != CS_OK)
    return rc;
  for (i = 0; i < files->n; i++)
    cs_buf_printf(&names, "%s%s", i ? ", " : "", files->v[i]);
  emit(tx, CS_EV_BINDINGS_REWRITTEN, cs_buf_str(&names), NULL);
  cs_buf_free(&names);
  cs_bindings_backup_free(&backup);
  return CS_OK;
}

/* Only the configured binding files are put back: a manifest naming another file is
 * refused whole, before any file is written. */
static int undo_bindings(tx_t *tx, cs_err_t *err) {
  const cs_strlist_t *files = &tx->env->cfg->connector.binding_files;
  cs_bindings_backup_t backup;
  int rc = cs_bindings_backup_load(tx->bind_backup, &backup, err);
  if (rc == CS_ENOENT) /* the rewrite never changed a file */
    return CS_OK;
  if (rc == CS_OK && (rc = cs_bindings_backup_check(&backup, (const char *const *)files->v, files->n, err)) == CS_OK &&
      (rc = cs_bindings_restore(&backup, err)) == CS_OK)
    rc = cs_bindings_backup_remove(&backup, err);
  cs_bindings_backup_free(&backup);
  return rc;
}

/* No undo of its own: the rollback restarts once every file is back. */
static int step_restart(tx_t *tx, cs_err_t *err) {
  int rc = cs_connector_restart(tx->env->cfg, err);
  if (rc == CS_OK)
    emit(tx, CS_EV_SERVICE_RESTARTED, cs_connector_name(tx->env->cfg), NULL);
  return rc;
}

/* No undo of its own: the rollback stops the connector before it undoes what
 * followed, and starts it once every file is back. The services that depend on it
 * and run are written to the journal before any of them is stopped, so that a
 * recovery starts them again too. */
static int step_stop(tx_t *tx, cs_err_t *err) {
  int rc;
  if (tx->j.dependents == NULL && ((rc = cs_connector_dependents(tx->env->cfg, &tx->j.dependents, err)) != CS_OK ||
                                   (rc = journal(tx, err)) != CS_OK))
    return rc;
  return cs_connector_stop(tx->env->cfg, tx->j.dependents, err);
}

static int step_start(tx_t *tx, cs_err_t *err) {
  int rc = cs_connector_start(tx->env->cfg, tx->j.dependents, 1, err);
  if (rc == CS_OK)
    emit(tx, CS_EV_SERVICE_RESTARTED, cs_connector_name(tx->env->cfg), NULL);
  return rc;
}

/* The pre-flight's word on default endpoints: one that does not listen or does not
 * speak TLS (the connector's Configuration Server need not) is said once and left out
 * of this renewal, its probes after the restart and its rollback included; the list
 * is kept in the transaction folder, so that a recovery after a crash leaves out the
 * same ones. An endpoint configured explicitly is never left out. */

static int skipped(tx_t *tx, size_t i) {
  const cs_strlist_t *eps = &tx->env->cfg->connector.endpoints;
  char path[PATH_LEN];
  if (!tx->skipped_read && cs_plat_path_join(path, PATH_LEN, tx->txdir, CS_TX_SKIPPED) == 0)
    tx->skipped = cs_connector_skips_read(path, (const char *const *)eps->v, eps->n);
  tx->skipped_read = 1;
  return i < CS_CONNECTOR_SKIP_MAX && (tx->skipped >> i & 1u);
}

/* Leaves default endpoint i out (said once, with why); 0, or -1 when it cannot be. */
static int skip(tx_t *tx, size_t i, const char *why) {
  const cs_strlist_t *eps = &tx->env->cfg->connector.endpoints;
  char path[PATH_LEN];
  if (!tx->env->cfg->connector.endpoints_default || i >= CS_CONNECTOR_SKIP_MAX || !cs_connector_not_tls(eps->v[i], why))
    return -1;
  tx->skipped |= 1ull << i;
  /* best effort: without the list, a recovery probes every endpoint, as it always did */
  if (cs_plat_path_join(path, PATH_LEN, tx->txdir, CS_TX_SKIPPED) == 0)
    (void)cs_connector_skips_write(path, (const char *const *)eps->v, eps->n, tx->skipped);
  emit(tx, CS_EV_ENDPOINT_SKIPPED, eps->v[i], why + strlen(eps->v[i]) + 2);
  return 0;
}

/* Every endpoint serves tp, retried until restart_timeout (a service may take a
 * while to listen again after its restart), the pause between tries growing from
 * PROBE_PAUSE_FIRST_MS to PROBE_PAUSE_MS: quick when the service is, few workers
 * when it is slow. confirm: handshakes in a row, in one worker, that must see the
 * same certificate. After a restart a reloading server answers from its old and
 * its new processes for a moment (nginx signals its old workers 100 ms after it
 * started the new ones): a process still answering with the other certificate can
 * delay the proof, never fake it (the expected certificate is the one just put in
 * place, or put back), and handshakes that disagree send the probe round again.
 * The pre-flight expects what is served already: one handshake does, and what the
 * validating worker saw (seen: its preflight lines, may be NULL) spares it when it
 * was tp; anything else is probed again here. Only the pre-flight passes seen: there
 * a default endpoint that does not listen or speak TLS is left out (skip), and every
 * later probe of the transaction leaves it out too. *failed: the endpoint that did not. */
static int probe_all(tx_t *tx, const char *tp, int confirm, int announce, const cs_reply_t *seen, const char **failed,
                     cs_err_t *err) {
  const cs_config_t *cfg = tx->env->cfg;
  /* monotonic: a wall clock set back during the restart must not keep the probes going */
  long long deadline = cs_plat_monotonic_ms() + (long long)cfg->connector.restart_timeout * 1000;
  char served[41];
  size_t i;
  int rc = CS_OK;

  for (i = 0; i < cfg->connector.endpoints.n; i++) {
    const char *ep = cfg->connector.endpoints.v[i];
    int pause = PROBE_PAUSE_FIRST_MS;
    if (skipped(tx, i))
      continue;
    if (seen != NULL && i < seen->n_preflight && strcmp(seen->preflight[i].endpoint, ep) == 0 &&
        strcmp(seen->preflight[i].tp, tp) == 0)
      continue;
    for (;;) {
      rc = cs_worker_probe_confirmed(tx->env->worker, ep, tx->env->host, PROBE_TIMEOUT_MS, confirm, served, err);
      if (rc == CS_OK && strcmp(served, tp) == 0)
        break;
      if (rc != CS_OK && seen != NULL && skip(tx, i, err->text) == 0)
        break;
      if (rc == CS_OK)
        rc = cs_err_set(err, CS_EFAILED, 0, "%s serves %s, not %s", ep, served, tp);
      if (cs_plat_monotonic_ms() >= deadline) {
        if (failed != NULL)
          *failed = ep;
        return rc;
      }
      cs_plat_sleep_ms(pause);
      pause = pause * 2 < PROBE_PAUSE_MS ? pause * 2 : PROBE_PAUSE_MS;
    }
    if (announce)
      emit(tx, CS_EV_NEW_CERT_SERVED, ep, NULL);
  }
  return CS_OK;
}

static int step_probe(tx_t *tx, cs_err_t *err) {
  return probe_all(tx, tx->j.new_tp, PROBE_CONFIRM, 1, NULL, NULL, err);
}

/* By cs_step_t (txplan.h); the transaction runs them in the order of its plan. */
static const step_t steps[CS_STEP_COUNT] = {
    [CS_STEP_INSTALL] = {step_install, undo_install},
    [CS_STEP_GRANT] = {step_grant, NULL},
    [CS_STEP_STOP] = {step_stop, NULL},
    [CS_STEP_BINDINGS] = {step_bindings, undo_bindings},
    [CS_STEP_START] = {step_start, NULL},
    [CS_STEP_RESTART] = {step_restart, NULL},
    [CS_STEP_PROBE] = {step_probe, NULL},
};

/* ---- transaction ------------------------------------------------------------ */

static int tx_paths(tx_t *tx, const cs_renewal_env_t *env, cs_renewal_result_t *res, cs_err_t *err) {
  const char *state = env->cfg->store.state_dir;
  memset(tx, 0, sizeof *tx);
  tx->env = env;
  tx->res = res;
  if (cs_plat_path_join(tx->journal, PATH_LEN, state, CS_STATE_JOURNAL) ||
      cs_plat_path_join(tx->txdir, PATH_LEN, state, CS_STATE_TX) ||
      cs_plat_path_join(tx->stage, PATH_LEN, tx->txdir, CS_TX_STAGE) ||
      cs_plat_path_join(tx->store_backup, PATH_LEN, tx->txdir, CS_TX_STORE_BACKUP) ||
      cs_plat_path_join(tx->bind_backup, PATH_LEN, tx->txdir, CS_TX_BINDINGS_BACKUP))
    return cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is too long");
  return CS_OK;
}

/* Writes the last transaction's result for `status` (last.h); best effort. */
static void record_last(const tx_t *tx, cs_outcome_t o, const char *step, const char *reason) {
  cs_err_t err;
  (void)cs_last_write(tx->env->cfg->store.state_dir, cs_outcome_name(o), (long long)time(NULL), tx->j.old_tp,
                      tx->j.new_tp, step, reason, &err);
}

/* The transaction is over: its folder and journal go (journal last: while it
 * exists, a restart would redo this clean-up). */
static int finish(tx_t *tx, cs_err_t *err) {
  int rc = cs_plat_remove_tree(tx->txdir, err);
  if (rc == CS_OK)
    rc = cs_plat_remove(tx->journal, err);
  return rc;
}

/* first takes err when it is the first failure; ok goes 0. */
static void note_failure(int *ok, cs_err_t *first, const cs_err_t *err) {
  if (*ok)
    *first = *err;
  *ok = 0;
}

/* Undoes what steps 1..tx->j.step of the plan may have done (txplan.h decides: the
 * connector stopped first where it may run on changed files, the undo in reverse
 * order, the connector brought back), and proves the old certificate is served again. */
static void rollback(tx_t *tx, cs_step_t failed_step, const cs_err_t *why) {
  const char *failed = cs_step_name(failed_step);
  const cs_config_t *cfg = tx->env->cfg;
  cs_renewal_result_t *res = tx->res;
  cs_rollback_t rb;
  cs_err_t err, first;
  int i, rc = CS_OK, ok = 1;

  cs_err_clear(&first);
  res->step = failed_step;
  res->err = *why;
  snprintf(tx->j.state, sizeof tx->j.state, "%s", CS_TX_ROLLING_BACK);
  free(tx->j.failed_step);
  free(tx->j.reason);
  tx->j.failed_step = cs_strdup(failed);
  tx->j.reason = cs_strdup(why->text);
  emit(tx, CS_EV_ROLLBACK_STARTED, failed, why->text);
  if (journal(tx, &err) != CS_OK) /* carry on: undoing matters more than the record */
    note_failure(&ok, &first, &err);
  /* the step was checked against the plan when it was read: this cannot fail */
  (void)cs_plan_rollback(&tx->plan, tx->j.step, cs_connector_can_split(cfg), &rb, NULL);
  if (rb.stop_first) {
    if (cs_connector_stop(cfg, tx->j.dependents, &err) != CS_OK) /* carry on: the files go back all the same */
      note_failure(&ok, &first, &err);
    cs_fault_point("rollback_stopped"); /* test builds: crash.sh */
  }
  for (i = 0; i < rb.n_undo; i++) {
    cs_err_clear(&err);
    if (steps[rb.undo[i]].undo(tx, &err) != CS_OK)
      note_failure(&ok, &first, &err);
    cs_fault_point2("rollback_undo_", cs_step_name(rb.undo[i])); /* test builds: crash.sh */
  }
  if (rb.bringup == CS_BRINGUP_ENSURE || rb.bringup == CS_BRINGUP_START)
    rc = cs_connector_start(cfg, tx->j.dependents, rb.bringup == CS_BRINGUP_START, &err);
  else if (rb.bringup == CS_BRINGUP_RESTART)
    rc = cs_connector_restart(cfg, &err);
  if (rc != CS_OK)
    note_failure(&ok, &first, &err);
  cs_fault_point("rollback_restarted"); /* test builds: crash.sh */
  if (probe_all(tx, tx->j.old_tp, PROBE_CONFIRM, 0, NULL, NULL, &err) != CS_OK)
    note_failure(&ok, &first, &err);
  if (ok && finish(tx, &err) == CS_OK) {
    res->outcome = CS_OUT_ROLLED_BACK;
    emit(tx, CS_EV_ROLLBACK_COMPLETED, failed, why->text);
    record_last(tx, CS_OUT_ROLLED_BACK, failed, why->text);
    /* the key certsteward vouches for was put back as a new file (POSIX): its identity
     * follows, when the certificate put back is the one it vouched for */
    if (cs_committed_names(cfg->store.state_dir, tx->j.old_tp) && cs_committed_record(cfg, tx->j.old_tp, &err) != CS_OK)
      emit(tx, CS_EV_STATE_ERROR, cfg->store.state_dir, err.text);
    return;
  }
  if (ok)
    first = err;
  /* The journal stays (rolling-back): the next start tries the undo again. */
  res->outcome = CS_OUT_ROLLBACK_FAILED;
  snprintf(res->err.text, sizeof res->err.text, "%.240s; undoing it failed: %.240s", why->text, first.text);
  emit(tx, CS_EV_ROLLBACK_FAILED, failed, first.text);
  record_last(tx, CS_OUT_ROLLBACK_FAILED, failed, res->err.text);
}

/* After COMMIT: the old certificate to the archive, then the clean-up. */
static void commit_tail(tx_t *tx) {
  char archive[PATH_LEN], dir[PATH_LEN];
  cs_err_t err;
  int rc = cs_plat_path_join(archive, PATH_LEN, tx->env->cfg->store.state_dir, CS_STATE_ARCHIVE) != 0 ||
                   cs_plat_path_join(dir, PATH_LEN, archive, tx->j.old_tp) != 0
               ? cs_err_set(&err, CS_ETOOBIG, 0, "[store] state_dir is too long")
               : cs_plat_store_archive(tx->env->cfg, tx->store_backup, dir, &err);
  if (rc == CS_OK)
    emit(tx, CS_EV_OLD_CERT_ARCHIVED, dir, NULL);
  else
    emit(tx, CS_EV_STATE_ERROR, tx->env->cfg->store.state_dir, err.text);
  cs_fault_point("after_archive"); /* test builds: crash.sh */
  if (finish(tx, &err) != CS_OK)
    emit(tx, CS_EV_STATE_ERROR, tx->env->cfg->store.state_dir, err.text);
  record_last(tx, CS_OUT_COMMITTED, NULL, NULL);
  /* the certificate certsteward vouches for from now on (committed.h) */
  if (cs_committed_record(tx->env->cfg, tx->j.new_tp, &err) != CS_OK)
    emit(tx, CS_EV_STATE_ERROR, tx->env->cfg->store.state_dir, err.text);
}

int cs_renewal_current(const cs_renewal_env_t *env, char tp[41], cs_err_t *err) {
  const cs_config_t *cfg = env->cfg;
  cs_bindings_scan_t scan;
  cs_reply_t reply;
  char cert[PATH_LEN], key[PATH_LEN];
  int rc;

  tp[0] = '\0';
  if (cfg->connector.thumbprint != NULL) {
    if (!cs_thumbprint_valid(cfg->connector.thumbprint))
      return cs_err_set(err, CS_ECONFIG, 0, "[connector] thumbprint is not 40 hex digits");
    snprintf(tp, 41, "%s", cfg->connector.thumbprint);
    cs_thumbprint_upper(tp);
    return CS_OK;
  }
  if (cfg->connector.binding_files.n > 0) {
    rc = cs_bindings_scan((const char *const *)cfg->connector.binding_files.v, cfg->connector.binding_files.n, &scan,
                          err);
    if (rc == CS_OK)
      rc = cs_bindings_current(&scan, tp, err);
    cs_bindings_scan_free(&scan);
    return rc;
  }
  if ((rc = cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, err)) != CS_OK)
    return rc;
  if (cert[0] == '\0')
    return cs_err_set(err, CS_ENOENT, 0,
                      "the certificate in service is unknown: no [connector] thumbprint, no "
                      "binding file, and no [store] cert_file");
  rc = cs_worker_scan(env->worker, cert, &reply, err);
  if (rc == CS_OK)
    memcpy(tp, reply.report.thumbprint, 41);
  cs_reply_free(&reply);
  return rc;
}

/* Validation by the worker, compared with the certificate in service (not for a
 * rollback); stages the files. The same worker then probes the endpoints for the
 * pre-flight (res->validation.preflight): one process, not two. A worker that failed
 * as a whole is asked again without the probes, so that a failure is the step's it
 * belongs to (an endpoint that kills it is the pre-flight's, not the file's). */
static int validate(tx_t *tx, const char *file, unsigned flags, cs_err_t *err) {
  const cs_strlist_t *eps = &tx->env->cfg->connector.endpoints;
  const char *current;
  char cert[PATH_LEN], key[PATH_LEN];
  unsigned wflags;
  int rc;
  if ((rc = cs_plat_store_current(tx->env->cfg, cert, sizeof cert, key, sizeof key, err)) != CS_OK)
    return rc;
  current = flags & CS_RENEW_ROLLBACK ? NULL : cert;
  wflags = flags & CS_RENEW_ADOPT && cs_plat_store_holds_keys() ? CS_WORKER_OWN_KEY : 0;
  rc = cs_worker_validate_probing(tx->env->worker, file, current, key, tx->stage, tx->env->host,
                                  (const char *const *)eps->v, eps->n, PROBE_TIMEOUT_MS, wflags, &tx->res->validation,
                                  err);
  if (rc != CS_OK && eps->n > 0 && tx->env->host != NULL) {
    cs_reply_free(&tx->res->validation);
    rc = cs_worker_validate_probing(tx->env->worker, file, current, key, tx->stage, NULL, NULL, 0, 0, wflags,
                                    &tx->res->validation, err);
  }
  return rc;
}

/* The run ended at step with outcome o (any outcome: VALID and REJECTED too) and err's
 * reason; what cs_renewal_run returns for it. */
static int set_outcome(cs_renewal_result_t *res, cs_outcome_t o, cs_step_t step, const cs_err_t *err) {
  res->outcome = o;
  res->step = step;
  res->err = *err;
  return o == CS_OUT_ERROR ? (err->code ? err->code : CS_EFAILED) : CS_OK;
}

int cs_renewal_run(const cs_renewal_env_t *env, const char *file, unsigned flags, cs_renewal_result_t *res) {
  tx_t tx;
  cs_err_t err;
  char plan[128];
  const char *failed_ep = NULL;
  int i, rc;

  memset(res, 0, sizeof *res);
  cs_err_clear(&err);
  if (tx_paths(&tx, env, res, &err) != CS_OK)
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_BEGIN, &err);
  if (cs_plat_exists(tx.journal)) {
    cs_err_set(&err, CS_EBUSY, 0, "an unfinished renewal must be recovered first (journal %s)", tx.journal);
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_BEGIN, &err);
  }
  if ((rc = cs_renewal_current(env, tx.j.old_tp, &err)) != CS_OK)
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_CURRENT, &err);
  /* a scratch folder a crash left before BEGIN holds nothing in service */
  if (cs_plat_remove_tree(tx.txdir, &err) != CS_OK || cs_plat_mkdirs(tx.txdir, 0700, &err) != CS_OK)
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_BEGIN, &err);

  rc = validate(&tx, file, flags, &err);
  if (rc != CS_OK) {
    (void)cs_plat_remove_tree(tx.txdir, NULL);
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_VALIDATE, &err);
  }
  memcpy(tx.j.new_tp, res->validation.report.thumbprint, 41);
  memcpy(res->old_tp, tx.j.old_tp, 41);
  memcpy(res->new_tp, tx.j.new_tp, 41);
  tx.j.file = cs_strdup(env->name ? env->name : file);
  tx.j.subject = res->validation.report.subject ? cs_strdup(res->validation.report.subject) : NULL;
  tx.j.txdir = cs_strdup(tx.txdir);
  if (!cs_report_accepted(&res->validation.report) || res->validation.staged == NULL) {
    cs_err_set(&err, CS_EINVAL, 0, "the file failed validation");
    rc = set_outcome(res, CS_OUT_REJECTED, CS_STEP_VALIDATE, &err);
    goto out_clean;
  }
  if (strcmp(tx.j.new_tp, tx.j.old_tp) == 0) {
    cs_err_set(&err, CS_EINVAL, 0, "this certificate is already in service");
    rc = set_outcome(res, CS_OUT_REJECTED, CS_STEP_VALIDATE, &err);
    goto out_clean;
  }
  /* pre-flight: the swap can be proven only if the old certificate is what is served */
  if (probe_all(&tx, tx.j.old_tp, 1, 0, &res->validation, &failed_ep, &err) != CS_OK) {
    rc = set_outcome(res, CS_OUT_REFUSED, CS_STEP_PREFLIGHT, &err);
    emit(&tx, CS_EV_PREFLIGHT_REFUSED, failed_ep, err.text);
    goto out_clean;
  }
  /* a dry run ends here, and so does a file the caller holds back (it is fit, and
   * nothing was changed: the daemon's maintenance window) */
  if ((flags & CS_RENEW_DRY_RUN) || (env->gate_cb != NULL && env->gate_cb(res, env->gate_arg) != 0)) {
    rc = set_outcome(res, CS_OUT_VALID, CS_STEP_NONE, &err);
    goto out_clean;
  }

  /* BEGIN */
  snprintf(tx.j.state, sizeof tx.j.state, "%s", CS_TX_RUNNING);
  tx.j.started = (long long)time(NULL);
  cs_plan_for(cs_connector_can_split(env->cfg), &tx.plan);
  cs_plan_format(&tx.plan, plan, sizeof plan);
  tx.j.plan = cs_strdup(plan);
  if ((rc = journal(&tx, &err)) != CS_OK) {
    rc = set_outcome(res, CS_OUT_ERROR, CS_STEP_BEGIN, &err);
    goto out_clean;
  }
  emit(&tx, CS_EV_RENEWAL_STARTED, tx.j.file, NULL);
  cs_fault_point("after_begin"); /* test builds: crash.sh */
  for (i = 0; i < tx.plan.n; i++) {
    const char *name = cs_step_name(tx.plan.step[i]);
    tx.j.step = i + 1;
    free(tx.j.step_name);
    tx.j.step_name = cs_strdup(name);
    cs_err_clear(&err);
    if (tx.j.plan == NULL || tx.j.step_name == NULL)
      rc = cs_err_set(&err, CS_ENOMEM, 0, "out of memory");
    else if ((rc = journal(&tx, &err)) == CS_OK &&
             (rc = cs_fault_fail2("step_", name, &err)) == CS_OK) /* test builds: the step fails */
      rc = steps[tx.plan.step[i]].run(&tx, &err);
    if (rc != CS_OK) {
      rollback(&tx, tx.plan.step[i], &err);
      cs_journal_free(&tx.j);
      return CS_OK;
    }
    cs_fault_point2("after_", name); /* test builds: crash.sh */
  }
  /* COMMIT */
  snprintf(tx.j.state, sizeof tx.j.state, "%s", CS_TX_COMMITTED);
  if (cs_fault_fail("step_commit", &err) != CS_OK || journal(&tx, &err) != CS_OK) {
    rollback(&tx, CS_STEP_COMMIT, &err);
    cs_journal_free(&tx.j);
    return CS_OK;
  }
  cs_fault_point("after_commit"); /* test builds: crash.sh */
  res->outcome = CS_OUT_COMMITTED;
  emit(&tx, CS_EV_RENEWAL_COMMITTED, tx.j.old_tp, tx.j.new_tp);
  commit_tail(&tx);
  cs_journal_free(&tx.j);
  return CS_OK;

out_clean:
  (void)cs_plat_remove_tree(tx.txdir, NULL);
  cs_journal_free(&tx.j);
  return rc;
}

/* What a crash inside one atomic write left: the temp files beside every file a
 * transaction writes (the journal, the last result, the store's files, the binding
 * files). A binding file's folder is the connector's, which its account may write:
 * there only what the records in the backup folder name is touched (on Windows; see
 * cs_plat_recover_recorded). Best effort: a file left over is harmless, the recovery
 * matters more (and the undo of the bindings rewrites each file from its copy). */
static void remove_temps(const tx_t *tx) {
  const cs_config_t *cfg = tx->env->cfg;
  const char *const store[] = {cfg->store.cert_file, cfg->store.key_file, cfg->store.chain_file,
                               cfg->store.bundle_file};
  char last[PATH_LEN];
  size_t i;
  (void)cs_plat_remove_temps(tx->journal, NULL);
  if (cs_plat_path_join(last, PATH_LEN, cfg->store.state_dir, CS_STATE_LAST) == 0)
    (void)cs_plat_remove_temps(last, NULL);
  for (i = 0; i < sizeof store / sizeof store[0]; i++)
    if (store[i] != NULL)
      (void)cs_plat_remove_temps(store[i], NULL);
  for (i = 0; i < cfg->connector.binding_files.n; i++)
    (void)cs_plat_recover_recorded(cfg->connector.binding_files.v[i], tx->bind_backup, NULL);
}

/* The plan of the journal read into tx (a version 1 journal: its one fixed plan, now
 * written out) and its last step started, looked up by name where the journal keeps
 * it (cs_journal_plan); the name is written from now on either way. */
static int plan_of(tx_t *tx, cs_err_t *err) {
  char text[128];
  cs_err_t why;
  int rc, step;
  if ((rc = cs_journal_plan(&tx->j, &tx->plan, &step, &why)) != CS_OK)
    return cs_err_set(err, rc, 0, "the journal %s cannot be recovered (%.200s): nothing was undone; restore by hand",
                      tx->journal, why.text);
  tx->j.step = step;
  if (tx->j.plan == NULL) {
    cs_plan_format(&tx->plan, text, sizeof text);
    if ((tx->j.plan = cs_strdup(text)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  if (tx->j.step_name == NULL && step >= 1 &&
      (tx->j.step_name = cs_strdup(cs_step_name(tx->plan.step[step - 1]))) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return CS_OK;
}

int cs_renewal_recover(const cs_renewal_env_t *env, cs_renewal_result_t *res) {
  tx_t tx;
  cs_err_t err;
  int rc;

  memset(res, 0, sizeof *res);
  if (tx_paths(&tx, env, res, &err) != CS_OK)
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_RECOVER, &err);
  remove_temps(&tx);
  rc = cs_journal_read(tx.journal, &tx.j, &err);
  if (rc == CS_ENOENT) {
    /* a crash before BEGIN: the scratch folder (staged files, a key among them) holds nothing in service */
    (void)cs_plat_remove_tree(tx.txdir, NULL);
    return CS_ENOENT;
  }
  if (rc != CS_OK)
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_RECOVER, &err);
  memcpy(res->old_tp, tx.j.old_tp, 41);
  memcpy(res->new_tp, tx.j.new_tp, 41);
  emit(&tx, CS_EV_JOURNAL_RECOVERY, tx.j.state, NULL);
  if ((rc = cs_journal_check_txdir(&tx.j, tx.journal, tx.txdir, &err)) != CS_OK) {
    emit(&tx, CS_EV_STATE_ERROR, tx.journal, err.text);
    cs_journal_free(&tx.j);
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_RECOVER, &err);
  } else if (strcmp(tx.j.state, CS_TX_COMMITTED) == 0) {
    res->outcome = CS_OUT_COMMITTED;
    commit_tail(&tx);
  } else if ((rc = plan_of(&tx, &err)) != CS_OK) {
    /* nothing is undone from a journal that is not understood: the wrong undo would do harm */
    emit(&tx, CS_EV_STATE_ERROR, tx.journal, err.text);
    cs_journal_free(&tx.j);
    return set_outcome(res, CS_OUT_ERROR, CS_STEP_RECOVER, &err);
  } else {
    cs_err_set(&err, CS_EFAILED, 0, "interrupted at step %d of %d (the service stopped or the machine crashed)",
               tx.j.step, tx.plan.n);
    rollback(&tx, tx.j.step >= 1 ? tx.plan.step[tx.j.step - 1] : CS_STEP_BEGIN, &err);
  }
  cs_journal_free(&tx.j);
  return CS_OK;
}

void cs_renewal_result_free(cs_renewal_result_t *res) { cs_reply_free(&res->validation); }
