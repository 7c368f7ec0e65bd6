/* Service control shared by the Windows half (common/win/service.c, doctor.c) and
 * certsteward uninstall (service/winsvc.c); not part of platform.h. */
#ifndef CS_WIN_SVC_H
#define CS_WIN_SVC_H

#include <windows.h>

#include "../error.h"
#include "../platform.h"

/* certsteward's own service, as certsteward install sets it up and certsteward doctor
 * expects it: one place for both. */
#define CS__WIN_SERVICE_NAME "certsteward"
#define CS__WIN_EVENT_SOURCE_KEY L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\certsteward"

/* What the failure actions fa of certsteward's service are worth (a pure decision):
 * CS_DOCTOR_OK when they are what certsteward install sets (svcconf.h), CS_DOCTOR_WARN
 * when the first action restarts the service but the rest differ (an admin's choice,
 * or a restart that never stops), CS_DOCTOR_FAIL when a failure is followed by no
 * restart, or fa is NULL. why: the restarts counted, and what differs. */
cs_doctor_outcome_t cs__win_failure_actions_judge(const SERVICE_FAILURE_ACTIONSW *fa, char *why, size_t len);

/* Stops the service and waits until the SCM says it is STOPPED, at most timeout_ms.
 * A service already stopped is fine; CS_ENOENT when there is no such service. */
int cs__win_service_stop(const char *service, int timeout_ms, cs_err_t *err);

/* The SCM answered ERROR_SERVICE_ALREADY_RUNNING to a start after a stop: 1 when that
 * counts as started, that is when the service (state, pid now) runs or starts in a
 * process other than old_pid, the one that ran before the stop (0: none). */
int cs__win_new_process_runs(DWORD state, DWORD pid, DWORD old_pid);

#endif
