/* certsteward-worker check: `certsteward check` for a person, run in the worker
 * process because certsteward itself never loads OpenSSL. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "load.h"
#include "opts.h"
#include "platform.h"
#include "report.h"
#include "validate.h"
#include "worker_int.h"

/* Not the answer protocol: `certsteward check` hands its command line over to this
 * one (the certsteward executable never loads OpenSSL), so the output, the messages
 * and the exit status are the ones certsteward documents for check. */
#define CHECK_ACCEPTED 0 /* every file accepted */
#define CHECK_REJECTED 1 /* a file was rejected */
#define CHECK_USAGE 2    /* could not run: bad usage, configuration, trust anchors, password */

/* Checks one file and prints its verdict; 1 accepted, 0 rejected, -1 out of memory. */
static int check_one(cs_validate_t *v, const char *file, int json) {
  cs_report_t rep;
  cs_bundle_t b;
  int accepted = -1;

  memset(&b, 0, sizeof b);
  if (cs_report_init(&rep, file) != CS_OK)
    return -1;
  /* an admin's own file may be a link (e.g. to a certbot "live" folder): followed here */
  if (cs_validate_file(v, file, 0, &b, &rep, NULL) == CS_OK) {
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

int cs__worker_check(int argc, char **argv) {
  enum {
    O_CONFIG = CS_CHECK_O_CONFIG,
    O_HOST = CS_CHECK_O_HOST,
    O_CA = CS_CHECK_O_CA,
    O_PASSWORD_FILE = CS_CHECK_O_PASSWORD_FILE,
    O_CURRENT = CS_CHECK_O_CURRENT,
    O_KEY = CS_CHECK_O_KEY,
    O_JSON = CS_CHECK_O_JSON
  };
  cs_opt_t opts[] = CS_CHECK_OPTIONS;
  const char **files = NULL;
  int n_files = 0, i, rc = CHECK_USAGE, any_rejected = 0, have_cfg = 0;
  cs_validate_opts_t vo;
  cs_validate_t v;
  cs_config_t cfg;
  cs_err_t err;

  memset(&v, 0, sizeof v);
  memset(&vo, 0, sizeof vo);
  if ((files = malloc(sizeof *files * (size_t)argc)) == NULL) {
    fprintf(stderr, "certsteward check: out of memory\n");
    goto out;
  }
  if (cs_opts_parse(argc, argv, 2, opts, files, &n_files, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: %s\n", err.text);
    goto out;
  }
  if (n_files == 0) {
    fprintf(stderr, "certsteward check: name at least one certificate file (see certsteward --help)\n");
    goto out;
  }
  if (cs_opts_config(opts[O_CONFIG].value, &cfg, &err) != CS_OK) {
    fprintf(stderr, "certsteward: %s\n", err.text);
    goto out;
  }
  have_cfg = 1;
  vo.host = opts[O_HOST].value;
  vo.ca_file = opts[O_CA].value;
  vo.password_file = opts[O_PASSWORD_FILE].value;
  vo.current = opts[O_CURRENT].value;
  vo.key = opts[O_KEY].value;
  vo.key_in_store = cs_plat_store_holds_keys(); /* judged as the service judges it */
  vo.own_key_in_store = 0;                      /* a file alone: what the store holds is not looked at */
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
  rc = any_rejected ? CHECK_REJECTED : CHECK_ACCEPTED;
out:
  cs_validate_close(&v);
  if (have_cfg)
    cs_config_free(&cfg);
  free(files);
  return rc;
}
