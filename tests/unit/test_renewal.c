/* The renewal transaction in process (common/renewal.c): cs_renewal_run and
 * cs_renewal_recover on a temporary state folder and store, with no root, no TLS
 * server and no real worker (the fixture: renewal_fx.h).
 *
 * Each step of both plans, and the commit, is made to fail (the test build's fault
 * points, CERTSTEWARD_TEST_FAULT_MODE=fail): the outcome is a rollback naming that step,
 * with the old certificate back in the store, the binding file back byte for byte, the
 * old certificate served, no journal, and `last` and the events saying so. Also: a
 * commit, a dry run, a rejected file, and the recovery of a journal a crash left in each
 * of its states: POSIX, a snapshot of the whole folder taken at a fault point while a
 * real renewal ran; Windows (under Wine, the real LocalMachine\My), what a child process
 * killed at that point left (see crashed_at). */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "journal.h"
#include "platform.h"
#include "renewal.h"
#include "renewal_fx.h"
#include "txplan.h"

static int run(fx_t *f, unsigned flags) {
  cs_renewal_result_free(&f->res);
  return cs_renewal_run(&f->env, fx_at(f, "renewed.pem"), flags, &f->res);
}

/* Every step of the plan, and the commit, fails in turn: rolled back, at that step. */
static void every_step_fails(int split) {
  cs_plan_t plan;
  cs_step_t failing[CS_PLAN_MAX + 1];
  char point[64], *events;
  int i, n;
  fx_t f;
  cs_plan_for(split, &plan);
  for (n = 0; n < plan.n; n++)
    failing[n] = plan.step[n];
  failing[n++] = CS_STEP_COMMIT;
  for (i = 0; i < n; i++) {
    fx_setup(&f, split);
    snprintf(point, sizeof point, "step_%s", cs_step_name(failing[i]));
    fx_fault(point, "fail", NULL);
    CHECK_INT(run(&f, 0), ==, CS_OK);
    if (f.res.outcome != CS_OUT_ROLLED_BACK || f.res.step != failing[i])
      cs_test_fail(__FILE__, __LINE__, "%s: %s at %s (%s)", point, cs_outcome_name(f.res.outcome),
                   cs_step_name(f.res.step), f.res.err.text);
    CHECK_CONTAINS(f.res.err.text, point);
    CHECK_STR(f.res.old_tp, OLD_TP);
    CHECK_STR(f.res.new_tp, NEW_TP);
    fx_old_in_service(&f);
    fx_last_says(&f, "rolled-back", cs_step_name(failing[i]));
    cs_events_close();
    events = cs_test_read_text(fx_at(&f, "events.jsonl"));
    CHECK_CONTAINS(events, point); /* the rollback's events say why */
    free(events);
    fx_teardown(&f);
  }
}

CS_TEST(every_step_of_the_split_plan_fails_and_rolls_back) { every_step_fails(1); }

CS_TEST(every_step_of_the_restart_plan_fails_and_rolls_back) { every_step_fails(0); }

CS_TEST(commit) {
  fx_t f;
  char *log;
  int split;
  for (split = 0; split <= 1; split++) {
    fx_setup(&f, split);
    CHECK_INT(run(&f, 0), ==, CS_OK);
    CHECK_STR(cs_outcome_name(f.res.outcome), "committed");
    CHECK_INT(f.res.step, ==, CS_STEP_NONE);
    fx_new_in_service(&f);
    fx_last_says(&f, "committed", "");
#ifdef _WIN32
    log = cs_test_read_text(fx_at(&f, "starts.log")); /* the service: started by the fixture, then anew */
    if (split) {
      const char *p = log;
      int starts = 0;
      while (p != NULL && (p = strstr(p, "start ")) != NULL && ++starts)
        p++;
      CHECK_INT(starts, ==, 2);
    }
#else
    log = cs_test_read_text(fx_at(&f, "systemctl.log"));
    if (split) /* stopped while its files changed, then started as a new process */
      CHECK_STR(log, "stop\nrestart\n");
    else
      CHECK(log == NULL);
#endif
    free(log);
    fx_teardown(&f);
  }
}

