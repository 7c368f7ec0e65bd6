/* cs-testsvc.exe: a small Windows service for tests/unit/test_win_service.c, which
 * registers it with the SCM (under Wine in CI) and restarts it through certsteward.
 *
 *   cs-testsvc.exe NAME FOLDER   (the SCM starts it so, from the service's ImagePath)
 *
 * At every start it appends "start <pid>" to FOLDER\starts.log, so that a test can
 * count starts. Then, according to files in FOLDER:
 *   fail      holds a number N: the start fails, the service stops with the
 *             service-specific exit code N; "w" before the number (w5): the Win32
 *             exit code N instead;
 *   slowstart holds a number of milliseconds to stay START_PENDING first;
 *   settings  holds the path of a settings file (as the connector's tls.json): read at
 *             the start and kept open as the connector keeps it (read and write, shared
 *             for reading only: no one may replace or write it meanwhile); when the
 *             service stops, what it read is written back through that handle (a
 *             connector that saves its settings when it stops);
 *   linger    holds a number of milliseconds the process stays after it reported
 *             STOPPED, its files still open (a slow exit);
 * otherwise it reports RUNNING, creates FOLDER\running, and stops on STOP (removing
 * FOLDER\running first). Just before its process ends it appends "exit <pid>" to
 * FOLDER\starts.log. */
#include <windows.h>
#include <shellapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static wchar_t name[256], folder[MAX_PATH];
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static HANDLE stop_event;

static void report(DWORD state, DWORD win32_exit, DWORD specific_exit, DWORD wait_hint) {
  status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  status.dwCurrentState = state;
  status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP : 0;
  status.dwWin32ExitCode = win32_exit;
  status.dwServiceSpecificExitCode = specific_exit;
  status.dwWaitHint = wait_hint;
  status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : status.dwCheckPoint + 1;
  SetServiceStatus(status_handle, &status);
}

static void path_of(wchar_t *out, const wchar_t *file) { swprintf(out, MAX_PATH, L"%ls\\%ls", folder, file); }

/* The first line of FOLDER\file, "" when there is no such file. */
static void read_small(const wchar_t *file, char *buf, size_t len) {
  wchar_t path[MAX_PATH];
  FILE *f;
  buf[0] = '\0';
  path_of(path, file);
  if ((f = _wfopen(path, L"rb")) == NULL)
    return;
  if (fgets(buf, (int)len, f) == NULL)
    buf[0] = '\0';
  fclose(f);
}

static void append_log(const char *what) {
  wchar_t path[MAX_PATH];
  FILE *f;
  path_of(path, L"starts.log");
  if ((f = _wfopen(path, L"ab")) == NULL)
    return;
  fprintf(f, "%s %lu\n", what, (unsigned long)GetCurrentProcessId());
  fclose(f);
}

/* The settings file, open as the connector holds it, and what it read there. */
static HANDLE settings = INVALID_HANDLE_VALUE;
static char loaded[64 * 1024];
static DWORD loaded_len;

static void open_settings(void) {
  char file[MAX_PATH];
  wchar_t wfile[MAX_PATH];
  size_t n;
  read_small(L"settings", file, sizeof file);
  n = strlen(file);
  while (n > 0 && (file[n - 1] == '\n' || file[n - 1] == '\r'))
    file[--n] = '\0';
  if (n == 0 || MultiByteToWideChar(CP_UTF8, 0, file, -1, wfile, MAX_PATH) == 0)
    return;
  settings = CreateFileW(wfile, GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, NULL);
  if (settings != INVALID_HANDLE_VALUE && !ReadFile(settings, loaded, sizeof loaded, &loaded_len, NULL))
    loaded_len = 0;
}

static void save_settings(void) {
  DWORD n;
  if (settings == INVALID_HANDLE_VALUE)
    return;
  if (SetFilePointer(settings, 0, NULL, FILE_BEGIN) == 0 && WriteFile(settings, loaded, loaded_len, &n, NULL))
    SetEndOfFile(settings);
  CloseHandle(settings);
  settings = INVALID_HANDLE_VALUE;
}

static DWORD WINAPI handler(DWORD control, DWORD type, void *data, void *context) {
  (void)type;
  (void)data;
  (void)context;
  switch (control) {
  case SERVICE_CONTROL_STOP:
    report(SERVICE_STOP_PENDING, NO_ERROR, 0, 5000);
    SetEvent(stop_event);
    return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE:
    return NO_ERROR;
  default:
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void WINAPI service_main(DWORD argc, wchar_t **argv) {
  wchar_t path[MAX_PATH];
  char fail[64], slow[64];
  HANDLE h;
  (void)argc;
  (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(name, handler, NULL);
  if (status_handle == NULL)
    return;
  report(SERVICE_START_PENDING, NO_ERROR, 0, 3000);
  append_log("start");
  read_small(L"slowstart", slow, sizeof slow);
  if (slow[0] != '\0') {
    long ms = strtol(slow, NULL, 10);
    for (; ms > 0; ms -= 200) {
      Sleep(ms < 200 ? (DWORD)ms : 200);
      report(SERVICE_START_PENDING, NO_ERROR, 0, 3000);
    }
  }
  read_small(L"fail", fail, sizeof fail);
  if (fail[0] == 'w') {
    report(SERVICE_STOPPED, (DWORD)strtoul(fail + 1, NULL, 10), 0, 0);
    return;
  }
  if (fail[0] != '\0') {
    report(SERVICE_STOPPED, ERROR_SERVICE_SPECIFIC_ERROR, (DWORD)strtoul(fail, NULL, 10), 0);
    return;
  }
  open_settings();
  stop_event = CreateEventW(NULL, TRUE, FALSE, NULL);
  path_of(path, L"running");
  h = CreateFileW(path, GENERIC_WRITE, 0, NULL, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  report(SERVICE_RUNNING, NO_ERROR, 0, 0);
  WaitForSingleObject(stop_event, INFINITE);
  DeleteFileW(path);
  read_small(L"linger", slow, sizeof slow);
  if (slow[0] == '\0')
    save_settings();
  report(SERVICE_STOPPED, NO_ERROR, 0, 0); /* with linger, main saves them after its wait */
}

int main(void) {
  SERVICE_TABLE_ENTRYW table[2];
  char linger[64];
  int argc = 0;
  wchar_t **argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  if (argv == NULL || argc != 3) {
    fprintf(stderr, "usage: cs-testsvc NAME FOLDER (started by the Service Control Manager)\n");
    return 2;
  }
  swprintf(name, sizeof name / sizeof name[0], L"%ls", argv[1]);
  swprintf(folder, sizeof folder / sizeof folder[0], L"%ls", argv[2]);
  LocalFree(argv);
  memset(table, 0, sizeof table);
  table[0].lpServiceName = name;
  table[0].lpServiceProc = service_main;
  if (!StartServiceCtrlDispatcherW(table)) {
    fprintf(stderr, "cs-testsvc: not started by the Service Control Manager (Windows error %lu)\n",
            (unsigned long)GetLastError());
    return 1;
  }
  /* the dispatcher returns once the service reported STOPPED: a lingering process
   * stays here, the settings file still open */
  read_small(L"linger", linger, sizeof linger);
  if (linger[0] != '\0') {
    Sleep((DWORD)strtoul(linger, NULL, 10));
    save_settings();
  }
  append_log("exit");
  return 0;
}
