/* The worker's confinement on Windows (common/win/confine.c, cs_plat_run_confined):
 * its restricted token and its job object. Runs under Wine in CI; what Wine cannot
 * prove (the one-process limit, the UI restrictions, access checks against a
 * deny-only group) is said in confine.c. The test program is also its own child:
 * with CS_CONFINE_CHILD set, it does that job before main. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>
#include <shellapi.h>

#include "platform.h"
#include "win/confine.h"
#include "win/win.h"

/* ---- the child ------------------------------------------------------------------- */

static void put(const char *s) {
  DWORD w;
  WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), s, (DWORD)strlen(s), &w, NULL);
}

/* This program again as "hang", not waited for; its process id, 0 with the error in *e. */
static DWORD start_hanging(DWORD *e) {
  wchar_t exe[MAX_PATH], cmd[MAX_PATH + 8];
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  GetModuleFileNameW(NULL, exe, MAX_PATH);
  SetEnvironmentVariableA("CS_CONFINE_CHILD", "hang");
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  swprintf(cmd, MAX_PATH + 8, L"\"%ls\"", exe);
  *e = 0;
  if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) {
    *e = GetLastError();
    return 0;
  }
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  return pi.dwProcessId;
}

/* What BUILTIN\Administrators is in token t: enabled, deny-only, disabled, absent. */
static const char *admins_in(HANDLE t) {
  unsigned char buf[8192];
  TOKEN_GROUPS *g = (TOKEN_GROUPS *)(void *)buf;
  PSID ba = NULL;
  const char *what = "unreadable";
  DWORD i, n;
  if (GetTokenInformation(t, TokenGroups, buf, sizeof buf, &n) && ConvertStringSidToSidW(L"BA", &ba)) {
    what = "absent";
    for (i = 0; i < g->GroupCount; i++)
      if (EqualSid(g->Groups[i].Sid, ba))
        what = g->Groups[i].Attributes & SE_GROUP_USE_FOR_DENY_ONLY ? "deny-only"
               : g->Groups[i].Attributes & SE_GROUP_ENABLED         ? "enabled"
                                                                    : "disabled";
  }
  LocalFree(ba);
  return what;
}

CS__CTOR(confine_child_main) {
  char job[32], out[1024];
  HANDLE t = NULL;
  DWORD pid, e;
  if (GetEnvironmentVariableA("CS_CONFINE_CHILD", job, sizeof job) == 0)
    return;
  if (strcmp(job, "privileges") == 0) {
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t) || cs__win_privilege_names(t, 1, out, sizeof out) != 0)
      ExitProcess(98);
    put(out);
  } else if (strcmp(job, "args") == 0) {
    int argc = 0, i;
    wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
    for (i = 1; argv != NULL && i < argc; i++) {
      WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, out, sizeof out, NULL, NULL);
      put(out);
      put("|");
    }
  } else if (strcmp(job, "admins") == 0) {
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t))
      ExitProcess(98);
    put(admins_in(t));
  } else if (strcmp(job, "spawn") == 0) {
    /* tries to start a process and says how it went, then ends at once */
    pid = start_hanging(&e);
    snprintf(out, sizeof out, pid != 0 ? "started %lu" : "refused %lu",
             pid != 0 ? (unsigned long)pid : (unsigned long)e);
    put(out);
  } else if (strcmp(job, "tree") == 0) {
    /* the same, then hangs until it is stopped */
    pid = start_hanging(&e);
    snprintf(out, sizeof out, "%lu\n", (unsigned long)pid);
    put(out);
    Sleep(60000);
  } else if (strcmp(job, "hang") == 0) {
    Sleep(60000);
  } else {
    ExitProcess(99);
  }
  ExitProcess(0);
}

/* ---- helpers ----------------------------------------------------------------------- */

/* This test program: its own sibling. */
static const char *self_exe(void) {
  static char buf[MAX_PATH * 3];
  if (buf[0] == '\0' && cs_plat_sibling_path("test_win_confine.exe", buf, sizeof buf, NULL) != CS_OK)
    buf[0] = '\0';
  return buf;
}

/* This program as a child doing job with args, confined or not. */
static int run_self(int confined, const char *job, const char *const *args, int timeout_ms, cs_run_result_t *res,
                    cs_err_t *err) {
  const char *argv[8] = {self_exe()};
  int i, rc;
  for (i = 0; args != NULL && args[i] != NULL && i < 6; i++)
    argv[i + 1] = args[i];
  SetEnvironmentVariableA("CS_CONFINE_CHILD", job);
  rc = (confined ? cs_plat_run_confined : cs_plat_run)(argv, NULL, 0, timeout_ms, 4096, res, err);
  SetEnvironmentVariableA("CS_CONFINE_CHILD", NULL);
  return rc;
}

/* 1 when the process pid has ended within ms (or is gone already). */
static int ended(DWORD pid, DWORD ms) {
  HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, pid);
  int gone = h == NULL || WaitForSingleObject(h, ms) == WAIT_OBJECT_0;
  if (h != NULL)
    CloseHandle(h);
  return gone;
}

