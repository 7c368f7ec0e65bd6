/* certsteward doctor: the [request] route, judged without submitting anything (cmd_doctor.c
 * reports it as the check "request"). The helper runs as root / LocalSystem, so its
 * program and the files it is handed must be ones only administrators can change
 * (cs_ca_command_judge, the check every run makes); it is asked certmonger's harmless
 * IDENTIFY, which tells whether it runs and whether its CA answers. */
#include "doctor_request.h"

#include <stdio.h>
#include <string.h>

#include "ca_command.h"
#include "platform.h"

cs_doctor_outcome_t cs_doctor_request(const cs_config_t *cfg, const char *host, char *detail, size_t len) {
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
  if (strcmp(c->request.route, "command") != 0) {
    snprintf(detail, len, "route %s is not in this version: use route = command with the CA helper (README)",
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
  switch (a.status) {
  case CS_CA_ISSUED: /* IDENTIFY answered: who it is */
  case CS_CA_UNSUPPORTED:
    snprintf(detail, len, "%s runs and answers (%s)", prog,
             a.status == CS_CA_ISSUED ? "it identified itself" : "it does not identify itself");
    o = CS_DOCTOR_OK;
    break;
  case CS_CA_UNREACHABLE:
    snprintf(detail, len, "the CA helper cannot reach its CA: %s", a.message);
    o = CS_DOCTOR_FAIL;
    break;
  default:
    snprintf(detail, len, "the CA helper answered %s: %s", cs_ca_status_name(a.status), a.message);
    o = a.status == CS_CA_UNCONFIGURED || a.status == -1 ? CS_DOCTOR_FAIL : CS_DOCTOR_WARN;
    break;
  }
  cs_ca_answer_free(&a);
  return o;
}
