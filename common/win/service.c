/* Windows half of platform.h: service control through the Service Control Manager.
 * A restart is a stop (wait until STOPPED) and a start (wait until RUNNING), both
 * under the caller's deadline; a service found stopped is only started, one in a
 * pending state is first let settle. A start that ends in STOPPED is reported with
 * the service's exit code (dwWin32ExitCode, or dwServiceSpecificExitCode).
 * The admin's restart_command / status_command replace this, as on POSIX
 * (common/service_cmd.c).
 * Proven under Wine (tests/unit/test_win_service.c, with tests/support/win_testsvc.c):
 * create, start, stop, restart, exit codes of a failed start, a missing service.
 * Only real Windows proves the access checks (a caller without SERVICE_STOP /
 * SERVICE_START on the connector: Wine grants everything) and dependent services. */
#include "../platform.h"
#include "../service_cmd.h"
#include "svc.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 50
#define NAME_MAX_SHOWN 200 /* a service name in a message, at most */

long long cs__service_now_ms(void) { return (long long)GetTickCount64(); }

typedef struct svc_s {
  SC_HANDLE scm, svc;
  const char *name;
} svc_t;

static void svc_close(svc_t *s) {
  if (s->svc != NULL)
    CloseServiceHandle(s->svc);
  if (s->scm != NULL)
    CloseServiceHandle(s->scm);
  s->svc = s->scm = NULL;
}

