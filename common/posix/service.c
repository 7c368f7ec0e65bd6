/* POSIX half of platform.h: service control through systemd, or through the
 * admin's own restart / status commands where systemd is not the way (those are
 * common/service_cmd.c's, shared with Windows). */
#include "../platform.h"
#include "../service_cmd.h"
#include "../text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SYSTEMCTL_TIMEOUT_MS 30000 /* for a question to systemd with no caller's bound */
#define SYSTEMCTL_MAX_OUT 4096

long long cs__service_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An absolute path: cs_plat_run does no PATH search, and the daemon's PATH is not to be trusted anyway.
 * A test build (CS_TEST_HOOKS) takes CERTSTEWARD_TEST_SYSTEMCTL instead when it is set:
 * the integration tests run where systemd does not, with a stand-in that stops and
 * starts a real nginx (tests/integration/crash.sh). */
static int find_systemctl(const char **path, cs_err_t *err) {
#ifdef CS_TEST_HOOKS
  const char *test = getenv("CERTSTEWARD_TEST_SYSTEMCTL");
  if (test != NULL && *test == '/') {
    *path = test;
    return CS_OK;
  }
#endif
  if (access("/bin/systemctl", X_OK) == 0)
    *path = "/bin/systemctl";
  else if (access("/usr/bin/systemctl", X_OK) == 0)
    *path = "/usr/bin/systemctl";
  else
    return cs_err_set(err, CS_ENOENT, 0,
                      "systemctl is not here (neither /bin/systemctl nor /usr/bin/systemctl): "
                      "without systemd, set restart_command and status_command");
  return CS_OK;
}

/* systemctl prints one value and a newline. */
static void trim(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
    s[--n] = '\0';
}

int cs_plat_service_exists(const char *service, cs_err_t *err) {
  const char *sc = NULL;
  cs_run_result_t res;
  char how[64];
  int rc;

  memset(&res, 0, sizeof res);
  if (service == NULL || *service == '\0') {
    rc = cs_err_set(err, CS_EINVAL, 0, "no service name");
    goto out;
  }
  if ((rc = find_systemctl(&sc, err)) != CS_OK)
    goto out;
  {
    /* "--": a name starting with '-' is a name, not an option */
    const char *argv[] = {sc, "show", "-p", "LoadState", "--value", "--", service, NULL};
    if ((rc = cs_plat_run(argv, NULL, 0, SYSTEMCTL_TIMEOUT_MS, SYSTEMCTL_MAX_OUT, &res, err)) != CS_OK)
      goto out;
  }
  if (res.timed_out || res.exit_code != 0) {
    cs__service_describe(&res, SYSTEMCTL_TIMEOUT_MS, how, sizeof how);
    rc = cs_err_set(err, res.timed_out ? CS_ETIMEDOUT : CS_EFAILED, res.exit_code,
                    "cannot tell whether service %s exists: systemctl show %s", service, how);
    goto out;
  }
  trim(res.out);
  if (strcmp(res.out, "loaded") == 0)
    rc = 1;
  else if (strcmp(res.out, "not-found") == 0)
    rc = 0;
  else /* masked, bad-setting, error: there, but no use */
    rc = cs_err_set(err, CS_EFAILED, 0, "service %s cannot be used: systemd says its LoadState is \"%.40s\"", service,
                    res.out);
out:
  cs_run_result_free(&res);
  return rc;
}

/* systemd's way (cs__svc_way_t): systemctl VERB waits for its job to finish (a stop
 * job ends once every process of the unit has ended: systemd's KillMode), then
 * systemctl is-active is polled. ctx: where systemctl is, found when it is needed,
 * so that it is needed only when there is no restart command of the admin's. */
typedef struct systemd_s {
  const char *sc;
} systemd_t;

