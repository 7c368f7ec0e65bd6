/* The Windows half of platform.h (common/win/): files, folders, processes, the lock
 * and the folder check (the worker's confinement: test_win_confine.c). Runs under
 * Wine in CI; what Wine cannot prove (ACLs stored on files, the handle list, lock
 * release timing) is said in the sources under test.
 * The test program is also its own child: with CS_WIN_CHILD set, it does that job
 * before main (echo its input, print its arguments, start a grandchild and hang, ...). */
#include "cs_test.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>
#include <shellapi.h>

#include "platform.h"
#include "win/acl.h"
#include "win/win.h"

/* ---- the child ------------------------------------------------------------------- */

static void child_echo(void) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE), out = GetStdHandle(STD_OUTPUT_HANDLE);
  char buf[4096];
  DWORD n, w;
  while (ReadFile(in, buf, sizeof buf, &n, NULL) && n > 0)
    WriteFile(out, buf, n, &w, NULL);
  ExitProcess(3);
}

static void child_args(void) {
  int argc = 0, i;
  wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD w;
  for (i = 1; argv != NULL && i < argc; i++) {
    char buf[1024];
    int n = WideCharToMultiByte(CP_UTF8, 0, argv[i], -1, buf, sizeof buf, NULL, NULL);
    WriteFile(out, buf, n > 0 ? (DWORD)n - 1 : 0, &w, NULL);
    WriteFile(out, "|", 1, &w, NULL);
  }
  ExitProcess(0);
}

static void child_big(void) {
  static char buf[200 * 1024];
  DWORD w;
  memset(buf, 'x', sizeof buf);
  WriteFile(GetStdHandle(STD_OUTPUT_HANDLE), buf, sizeof buf, &w, NULL);
  ExitProcess(0);
}

/* Starts a grandchild that hangs, writes its pid to CS_WIN_PIDFILE, then hangs too. */
static void child_tree(void) {
  wchar_t exe[MAX_PATH], cmd[MAX_PATH + 8];
  char pidfile[MAX_PATH], pid[32];
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  FILE *f;
  GetModuleFileNameW(NULL, exe, MAX_PATH);
  GetEnvironmentVariableA("CS_WIN_PIDFILE", pidfile, sizeof pidfile);
  SetEnvironmentVariableA("CS_WIN_CHILD", "hang");
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  swprintf(cmd, MAX_PATH + 8, L"\"%ls\"", exe);
  if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
    ExitProcess(10);
  snprintf(pid, sizeof pid, "%lu", (unsigned long)pi.dwProcessId);
  if ((f = fopen(pidfile, "wb")) != NULL) {
    fputs(pid, f);
    fclose(f);
  }
  Sleep(60000);
  ExitProcess(11);
}

/* Tries the lock at CS_WIN_LOCK and prints what happened. */
static void child_lock(void) {
  char path[MAX_PATH];
  cs_plat_lock_t *l = NULL;
  cs_err_t err;
  int rc;
  GetEnvironmentVariableA("CS_WIN_LOCK", path, sizeof path);
  rc = cs_plat_lock(path, &l, &err);
  printf("%d %s\n", rc, rc == 0 ? "locked" : err.text);
  fflush(stdout);
  cs_plat_unlock(l);
  ExitProcess(0);
}

CS__CTOR(child_main) {
  char job[32];
  if (GetEnvironmentVariableA("CS_WIN_CHILD", job, sizeof job) == 0)
    return;
  if (strcmp(job, "echo") == 0)
    child_echo();
  else if (strcmp(job, "args") == 0)
    child_args();
  else if (strcmp(job, "big") == 0)
    child_big();
  else if (strcmp(job, "tree") == 0)
    child_tree();
  else if (strcmp(job, "lock") == 0)
    child_lock();
  else if (strcmp(job, "status") == 0)
    ExitProcess(0xC0000409u); /* what a crash (fail-fast) reports */
  else if (strcmp(job, "hang") == 0)
    Sleep(60000);
  ExitProcess(99);
}

/* ---- helpers ----------------------------------------------------------------------- */

static char tmp_dir[1024];

static const char *tmp(const char *name) {
  static char buf[4][2048];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s\\%s", tmp_dir, name);
  return buf[i];
}

static void tmp_open(void) { cs_test_mkdtemp("cs-win", tmp_dir, sizeof tmp_dir); }

