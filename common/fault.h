/* Crash points for the tests (tests/integration/crash.sh): a build with CS_TEST_HOOKS
 * kills itself at a named point when CERTSTEWARD_TEST_FAULT names it, so a test can
 * stop the daemon or a worker at an exact step boundary and check the recovery.
 * Without CS_TEST_HOOKS (every release build) the functions do nothing.
 *
 * CERTSTEWARD_TEST_FAULT = POINT       every time POINT is reached
 *                        | POINT@N     only the N-th time (1-based)
 *                        | POINT@N+    the N-th time and every time after
 * The count is kept in the file CERTSTEWARD_TEST_FAULT_COUNTER when that is set (one
 * byte per time reached, so it counts across processes: the workers), else in the
 * process. With CERTSTEWARD_TEST_FAULT_IF set, the point is armed only while that
 * file exists (a test's restart command can create it: "from the restart on").
 * With CERTSTEWARD_TEST_FAULT_RUN set to a command, the point does not kill: the
 * command runs through the system shell and waits to its end, then the process carries
 * on (a test makes a race deterministic: another account swaps a file at that step).
 * With CERTSTEWARD_TEST_FAULT_MODE=fail, a point asked with cs_fault_fail neither kills
 * nor runs: it answers an error, as if the work that follows it had failed (a test
 * makes any step of the renewal fail, in process, and checks the rollback); a point
 * that cannot fail (cs_fault_point) does nothing in that mode.
 * A point is a fixed name, or a prefix joined to a name or a number
 * ("after_" + "install", "bindings_write:" + 1). */
#ifndef CS_FAULT_H
#define CS_FAULT_H

#include <stddef.h>

#include "error.h"

void cs_fault_point(const char *point);
/* As cs_fault_point, and in the fail mode: CS_EFAILED with err saying which point
 * failed. 0 otherwise (always, in a release build). */
int cs_fault_fail(const char *point, cs_err_t *err);
int cs_fault_fail2(const char *prefix, const char *name, cs_err_t *err);
void cs_fault_point2(const char *prefix, const char *name);
void cs_fault_point_n(const char *prefix, size_t n);

#endif
