/* certsteward's service: failure actions and exit codes (svcconf.h).
 *
 * SERVICE_FAILURE_ACTIONS: "when the service fails for the Nth time, the service
 * controller performs the action in element N-1; if N is greater than cActions, it
 * repeats the last action" (ChangeServiceConfig2, SERVICE_FAILURE_ACTIONS). Three
 * restarts repeated the third for ever; restart, restart, none stops after the second
 * restart, until dwResetPeriod seconds pass without a failure.
 *
 * SERVICE_FAILURE_ACTIONS_FLAG.fFailureActionsOnNonCrashFailures is TRUE: the actions
 * are queued not only when the process ends without reporting SERVICE_STOPPED (a
 * crash, a kill) but also when it reports SERVICE_STOPPED with a dwWin32ExitCode other
 * than 0. Every way the service ends on its own then counts the same: a start that
 * failed for a passing reason (the state folder's lock still held, a worker that could
 * not start, memory) is tried again twice, a minute apart, and so is a configuration
 * that is not valid or not safe, which an administrator may be correcting; after the
 * second restart the last action, none, holds until a day passes without a failure.
 * With FALSE a passing start failure would have left renewals off until someone
 * noticed. The service ends itself with SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR
 * and a documented code, which the SCM logs (event 7024 in the System log) beside
 * certsteward's own event. Wine keeps none of these settings (ChangeServiceConfig2
 * returns TRUE and stores nothing): that the SCM acts so is proven only on Windows. */
#include "svcconf.h"

#include <string.h>

void cs__win_failure_actions(SERVICE_FAILURE_ACTIONSW *fa, SC_ACTION actions[3], SERVICE_FAILURE_ACTIONS_FLAG *flag) {
  actions[0].Type = SC_ACTION_RESTART;
  actions[0].Delay = CS_SVC_RESTART_MS;
  actions[1].Type = SC_ACTION_RESTART;
  actions[1].Delay = CS_SVC_RESTART_MS;
  actions[2].Type = SC_ACTION_NONE; /* the last: repeated for every later failure */
  actions[2].Delay = 0;
  memset(fa, 0, sizeof *fa);
  fa->dwResetPeriod = CS_SVC_RESET_S;
  fa->lpRebootMsg = NULL; /* NULL: left as it is; no reboot action here */
  fa->lpCommand = NULL;
  fa->cActions = 3;
  fa->lpsaActions = actions;
  flag->fFailureActionsOnNonCrashFailures = TRUE;
}

void cs__win_service_exit(int rc, int config_failed, DWORD *win32, DWORD *specific) {
  if (rc == 0 && !config_failed) {
    *win32 = NO_ERROR;
    *specific = 0;
    return;
  }
  *win32 = ERROR_SERVICE_SPECIFIC_ERROR;
  *specific = config_failed ? CS_SVC_EXIT_CONFIG : CS_SVC_EXIT_START;
}
