/* certsteward: keeps a TLS server's certificate in service without a person. */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "platform.h"

#ifndef CS_VERSION
#define CS_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: certsteward COMMAND [OPTIONS]\n"
    "\n"
    "commands:\n"
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
    "  config [--config FILE]\n"
    "      Validate a configuration and print the effective values, defaults included.\n"
    "  version\n"
    "      Print the version.\n"
    "\n"
    "Without --config, the configuration is read from %s when it exists.\n"
    "Exit status: 0 all accepted / done, 1 a file was rejected, 2 the command could not run.\n";

static void print_usage(FILE *out) {
  char path[1024];
  if (cs_plat_default_config_path(path, sizeof path) != CS_OK)
    snprintf(path, sizeof path, "%s", "(unknown)");
  fprintf(out, usage, path);
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : NULL;
  if (cmd == NULL) {
    print_usage(stderr);
    return CS_EXIT_USAGE;
  }
  if (strcmp(cmd, "check") == 0)
    return cs_cmd_check(argc, argv);
  if (strcmp(cmd, "apply") == 0)
    return cs_cmd_apply(argc, argv);
  if (strcmp(cmd, "config") == 0)
    return cs_cmd_config(argc, argv);
  if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
    printf("certsteward %s (%s)\n", CS_VERSION, OpenSSL_version(OPENSSL_VERSION));
    return CS_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    print_usage(stdout);
    return CS_EXIT_OK;
  }
  fprintf(stderr, "certsteward: unknown command '%s'\n\n", cmd);
  print_usage(stderr);
  return CS_EXIT_USAGE;
}
