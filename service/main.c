/* certsteward: keeps a TLS server's certificate in service without a person.
 * This executable is crypto-free (it is the long-lived daemon too): what needs
 * OpenSSL runs in certsteward-worker, next to it. */
#include <stdio.h>
#include <string.h>
#include "cli.h"
#include "daemon.h"
#include "platform.h"
#include "reply.h"
#include "worker.h"

#ifndef CS_VERSION
#define CS_VERSION "0.0.0"
#endif

/* Each command's usage: its synopsis, then what it does (certsteward --help
 * prints them all, certsteward COMMAND --help its own). */
static const char usage_run[] = "  run [--config FILE] [--foreground] [--once]\n"
                                "      The daemon: watch the drop folder and put every fit certificate dropped\n"
                                "      there in service (as apply does), warn before the certificate in service\n"
                                "      expires, write the metrics file. SIGTERM / SIGINT stop it.\n"
                                "      --foreground  events also on standard error\n"
                                "      --once        do what is due now (recovery, expiry check, files already\n"
                                "                    dropped), then exit\n";
static const char usage_check[] =
    "  check [--config FILE] [--host NAME] [--ca FILE] [--password-file FILE]\n"
    "        [--current FILE] [--key FILE] [--json] FILE...\n"
    "      Say whether each certificate file (PKCS#12, PEM, DER, PKCS#7) is fit to\n"
    "      replace the certificate in service, with every check and its reason.\n"
    "      --host      DNS name the certificate must carry (default: [connector] host,\n"
    "                  else this machine's fully qualified name)\n"
    "      --ca        PEM trust anchors (default: [policy] ca_file, else the machine's trust)\n"
    "      --password-file  file whose first line is the PFX / key password\n"
    "      --current   the certificate in service: the new one must expire later and\n"
    "                  keep its DNS names\n"
    "      --key       the private key in service, for files without a key (a renewal\n"
    "                  that kept its key)\n"
    "      --json      one JSON object per file and line\n";
static const char usage_apply[] =
    "  apply [--config FILE] [--dry-run] FILE\n"
    "      Put FILE in service now: validate, install, grant the key, rewrite the\n"
    "      bindings, restart, prove the new certificate is served, or roll back.\n"
    "      --dry-run   validation and pre-flight only; nothing changes\n"
    "      Exit status: 0 committed, 1 rejected, refused or rolled back, 2 could not run.\n";
static const char usage_rollback[] = "  rollback [--config FILE]\n"
                                     "      Put the previous certificate (the newest in <state_dir>/archive) back in\n"
                                     "      service through the same transaction as apply, without requiring that it\n"
                                     "      expire later than the one in service. Exit status as apply.\n";
static const char usage_request[] =
    "  request [--config FILE] [--poll]\n"
    "      Make a certificate request now ([request]): a new key on this machine and a\n"
    "      request for the names of the certificate in service, submitted to the CA\n"
    "      (route = command) or written to <state_dir>/outbox (manual); a certificate\n"
    "      the CA issues at once is put in service as apply does. With a request in\n"
    "      flight, looks at that one instead: --poll asks the CA now.\n"
    "      Exit status: 0 done or waiting, 1 rejected, ended or rolled back, 2 could not run.\n";
static const char usage_status[] = "  status [--config FILE] [--json]\n"
                                   "      Show the certificate in service, what the binding files name, what each\n"
                                   "      endpoint serves, the last renewal, an unfinished one, and the files\n"
                                   "      waiting. Changes nothing. Exit status: 0 reported, 2 bad configuration.\n";
static const char usage_doctor[] =
    "  doctor [--config FILE] [--json]\n"
    "      Is this server ready? The first thing to run after installing: the\n"
    "      connector's service and account, the certificate in service and its key\n"
    "      (can the account read it?), the binding files, what each endpoint serves,\n"
    "      the chain, the folders' and files' permissions, the event source and\n"
    "      certsteward's own service; one line per check (ok, warn, fail) and why.\n"
    "      Changes nothing.\n"
    "      --json      one JSON object: the checks (id, outcome, detail), the verdict\n"
    "      Exit status: 0 ready (warnings allowed), 1 a check failed, 2 could not run.\n";
static const char usage_config[] =
    "  config [--config FILE]\n"
    "      Validate a configuration and print the effective values, defaults included.\n";
