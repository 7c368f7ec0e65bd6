/* The renewal transaction in process (common/renewal.c): cs_renewal_run and
 * cs_renewal_recover on a temporary state folder and store, with no root, no TLS
 * server and no real worker. The worker is tests/support/standin_worker.c; the
 * connector is a file: "served" holds the certificate the last start put in service
 * (the restart command, or the systemctl stand-in of the split plan, copy the store's
 * certificate file there; a stop removes it), and the stand-in worker's probe answers
 * with its thumbprint, so a probe proves what was started.
 *
 * Each step of both plans is made to fail (the test build's fault points,
 * CERTSTEWARD_TEST_FAULT_MODE=fail): the outcome is a rollback, naming that step, with
 * the old certificate, key and binding file back byte for byte, the old certificate
 * served, no journal, and `last` saying so. Also: a commit, a dry run, a rejected file,
 * and the recovery of a journal a crash left in each of its states, by a snapshot of
 * the whole folder taken at a fault point while a real renewal ran. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "events.h"
#include "journal.h"
#include "platform.h"
#include "renewal.h"
#include "txplan.h"

#ifndef CS_STANDIN_WORKER
#error "CS_STANDIN_WORKER: the stand-in worker's path (tests/CMakeLists.txt)"
#endif

#define OLD_TP "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9"
#define NEW_TP "00112233445566778899AABBCCDDEEFF00112233"

static const char old_cert[] = "thumbprint " OLD_TP "\nthe certificate in service\n";
static const char old_key[] = "the key in service\n";
static const char new_cert[] = "thumbprint " NEW_TP "\nthe renewed certificate\n";
static const char old_tls[] = "{\r\n  \"webServer\": { \"port\": 8197, \"thumbprint\": \"3b2c1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9\" },"
                              "\r\n  \"configurationServer\": { \"port\": 8096, \"thumbprint\": \"" OLD_TP "\" }\r\n}\r\n";

typedef struct fx_s {
  char dir[1024];
  int split;
  cs_config_t cfg;
  cs_worker_t worker;
  cs_renewal_env_t env;
  cs_renewal_result_t res;
} fx_t;

static void set_env(const char *name, const char *value) {
#ifdef _WIN32
  _putenv_s(name, value != NULL ? value : "");
#else
  if (value != NULL)
    setenv(name, value, 1);
  else
    unsetenv(name);
#endif
}

/* dir/name, in one of eight rotating buffers. */
static const char *at(const fx_t *f, const char *name) {
  static char buf[8][1200];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", f->dir, name);
  return b;
}

static void open_events(const fx_t *f) {
  cs_events_cfg_t ev;
  memset(&ev, 0, sizeof ev);
  ev.jsonl_path = at(f, "events.jsonl");
  ev.jsonl_max = 1 << 20;
  CHECK_INT(cs_events_open(&ev), ==, CS_OK);
}

/* Loads the configuration the fixture wrote (again, after the folder was replaced). */
static void load(fx_t *f) {
  cs_err_t err;
  CHECK_INT(cs_config_load(&f->cfg, at(f, "cs.ini"), &err), ==, CS_OK);
  memset(&f->worker, 0, sizeof f->worker);
  snprintf(f->worker.exe, sizeof f->worker.exe, "%s", CS_STANDIN_WORKER);
  memset(&f->env, 0, sizeof f->env);
  f->env.cfg = &f->cfg;
  f->env.worker = &f->worker;
  f->env.host = "standin.test";
  f->env.name = "renewed.pem";
}

/* split: the connector is a service certsteward stops and starts (the systemctl
 * stand-in); else an admin's restart command restarts it in one go. */
