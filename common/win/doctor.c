/* Windows half of the readiness checks (platform.h, certsteward doctor): a service's
 * state, whether an account can read a certificate's key, the certificate's bytes,
 * the Event Log source and certsteward's own service settings. Everything is opened
 * for reading only.
 *
 * Under Wine (tests/unit/test_win_doctor.c, tests/integration/win_e2e.sh): service
 * states, the store, the event source's registry value and its message file are real.
 * Only real Windows proves the key access check (Wine's Authz is a stub and machine
 * keys cannot be opened) and the delayed start and failure actions (Wine's
 * QueryServiceConfig2 fails with ERROR_INVALID_LEVEL for them: a warning here). */
#include "../events.h"
#include "../platform.h"
#include "keyacl.h"
#include "store.h"
#include "svc.h"
#include "svcconf.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *state_name(DWORD s) {
  switch (s) {
  case SERVICE_STOPPED:
    return "stopped";
  case SERVICE_START_PENDING:
    return "starting";
  case SERVICE_STOP_PENDING:
    return "stopping";
  case SERVICE_RUNNING:
    return "running";
  case SERVICE_CONTINUE_PENDING:
    return "continuing";
  case SERVICE_PAUSE_PENDING:
    return "pausing";
  case SERVICE_PAUSED:
    return "paused";
  default:
    return "in an unknown state";
  }
}

/* Opens service with access; CS_ENOENT when there is none. */
static int open_service(const char *service, DWORD access, SC_HANDLE *scm, SC_HANDLE *svc, cs_err_t *err) {
  wchar_t *w = cs__win_wide(service);
  DWORD e;
  int rc = CS_OK;
  *scm = *svc = NULL;
  if (w == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "the service name is not valid UTF-8, or out of memory");
  if ((*scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL)
    rc = cs__win_fail(err, GetLastError(), "cannot connect to the Service Control Manager");
  else if ((*svc = OpenServiceW(*scm, w, access)) == NULL) {
    e = GetLastError();
    rc = e == ERROR_SERVICE_DOES_NOT_EXIST || e == ERROR_INVALID_NAME
             ? cs_err_set(err, CS_ENOENT, (long)e, "there is no service named %.200s", service)
             : cs__win_failf(err, e, "cannot open the service %.200s", service);
  }
  free(w);
  return rc;
}

static void close_service(SC_HANDLE scm, SC_HANDLE svc) {
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
}

int cs_plat_service_state(const char *service, char *state, size_t len, int *running, cs_err_t *err) {
  SERVICE_STATUS_PROCESS st;
  SC_HANDLE scm, svc;
  DWORD need = 0;
  int rc;

  *running = 0;
  snprintf(state, len, "%s", "");
  if (service == NULL || *service == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no service name");
  if ((rc = open_service(service, SERVICE_QUERY_STATUS, &scm, &svc, err)) == CS_OK) {
    if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st, sizeof st, &need))
      rc = cs__win_failf(err, GetLastError(), "cannot read the state of the service %.200s", service);
    else {
      snprintf(state, len, "%s", state_name(st.dwCurrentState));
      *running = st.dwCurrentState == SERVICE_RUNNING;
    }
  }
  close_service(scm, svc);
  return rc;
}

int cs_plat_key_readable(const char *key_ref, const char *account, int *readable, char *why, size_t len,
                         cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID sid = NULL;
  int rc;

  *readable = 0;
  snprintf(why, len, "%s", "");
  if ((rc = cs__win_account_sid(account, &sid, err)) == CS_OK && (rc = cs__win_key_sd(key_ref, &sd, err)) == CS_OK &&
      (rc = cs__win_key_readable_sd(sd, sid, readable, why, len, err)) == CS_OK) {
    char detail[600];
    snprintf(detail, sizeof detail, "%s %s READ the private key of %s: %s", account, *readable ? "can" : "cannot",
             key_ref, why);
    snprintf(why, len, "%s", detail);
  }
  free(sd);
  free(sid);
  return rc;
}

int cs_plat_store_cert(const char *tp, unsigned char **der, size_t *len, cs_err_t *err) {
  HCERTSTORE my;
  PCCERT_CONTEXT c;
  int rc = CS_OK;

  *der = NULL;
  *len = 0;
  my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                     CS__STORE_OPEN | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG, L"My");
  if (my == NULL)
    return cs__win_fail(err, GetLastError(), "cannot open the certificate store LocalMachine\\My");
  if ((c = cs__store_find(my, tp)) == NULL)
    rc = cs_err_set(err, CS_ENOENT, 0, "%.60s is not in LocalMachine\\My", tp);
  else if ((*der = malloc(c->cbCertEncoded)) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else {
    memcpy(*der, c->pbCertEncoded, c->cbCertEncoded);
    *len = c->cbCertEncoded;
  }
  cs__store_free_ctx(c);
  cs__store_close(my);
  return rc;
}

