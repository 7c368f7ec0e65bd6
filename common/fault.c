/* Test-build crash points (see fault.h). Nothing here runs in a release build. */
#include "fault.h"

#ifdef CS_TEST_HOOKS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

/* How many times the armed point was reached, this time included. */
static long reached(void) {
  static long in_process;
  const char *path = getenv("CERTSTEWARD_TEST_FAULT_COUNTER");
  FILE *f;
  long before;
  if (path == NULL || *path == '\0')
    return ++in_process;
  if ((f = cs_plat_fopen(path, "a+b")) == NULL)
    return ++in_process;
  before = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : 0;
  (void)fputc('x', f);
  (void)fclose(f);
  return (before < 0 ? 0 : before) + 1;
}

/* Whether point is the armed one and is due this time (its count in *count). */
static int due(const char *point, long *count) {
  const char *want = getenv("CERTSTEWARD_TEST_FAULT"), *cond;
  size_t n = strlen(point);
  long nth = 0;
  int and_after = 0;
  char *end;

  if (want == NULL || strncmp(want, point, n) != 0)
    return 0;
  if (want[n] == '@') {
    nth = strtol(want + n + 1, &end, 10);
    and_after = *end == '+';
    if (nth < 1 || (*end != '\0' && strcmp(end, "+") != 0))
      return 0; /* a malformed count arms nothing */
  } else if (want[n] != '\0') {
    return 0; /* another point that starts with this name */
  }
  if ((cond = getenv("CERTSTEWARD_TEST_FAULT_IF")) != NULL && !cs_plat_exists(cond))
    return 0; /* not armed yet */
  *count = reached();
  return nth == 0 || (and_after ? *count >= nth : *count == nth);
}

static int fail_mode(void) {
  const char *mode = getenv("CERTSTEWARD_TEST_FAULT_MODE");
  return mode != NULL && strcmp(mode, "fail") == 0;
}

/* The kill, or the command of CERTSTEWARD_TEST_FAULT_RUN, at a point that is due. */
static void strike(const char *point, long count) {
  const char *run;
  if ((run = getenv("CERTSTEWARD_TEST_FAULT_RUN")) != NULL && *run != '\0') {
    /* Another account's move at this exact point (a race made deterministic): the
     * command runs to its end, then this process carries on. */
    fprintf(stderr, "certsteward: test fault point %s reached (time %ld): running %s\n", point, count, run);
    fflush(stderr);
    if (system(run) != 0)
      fprintf(stderr, "certsteward: test fault command at %s did not exit 0\n", point);
    return;
  }
  fprintf(stderr, "certsteward: test fault point %s reached (time %ld): killing this process\n", point, count);
  fflush(stderr);
#ifdef SIGKILL
  raise(SIGKILL); /* as `kill -KILL`: no handler, no clean-up, no buffered output */
#endif
  _Exit(137); /* no SIGKILL (Windows C runtime): exit at once, without clean-up */
}

void cs_fault_point(const char *point) {
  long count = 0;
  if (!fail_mode() && due(point, &count))
    strike(point, count);
}

int cs_fault_fail(const char *point, cs_err_t *err) {
  long count = 0;
  if (!due(point, &count))
    return CS_OK;
  if (!fail_mode()) {
    strike(point, count);
    return CS_OK;
  }
  return cs_err_set(err, CS_EFAILED, 0, "test fault point %s failed (time %ld)", point, count);
}

int cs_fault_fail2(const char *prefix, const char *name, cs_err_t *err) {
  char point[128];
  if (getenv("CERTSTEWARD_TEST_FAULT") == NULL)
    return CS_OK;
  if (snprintf(point, sizeof point, "%s%s", prefix, name) < (int)sizeof point)
    return cs_fault_fail(point, err);
  return CS_OK;
}

void cs_fault_point2(const char *prefix, const char *name) {
  char point[128];
  if (getenv("CERTSTEWARD_TEST_FAULT") == NULL)
    return;
  if (snprintf(point, sizeof point, "%s%s", prefix, name) < (int)sizeof point)
    cs_fault_point(point);
}

void cs_fault_point_n(const char *prefix, size_t n) {
  char point[128];
  if (getenv("CERTSTEWARD_TEST_FAULT") == NULL)
    return;
  if (snprintf(point, sizeof point, "%s%zu", prefix, n) < (int)sizeof point)
    cs_fault_point(point);
}

#else /* release: the points compile to calls that do nothing */

void cs_fault_point(const char *point) { (void)point; }
void cs_fault_point2(const char *prefix, const char *name) {
  (void)prefix;
  (void)name;
}
void cs_fault_point_n(const char *prefix, size_t n) {
  (void)prefix;
  (void)n;
}
int cs_fault_fail(const char *point, cs_err_t *err) {
  (void)point;
  (void)err;
  return CS_OK;
}
int cs_fault_fail2(const char *prefix, const char *name, cs_err_t *err) {
  (void)prefix;
  (void)name;
  (void)err;
  return CS_OK;
}

#endif
