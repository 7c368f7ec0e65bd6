/* certsteward-worker adcs: [request] route = adcs, Active Directory Certificate Services
 * through Windows' own CA enrollment API (adcs.h; common/win/adcs.c). Run unconfined,
 * as the daemon's account (LocalSystem), so that the CA sees this computer's account;
 * in a process of its own, so that a DCOM call that hangs ends with the process (the
 * caller's time limit, worker.c). It parses nothing the CA sends: the certificate's
 * bytes are written for the confined `request join` to read. Its answer is a CA
 * helper's (reply.h's "ca" line).
 *
 *   adcs submit   --config FILE --name N   submits request N (<state_dir>/request/N.csr)
 *                                          with [request] template, to [request] ca_config
 *   adcs poll     --config FILE --name N --cookie ID   asks for the CA's request ID
 *   adcs identify --config FILE            asks the CA its name (doctor; nothing submitted)
 *
 * Issued: the CA's answer (PKCS#7 with the chain) into <state_dir>/request/N.answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adcs.h"
#include "config.h"
#include "csr.h"
#include "platform.h"
#include "reply.h"
#include "request.h"
#include "text.h"
#include "worker_int.h"

#define CSR_MAX (64 * 1024)

enum { O_CONFIG, O_NAME, O_COOKIE, O_N };

/* The request's PEM, from its file (NUL-terminated: cs_plat_read_file's promise) */
static int read_csr(const cs_config_t *cfg, const char *name, unsigned char **data, size_t *len, cs_err_t *err) {
  char path[4096];
  int rc = cs_request_file(cfg->store.state_dir, name, CS_REQUEST_CSR, path, sizeof path, err);
  return rc != CS_OK ? rc : cs_plat_read_file(path, CSR_MAX, CS_READ_NOFOLLOW, data, len, err);
}

/* "ca <status> <cookie|-> <message>" and, issued, the certificate into the answer file */
static int put_answer(const cs_config_t *cfg, const char *name, cs_ca_answer_t *a, cs_buf_t *out) {
  cs_buf_t line = CS_BUF_INIT;
  char path[4096];
  cs_err_t err;
  int rc = EXIT_ANSWERED;

  if (a->status == CS_CA_ISSUED && a->out != NULL) {
    if (name == NULL ||
        cs_request_file(cfg->store.state_dir, name, CS_REQUEST_ANSWER, path, sizeof path, &err) != CS_OK ||
        cs_plat_write_atomic(path, a->out, a->out_len, 0600, &err) != CS_OK)
      return cs__worker_fail(out, EXIT_FAILED, name == NULL ? "an issued answer needs --name" : err.text);
    cs_reply_put(out, "file", path);
  }
  cs_buf_printf(&line, "%s %s %s", cs_ca_status_name(a->status), a->cookie != NULL && a->cookie[0] ? a->cookie : "-",
                a->message);
  if (cs_buf_str(&line) == NULL)
    rc = cs__worker_fail(out, EXIT_FAILED, "out of memory");
  else
    cs_reply_put(out, "ca", cs_buf_str(&line));
  cs_buf_free(&line);
  return rc;
}

int cs__worker_adcs(int argc, char **argv, cs_buf_t *out) {
  cs_opt_t o[] = {{"config", 1, NULL}, {"name", 1, NULL}, {"cookie", 1, NULL}, {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)(argc > 0 ? argc : 1));
  const char *op_name;
  unsigned char *csr = NULL;
  size_t csr_len = 0;
  char attrs[200];
  cs_ca_answer_t a;
  cs_config_t cfg;
  cs_err_t err;
  long id = 0;
  int n = 0, rc = EXIT_USAGE, have_cfg = 0, op;

  memset(&a, 0, sizeof a);
  attrs[0] = '\0';
  cs_err_clear(&err);
  if (operands == NULL)
    return cs__worker_fail(out, EXIT_FAILED, "out of memory");
  if (cs__worker_args(argc, argv, o, operands, &n, out) != 0)
    goto out;
  op_name = n == 1 ? operands[0] : "";
  op = strcmp(op_name, "submit") == 0     ? CS_CA_OP_SUBMIT
       : strcmp(op_name, "poll") == 0     ? CS_CA_OP_POLL
       : strcmp(op_name, "identify") == 0 ? CS_CA_OP_IDENTIFY
                                          : -1;
  if (op == -1 || (op != CS_CA_OP_IDENTIFY && o[O_NAME].value == NULL) ||
      (op == CS_CA_OP_POLL && o[O_COOKIE].value == NULL)) {
    cs__worker_fail(out, rc, "adcs takes submit --name N, poll --name N --cookie ID, or identify");
    goto out;
  }
  if (o[O_NAME].value != NULL && cs_reqkey_name_check(o[O_NAME].value, &err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  if (op == CS_CA_OP_POLL && cs_adcs_cookie_id(o[O_COOKIE].value, &id) != CS_OK) {
    cs__worker_fail(out, rc, "adcs poll: the cookie is not a CA request id (1 to 2147483647)");
    goto out;
  }
  rc = EXIT_FAILED;
  if ((o[O_CONFIG].value ? cs_config_load(&cfg, o[O_CONFIG].value, &err) : cs_config_defaults(&cfg)) != CS_OK) {
    cs__worker_fail(out, rc, err.text[0] ? err.text : "cannot load the configuration");
    goto out;
  }
  have_cfg = 1;
  if ((op == CS_CA_OP_SUBMIT && (read_csr(&cfg, o[O_NAME].value, &csr, &csr_len, &err) != CS_OK ||
                                 cs_adcs_attributes(cfg.request.template_name, attrs, sizeof attrs, &err) != CS_OK)) ||
      cs_plat_adcs_call(op, cfg.request.ca_config, (const char *)csr, attrs, id, &a, &err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  rc = put_answer(&cfg, o[O_NAME].value, &a, out);
out:
  cs_ca_answer_free(&a);
  if (csr != NULL)
    cs_plat_free_file(csr, csr_len);
  if (have_cfg)
    cs_config_free(&cfg);
  free(operands);
  return rc;
}
