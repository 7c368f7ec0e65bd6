/* POSIX half of platform.h: service control through systemd, or through the
 * admin's own restart / status commands where systemd is not the way. */
#include "../platform.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define POLL_MS 200
#define SYSTEMCTL_TIMEOUT_MS 30000 /* for a question to systemd with no caller's bound */
#define SYSTEMCTL_MAX_OUT 4096

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* An absolute path: cs_plat_run does no PATH search, and the daemon's PATH is not to be trusted anyway. */
static int find_systemctl(const char **path, cs_err_t *err) {
  if (access("/bin/systemctl", X_OK) == 0)
    *path = "/bin/systemctl";
  else if (access("/usr/bin/systemctl", X_OK) == 0)
    *path = "/usr/bin/systemctl";
  else
    return cs_err_set(err, CS_ENOENT, 0, "systemctl is not here (neither /bin/systemctl nor /usr/bin/systemctl): "
                                         "without systemd, set restart_command and status_command");
  return CS_OK;
}

/* systemctl prints one value and a newline. */
static void trim(char *s) {
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
    s[--n] = '\0';
}

/* "exited 3", "was killed by signal 9", "did not finish within 5000 ms" */
static void describe(const cs_run_result_t *res, int ms, char *buf, size_t len) {
  if (res->timed_out)
    snprintf(buf, len, "did not finish within %d ms", ms);
  else if (res->signal != 0)
    snprintf(buf, len, "was killed by signal %d", res->signal);
  else
    snprintf(buf, len, "exited %d", res->exit_code);
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
    describe(&res, SYSTEMCTL_TIMEOUT_MS, how, sizeof how);
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

/* The restart itself: restart_command through the shell, else systemctl restart
 * (which waits for the start job to finish). It must exit 0. */
static int restart(const char *sc, const char *service, const char *restart_command, int64_t deadline,
                   cs_err_t *err) {
  cs_run_result_t res;
  char how[64];
  int left = (int)(deadline - now_ms()), rc;

  memset(&res, 0, sizeof res);
  if (left <= 0) {
    rc = cs_err_set(err, CS_ETIMEDOUT, 0, "no time left to restart %s", service ? service : "the service");
    goto out;
  }
  if (restart_command != NULL) {
    rc = cs_plat_run_shell(restart_command, left, &res, err);
  } else {
    const char *argv[] = {sc, "restart", "--", service, NULL};
    rc = cs_plat_run(argv, NULL, 0, left, SYSTEMCTL_MAX_OUT, &res, err);
  }
  if (rc != CS_OK)
    goto out;
  if (res.timed_out || res.signal != 0 || res.exit_code != 0) {
    describe(&res, left, how, sizeof how);
    /* The command itself is not repeated: an admin's command line may hold a secret. */
    if (restart_command != NULL)
      rc = cs_err_set(err, res.timed_out ? CS_ETIMEDOUT : CS_EFAILED, res.exit_code, "restart command %s", how);
    else
      rc = cs_err_set(err, res.timed_out ? CS_ETIMEDOUT : CS_EFAILED, res.exit_code, "systemctl restart %s %s",
                      service, how);
  }
out:
  cs_run_result_free(&res);
  return rc;
}

/* One look: *up = 1 when status_command exits 0, or systemctl is-active says "active";
 * why keeps what the look saw, for the timeout message. */
static int probe(const char *sc, const char *service, const char *status_command, int ms, int *up, char *why,
                 size_t why_len, cs_err_t *err) {
  cs_run_result_t res;
  char how[64];
  int rc;

  memset(&res, 0, sizeof res);
  *up = 0;
  if (status_command != NULL) {
    rc = cs_plat_run_shell(status_command, ms, &res, err);
  } else {
    const char *argv[] = {sc, "is-active", "--", service, NULL};
    rc = cs_plat_run(argv, NULL, 0, ms, SYSTEMCTL_MAX_OUT, &res, err);
  }
  if (rc != CS_OK)
    goto out;
  describe(&res, ms, how, sizeof how);
  if (status_command != NULL) {
    *up = !res.timed_out && res.signal == 0 && res.exit_code == 0;
    snprintf(why, why_len, "the status command %s", how);
  } else {
    trim(res.out);
    *up = !res.timed_out && strcmp(res.out, "active") == 0;
    if (res.out[0] != '\0')
      snprintf(why, why_len, "systemctl is-active says \"%.40s\"", res.out);
    else
      snprintf(why, why_len, "systemctl is-active %s", how);
  }
out:
  cs_run_result_free(&res);
  return rc;
}

static int wait_running(const char *sc, const char *service, const char *status_command, int64_t deadline,
                        int timeout_ms, cs_err_t *err) {
  char why[160] = "it was not looked at";
  int up, rc;

  for (;;) {
    int64_t left = deadline - now_ms();
    if (left <= 0)
      return cs_err_set(err, CS_ETIMEDOUT, 0, "%s did not report running within %d ms of the restart: %s",
                        service ? service : "the service", timeout_ms, why);
    if ((rc = probe(sc, service, status_command, (int)left, &up, why, sizeof why, err)) != CS_OK)
      return rc;
    if (up)
      return CS_OK;
    left = deadline - now_ms();
    cs_plat_sleep_ms((int)(left < POLL_MS ? left : POLL_MS));
  }
}

int cs_plat_service_restart(const char *service, const char *restart_command, const char *status_command,
                            int timeout_ms, cs_err_t *err) {
  int64_t deadline = now_ms() + timeout_ms;
  const char *sc = NULL;
  int rc;

  if (restart_command != NULL && *restart_command == '\0')
    restart_command = NULL;
  if (status_command != NULL && *status_command == '\0')
    status_command = NULL;
  if (timeout_ms <= 0)
    return cs_err_set(err, CS_EINVAL, 0, "no time given to restart %s", service ? service : "the service");
  /* systemd is needed exactly when there is no restart command of the admin's */
  if (restart_command == NULL && (service == NULL || *service == '\0'))
    return cs_err_set(err, CS_EINVAL, 0, "no service name, and no restart command to use instead");
  if (restart_command == NULL && (rc = find_systemctl(&sc, err)) != CS_OK)
    return rc;
  if ((rc = restart(sc, service, restart_command, deadline, err)) != CS_OK)
    return rc;
  /* An admin's restart command with no status command: its exit 0 is all there is to go by. */
  if (status_command == NULL && restart_command != NULL)
    return CS_OK;
  return wait_running(sc, service, status_command, deadline, timeout_ms, err);
}
