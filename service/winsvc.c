/* certsteward install | uninstall | service: certsteward as a Windows service.
 *
 * install registers the service "certsteward" (LocalSystem, automatic delayed start,
 * after a crash or a stop on its own error restarted twice then left stopped
 * (win/svcconf.c), pre-shutdown notification; ImagePath "<this exe>"
 * service), the Event Log source "certsteward" (Application log; the message table
 * is in this executable) and makes %ProgramData%\certsteward, the drop folder and the
 * state folder, writable by Administrators and SYSTEM only, moving aside first what an
 * administrator did not make there (install_win.c); a configuration file that does
 * not exist yet is then written from a template with --set values (the MSI runs
 * install as its custom action, installer/windows/certsteward.wxs). Run again, it
 * updates, and keeps the access rules an administrator added to a safe folder.
 * uninstall stops and deletes the service and removes the event source; the
 * configuration and the state stay. service is what the SCM starts: ServiceMain runs
 * the daemon of certsteward run (daemon_main.c) and maps the SCM's stop onto it.
 *
 * Wine runs services and keeps their configuration, but ChangeServiceConfig2
 * (delayed start, failure actions, pre-shutdown time, SID type) either returns TRUE
 * and keeps nothing or fails with ERROR_INVALID_LEVEL (install then warns), every
 * service runs as one user, the Event Log stores nothing and files keep no ACL:
 * those parts are proven only on real Windows.
 * The build picks this file on Windows; svc_posix.c elsewhere. */
#include "cli.h"
#include "daemon.h"

#include <stdio.h>
#include <string.h>

#include <windows.h>
#include <shellapi.h>

#include <ctype.h>
#include <stdlib.h>

#include "events.h"
#include "platform.h"
#include "text.h"
#include "install_config.h"
#include "renewal.h"
#include "statedir.h"
#include "worker.h"
#include "install_log.h"
#include "install_undo.h"
#include "fault.h"
#include "install_win.h"
#include "win/svc.h"
#include "win/svcconf.h"
#include "win/acl.h"
#include "win/win.h"

#define EVENT_SOURCE_KEY L"SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\certsteward"
#define START_WAIT_HINT_MS 60000 /* configuration, worker, checks said once */
#define STOP_WAIT_HINT_MS (CS_DAEMON_STOP_GRACE_MS + 5000)
#define PRESHUTDOWN_MS (CS_DAEMON_STOP_GRACE_MS + 10000)
#define UNINSTALL_STOP_MS (CS_DAEMON_STOP_GRACE_MS + 10000)

static wchar_t service_name[] = L"certsteward";
static wchar_t description[] =
    L"Keeps the TLS certificate of BOARD Connector in service: installs renewed certificates dropped in its "
    L"folder, grants the connector's account its key, restarts the connector, proves the new certificate is "
    L"served and rolls back on failure.";

static int fail(const char *cmd, const char *what, DWORD e) {
  char text[256];
  fprintf(stderr, "certsteward %s: %s: %s\n", cmd, what, cs__win_text(e, text, sizeof text));
  if (e == ERROR_ACCESS_DENIED)
    fprintf(stderr, "certsteward %s: run it from an elevated prompt (Run as administrator)\n", cmd);
  return CS_EXIT_USAGE;
}

/* This executable's full path (new UTF-16 string), NULL on failure. */
static wchar_t *exe_path(void) {
  static wchar_t buf[32768];
  DWORD n = GetModuleFileNameW(NULL, buf, 32768);
  return n > 0 && n < 32768 ? _wcsdup(buf) : NULL;
}

/* Appends " --config <absolute FILE, quoted>" to b; -1 when FILE is not a valid path or
 * out of memory. Each free() gets a string, never a NULL (see image_path). */
static int append_config(cs_buf_t *b, const char *config) {
  wchar_t *wconfig = cs_install_full_path(config);
  char *config8 = NULL;
  if (wconfig != NULL) {
    config8 = cs__win_utf8(wconfig);
    free(wconfig);
  }
  if (config8 == NULL)
    return -1;
  cs_buf_puts(b, " --config ");
  cs__win_quote_arg(b, config8);
  free(config8);
  return 0;
}

