/* certsteward config: validate a configuration, print the effective values. */
#include <stdio.h>

#include "cli.h"

int cs_cmd_config(int argc, char **argv) {
  cs_config_t cfg;
  if (cs_cli_command_config(argc, argv, &cfg, NULL) != 0)
    return CS_EXIT_USAGE;
  fprintf(stderr, "certsteward: configuration %s is valid\n", cfg.path ? cfg.path : "(built-in defaults)");
  cs_config_dump(&cfg, stdout);
  cs_config_free(&cfg);
  return CS_EXIT_OK;
}
