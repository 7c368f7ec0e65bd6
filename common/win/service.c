/* Windows half of platform.h: service control through the Service Control Manager.
 * A stop asks the services that depend on the service and run to stop first (in the
 * order EnumDependentServices gives), then the service, and waits until the SCM says
 * STOPPED and then until the service's own process has exited: a service reports
 * STOPPED before its process ends, and until then the old process may still hold its
 * ports and its files. A start remembers which process ran before, so that "already
 * running" counts only for a new one; the dependents stopped are started again in the
 * reverse order. A restart is both; a service found stopped is only started, one in a
 * pending state is first let settle. Everything is under the caller's one deadline. A
 * start that ends in STOPPED is reported with the service's exit code
 * (dwWin32ExitCode, or dwServiceSpecificExitCode).
 * The admin's restart_command / status_command replace this, as on POSIX
 * (common/service_cmd.c).
 * Proven under Wine (tests/unit/test_win_service.c, with tests/support/win_testsvc.c):
 * create, start, stop, restart, exit codes of a failed start, a missing service, a
 * dependent service stopped and started again, a process that lingers after it
 * reported STOPPED. Only real Windows proves the access checks (a caller without
 * SERVICE_STOP / SERVICE_START / SERVICE_ENUMERATE_DEPENDENTS on the connector: Wine
 * grants everything), the listing of the running dependents (Wine's
 * EnumDependentServicesW succeeds and lists none) and the SCM's own refusal to stop a
 * service whose dependents run (Wine stops it); under Wine the stop and start of a
 * given list of dependents is proven, and the "already running" rule as a pure
 * decision (cs__win_new_process_runs). */
#include "../platform.h"
#include "../service_cmd.h"
#include "../text.h"
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
  case SERVICE_STOPPED:
    return "stopped";
  case SERVICE_START_PENDING:
    return "starting (start pending)";
  case SERVICE_STOP_PENDING:
    return "stopping (stop pending)";
  case SERVICE_RUNNING:
    return "running";
  case SERVICE_CONTINUE_PENDING:
    return "resuming (continue pending)";
  case SERVICE_PAUSE_PENDING:
    return "pausing (pause pending)";
  case SERVICE_PAUSED:
    return "paused";
  default:
    return "in an unknown state";
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

/* The process of a service (st), opened to wait for its end: *proc NULL when there is
 * none to wait for (no process, one that is gone already, or one shared with other
 * services, which does not end with this one). Opened before the stop, so that the
 * handle names that very process even if its id is reused later. */
static int hold_process(const svc_t *s, const SERVICE_STATUS_PROCESS *st, HANDLE *proc, cs_err_t *err) {
  DWORD e;
  *proc = NULL;
  if (st->dwProcessId == 0 || st->dwCurrentState == SERVICE_STOPPED || !(st->dwServiceType & SERVICE_WIN32_OWN_PROCESS))
    return CS_OK;
  if ((*proc = OpenProcess(SYNCHRONIZE, FALSE, st->dwProcessId)) != NULL)
    return CS_OK;
  if ((e = GetLastError()) == ERROR_INVALID_PARAMETER) /* no such process: it has ended */
    return CS_OK;
  return cs__win_failf(err, e, "cannot watch the process (id %lu) of service %.*s", (unsigned long)st->dwProcessId,
                       NAME_MAX_SHOWN, s->name);
}

/* Waits until the process held by hold_process has ended. */
static int wait_exit(const svc_t *s, HANDLE proc, DWORD pid, long long deadline, int budget_ms, cs_err_t *err) {
  long long left = deadline - cs__service_now_ms();
  DWORD r;
  if (proc == NULL)
    return CS_OK;
  r = WaitForSingleObject(proc, left > 0 ? (DWORD)left : 0);
  if (r == WAIT_OBJECT_0)
    return CS_OK;
  if (r == WAIT_TIMEOUT)
    return cs_err_set(err, CS_ETIMEDOUT, 0,
                      "service %.*s reported stopped, but its process (id %lu) had not ended within %d ms",
                      NAME_MAX_SHOWN, s->name, (unsigned long)pid, budget_ms);
  return cs__win_failf(err, GetLastError(), "cannot wait for the process (id %lu) of service %.*s", (unsigned long)pid,
                       NAME_MAX_SHOWN, s->name);
}