static const char usage_set_password[] =
    "  set-password [--config FILE]\n"
    "      Store the PFX / key password, read from standard input (its first line;\n"
    "      on a terminal it is asked for and not shown), in the file [watch]\n"
    "      password_file names, replacing it atomically: Windows seals it with DPAPI\n"
    "      for this machine, readable by SYSTEM and Administrators only; Linux writes\n"
    "      it with mode 0600. Without password_file it refuses (the service reads the\n"
    "      password from that file only, so there is no default to write to).\n"
    "      Exit status: 0 stored, 2 nothing written (no or empty password, no\n"
    "      password_file, the file could not be written).\n";
static const char usage_install[] = "  install [--config FILE] [--config-template TEMPLATE] [--set KEY=VALUE]...\n"
                                    "      Windows: register the service certsteward (LocalSystem, automatic delayed\n"
                                    "      start, restarted after a failure) and its Event Log source, and make the\n"
                                    "      program data, drop and state folders (Administrators and SYSTEM only).\n"
                                    "      Run again, it updates. --config: the service reads FILE.\n"
                                    "      A configuration file that does not exist yet is first written from\n"
                                    "      TEMPLATE (default: certsteward-default.ini beside certsteward.exe, when\n"
                                    "      there), each VALUE put into its \"KEY =\" line and the result checked as\n"
                                    "      config does: install --set host=board.example.com --set binding_files=F\n"
                                    "      An empty VALUE leaves the line as it is; a VALUE with a control character,\n"
                                    "      a double quote or \" ;\" is refused. An existing configuration is never\n"
                                    "      changed (--set is then ignored, with a warning). The MSI does the same.\n"
                                    "      What it says is also written to certsteward-install-*.log in the\n"
                                    "      temporary folder (its name printed at the end) and the Event Log.\n"
                                    "      install --undo: remove what the last run made (the MSI's rollback).\n";
static const char usage_uninstall[] = "  uninstall\n"
                                      "      Windows: stop the service, finish a renewal it left unfinished (or\n"
                                      "      refuse, removing nothing), delete the service and its event source;\n"
                                      "      the configuration and the state are kept. Logged as install is.\n"
                                      "      uninstall --finish-renewal: only finish the renewal (the MSI's step).\n";
static const char usage_service[] = "  service [--config FILE]\n"
                                    "      Windows: what the Service Control Manager starts (the daemon of run).\n";
static const char usage_version[] = "  version\n"
                                    "      Print the version (and the worker's, with its OpenSSL).\n";

static const char usage_footer[] =
    "\n"
    "Without --config, the configuration is read from %s when it exists.\n"
    "Exit status: 0 all accepted / done, 1 a file was rejected, 2 the command could not run.\n";

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

/* One row per command; "certsteward NAME ..." runs run(argc, argv) (argv[1] = NAME).
 * usage NULL: another name of the command before it. */
typedef struct command_s {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *usage;
} command_t;