/* ImagePath: "<exe>" service, with --config <absolute FILE> when one was given (the
 * service runs in System32: a relative path would be taken from there).
 * Each free() gets a string, never a NULL: given free(p) with p NULL on some path, GCC 12's
 * analyzer takes the NULL constant itself for freed, so that a later free() of another NULL
 * of that path (a configuration string never made) reads as a double free. */
static int image_path(const wchar_t *exe, const char *config, wchar_t **image) {
  char *exe8 = cs__win_utf8(exe);
  cs_buf_t b = CS_BUF_INIT;
  *image = NULL;
  if (exe8 != NULL) {
    cs_buf_printf(&b, "\"%s\" service", exe8);
    free(exe8);
    if ((config == NULL || append_config(&b, config) == 0) && cs_buf_str(&b) != NULL)
      *image = cs__win_wide(b.p);
  }
  cs_buf_free(&b);
  return *image != NULL ? 0 : -1;
}

/* What CreateService / ChangeServiceConfig cannot say. Under Wine each call returns
 * TRUE and keeps nothing: proven only on real Windows. */
static int configure(SC_HANDLE svc) {
  SERVICE_DESCRIPTIONW desc = {description};
  SERVICE_DELAYED_AUTO_START_INFO delayed = {TRUE};
  SC_ACTION actions[3];
  SERVICE_FAILURE_ACTIONSW failure;
  /* a crash or a stop with an exit code: restart, restart, then none
   * (win/svcconf.c says why) */
  SERVICE_FAILURE_ACTIONS_FLAG on_exit_code;
  SERVICE_PRESHUTDOWN_INFO preshutdown = {PRESHUTDOWN_MS};
  SERVICE_SID_INFO sid = {SERVICE_SID_TYPE_UNRESTRICTED}; /* NT SERVICE\certsteward in its token */
  struct {
    DWORD level;
    void *info;
    const char *what;
  } steps[] = {{SERVICE_CONFIG_DESCRIPTION, &desc, "description"},
               {SERVICE_CONFIG_DELAYED_AUTO_START_INFO, &delayed, "delayed automatic start"},
               {SERVICE_CONFIG_FAILURE_ACTIONS, &failure, "restart on failure"},
               {SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_exit_code, "failure actions flag"},
               {SERVICE_CONFIG_PRESHUTDOWN_INFO, &preshutdown, "pre-shutdown time"},
               {SERVICE_CONFIG_SERVICE_SID_INFO, &sid, "service SID"}};
  size_t i;
  cs__win_failure_actions(&failure, actions, &on_exit_code);
  for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    char what[100], text[256];
    DWORD e;
    if (ChangeServiceConfig2W(svc, steps[i].level, steps[i].info))
      continue;
    snprintf(what, sizeof what, "cannot set the service's %s", steps[i].what);
    if ((e = GetLastError()) != ERROR_INVALID_LEVEL)
      return fail("install", what, e);
    /* a system that does not know this setting (Wine); every Windows since Vista does */
    fprintf(stderr, "certsteward install: warning: %s: %s\n", what, cs__win_text(e, text, sizeof text));
  }
  return CS_EXIT_OK;
}

/* The service itself: created, or brought up to date when it is there. */
static int register_service(const wchar_t *image, int *updated) {
  SC_HANDLE scm = NULL, svc = NULL;
  DWORD access = SERVICE_CHANGE_CONFIG | SERVICE_START | SERVICE_QUERY_STATUS, e;
  int rc = CS_EXIT_USAGE;

  *updated = 0;
  if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE)) == NULL) {
    rc = fail("install", "cannot open the Service Control Manager", GetLastError());
    goto out;
  }
  svc = CreateServiceW(scm, service_name, service_name, access, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                       SERVICE_ERROR_NORMAL, image, NULL, NULL, NULL, NULL, NULL);
  if (svc == NULL && (e = GetLastError()) == ERROR_SERVICE_EXISTS) {
    *updated = 1;
    if ((svc = OpenServiceW(scm, service_name, access)) == NULL ||
        !ChangeServiceConfigW(svc, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, image, NULL,
                              NULL, NULL, L"LocalSystem", L"", service_name)) {
      rc = fail("install", "cannot update the service certsteward", GetLastError());
      goto out;
    }
  } else if (svc == NULL) {
    if (e == ERROR_SERVICE_MARKED_FOR_DELETE)
      fprintf(stderr, "certsteward install: the service certsteward is still being deleted: close the Services "
                      "console and anything else holding it open, then install again\n");
    rc = fail("install", "cannot create the service certsteward", e);
    goto out;
  }
  rc = configure(svc);
