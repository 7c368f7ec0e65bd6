/* Service control on Windows (common/win/service.c, common/service_cmd.c), run under
 * Wine in CI: each test registers cs-testsvc.exe (tests/support/win_testsvc.c) with
 * the SCM under a name of its own, restarts it through cs_plat_service_restart,
 * counts its starts in the log it writes, and deletes it again, also on failure.
 * Wine keeps a service alive after its last client only with a persistent wineserver
 * (scripts/win-build.sh starts wineserver -p60). */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "platform.h"
#include "win/svc.h"
#include "win/win.h"

#define RESTART_MS 20000

typedef struct svc_s {
  char name[96];
  char dir[512];
  int created;
} svc_t;

static long long now_ms(void) { return (long long)GetTickCount64(); }

static void put_file(const svc_t *s, const char *file, const char *text) {
  char path[600];
  FILE *f;
  snprintf(path, sizeof path, "%s\\%s", s->dir, file);
  f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL)
    return;
  fputs(text, f);
  fclose(f);
}

static void drop_file(const svc_t *s, const char *file) {
  char path[600];
  snprintf(path, sizeof path, "%s\\%s", s->dir, file);
  (void)remove(path);
}

static int has_file(const svc_t *s, const char *file) {
  char path[600];
  snprintf(path, sizeof path, "%s\\%s", s->dir, file);
  return cs_plat_exists(path);
}

/* The pids of the "start" lines of starts.log into pids (up to max); their number. */
static int starts(const svc_t *s, unsigned long *pids, int max) {
  char path[600], line[64];
  FILE *f;
  int n = 0;
  snprintf(path, sizeof path, "%s\\starts.log", s->dir);
  if ((f = fopen(path, "rb")) == NULL)
    return 0;
  while (fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "start ", 6) != 0) /* "exit <pid>" */
      continue;
    if (n < max && pids != NULL)
      pids[n] = strtoul(line + 6, NULL, 10);
    n++;
  }
  fclose(f);
  return n;
}

/* starts.log with the pids numbered in order of appearance: "start 1, exit 1, start 2" */
static const char *events(const svc_t *s) {
  static char out[512];
  unsigned long seen[16];
  char path[600], line[64], what[16];
  int n = 0, i;
  size_t used = 0;
  FILE *f;
  out[0] = '\0';
  snprintf(path, sizeof path, "%s\\starts.log", s->dir);
  if ((f = fopen(path, "rb")) == NULL)
    return out;
  while (fgets(line, sizeof line, f) != NULL) {
    unsigned long pid = 0;
    if (sscanf(line, "%15s %lu", what, &pid) != 2)
      continue;
    for (i = 0; i < n && seen[i] != pid; i++)
      ;
    if (i == n && n < 16)
      seen[n++] = pid;
    used += (size_t)snprintf(out + used, sizeof out - used, "%s%s %d", used ? ", " : "", what, i + 1);
    if (used >= sizeof out)
      break;
  }
  fclose(f);
  return out;
}

static void svc_create_on(svc_t *s, const char *tag, const char *depends_on);

/* Registers cs-testsvc.exe as "cs-test-<pid>-<tag>", demand start, with a folder of its own. */
static void svc_create(svc_t *s, const char *tag) { svc_create_on(s, tag, NULL); }

/* The same, depending on the service depends_on (NULL: none). */
static void svc_create_on(svc_t *s, const char *tag, const char *depends_on) {
  char exe[1024], image[2048];

  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "cs-test-%lu-%s", (unsigned long)GetCurrentProcessId(), tag);
  cs_test_mkdtemp("cs-svc", s->dir, sizeof s->dir);
  if (cs_plat_sibling_path("cs-testsvc", exe, sizeof exe, NULL) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "cs-testsvc.exe is not next to the test");
    return;
  }
  snprintf(image, sizeof image, "\"%s\" %s \"%s\"", exe, s->name, s->dir);
  s->created = cs_test_service_create(s->name, image, depends_on, NULL);
}

