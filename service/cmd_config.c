/* certsteward config: validate a configuration, print the effective values. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cs_cmd_config(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)argc);
  int n_operands = 0, rc = CS_EXIT_USAGE;
  cs_config_t cfg;

  if (operands == NULL || cs_cli_parse(argc, argv, 2, opts, operands, &n_operands) != 0)
    goto out;
  if (n_operands > 0) {
    fprintf(stderr, "certsteward config: unexpected argument %s\n", operands[0]);
    goto out;
  }
  if (cs_cli_config(opts[0].value, &cfg) != 0)
    goto out;
  fprintf(stderr, "certsteward: configuration %s is valid\n", cfg.path ? cfg.path : "(built-in defaults)");
  cs_config_dump(&cfg, stdout);
  cs_config_free(&cfg);
  rc = CS_EXIT_OK;
out:
  free(operands);
  return rc;
}
