#include "worker.h"

#include <stdio.h>
#include <string.h>

#include "platform.h"

int cs_worker_init(cs_worker_t *w, const char *config_path, cs_err_t *err) {
  memset(w, 0, sizeof *w);
  w->config_path = config_path;
  return cs_plat_sibling_path(CS_WORKER_NAME, w->exe, sizeof w->exe, err);
}

/* Runs the worker with argv (argv[0] filled in here) and parses its answer. */
static int ask(const cs_worker_t *w, const char **argv, int timeout_ms, cs_reply_t *reply, cs_err_t *err) {
  cs_run_result_t res;
  cs_err_t perr;
  int rc;

  memset(reply, 0, sizeof *reply);
  cs_err_clear(&perr);
  argv[0] = w->exe;
  rc = cs_plat_run(argv, NULL, 0, timeout_ms, CS_REPLY_MAX, &res, &perr);
  if (rc != CS_OK)
    return cs_err_set(err, CS_EFAILED, perr.raw, "the worker could not be started: %s", perr.text);
  if (res.timed_out)
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker did not answer within %d s and was stopped", timeout_ms / 1000);
  else if (res.signal != 0)
    rc = cs_err_set(err, CS_EFAILED, res.signal, "the worker crashed (signal %d)", res.signal);
  else if (cs_reply_parse(res.out ? res.out : "", res.out_len, reply, &perr) != CS_OK)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "the worker's answer is not valid (%s; exit status %d)",
                    perr.text, res.exit_code);
  else if (reply->error != NULL)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "%s", reply->error);
  else if (res.exit_code != 0)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "the worker exited with status %d", res.exit_code);
  cs_run_result_free(&res);
  return rc;
}

int cs_worker_validate(const cs_worker_t *w, const char *file, const char *current, const char *key,
                       const char *stage_dir, cs_reply_t *reply, cs_err_t *err) {
  const char *argv[16];
  int n = 1;
  argv[n++] = "validate";
  if (w->config_path != NULL) {
    argv[n++] = "--config";
    argv[n++] = w->config_path;
  }
  if (current != NULL && *current) {
    argv[n++] = "--current";
    argv[n++] = current;
  }
  if (key != NULL && *key) {
    argv[n++] = "--key";
    argv[n++] = key;
  }
  if (stage_dir != NULL) {
    argv[n++] = "--stage";
    argv[n++] = stage_dir;
  }
  argv[n++] = "--";
  argv[n++] = file;
  argv[n] = NULL;
  return ask(w, argv, CS_WORKER_TIMEOUT_MS, reply, err);
}

int cs_worker_probe(const cs_worker_t *w, const char *endpoint, const char *sni, int timeout_ms, char served[41],
                    cs_err_t *err) {
  char ms[16];
  const char *argv[] = {NULL, "probe", "--timeout", ms, "--sni", sni, endpoint, NULL};
  cs_reply_t reply;
  int rc;
  snprintf(ms, sizeof ms, "%d", timeout_ms);
  served[0] = '\0';
  /* the worker bounds its own connection; this bound is for a worker that hangs */
  rc = ask(w, argv, timeout_ms + 5000, &reply, err);
  if (rc == CS_OK && reply.served[0] == '\0')
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker's probe answer names no certificate");
  if (rc == CS_OK)
    memcpy(served, reply.served, 41);
  cs_reply_free(&reply);
  return rc;
}

int cs_worker_scan(const cs_worker_t *w, const char *file, cs_reply_t *reply, cs_err_t *err) {
  const char *argv[] = {NULL, "scan", file, NULL};
  int rc = ask(w, argv, CS_WORKER_TIMEOUT_MS, reply, err);
  if (rc == CS_OK && reply->report.thumbprint[0] == '\0')
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker's scan answer names no certificate");
  return rc;
}