static SC_HANDLE svc_handle(const svc_t *s, SC_HANDLE *scm) {
  wchar_t wname[96];
  MultiByteToWideChar(CP_UTF8, 0, s->name, -1, wname, 96);
  *scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  return *scm != NULL ? OpenServiceW(*scm, wname, SERVICE_ALL_ACCESS) : NULL;
}

/* The SCM's word on the service's state (0 when it cannot be asked). */
static DWORD svc_state(const svc_t *s) {
  SC_HANDLE scm, svc = svc_handle(s, &scm);
  SERVICE_STATUS_PROCESS st;
  DWORD n, state = 0;
  if (svc != NULL && QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (BYTE *)&st, sizeof st, &n))
    state = st.dwCurrentState;
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  return state;
}

/* Stops the service (waiting out a slow start first) and deletes it, with the SCM's
 * own calls rather than the code under test, then removes its folder. */
static void svc_delete(svc_t *s) {
  SC_HANDLE scm, svc;
  SERVICE_STATUS ss;
  long long until = now_ms() + 15000;
  if (s->created) {
    svc = svc_handle(s, &scm);
    CHECK(svc != NULL);
    while (svc != NULL && now_ms() < until) {
      DWORD state = svc_state(s);
      if (state == SERVICE_STOPPED || state == 0)
        break;
      if (state == SERVICE_RUNNING)
        (void)ControlService(svc, SERVICE_CONTROL_STOP, &ss);
      Sleep(50);
    }
    CHECK_INT(svc_state(s), ==, SERVICE_STOPPED);
    if (svc != NULL)
      CloseServiceHandle(svc);
    if (scm != NULL)
      CloseServiceHandle(scm);
    cs_test_service_delete(s->name);
    s->created = 0;
  }
  (void)cs_plat_remove_tree(s->dir, NULL);
}

CS_TEST(restart_starts_a_stopped_service_then_restarts_it) {
  svc_t s;
  cs_err_t err;
  unsigned long pids[4] = {0};
  svc_create(&s, "twice");
  CHECK_INT(cs_plat_service_exists(s.name, &err), ==, 1);
  CHECK_INT(svc_state(&s), ==, SERVICE_STOPPED);
  /* stopped when asked: started */
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(svc_state(&s), ==, SERVICE_RUNNING);
  CHECK_INT(starts(&s, pids, 4), ==, 1);
  /* running when asked: stopped, then started again by a new process */
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(svc_state(&s), ==, SERVICE_RUNNING);
  CHECK_INT(starts(&s, pids, 4), ==, 2);
  CHECK(pids[0] != 0 && pids[1] != 0 && pids[0] != pids[1]);
  CHECK(has_file(&s, "running"));
  svc_delete(&s);
}

CS_TEST(failed_start_names_the_exit_code) {
  svc_t s;
  cs_err_t err;
  svc_create(&s, "fails");
  put_file(&s, "fail", "42");
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_EFAILED);
  CHECK_INT(err.raw, ==, 42);
  CHECK_CONTAINS(err.text, s.name);
  CHECK_CONTAINS(err.text, "service-specific) exit code 42");
  CHECK_INT(starts(&s, NULL, 0), ==, 1);
  CHECK_INT(svc_state(&s), ==, SERVICE_STOPPED);
  /* a Win32 exit code comes with the system's text */
  put_file(&s, "fail", "w5");
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_EFAILED);
  CHECK_INT(err.raw, ==, 5);
  CHECK_CONTAINS(err.text, "with exit code 5:");
  /* running, then a restart whose start fails: stopped first, then the failure */
  drop_file(&s, "fail");
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(svc_state(&s), ==, SERVICE_RUNNING);
  put_file(&s, "fail", "7");
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_EFAILED);
  CHECK_INT(err.raw, ==, 7);
  CHECK_INT(starts(&s, NULL, 0), ==, 4);
  CHECK(!has_file(&s, "running")); /* the running one was stopped */
  svc_delete(&s);
}

