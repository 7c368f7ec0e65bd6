/* The worker's confinement on Windows (confine.h). The worker parses untrusted files
 * (a dropped PFX, PEM, DER or P7B) with OpenSSL; what a bug there lets a hostile file
 * do is what its process can do. Today that is held back in two ways:
 *
 * The token: every privilege removed but SeChangeNotifyPrivilege (no taking
 * ownership, backup, restore, debug, impersonation, driver loading, acting as part of
 * the operating system), and, when the service runs as LocalSystem, BUILTIN\
 * Administrators made deny-only: an allow entry for Administrators no longer opens
 * anything to the worker. It keeps the SYSTEM user SID, which the state folder,
 * the configuration and the password file grant full control (install's DACLs:
 * SYSTEM and Administrators), so it still reads the file the daemon moved into
 * state\incoming, the configuration and the certificate in service, and writes its
 * stage there. A dropped file keeps the DACL it had where it was made (a move keeps
 * it): one that grants Administrators but not SYSTEM can no longer be read by the
 * worker and is rejected, its load check saying access is denied. An elevated
 * administrator's console (certsteward check, apply, version) keeps Administrators:
 * there the user SID is a person's, which the state folder does not grant, so the
 * stage could not be written, and an admin's own certificate files often grant only
 * Administrators. Only real Windows proves the access checks: Wine honours the
 * deny-only attribute in the token (tested) but grants every file to its one user.
 *
 * The job: the worker starts suspended, is put into a job of its own, then runs.
 * KILL_ON_JOB_CLOSE: whatever is in the job ends when its last handle closes, so
 * nothing outlives the run, nor the daemon if it dies (the kernel closes its
 * handles). One active process (JOB_OBJECT_LIMIT_ACTIVE_PROCESS): the worker starts
 * no process of its own (it validates, stages, probes and scans in-process), so any
 * CreateProcess from it fails. DIE_ON_UNHANDLED_EXCEPTION: a crash ends it at once
 * (no error box waiting for a click in session 0), which run.c reports as a crash.
 * The UI restrictions keep it from other processes' windows and hooks, the
 * clipboard, global atoms, desktops, display and system parameters, and from logging
 * off or shutting down the machine. Windows 8 and later nest jobs, so this works
 * inside a job the service itself may be in. Wine 8 keeps KILL_ON_JOB_CLOSE (tested)
 * and accepts but ignores the other limits and the UI restrictions: only real Windows
 * proves that the worker cannot start a process, and that the one-process limit
 * leaves a console program working (a console child attaches to its parent's
 * console; the service's worker has none, CREATE_NO_WINDOW).
 *
 * This is not a sandbox: the worker still runs as SYSTEM (or as the admin at a
 * console), with the access that user SID has to files, the registry and the
 * network. A sandbox needs, in this order:
 *  1. the daemon opens the dropped file itself (as it already checks it, without
 *     following a link) and hands the worker a read-only handle, inherited through
 *     PROC_THREAD_ATTRIBUTE_HANDLE_LIST, instead of a path; the same for the
 *     certificate in service; the password through standard input;
 *  2. the worker returns the staged result (the PKCS#12, or certificate and key) in
 *     its answer over the pipe, and the daemon writes the stage: the worker then
 *     needs no file access at all;
 *  3. then the token can lose everything: every group deny-only, restricting SIDs
 *     (SidsToRestrict: a per-run logon SID or the NULL SID) with WRITE_RESTRICTED at
 *     least, and the Low (or Untrusted) integrity level (TokenIntegrityLevel), so
 *     that nothing unlabelled can be written; or an AppContainer
 *     (PROC_THREAD_ATTRIBUTE_SECURITY_CAPABILITIES);
 *  4. the TLS probe and the machine trust (crypt32 reads HKLM, may fetch AIA/CRL)
 *     need the registry and the network: they move to a second, less confined
 *     process, or the AppContainer gets internetClient;
 *  5. where Windows has them (10 1709 and later), PROC_THREAD_ATTRIBUTE_CHILD_
 *     PROCESS_POLICY and the mitigation policies (no remote or low-label images,
 *     strict handle checks), and a desktop of its own. */
