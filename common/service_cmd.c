/* The restart of a service, shared by both platform halves (service_cmd.h): the
 * admin's restart_command / status_command through the shell, or the platform's
 * own way, bounded by one deadline. Each command is judged before each run
 * (cmd_judge.h): it runs as root / LocalSystem, so whoever could change a file it
 * names would run code as certsteward; a refused one is not run. */
#include "service_cmd.h"

#include <stdio.h>
#include <string.h>

#include "cmd_judge.h"

#define POLL_MS 200

void cs__service_describe(const cs_run_result_t *res, int ms, char *buf, size_t len) {
  if (res->timed_out)
    snprintf(buf, len, "did not finish within %d ms", ms);
  else if (res->signal != 0)
    snprintf(buf, len, "was killed by signal %d", res->signal);
  else
    snprintf(buf, len, "exited %d", res->exit_code);
}

/* The admin's restart command through the shell; it must exit 0. */
static int run_restart_command(const char *service, const char *command, long long deadline, cs_err_t *err) {
  cs_run_result_t res;
  char how[64];
  int left = (int)(deadline - cs__service_now_ms()), rc;

  memset(&res, 0, sizeof res);
  if (left <= 0) {
    rc = cs_err_set(err, CS_ETIMEDOUT, 0, "no time left to restart %s", service ? service : "the service");
    goto out;
  }
  if ((rc = cs_cmd_judge_shell("restart_command", command, err)) != CS_OK ||
      (rc = cs_plat_run_shell(command, left, &res, err)) != CS_OK)
    goto out;
  if (res.timed_out || res.signal != 0 || res.exit_code != 0) {
    cs__service_describe(&res, left, how, sizeof how);
    /* The command itself is not repeated: an admin's command line may hold a secret. */
    rc = cs_err_set(err, res.timed_out ? CS_ETIMEDOUT : CS_EFAILED, res.exit_code, "restart command %s", how);
  }
out:
  cs_run_result_free(&res);
  return rc;
}

/* The status command as a probe: up when it exits 0. */
typedef struct command_s {
  const char *line;
} command_t;

static int probe_command(void *ctx, const char *service, int ms, int *up, char *why, size_t why_len, cs_err_t *err) {
  const command_t *cmd = ctx;
  cs_run_result_t res;
  char how[64];
  int rc;

  (void)service;
  memset(&res, 0, sizeof res);
  *up = 0;
  if ((rc = cs_cmd_judge_shell("status_command", cmd->line, err)) == CS_OK &&
      (rc = cs_plat_run_shell(cmd->line, ms, &res, err)) == CS_OK) {
    cs__service_describe(&res, ms, how, sizeof how);
    *up = !res.timed_out && res.signal == 0 && res.exit_code == 0;
    snprintf(why, why_len, "the status command %s", how);
  }
  cs_run_result_free(&res);
  return rc;
}

typedef int (*probe_fn)(void *ctx, const char *service, int ms, int *up, char *why, size_t why_len, cs_err_t *err);

static int wait_running(probe_fn probe, void *ctx, const char *service, long long deadline, int timeout_ms,
                        cs_err_t *err) {
  char why[160] = "it was not looked at", seen[160];
  int up, rc, looked = 0;

  for (;;) {
    long long left = deadline - cs__service_now_ms();
    if (left <= 0)
      return cs_err_set(err, CS_ETIMEDOUT, 0, "%s did not report running within %d ms of the restart: %s",
                        service ? service : "the service", timeout_ms, why);
    seen[0] = '\0';
    if ((rc = probe(ctx, service, (int)left, &up, seen, sizeof seen, err)) != CS_OK)
      return rc;
    if (up)
      return CS_OK;
    /* A look the deadline cut short says less than the last whole one: that one is kept. */
    if (!looked || cs__service_now_ms() < deadline)
      memcpy(why, seen, sizeof why);
    looked = 1;
    left = deadline - cs__service_now_ms();
    cs_plat_sleep_ms((int)(left < POLL_MS ? (left > 0 ? left : 0) : POLL_MS));
  }
}

int cs__service_wait_running(const cs__svc_way_t *way, const char *service, const char *status_command,
                             long long deadline, int timeout_ms, cs_err_t *err) {
  if (status_command != NULL && *status_command != '\0') {
    command_t status = {status_command};
    return wait_running(probe_command, &status, service, deadline, timeout_ms, err);
  }
  if (way == NULL || way->probe == NULL)
    return CS_OK;
  return wait_running(way->probe, way->ctx, service, deadline, timeout_ms, err);
}

int cs__service_restart(const char *service, const char *restart_command, const char *status_command, int timeout_ms,
                        const cs__svc_way_t *way, cs_err_t *err) {
  long long deadline = cs__service_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
  int rc;

  if (restart_command != NULL && *restart_command == '\0')
    restart_command = NULL;
  if (status_command != NULL && *status_command == '\0')
    status_command = NULL;
  if (timeout_ms <= 0)
    return cs_err_set(err, CS_EINVAL, 0, "no time given to restart %s", service ? service : "the service");
  /* the platform's way is needed exactly when there is no restart command of the admin's */
  if (restart_command == NULL && (service == NULL || *service == '\0'))
    return cs_err_set(err, CS_EINVAL, 0, "no service name, and no restart command to use instead");
  /* a status command that would be refused after the restart stops it before: nothing runs */
  if ((rc = cs_cmd_judge_shell("status_command", status_command, err)) != CS_OK)
    return rc;
  if (restart_command != NULL)
    rc = run_restart_command(service, restart_command, deadline, err);
  else if (deadline - cs__service_now_ms() <= 0)
    rc = cs_err_set(err, CS_ETIMEDOUT, 0, "no time left to restart %s", service);
  else
    rc = way->restart(way->ctx, service, (int)(deadline - cs__service_now_ms()), err);
  if (rc != CS_OK)
    return rc;
  /* An admin's restart command with no status command: its exit 0 is all there is to go by. */
  return cs__service_wait_running(restart_command != NULL ? NULL : way, service, status_command, deadline, timeout_ms,
                                  err);
}
