/* certsteward doctor: the [request] route, judged without submitting anything (cmd_doctor.c
 * reports it as the check "request"). route = command: the helper runs as root /
 * LocalSystem, so its program and the files it is handed must be ones only
 * administrators can change (cs_ca_command_judge, the check every run makes); it is
 * asked certmonger's harmless IDENTIFY, which tells whether it runs and whether its CA
 * answers. route = adcs: ca_config's form, then the CA enrollment API in the worker as
 * the request uses it (certsteward-worker adcs identify): CCertRequest created and the
 * CA asked its name (GetCAProperty, CR_PROP_CANAME), which submits nothing. */
#include "doctor_request.h"

#include <stdio.h>
#include <string.h>

#include "adcs.h"
#include "ca_command.h"
#include "platform.h"

/* The CA's answer to a doctor's question, in the words of both routes */
static cs_doctor_outcome_t judge(const cs_ca_answer_t *a, const char *who, char *detail, size_t len) {
  switch (a->status) {
  case CS_CA_ISSUED: /* IDENTIFY answered: who it is */
  case CS_CA_UNSUPPORTED:
    snprintf(detail, len, "%s runs and answers (%s)", who,
             a->status == CS_CA_ISSUED ? (a->message[0] ? a->message : "it identified itself")
                                       : "it does not identify itself");
    return CS_DOCTOR_OK;
  case CS_CA_UNREACHABLE:
    snprintf(detail, len, "%s cannot reach its CA: %s", who, a->message);
    return CS_DOCTOR_FAIL;
  default:
    snprintf(detail, len, "%s answered %s: %s", who, cs_ca_status_name(a->status), a->message);
    return a->status == CS_CA_UNCONFIGURED || a->status == -1 ? CS_DOCTOR_FAIL : CS_DOCTOR_WARN;
  }
}

static cs_doctor_outcome_t adcs(const cs_config_t *c, const cs_worker_t *worker, char *detail, size_t len) {
  char why[400], who[300];
  cs_ca_answer_t a;
  cs_err_t err;
  cs_doctor_outcome_t o;

  if (!cs_plat_store_is_system()) {
    snprintf(detail, len, "route adcs is Windows' own (ICertRequest): use route = command with a CA helper");
    return CS_DOCTOR_FAIL;
  }
  if (cs_adcs_config_check(c->request.ca_config, why, sizeof why) != 0) {
    snprintf(detail, len, "route = adcs: %s", why);
    return CS_DOCTOR_FAIL;
  }
  if (worker == NULL) {
    snprintf(detail, len, "route = adcs: the worker that asks the CA cannot be found");
    return CS_DOCTOR_FAIL;
  }
  if (cs_worker_adcs(worker, CS_CA_OP_IDENTIFY, NULL, NULL, c->store.state_dir, CS_WORKER_TIMEOUT_MS, &a, &err) !=
      CS_OK) {
    snprintf(detail, len, "route = adcs: the CA enrollment API could not be asked: %s", err.text);
    return CS_DOCTOR_FAIL;
  }
  snprintf(who, sizeof who, "the CA %.250s", c->request.ca_config);
  o = judge(&a, who, detail, len);
  cs_ca_answer_free(&a);
  return o;
}

cs_doctor_outcome_t cs_doctor_request(const cs_config_t *cfg, const cs_worker_t *worker, const char *host, char *detail,
                                      size_t len) {
  const cs_config_t *c = cfg;
  char prog[1024];
  cs_ca_answer_t a;
  cs_err_t err;
  cs_doctor_outcome_t o;

  if (c->request.renew_days == 0) {
    snprintf(detail, len, "off ([request] renew_days not set): certificates are renewed by hand or adopted");
    return CS_DOCTOR_OK;
  }
  if (c->request.route == NULL) {
    snprintf(detail, len, "manual: requests are written to the outbox under %s for you to submit", c->store.state_dir);
    return CS_DOCTOR_OK;
  }
  if (strcmp(c->request.route, "adcs") == 0)
    return adcs(c, worker, detail, len);
  if (strcmp(c->request.route, "command") != 0) {
    snprintf(detail, len, "route %s is not known to this version: use route = command or adcs (README)",
             c->request.route);
    return CS_DOCTOR_FAIL;
  }
  if (c->request.submit_command == NULL) {
    snprintf(detail, len, "route = command, but submit_command is not set");
    return CS_DOCTOR_FAIL;
  }
  /* the judgement every run makes (ca_judge.c): the program, its scripts and files */
  if (cs_ca_command_judge(c->request.submit_command, prog, sizeof prog, &err) != CS_OK) {
    snprintf(detail, len, "%s", err.text);
    return CS_DOCTOR_FAIL;
  }
  if (cs_ca_command_run(c->request.submit_command, c->store.state_dir, CS_CA_OP_IDENTIFY, NULL,
                        c->request.template_name, host, NULL, &a, &err) != CS_OK) {
    snprintf(detail, len, "submit_command cannot be run: %s", err.text);
    return CS_DOCTOR_FAIL;
  }
  o = judge(&a, prog, detail, len);
  cs_ca_answer_free(&a);
  return o;
}
