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
  cs_err_t err;
  char host[256], lockpath[4096];

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
  if (cs_cli_host(&cfg, NULL, host, sizeof host) != 0 || cs_cli_open_events(&cfg, 1) != 0)
    goto out;
  snprintf(lockpath, sizeof lockpath, "%s%slock", cfg.store.state_dir, cs_plat_is_windows() ? "\\" : "/");
  if (cs_plat_lock(lockpath, &lock, &err) != CS_OK) {
    fprintf(stderr, "certsteward apply: %s\n", err.text);
    goto out;
  }
  if (cs_worker_init(&worker, cfg.path, &err) != CS_OK) {
    fprintf(stderr, "certsteward apply: %s\n", err.text);
    goto out;
  }
  env.cfg = &cfg;
  env.worker = &worker;
  env.host = host;

  /* an unfinished transaction comes first, always */
  if (cs_renewal_recover(&env, &res) == CS_OK) {
    fprintf(stderr, "certsteward apply: an unfinished renewal was found and %s\n",
            res.outcome == CS_OUT_COMMITTED ? "completed" : cs_outcome_name(res.outcome));
    if (res.outcome != CS_OUT_COMMITTED && res.outcome != CS_OUT_ROLLED_BACK) {
      fprintf(stderr, "certsteward apply: %s\n", res.err.text);
      goto out;
    }
  }
  cs_renewal_result_free(&res);

  cs_renewal_run(&env, files[0], opts[O_DRY_RUN].value != NULL, &res);
  if (res.validation.report.n_checks > 0)
    cs_report_print_text(&res.validation.report, stdout);
  printf("%s: %s", files[0], cs_outcome_name(res.outcome));
  if (res.outcome == CS_OUT_COMMITTED || res.outcome == CS_OUT_VALID)
    printf(" (%s -> %s)\n", res.old_tp, res.new_tp);
  else if (res.outcome == CS_OUT_REJECTED && res.validation.report.n_checks > 0 &&
           !cs_report_accepted(&res.validation.report))
    printf("\n");
  else
    printf(" at %s: %s\n", res.step, res.err.text);
  rc = res.outcome == CS_OUT_COMMITTED || res.outcome == CS_OUT_VALID ? CS_EXIT_OK
       : res.outcome == CS_OUT_ERROR                                 ? CS_EXIT_USAGE
                                                                     : CS_EXIT_REJECTED;
out:
  cs_renewal_result_free(&res);
  cs_plat_unlock(lock);
  cs_events_close();
  if (have_cfg)
    cs_config_free(&cfg);
  free(files);
  return rc;
}