#include "confine.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The token's privileges (free()), NULL with GetLastError() set. */
static TOKEN_PRIVILEGES *privileges_of(HANDLE token) {
  TOKEN_PRIVILEGES *tp = NULL;
  DWORD n = 0;
  (void)GetTokenInformation(token, TokenPrivileges, NULL, 0, &n);
  if (n == 0 || (tp = malloc(n)) == NULL || !GetTokenInformation(token, TokenPrivileges, tp, n, &n)) {
    DWORD e = tp == NULL && n != 0 ? ERROR_NOT_ENOUGH_MEMORY : GetLastError();
    free(tp);
    SetLastError(e);
    return NULL;
  }
  return tp;
}

int cs__win_privilege_names(HANDLE token, int enabled_only, char *buf, size_t len) {
  TOKEN_PRIVILEGES *tp = privileges_of(token);
  wchar_t name[128];
  char *utf8;
  size_t used = 0;
  DWORD i, n;
  if (len > 0)
    buf[0] = '\0';
  if (tp == NULL)
    return -1;
  for (i = 0; i < tp->PrivilegeCount; i++) {
    if (enabled_only && !(tp->Privileges[i].Attributes & SE_PRIVILEGE_ENABLED))
      continue;
    n = sizeof name / sizeof name[0];
    utf8 = LookupPrivilegeNameW(NULL, &tp->Privileges[i].Luid, name, &n) ? cs__win_utf8(name) : NULL;
    if (used < len)
      used += (size_t)snprintf(buf + used, len - used, "%s%s", used > 0 ? " " : "", utf8 ? utf8 : "(unknown)");
    free(utf8);
  }
  free(tp);
  return 0;
}

int cs__win_worker_denies_admins(PSID user) {
  return user != NULL && IsValidSid(user) && IsWellKnownSid(user, WinLocalSystemSid);
}

/* DISABLE_MAX_PRIVILEGE removes the privileges on Windows, which then ignores the
 * list of privileges to delete (CreateRestrictedToken's documentation); the list
 * (all the token holds but SeChangeNotifyPrivilege) is for Wine, which ignores the
 * flag and honours the list, so that the tests see the child's token there too.
 * SidsToDisable marks a SID the token holds deny-only and ignores one it does not.
 * The handle has what CreateProcessAsUserW needs of the token (TOKEN_QUERY,
 * TOKEN_DUPLICATE, TOKEN_ASSIGN_PRIMARY; the restricted token's handle has the same
 * access). No SeAssignPrimaryTokenPrivilege is needed for a restricted version of the
 * caller's own primary token (Restricted Tokens, Microsoft's documentation), and
 * SeIncreaseQuotaPrivilege, which CreateProcessAsUserW "typically" wants, is held by
 * LocalSystem and by an elevated admin: so the service and an admin's console start
 * the worker alike. Only real Windows proves that an unelevated console can too; where
 * it cannot, the command says why and stops: the worker never runs unrestricted. */