/* systemctl VERB -- service, which must exit 0 within left ms. */
static int systemctl(systemd_t *sd, const char *verb, const char *service, int left, cs_err_t *err) {
  cs_run_result_t res;
  char how[64];
  int rc;

  memset(&res, 0, sizeof res);
  if ((rc = find_systemctl(&sd->sc, err)) != CS_OK)
    goto out;
  {
    const char *argv[] = {sd->sc, verb, "--", service, NULL};
    if ((rc = cs_plat_run(argv, NULL, 0, left, SYSTEMCTL_MAX_OUT, &res, err)) != CS_OK)
      goto out;
  }
  if (res.timed_out || res.signal != 0 || res.exit_code != 0) {
    cs__service_describe(&res, left, how, sizeof how);
    rc = cs_err_set(err, res.timed_out ? CS_ETIMEDOUT : CS_EFAILED, res.exit_code, "systemctl %s %s %s", verb, service,
                    how);
  }
out:
  cs_run_result_free(&res);
  return rc;
}

static int systemd_restart(void *ctx, const char *service, int left, cs_err_t *err) {
  return systemctl(ctx, "restart", service, left, err);
}

/* One look: up when systemctl is-active says "active". */
static int systemd_probe(void *ctx, const char *service, int ms, int *up, char *why, size_t why_len, cs_err_t *err) {
  const systemd_t *sd = ctx;
  const char *argv[] = {sd->sc, "is-active", "--", service, NULL};
  cs_run_result_t res;
  char how[64];
  int rc;

  memset(&res, 0, sizeof res);
  *up = 0;
  if ((rc = cs_plat_run(argv, NULL, 0, ms, SYSTEMCTL_MAX_OUT, &res, err)) != CS_OK)
    goto out;
  cs__service_describe(&res, ms, how, sizeof how);
  trim(res.out);
  *up = !res.timed_out && strcmp(res.out, "active") == 0;
  if (res.out[0] != '\0')
    snprintf(why, why_len, "systemctl is-active says \"%.40s\"", res.out);
  else
    snprintf(why, why_len, "systemctl is-active %s", how);
out:
  cs_run_result_free(&res);
  return rc;
}

int cs_plat_service_restart(const char *service, const char *restart_command, const char *status_command,
                            int timeout_ms, cs_err_t *err) {
  systemd_t sd = {NULL};
  cs__svc_way_t way = {systemd_restart, systemd_probe, &sd};
  return cs__service_restart(service, restart_command, status_command, timeout_ms, &way, err);
}

int cs_plat_service_dependents(const char *service, char **names, cs_err_t *err) {
  (void)service;
  if ((*names = cs_strdup("")) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return CS_OK;
}

static int check_name(const char *service, int timeout_ms, cs_err_t *err) {
  if (service == NULL || *service == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no service name");
  if (timeout_ms <= 0)
    return cs_err_set(err, CS_EINVAL, 0, "no time given for service %s", service);
  return CS_OK;
}

/* dependents: always "" here (cs_plat_service_dependents); systemd stops a unit's
 * dependents with it and starts them with it where their units say so. */
int cs_plat_service_stop(const char *service, const char *dependents, int timeout_ms, cs_err_t *err) {
  systemd_t sd = {NULL};
  int rc;
  (void)dependents;
  if ((rc = check_name(service, timeout_ms, err)) != CS_OK)
    return rc;
  return systemctl(&sd, "stop", service, timeout_ms, err);
}

int cs_plat_service_start(const char *service, const char *dependents, const char *status_command, int fresh,
                          int timeout_ms, cs_err_t *err) {
  long long deadline = cs__service_now_ms() + timeout_ms;
  systemd_t sd = {NULL};
  cs__svc_way_t way = {systemd_restart, systemd_probe, &sd};
  int rc;
  (void)dependents;
  if ((rc = check_name(service, timeout_ms, err)) != CS_OK)
    return rc;
  /* restart: a unit found running is stopped first, a stopped one is only started */
  if ((rc = systemctl(&sd, fresh ? "restart" : "start", service, timeout_ms, err)) != CS_OK)
    return rc;
  return cs__service_wait_running(&way, service, status_command, deadline, timeout_ms, err);
}
