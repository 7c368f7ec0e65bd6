/* certsteward check: is each file fit to replace the certificate in service? */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "load.h"
#include "password.h"
#include "platform.h"
#include "policy.h"
#include "report.h"

enum { O_CONFIG, O_HOST, O_CA, O_PASSWORD_FILE, O_CURRENT, O_KEY, O_JSON };

/* Checks one file and prints its verdict; returns 1 if accepted, 0 if rejected, -1 out of memory. */
static int check_one(const char *file, const cs_policy_t *pol, const cs_config_t *cfg, const char *password,
                     int json) {
  cs_report_t rep;
  cs_bundle_t b;
  cs_err_t err;
  int rc, accepted = -1;

  cs_err_clear(&err);
  memset(&b, 0, sizeof b);
  if (cs_report_init(&rep, file) != CS_OK)
    return -1;
  rc = cs_load_file(file, (size_t)cfg->watch.max_file_size, 0, password, &b, &err);
  if (rc == CS_OK)
    rc = cs_policy_check(pol, &b, &rep);
  else
    rc = cs_report_add(&rep, CS_CHECK_LOAD, false, "%s", err.text[0] ? err.text : cs_strerror(rc));
  if (rc == CS_OK) {
    if (json)
      cs_report_print_json(&rep, stdout);
    else
      cs_report_print_text(&rep, stdout);
    accepted = cs_report_accepted(&rep) ? 1 : 0;
  }
  cs_bundle_free(&b);
  cs_report_free(&rep);
  return accepted;
}

int cs_cmd_check(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL},  {"host", 1, NULL}, {"ca", 1, NULL}, {"password-file", 1, NULL},
                     {"current", 1, NULL}, {"key", 1, NULL},  {"json", 0, NULL}, {NULL, 0, NULL}};
  const char **files = NULL;
  const char *pw_file, *ca_file;
  int n_files = 0, i, rc = CS_EXIT_USAGE, any_rejected = 0, have_cfg = 0;
  char host[256], *password = NULL;
  cs_config_t cfg;
  cs_policy_t pol;
  cs_bundle_t current;
  cs_err_t err;

  memset(&pol, 0, sizeof pol);
  memset(&current, 0, sizeof current);
  cs_err_clear(&err);
  files = malloc(sizeof *files * (size_t)argc);
  if (files == NULL || cs_cli_parse(argc, argv, 2, opts, files, &n_files) != 0)
    goto out;
  if (n_files == 0) {
    fprintf(stderr, "certsteward check: name at least one certificate file (see certsteward --help)\n");
    goto out;
  }
  if (cs_cli_config(opts[O_CONFIG].value, &cfg) != 0)
    goto out;
  have_cfg = 1;
  if (cs_crypto_init(&err) != CS_OK) {
    fprintf(stderr, "certsteward check: %s\n", err.text);
    goto out;
  }

  if (opts[O_HOST].value != NULL && opts[O_HOST].value[0] != '\0')
    snprintf(host, sizeof host, "%s", opts[O_HOST].value);
  else if (cfg.connector.host != NULL)
    snprintf(host, sizeof host, "%s", cfg.connector.host);
  else if (cs_plat_fqdn(host, sizeof host, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: no --host or [connector] host, and %s\n", err.text);
    goto out;
  }
  pol.host = host;

  pw_file = opts[O_PASSWORD_FILE].value ? opts[O_PASSWORD_FILE].value : cfg.watch.password_file;
  if (pw_file != NULL && cs_password_read(pw_file, &password, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: %s\n", err.text);
    goto out;
  }
  ca_file = opts[O_CA].value ? opts[O_CA].value : cfg.policy.ca_file;
  if (cs_policy_trust_load(ca_file, &pol.trust, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: %s\n", err.text);
    goto out;
  }
  if (opts[O_CURRENT].value != NULL) {
    if (cs_load_file(opts[O_CURRENT].value, (size_t)cfg.watch.max_file_size, 0, password, &current, &err) != CS_OK) {
      fprintf(stderr, "certsteward check: cannot read the certificate in service %s: %s\n", opts[O_CURRENT].value,
              err.text);
      goto out;
    }
    pol.current = current.leaf;
  }
  if (opts[O_KEY].value != NULL &&
      cs_load_key_file(opts[O_KEY].value, (size_t)cfg.watch.max_file_size, password, &pol.service_key, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: cannot read the key in service %s: %s\n", opts[O_KEY].value, err.text);
    goto out;
  }
  pol.min_valid_days = cfg.policy.min_valid_days;
  pol.min_rsa_bits = cfg.policy.min_rsa_bits;
  pol.allow_sha1 = cfg.policy.allow_sha1;
  pol.require_cn = cfg.policy.require_cn;
  pol.now = time(NULL);

  for (i = 0; i < n_files; i++) {
    int r = check_one(files[i], &pol, &cfg, password, opts[O_JSON].value != NULL);
    if (r < 0) {
      fprintf(stderr, "certsteward check: out of memory\n");
      goto out;
    }
    any_rejected |= r == 0;
    fflush(stdout);
  }
  rc = any_rejected ? CS_EXIT_REJECTED : CS_EXIT_OK;
out:
  X509_STORE_free(pol.trust);
  EVP_PKEY_free(pol.service_key);
  cs_bundle_free(&current);
  cs_password_free(password);
  if (have_cfg)
    cs_config_free(&cfg);
  free(files);
  return rc;
}
