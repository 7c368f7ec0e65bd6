/* common/journal.c: the renewal journal written and read back, field by field; what
 * is not a whole journal of a known version refused; the plan and the last step
 * started found from it (cs_journal_plan), by the step's name where the journal keeps
 * one, by its index in a journal of the versions before (1: no plan; 2 without the
 * name); a name not known or not in the plan refused, so that nothing is undone from
 * a journal that is not understood. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "platform.h"
#include "text.h"
#include "txplan.h"

static char dir[1024];

static const char *journal_path(void) {
  cs_test_mkdtemp("cs-journal", dir, sizeof dir);
  return cs_test_join(dir, "journal");
}

static void done(void) {
  cs_err_t err;
  CHECK_INT(cs_plat_remove_tree(dir, &err), ==, CS_OK);
}

/* The journal of a renewal of the split plan, stopped at its bindings. */
static void sample(cs_journal_t *j) {
  static char plan[] = "install grant stop bindings start probe", step[] = "bindings", file[] = "renewed.pfx",
              subject[] = "CN=board.example.com, O=Example", txdir[] = "/var/lib/certsteward/tx", failed[] = "start",
              reason[] = "the service did not start", deps[] = "svc-a/svc b";
  memset(j, 0, sizeof *j);
  snprintf(j->state, sizeof j->state, "%s", CS_TX_ROLLING_BACK);
  j->plan = plan;
  j->step = 4;
  j->step_name = step;
  snprintf(j->old_tp, sizeof j->old_tp, "%s", "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9");
  snprintf(j->new_tp, sizeof j->new_tp, "%s", "00112233445566778899AABBCCDDEEFF00112233");
  j->started = 1767225600LL;
  j->file = file;
  j->subject = subject;
  j->txdir = txdir;
  j->failed_step = failed;
  j->reason = reason;
  j->dependents = deps;
}

CS_TEST(round_trip_of_every_field) {
  const char *path = journal_path();
  cs_journal_t j, back;
  cs_plan_t p;
  cs_err_t err;
  int step = -1;
  sample(&j);
  CHECK_INT(cs_journal_write(path, &j, &err), ==, CS_OK);
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_INT(back.version, ==, 2);
  CHECK_STR(back.state, j.state);
  CHECK_STR(back.plan, j.plan);
  CHECK_INT(back.step, ==, 4);
  CHECK_STR(back.step_name, "bindings");
  CHECK_STR(back.old_tp, j.old_tp);
  CHECK_STR(back.new_tp, j.new_tp);
  CHECK_INT(back.started, ==, 1767225600LL);
  CHECK_STR(back.file, j.file);
  CHECK_STR(back.subject, j.subject);
  CHECK_STR(back.txdir, j.txdir);
  CHECK_STR(back.failed_step, j.failed_step);
  CHECK_STR(back.reason, j.reason);
  CHECK_STR(back.dependents, j.dependents);
  CHECK_INT(cs_journal_plan(&back, &p, &step, &err), ==, CS_OK);
  CHECK_INT(step, ==, 4);
  CHECK_INT(p.step[step - 1], ==, CS_STEP_BINDINGS);
  cs_journal_free(&back);
  done();
}

/* A value cannot add a line of its own: a reason naming another state stays a reason. */
CS_TEST(value_with_a_line_break_stays_one_value) {
  const char *path = journal_path();
  char reason[] = "failed\nstate committed\nstep_name probe";
  cs_journal_t j, back;
  cs_err_t err;
  sample(&j);
  snprintf(j.state, sizeof j.state, "%s", CS_TX_RUNNING);
  j.reason = reason;
  CHECK_INT(cs_journal_write(path, &j, &err), ==, CS_OK);
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_STR(back.state, CS_TX_RUNNING);
  CHECK_STR(back.step_name, "bindings");
  CHECK(back.reason != NULL && strchr(back.reason, '\n') == NULL);
  CHECK_CONTAINS(back.reason, "state committed");
  cs_journal_free(&back);
  done();
}