/* Until STOPPED and its process has ended: a stop request while it runs or is paused,
 * then the wait. *old_pid (may be NULL): the process that ran, 0 when none. */
static int stop_wait(const svc_t *s, long long deadline, int budget_ms, DWORD *old_pid, cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  SERVICE_STATUS ss;
  HANDLE proc = NULL;
  DWORD e, pid = 0;
  int rc;

  if ((rc = query(s, &st, err)) != CS_OK || (rc = hold_process(s, &st, &proc, err)) != CS_OK)
    goto out;
  if (st.dwCurrentState != SERVICE_STOPPED)
    pid = st.dwProcessId;
  for (;;) {
    if ((rc = wait_settled(s, "stop", deadline, budget_ms, &st, err)) != CS_OK)
      goto out;
    if (st.dwCurrentState == SERVICE_STOPPED)
      break;
    if (cs__service_now_ms() >= deadline) {
      rc = cs_err_set(err, CS_ETIMEDOUT, 0, "service %.*s did not stop within %d ms: it is still %s", NAME_MAX_SHOWN,
                      s->name, budget_ms, state_name(st.dwCurrentState));
      goto out;
    }
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
      rc = cs__win_failf(err, e, "cannot stop service %.*s: a service that depends on it was started meanwhile",
                         NAME_MAX_SHOWN, s->name);
    else
      rc = cs__win_failf(err, e, "cannot stop service %.*s", NAME_MAX_SHOWN, s->name);
    goto out;
  }
  rc = wait_exit(s, proc, pid, deadline, budget_ms, err);
out:
  if (proc != NULL)
    CloseHandle(proc);
  if (old_pid != NULL)
    *old_pid = pid;
  return rc;
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
  return cs_err_set(err, CS_EFAILED, 0, "service %.*s stopped as soon as it started, with exit code 0", NAME_MAX_SHOWN,
                    s->name);
}

int cs__win_new_process_runs(DWORD state, DWORD pid, DWORD old_pid) {
  return pid != 0 && pid != old_pid && state != SERVICE_STOPPED && state != SERVICE_STOP_PENDING;
}

/* Start, then wait until RUNNING. StartService itself returns once the service's
 * process has taken the start request, which the SCM bounds (about 30 s), not we.
 * "Already running" counts only when a process other than old_pid (the one that ran
 * before; 0: none) runs it: someone else started it after ours had ended. */
