/* Service control shared by the Windows half (common/win/service.c) and
 * certsteward uninstall (service/winsvc.c); not part of platform.h. */
#ifndef CS_WIN_SVC_H
#define CS_WIN_SVC_H

#include "../error.h"

/* Stops the service and waits until the SCM says it is STOPPED, at most timeout_ms.
 * A service already stopped is fine; CS_ENOENT when there is no such service. */
int cs__win_service_stop(const char *service, int timeout_ms, cs_err_t *err);

#endif