static void setup(fx_t *f, int split) {
  char ini[4096], script[2048], restart[2600];
  cs_err_t err;
  memset(f, 0, sizeof *f);
  f->split = split;
  cs_test_mkdtemp("cs-renewal", f->dir, sizeof f->dir);
  CHECK_INT(cs_plat_mkdirs(at(f, "store"), 0700, &err), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(at(f, "state"), 0700, &err), ==, CS_OK);
  cs_test_put_str(at(f, "store/cert.pem"), old_cert);
  cs_test_put_str(at(f, "store/key.pem"), old_key);
  cs_test_put_str(at(f, "tls.json"), old_tls);
  cs_test_put_str(at(f, "served"), old_cert); /* the connector runs, on the old certificate */
  cs_test_put_str(at(f, "renewed.pem"), new_cert);
  if (split)
    snprintf(restart, sizeof restart, "service = cs-test-connector\n");
  else /* the restart command: the store's certificate is what is served now */
    snprintf(restart, sizeof restart, "restart_command = cp '%s' '%s'\n", at(f, "store/cert.pem"), at(f, "served"));
  snprintf(ini, sizeof ini,
           "[connector]\nhost = standin.test\nendpoints = 127.0.0.1:9\nbinding_files = %s\n"
           "status_command = test -e '%s'\nrestart_timeout = 2\n%s\n"
           "[store]\nstate_dir = %s\ncert_file = %s\nkey_file = %s\n",
           at(f, "tls.json"), at(f, "served"), restart, at(f, "state"), at(f, "store/cert.pem"), at(f, "store/key.pem"));
  cs_test_put_str(at(f, "cs.ini"), ini);
  /* systemctl as the split plan asks it (common/posix/service.c); a start of a running
   * unit does nothing, a restart starts it anew */
  snprintf(script, sizeof script,
           "#!/bin/sh\nD='%s'\ncase $1 in\nshow) echo loaded ;;\n"
           "is-active) if [ -e \"$D/served\" ]; then echo active; else echo inactive; exit 3; fi ;;\n"
           "stop) rm -f \"$D/served\"; echo stop >>\"$D/systemctl.log\" ;;\n"
           "start) [ -e \"$D/served\" ] || cp \"$D/store/cert.pem\" \"$D/served\"; echo start >>\"$D/systemctl.log\" ;;\n"
           "restart) cp \"$D/store/cert.pem\" \"$D/served\"; echo restart >>\"$D/systemctl.log\" ;;\n"
           "*) exit 1 ;;\nesac\n",
           f->dir);
  cs_test_put_str(at(f, "systemctl"), script);
  CHECK_INT(chmod(at(f, "systemctl"), 0700), ==, 0);
  set_env("CERTSTEWARD_TEST_SYSTEMCTL", at(f, "systemctl"));
  set_env("CS_STANDIN_SERVED", at(f, "served"));
  open_events(f);
  load(f);
}

static void fault(const char *point, const char *mode, const char *run) {
  set_env("CERTSTEWARD_TEST_FAULT", point);
  set_env("CERTSTEWARD_TEST_FAULT_MODE", mode);
  set_env("CERTSTEWARD_TEST_FAULT_RUN", run);
}

static void teardown(fx_t *f) {
  cs_err_t err;
  fault(NULL, NULL, NULL);
  cs_events_close();
  cs_renewal_result_free(&f->res);
  cs_config_free(&f->cfg);
  CHECK_INT(cs_plat_remove_tree(f->dir, &err), ==, CS_OK);
}

static char *slurp(const char *path) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  char *s;
  if (cs_plat_read_file(path, 1u << 20, 0, &data, &len, &err) != CS_OK)
    return NULL;
  if ((s = malloc(len + 1)) != NULL) {
    memcpy(s, data, len);
    s[len] = '\0';
  }
  cs_plat_free_file(data, len);
  return s;
}

/* `last` (what `status` shows) says result and step. */
static void last_says(const fx_t *f, const char *result, const char *step) {
  char want[128], *last = slurp(at(f, "state/last"));
  snprintf(want, sizeof want, "result %s\n", result);
  CHECK_CONTAINS(last, want);
  snprintf(want, sizeof want, "\nstep %s\n", step);
  CHECK_CONTAINS(last, want);
  free(last);
}

static void no_transaction_left(const fx_t *f) {
  CHECK(!cs_plat_exists(at(f, "state/journal")));
  CHECK(!cs_plat_exists(at(f, "state/tx")));
}

/* The old certificate in service, byte for byte, and nothing of the new one. */
static void old_in_service(const fx_t *f) {
  cs_test_file_is_str(at(f, "store/cert.pem"), old_cert);
  cs_test_file_is_str(at(f, "store/key.pem"), old_key);
  cs_test_file_is_str(at(f, "tls.json"), old_tls);
  cs_test_file_is_str(at(f, "served"), old_cert);
  no_transaction_left(f);
}

static void new_in_service(const fx_t *f) {
  char *tls = slurp(at(f, "tls.json"));
  cs_test_file_is_str(at(f, "store/cert.pem"), new_cert);
  cs_test_file_is_str(at(f, "served"), new_cert);
  CHECK_CONTAINS(tls, "\"thumbprint\": \"" NEW_TP "\"");
  CHECK_CONTAINS(tls, "\"thumbprint\": \"00112233445566778899aabbccddeeff00112233\"");
  free(tls);
  cs_test_file_is_str(at(f, "state/archive/" OLD_TP "/cert.pem"), old_cert);
  cs_test_file_is_str(at(f, "state/archive/" OLD_TP "/key.pem"), old_key);
  no_transaction_left(f);
}

