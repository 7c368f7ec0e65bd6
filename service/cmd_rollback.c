/* certsteward rollback: the previous certificate back in service, through the
 * renewal transaction (validate, pre-flight, install, grant, bindings, restart,
 * probe, or roll back the rollback). The previous certificate is the newest
 * folder under <state_dir>/archive/ (a committed renewal leaves what it replaced
 * in archive/<their thumbprint>/), skipping the one in service. A committed
 * rollback archives the certificate it replaced in turn, so a second rollback
 * goes forward again.
 * POSIX archives the store files (cert.pem, key.pem): they go back as one bundle.
 * Windows archives the certificate alone (cert.cer: machine keys are not
 * exportable); it goes back bound to its own key, which must still be in
 * LocalMachine\My with it ([store] old_certificates = keep): otherwise rollback
 * refuses before anything changes and says what the admin can do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "bindings.h"
#include "adopted.h"
#include "cli.h"
#include "clock.h"
#include "platform.h"
#include "renewal.h"
#include "statedir.h"
#include "text.h"

#define PATH_LEN 4096

/* The newest archive/<thumbprint> folder whose thumbprint is not skip_tp:
 * its path into dir, its name into tp. CS_ENOENT when there is none. */
static int newest_archive(const char *archive, const char *skip_tp, char dir[PATH_LEN], char tp[41], cs_err_t *err) {
  uv_fs_t req, st;
  uv_dirent_t ent;
  char path[PATH_LEN];
  long long best = -1;
  int r = uv_fs_scandir(NULL, &req, archive, 0, NULL);

  if (r < 0) {
    uv_fs_req_cleanup(&req);
    if (r == UV_ENOENT)
      return cs_err_set(err, CS_ENOENT, 0, "nothing to roll back to: no archived certificate in %s", archive);
    return cs_err_set(err, CS_EIO, r, "cannot list %s: %s", archive, uv_strerror(r));
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    long long mtime;
    char name[41];
    if (!cs_thumbprint_valid(ent.name))
      continue;
    snprintf(name, sizeof name, "%s", ent.name);
    cs_thumbprint_upper(name);
    if (strcmp(name, skip_tp) == 0)
      continue; /* that one is in service already */
    if (cs_plat_path_join(path, PATH_LEN, archive, ent.name) != 0)
      continue;
    if (uv_fs_lstat(NULL, &st, path, NULL) != 0 || (st.statbuf.st_mode & S_IFMT) != S_IFDIR) {
      uv_fs_req_cleanup(&st);
      continue;
    }
    /* the folder's time is when the archive last moved files into it */
    mtime = (long long)st.statbuf.st_mtim.tv_sec * 1000000000LL + st.statbuf.st_mtim.tv_nsec;
    uv_fs_req_cleanup(&st);
    if (mtime > best) {
      best = mtime;
      memcpy(dir, path, PATH_LEN);
      memcpy(tp, name, 41);
    }
  }
  uv_fs_req_cleanup(&req);
  if (best < 0)
    return cs_err_set(err, CS_ENOENT, 0, "nothing to roll back to: no archived certificate in %s%s", archive,
                      skip_tp[0] ? " but the one in service" : "");
  return CS_OK;
}

/* Writes dir's cert.pem followed by its key.pem (when there is one) to bundle,
 * a new file of mode 0600. The key bytes are wiped from memory afterwards. */
