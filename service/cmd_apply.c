/* certsteward apply: the renewal transaction on one file, in the foreground. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"
#include "platform.h"
#include "renewal.h"

enum { O_CONFIG, O_DRY_RUN };

int cs_cmd_apply(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {"dry-run", 0, NULL}, {NULL, 0, NULL}};
  const char **files = malloc(sizeof *files * (size_t)argc);
  int n_files = 0, rc = CS_EXIT_USAGE, have_cfg = 0;
  cs_plat_lock_t *lock = NULL;
  cs_renewal_result_t res;
  cs_renewal_env_t env;
  cs_worker_t worker;
  cs_config_t cfg;
  char host[256];

  memset(&res, 0, sizeof res);
  if (files == NULL || cs_cli_parse(argc, argv, 2, opts, files, &n_files) != 0)
    goto out;
  if (n_files != 1) {
    fprintf(stderr, "certsteward apply: name exactly one certificate file (see certsteward --help)\n");
    goto out;
  }
  if (cs_cli_config(opts[O_CONFIG].value, &cfg) != 0)
    goto out;
  have_cfg = 1;
  if (cs_cli_host(&cfg, NULL, host, sizeof host) != 0 || cs_cli_begin("apply", &cfg, host, &worker, &env, &lock) != 0)
    goto out;

  cs_renewal_run(&env, files[0], opts[O_DRY_RUN].value != NULL ? CS_RENEW_DRY_RUN : 0, &res);
  rc = cs_cli_outcome(files[0], &res);
out:
  cs_renewal_result_free(&res);
  cs_cli_end(lock);
  if (have_cfg)
    cs_config_free(&cfg);
  free(files);
  return rc;
}
