/* certsteward install | uninstall | service where there is no Windows service manager
 * (the build picks this file on POSIX; winsvc.c on Windows): each says that it is
 * Windows-only and how the service is installed here instead. */
#include "cli.h"
#include "daemon.h"

#include <stdio.h>

static int windows_only(const char *cmd) {
  fprintf(stderr,
          "certsteward %s: this command is for Windows only; on Linux the Debian package installs the systemd "
          "unit certsteward.service (systemctl enable --now certsteward)\n\n",
          cmd);
  cs_cli_usage(cmd, stderr);
  return CS_EXIT_USAGE;
}

int cs_cmd_install(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return windows_only("install");
}

int cs_cmd_uninstall(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return windows_only("uninstall");
}

int cs_cmd_service(int argc, char **argv) {
  (void)argc;
  (void)argv;
  return windows_only("service");
}
