/* What the commands share: options and configuration (printed errors), event
 * sinks, and the start of a transaction. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector.h"
#include "error.h"
#include "events.h"
#include "platform.h"
#include "statedir.h"

int cs_cli_parse(int argc, char **argv, int first, cs_opt_t *opts, const char **operands, int *n_operands) {
  cs_err_t err;
  if (cs_opts_parse(argc, argv, first, opts, operands, n_operands, &err) != CS_OK) {
    fprintf(stderr, "certsteward %s: %s\n\n", argv[1], err.text);
    cs_cli_usage(argv[1], stderr);
    return -1;
  }
  return 0;
}

int cs_cli_no_arguments(int argc, char **argv) {
  cs_opt_t none[] = {{NULL, 0, NULL}};
  const char *operand = NULL;
  int n = 0;
  if (argc <= 2)
    return 0;
  if (cs_cli_parse(argc > 3 ? 3 : argc, argv, 2, none, &operand, &n) != 0)
    return -1;
  fprintf(stderr, "certsteward %s: unexpected argument %s\n\n", argv[1], argv[2]);
  cs_cli_usage(argv[1], stderr);
  return -1;
}

int cs_cli_config_unsafe(const cs_config_t *cfg, char *why, size_t len, char *msg, size_t msg_len) {
  if (cfg->path == NULL || cs_plat_config_file_unsafe(cfg->path, why, len) == 0)
    return 0;
  snprintf(msg, msg_len,
           "the configuration file %s is not safe to use: %s. It names commands that run as %s, so only %s may be "
           "able to change it and the folders above it; nothing was done",
           cfg->path, why, cs_plat_service_account(), cs_plat_admins());
  return 1;
}

int cs_cli_config(const char *path, cs_config_t *cfg) {
  char why[1024], msg[2048];
  cs_err_t err;
  if (cs_opts_config(path, cfg, &err) != CS_OK) {
    fprintf(stderr, "certsteward: %s\n", err.text);
    return -1;
  }
  if (cs_cli_config_unsafe(cfg, why, sizeof why, msg, sizeof msg)) {
    fprintf(stderr, "certsteward: %s\n", msg);
    cs_config_free(cfg);
    return -1;
  }
  /* what [connector] leaves empty, from the connector itself (said on stderr) */
  if (cs_connector_resolve(cfg, &err) != CS_OK) {
    fprintf(stderr, "certsteward: %s\n", err.text);
    cs_config_free(cfg);
    return -1;
  }
  return 0;
}

int cs_cli_command_config(int argc, char **argv, cs_config_t *cfg, int *json) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {"json", 0, NULL}, {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)argc);
  int n_operands = 0, rc = -1;
  if (json == NULL)
    opts[1].name = NULL; /* --config only */
  if (operands == NULL || cs_cli_parse(argc, argv, 2, opts, operands, &n_operands) != 0)
    goto out;
  if (n_operands > 0) {
    fprintf(stderr, "certsteward %s: unexpected argument %s\n\n", argv[1], operands[0]);
    cs_cli_usage(argv[1], stderr);
    goto out;
  }
  if (cs_cli_config(opts[0].value, cfg) != 0)
    goto out;
  if (json != NULL)
    *json = opts[1].value != NULL;
  rc = 0;
out:
  free(operands);
  return rc;
}

int cs_cli_host(const cs_config_t *cfg, const char *override, char *buf, size_t len) {
  cs_err_t err;
  if (cs_config_host(cfg, override, buf, len, &err) != 0) {
    fprintf(stderr, "certsteward: %s\n", err.text);
    return -1;
  }
  return 0;
}

int cs_cli_open_events(const cs_config_t *cfg, int foreground) {
  cs_events_cfg_t ev;
  cs_err_t err;
  char jsonl[4096];
  if (cs_plat_mkdirs(cfg->store.state_dir, 0700, &err) != CS_OK) {
    fprintf(stderr, "certsteward: state folder: %s\n", err.text);
    return -1;
  }
  if (cfg->log.events_file != NULL)
    snprintf(jsonl, sizeof jsonl, "%s", cfg->log.events_file);
  else
    (void)cs_plat_path_join(jsonl, sizeof jsonl, cfg->store.state_dir, CS_STATE_EVENTS);
  memset(&ev, 0, sizeof ev);
  ev.to_stderr = foreground;
  ev.to_system = 1;
  ev.jsonl_path = jsonl;
  ev.jsonl_max = (long long)cfg->log.events_max_size;
  if (cs_events_open(&ev) != CS_OK) {
    fprintf(stderr, "certsteward: cannot open the event sinks\n");
    return -1;
  }
  return 0;
}

