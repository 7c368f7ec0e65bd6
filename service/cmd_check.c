/* certsteward check: is each file fit to replace the certificate in service? */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "validate.h"

enum { O_CONFIG, O_HOST, O_CA, O_PASSWORD_FILE, O_CURRENT, O_KEY, O_JSON };

/* Checks one file and prints its verdict; returns 1 if accepted, 0 if rejected, -1 out of memory. */
static int check_one(const cs_validate_t *v, const char *file, int json) {
  cs_report_t rep;
  cs_bundle_t b;
  int accepted = -1;

  memset(&b, 0, sizeof b);
  if (cs_report_init(&rep, file) != CS_OK)
    return -1;
  /* an admin's own file may be a link (e.g. to a certbot "live" folder): followed here */
  if (cs_validate_file(v, file, 0, &b, &rep) == CS_OK) {
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
  int n_files = 0, i, rc = CS_EXIT_USAGE, any_rejected = 0, have_cfg = 0, have_v = 0;
  cs_validate_opts_t vo;
  cs_validate_t v;
  cs_config_t cfg;
  cs_err_t err;

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
  vo.host = opts[O_HOST].value;
  vo.ca_file = opts[O_CA].value;
  vo.password_file = opts[O_PASSWORD_FILE].value;
  vo.current = opts[O_CURRENT].value;
  vo.key = opts[O_KEY].value;
  have_v = 1;
  if (cs_validate_open(&v, &cfg, &vo, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: %s\n", err.text);
    goto out;
  }
  for (i = 0; i < n_files; i++) {
    int r = check_one(&v, files[i], opts[O_JSON].value != NULL);
    if (r < 0) {
      fprintf(stderr, "certsteward check: out of memory\n");
      goto out;
    }
    any_rejected |= r == 0;
    fflush(stdout);
  }
  rc = any_rejected ? CS_EXIT_REJECTED : CS_EXIT_OK;
out:
  if (have_v)
    cs_validate_close(&v);
  if (have_cfg)
    cs_config_free(&cfg);
  free(files);
  return rc;
}
