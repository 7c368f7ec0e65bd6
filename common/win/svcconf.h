/* What certsteward install configures on its service for failures, and how the service
 * ends (svcconf.c): pure, so that tests read the very values install sets. */
#ifndef CS_WIN_SVCCONF_H
#define CS_WIN_SVCCONF_H

#include <windows.h>

#define CS_SVC_RESTART_MS 60000 /* a restart after a crash waits a minute */
#define CS_SVC_RESET_S 86400    /* a day without a crash and the count starts again */

/* The service-specific exit codes (SERVICE_STATUS.dwServiceSpecificExitCode, with
 * dwWin32ExitCode ERROR_SERVICE_SPECIFIC_ERROR); the README's Windows section lists them. */
#define CS_SVC_EXIT_START 2  /* could not start: state folder, lock, worker (event 1006 says which) */
#define CS_SVC_EXIT_CONFIG 3 /* the configuration is not valid or not safe (event 1002 or 1009) */

/* The failure actions: restart, restart, then nothing, the count reset after
 * CS_SVC_RESET_S; actions (3 entries) is what fa points to. */
void cs__win_failure_actions(SERVICE_FAILURE_ACTIONSW *fa, SC_ACTION actions[3], SERVICE_FAILURE_ACTIONS_FLAG *flag);

/* How the service reports its end: the daemon's exit status rc (0: stopped as asked),
 * config_failed when it ended on its configuration. */
void cs__win_service_exit(int rc, int config_failed, DWORD *win32, DWORD *specific);

#endif
