/* Service control shared by the Windows half (common/win/service.c) and
 * certsteward uninstall (service/winsvc.c); not part of platform.h. */
#ifndef CS_WIN_SVC_H
#define CS_WIN_SVC_H

#include <windows.h>

#include "../error.h"

/* Stops the service and waits until the SCM says it is STOPPED, at most timeout_ms.
 * A service already stopped is fine; CS_ENOENT when there is no such service. */
int cs__win_service_stop(const char *service, int timeout_ms, cs_err_t *err);

/* The SCM answered ERROR_SERVICE_ALREADY_RUNNING to a start after a stop: 1 when that
 * counts as started, that is when the service (state, pid now) runs or starts in a
 * process other than old_pid, the one that ran before the stop (0: none). */
int cs__win_new_process_runs(DWORD state, DWORD pid, DWORD old_pid);

#endif