static const command_t commands[] = {
    {"run", cs_cmd_run, usage_run},
    {"check", cs_cmd_check, usage_check},
    {"apply", cs_cmd_apply, usage_apply},
    {"rollback", cs_cmd_rollback, usage_rollback},
    {"request", cs_cmd_request, usage_request},
    {"status", cs_cmd_status, usage_status},
    {"doctor", cs_cmd_doctor, usage_doctor},
    {"config", cs_cmd_config, usage_config},
    {"set-password", cs_cmd_set_password, usage_set_password},
    {"install", cs_cmd_install, usage_install},
    {"uninstall", cs_cmd_uninstall, usage_uninstall},
    {"service", cs_cmd_service, usage_service},
    {"version", cmd_version, usage_version},
    {"--version", cmd_version, NULL},
    {"help", cmd_help, NULL},
    {"--help", cmd_help, NULL},
    {"-h", cmd_help, NULL},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_footer(FILE *out) {
  char path[1024];
  if (cs_plat_default_config_path(path, sizeof path) != CS_OK)
    snprintf(path, sizeof path, "%s", "(unknown)");
  fprintf(out, usage_footer, path);
}

static void print_usage(FILE *out) {
  size_t i;
  fputs("usage: certsteward COMMAND [OPTIONS]\n\ncommands:\n", out);
  for (i = 0; i < N_COMMANDS; i++)
    if (commands[i].usage != NULL)
      fputs(commands[i].usage, out);
  print_footer(out);
}

void cs_cli_usage(const char *cmd, FILE *out) {
  size_t i;
  for (i = 0; i < N_COMMANDS; i++)
    if (commands[i].usage != NULL && strcmp(commands[i].name, cmd) == 0) {
      fprintf(out, "usage: certsteward %s", commands[i].usage + 2); /* without the list's indent */
      print_footer(out);
      return;
    }
  print_usage(out);
}

static int cmd_help(int argc, char **argv) {
  print_usage(stdout);
  return CS_EXIT_OK;
}

/* 1 when argv[2..] asks for help (--help or -h before any "--"). */
static int asks_help(int argc, char **argv) {
  int i;
  for (i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
      return 1;
  return 0;
}

/* The value of the answer line "key value" in text, into buf ("" when absent). */
static void answer_value(const char *text, const char *key, char *buf, size_t len) {
  size_t klen = strlen(key);
  const char *p;
  buf[0] = '\0';
  for (p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
      const char *end = strchr(p, '\n');
      snprintf(buf, len, "%.*s", (int)(end ? (size_t)(end - p) - klen - 1 : strlen(p + klen + 1)), p + klen + 1);
      return;
    }
  }
}

/* This program's version, then the worker's and its OpenSSL's (asked, not linked),
 * and on Windows the privileges the worker holds, started as the daemon starts it
 * (only SeChangeNotifyPrivilege: the proof, on the machine itself, that it runs with
 * the restricted token of cs_plat_run_confined). */
static int cmd_version(int argc, char **argv) {
  char exe[4096], version[128], openssl[256], privileges[512];
  const char *wargv[] = {exe, "version", NULL};
  cs_run_result_t res;
  cs_reply_t reply;
  cs_err_t err;
  int rc;

  if (cs_cli_no_arguments(argc, argv) != 0)
    return CS_EXIT_USAGE;
  memset(&res, 0, sizeof res);
  memset(&reply, 0, sizeof reply);
  printf("certsteward %s\n", CS_VERSION);
  rc = cs_plat_sibling_path(CS_WORKER_NAME, exe, sizeof exe, &err);
  if (rc == CS_OK)
    rc = cs_plat_run_confined(wargv, NULL, 0, 10000, 64 * 1024, &res, &err);
  if (rc == CS_OK && (res.exit_code != 0 || cs_reply_parse(res.out ? res.out : "", res.out_len, &reply, &err) != CS_OK))
    rc = cs_err_set(&err, CS_EFAILED, 0, "no valid answer (exit status %d)", res.exit_code);
  if (rc == CS_OK) {
    answer_value(res.out, "version", version, sizeof version);
    answer_value(res.out, "openssl", openssl, sizeof openssl);
    answer_value(res.out, "privileges", privileges, sizeof privileges);
    printf("%s %s (%s)\n", CS_WORKER_NAME, version, openssl[0] ? openssl : "OpenSSL version not given");
    if (privileges[0])
      printf("%s privileges enabled: %s\n", CS_WORKER_NAME, privileges);
  } else {
    printf("%s: not available: %s\n", CS_WORKER_NAME, err.text);
  }
  cs_reply_free(&reply);
  cs_run_result_free(&res);
  return CS_EXIT_OK;
}

static int run_command(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : NULL;
  size_t i;
  if (cmd == NULL) {
    print_usage(stderr);
    return CS_EXIT_USAGE;
  }
  for (i = 0; i < N_COMMANDS; i++)
    if (strcmp(cmd, commands[i].name) == 0) {
      if (commands[i].usage != NULL && asks_help(argc, argv)) {
        cs_cli_usage(cmd, stdout);
        return CS_EXIT_OK;
      }
      return commands[i].run(argc, argv);
    }
  fprintf(stderr, "certsteward: unknown command '%s'\n\n", cmd);
  print_usage(stderr);
  return CS_EXIT_USAGE;
}

/* Entered from the platform's main / wmain (cs_entry, common/win/entry.c: the arguments
 * converted from Windows' UTF-16, so that every path reaches the file API whole). */
const int cs_main_nomem_exit = CS_EXIT_USAGE;
int cs_main(int argc, char **argv) { return run_command(argc, argv); }