CS_TEST(dry_run_changes_nothing) {
  fx_t f;
  fx_setup(&f, 1);
  CHECK_INT(run(&f, CS_RENEW_DRY_RUN), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "valid");
  CHECK_INT(f.res.step, ==, CS_STEP_NONE);
  CHECK_STR(f.res.new_tp, NEW_TP);
  fx_old_in_service(&f);
  CHECK(!cs_plat_exists(fx_at(&f, "state" SEP "last")));
  CHECK(!cs_plat_exists(fx_at(&f, "systemctl.log")));
  fx_teardown(&f);
}

CS_TEST(rejected_file_changes_nothing) {
  FILE *file;
  fx_t f;
  fx_setup(&f, 0);
  CHECK((file = cs_plat_fopen(fx_at(&f, "renewed.pem"), "ab")) != NULL); /* the stand-in's mark */
  if (file != NULL)
    CHECK(fputs("\nreject\n", file) >= 0 && fclose(file) == 0);
  CHECK_INT(run(&f, 0), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "rejected");
  CHECK_INT(f.res.step, ==, CS_STEP_VALIDATE);
  CHECK_STR(cs_step_name(f.res.step), "validate");
  fx_old_in_service(&f);
  fx_teardown(&f);
}

/* Recovery: a journal a crash left, with the store and the files as they were then. */
#ifdef _WIN32
#define SPLIT_RECOVERED 0 /* the child below runs the restart-command plan */

/* A crash at point (Windows, where the store is LocalMachine\\My, which no copy of a
 * folder holds): this program runs again as a child, its test "commit" (whose first
 * renewal is of the restart-command plan) in the fixture's folder (CS_RENEWAL_FX_DIR),
 * and the fault's kill mode ends it at point; the parent reads the configuration again,
 * as a restart after that crash does. */
static void crashed_at(fx_t *f, const char *point) {
  char exe[1024];
  const char *argv[] = {exe, "commit", NULL};
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(cs_plat_sibling_path("test_renewal", exe, sizeof exe, &err), ==, CS_OK);
  cs_events_close();
  cs_config_free(&f->cfg);
  cs_test_setenv("CS_RENEWAL_FX_DIR", f->dir);
  fx_fault(point, NULL, NULL);
  CHECK_INT(cs_plat_run(argv, NULL, 0, 60000, 1 << 16, &res, &err), ==, CS_OK);
  CHECK_INT(res.exit_code, ==, 137); /* killed at the point */
  cs_run_result_free(&res);
  fx_fault(NULL, NULL, NULL);
  cs_test_setenv("CS_RENEWAL_FX_DIR", NULL);
  CHECK(cs_plat_exists(fx_at(f, "state" SEP "journal")));
  fx_open_events(f);
  fx_load(f);
}
#else
#define SPLIT_RECOVERED 1

/* A crash at point (POSIX, where the store is files in the fixture's folder): the whole
 * folder as it was there (copied by the fault point's command while the renewal ran on
 * to its end) replaces the folder, and the configuration is read again: what a restart
 * after a crash at point finds. */
static void crashed_at(fx_t *f, const char *point) {
  char cmd[4096], snap[1100];
  cs_err_t err;
  snprintf(snap, sizeof snap, "%s.crash", f->dir);
  snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", f->dir, snap);
  fx_fault(point, NULL, cmd);
  CHECK_INT(run(f, 0), ==, CS_OK);
  fx_fault(NULL, NULL, NULL);
  CHECK_STR(cs_outcome_name(f->res.outcome), "committed");
  cs_events_close();
  cs_config_free(&f->cfg);
  CHECK_INT(cs_plat_remove_tree(f->dir, &err), ==, CS_OK);
  CHECK_INT(rename(snap, f->dir), ==, 0);
  CHECK(cs_plat_exists(fx_at(f, "state" SEP "journal")));
  fx_open_events(f);
  fx_load(f);
}
#endif

static void set_journal(fx_t *f, const char *state, const char *step_name) {
  cs_journal_t j;
  cs_err_t err;
  CHECK_INT(cs_journal_read(fx_at(f, "state" SEP "journal"), &j, &err), ==, CS_OK);
  if (state != NULL)
    snprintf(j.state, sizeof j.state, "%s", state);
  if (step_name != NULL) {
    free(j.step_name);
    j.step_name = cs_strdup(step_name);
  }
  CHECK_INT(cs_journal_write(fx_at(f, "state" SEP "journal"), &j, &err), ==, CS_OK);
  cs_journal_free(&j);
}

static int recover(fx_t *f) {
  cs_renewal_result_free(&f->res);
  return cs_renewal_recover(&f->env, &f->res);
}

