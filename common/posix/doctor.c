/* POSIX half of the readiness checks (platform.h, certsteward doctor): the service's
 * state as systemd says it, and whether the connector's account can read the key
 * file, asked of the kernel itself. Nothing here changes anything. */
#include "../platform.h"
#include "../service_cmd.h"
#include "posix.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define SYSTEMCTL_TIMEOUT_MS 10000
#define SYSTEMCTL_MAX_OUT 4096
#define MAX_GROUPS 1024

static const char *systemctl(void) {
  if (access("/bin/systemctl", X_OK) == 0)
    return "/bin/systemctl";
  if (access("/usr/bin/systemctl", X_OK) == 0)
    return "/usr/bin/systemctl";
  return NULL;
}

/* The value of "key=value" in text (one a line), into out ("" when absent). */
static void prop(const char *text, const char *key, char *out, size_t len) {
  size_t k = strlen(key);
  const char *p;
  out[0] = '\0';
  for (p = text; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
    if (strncmp(p, key, k) == 0 && p[k] == '=') {
      size_t n = strcspn(p + k + 1, "\r\n");
      snprintf(out, len, "%.*s", (int)n, p + k + 1);
      return;
    }
}

int cs_plat_service_state(const char *service, char *state, size_t len, int *running, cs_err_t *err) {
  const char *sc = systemctl();
  cs_run_result_t res;
  char load[64], how[64];
  int rc;

  memset(&res, 0, sizeof res);
  *running = 0;
  snprintf(state, len, "%s", "");
  if (service == NULL || *service == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no service name");
  if (sc == NULL)
    return cs_err_set(err, CS_ENOENT, 0, "systemctl is not here (neither /bin/systemctl nor /usr/bin/systemctl)");
  {
    const char *argv[] = {sc, "show", "-p", "LoadState", "-p", "ActiveState", "--", service, NULL};
    if ((rc = cs_plat_run(argv, NULL, 0, SYSTEMCTL_TIMEOUT_MS, SYSTEMCTL_MAX_OUT, &res, err)) != CS_OK)
      goto out;
  }
  if (res.timed_out || res.exit_code != 0) {
    cs__service_describe(&res, SYSTEMCTL_TIMEOUT_MS, how, sizeof how);
    rc =
        cs_err_set(err, res.timed_out ? CS_ETIMEDOUT : CS_EFAILED, res.exit_code, "systemctl show %s %s", service, how);
    goto out;
  }
  prop(res.out, "LoadState", load, sizeof load);
  prop(res.out, "ActiveState", state, len);
  if (strcmp(load, "not-found") == 0)
    rc = cs_err_set(err, CS_ENOENT, 0, "systemd has no unit %s", service);
  else if (strcmp(load, "loaded") != 0)
    rc = cs_err_set(err, CS_EFAILED, 0, "systemd cannot use the unit %s: its LoadState is \"%.40s\"", service, load);
  else
    *running = strcmp(state, "active") == 0;
out:
  cs_run_result_free(&res);
  return rc;
}

/* The key is opened by a child that has become account (its user, its groups): what
 * the kernel answers is what the connector will meet, whatever decided it (mode,
 * owner, group, ACL entries, the folders above). The child only opens and closes. */
static int ask_kernel(const char *key_path, const struct passwd *pw, int *readable, char *why, size_t len,
                      cs_err_t *err) {
  gid_t groups[MAX_GROUPS];
  int n = MAX_GROUPS, status = 0;
  pid_t pid;

  if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
    return cs_err_set(err, CS_ETOOBIG, 0, "%s is in more than %d groups", pw->pw_name, MAX_GROUPS);
  if ((pid = fork()) < 0)
    return cs_err_set(err, CS_EIO, errno, "cannot start a process to ask: %s", strerror(errno));
  if (pid == 0) {
    int fd;
    if (setgroups((size_t)n, groups) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
      _exit(255);
    fd = open(key_path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
      _exit(errno > 0 && errno < 255 ? errno : 254);
    close(fd);
    _exit(0);
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return cs_err_set(err, CS_EIO, errno, "cannot wait for the process that asked: %s", strerror(errno));
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 255 || WEXITSTATUS(status) == 254)
    return cs_err_set(err, CS_EFAILED, 0, "the process that asked could not become %s", pw->pw_name);
  *readable = WEXITSTATUS(status) == 0;
  if (*readable)
    snprintf(why, len, "%s (uid %ld) opened %s for reading", pw->pw_name, (long)pw->pw_uid, key_path);
  else
    snprintf(why, len, "%s (uid %ld) cannot open %s: %s", pw->pw_name, (long)pw->pw_uid, key_path,
             strerror(WEXITSTATUS(status)));
  return CS_OK;
}

int cs_plat_key_readable(const char *key_ref, const char *account, int *readable, char *why, size_t len,
                         cs_err_t *err) {
  struct passwd pw, *found = NULL;
  char buf[4096];
  int e, rc, granted = 0;

  *readable = 0;
  snprintf(why, len, "%s", "");
  if (account == NULL || *account == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no account name");
  e = getpwnam_r(account, &pw, buf, sizeof buf, &found);
  if (found == NULL)
    return cs_err_set(err, e != 0 && e != ENOENT && e != ESRCH ? CS_EIO : CS_ENOENT, e, "no such user: %s", account);
  if (geteuid() == 0)
    return ask_kernel(key_ref, &pw, readable, why, len, err);
  /* Not root: no way to become the account; its own entry is what can be read. */
  if ((rc = cs_plat_key_check(key_ref, account, &granted, err)) != CS_OK)
    return rc;
  *readable = granted;
  snprintf(why, len, "%s %s an ACL entry of its own that reads %s (only root can ask the kernel for it)", account,
           granted ? "has" : "has no", key_ref);
  return CS_OK;
}

int cs_plat_store_cert(const char *tp, unsigned char **der, size_t *len, cs_err_t *err) {
  (void)tp;
  *der = NULL;
  *len = 0;
  return cs_err_set(err, CS_EINVAL, 0,
                    "this system has no certificate store: the certificate in service is [store] "
                    "cert_file");
}

cs_doctor_outcome_t cs_plat_doctor_event_source(char *detail, size_t len) {
  snprintf(detail, len, "%s", "");
  return CS_DOCTOR_OK;
}

cs_doctor_outcome_t cs_plat_doctor_own_service(char *detail, size_t len) {
  snprintf(detail, len, "%s", "");
  return CS_DOCTOR_OK;
}