out:
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  return rc;
}

/* HKLM\...\EventLog\Application\certsteward: the message table is in exe. */
static int event_source(const wchar_t *exe) {
  DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE; /* 7 */
  HKEY key = NULL;
  LSTATUS e;
  e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, EVENT_SOURCE_KEY, 0, NULL, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, NULL, &key,
                      NULL);
  if (e == ERROR_SUCCESS)
    e = RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)exe,
                       (DWORD)((wcslen(exe) + 1) * sizeof *exe));
  if (e == ERROR_SUCCESS)
    e = RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types, sizeof types);
  if (key != NULL)
    RegCloseKey(key);
  return e == ERROR_SUCCESS ? CS_EXIT_OK : fail("install", "cannot register the event source certsteward", (DWORD)e);
}

static void on_failed(void *arg, const char *config_path, const char *why);

/* A first configuration that would not be valid: said in the Event Log too (an MSI
 * shows no standard error). */
static void config_invalid(const char *path, const char *why) { on_failed(NULL, path, why); }

static int install(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {"config-template", 1, NULL}, {"run", 1, NULL}, {NULL, 0, NULL}};
  char **av = argv; /* UTF-8 from the wide command line (wmain, main.c) */
  char **rest = malloc(sizeof *rest * ((size_t)argc + 1));
  const char **operands = malloc(sizeof *operands * (size_t)argc);
  wchar_t *exe = NULL, *image = NULL, *whome = NULL;
  char home[1024], path[1024], *image8 = NULL;
  int n_operands = 0, n_rest = 0, rc = CS_EXIT_USAGE, have_cfg = 0, updated = 0, moved;
  cs_install_ctx_t ctx = {NULL, NULL, NULL, 0};
  PSID self = NULL;
  cs_install_set_t sets[CS_INSTALL_MAX_SETS];
  static char recalled[CS_INSTALL_MAX_SETS][CS_INSTALL_REMEMBERED_MAX];
  size_t n_sets = 0;
  int fresh, made_begun = 0;
  cs_install_made_t made;
  cs_config_t cfg;
  cs_err_t err;

  if (operands == NULL || rest == NULL) {
    fprintf(stderr, "certsteward install: out of memory\n");
    goto out;
  }
  if (cs_install_take_sets(argc, av, rest, &n_rest, sets, &n_sets) != 0 ||
      cs_cli_parse(n_rest, rest, 2, opts, operands, &n_operands) != 0)
    goto out;
  if (n_operands > 0) {
    fprintf(stderr, "certsteward install: unexpected argument %s\n", operands[0]);
    goto out;
  }
  /* the program the service will run is judged before anything is made */
  if ((rc = cs_install_program_check()) != CS_EXIT_OK)
    goto out;
  rc = CS_EXIT_USAGE;
  if ((exe = exe_path()) == NULL || image_path(exe, opts[0].value, &image) != 0 ||
      (image8 = cs__win_utf8(image)) == NULL) {
    fprintf(stderr, "certsteward install: cannot make the service's command line (path not valid, or out of "
                    "memory)\n");
    goto out;
  }
  /* %ProgramData%\certsteward: the folder of the default configuration file */
  if (cs_plat_default_config_path(path, sizeof path) != CS_OK || strrchr(path, '\\') == NULL) {
    fprintf(stderr, "certsteward install: cannot find %%ProgramData%%\n");
    goto out;
  }
  snprintf(home, sizeof home, "%.*s", (int)(strrchr(path, '\\') - path), path);
  if (opts[0].value != NULL)
    snprintf(path, sizeof path, "%s", opts[0].value);
  if ((whome = cs_install_full_path(home)) == NULL) {
    fprintf(stderr, "certsteward install: %s is not a valid path\n", home);
    goto out;
  }
  /* Nothing is used before it is judged (install_win.c), each folder before what it
   * holds: the home folder, the configuration (moved aside, then written afresh from
   * the template, when an administrator did not make it), the drop and state folders,
   * what the state folder holds, the password file. */
  ctx.home = home;
  ctx.whome = whome;
  ctx.self = self = cs__win_self_sid();
  cs_install_made_begin(&made, opts[2].value);
  made_begun = 1;
  cs_install_made_watch(&made, home);
  cs_install_made_watch(&made, path);
  if ((rc = cs_install_folder(&ctx, home)) != CS_EXIT_OK || (rc = cs_install_file(&ctx, path)) != CS_EXIT_OK)
    goto out;
  /* a configuration to write (a first installation, or a repair after it was deleted):
   * what the installation was given stands in for what this run is not given */
  if ((fresh = !cs_plat_exists(path)) != 0 && cs_install_recall(sets, &n_sets, recalled) != 0) {
    rc = CS_EXIT_USAGE;
    goto out;
  }
  if ((rc = cs_install_first_config(path, opts[1].value, sets, n_sets, config_invalid)) != CS_EXIT_OK)
    goto out;
  if (fresh && cs_plat_exists(path))
    cs_install_remember(sets, n_sets);
  rc = CS_EXIT_USAGE;
  if (cs_cli_config(opts[0].value, &cfg) != 0)
    goto out;
  have_cfg = 1;
  cs_install_made_watch(&made, cfg.watch.folder);
  cs_install_made_watch(&made, cfg.store.state_dir);
  if ((rc = cs_install_folder(&ctx, cfg.watch.folder)) != CS_EXIT_OK ||
      (rc = cs_install_folder(&ctx, cfg.store.state_dir)) != CS_EXIT_OK ||
      (rc = cs_install_state(&ctx, cfg.store.state_dir)) != CS_EXIT_OK)
    goto out;
  moved = ctx.moved;
  if (cfg.watch.password_file != NULL && cfg.watch.password_file[0] != '\0') {
    if ((rc = cs_install_file(&ctx, cfg.watch.password_file)) != CS_EXIT_OK)
      goto out;
    if (ctx.moved > moved)
      fprintf(stderr, "certsteward install: write the PFX password again with certsteward set-password\n");
  }
  if ((rc = register_service(image, &updated)) != CS_EXIT_OK || (rc = event_source(exe)) != CS_EXIT_OK)
    goto out;
  printf("service certsteward %s: %s\n"
         "  LocalSystem, automatic (delayed) start; after a crash or a stop on its own error restarted twice, %d s "
         "later each time, then left stopped (a bad configuration stops it with exit code %d)\n"
         "event source certsteward registered in the Application log\n"
         "folders for Administrators and SYSTEM only:\n  %s\n  %s (drop)\n  %s (state)\n"
         "start it with: sc.exe start certsteward\n",
         updated ? "updated" : "registered", image8, CS_SVC_RESTART_MS / 1000, CS_SVC_EXIT_CONFIG, home,
         cfg.watch.folder, cfg.store.state_dir);
  /* test builds: an installation that fails after this run made everything (win_msi.sh) */
  if (cs_fault_fail("install_end", &err) != CS_OK) {
    fprintf(stderr, "certsteward install: %s\n", err.text);
    rc = CS_EXIT_USAGE;
    goto out;
  }
  rc = CS_EXIT_OK;