/* ---- the Event Log source ---------------------------------------------------------- */

/* The text of event id from the message table of file, its first line, into out. */
static int render(const wchar_t *file, int id, char *out, size_t len, cs_err_t *err) {
  const cs_event_def_t *def = cs_event_def(id);
  HMODULE h;
  wchar_t *text = NULL;
  char *u;
  DWORD n;
  int rc = CS_OK;

  if (def == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "event %d is not in the catalog", id);
  /* As a data file and an image resource: nothing of it runs, as Event Viewer reads it. */
  if ((h = LoadLibraryExW(file, NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE)) == NULL)
    return cs__win_fail(err, GetLastError(), "cannot open its message file");
  n = FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_IGNORE_INSERTS, h,
                     cs__win_event_message_id(def), 0, (LPWSTR)&text, 0, NULL);
  if (n == 0)
    rc = cs__win_failf(err, GetLastError(), "its message file has no text for event %d", id);
  else if ((u = cs__win_utf8(text)) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else {
    u[strcspn(u, "\r\n")] = '\0';
    snprintf(out, len, "%s", u);
    free(u);
  }
  LocalFree(text);
  FreeLibrary(h);
  return rc;
}

cs_doctor_outcome_t cs_plat_doctor_event_source(char *detail, size_t len) {
  wchar_t raw[MAX_PATH * 2], file[MAX_PATH * 2], self[MAX_PATH * 2];
  DWORD size = sizeof raw, n;
  char text[400], *path = NULL;
  cs_doctor_outcome_t o = CS_DOCTOR_FAIL;
  LSTATUS e;
  cs_err_t err;

  e = RegGetValueW(HKEY_LOCAL_MACHINE, CS__WIN_EVENT_SOURCE_KEY, L"EventMessageFile",
                   RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, NULL, raw, &size);
  if (e != ERROR_SUCCESS) {
    snprintf(detail, len, "the event source certsteward is not registered (%s): run certsteward install",
             cs__win_text((DWORD)e, text, sizeof text));
    return CS_DOCTOR_FAIL;
  }
  n = ExpandEnvironmentStringsW(raw, file, MAX_PATH * 2);
  if (n == 0 || n > MAX_PATH * 2 || (path = cs__win_utf8(file)) == NULL) {
    snprintf(detail, len, "the event source's message file cannot be read from the registry");
    goto out;
  }
  if (render(file, CS_EV_SERVICE_STARTED, text, sizeof text, &err) != CS_OK) {
    snprintf(detail, len, "the event source names %s: %s", path, err.text);
    goto out;
  }
  n = GetModuleFileNameW(NULL, self, MAX_PATH * 2);
  if (n == 0 || n >= MAX_PATH * 2 || CompareStringOrdinal(self, -1, file, -1, TRUE) != CSTR_EQUAL) {
    snprintf(detail, len,
             "the event source names %s, not this certsteward.exe (run certsteward install again "
             "after moving it); event 1000 there reads \"%s\"",
             path, text);
    o = CS_DOCTOR_WARN;
    goto out;
  }
  snprintf(detail, len, "registered; its message file %s renders event 1000: \"%s\"", path, text);
  o = CS_DOCTOR_OK;
out:
  free(path);
  return o;
}

/* ---- certsteward's own service ---------------------------------------------------- */

cs_doctor_outcome_t cs__win_failure_actions_judge(const SERVICE_FAILURE_ACTIONSW *fa, char *why, size_t len) {
  SERVICE_FAILURE_ACTIONSW want;
  SERVICE_FAILURE_ACTIONS_FLAG flag;
  SC_ACTION want_actions[3];
  DWORD i, restarts = 0, want_restarts = 0;
  int same;

  cs__win_failure_actions(&want, want_actions, &flag);
  for (i = 0; i < want.cActions && want.lpsaActions[i].Type == SC_ACTION_RESTART; i++)
    want_restarts++;
  if (fa == NULL || fa->cActions == 0 || fa->lpsaActions == NULL || fa->lpsaActions[0].Type != SC_ACTION_RESTART) {
    snprintf(why, len, "it is not restarted after a failure (certsteward install sets %lu restarts)",
             (unsigned long)want_restarts);
    return CS_DOCTOR_FAIL;
  }
  for (i = 0; i < fa->cActions && fa->lpsaActions[i].Type == SC_ACTION_RESTART; i++)
    restarts++;
  same = fa->cActions == want.cActions && fa->dwResetPeriod == want.dwResetPeriod;
  for (i = 0; same && i < fa->cActions; i++)
    same = fa->lpsaActions[i].Type == want.lpsaActions[i].Type && fa->lpsaActions[i].Delay == want.lpsaActions[i].Delay;
  snprintf(why, len, "restarted %lu time%s after a failure (%lu s after the first)%s%s", (unsigned long)restarts,
           restarts == 1 ? "" : "s", (unsigned long)(fa->lpsaActions[0].Delay / 1000),
           restarts < fa->cActions ? ", then left stopped"
                                   : ", the last action repeated: a service that cannot start is restarted forever",
           same ? "" : " (not what certsteward install sets: run it again to set them)");
  return same ? CS_DOCTOR_OK : CS_DOCTOR_WARN;
}

