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
#define CS__WIN_FAILURE_RESTARTS 2         /* restart twice after a failure, then stop */
#define CS__WIN_FAILURE_RESTART_MS 60000   /* each restart a minute after the failure */
#define CS__WIN_FAILURE_RESET_S 86400      /* a day without failure resets the count */

/* What the failure actions fa of certsteward's service are worth (a pure decision):
 * CS_DOCTOR_OK when the first action restarts the service (the restarts counted in
 * why), CS_DOCTOR_FAIL when a failure is followed by no restart, or fa is NULL. */
cs_doctor_outcome_t cs__win_failure_actions_judge(const SERVICE_FAILURE_ACTIONSW *fa, char *why, size_t len);

/* Stops the service and waits until the SCM says it is STOPPED, at most timeout_ms.
 * A service already stopped is fine; CS_ENOENT when there is no such service. */
int cs__win_service_stop(const char *service, int timeout_ms, cs_err_t *err);

#endif