out:
  if (made_begun)
    cs_install_made_end(&made);
  if (have_cfg)
    cs_config_free(&cfg);
  free(exe);
  free(image);
  free(image8);
  free(whome);
  LocalFree(self);
  free(operands);
  free(rest);
  return rc;
}

/* The configuration the registered service reads: the FILE of "--config FILE" on its
 * command line (install puts it there when given one), else NULL: the default file
 * (free). */
static char *service_config(void) {
  char *start = NULL, *image = NULL, *config = NULL;
  wchar_t *w = NULL, **args = NULL;
  int n = 0, i;
  cs_err_t err;
  if (cs_plat_service_config("certsteward", &start, &image, &err) == CS_OK && image != NULL &&
      (w = cs__win_wide(image)) != NULL && (args = CommandLineToArgvW(w, &n)) != NULL)
    for (i = 1; i + 1 < n && config == NULL; i++)
      if (wcscmp(args[i], L"--config") == 0)
        config = cs__win_utf8(args[i + 1]);
  if (args != NULL)
    LocalFree(args);
  free(w);
  free(start);
  free(image);
  return config;
}

/* A renewal the service left unfinished (its journal in the state folder of the
 * configuration the service reads) is finished, as every command finishes one
 * (cs_cli_begin: rolled back, or completed when it had committed): once the service is
 * gone, no start would. The service must be stopped (it holds the state folder while it
 * runs). CS_EXIT_OK when there is none or it was finished; else nothing may be removed.
 * A configuration that cannot be read leaves nothing to go by: said, and the removal
 * goes on. */