static void tmp_close(void) {
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
  CHECK(!cs_plat_exists(tmp_dir));
}

static const char *self_exe(void) {
  static char buf[MAX_PATH * 3];
  wchar_t w[MAX_PATH];
  GetModuleFileNameW(NULL, w, MAX_PATH);
  WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, sizeof buf, NULL, NULL);
  return buf;
}

static int run_child(const char *job, const char *const *args, const char *input, size_t input_len, int timeout_ms,
                     size_t max_out, cs_run_result_t *res, cs_err_t *err) {
  const char *argv[16] = {self_exe()};
  int i, rc;
  for (i = 0; args != NULL && args[i] != NULL && i < 14; i++)
    argv[i + 1] = args[i];
  SetEnvironmentVariableA("CS_WIN_CHILD", job);
  rc = cs_plat_run(argv, input, input_len, timeout_ms, max_out, res, err);
  SetEnvironmentVariableA("CS_WIN_CHILD", NULL);
  return rc;
}

/* ---- files ------------------------------------------------------------------------- */

CS_TEST(write_atomic_creates_and_replaces) {
  cs_err_t err;
  tmp_open();
  CHECK_INT(cs_plat_write_atomic(tmp("a.txt"), "first", 5, 0600, &err), ==, 0);
  cs_test_file_is_str(tmp("a.txt"), "first");
  CHECK_INT(cs_plat_write_atomic(tmp("a.txt"), "second, longer", 14, 0600, &err), ==, 0);
  cs_test_file_is_str(tmp("a.txt"), "second, longer");
  CHECK_INT(cs_plat_write_atomic(tmp("a.txt"), "", 0, 0600, &err), ==, 0);
  cs_test_file_is_str(tmp("a.txt"), "");
  CHECK_INT(cs_test_count_entries(tmp_dir), ==, 1); /* no temp file left behind */
  /* forward slashes work as well */
  CHECK_INT(cs_plat_mkdirs(tmp("dir"), 0700, &err), ==, 0);
  CHECK_INT(cs_plat_write_atomic(tmp("dir/b.txt"), "b", 1, 0644, &err), ==, 0);
  cs_test_file_is_str(tmp("dir\\b.txt"), "b");
  tmp_close();
}