CS_TEST(recovery_of_a_running_journal_rolls_back) {
  fx_t f;
  int split;
  for (split = 0; split <= SPLIT_RECOVERED; split++) {
    fx_setup(&f, split);
    /* split: stopped, the files rewritten; restart: restarted on the new certificate */
    crashed_at(&f, split ? "after_bindings" : "after_restart");
    CHECK_INT(recover(&f), ==, CS_OK);
    CHECK_STR(cs_outcome_name(f.res.outcome), "rolled-back");
    CHECK_STR(cs_step_name(f.res.step), split ? "bindings" : "restart");
    CHECK_CONTAINS(f.res.err.text, "interrupted at step");
    fx_old_in_service(&f);
    fx_last_says(&f, "rolled-back", split ? "bindings" : "restart");
    fx_teardown(&f);
  }
}

CS_TEST(recovery_of_a_rolling_back_journal_rolls_back) {
  fx_t f;
  fx_setup(&f, 0);
  crashed_at(&f, "after_restart");
  set_journal(&f, CS_TX_ROLLING_BACK, NULL);
  CHECK_INT(recover(&f), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "rolled-back");
  CHECK_INT(f.res.step, ==, CS_STEP_RESTART);
  fx_old_in_service(&f);
  fx_last_says(&f, "rolled-back", "restart");
  fx_teardown(&f);
}

CS_TEST(recovery_of_a_committed_journal_completes) {
  fx_t f;
  fx_setup(&f, SPLIT_RECOVERED);
  crashed_at(&f, "after_commit");
  CHECK_INT(recover(&f), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "committed");
  fx_new_in_service(&f);
  fx_last_says(&f, "committed", "");
  fx_teardown(&f);
}

/* A journal naming a step this certsteward does not know, or one its plan does not
 * have: nothing is undone (the new files stay, the journal too), the error says why. */
CS_TEST(recovery_refuses_a_step_it_does_not_know) {
  static const char *const names[] = {"reload", "stop"};
  char tls[512], *served;
  fx_t f;
  size_t i;
  for (i = 0; i < 2; i++) {
    fx_setup(&f, 0);
    crashed_at(&f, "after_restart");
    set_journal(&f, NULL, names[i]);
    CHECK_INT(recover(&f), !=, CS_OK);
    CHECK_STR(cs_outcome_name(f.res.outcome), "error");
    CHECK_INT(f.res.step, ==, CS_STEP_RECOVER);
    CHECK_CONTAINS(f.res.err.text, i == 0 ? "does not know: \"reload\"" : "step stop is not in its plan");
    CHECK_CONTAINS(f.res.err.text, "nothing was undone");
    fx_tls_json(NEW_TP, tls, sizeof tls); /* the rewrite stays */
    cs_test_file_is_str(fx_at(&f, "tls.json"), tls);
    served = cs_test_read_text(fx_at(&f, "served"));
    CHECK_CONTAINS(served, NEW_TP);
    free(served);
    CHECK(cs_plat_exists(fx_at(&f, "state" SEP "journal")));
    fx_teardown(&f);
  }
}

/* The journal written at each step names it (what a recovery goes by). */
CS_TEST(journal_names_the_step_started) {
  fx_t f;
  cs_journal_t j;
  cs_err_t err;
  fx_setup(&f, SPLIT_RECOVERED);
  crashed_at(&f, SPLIT_RECOVERED ? "after_stop" : "after_bindings");
  CHECK_INT(cs_journal_read(fx_at(&f, "state" SEP "journal"), &j, &err), ==, CS_OK);
  CHECK_STR(j.step_name, SPLIT_RECOVERED ? "stop" : "bindings");
  CHECK_INT(j.step, ==, 3);
  CHECK_STR(j.plan,
            SPLIT_RECOVERED ? "install grant stop bindings start probe" : "install grant bindings restart probe");
  cs_journal_free(&j);
  fx_teardown(&f);
}

/* The probes' deadlines: a clock that goes forward with the time slept. */
CS_TEST(monotonic_clock_goes_forward) {
  long long a = cs_plat_monotonic_ms(), b;
  cs_plat_sleep_ms(200);
  b = cs_plat_monotonic_ms();
  CHECK(a > 0);
  CHECK_INT(b - a, >=, 150); /* GetTickCount64 counts in steps of 10 to 16 ms */
  CHECK_INT(b - a, <, 5000);
}
