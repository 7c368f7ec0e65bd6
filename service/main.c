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

/* In two parts: C compilers need not take a string over 4095 bytes. */
static const char usage_run[] =
    "usage: certsteward COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
    "  run [--config FILE] [--foreground] [--once]\n"
    "      The daemon: watch the drop folder and put every fit certificate dropped\n"
    "      there in service (as apply does), warn before the certificate in service\n"
    "      expires, write the metrics file. SIGTERM / SIGINT stop it.\n"
    "      --foreground  events also on standard error\n"
    "      --once        do what is due now (recovery, expiry check, files already\n"
    "                    dropped), then exit\n"
    "  check [--config FILE] [--host NAME] [--ca FILE] [--password-file FILE]\n"
    "        [--current FILE] [--key FILE] [--json] FILE...\n"
    "      Say whether each certificate file (PKCS#12, PEM, DER, PKCS#7) is fit to\n"
    "      replace the certificate in service, with every check and its reason.\n"
    "      --host      DNS name the certificate must carry (default: [connector] host,\n"
    "                  else this machine's fully qualified name)\n"
    "      --ca        PEM trust anchors (default: [policy] ca_file, else the system's)\n"
    "      --password-file  file whose first line is the PFX / key password\n"
    "      --current   the certificate in service: the new one must expire later and\n"
    "                  keep its DNS names\n"
    "      --key       the private key in service, for files without a key (a renewal\n"
    "                  that kept its key)\n"
    "      --json      one JSON object per file and line\n"
    "  apply [--config FILE] [--dry-run] FILE\n"
    "      Put FILE in service now: validate, install, grant the key, rewrite the\n"
    "      bindings, restart, prove the new certificate is served, or roll back.\n"
    "      --dry-run   validation and pre-flight only; nothing changes\n"
    "      Exit status: 0 committed, 1 rejected, refused or rolled back, 2 could not run.\n"
    "  rollback [--config FILE]\n"
    "      Put the previous certificate (the newest in <state_dir>/archive) back in\n"
    "      service through the same transaction as apply, without requiring that it\n"
    "      expire later than the one in service. Exit status as apply.\n"
    "  status [--config FILE] [--json]\n"
    "      Show the certificate in service, what the binding files name, what each\n"
    "      endpoint serves, the last renewal, an unfinished one, and the files\n"
    "      waiting. Changes nothing. Exit status: 0 reported, 2 bad configuration.\n"
    "  config [--config FILE]\n"
    "      Validate a configuration and print the effective values, defaults included.\n";

static const char usage_admin[] =
    "  set-password [--config FILE]\n"
    "      Store the PFX / key password, read from standard input (its first line;\n"
    "      on a terminal it is asked for and not shown), in the file [watch]\n"
    "      password_file names, replacing it atomically: Windows seals it with DPAPI\n"
    "      for this machine, readable by SYSTEM and Administrators only; Linux writes\n"
    "      it with mode 0600. Without password_file it refuses (the service reads the\n"
    "      password from that file only, so there is no default to write to).\n"
    "      Exit status: 0 stored, 2 nothing written (no or empty password, no\n"
    "      password_file, the file could not be written).\n"
    "  install [--config FILE] [--config-template TEMPLATE] [--set KEY=VALUE]...\n"
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
    "  uninstall\n"
    "      Windows: stop and delete the service and its event source; the\n"
    "      configuration and the state are kept.\n"
    "  service [--config FILE]\n"
    "      Windows: what the Service Control Manager starts (the daemon of run).\n"
    "  version\n"
    "      Print the version (and the worker's, with its OpenSSL).\n"
    "\n"
    "Without --config, the configuration is read from %s when it exists.\n"
    "Exit status: 0 all accepted / done, 1 a file was rejected, 2 the command could not run.\n";

static void print_usage(FILE *out) {
  char path[1024];
  if (cs_plat_default_config_path(path, sizeof path) != CS_OK)
    snprintf(path, sizeof path, "%s", "(unknown)");
  fputs(usage_run, out);
  fprintf(out, usage_admin, path);
}

static int cmd_help(int argc, char **argv) {
  print_usage(stdout);
  return CS_EXIT_OK;
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

/* This program's version, then the worker's and its OpenSSL's (asked, not linked). */
static int cmd_version(int argc, char **argv) {
  char exe[4096], version[128], openssl[256];
  const char *wargv[] = {exe, "version", NULL};
  cs_run_result_t res;
  cs_reply_t reply;
  cs_err_t err;
  int rc;

  memset(&res, 0, sizeof res);
  memset(&reply, 0, sizeof reply);
  printf("certsteward %s\n", CS_VERSION);
  rc = cs_plat_sibling_path(CS_WORKER_NAME, exe, sizeof exe, &err);
  if (rc == CS_OK)
    rc = cs_plat_run(wargv, NULL, 0, 10000, 64 * 1024, &res, &err);
  if (rc == CS_OK && (res.exit_code != 0 || cs_reply_parse(res.out ? res.out : "", res.out_len, &reply, &err) != CS_OK))
    rc = cs_err_set(&err, CS_EFAILED, 0, "no valid answer (exit status %d)", res.exit_code);
  if (rc == CS_OK) {
    answer_value(res.out, "version", version, sizeof version);
    answer_value(res.out, "openssl", openssl, sizeof openssl);
    printf("%s %s (%s)\n", CS_WORKER_NAME, version, openssl[0] ? openssl : "OpenSSL version not given");
  } else {
    printf("%s: not available: %s\n", CS_WORKER_NAME, err.text);
  }
  cs_reply_free(&reply);
  cs_run_result_free(&res);
  return CS_EXIT_OK;
}

/* One row per command; "certsteward NAME ..." runs run(argc, argv) (argv[1] = NAME). */
typedef struct command_s {
  const char *name;
  int (*run)(int argc, char **argv);
} command_t;

static const command_t commands[] = {
    {"run", cs_cmd_run},
    {"check", cs_cmd_check},
    {"apply", cs_cmd_apply},
    {"rollback", cs_cmd_rollback},
    {"status", cs_cmd_status},
    {"config", cs_cmd_config},
    {"set-password", cs_cmd_set_password},
    {"install", cs_cmd_install},
    {"uninstall", cs_cmd_uninstall},
    {"service", cs_cmd_service},
    {"version", cmd_version},
    {"--version", cmd_version},
    {"help", cmd_help},
    {"--help", cmd_help},
    {"-h", cmd_help},
};

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : NULL;
  size_t i;
  if (cmd == NULL) {
    print_usage(stderr);
    return CS_EXIT_USAGE;
  }
  for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(cmd, commands[i].name) == 0)
      return commands[i].run(argc, argv);
  fprintf(stderr, "certsteward: unknown command '%s'\n\n", cmd);
  print_usage(stderr);
  return CS_EXIT_USAGE;
}