/* QueryServiceConfig2W of level into a new buffer (free()); the error code, 0 when read
 * (and only then: a failure whose GetLastError() is 0 is still a failure, never a NULL
 * buffer said to be read). */
static DWORD config2(SC_HANDLE svc, DWORD level, void **out) {
  DWORD need = 0, e;
  *out = NULL;
  if (!QueryServiceConfig2W(svc, level, NULL, 0, &need) && (e = GetLastError()) != ERROR_INSUFFICIENT_BUFFER)
    return e != 0 ? e : ERROR_GEN_FAILURE;
  if (need == 0 || (*out = malloc(need)) == NULL)
    return ERROR_NOT_ENOUGH_MEMORY;
  if (!QueryServiceConfig2W(svc, level, *out, need, &need)) {
    e = GetLastError();
    free(*out);
    *out = NULL;
    return e != 0 ? e : ERROR_GEN_FAILURE;
  }
  return 0;
}

cs_doctor_outcome_t cs_plat_doctor_own_service(char *detail, size_t len) {
  SERVICE_DELAYED_AUTO_START_INFO *delayed = NULL;
  SERVICE_FAILURE_ACTIONSW *fa = NULL;
  QUERY_SERVICE_CONFIGW *qc = NULL;
  SC_HANDLE scm, svc;
  cs_doctor_outcome_t o = CS_DOCTOR_FAIL;
  char text[300], restart[300];
  DWORD e;
  cs_err_t err;

  if (open_service(CS__WIN_SERVICE_NAME, SERVICE_QUERY_CONFIG, &scm, &svc, &err) != CS_OK) {
    snprintf(detail, len, "%s%s", err.text, err.code == CS_ENOENT ? ": run certsteward install" : "");
    goto out;
  }
  {
    DWORD need = 0;
    if ((QueryServiceConfigW(svc, NULL, 0, &need) || GetLastError() == ERROR_INSUFFICIENT_BUFFER) && need > 0 &&
        (qc = malloc(need)) != NULL && !QueryServiceConfigW(svc, qc, need, &need)) {
      free(qc);
      qc = NULL;
    }
  }
  if (qc == NULL || qc->dwStartType != SERVICE_AUTO_START) {
    snprintf(detail, len, "the service certsteward %s: run certsteward install",
             qc == NULL ? "cannot be read" : "does not start automatically");
    goto out;
  }
  e = config2(svc, SERVICE_CONFIG_DELAYED_AUTO_START_INFO, (void **)&delayed);
  if (e == 0 && !delayed->fDelayedAutostart) {
    snprintf(detail, len, "the service certsteward starts automatically, but not delayed: run certsteward install");
    goto out;
  }
  if (e != 0 && e != ERROR_INVALID_LEVEL) {
    snprintf(detail, len, "the service certsteward's delayed start cannot be read: %s",
             cs__win_text(e, text, sizeof text));
    goto out;
  }
  if (e == 0 && (e = config2(svc, SERVICE_CONFIG_FAILURE_ACTIONS, (void **)&fa)) == 0) {
    o = cs__win_failure_actions_judge(fa, restart, sizeof restart);
    snprintf(detail, len, "the service certsteward starts automatically (delayed) and is %s", restart);
    goto out;
  }
  if (e == ERROR_INVALID_LEVEL) { /* a system that does not say (Wine); every Windows since Vista does */
    snprintf(detail, len,
             "the service certsteward starts automatically; this system does not tell its delayed "
             "start and failure actions (%s)",
             cs__win_text(e, text, sizeof text));
    o = CS_DOCTOR_WARN;
  } else {
    snprintf(detail, len, "the service certsteward's failure actions cannot be read: %s",
             cs__win_text(e, text, sizeof text));
  }
out:
  free(delayed);
  free(fa);
  free(qc);
  close_service(scm, svc);
  return o;
}
