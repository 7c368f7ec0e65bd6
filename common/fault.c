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

void cs_fault_point(const char *point) {
  const char *want = getenv("CERTSTEWARD_TEST_FAULT"), *cond, *run;
  size_t n = strlen(point);
  long nth = 0, count;
  int and_after = 0;
  char *end;

  if (want == NULL || strncmp(want, point, n) != 0)
    return;
  if (want[n] == '@') {
    nth = strtol(want + n + 1, &end, 10);
    and_after = *end == '+';
    if (nth < 1 || (*end != '\0' && strcmp(end, "+") != 0))
      return; /* a malformed count arms nothing */
  } else if (want[n] != '\0') {
    return; /* another point that starts with this name */
  }
  if ((cond = getenv("CERTSTEWARD_TEST_FAULT_IF")) != NULL && !cs_plat_exists(cond))
    return; /* not armed yet */
  count = reached();
  if (nth > 0 && (and_after ? count < nth : count != nth))
    return;
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

#endif