static int finish_renewal(void) {
  cs_config_t cfg;
  cs_worker_t worker;
  cs_renewal_env_t env;
  cs_plat_lock_t *lock = NULL;
  char journal[4096], host[256], *config = service_config();
  int rc = CS_EXIT_OK;
  if (cs_cli_config(config, &cfg) != 0) {
    fprintf(stderr, "certsteward uninstall: warning: without its configuration, a renewal the service left "
                    "unfinished cannot be found: none is rolled back\n");
    free(config);
    return CS_EXIT_OK;
  }
  if (cs_plat_path_join(journal, sizeof journal, cfg.store.state_dir, CS_STATE_JOURNAL) != 0 ||
      cs_plat_exists(journal)) {
    if (cs_cli_host(&cfg, NULL, host, sizeof host) != 0 ||
        cs_cli_begin("uninstall", &cfg, host, &worker, &env, &lock) != 0) {
      fprintf(stderr,
              "certsteward uninstall: the renewal the service left unfinished in %s could not be finished: "
              "nothing was removed (start the service to finish the renewal, or run certsteward status)\n",
              cfg.store.state_dir);
      rc = CS_EXIT_USAGE;
    }
    cs_cli_end(lock);
  }
  cs_config_free(&cfg);
  free(config);
  return rc;
}

static int uninstall(int argc, char **argv) {
  SC_HANDLE scm = NULL, svc = NULL;
  cs_err_t err;
  LSTATUS e;
  int rc = CS_EXIT_USAGE, there = 1, stopped = 1;

  /* the MSI's removal: after StopServices, before DeleteServices (certsteward.wxs); a
   * refusal leaves everything as it was, and the removal's rollback starts the service.
   * The values remembered for a repair are not forgotten here: the MSI's commit action
   * CS_Forget does, once the removal can no longer be rolled back. */
  if (argc == 3 && strcmp(argv[2], "--finish-renewal") == 0) {
    if ((rc = finish_renewal()) == CS_EXIT_OK)
      printf("no renewal left unfinished\n");
    return rc;
  }
  if (cs_cli_no_arguments(argc, argv) != 0)
    return CS_EXIT_USAGE;
  if ((scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT)) == NULL) {
    rc = fail("uninstall", "cannot open the Service Control Manager", GetLastError());
    goto out;
  }
  if (cs__win_service_stop("certsteward", UNINSTALL_STOP_MS, &err) != CS_OK) {
    there = err.code != CS_ENOENT;
    stopped = !there;
    if (there) /* deleted all the same: it goes once it has stopped */
      fprintf(stderr, "certsteward uninstall: %s\n", err.text);
  }
  /* still running: it holds the state folder and finishes its renewal itself */
  if (stopped && (rc = finish_renewal()) != CS_EXIT_OK)
    goto out;
  rc = CS_EXIT_USAGE;
  if (there) {
    if ((svc = OpenServiceW(scm, service_name, DELETE)) == NULL && GetLastError() != ERROR_SERVICE_DOES_NOT_EXIST) {
      rc = fail("uninstall", "cannot open the service certsteward", GetLastError());
      goto out;
    }
    if (svc != NULL && !DeleteService(svc) && GetLastError() != ERROR_SERVICE_MARKED_FOR_DELETE) {
      rc = fail("uninstall", "cannot delete the service certsteward", GetLastError());
      goto out;
    }
    there = svc != NULL;
  }
  e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, EVENT_SOURCE_KEY);
  if (e != ERROR_SUCCESS && e != ERROR_FILE_NOT_FOUND) {
    rc = fail("uninstall", "cannot remove the event source certsteward", (DWORD)e);
    goto out;
  }
  if (cs_install_forget(&err) != CS_OK)
    fprintf(stderr, "certsteward uninstall: warning: %s\n", err.text);
  printf("service certsteward %s; event source certsteward removed\n"
         "the configuration and the state folder are kept\n",
         there ? "stopped and deleted" : "was not installed");
  rc = CS_EXIT_OK;