/* CS_ENOENT (with err set) when there is no such service. */
static int svc_open(svc_t *s, const char *name, DWORD access, cs_err_t *err) {
  wchar_t *w = NULL;
  char what[NAME_MAX_SHOWN + 64];
  DWORD e;
  int rc = CS_OK;

  memset(s, 0, sizeof *s);
  s->name = name;
  if (name == NULL || *name == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no service name");
  if ((w = cs__win_wide(name)) == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "the service name %.*s is not valid UTF-8, or out of memory", NAME_MAX_SHOWN,
                      name);
  if ((s->scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
    rc = cs__win_fail(err, GetLastError(), "cannot connect to the Service Control Manager");
    goto out;
  }
  if ((s->svc = OpenServiceW(s->scm, w, access)) == NULL) {
    e = GetLastError();
    if (e == ERROR_SERVICE_DOES_NOT_EXIST || e == ERROR_INVALID_NAME) {
      rc = cs_err_set(err, CS_ENOENT, (long)e,
                      "there is no service named %.*s (the service name is wanted, as \"sc.exe query\" shows it "
                      "after SERVICE_NAME, not the display name)",
                      NAME_MAX_SHOWN, name);
    } else {
      snprintf(what, sizeof what, "cannot open service %.*s", NAME_MAX_SHOWN, name);
      rc = cs__win_fail(err, e, what);
    }
  }
out:
  free(w);
  if (rc != CS_OK)
    svc_close(s);
  return rc;
}

int cs_plat_service_exists(const char *service, cs_err_t *err) {
  svc_t s;
  int rc = svc_open(&s, service, SERVICE_QUERY_STATUS, err);
  svc_close(&s);
  return rc == CS_OK ? 1 : rc == CS_ENOENT ? 0 : rc;
}

static const char *state_name(DWORD state) {
  switch (state) {
  case SERVICE_STOPPED: return "stopped";
  case SERVICE_START_PENDING: return "starting (start pending)";
  case SERVICE_STOP_PENDING: return "stopping (stop pending)";
  case SERVICE_RUNNING: return "running";
  case SERVICE_CONTINUE_PENDING: return "resuming (continue pending)";
  case SERVICE_PAUSE_PENDING: return "pausing (pause pending)";
  case SERVICE_PAUSED: return "paused";
  default: return "in an unknown state";
  }
}

static int pending(DWORD state) {
  return state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING || state == SERVICE_CONTINUE_PENDING ||
         state == SERVICE_PAUSE_PENDING;
}

static int query(const svc_t *s, SERVICE_STATUS_PROCESS *st, cs_err_t *err) {
  char what[NAME_MAX_SHOWN + 64];
  DWORD n = 0;
  if (QueryServiceStatusEx(s->svc, SC_STATUS_PROCESS_INFO, (BYTE *)st, sizeof *st, &n))
    return CS_OK;
  snprintf(what, sizeof what, "cannot ask the state of service %.*s", NAME_MAX_SHOWN, s->name);
  return cs__win_fail(err, GetLastError(), what);
}

static void pause_until(long long deadline) {
  long long left = deadline - cs__service_now_ms();
  if (left > 0)
    cs_plat_sleep_ms((int)(left < POLL_MS ? left : POLL_MS));
}

/* Polls while the service is in a pending state; st receives the settled one.
 * doing: "stop", "start" for the timeout message. */
static int wait_settled(const svc_t *s, const char *doing, long long deadline, int budget_ms,
                        SERVICE_STATUS_PROCESS *st, cs_err_t *err) {
  int rc;
  for (;;) {
    if ((rc = query(s, st, err)) != CS_OK || !pending(st->dwCurrentState))
      return rc;
    if (cs__service_now_ms() >= deadline)
      return cs_err_set(err, CS_ETIMEDOUT, 0, "service %.*s did not %s within %d ms: it is still %s", NAME_MAX_SHOWN,
                        s->name, doing, budget_ms, state_name(st->dwCurrentState));
    pause_until(deadline);
  }
}

/* Until STOPPED: a stop request while it runs or is paused, then the wait. */
static int stop_wait(const svc_t *s, long long deadline, int budget_ms, cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  SERVICE_STATUS ss;
  char what[NAME_MAX_SHOWN + 64];
  DWORD e;
  int rc;

  for (;;) {
    if ((rc = wait_settled(s, "stop", deadline, budget_ms, &st, err)) != CS_OK)
      return rc;
    if (st.dwCurrentState == SERVICE_STOPPED)
      return CS_OK;
    if (cs__service_now_ms() >= deadline)
      return cs_err_set(err, CS_ETIMEDOUT, 0, "service %.*s did not stop within %d ms: it is still %s", NAME_MAX_SHOWN,
                        s->name, budget_ms, state_name(st.dwCurrentState));
    if (ControlService(s->svc, SERVICE_CONTROL_STOP, &ss)) {
      if (ss.dwCurrentState != SERVICE_STOPPED)
        pause_until(deadline); /* the next look sees it stopping, or asks again */
      continue;
    }
    e = GetLastError();
    if (e == ERROR_SERVICE_NOT_ACTIVE) /* it stopped meanwhile */
      continue;
    if (e == ERROR_SERVICE_CANNOT_ACCEPT_CTRL) { /* between states: ask again in a moment */
      pause_until(deadline);
      continue;
    }
    if (e == ERROR_DEPENDENT_SERVICES_RUNNING)
      snprintf(what, sizeof what,
               "cannot stop service %.*s: other running services depend on it (stop them first, or set "
               "restart_command)",
               NAME_MAX_SHOWN, s->name);
    else
      snprintf(what, sizeof what, "cannot stop service %.*s", NAME_MAX_SHOWN, s->name);
    return cs__win_fail(err, e, what);
  }
}

/* What a service that stopped during its start said about it. */
static int start_failed(const svc_t *s, const SERVICE_STATUS_PROCESS *st, cs_err_t *err) {
  char text[256];
  DWORD code = st->dwWin32ExitCode;
  if (code == ERROR_SERVICE_SPECIFIC_ERROR)
    return cs_err_set(err, CS_EFAILED, (long)st->dwServiceSpecificExitCode,
                      "service %.*s stopped while starting, with its own (service-specific) exit code %lu; "
                      "its event log entries say why",
                      NAME_MAX_SHOWN, s->name, (unsigned long)st->dwServiceSpecificExitCode);
  if (code != NO_ERROR)
    return cs_err_set(err, CS_EFAILED, (long)code, "service %.*s stopped while starting, with exit code %lu: %s",
                      NAME_MAX_SHOWN, s->name, (unsigned long)code, cs__win_text(code, text, sizeof text));
  return cs_err_set(err, CS_EFAILED, 0, "service %.*s stopped as soon as it started, with exit code 0",
                    NAME_MAX_SHOWN, s->name);
}

/* Start, then wait until RUNNING. StartService itself returns once the service's
 * process has taken the start request, which the SCM bounds (about 30 s), not we. */
static int start_wait(const svc_t *s, long long deadline, int budget_ms, cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  char what[NAME_MAX_SHOWN + 64], text[256];
  DWORD e;
  int rc;

  if (!StartServiceW(s->svc, 0, NULL) && (e = GetLastError()) != ERROR_SERVICE_ALREADY_RUNNING) {
    snprintf(what, sizeof what, "cannot start service %.*s", NAME_MAX_SHOWN, s->name);
    return cs_err_set(err, e == ERROR_ACCESS_DENIED ? CS_EACCES : CS_EFAILED, (long)e, "%s: %s", what,
                      cs__win_text(e, text, sizeof text));
  }
  if ((rc = wait_settled(s, "start", deadline, budget_ms, &st, err)) != CS_OK)
    return rc;
  if (st.dwCurrentState == SERVICE_RUNNING)
    return CS_OK;
  if (st.dwCurrentState == SERVICE_STOPPED)
    return start_failed(s, &st, err);
  return cs_err_set(err, CS_EFAILED, 0, "service %.*s is %s after its start, not running", NAME_MAX_SHOWN, s->name,
                    state_name(st.dwCurrentState));
}

/* The SCM's way for cs__service_restart: it waits until RUNNING itself (no probe). */
static int scm_restart(void *ctx, const char *service, int left_ms, cs_err_t *err) {
  long long deadline = cs__service_now_ms() + left_ms;
  svc_t s;
  int rc;
  (void)ctx;
  if ((rc = svc_open(&s, service, SERVICE_QUERY_STATUS | SERVICE_START | SERVICE_STOP, err)) == CS_OK &&
      (rc = stop_wait(&s, deadline, left_ms, err)) == CS_OK)
    rc = start_wait(&s, deadline, left_ms, err);
  svc_close(&s);
  return rc;
}

int cs_plat_service_restart(const char *service, const char *restart_command, const char *status_command,
                            int timeout_ms, cs_err_t *err) {
  cs__svc_way_t way = {scm_restart, NULL, NULL};
  return cs__service_restart(service, restart_command, status_command, timeout_ms, &way, err);
}

int cs__win_service_stop(const char *service, int timeout_ms, cs_err_t *err) {
  svc_t s;
  int rc;
  if ((rc = svc_open(&s, service, SERVICE_QUERY_STATUS | SERVICE_STOP, err)) == CS_OK)
    rc = stop_wait(&s, cs__service_now_ms() + timeout_ms, timeout_ms, err);
  svc_close(&s);
  return rc;
}