static int run(fx_t *f, unsigned flags) {
  cs_renewal_result_free(&f->res);
  return cs_renewal_run(&f->env, at(f, "renewed.pem"), flags, &f->res);
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
    setup(&f, split);
    snprintf(point, sizeof point, "step_%s", cs_step_name(failing[i]));
    fault(point, "fail", NULL);
    CHECK_INT(run(&f, 0), ==, CS_OK);
    if (f.res.outcome != CS_OUT_ROLLED_BACK || f.res.step != failing[i])
      cs_test_fail(__FILE__, __LINE__, "%s: %s at %s (%s)", point, cs_outcome_name(f.res.outcome),
                   cs_step_name(f.res.step), f.res.err.text);
    CHECK_CONTAINS(f.res.err.text, point);
    CHECK_STR(f.res.old_tp, OLD_TP);
    CHECK_STR(f.res.new_tp, NEW_TP);
    old_in_service(&f);
    last_says(&f, "rolled-back", cs_step_name(failing[i]));
    cs_events_close();
    events = slurp(at(&f, "events.jsonl"));
    CHECK_CONTAINS(events, point); /* the rollback's events say why */
    free(events);
    teardown(&f);
  }
}

CS_TEST(every_step_of_the_split_plan_fails_and_rolls_back) { every_step_fails(1); }

CS_TEST(every_step_of_the_restart_plan_fails_and_rolls_back) { every_step_fails(0); }

CS_TEST(commit) {
  fx_t f;
  char *log;
  int split;
  for (split = 0; split <= 1; split++) {
    setup(&f, split);
    CHECK_INT(run(&f, 0), ==, CS_OK);
    CHECK_STR(cs_outcome_name(f.res.outcome), "committed");
    CHECK_INT(f.res.step, ==, CS_STEP_NONE);
    new_in_service(&f);
    last_says(&f, "committed", "");
    log = slurp(at(&f, "systemctl.log"));
    if (split) /* stopped while its files changed, then started as a new process */
      CHECK_STR(log, "stop\nrestart\n");
    else
      CHECK(log == NULL);
    free(log);
    teardown(&f);
  }
}

CS_TEST(dry_run_changes_nothing) {
  fx_t f;
  setup(&f, 1);
  CHECK_INT(run(&f, CS_RENEW_DRY_RUN), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "valid");
  CHECK_INT(f.res.step, ==, CS_STEP_NONE);
  CHECK_STR(f.res.new_tp, NEW_TP);
  old_in_service(&f);
  CHECK(!cs_plat_exists(at(&f, "state/last")));
  CHECK(!cs_plat_exists(at(&f, "systemctl.log")));
  teardown(&f);
}

CS_TEST(rejected_file_changes_nothing) {
  fx_t f;
  setup(&f, 0);
  cs_test_put_str(at(&f, "renewed.pem"), "thumbprint " NEW_TP "\nreject\n");
  CHECK_INT(run(&f, 0), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "rejected");
  CHECK_INT(f.res.step, ==, CS_STEP_VALIDATE);
  CHECK_STR(cs_step_name(f.res.step), "validate");
  old_in_service(&f);
  teardown(&f);
}

/* A crash at point: the whole folder as it was there (copied by the fault point's
 * command while the renewal ran on to its end) replaces the folder, and the
 * configuration is read again: what a restart after a crash at point finds. */
static void crashed_at(fx_t *f, const char *point) {
  char cmd[4096], snap[1100];
  cs_err_t err;
  snprintf(snap, sizeof snap, "%s.crash", f->dir);
  snprintf(cmd, sizeof cmd, "cp -a '%s' '%s'", f->dir, snap);
  fault(point, NULL, cmd);
  CHECK_INT(run(f, 0), ==, CS_OK);
  fault(NULL, NULL, NULL);
  CHECK_STR(cs_outcome_name(f->res.outcome), "committed");
  cs_events_close();
  cs_config_free(&f->cfg);
  CHECK_INT(cs_plat_remove_tree(f->dir, &err), ==, CS_OK);
  CHECK_INT(rename(snap, f->dir), ==, 0);
  CHECK(cs_plat_exists(at(f, "state/journal")));
  open_events(f);
  load(f);
}

