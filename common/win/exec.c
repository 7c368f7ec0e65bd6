/* Windows: a command hands itself over to another program (certsteward check ->
 * certsteward-worker check). There is no exec: the program is started on this
 * console and standard handles, waited for, and its exit code becomes this
 * process's, so the caller sees what it would have seen from the program. It is the
 * worker, which parses untrusted files: it runs confined as cs_plat_run_confined
 * runs it (confine.c), with the restricted token and in a job of its own, started
 * suspended until it is in the job. Closing the job ends it: if this process is
 * ended while it waits, the worker does not go on alone. */
#include "../platform.h"
#include "../text.h"
#include "confine.h"
#include "win.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_plat_exec(const char *path, char *const argv[], cs_err_t *err) {
  static const DWORD std_ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
  wchar_t *wpath = NULL, *wline = NULL;
  HANDLE token = NULL, job = NULL;
  STARTUPINFOW si;
  PROCESS_INFORMATION pi = {NULL, NULL, 0, 0};
  HANDLE std[3];
  DWORD code = 1;
  int i, rc, ran = 0;

  if ((rc = cs__win_command_line((const char *const *)argv, &wline, err)) != CS_OK)
    goto out;
  if ((wpath = cs__win_wide(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot run %s: not valid UTF-8, or out of memory", path);
    goto out;
  }
  if ((rc = cs__win_confined_token(&token, err)) != CS_OK || (rc = cs__win_confined_job(&job, err)) != CS_OK)
    goto out;

  /* the program gets this process's standard handles, inherited explicitly */
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  for (i = 0; i < 3; i++) {
    std[i] = GetStdHandle(std_ids[i]);
    if (std[i] != NULL && std[i] != INVALID_HANDLE_VALUE)
      (void)SetHandleInformation(std[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  }
  si.hStdInput = std[0];
  si.hStdOutput = std[1];
  si.hStdError = std[2];
  fflush(NULL); /* what this process printed must come before what the program prints */
  if (!CreateProcessAsUserW(token, wpath, wline, NULL, NULL, TRUE, CREATE_SUSPENDED, NULL, NULL, &si, &pi)) {
    DWORD e = GetLastError();
    rc = cs_err_set(err, cs__win_code(e), (long)e, "cannot run %s (Windows error %lu)", path, (unsigned long)e);
    goto out;
  }
  if (!AssignProcessToJobObject(job, pi.hProcess)) {
    rc = cs__win_failf(err, GetLastError(), "cannot put %s into its job object", path);
    TerminateProcess(pi.hProcess, 1); /* still suspended: it never ran */
    goto out;
  }
  ResumeThread(pi.hThread);
  /* Ctrl+C reaches the program on the same console; this process waits for its code */
  (void)SetConsoleCtrlHandler(NULL, TRUE);
  if (WaitForSingleObject(pi.hProcess, INFINITE) != WAIT_OBJECT_0 || !GetExitCodeProcess(pi.hProcess, &code))
    code = 1;
  ran = 1;
out:
  if (pi.hThread != NULL)
    CloseHandle(pi.hThread);
  if (pi.hProcess != NULL)
    CloseHandle(pi.hProcess);
  if (job != NULL)
    CloseHandle(job);
  if (token != NULL)
    CloseHandle(token);
  free(wpath);
  free(wline);
  if (ran)
    exit((int)code);
  return rc;
}