CS_TEST(missing_service_is_said_clearly) {
  char name[96];
  cs_err_t err;
  snprintf(name, sizeof name, "cs-test-%lu-nosuch", (unsigned long)GetCurrentProcessId());
  CHECK_INT(cs_plat_service_exists(name, &err), ==, 0);
  CHECK_INT(cs_plat_service_restart(name, NULL, NULL, 5000, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, name);
  CHECK_CONTAINS(err.text, "no service named");
  CHECK_INT(cs_plat_service_exists("", &err), ==, CS_EINVAL);
  CHECK_INT(cs_plat_service_restart(NULL, NULL, NULL, 5000, &err), ==, CS_EINVAL);
  CHECK_INT(cs_plat_service_restart(name, NULL, NULL, 0, &err), ==, CS_EINVAL);
}

CS_TEST(slow_start_is_bounded_by_the_timeout) {
  svc_t s;
  cs_err_t err;
  long long t0;
  svc_create(&s, "slow");
  put_file(&s, "slowstart", "4000");
  t0 = now_ms();
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, 1000, &err), ==, CS_ETIMEDOUT);
  CHECK_INT(now_ms() - t0, >=, 900);
  CHECK_INT(now_ms() - t0, <, 3000);
  CHECK_CONTAINS(err.text, "did not start within 1000 ms");
  CHECK_CONTAINS(err.text, "start pending");
  svc_delete(&s);
}

/* A service whose process stays after it reported STOPPED (its ports and files still
 * held): the restart starts the new process only once the old one has ended. */