static int write_bundle(const char *dir, const char *bundle, size_t max, cs_err_t *err) {
  unsigned char *cert = NULL, *key = NULL;
  size_t cert_len = 0, key_len = 0, len = 0;
  char *all = NULL, path[PATH_LEN];
  int rc;

  if (cs_plat_path_join(path, PATH_LEN, dir, CS_STAGE_CERT) != 0) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "path too long");
    goto out;
  }
  if ((rc = cs_plat_read_file(path, max, CS_READ_NOFOLLOW, &cert, &cert_len, err)) != CS_OK)
    goto out;
  (void)cs_plat_path_join(path, PATH_LEN, dir, CS_STAGE_KEY); /* not longer than cert.pem's */
  rc = cs_plat_read_file(path, max, CS_READ_NOFOLLOW, &key, &key_len, err);
  if (rc == CS_ENOENT) /* a key-less one: validation pairs it with the key in service */
    cs_err_clear(err);
  else if (rc != CS_OK)
    goto out;
  if ((all = malloc(cert_len + key_len + 2)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  memcpy(all, cert, cert_len);
  len = cert_len;
  if (len > 0 && all[len - 1] != '\n')
    all[len++] = '\n';
  if (key_len > 0)
    memcpy(all + len, key, key_len);
  len += key_len;
  /* a file left by an earlier run keeps its mode when replaced: start afresh */
  if ((rc = cs_plat_remove(bundle, err)) != CS_OK)
    goto out;
  rc = cs_plat_write_atomic(bundle, all, len, 0600, err);
out:
  if (all != NULL)
    cs_plat_wipe(all, cert_len + key_len + 2);
  free(all);
  cs_plat_free_file(cert, cert_len);
  cs_plat_free_file(key, key_len);
  return rc;
}

/* Windows: dir\cert.cer into file, once LocalMachine\My is seen to hold certificate
 * tp with its key (the worker and the store check it again in the transaction);
 * -1 with the reason on stderr. */
static int windows_archived(const cs_config_t *cfg, const char *dir, const char *tp, char file[PATH_LEN]) {
  cs_plat_cert_t *certs = NULL;
  size_t n = 0, i;
  int found = -1; /* -1 not in My, 0 there without key, 1 with */
  cs_err_t err;

  if (cs_plat_path_join(file, PATH_LEN, dir, "cert.cer") != 0 || !cs_plat_exists(file)) {
    fprintf(stderr, "certsteward rollback: %s holds no archived certificate (cert.cer)\n", dir);
    return -1;
  }
  if (cs_plat_store_list(cfg, &certs, &n, &err) != CS_OK) {
    fprintf(stderr, "certsteward rollback: %s\n", err.text);
    return -1;
  }
  for (i = 0; i < n; i++)
    if (strcmp(certs[i].tp, tp) == 0)
      found = certs[i].has_key != 0;
  cs_plat_store_list_free(certs, n);
  if (found == 1)
    return 0;
  fprintf(stderr,
          "certsteward rollback: refused, nothing was changed: the previous certificate %s is %s.\n"
          "It can go back in service only with its own private key, which never leaves LocalMachine\\My: "
          "certsteward archives the certificate alone (%s), and [store] old_certificates = delete removes a "
          "replaced certificate from the store.\n"
          "To put it back in service, drop its PFX file (certificate and private key) into the drop folder%s%s.\n",
          tp, found == 0 ? "in LocalMachine\\My without its private key" : "no longer in LocalMachine\\My", file,
          cfg->watch.folder ? " " : "", cfg->watch.folder ? cfg->watch.folder : "");
  return -1;
}

/* The certificate a rollback took out of service stays in LocalMachine\My, newer than the
 * one put back: recorded as judged (adopted.h), so that the service does not adopt it
 * again ([store] adopt). */
static void judged_out(const cs_config_t *cfg, const char *tp) {
  cs_adopted_t a;
  cs_err_t err;
  if (cs_adopted_read(cfg->store.state_dir, &a, &err) != CS_OK ||
      cs_adopted_put(cfg->store.state_dir, &a, tp, CS_ADOPT_REJECTED, cs_clock_now(), tp,
                     "taken out of service by certsteward rollback", &err) != CS_OK)
    fprintf(stderr,
            "certsteward rollback: %s; the service may put %s back in service ([store] adopt): remove it from "
            "LocalMachine\\My\n",
            err.text, tp);
  cs_adopted_free(&a);
}

int cs_cmd_rollback(int argc, char **argv) {
  int rc = CS_EXIT_USAGE, have_cfg = 0;
  char host[256], current[41], tp[41], archive[PATH_LEN], dir[PATH_LEN], name[64], bundle[PATH_LEN], file[PATH_LEN];
  cs_plat_lock_t *lock = NULL;
  cs_renewal_result_t res;
  cs_renewal_env_t env;
  cs_worker_t worker;
  cs_config_t cfg;
  cs_err_t err;

  memset(&res, 0, sizeof res);
  bundle[0] = '\0';
  if (cs_cli_command_config(argc, argv, &cfg, NULL) != 0)
    goto out;
  have_cfg = 1;
  /* under the lock, after any recovery: a recovered commit archives a folder too */
  if (cs_cli_host(&cfg, NULL, host, sizeof host) != 0 ||
      cs_cli_begin("rollback", &cfg, host, &worker, &env, &lock) != 0)
    goto out;
  if (cs_renewal_current(&env, current, &err) != CS_OK)
    current[0] = '\0'; /* the transaction below says why */
  if (cs_plat_path_join(archive, PATH_LEN, cfg.store.state_dir, CS_STATE_ARCHIVE) != 0) {
    fprintf(stderr, "certsteward rollback: [store] state_dir is too long\n");
    goto out;
  }
  if (newest_archive(archive, current, dir, tp, &err) != CS_OK) {
    fprintf(stderr, "certsteward rollback: %s\n", err.text);
    goto out;
  }
  if (cs_plat_store_is_system()) {
    if (windows_archived(&cfg, dir, tp, file) != 0)
      goto out;
  } else {
    snprintf(name, sizeof name, "rollback-%s.pem", tp);
    if (cs_plat_path_join(bundle, PATH_LEN, cfg.store.state_dir, name) != 0) {
      bundle[0] = '\0';
      fprintf(stderr, "certsteward rollback: [store] state_dir is too long\n");
      goto out;
    }
    if (write_bundle(dir, bundle, (size_t)cfg.watch.max_file_size, &err) != CS_OK) {
      fprintf(stderr, "certsteward rollback: %s: %s\n", dir, err.text);
      goto out;
    }
    memcpy(file, bundle, PATH_LEN);
  }
  printf("rolling back to %s (archived in %s)\n", tp, dir);
  fflush(stdout);
  cs_renewal_run(&env, file, CS_RENEW_ROLLBACK, &res);
  if (res.outcome == CS_OUT_COMMITTED && cs_plat_store_is_system() && res.old_tp[0])
    judged_out(&cfg, res.old_tp);
  rc = cs_cli_outcome(dir, &res);
out:
  if (bundle[0] != '\0' && cs_plat_remove(bundle, &err) != CS_OK)
    fprintf(stderr, "certsteward rollback: %s (it holds a private key: remove it)\n", err.text);
  cs_renewal_result_free(&res);
  cs_cli_end(lock);
  if (have_cfg)
    cs_config_free(&cfg);
  return rc;
}