int cs__win_confined_token_of(HANDLE own, int deny_admins, HANDLE *token, cs_err_t *err) {
  union {
    SID s;
    unsigned char b[SECURITY_MAX_SID_SIZE];
  } admins;
  SID_AND_ATTRIBUTES disable;
  TOKEN_PRIVILEGES *tp = NULL;
  LUID_AND_ATTRIBUTES *del = NULL;
  DWORD i, n = 0, size = sizeof admins;
  LUID notify;
  int rc = CS_OK;

  *token = NULL;
  if (!LookupPrivilegeValueW(NULL, SE_CHANGE_NOTIFY_NAME, &notify) || (tp = privileges_of(own)) == NULL ||
      !CreateWellKnownSid(WinBuiltinAdministratorsSid, NULL, &admins, &size)) {
    rc = cs__win_fail(err, GetLastError(), "cannot read this process's token");
    goto out;
  }
  if ((del = malloc(sizeof *del * (tp->PrivilegeCount + 1))) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  for (i = 0; i < tp->PrivilegeCount; i++)
    if (tp->Privileges[i].Luid.LowPart != notify.LowPart || tp->Privileges[i].Luid.HighPart != notify.HighPart) {
      del[n].Luid = tp->Privileges[i].Luid;
      del[n++].Attributes = 0;
    }
  disable.Sid = &admins;
  disable.Attributes = 0;
  if (!CreateRestrictedToken(own, DISABLE_MAX_PRIVILEGE, deny_admins ? 1 : 0, deny_admins ? &disable : NULL, n,
                             n > 0 ? del : NULL, 0, NULL, token)) {
    *token = NULL;
    rc = cs__win_fail(err, GetLastError(), "cannot make a restricted token for the worker");
  }
out:
  free(del);
  free(tp);
  return rc;
}

int cs__win_confined_token(HANDLE *token, cs_err_t *err) {
  union {
    TOKEN_USER u;
    unsigned char b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  } user;
  HANDLE own = NULL;
  DWORD n = 0;
  int rc;

  *token = NULL;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY, &own) ||
      !GetTokenInformation(own, TokenUser, &user, sizeof user, &n)) {
    rc = cs__win_fail(err, GetLastError(), "cannot read this process's token");
    goto out;
  }
  rc = cs__win_confined_token_of(own, cs__win_worker_denies_admins(user.u.User.Sid), token, err);
out:
  if (own != NULL)
    CloseHandle(own);
  return rc;
}

void cs__win_confined_limits(JOBOBJECT_EXTENDED_LIMIT_INFORMATION *limits, JOBOBJECT_BASIC_UI_RESTRICTIONS *ui) {
  memset(limits, 0, sizeof *limits);
  limits->BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | JOB_OBJECT_LIMIT_ACTIVE_PROCESS |
                                             JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION;
  limits->BasicLimitInformation.ActiveProcessLimit = 1;
  memset(ui, 0, sizeof *ui);
  ui->UIRestrictionsClass = JOB_OBJECT_UILIMIT_DESKTOP | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS |
                            JOB_OBJECT_UILIMIT_EXITWINDOWS | JOB_OBJECT_UILIMIT_GLOBALATOMS |
                            JOB_OBJECT_UILIMIT_HANDLES | JOB_OBJECT_UILIMIT_READCLIPBOARD |
                            JOB_OBJECT_UILIMIT_WRITECLIPBOARD | JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS;
}

/* The extended structure: KILL_ON_JOB_CLOSE and DIE_ON_UNHANDLED_EXCEPTION are not
 * accepted in the basic one (JOBOBJECT_BASIC_LIMIT_INFORMATION's documentation).
 * A limit that cannot be set leaves no job: the worker does not run without it. */
int cs__win_confined_job(HANDLE *job, cs_err_t *err) {
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits;
  JOBOBJECT_BASIC_UI_RESTRICTIONS ui;
  cs__win_confined_limits(&limits, &ui);
  if ((*job = CreateJobObjectW(NULL, NULL)) == NULL)
    return cs__win_fail(err, GetLastError(), "cannot make a job object for the worker");
  if (!SetInformationJobObject(*job, JobObjectExtendedLimitInformation, &limits, sizeof limits) ||
      !SetInformationJobObject(*job, JobObjectBasicUIRestrictions, &ui, sizeof ui)) {
    DWORD e = GetLastError();
    CloseHandle(*job);
    *job = NULL;
    return cs__win_fail(err, e, "cannot limit the worker's job object");
  }
  return CS_OK;
}
