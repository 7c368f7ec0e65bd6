/* Windows half of the connector's service settings (platform.h): what the Service
 * Control Manager holds for the connector, read with QueryServiceConfigW (Microsoft's
 * documentation: a handle with SERVICE_QUERY_CONFIG; the size first asked with a NULL
 * buffer, which fails with ERROR_INSUFFICIENT_BUFFER; at most 8 KiB). The SCM returns
 * what is stored in the registry (the ImagePath unexpanded), which connector.c judges.
 * Proven under Wine (tests/unit/test_win_connector.c): the start name and command line
 * a service was created with, a missing service. Only real Windows proves the access
 * check (SERVICE_QUERY_CONFIG is granted to Administrators and SYSTEM by the SCM's
 * default security; Wine grants everything). */
#include "../platform.h"
#include "win.h"

#include <stdlib.h>
#include <string.h>

#define NAME_MAX_SHOWN 200

int cs_plat_service_config(const char *service, char **start_name, char **image_path, cs_err_t *err) {
  QUERY_SERVICE_CONFIGW *qc = NULL;
  SC_HANDLE scm = NULL, svc = NULL;
  wchar_t *w = NULL;
  DWORD need = 0, e;
  int rc = CS_OK;

  *start_name = NULL;
  *image_path = NULL;
  if (service == NULL || service[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no service name");
  if ((w = cs__win_wide(service)) == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "the service name is not valid UTF-8, or out of memory");
  if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
    rc = cs__win_fail(err, GetLastError(), "cannot connect to the Service Control Manager");
    goto out;
  }
  if ((svc = OpenServiceW(scm, w, SERVICE_QUERY_CONFIG)) == NULL) {
    e = GetLastError();
    if (e == ERROR_SERVICE_DOES_NOT_EXIST || e == ERROR_INVALID_NAME)
      rc = cs_err_set(err, CS_ENOENT, (long)e, "there is no service named %.*s", NAME_MAX_SHOWN, service);
    else
      rc = cs__win_failf(err, e, "cannot open the service %.*s", NAME_MAX_SHOWN, service);
    goto out;
  }
  if (!QueryServiceConfigW(svc, NULL, 0, &need) && (e = GetLastError()) != ERROR_INSUFFICIENT_BUFFER) {
    rc = cs__win_failf(err, e, "cannot read the settings of the service %.*s", NAME_MAX_SHOWN, service);
    goto out;
  }
  if (need < sizeof *qc) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "the service manager gave no settings for the service %.*s", NAME_MAX_SHOWN,
                    service);
    goto out;
  }
  if ((qc = malloc(need)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if (!QueryServiceConfigW(svc, qc, need, &need)) {
    rc = cs__win_failf(err, GetLastError(), "cannot read the settings of the service %.*s", NAME_MAX_SHOWN, service);
    goto out;
  }
  if ((qc->lpServiceStartName != NULL && qc->lpServiceStartName[0] != L'\0' &&
       (*start_name = cs__win_utf8(qc->lpServiceStartName)) == NULL) ||
      (qc->lpBinaryPathName != NULL && (*image_path = cs__win_utf8(qc->lpBinaryPathName)) == NULL))
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
out:
  if (rc != CS_OK) {
    free(*start_name);
    free(*image_path);
    *start_name = *image_path = NULL;
  }
  free(qc);
  free(w);
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  return rc;
}