CS_TEST(restart_waits_for_the_old_process_to_end) {
  svc_t s;
  cs_err_t err;
  long long t0;
  svc_create(&s, "linger");
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
  put_file(&s, "linger", "1500");
  t0 = now_ms();
  CHECK_INT(cs_plat_service_restart(s.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(now_ms() - t0, >=, 1400);
  CHECK_STR(events(&s), "start 1, exit 1, start 2");
  CHECK_INT(svc_state(&s), ==, SERVICE_RUNNING);
  /* a stop returns once the process has ended, and is bounded by its timeout */
  CHECK_INT(cs_plat_service_stop(s.name, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_STR(events(&s), "start 1, exit 1, start 2, exit 2");
  drop_file(&s, "linger");
  CHECK_INT(cs_plat_service_start(s.name, NULL, NULL, 1, RESTART_MS, &err), ==, CS_OK);
  put_file(&s, "linger", "4000");
  t0 = now_ms();
  CHECK_INT(cs_plat_service_stop(s.name, NULL, 1000, &err), ==, CS_ETIMEDOUT);
  CHECK_INT(now_ms() - t0, <, 3000);
  CHECK_CONTAINS(err.text, "reported stopped, but its process");
  CHECK_CONTAINS(err.text, "had not ended within 1000 ms");
  Sleep(3500); /* the lingering process ends */
  CHECK_STR(events(&s), "start 1, exit 1, start 2, exit 2, start 3, exit 3");
  svc_delete(&s);
}

/* fresh: a process started by this call; otherwise one that runs is left as it is. */
CS_TEST(start_fresh_or_as_it_is) {
  svc_t s;
  cs_err_t err;
  svc_create(&s, "fresh");
  CHECK_INT(cs_plat_service_start(s.name, NULL, NULL, 0, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(cs_plat_service_start(s.name, NULL, NULL, 0, RESTART_MS, &err), ==, CS_OK);
  CHECK_STR(events(&s), "start 1");
  CHECK_INT(cs_plat_service_start(s.name, NULL, NULL, 1, RESTART_MS, &err), ==, CS_OK);
  CHECK_STR(events(&s), "start 1, exit 1, start 2");
  CHECK_INT(svc_state(&s), ==, SERVICE_RUNNING);
  CHECK_INT(cs_plat_service_start(s.name, NULL, NULL, 1, 0, &err), ==, CS_EINVAL);
  svc_delete(&s);
}

/* 1 under Wine, whose EnumDependentServicesW lists nothing (a stub that succeeds) and
 * whose SCM stops a service whose dependents run: there, the listing and the refusal
 * are not proven, only what is done with a list. */
static int under_wine(void) {
  HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
  return ntdll != NULL && GetProcAddress(ntdll, "wine_get_version") != NULL;
}

/* A service that another running service depends on: that one is stopped first and
 * started again after (the SCM refuses to stop a service whose dependents run). */
CS_TEST(dependent_services_stopped_first_started_after) {
  svc_t base, dep;
  cs_err_t err;
  char *names = NULL, want[128];
  svc_create(&base, "base");
  svc_create_on(&dep, "dep", base.name);
  CHECK_INT(cs_plat_service_start(base.name, NULL, NULL, 0, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(cs_plat_service_start(dep.name, NULL, NULL, 0, RESTART_MS, &err), ==, CS_OK);
  snprintf(want, sizeof want, "%s\n", dep.name);
  CHECK_INT(cs_plat_service_dependents(base.name, &names, &err), ==, CS_OK);
  CHECK_STR(names, under_wine() ? "" : want);
  free(names);
  names = NULL;
  if (!under_wine()) { /* the restart finds the dependent itself */
    CHECK_INT(cs_plat_service_restart(base.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
    CHECK_STR(events(&base), "start 1, exit 1, start 2");
    CHECK_STR(events(&dep), "start 1, exit 1, start 2");
  }
  CHECK_INT(svc_state(&base), ==, SERVICE_RUNNING);
  CHECK_INT(svc_state(&dep), ==, SERVICE_RUNNING);

  /* stopped and started apart with the list (the renewal's stop, then its start):
   * the dependent first, its process ended; started again after the service */
  CHECK_INT(cs_plat_service_stop(base.name, want, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(svc_state(&base), ==, SERVICE_STOPPED);
  CHECK_INT(svc_state(&dep), ==, SERVICE_STOPPED);
  CHECK_STR(events(&dep), under_wine() ? "start 1, exit 1" : "start 1, exit 1, start 2, exit 2");
  CHECK_INT(cs_plat_service_start(base.name, want, NULL, 1, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(svc_state(&base), ==, SERVICE_RUNNING);
  CHECK_INT(svc_state(&dep), ==, SERVICE_RUNNING);
  CHECK_INT(starts(&dep, NULL, 0), ==, under_wine() ? 2 : 3);

  /* a dependent that does not run is not listed, and not started by a restart */
  CHECK_INT(cs_plat_service_stop(dep.name, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(cs_plat_service_dependents(base.name, &names, &err), ==, CS_OK);
  CHECK_STR(names, "");
  free(names);
  CHECK_INT(cs_plat_service_restart(base.name, NULL, NULL, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(svc_state(&dep), ==, SERVICE_STOPPED);
  svc_delete(&dep);
  svc_delete(&base);
}

/* "Already running" after a stop: only a process other than the one that ran counts. */
CS_TEST(already_running_counts_only_a_new_process) {
  CHECK(cs__win_new_process_runs(SERVICE_RUNNING, 200, 100));
  CHECK(cs__win_new_process_runs(SERVICE_START_PENDING, 200, 0));
  CHECK(!cs__win_new_process_runs(SERVICE_RUNNING, 100, 100)); /* the old one: never stopped */
  CHECK(!cs__win_new_process_runs(SERVICE_RUNNING, 0, 100));
  CHECK(!cs__win_new_process_runs(SERVICE_STOPPED, 0, 0));
  CHECK(!cs__win_new_process_runs(SERVICE_STOP_PENDING, 200, 100));
}

/* restart_command / status_command replace the SCM, through cmd.exe /c. */
CS_TEST(commands_replace_the_scm) {
  svc_t s;
  cs_err_t err;
  char restart[1400], status[1400];
  long long t0;
  cs_test_mkdtemp("cs-svc-cmd", s.dir, sizeof s.dir);
  s.created = 0;
  /* no service name needed with a restart command; its exit 0 is all there is */
  CHECK_INT(cs_plat_service_restart(NULL, "exit 0", NULL, 5000, &err), ==, CS_OK);
  /* up once the marker exists: the restart command writes it, the status command looks */
  snprintf(restart, sizeof restart, "echo up> \"%s\\up\"", s.dir);
  snprintf(status, sizeof status, "if exist \"%s\\up\" (exit 0) else (exit 1)", s.dir);
  CHECK_INT(cs_plat_service_restart("demo", restart, status, 10000, &err), ==, CS_OK);
  CHECK(has_file(&s, "up"));
  /* the restart command's exit code */
  CHECK_INT(cs_plat_service_restart("demo", "exit 7", status, 10000, &err), ==, CS_EFAILED);
  CHECK_INT(err.raw, ==, 7);
  CHECK_CONTAINS(err.text, "restart command exited 7");
  /* a status command that never says yes: the timeout, with what it said */
  t0 = now_ms();
  CHECK_INT(cs_plat_service_restart("demo", "exit 0", "exit 1", 1500, &err), ==, CS_ETIMEDOUT);
  CHECK_INT(now_ms() - t0, >=, 1400);
  CHECK_INT(now_ms() - t0, <, 6000);
  CHECK_CONTAINS(err.text, "the status command exited 1");
  (void)cs_plat_remove_tree(s.dir, NULL);
}

/* The SCM restarts, then the admin's status command decides when it is up. */
CS_TEST(status_command_after_scm_restart) {
  svc_t s;
  cs_err_t err;
  char status[1400];
  svc_create(&s, "status");
  snprintf(status, sizeof status, "if exist \"%s\\running\" (exit 0) else (exit 1)", s.dir);
  CHECK_INT(cs_plat_service_restart(s.name, NULL, status, RESTART_MS, &err), ==, CS_OK);
  CHECK_INT(starts(&s, NULL, 0), ==, 1);
  CHECK_INT(svc_state(&s), ==, SERVICE_RUNNING);
  /* the service stops, the status command never sees it up: not "restarted" */
  put_file(&s, "fail", "3");
  CHECK(cs_plat_service_restart(s.name, NULL, status, 3000, &err) < 0);
  CHECK_INT(starts(&s, NULL, 0), ==, 2);
  svc_delete(&s);
}

/* ---- certsteward install / uninstall / service (certsteward.exe) ------------------- */

/* certsteward.exe as CTest names it; under Wine a Linux path is reached through Z:. */
static int bin_path(char *buf, size_t len) {
  const char *b = getenv("CS_BIN");
  if (b == NULL || *b == '\0')
    return 0;
  snprintf(buf, len, "%s%s", b[0] == '/' ? "Z:" : "", b);
  return cs_plat_exists(buf);
}

/* Runs certsteward.exe with up to three arguments; its exit status, its output in out. */
static int run_bin(const char *bin, const char *a1, const char *a2, const char *a3, char *out, size_t len) {
  const char *argv[] = {bin, a1, a2, a3, NULL};
  cs_run_result_t res;
  cs_err_t err;
  int status = -1;
  out[0] = '\0';
  if (cs_plat_run(argv, NULL, 0, 60000, 64 * 1024, &res, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "cannot run %s: %s", bin, err.text);
    return -1;
  }
  if (!res.timed_out)
    status = res.exit_code;
  snprintf(out, len, "%s", res.out ? res.out : "");
  cs_run_result_free(&res);
  return status;
}

/* The value name of the event source's registry key: a string into buf ("" when
 * missing), or TypesSupported into *dword. */
static void event_source_value(const wchar_t *name, wchar_t *buf, DWORD size, DWORD *dword) {
  DWORD n = size;
  buf[0] = L'\0';
  *dword = 0;
  if (wcscmp(name, L"TypesSupported") == 0) {
    n = sizeof *dword;
    (void)RegGetValueW(HKEY_LOCAL_MACHINE, L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\certsteward",
                       name, RRF_RT_REG_DWORD, NULL, dword, &n);
  } else if (RegGetValueW(HKEY_LOCAL_MACHINE,
                          L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\certsteward", name,
                          RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, NULL, buf, &n) != ERROR_SUCCESS) {
    buf[0] = L'\0';
  }
}

/* A message of certsteward.exe's message table, as Event Viewer renders it. */
static void message(const char *bin, DWORD id, char *out, size_t len) {
  wchar_t wbin[1024], *text = NULL;
  HMODULE h;
  out[0] = '\0';
  MultiByteToWideChar(CP_UTF8, 0, bin, -1, wbin, 1024);
  h = LoadLibraryExW(wbin, NULL, LOAD_LIBRARY_AS_DATAFILE | LOAD_LIBRARY_AS_IMAGE_RESOURCE);
  if (h == NULL)
    h = LoadLibraryExW(wbin, NULL, LOAD_LIBRARY_AS_DATAFILE);
  CHECK(h != NULL);
  if (h == NULL)
    return;
  if (FormatMessageW(FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_IGNORE_INSERTS, h,
                     id, 0, (LPWSTR)(void *)&text, 0, NULL) > 0)
    WideCharToMultiByte(CP_UTF8, 0, text, -1, out, (int)len, NULL, NULL);
  LocalFree(text);
  FreeLibrary(h);
}

/* The service's configuration as the SCM keeps it. */
static int query_config(char *image, size_t len, DWORD *start, DWORD *type) {
  union {
    QUERY_SERVICE_CONFIGW c;
    unsigned char b[8192];
  } q;
  SC_HANDLE scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT), svc = NULL;
  DWORD n = 0;
  int ok = 0;
  if (scm != NULL && (svc = OpenServiceW(scm, L"certsteward", SERVICE_QUERY_CONFIG)) != NULL &&
      QueryServiceConfigW(svc, &q.c, sizeof q, &n)) {
    WideCharToMultiByte(CP_UTF8, 0, q.c.lpBinaryPathName, -1, image, (int)len, NULL, NULL);
    *start = q.c.dwStartType;
    *type = q.c.dwServiceType;
    ok = 1;
  }
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  return ok;
}

/* certsteward.exe found, no service certsteward yet (the test would replace it), and a
 * new folder dir for the test's files: 1, else 0 with the failure recorded. */
static int install_ready(char *bin, size_t bin_len, char *dir, size_t dir_len) {
  cs_err_t err;
  CHECK(bin_path(bin, bin_len));
  if (!bin_path(bin, bin_len))
    return 0;
  if (cs_plat_service_exists("certsteward", &err) != 0) {
    cs_test_fail(__FILE__, __LINE__, "a service certsteward exists already: this test would replace it");
    return 0;
  }
  cs_test_mkdtemp("cs-install", dir, dir_len);
  return 1;
}

/* Wine cannot show the account, delayed start, failure actions, ACLs or stored events
 * (see service/winsvc.c); what it keeps is checked here. The service is not started:
 * tests/integration/win_e2e.sh runs it end to end. */
CS_TEST(install_registers_service_and_event_source) {
  char bin[1024], dir[512], config[600], full[600], path[700], image[2048], out[4096], want[800];
  wchar_t value[1024];
  DWORD types = 0, start = 0, type = 0;
  cs_err_t err;
  FILE *f;

  if (!install_ready(bin, sizeof bin, dir, sizeof dir))
    return;
  snprintf(config, sizeof config, "%s\\certsteward.ini", dir);
  f = fopen(config, "wb");
  CHECK(f != NULL);
  if (f == NULL)
    return;
  fprintf(f, "[watch]\r\nfolder = %s\\drop\r\n[store]\r\nstate_dir = %s\\state\r\n", dir, dir);
  fclose(f);
  GetFullPathNameA(config, sizeof full, full, NULL);

  CHECK_INT(run_bin(bin, "install", "--config", config, out, sizeof out), ==, 0);
  CHECK_CONTAINS(out, "service certsteward registered");
  CHECK_INT(cs_plat_service_exists("certsteward", &err), ==, 1);
  CHECK(query_config(image, sizeof image, &start, &type));
  CHECK_INT(start, ==, SERVICE_AUTO_START);
  CHECK_INT(type, ==, SERVICE_WIN32_OWN_PROCESS);
  /* "<full path of certsteward.exe>" service --config <the file, absolute> */
  CHECK(image[0] == '"');
  CHECK_CONTAINS(image, "certsteward.exe\" service --config ");
  snprintf(want, sizeof want, "--config %s", full);
  CHECK(strlen(image) >= strlen(want) && strcmp(image + strlen(image) - strlen(want), want) == 0);
  /* the event source names the same executable, which carries the message table */
  event_source_value(L"EventMessageFile", value, sizeof value, &types);
  WideCharToMultiByte(CP_UTF8, 0, value, -1, path, sizeof path, NULL, NULL);
  CHECK(path[0] != '\0' && strncmp(image + 1, path, strlen(path)) == 0 && image[1 + strlen(path)] == '"');
  event_source_value(L"TypesSupported", value, sizeof value, &types);
  CHECK_INT(types, ==, 7);
  message(path, (1u << 30) | 1000u, out, sizeof out);
  CHECK_CONTAINS(out, "The certsteward service started (version %1)");
  message(path, (3u << 30) | 1003u, out, sizeof out);
  CHECK_CONTAINS(out, "The managed service cannot be renewed");
  /* the folders: the program data folder, the drop and state folders of the configuration */
  snprintf(path, sizeof path, "%s\\drop", dir);
  CHECK(cs_plat_exists(path));
  snprintf(path, sizeof path, "%s\\state", dir);
  CHECK(cs_plat_exists(path));
  CHECK(cs_plat_default_config_path(path, sizeof path) == CS_OK && strrchr(path, '\\') != NULL);
  *strrchr(path, '\\') = '\0';
  CHECK(cs_plat_exists(path));

  /* again: updated, not an error */
  CHECK_INT(run_bin(bin, "install", "--config", config, out, sizeof out), ==, 0);
  CHECK_CONTAINS(out, "service certsteward updated");
  /* (certsteward service from a console exits 2 at once on Windows; Wine's dispatcher
   * waits 10 s for the SCM first, so it is not tried here) */

  CHECK_INT(run_bin(bin, "uninstall", NULL, NULL, out, sizeof out), ==, 0);
  CHECK_CONTAINS(out, "stopped and deleted");
  CHECK_INT(cs_plat_service_exists("certsteward", &err), ==, 0);
  event_source_value(L"EventMessageFile", value, sizeof value, &types);
  CHECK(value[0] == L'\0');
  CHECK(cs_plat_exists(config)); /* configuration and state are kept */
  snprintf(path, sizeof path, "%s\\state", dir);
  CHECK(cs_plat_exists(path));
  CHECK_INT(run_bin(bin, "uninstall", NULL, NULL, out, sizeof out), ==, 0);
  CHECK_CONTAINS(out, "was not installed");

  if (cs_plat_service_exists("certsteward", &err) == 1) /* a check above failed: leave nothing behind */
    (void)run_bin(bin, "uninstall", NULL, NULL, out, sizeof out);
  (void)cs_plat_remove_tree(dir, NULL);
}

/* The first name in dir matching pattern (FindFirstFile), as a full path into buf; 0 when none. */
static int find_one(const char *dir, const char *pattern, char *buf, size_t len) {
  char spec[1024];
  WIN32_FIND_DATAA fd;
  HANDLE h;
  snprintf(spec, sizeof spec, "%s\\%s", dir, pattern);
  if ((h = FindFirstFileA(spec, &fd)) == INVALID_HANDLE_VALUE)
    return 0;
  snprintf(buf, len, "%s\\%s", dir, fd.cFileName);
  FindClose(h);
  return 1;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

/* What install finds and an administrator did not make is moved aside, never used:
 * here a configuration and a manifest with a second name (under Wine every file is
 * this user's, so a hard link stands for a planted file; owners are judged in
 * test_win_adopt). The configuration is written again from the template; the
 * transaction folder goes aside as a whole; an administrator's journal stays. The
 * failure actions are read back where the SCM keeps them (Wine: it does not, 124). */
CS_TEST(install_moves_aside_what_it_did_not_make) {
  char bin[1024], dir[512], config[600], tmpl[600], path[1200], found[1200], text[1024], out[4096];
  const char *argv[7];
  SC_HANDLE scm = NULL, svc = NULL;
  cs_run_result_t res;
  cs_err_t err;
  wchar_t *a = NULL, *b = NULL;
  unsigned char *data = NULL;
  size_t len = 0;

  if (!install_ready(bin, sizeof bin, dir, sizeof dir))
    return;
  snprintf(config, sizeof config, "%s\\certsteward.ini", dir);
  snprintf(tmpl, sizeof tmpl, "%s\\template.ini", dir);
  snprintf(text, sizeof text, "[watch]\r\nfolder = %s\\drop\r\n[store]\r\nstate_dir = %s\\state\r\n", dir, dir);
  write_file(tmpl, text);
  snprintf(path, sizeof path, "%s\\theirs.ini", dir);
  write_file(path, "[connector]\r\nrestart_command = C:\\Users\\Public\\evil.cmd\r\n");
  a = cs__win_path(config);
  b = cs__win_path(path);
  CHECK(a != NULL && b != NULL && CreateHardLinkW(a, b, NULL));
  snprintf(path, sizeof path, "%s\\state\\tx\\store", dir);
  CHECK_INT(cs_plat_mkdirs(path, 0700, &err), ==, 0);
  snprintf(path, sizeof path, "%s\\state\\journal", dir);
  write_file(path, "admin's journal\n");
  snprintf(path, sizeof path, "%s\\other", dir);
  write_file(path, "name\tC:\\Windows\\System32\\drivers\\etc\\hosts\n");
  free(a);
  free(b);
  a = cs__win_path(path);
  snprintf(path, sizeof path, "%s\\state\\tx\\store\\manifest", dir);
  b = cs__win_path(path);
  CHECK(a != NULL && b != NULL && CreateHardLinkW(b, a, NULL));

  argv[0] = bin;
  argv[1] = "install";
  argv[2] = "--config";
  argv[3] = config;
  argv[4] = "--config-template";
  argv[5] = tmpl;
  argv[6] = NULL;
  CHECK_INT(cs_plat_run(argv, NULL, 0, 60000, 64 * 1024, &res, &err), ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  cs_run_result_free(&res);

  /* the configuration: theirs aside, with its content; a new one from the template */
  CHECK(find_one(dir, "certsteward.ini.untrusted-*", found, sizeof found));
  CHECK_INT(cs_plat_read_file(found, 1 << 20, 0, &data, &len, &err), ==, 0);
  CHECK_CONTAINS(data != NULL ? (const char *)data : "", "evil.cmd");
  cs_plat_free_file(data, len);
  data = NULL;
  CHECK_INT(cs_plat_read_file(config, 1 << 20, 0, &data, &len, &err), ==, 0);
  CHECK_STR(data != NULL ? (const char *)data : "", text);
  cs_plat_free_file(data, len);
  /* the transaction folder holding a planted manifest: aside as a whole; the journal stays */
  snprintf(path, sizeof path, "%s\\state", dir);
  CHECK(find_one(path, "tx.untrusted-*", found, sizeof found));
  snprintf(path, sizeof path, "%s\\store\\manifest", found);
  CHECK(cs_plat_exists(path));
  snprintf(path, sizeof path, "%s\\state\\tx", dir);
  CHECK(!cs_plat_exists(path));
  snprintf(path, sizeof path, "%s\\state\\journal", dir);
  CHECK(cs_plat_exists(path));

  if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) != NULL &&
      (svc = OpenServiceW(scm, L"certsteward", SERVICE_QUERY_CONFIG)) != NULL) {
    union {
      SERVICE_FAILURE_ACTIONSW fa;
      unsigned char b[1024];
    } q;
    DWORD n = 0;
    if (QueryServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, q.b, sizeof q, &n)) {
      CHECK_INT(q.fa.cActions, ==, 3);
      if (q.fa.cActions == 3) {
        CHECK_INT(q.fa.lpsaActions[1].Type, ==, SC_ACTION_RESTART);
        CHECK_INT(q.fa.lpsaActions[2].Type, ==, SC_ACTION_NONE);
      }
    } else {
      CHECK_INT(GetLastError(), ==, ERROR_INVALID_LEVEL); /* Wine 8 keeps no failure actions */
    }
  }
  CHECK(svc != NULL);
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);

  free(a);
  free(b);
  CHECK_INT(run_bin(bin, "uninstall", NULL, NULL, out, sizeof out), ==, 0);
  (void)cs_plat_remove_tree(dir, NULL);
}