/* Ends the process pid, which this test started. */
static void end_process(DWORD pid) {
  HANDLE h = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
  if (h != NULL) {
    TerminateProcess(h, 1);
    WaitForSingleObject(h, 5000);
    CloseHandle(h);
  }
}

/* ---- the job ----------------------------------------------------------------------- */

/* What the worker's job is limited to (Wine accepts these and keeps only
 * KILL_ON_JOB_CLOSE, so the structure is what is checked here). */
CS_TEST(job_limits_are_the_workers) {
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION l;
  JOBOBJECT_BASIC_UI_RESTRICTIONS ui;
  DWORD flags;
  cs__win_confined_limits(&l, &ui);
  flags = l.BasicLimitInformation.LimitFlags;
  CHECK(flags & JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE);
  CHECK(flags & JOB_OBJECT_LIMIT_ACTIVE_PROCESS);
  CHECK_INT((int)l.BasicLimitInformation.ActiveProcessLimit, ==, 1);
  CHECK(flags & JOB_OBJECT_LIMIT_DIE_ON_UNHANDLED_EXCEPTION);
  CHECK(!(flags & (JOB_OBJECT_LIMIT_BREAKAWAY_OK | JOB_OBJECT_LIMIT_SILENT_BREAKAWAY_OK)));
  CHECK_INT((int)ui.UIRestrictionsClass, ==,
            (int)(JOB_OBJECT_UILIMIT_DESKTOP | JOB_OBJECT_UILIMIT_DISPLAYSETTINGS | JOB_OBJECT_UILIMIT_EXITWINDOWS |
                  JOB_OBJECT_UILIMIT_GLOBALATOMS | JOB_OBJECT_UILIMIT_HANDLES | JOB_OBJECT_UILIMIT_READCLIPBOARD |
                  JOB_OBJECT_UILIMIT_WRITECLIPBOARD | JOB_OBJECT_UILIMIT_SYSTEMPARAMETERS));
}

/* The job is made with its limits, and closing it ends what it holds. */
CS_TEST(closing_the_workers_job_ends_what_it_holds) {
  wchar_t exe[MAX_PATH], cmd[MAX_PATH + 8];
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  HANDLE job = NULL;
  cs_err_t err;
  CHECK_INT(cs__win_confined_job(&job, &err), ==, 0);
  CHECK(job != NULL);
  GetModuleFileNameW(NULL, exe, MAX_PATH);
  swprintf(cmd, MAX_PATH + 8, L"\"%ls\"", exe);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  SetEnvironmentVariableA("CS_CONFINE_CHILD", "hang");
  CHECK(CreateProcessW(exe, cmd, NULL, NULL, FALSE, CREATE_SUSPENDED, NULL, NULL, &si, &pi));
  SetEnvironmentVariableA("CS_CONFINE_CHILD", NULL);
  CHECK(AssignProcessToJobObject(job, pi.hProcess));
  ResumeThread(pi.hThread);
  CHECK(WaitForSingleObject(pi.hProcess, 200) == WAIT_TIMEOUT); /* it runs */
  CloseHandle(job);
  CHECK(WaitForSingleObject(pi.hProcess, 5000) == WAIT_OBJECT_0); /* ended with the job */
  TerminateProcess(pi.hProcess, 1);                               /* in case it did not */
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
}

/* A confined child that starts a process: refused (Windows: one active process), or,
 * where the limit is not kept (Wine), what it started does not outlive the run. The
 * same child run plainly leaves its process running, as documented for cs_plat_run. */