static void set_journal(fx_t *f, const char *state, const char *step_name) {
  cs_journal_t j;
  cs_err_t err;
  CHECK_INT(cs_journal_read(at(f, "state/journal"), &j, &err), ==, CS_OK);
  if (state != NULL)
    snprintf(j.state, sizeof j.state, "%s", state);
  if (step_name != NULL) {
    free(j.step_name);
    j.step_name = cs_strdup(step_name);
  }
  CHECK_INT(cs_journal_write(at(f, "state/journal"), &j, &err), ==, CS_OK);
  cs_journal_free(&j);
}

static int recover(fx_t *f) {
  cs_renewal_result_free(&f->res);
  return cs_renewal_recover(&f->env, &f->res);
}

CS_TEST(recovery_of_a_running_journal_rolls_back) {
  fx_t f;
  int split;
  for (split = 0; split <= 1; split++) {
    setup(&f, split);
    /* split: stopped, the files rewritten; restart: restarted on the new certificate */
    crashed_at(&f, split ? "after_bindings" : "after_restart");
    CHECK_INT(recover(&f), ==, CS_OK);
    CHECK_STR(cs_outcome_name(f.res.outcome), "rolled-back");
    CHECK_STR(cs_step_name(f.res.step), split ? "bindings" : "restart");
    CHECK_CONTAINS(f.res.err.text, "interrupted at step");
    old_in_service(&f);
    last_says(&f, "rolled-back", split ? "bindings" : "restart");
    teardown(&f);
  }
}

CS_TEST(recovery_of_a_rolling_back_journal_rolls_back) {
  fx_t f;
  setup(&f, 0);
  crashed_at(&f, "after_restart");
  set_journal(&f, CS_TX_ROLLING_BACK, NULL);
  CHECK_INT(recover(&f), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "rolled-back");
  CHECK_INT(f.res.step, ==, CS_STEP_RESTART);
  old_in_service(&f);
  last_says(&f, "rolled-back", "restart");
  teardown(&f);
}

CS_TEST(recovery_of_a_committed_journal_completes) {
  fx_t f;
  setup(&f, 1);
  crashed_at(&f, "after_commit");
  CHECK_INT(recover(&f), ==, CS_OK);
  CHECK_STR(cs_outcome_name(f.res.outcome), "committed");
  new_in_service(&f);
  last_says(&f, "committed", "");
  teardown(&f);
}

/* A journal naming a step this certsteward does not know, or one its plan does not
 * have: nothing is undone (the new files stay, the journal too), the error says why. */
CS_TEST(recovery_refuses_a_step_it_does_not_know) {
  static const char *const names[] = {"reload", "stop"};
  fx_t f;
  size_t i;
  for (i = 0; i < 2; i++) {
    setup(&f, 0);
    crashed_at(&f, "after_restart");
    set_journal(&f, NULL, names[i]);
    CHECK_INT(recover(&f), !=, CS_OK);
    CHECK_STR(cs_outcome_name(f.res.outcome), "error");
    CHECK_INT(f.res.step, ==, CS_STEP_RECOVER);
    CHECK_CONTAINS(f.res.err.text, i == 0 ? "does not know: \"reload\"" : "step stop is not in its plan");
    CHECK_CONTAINS(f.res.err.text, "nothing was undone");
    cs_test_file_is_str(at(&f, "store/cert.pem"), new_cert);
    cs_test_file_is_str(at(&f, "served"), new_cert);
    CHECK(cs_plat_exists(at(&f, "state/journal")));
    teardown(&f);
  }
}

/* The journal written at each step names it (what a recovery goes by). */
CS_TEST(journal_names_the_step_started) {
  fx_t f;
  cs_journal_t j;
  cs_err_t err;
  setup(&f, 1);
  crashed_at(&f, "after_stop");
  CHECK_INT(cs_journal_read(at(&f, "state/journal"), &j, &err), ==, CS_OK);
  CHECK_STR(j.step_name, "stop");
  CHECK_INT(j.step, ==, 3);
  CHECK_STR(j.plan, "install grant stop bindings start probe");
  cs_journal_free(&j);
  teardown(&f);
}

/* The probes' deadlines: a clock that goes forward with the time slept. */
CS_TEST(monotonic_clock_goes_forward) {
  long long a = cs_plat_monotonic_ms(), b;
  cs_plat_sleep_ms(30);
  b = cs_plat_monotonic_ms();
  CHECK(a > 0);
  CHECK_INT(b - a, >=, 29);
  CHECK_INT(b - a, <, 5000);
}