out:
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  return rc;
}

/* ---- the service: ServiceMain and the control handler -------------------------- */

static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status;
static CRITICAL_SECTION status_lock; /* reports come from ServiceMain's, the loop's and the handler's threads */
static int svc_argc;
static char **svc_argv;

static int config_failed; /* the daemon ended on its configuration (on_failed) */

/* code: the service-specific exit code (svcconf.h) when not 0. */
static void report(DWORD state, DWORD code, DWORD wait_hint) {
  EnterCriticalSection(&status_lock);
  if (status.dwCurrentState == SERVICE_STOPPED)
    goto out; /* STOPPED is the last word */
  if (status.dwCurrentState == SERVICE_STOP_PENDING && state != SERVICE_STOPPED)
    goto out; /* never back to RUNNING once stopping */
  status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  status.dwCurrentState = state;
  status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_PRESHUTDOWN : 0;
  status.dwWin32ExitCode = code != 0 ? ERROR_SERVICE_SPECIFIC_ERROR : NO_ERROR;
  status.dwServiceSpecificExitCode = code;
  status.dwWaitHint = wait_hint;
  status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : status.dwCheckPoint + 1;
  (void)SetServiceStatus(status_handle, &status);
out:
  LeaveCriticalSection(&status_lock);
}

static DWORD WINAPI control(DWORD code, DWORD type, void *data, void *context) {
  (void)type;
  (void)data;
  (void)context;
  switch (code) {
  case SERVICE_CONTROL_STOP:
  case SERVICE_CONTROL_PRESHUTDOWN: /* the machine shuts down: stop as on STOP, before the shutdown */
    report(SERVICE_STOP_PENDING, 0, STOP_WAIT_HINT_MS);
    cs_daemon_request_stop();
    return NO_ERROR;
  case SERVICE_CONTROL_INTERROGATE:
    return NO_ERROR;
  default:
    return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

static void on_running(void *arg) {
  (void)arg;
  report(SERVICE_RUNNING, 0, 0);
}

static void on_abandoned(void *arg) {
  (void)arg;
  report(SERVICE_STOPPED, 0, 0); /* asked to stop; the journal undoes the step at the next start */
}

/* The daemon could not start before its event sinks were open: CONFIG_ERROR in the
 * Event Log, with the line when the reason starts "<file>:<line>: ". */
static void on_failed(void *arg, const char *config_path, const char *why) {
  char line[16] = "-";
  size_t n = strlen(config_path), i = 0;
  (void)arg;
  config_failed = 1;
  if (strncmp(why, config_path, n) == 0 && why[n] == ':') {
    const char *p = why + n + 1;
    while (i + 1 < sizeof line && p[i] >= '0' && p[i] <= '9')
      i++;
    if (i > 0 && p[i] == ':') {
      memcpy(line, p, i);
      line[i] = '\0';
      why = p + i + 1 + (p[i + 1] == ' ');
    }
  }
  cs_event_say_system(CS_EV_CONFIG_ERROR, config_path, line, why);
}

/* The options come from the ImagePath's command line (svc_argv); the SCM's start
 * parameters (argv here) are not used. */
static void WINAPI service_main(DWORD argc, wchar_t **argv) {
  cs_daemon_host_t host = {on_running, on_failed, on_abandoned, NULL};
  DWORD win32, specific;
  int rc;
  (void)argc;
  (void)argv;
  if ((status_handle = RegisterServiceCtrlHandlerExW(service_name, control, NULL)) == NULL)
    return;
  report(SERVICE_START_PENDING, 0, START_WAIT_HINT_MS);
  rc = cs_daemon_main(svc_argc, svc_argv, &host);
  /* SERVICE_STOPPED with ERROR_SERVICE_SPECIFIC_ERROR: the SCM logs the code and,
   * fFailureActionsOnNonCrashFailures being FALSE, does not restart (svcconf.c) */
  cs__win_service_exit(rc, config_failed, &win32, &specific);
  report(SERVICE_STOPPED, specific, 0);
}

int cs_cmd_service(int argc, char **argv) {
  SERVICE_TABLE_ENTRYW table[2];
  DWORD e;
  svc_argc = argc;
  svc_argv = argv;
  InitializeCriticalSection(&status_lock);
  memset(table, 0, sizeof table);
  table[0].lpServiceName = service_name;
  table[0].lpServiceProc = service_main;
  if (StartServiceCtrlDispatcherW(table))
    return CS_EXIT_OK; /* the SCM has the exit code; the process ends with the service */
  e = GetLastError();
  if (e == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
    fprintf(stderr, "certsteward service: only the Service Control Manager starts this (certsteward install "
                    "registers it); to run the daemon in this console, use certsteward run\n");
    return CS_EXIT_USAGE;
  }
  return fail("service", "cannot connect to the Service Control Manager", e);
}

/* install --undo: what an undo may remove is %ProgramData%\certsteward and what is
 * below it, and the configuration, drop and state folders of the configuration the
 * service reads (the MSI's rollback runs before the service is deleted); when that
 * configuration cannot be read, only what is below %ProgramData%\certsteward. */
static int install_undo(const char *run) {
  char path[1024], file[1024], *config = service_config();
  wchar_t *home = NULL, *made[3] = {NULL, NULL, NULL};
  cs_config_t cfg;
  cs_err_t err;
  int rc = CS_EXIT_USAGE, i;
  if (cs_plat_default_config_path(path, sizeof path) != CS_OK || strrchr(path, '\\') == NULL) {
    fprintf(stderr, "certsteward install --undo: cannot find %%ProgramData%%: nothing was removed\n");
    goto out;
  }
  snprintf(file, sizeof file, "%s", config != NULL ? config : path);
  made[0] = cs_install_full_path(file);
  *strrchr(path, '\\') = '\0';
  if ((home = cs_install_full_path(path)) == NULL) {
    fprintf(stderr, "certsteward install --undo: %s is not a valid path: nothing was removed\n", path);
    goto out;
  }
  if (cs_plat_exists(file) && cs_config_load(&cfg, file, &err) == CS_OK) {
    made[1] = cs_install_full_path(cfg.watch.folder);
    made[2] = cs_install_full_path(cfg.store.state_dir);
    cs_config_free(&cfg);
  }
  rc = cs_install_undo(run, home, (const wchar_t *const *)made, 3);
out:
  for (i = 0; i < 3; i++)
    free(made[i]);
  free(home);
  free(config);
  return rc;
}

/* install and uninstall, with what they say kept in a log file and the Event Log
 * (install_log.h): an MSI shows neither standard output nor standard error. */
int cs_cmd_install(int argc, char **argv) {
  cs_install_log_t *log = cs_install_log_begin("install");
  int undo = argc >= 3 && strcmp(argv[2], "--undo") == 0, rc;
  if (undo && argc != 3 && !(argc == 5 && strcmp(argv[3], "--run") == 0)) {
    fprintf(stderr, "certsteward install: --undo takes only --run TOKEN\n");
    rc = CS_EXIT_USAGE;
  } else if (undo) {
    rc = install_undo(argc == 5 ? argv[4] : NULL);
  } else {
    (void)cs_install_made_clear(); /* before anything can fail: no rollback reads an older list */
    rc = install(argc, argv);
  }
  cs_install_log_end(log, rc);
  return rc;
}

int cs_cmd_uninstall(int argc, char **argv) {
  cs_install_log_t *log = cs_install_log_begin("uninstall");
  int rc = uninstall(argc, argv);
  cs_install_log_end(log, rc);
  return rc;
}