CS_TEST(write_atomic_refuses_folder_and_leaves_nothing) {
  cs_err_t err;
  tmp_open();
  CHECK_INT(cs_plat_mkdirs(tmp("sub"), 0700, &err), ==, 0);
  CHECK_INT(cs_plat_write_atomic(tmp("sub"), "x", 1, 0600, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "folder");
  CHECK_INT(cs_plat_write_atomic(tmp("missing\\x.txt"), "x", 1, 0600, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "Windows error");
  CHECK_INT(cs_test_count_entries(tmp_dir), ==, 1);
  tmp_close();
}

CS_TEST(long_paths) {
  char deep[2048];
  cs_err_t err;
  size_t n;
  tmp_open();
  snprintf(deep, sizeof deep, "%s", tmp_dir);
  for (n = 0; n < 12; n++) /* ~ 12 x 31: over MAX_PATH */
    strcat(deep, "\\abcdefghijklmnopqrstuvwxyz01234");
  CHECK(strlen(deep) > MAX_PATH);
  CHECK_INT(cs_plat_mkdirs(deep, 0755, &err), ==, 0);
  strcat(deep, "\\file.txt");
  CHECK_INT(cs_plat_write_atomic(deep, "deep", 4, 0600, &err), ==, 0);
  CHECK(cs_plat_exists(deep));
  /* read back the same way it was written (\\?\ beyond MAX_PATH), and replaced */
  cs_test_file_is_str(deep, "deep");
  CHECK_INT(cs_plat_write_atomic(deep, "deeper", 6, 0600, &err), ==, 0);
  cs_test_file_is_str(deep, "deeper");
  tmp_close(); /* remove_tree goes through it */
}

CS_TEST(mkdirs_nested_existing_and_blocked) {
  cs_err_t err;
  tmp_open();
  CHECK_INT(cs_plat_mkdirs(tmp("a/b\\c/"), 0700, &err), ==, 0);
  CHECK(cs_plat_exists(tmp("a\\b\\c")));
  CHECK_INT(cs_plat_mkdirs(tmp("a\\b\\c"), 0700, &err), ==, 0); /* already there */
  cs_test_put_str(tmp("a\\file"), "x");
  CHECK_INT(cs_plat_mkdirs(tmp("a\\file\\d"), 0700, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "not a folder");
  CHECK_INT(cs_plat_mkdirs("", 0700, &err), ==, CS_EINVAL);
  tmp_close();
}

CS_TEST(rename_replaces_remove_and_exists) {
  cs_err_t err;
  tmp_open();
  cs_test_put_str(tmp("a"), "from a");
  cs_test_put_str(tmp("b"), "old b");
  CHECK_INT(cs_plat_rename(tmp("a"), tmp("b"), &err), ==, 0);
  cs_test_file_is_str(tmp("b"), "from a");
  CHECK(!cs_plat_exists(tmp("a")));
  CHECK_INT(cs_plat_rename(tmp("a"), tmp("c"), &err), ==, CS_ENOENT);
  CHECK_INT(cs_plat_remove(tmp("b"), &err), ==, 0);
  CHECK(!cs_plat_exists(tmp("b")));
  CHECK_INT(cs_plat_remove(tmp("b"), &err), ==, 0); /* already gone */
  cs_test_put_str(tmp("ro"), "read-only");
  CHECK(SetFileAttributesA(tmp("ro"), FILE_ATTRIBUTE_READONLY));
  CHECK_INT(cs_plat_remove(tmp("ro"), &err), ==, 0);
  CHECK(!cs_plat_exists(tmp("ro")));
  CHECK_INT(cs_plat_mkdirs(tmp("d"), 0700, &err), ==, 0);
  CHECK_INT(cs_plat_remove(tmp("d"), &err), ==, CS_ENOTREG);
  CHECK(cs_plat_exists(tmp("d")));
  tmp_close();
}

CS_TEST(remove_tree) {
  cs_err_t err;
  tmp_open();
  CHECK_INT(cs_plat_mkdirs(tmp("t\\x\\y"), 0700, &err), ==, 0);
  cs_test_put_str(tmp("t\\one"), "1");
  cs_test_put_str(tmp("t\\x\\two"), "2");
  cs_test_put_str(tmp("t\\x\\y\\ro"), "3");
  CHECK(SetFileAttributesA(tmp("t\\x\\y\\ro"), FILE_ATTRIBUTE_READONLY));
  CHECK_INT(cs_plat_remove_tree(tmp("t"), &err), ==, 0);
  CHECK(!cs_plat_exists(tmp("t")));
  CHECK_INT(cs_plat_remove_tree(tmp("t"), &err), ==, 0); /* already gone */
  cs_test_put_str(tmp("file"), "f");
  CHECK_INT(cs_plat_remove_tree(tmp("file"), &err), ==, 0);
  CHECK(!cs_plat_exists(tmp("file")));
  tmp_close();
}

/* ---- processes ------------------------------------------------------------------- */

CS_TEST(run_feeds_input_and_reads_output) {
  static const char input[] = "hello\0binary\r\nworld";
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(run_child("echo", NULL, input, sizeof input, 20000, 4096, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 3);
  CHECK_INT(res.timed_out, ==, 0);
  CHECK_INT(res.out_len, ==, sizeof input);
  CHECK(res.out != NULL && memcmp(res.out, input, sizeof input) == 0);
  cs_run_result_free(&res);
  CHECK_INT(run_child("echo", NULL, NULL, 0, 20000, 4096, &res, &err), ==, 0); /* stdin: NUL */
  CHECK_INT(res.exit_code, ==, 3);
  CHECK_INT(res.out_len, ==, 0);
  CHECK_STR(res.out, "");
  cs_run_result_free(&res);
}

CS_TEST(run_quotes_arguments) {
  static const char *const args[] = {"plain",      "two words",           "",        "quote\"inside",
                                     "trailing\\", "back\\\\slash \\\"q", "ünïcödé", NULL};
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(run_child("args", args, NULL, 0, 20000, 4096, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_STR(res.out, "plain|two words||quote\"inside|trailing\\|back\\\\slash \\\"q|ünïcödé|");
  cs_run_result_free(&res);
}

CS_TEST(run_keeps_max_out) {
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(run_child("big", NULL, NULL, 0, 20000, 1000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_INT(res.out_len, ==, 1000);
  cs_run_result_free(&res);
}

CS_TEST(run_timeout_ends_the_whole_tree) {
  char pidfile[2048];
  cs_run_result_t res;
  cs_err_t err;
  unsigned long pid = 0;
  ULONGLONG t0;
  FILE *f;
  tmp_open();
  snprintf(pidfile, sizeof pidfile, "%s", tmp("pid"));
  SetEnvironmentVariableA("CS_WIN_PIDFILE", pidfile);
  t0 = GetTickCount64();
  CHECK_INT(run_child("tree", NULL, NULL, 0, 3000, 4096, &res, &err), ==, 0);
  CHECK_INT(res.timed_out, ==, 1);
  CHECK_INT(res.exit_code, ==, -1);
  CHECK(GetTickCount64() - t0 < 15000);
  cs_run_result_free(&res);
  if ((f = fopen(pidfile, "rb")) != NULL) {
    if (fscanf(f, "%lu", &pid) != 1)
      pid = 0;
    fclose(f);
  }
  CHECK(pid != 0);
  if (pid != 0) {
    HANDLE h = OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid);
    /* gone, or ending: the grandchild went with the job */
    CHECK(h == NULL || WaitForSingleObject(h, 5000) == WAIT_OBJECT_0);
    if (h != NULL)
      CloseHandle(h);
  }
  SetEnvironmentVariableA("CS_WIN_PIDFILE", NULL);
  tmp_close();
}

CS_TEST(run_reports_crash_status_and_missing_program) {
  const char *missing[] = {"C:\\no\\such\\program.exe", NULL};
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(run_child("status", NULL, NULL, 0, 20000, 4096, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, -1);
  CHECK_INT(res.timed_out, ==, 0);
  cs_run_result_free(&res);
  CHECK_INT(cs_plat_run(missing, NULL, 0, 1000, 10, &res, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "program.exe");
  CHECK(res.out == NULL);
}

CS_TEST(run_shell_uses_cmd) {
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(cs_plat_run_shell("echo one two& exit /b 7", 20000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 7);
  CHECK_CONTAINS(res.out, "one two");
  cs_run_result_free(&res);
  CHECK_INT(cs_plat_run_shell("if \"a b\"==\"a b\" (echo quoted) else (echo not)", 20000, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_CONTAINS(res.out, "quoted");
  cs_run_result_free(&res);
}

/* The variables given reach cmd.exe's command (names without case: a variable of this
 * process spelt otherwise is replaced), those with the dropped prefix are gone, the
 * others stay */
CS_TEST(run_shell_env_sets_and_drops) {
  const char *env[] = {"CERTMONGER_OPERATION=POLL", "cs_test_kept=new", NULL};
  cs_run_result_t res;
  cs_err_t err;
  SetEnvironmentVariableW(L"CS_TEST_KEPT", L"old");
  SetEnvironmentVariableW(L"CS_TEST_OTHER", L"other");
  SetEnvironmentVariableW(L"CERTMONGER_CA_COOKIE", L"stale");
  CHECK_INT(
      cs_plat_run_shell_env("echo [%CERTMONGER_OPERATION%][%CERTMONGER_CA_COOKIE%][%CS_TEST_KEPT%][%CS_TEST_OTHER%]"
                            "& exit /b 5",
                            env, "certmonger_", 20000, 1024, &res, &err),
      ==, 0);
  CHECK_CONTAINS(res.out, "[POLL][%CERTMONGER_CA_COOKIE%][new][other]");
  CHECK_INT(res.exit_code, ==, 5);
  cs_run_result_free(&res);
  SetEnvironmentVariableW(L"CS_TEST_KEPT", NULL);
  SetEnvironmentVariableW(L"CS_TEST_OTHER", NULL);
  SetEnvironmentVariableW(L"CERTMONGER_CA_COOKIE", NULL);
}

CS_TEST(sibling_path_adds_exe) {
  char buf[4096], dir[4096];
  const char *self = self_exe(), *sep = strrchr(self, '\\');
  cs_err_t err;
  CHECK(sep != NULL);
  if (sep == NULL)
    return;
  snprintf(dir, sizeof dir, "%.*s", (int)(sep - self + 1), self);
  CHECK_INT(cs_plat_sibling_path("certsteward-worker", buf, sizeof buf, &err), ==, 0);
  CHECK(strncmp(buf, dir, strlen(dir)) == 0);
  CHECK_STR(buf + strlen(dir), "certsteward-worker.exe");
  CHECK_INT(cs_plat_sibling_path("tool.com", buf, sizeof buf, &err), ==, 0);
  CHECK_STR(buf + strlen(dir), "tool.com");
  CHECK_INT(cs_plat_sibling_path("x", buf, strlen(dir) + 3, &err), ==, CS_ETOOBIG);
}

/* ---- the lock ------------------------------------------------------------------------ */

CS_TEST(lock_is_exclusive_within_and_across_processes) {
  cs_plat_lock_t *a = NULL, *b = NULL;
  cs_run_result_t res;
  cs_err_t err;
  char want[64];
  tmp_open();
  SetEnvironmentVariableA("CS_WIN_LOCK", tmp("lock"));
  CHECK_INT(cs_plat_lock(tmp("lock"), &a, &err), ==, 0);
  CHECK(a != NULL);
  CHECK_INT(cs_plat_lock(tmp("lock"), &b, &err), ==, CS_EBUSY); /* a second handle, same process */
  CHECK(b == NULL);
  snprintf(want, sizeof want, "held by process %lu", (unsigned long)GetCurrentProcessId());
  CHECK_CONTAINS(err.text, want);
  CHECK_INT(run_child("lock", NULL, NULL, 0, 20000, 4096, &res, &err), ==, 0);
  CHECK_CONTAINS(res.out, want);
  CHECK(strncmp(res.out, "-13 ", 4) == 0); /* CS_EBUSY */
  cs_run_result_free(&res);
  cs_plat_unlock(a);
  CHECK_INT(run_child("lock", NULL, NULL, 0, 20000, 4096, &res, &err), ==, 0);
  CHECK(strncmp(res.out, "0 locked", 8) == 0);
  cs_run_result_free(&res);
  CHECK_INT(cs_plat_lock(tmp("lock"), &b, &err), ==, 0);
  cs_plat_unlock(b);
  SetEnvironmentVariableA("CS_WIN_LOCK", NULL);
  tmp_close();
}

/* ---- the folder check --------------------------------------------------------------- */

/* cs__win_dacl_unsafe on the owner and DACL of an SDDL security descriptor; *who_sid
 * receives the SID at fault as a string ("" when none). */
static int judge_rights(const char *sddl, const char *self_sid, ACCESS_MASK rights, char *who_sid, size_t len) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL, self = NULL, who = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  LPSTR s = NULL;
  int r = -1;
  who_sid[0] = '\0';
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL)) {
    cs_test_fail(__FILE__, __LINE__, "bad SDDL %s", sddl);
    return -1;
  }
  GetSecurityDescriptorOwner(sd, &owner, &defaulted);
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  if (self_sid != NULL)
    ConvertStringSidToSidA(self_sid, &self);
  r = cs__win_dacl_unsafe(present ? dacl : NULL, owner, self, rights, &who);
  if (who != NULL && ConvertSidToStringSidA(who, &s))
    snprintf(who_sid, len, "%s", s);
  LocalFree(s);
  LocalFree(self);
  LocalFree(sd);
  return r;
}

static int judge(const char *sddl, const char *self_sid, char *who_sid, size_t len) {
  return judge_rights(sddl, self_sid, CS_WIN_FOLDER_WRITE_RIGHTS, who_sid, len);
}

/* A secret file: reading counts too. */
CS_TEST(secret_file_dacl_rules) {
  char who[128];
  /* what set-password gives the password file */
  CHECK_INT(judge_rights("O:BAD:P(A;;FA;;;SY)(A;;FA;;;BA)", NULL, CS_WIN_SECRET_RIGHTS, who, sizeof who), ==,
            CS_WIN_SAFE);
  /* Users may read: safe for a folder's contents, not for a secret */
  CHECK_INT(judge_rights("O:BAD:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;BU)", NULL, CS_WIN_SECRET_RIGHTS, who, sizeof who), ==,
            CS_WIN_WRITER);
  CHECK_STR(who, "S-1-5-32-545");
  CHECK_INT(judge("O:BAD:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FR;;;BU)", NULL, who, sizeof who), ==, CS_WIN_SAFE);
  CHECK_INT(judge_rights("O:BAD:(A;;GR;;;AU)", NULL, CS_WIN_SECRET_RIGHTS, who, sizeof who), ==, CS_WIN_WRITER);
  CHECK_STR(who, "S-1-5-11");
  /* reading the ACL itself is not reading the secret */
  CHECK_INT(judge_rights("O:BAD:P(A;;FA;;;BA)(A;;RC;;;BU)", NULL, CS_WIN_SECRET_RIGHTS, who, sizeof who), ==,
            CS_WIN_SAFE);
  CHECK_INT(cs__win_dacl_unsafe(NULL, NULL, NULL, CS_WIN_SECRET_RIGHTS, NULL), ==, CS_WIN_NO_DACL);
}

CS_TEST(folder_dacl_rules) {
  static const char *user = "S-1-5-21-1-2-3-1001", *other = "S-1-5-21-1-2-3-1002";
  char who[128], sddl[512];
  /* the protected DACL cs_plat_mkdirs gives a private folder, and the installer's */
  CHECK_INT(judge("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", NULL, who, sizeof who), ==, CS_WIN_SAFE);
  CHECK_STR(who, "");
  /* read and execute for Users, full control for CREATOR OWNER on what is made inside */
  CHECK_INT(
      judge("O:SYD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;BU)(A;OICIIO;GA;;;CO)", NULL, who, sizeof who),
      ==, CS_WIN_SAFE);
  /* ProgramData's own rule: Users may add files and folders */
  CHECK_INT(judge("O:SYD:(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;CI;0x116;;;BU)", NULL, who, sizeof who), ==, CS_WIN_WRITER);
  CHECK_STR(who, "S-1-5-32-545");
  CHECK_INT(judge("O:BAD:(A;;FA;;;WD)", NULL, who, sizeof who), ==, CS_WIN_WRITER);
  CHECK_STR(who, "S-1-1-0");
  /* inherit-only write for Authenticated Users: the files an admin drops would be theirs to change */
  CHECK_INT(judge("O:BAD:(A;OICIIO;0x2;;;AU)", NULL, who, sizeof who), ==, CS_WIN_WRITER);
  CHECK_STR(who, "S-1-5-11");
  /* DELETE or WRITE_DAC on the folder itself is as good as writing to it */
  CHECK_INT(judge("O:BAD:(A;;SD;;;BU)", NULL, who, sizeof who), ==, CS_WIN_WRITER);
  CHECK_INT(judge("O:BAD:(A;;WD;;;BU)", NULL, who, sizeof who), ==, CS_WIN_WRITER);
  /* a deny entry grants nothing; a NULL DACL grants everything (Wine's SDDL parser makes
   * an empty DACL of "D:NO_ACCESS_CONTROL", so the NULL DACL is given directly) */
  CHECK_INT(judge("O:BAD:(D;OICI;FA;;;WD)(A;OICI;FA;;;BA)", NULL, who, sizeof who), ==, CS_WIN_SAFE);
  CHECK_INT(cs__win_dacl_unsafe(NULL, NULL, NULL, CS_WIN_FOLDER_WRITE_RIGHTS, NULL), ==, CS_WIN_NO_DACL);
  /* an empty DACL grants nothing */
  CHECK_INT(judge("O:BAD:P", NULL, who, sizeof who), ==, CS_WIN_SAFE);
  /* the owner: Administrators, SYSTEM, TrustedInstaller or this process's user */
  snprintf(sddl, sizeof sddl, "O:%sD:P(A;OICI;FA;;;%s)", user, user);
  CHECK_INT(judge(sddl, user, who, sizeof who), ==, CS_WIN_SAFE);
  CHECK_INT(judge(sddl, other, who, sizeof who), ==, CS_WIN_OWNER);
  CHECK_STR(who, user);
  CHECK_INT(
      judge("O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464D:P(A;;FA;;;SY)", NULL, who, sizeof who),
      ==, CS_WIN_SAFE);
  CHECK_INT(judge("O:BUD:P(A;;FA;;;SY)", NULL, who, sizeof who), ==, CS_WIN_OWNER);
  CHECK_STR(who, "S-1-5-32-545");
  /* another user with write, the owner being safe */
  snprintf(sddl, sizeof sddl, "O:BAD:P(A;OICI;FA;;;BA)(A;;0x100;;;%s)", other);
  CHECK_INT(judge(sddl, user, who, sizeof who), ==, CS_WIN_WRITER);
  CHECK_STR(who, other);
}

CS_TEST(folder_unsafe_on_real_paths) {
  int (*const checks[3])(const char *, char *, size_t) = {cs_plat_folder_unsafe, cs_plat_secret_file_unsafe,
                                                          cs_plat_config_file_unsafe};
  char why[1024] = "";
  int r, i;
  tmp_open();
  /* Wine makes the DACL up: only that the check runs and answers is proven here */
  r = cs_plat_folder_unsafe(tmp_dir, why, sizeof why);
  CHECK(r == 0 || r == 1);
  cs_test_put_str(tmp("file"), "x");
  CHECK_INT(cs_plat_folder_unsafe(tmp("file"), why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "not a plain folder");
  /* fail closed: a check that cannot be made answers unsafe, with the reason */
  for (i = 0; i < 3; i++) {
    why[0] = '\0';
    CHECK_INT(checks[i](tmp("missing"), why, sizeof why), ==, 1);
    CHECK_CONTAINS(why, "cannot look at");
  }
  why[0] = '\0';
  CHECK_INT(cs_plat_config_file_unsafe(tmp_dir, why, sizeof why), ==, 1); /* a folder, not a file */
  CHECK_CONTAINS(why, "not a plain file");
  tmp_close();
}

/* An allow entry of a type this check does not know answers unsafe; a label (a
 * type that only takes access away) grants nothing. Hand-built ACEs, so pure. */
CS_TEST(unknown_entry_type_is_unsafe) {
  union {
    ACL acl;
    unsigned char b[256];
  } buf;
  union {
    ACCESS_ALLOWED_ACE ace;
    unsigned char b[64];
  } ace;
  PSID users = NULL;
  DWORD sid_len;
  int type, want;
  CHECK(ConvertStringSidToSidA("S-1-5-32-545", &users));
  if (users == NULL)
    return;
  sid_len = GetLengthSid(users);
  for (type = 0x11; type <= 0x16; type += 5) { /* 0x11 mandatory label; 0x16 not a type Windows has */
    memset(&ace, 0, sizeof ace);
    ace.ace.Header.AceType = (BYTE)type;
    ace.ace.Header.AceSize = (WORD)(offsetof(ACCESS_ALLOWED_ACE, SidStart) + sid_len);
    ace.ace.Mask = FILE_ALL_ACCESS;
    CHECK(CopySid(sid_len, (PSID)&ace.ace.SidStart, users));
    CHECK(InitializeAcl(&buf.acl, sizeof buf, ACL_REVISION));
    CHECK(AddAce(&buf.acl, ACL_REVISION, MAXDWORD, &ace, ace.ace.Header.AceSize));
    want = type == 0x16 ? CS_WIN_UNKNOWN_ENTRY : CS_WIN_SAFE;
    CHECK_INT(cs__win_dacl_unsafe(&buf.acl, NULL, NULL, CS_WIN_FOLDER_WRITE_RIGHTS, NULL), ==, want);
  }
  LocalFree(users);
}

/* The events file: created and appended to; a second name of another file (a hard
 * link someone made) is refused and left as it was. */
CS_TEST(log_file_opened_without_second_names) {
  FILE *f;
  wchar_t *a = NULL, *b = NULL;
  tmp_open();
  f = cs_plat_fopen_log(tmp("events.jsonl"));
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK_INT(fputs("one\n", f) >= 0, ==, 1);
    fclose(f);
  }
  f = cs_plat_fopen_log(tmp("events.jsonl"));
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK_INT(fputs("two\n", f) >= 0, ==, 1);
    fclose(f);
  }
  cs_test_file_is_str(tmp("events.jsonl"), "one\ntwo\n");
  cs_test_put_str(tmp("precious"), "precious");
  a = cs__win_path(tmp("precious"));
  b = cs__win_path(tmp("linked.jsonl"));
  if (a != NULL && b != NULL && CreateHardLinkW(b, a, NULL)) {
    CHECK(cs_plat_fopen_log(tmp("linked.jsonl")) == NULL);
    cs_test_file_is_str(tmp("precious"), "precious");
  } else {
    cs_test_fail(__FILE__, __LINE__, "CreateHardLinkW: %lu", (unsigned long)GetLastError());
  }
  free(a);
  free(b);
  tmp_close();
}