CS_TEST(run_confined_child_leaves_no_process_behind) {
  cs_run_result_t res;
  cs_err_t err;
  unsigned long pid = 0;
  CHECK_INT(run_self(1, "spawn", NULL, 20000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK(res.out != NULL && (strncmp(res.out, "refused ", 8) == 0 || sscanf(res.out, "started %lu", &pid) == 1));
  if (pid != 0)
    CHECK(ended((DWORD)pid, 5000));
  cs_run_result_free(&res);

  pid = 0;
  CHECK_INT(run_self(0, "spawn", NULL, 20000, &res, &err), ==, 0);
  CHECK(res.out != NULL && sscanf(res.out, "started %lu", &pid) == 1);
  if (pid != 0) {
    CHECK(!ended((DWORD)pid, 500));
    end_process((DWORD)pid);
  }
  cs_run_result_free(&res);
}

/* The job still ends a confined child at its deadline, with whatever it started. */
CS_TEST(run_confined_timeout_ends_the_whole_tree) {
  cs_run_result_t res;
  cs_err_t err;
  unsigned long pid = 0;
  ULONGLONG t0 = GetTickCount64();
  CHECK_INT(run_self(1, "tree", NULL, 3000, &res, &err), ==, 0);
  CHECK_INT(res.timed_out, ==, 1);
  CHECK_INT(res.exit_code, ==, -1);
  CHECK(GetTickCount64() - t0 < 15000);
  CHECK(res.out != NULL && sscanf(res.out, "%lu", &pid) == 1); /* 0: it could not start one */
  if (pid != 0)
    CHECK(ended((DWORD)pid, 5000));
  cs_run_result_free(&res);
}

/* ---- the token --------------------------------------------------------------------- */

/* The token itself: nothing but SeChangeNotifyPrivilege, the same user. (Under Wine
 * the explicit list of privileges removes them; on Windows DISABLE_MAX_PRIVILEGE,
 * which only real Windows proves.) */
CS_TEST(confined_token_keeps_only_change_notify) {
  BYTE own_user[256], new_user[256];
  HANDLE own = NULL, t = NULL;
  char names[1024];
  DWORD n;
  cs_err_t err;
  CHECK_INT(cs__win_confined_token(&t, &err), ==, 0);
  CHECK(t != NULL);
  CHECK_INT(cs__win_privilege_names(t, 0, names, sizeof names), ==, 0);
  CHECK_STR(names, "SeChangeNotifyPrivilege");
  CHECK(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &own));
  CHECK(GetTokenInformation(own, TokenUser, own_user, sizeof own_user, &n));
  CHECK(GetTokenInformation(t, TokenUser, new_user, sizeof new_user, &n));
  CHECK(EqualSid(((TOKEN_USER *)(void *)own_user)->User.Sid, ((TOKEN_USER *)(void *)new_user)->User.Sid));
  if (own != NULL)
    CloseHandle(own);
  if (t != NULL)
    CloseHandle(t);
}

/* Only LocalSystem's worker loses Administrators: its own SID grants what the worker
 * needs; a person's (an admin at a console) does not. */
CS_TEST(only_localsystem_worker_loses_administrators) {
  static const wchar_t *const keep[] = {L"S-1-5-32-544", L"S-1-5-20", L"S-1-5-19",
                                        L"S-1-5-21-1004336348-1177238915-682003330-500"};
  PSID sid = NULL;
  size_t i;
  CHECK(ConvertStringSidToSidW(L"S-1-5-18", &sid));
  CHECK_INT(cs__win_worker_denies_admins(sid), ==, 1);
  LocalFree(sid);
  for (i = 0; i < sizeof keep / sizeof keep[0]; i++) {
    sid = NULL;
    CHECK(ConvertStringSidToSidW(keep[i], &sid));
    CHECK_INT(cs__win_worker_denies_admins(sid), ==, 0);
    LocalFree(sid);
  }
  CHECK_INT(cs__win_worker_denies_admins(NULL), ==, 0);
}

/* Administrators made deny-only in the token when asked (LocalSystem's case), left as
 * it is otherwise; the privileges are gone in both. */
CS_TEST(confined_token_makes_administrators_deny_only) {
  HANDLE own = NULL, t = NULL;
  char names[1024];
  cs_err_t err;
  const char *before;
  CHECK(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY | TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY, &own));
  before = admins_in(own);
  CHECK_STR(before, "enabled"); /* the test needs a token that holds the group */
  CHECK_INT(cs__win_confined_token_of(own, 1, &t, &err), ==, 0);
  CHECK_STR(admins_in(t), "deny-only");
  CHECK_INT(cs__win_privilege_names(t, 0, names, sizeof names), ==, 0);
  CHECK_STR(names, "SeChangeNotifyPrivilege");
  CloseHandle(t);
  t = NULL;
  CHECK_INT(cs__win_confined_token_of(own, 0, &t, &err), ==, 0);
  CHECK_STR(admins_in(t), "enabled");
  if (t != NULL)
    CloseHandle(t);
  if (own != NULL)
    CloseHandle(own);
}

/* A child started confined holds no enabled privilege but SeChangeNotifyPrivilege;
 * the same child started plainly holds more (this test process's own, which the
 * worker used to inherit). Not LocalSystem here (as an admin at a console): it keeps
 * Administrators. Wide arguments arrive whole in the confined child too. */
CS_TEST(run_confined_child_has_only_change_notify) {
  static const char *const args[] = {"C:\\Zertifikate\\Übergang\\neu.pfx", "証明書 ключ", NULL};
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(run_self(1, "privileges", NULL, 20000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_STR(res.out, "SeChangeNotifyPrivilege");
  cs_run_result_free(&res);
  CHECK_INT(run_self(0, "privileges", NULL, 20000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK(res.out != NULL && strcmp(res.out, "SeChangeNotifyPrivilege") != 0 && res.out[0] != '\0');
  cs_run_result_free(&res);
  CHECK_INT(run_self(1, "admins", NULL, 20000, &res, &err), ==, 0);
  CHECK_STR(res.out, "enabled");
  cs_run_result_free(&res);
  CHECK_INT(run_self(1, "args", args, 20000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_STR(res.out, "C:\\Zertifikate\\Übergang\\neu.pfx|証明書 ключ|");
  cs_run_result_free(&res);
}
