/* common/txplan.c and common/journal.c: the renewal's plan (which steps, in which
 * order), what a rollback undoes after each step of each plan, and journals of both
 * versions read back (version 1, written before the plan was kept, stands for the
 * plan install grant bindings restart probe; another version is refused). */
#include "cs_test.h"

#include <stdio.h>
#include <string.h>

#include "journal.h"
#include "platform.h"
#include "txplan.h"

static const char *formatted(const cs_plan_t *p) {
  static char buf[128];
  cs_plan_format(p, buf, sizeof buf);
  return buf;
}

/* The rollback as one line: "[stop] undo... bringup" */
static const char *decided(const cs_plan_t *p, int step, int split_now) {
  static const char *const bringup[] = {"none", "ensure", "start", "restart"};
  static char buf[640];
  cs_rollback_t rb;
  cs_err_t err;
  size_t used;
  int i;
  if (cs_plan_rollback(p, step, split_now, &rb, &err) != CS_OK) {
    snprintf(buf, sizeof buf, "error: %s", err.text);
    return buf;
  }
  used = (size_t)snprintf(buf, sizeof buf, "%s", rb.stop_first ? "stop " : "");
  for (i = 0; i < rb.n_undo; i++)
    used += (size_t)snprintf(buf + used, sizeof buf - used, "undo-%s ", cs_step_name(rb.undo[i]));
  snprintf(buf + used, sizeof buf - used, "%s", bringup[rb.bringup]);
  return buf;
}

CS_TEST(plans_by_configuration) {
  cs_plan_t p;
  cs_plan_for(1, &p);
  CHECK_STR(formatted(&p), "install grant stop bindings start probe");
  cs_plan_for(0, &p);
  CHECK_STR(formatted(&p), "install grant bindings restart probe");
}

/* The service stopped while its files change: after the stop, every rollback stops it
 * (again) before the files go back and starts it after; a stop that failed is only
 * followed by a start where it no longer runs. */
CS_TEST(split_plan_rollback_per_step) {
  cs_plan_t p;
  cs_plan_for(1, &p);
  CHECK_STR(decided(&p, 0, 1), "none");
  CHECK_STR(decided(&p, 1, 1), "undo-install none");
  CHECK_STR(decided(&p, 2, 1), "undo-install none");
  CHECK_STR(decided(&p, 3, 1), "undo-install ensure");
  CHECK_STR(decided(&p, 4, 1), "stop undo-bindings undo-install start");
  CHECK_STR(decided(&p, 5, 1), "stop undo-bindings undo-install start");
  CHECK_STR(decided(&p, 6, 1), "stop undo-bindings undo-install start");
  /* the configuration names a restart command now: files back, then the command */
  CHECK_STR(decided(&p, 3, 0), "undo-install restart");
  CHECK_STR(decided(&p, 5, 0), "undo-bindings undo-install restart");
  CHECK_CONTAINS(decided(&p, 7, 1), "error: the journal's step 7 is not one of its 6 steps");
  CHECK_CONTAINS(decided(&p, -1, 1), "error:");
}

/* A restart command: today's order, and the one plan of a version 1 journal, whose
 * step numbers must mean what they meant then. */
CS_TEST(restart_plan_and_version_1_journal_rollback) {
  cs_plan_t p, v1;
  cs_err_t err;
  cs_plan_for(0, &p);
  CHECK_INT(cs_plan_parse(NULL, &v1, &err), ==, CS_OK);
  CHECK_STR(formatted(&v1), "install grant bindings restart probe");
  CHECK_INT(memcmp(&p, &v1, sizeof p), ==, 0);
  CHECK_STR(decided(&v1, 2, 1), "undo-install none");
  CHECK_STR(decided(&v1, 3, 1), "undo-bindings undo-install none");
  CHECK_STR(decided(&v1, 4, 1), "undo-bindings undo-install restart");
  CHECK_STR(decided(&v1, 5, 0), "undo-bindings undo-install restart");
  CHECK_CONTAINS(decided(&v1, 6, 1), "error:");
}

CS_TEST(plan_parse_refuses_what_it_does_not_know) {
  cs_plan_t p;
  cs_err_t err;
  CHECK_INT(cs_plan_parse("install grant stop bindings start probe", &p, &err), ==, CS_OK);
  CHECK_INT(p.n, ==, 6);
  CHECK_INT(p.step[2], ==, CS_STEP_STOP);
  CHECK_INT(cs_plan_parse("install reload probe", &p, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "does not know: \"reload\"");
  CHECK_INT(cs_plan_parse("install install", &p, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "twice");
  CHECK_INT(cs_plan_parse("  ", &p, &err), ==, CS_EFORMAT);
  CHECK_INT(cs_plan_parse("install grant stop bindings start restart probe install", &p, &err), ==, CS_EFORMAT);
}

static void put(const char *path, const char *text) {
  cs_err_t err;
  CHECK_INT(cs_plat_write_atomic(path, text, strlen(text), 0600, &err), ==, CS_OK);
}

CS_TEST(journal_versions) {
  char dir[1024];
  const char *path;
  char plan[] = "install grant stop bindings start probe", deps[] = "svc-a/svc b", txdir[] = "tx";
  cs_journal_t j, back;
  cs_err_t err;
  cs_test_mkdtemp("cs-journal", dir, sizeof dir);
  path = cs_test_join(dir, "journal");

  /* written: version 2, with the plan and the services stopped with the connector */
  memset(&j, 0, sizeof j);
  snprintf(j.state, sizeof j.state, "%s", CS_TX_RUNNING);
  j.step = 4;
  j.plan = plan;
  j.dependents = deps;
  j.txdir = txdir;
  CHECK_INT(cs_journal_write(path, &j, &err), ==, CS_OK);
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_INT(back.version, ==, 2);
  CHECK_STR(back.plan, j.plan);
  CHECK_STR(back.dependents, "svc-a/svc b");
  CHECK_INT(back.step, ==, 4);
  cs_journal_free(&back);

  /* version 1 (as the previous certsteward wrote it): no plan, read as such */
  put(path, "certsteward-journal 1\nstate running\nstep 3\nold 3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9\n"
            "txdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK_INT(back.version, ==, 1);
  CHECK(back.plan == NULL);
  CHECK_INT(back.step, ==, 3);
  cs_journal_free(&back);
  /* a plan line in a version 1 journal is not believed */
  put(path, "certsteward-journal 1\nstate running\nplan install stop\nstep 3\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_OK);
  CHECK(back.plan == NULL);
  cs_journal_free(&back);
  /* version 2 without its plan: damaged */
  put(path, "certsteward-journal 2\nstate running\nstep 3\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "incomplete or damaged");
  /* a later version: refused, with what to do */
  put(path, "certsteward-journal 3\nstate running\nstep 3\ntxdir tx\nend\n");
  CHECK_INT(cs_journal_read(path, &back, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "another version of certsteward");
  CHECK_INT(cs_plat_remove_tree(dir, &err), ==, CS_OK);
}