static int start_wait(const svc_t *s, DWORD old_pid, long long deadline, int budget_ms, cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  char text[256];
  DWORD e;
  int rc;

  if (!StartServiceW(s->svc, 0, NULL)) {
    e = GetLastError();
    if (e != ERROR_SERVICE_ALREADY_RUNNING)
      return cs_err_set(err, e == ERROR_ACCESS_DENIED ? CS_EACCES : CS_EFAILED, (long)e,
                        "cannot start service %.*s: %s", NAME_MAX_SHOWN, s->name, cs__win_text(e, text, sizeof text));
    if ((rc = query(s, &st, err)) != CS_OK)
      return rc;
    if (!cs__win_new_process_runs(st.dwCurrentState, st.dwProcessId, old_pid))
      return cs_err_set(err, CS_EFAILED, (long)e,
                        "service %.*s cannot be started: the SCM says it is already running, yet it is %s in "
                        "process %lu (the one before the restart: %lu), with exit code %lu",
                        NAME_MAX_SHOWN, s->name, state_name(st.dwCurrentState), (unsigned long)st.dwProcessId,
                        (unsigned long)old_pid, (unsigned long)st.dwWin32ExitCode);
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

/* Running, by a start when it is stopped; one that runs, or is on its way, is left so. */
static int ensure_running(const svc_t *s, long long deadline, int budget_ms, cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  int rc;
  if ((rc = wait_settled(s, "settle", deadline, budget_ms, &st, err)) != CS_OK)
    return rc;
  if (st.dwCurrentState == SERVICE_RUNNING)
    return CS_OK;
  if (st.dwCurrentState == SERVICE_PAUSED)
    return cs_err_set(err, CS_EFAILED, 0, "service %.*s is paused, not running", NAME_MAX_SHOWN, s->name);
  return start_wait(s, 0, deadline, budget_ms, err);
}

/* ---- dependent services ------------------------------------------------------------- */

/* The running dependents of s as "name\n" lines appended to b, in the order to stop them. */
static int list_dependents(const svc_t *s, cs_buf_t *b, cs_err_t *err) {
  ENUM_SERVICE_STATUSW *deps = NULL;
  DWORD need = 0, n = 0, i, e;
  int rc = CS_OK;

  if (EnumDependentServicesW(s->svc, SERVICE_ACTIVE, NULL, 0, &need, &n))
    return CS_OK; /* none */
  if ((e = GetLastError()) != ERROR_MORE_DATA)
    return cs__win_failf(err, e, "cannot list the services that depend on %.*s", NAME_MAX_SHOWN, s->name);
  if ((deps = malloc(need)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (!EnumDependentServicesW(s->svc, SERVICE_ACTIVE, deps, need, &need, &n)) {
    rc = cs__win_failf(err, GetLastError(), "cannot list the services that depend on %.*s", NAME_MAX_SHOWN, s->name);
    goto out;
  }
  for (i = 0; i < n; i++) {
    char *name = cs__win_utf8(deps[i].lpServiceName);
    if (name == NULL || strchr(name, '\n') != NULL) {
      free(name);
      rc = cs_err_set(err, CS_ENOMEM, 0, "a service that depends on %.*s has a name that cannot be kept",
                      NAME_MAX_SHOWN, s->name);
      goto out;
    }
    cs_buf_printf(b, "%s\n", name);
    free(name);
  }
  if (b->oom)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
out:
  free(deps);
  return rc;
}

/* Splits "a\nb\n" into a new array of pointers into a new copy (*copy); *n names. */
static int split_names(const char *names, char **copy, char ***v, size_t *n, cs_err_t *err) {
  size_t cap = 1, k = 0;
  const char *c;
  char *p;
  *copy = NULL;
  *v = NULL;
  *n = 0;
  if (names == NULL || *names == '\0')
    return CS_OK;
  for (c = names; *c; c++)
    cap += *c == '\n';
  if ((*copy = cs_strdup(names)) == NULL || (*v = calloc(cap, sizeof **v)) == NULL) {
    free(*copy);
    *copy = NULL;
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  for (p = *copy; *p != '\0';) { /* not strtok: renewals run on the daemon's worker threads */
    char *end = strchr(p, '\n');
    if (end != NULL)
      *end = '\0';
    if (*p != '\0')
      (*v)[k++] = p;
    p = end != NULL ? end + 1 : p + strlen(p);
  }
  *n = k;
  return CS_OK;
}

/* Stops each service of names, in that order; one that no longer exists is fine. */
static int stop_names(const char *names, long long deadline, int budget_ms, cs_err_t *err) {
  char *copy, **v;
  size_t n, i;
  svc_t d;
  int rc = split_names(names, &copy, &v, &n, err);
  for (i = 0; rc == CS_OK && i < n; i++) {
    if ((rc = svc_open(&d, v[i], SERVICE_QUERY_STATUS | SERVICE_STOP, err)) == CS_OK)
      rc = stop_wait(&d, deadline, budget_ms, NULL, err);
    else if (rc == CS_ENOENT)
      rc = CS_OK;
    svc_close(&d);
  }
  free(v);
  free(copy);
  return rc;
}

/* Starts each service of names that is not running, last first; goes on past a
 * failure and returns the first. */
static int start_names(const char *names, long long deadline, int budget_ms, cs_err_t *err) {
  char *copy, **v;
  size_t n, i;
  cs_err_t e;
  svc_t d;
  int rc = split_names(names, &copy, &v, &n, err), r;
  for (i = n; rc == CS_OK && i > 0; i--) {
    if ((r = svc_open(&d, v[i - 1], SERVICE_QUERY_STATUS | SERVICE_START, &e)) == CS_OK)
      r = ensure_running(&d, deadline, budget_ms, &e);
    svc_close(&d);
    if (r != CS_OK && r != CS_ENOENT && rc == CS_OK)
      rc = cs_err_set(err, r, e.raw, "%s", e.text);
  }
  free(v);
  free(copy);
  return rc;
}

/* ---- platform.h ------------------------------------------------------------------------ */

/* The start for cs_plat_service_start and the restart: with fresh, a service that runs
 * is stopped first with its running dependents, and a new process is asked for; then
 * the dependents (those given and those stopped here) are started again. */
static int cycle(const char *service, const char *dependents, int fresh, long long deadline, int budget_ms,
                 cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  cs_buf_t now = CS_BUF_INIT;
  DWORD old_pid = 0;
  svc_t s;
  int rc;

  rc = svc_open(&s, service, SERVICE_QUERY_STATUS | SERVICE_START | SERVICE_STOP | SERVICE_ENUMERATE_DEPENDENTS, err);
  if (rc != CS_OK)
    goto out;
  if (!fresh) {
    rc = ensure_running(&s, deadline, budget_ms, err);
  } else {
    if ((rc = query(&s, &st, err)) != CS_OK)
      goto out;
    if (st.dwCurrentState != SERVICE_STOPPED && ((rc = list_dependents(&s, &now, err)) != CS_OK ||
                                                 (rc = stop_names(now.p, deadline, budget_ms, err)) != CS_OK ||
                                                 (rc = stop_wait(&s, deadline, budget_ms, &old_pid, err)) != CS_OK))
      goto out;
    rc = start_wait(&s, old_pid, deadline, budget_ms, err);
  }
  if (rc == CS_OK && (rc = start_names(now.p, deadline, budget_ms, err)) == CS_OK)
    rc = start_names(dependents, deadline, budget_ms, err);
out:
  svc_close(&s);
  cs_buf_free(&now);
  return rc;
}

/* The SCM's way for cs__service_restart: it waits until RUNNING itself (no probe). */
static int scm_restart(void *ctx, const char *service, int left_ms, cs_err_t *err) {
  (void)ctx;
  return cycle(service, NULL, 1, cs__service_now_ms() + left_ms, left_ms, err);
}

int cs_plat_service_restart(const char *service, const char *restart_command, const char *status_command,
                            int timeout_ms, cs_err_t *err) {
  cs__svc_way_t way = {scm_restart, NULL, NULL};
  return cs__service_restart(service, restart_command, status_command, timeout_ms, &way, err);
}

int cs_plat_service_dependents(const char *service, char **names, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  svc_t s;
  int rc;
  *names = NULL;
  if ((rc = svc_open(&s, service, SERVICE_QUERY_STATUS | SERVICE_ENUMERATE_DEPENDENTS, err)) == CS_OK &&
      (rc = list_dependents(&s, &b, err)) == CS_OK) {
    *names = cs_strdup(b.p != NULL ? b.p : "");
    if (*names == NULL)
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  svc_close(&s);
  cs_buf_free(&b);
  return rc;
}

int cs_plat_service_stop(const char *service, const char *dependents, int timeout_ms, cs_err_t *err) {
  long long deadline = cs__service_now_ms() + timeout_ms;
  svc_t s;
  int rc;
  if (timeout_ms <= 0)
    return cs_err_set(err, CS_EINVAL, 0, "no time given to stop %s", service ? service : "the service");
  if ((rc = stop_names(dependents, deadline, timeout_ms, err)) != CS_OK)
    return rc;
  if ((rc = svc_open(&s, service, SERVICE_QUERY_STATUS | SERVICE_STOP, err)) == CS_OK)
    rc = stop_wait(&s, deadline, timeout_ms, NULL, err);
  svc_close(&s);
  return rc;
}

int cs_plat_service_start(const char *service, const char *dependents, const char *status_command, int fresh,
                          int timeout_ms, cs_err_t *err) {
  long long deadline = cs__service_now_ms() + timeout_ms;
  int rc;
  if (timeout_ms <= 0)
    return cs_err_set(err, CS_EINVAL, 0, "no time given to start %s", service ? service : "the service");
  if ((rc = cycle(service, dependents, fresh, deadline, timeout_ms, err)) != CS_OK)
    return rc;
  return cs__service_wait_running(NULL, service, status_command, deadline, timeout_ms, err);
}

int cs__win_service_stop(const char *service, int timeout_ms, cs_err_t *err) {
  svc_t s;
  int rc;
  if ((rc = svc_open(&s, service, SERVICE_QUERY_STATUS | SERVICE_STOP, err)) == CS_OK)
    rc = stop_wait(&s, cs__service_now_ms() + timeout_ms, timeout_ms, NULL, err);
  svc_close(&s);
  return rc;
}