int cs_cli_begin(const char *cmd, const cs_config_t *cfg, const char *host, cs_worker_t *worker, cs_renewal_env_t *env,
                 cs_plat_lock_t **lock) {
  cs_renewal_result_t res;
  char lockpath[4096], why[1024];
  cs_err_t err;
  int rc = -1;

  *lock = NULL;
  memset(&res, 0, sizeof res);
  if (cs_cli_open_events(cfg, 1) != 0)
    goto out;
  /* as the daemon: nothing is recovered or renewed in a state folder others could have
   * planted a journal or a manifest in */
  if (cs_plat_state_dir_unsafe(cfg->store.state_dir, why, sizeof why)) {
    fprintf(stderr,
            "certsteward %s: the state folder %s is not safe to use: %s. Nothing was changed: let only "
            "administrators (root) change it and what it holds, then run certsteward %s again.\n",
            cmd, cfg->store.state_dir, why, cmd);
    goto out;
  }
  (void)cs_plat_path_join(lockpath, sizeof lockpath, cfg->store.state_dir,
                          CS_STATE_LOCK); /* "" when too long: refused */
  if (cs_plat_lock(lockpath, lock, &err) != CS_OK) {
    if (err.code == CS_EBUSY)
      fprintf(stderr,
              "certsteward %s: %s: the certsteward service is running (or another certsteward command is). "
              "Nothing was changed. Stop the service (%s), run certsteward %s, then start the service again.\n",
              cmd, err.text, cs_plat_is_windows() ? "sc stop certsteward" : "systemctl stop certsteward", cmd);
    else
      fprintf(stderr, "certsteward %s: %s\n", cmd, err.text);
    goto out;
  }
  if (cs_worker_init(worker, cfg->path, &err) != CS_OK) {
    fprintf(stderr, "certsteward %s: %s\n", cmd, err.text);
    goto out;
  }
  memset(env, 0, sizeof *env);
  env->cfg = cfg;
  env->worker = worker;
  env->host = host;
  /* an unfinished transaction comes first, always */
  if (cs_renewal_recover(env, &res) == CS_OK) {
    fprintf(stderr, "certsteward %s: an unfinished renewal was found and %s\n", cmd,
            res.outcome == CS_OUT_COMMITTED ? "completed" : cs_outcome_name(res.outcome));
    if (res.outcome != CS_OUT_COMMITTED && res.outcome != CS_OUT_ROLLED_BACK) {
      fprintf(stderr, "certsteward %s: %s\n", cmd, res.err.text);
      goto out;
    }
  }
  rc = 0;
out:
  cs_renewal_result_free(&res);
  return rc;
}

void cs_cli_end(cs_plat_lock_t *lock) {
  cs_plat_unlock(lock);
  cs_events_close();
}

int cs_cli_outcome(const char *what, const cs_renewal_result_t *res) {
  if (res->validation.report.n_checks > 0)
    cs_report_print_text(&res->validation.report, stdout);
  printf("%s: %s", what, cs_outcome_name(res->outcome));
  if (res->outcome == CS_OUT_COMMITTED || res->outcome == CS_OUT_VALID)
    printf(" (%s -> %s)\n", res->old_tp, res->new_tp);
  else if (res->outcome == CS_OUT_REJECTED && res->validation.report.n_checks > 0 &&
           !cs_report_accepted(&res->validation.report))
    printf("\n");
  else
    printf(" at %s: %s\n", cs_step_name(res->step), res->err.text);
  return res->outcome == CS_OUT_COMMITTED || res->outcome == CS_OUT_VALID ? CS_EXIT_OK
         : res->outcome == CS_OUT_ERROR                                   ? CS_EXIT_USAGE
                                                                          : CS_EXIT_REJECTED;
}