/* Cut short anywhere before its last line, a journal is refused, never half read. */
CS_TEST(truncated_journal_refused) {
  const char *path = journal_path(), *cut = cs_test_join(dir, "cut");
  unsigned char *data = NULL;
  size_t len = 0, n;
  cs_journal_t j, back;
  cs_err_t err;
  sample(&j);
  CHECK_INT(cs_journal_write(path, &j, &err), ==, CS_OK);
  CHECK_INT(cs_plat_read_file(path, 1u << 16, 0, &data, &len, &err), ==, CS_OK);
  CHECK(len > 4 && memcmp(data + len - 4, "end\n", 4) == 0);
  for (n = 0; data != NULL && n + 1 < len; n++) {
    cs_test_put(cut, data, n);
    if (cs_journal_read(cut, &back, &err) != CS_EFORMAT)
      cs_test_fail(__FILE__, __LINE__, "a journal cut at %zu of %zu bytes was read", n, len);
    cs_journal_free(&back);
  }
  /* without its last newline only, it is whole */
  cs_test_put(cut, data, len - 1);
  CHECK_INT(cs_journal_read(cut, &back, &err), ==, CS_OK);
  cs_journal_free(&back);
  cs_plat_free_file(data, len);
  done();
}

CS_TEST(garbage_refused) {
  const char *path = journal_path();
  unsigned char junk[2048];
  unsigned x = 12345u;
  cs_journal_t back;
  cs_err_t err;
  size_t i, round;
  for (round = 0; round < 50; round++) {
    for (i = 0; i < sizeof junk; i++)
      junk[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 16);
    cs_test_put(path, junk, 1 + (round * 41) % sizeof junk);
    CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
    cs_journal_free(&back);
  }
  /* the right first line, then no key it knows, or a step that is not a number */
  cs_test_put_str(path, "certsteward-journal 2\n\x01\x02\xff garbage\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "incomplete or damaged");
  cs_test_put_str(path, "certsteward-journal 2\nstate running\nplan install\nstep 1x\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "step is not a number");
  cs_test_put_str(path, "certsteward-journal 2\nstate running\nplan install\nstep 99999999999\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  done();
}

/* Version 1 (before the plan was kept): its one plan, the step by its index. */
CS_TEST(version_1_journal_read) {
  const char *path = journal_path();
  cs_journal_t back;
  cs_plan_t p;
  cs_err_t err;
  int step = -1;
  cs_test_put_str(path, "certsteward-journal 1\nstate running\nstep 3\nold 3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9\n"
                        "txdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_INT(back.version, ==, 1);
  CHECK(back.plan == NULL && back.step_name == NULL);
  CHECK_INT(cs_journal_plan(&back, &p, &step, &err), ==, CS_OK);
  CHECK_INT(p.n, ==, 5);
  CHECK_INT(step, ==, 3);
  CHECK_INT(p.step[step - 1], ==, CS_STEP_BINDINGS);
  cs_journal_free(&back);
  /* a step name in a version 1 journal is not believed: that version had none */
  cs_test_put_str(path, "certsteward-journal 1\nstate running\nstep 2\nstep_name probe\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK(back.step_name == NULL);
  CHECK_INT(cs_journal_plan(&back, &p, &step, &err), ==, CS_OK);
  CHECK_INT(p.step[step - 1], ==, CS_STEP_GRANT);
  cs_journal_free(&back);
  done();
}

/* Version 2 as written before the step's name was kept: the step by its index. */
CS_TEST(version_2_journal_without_step_name_read) {
  const char *path = journal_path();
  cs_journal_t back;
  cs_plan_t p;
  cs_err_t err;
  int step = -1;
  cs_test_put_str(path, "certsteward-journal 2\nstate running\nplan install grant stop bindings start probe\nstep 5\n"
                        "txdir tx\ndependents a/b\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_INT(back.version, ==, 2);
  CHECK(back.step_name == NULL);
  CHECK_INT(cs_journal_plan(&back, &p, &step, &err), ==, CS_OK);
  CHECK_INT(step, ==, 5);
  CHECK_INT(p.step[step - 1], ==, CS_STEP_START);
  cs_journal_free(&back);
  /* none started yet */
  cs_test_put_str(path, "certsteward-journal 2\nstate running\nplan install grant bindings restart probe\nstep 0\n"
                        "txdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_INT(cs_journal_plan(&back, &p, &step, &err), ==, CS_OK);
  CHECK_INT(step, ==, 0);
  cs_journal_free(&back);
  done();
}

CS_TEST(unknown_version_refused) {
  const char *path = journal_path();
  cs_journal_t back;
  cs_err_t err;
  cs_test_put_str(path,
                  "certsteward-journal 3\nstate running\nplan install\nstep 1\nstep_name install\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "another version of certsteward");
  cs_test_put_str(path, "certsteward-journal 0\nstate running\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "another version of certsteward");
  cs_test_put_str(path, "some-other-journal 2\nstate running\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  done();
}

/* plan_text, index, name: what cs_journal_plan answers (0 or the error's text). */
static const char *plan_of(const char *plan, int step, const char *name) {
  static char buf[600];
  char *plan_copy = plan ? cs_strdup(plan) : NULL, *name_copy = name ? cs_strdup(name) : NULL;
  cs_journal_t j;
  cs_plan_t p;
  cs_err_t err;
  int at = -1;
  memset(&j, 0, sizeof j);
  j.version = plan ? 2 : 1;
  j.plan = plan_copy;
  j.step = step;
  j.step_name = name_copy;
  if (cs_journal_plan(&j, &p, &at, &err) == CS_OK)
    snprintf(buf, sizeof buf, "step %d %s", at, at > 0 ? cs_step_name(p.step[at - 1]) : "-");
  else
    snprintf(buf, sizeof buf, "error: %s", err.text);
  free(plan_copy);
  free(name_copy);
  return buf;
}

CS_TEST(unknown_step_name_refused) {
  CHECK_STR(plan_of("install grant bindings restart probe", 4, "restart"), "step 4 restart");
  CHECK_CONTAINS(plan_of("install grant bindings restart probe", 4, "reload"),
                 "error: the journal names a step this certsteward does not know: \"reload\"");
  /* a phase outside every plan is never a step of one */
  CHECK_CONTAINS(plan_of("install grant bindings restart probe", 4, "commit"), "does not know: \"commit\"");
  CHECK_CONTAINS(plan_of("install grant bindings restart probe", 4, ""), "does not know");
  /* nor is a plan that names a phase */
  CHECK_CONTAINS(plan_of("install validate probe", 1, "install"), "does not know: \"validate\"");
}

CS_TEST(step_outside_the_plan_refused) {
  /* by name: a step this plan does not have */
  CHECK_STR(plan_of("install grant bindings restart probe", 3, "stop"),
            "error: the journal's step stop is not in its plan (5 steps)");
  /* by index, in a journal without the name */
  CHECK_STR(plan_of("install grant stop bindings start probe", 7, NULL),
            "error: the journal's step 7 is not one of its 6 steps");
  CHECK_STR(plan_of(NULL, 6, NULL), "error: the journal's step 6 is not one of its 5 steps");
  CHECK_STR(plan_of(NULL, -1, NULL), "error: the journal's step -1 is not one of its 5 steps");
  /* name and index that say different steps: which was started is not known */
  CHECK_STR(plan_of("install grant stop bindings start probe", 3, "start"),
            "error: the journal's step start is step 5 of its plan, but its index says 3");
  CHECK_STR(plan_of("install grant stop bindings start probe", 5, "start"), "step 5 start");
}
