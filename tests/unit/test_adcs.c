/* [request] route = adcs: the pure decisions (the configuration string, the request's
 * attributes, the cookie, what the CA enrollment API's HRESULTs and dispositions answer),
 * the worker's "ca" line, and the route run for real through certsteward-worker. Wine 8
 * has no certcli.dll (CoCreateInstance of CCertRequest answers REGDB_E_CLASSNOTREG), so
 * under Wine the run proves that the route says the API is not available and that the
 * request is kept and tried again; POSIX proves the route refuses to run there. What
 * only a Windows server with AD CS proves (Submit, RetrievePending and GetCertificate
 * against a CA, DCOM as the computer account, a template's permissions, a CA manager's
 * approval) is said in common/win/adcs.c and the README. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adcs.h"
#include "config.h"
#include "cs_test.h"
#include "platform.h"
#include "reply.h"
#include "request.h"
#include "request_flow.h"
#include "worker.h"

/* ---- pure ------------------------------------------------------------------------ */

CS_TEST(config_string_forms) {
  char why[400];
  CHECK_INT(cs_adcs_config_check("ca01.corp.example.com\\Corp Issuing CA", why, sizeof why), ==, 0);
  CHECK_INT(cs_adcs_config_check("CA01\\Corp-Issuing-CA", why, sizeof why), ==, 0);
  CHECK_INT(
      cs_adcs_config_check("https://ces.corp.example.com/Corp%20CA_CES_Kerberos/service.svc/CES", why, sizeof why), ==,
      0);
  CHECK(cs_adcs_config_is_url("HTTPS://ces.corp.example.com/x"));
  CHECK(!cs_adcs_config_is_url("ca01\\CA"));
  CHECK_INT(cs_adcs_config_check("", why, sizeof why), ==, CS_ECONFIG);
  CHECK_CONTAINS(why, "is not set");
  CHECK_INT(cs_adcs_config_check("Corp Issuing CA", why, sizeof why), ==, CS_ECONFIG); /* no host */
  CHECK_CONTAINS(why, "host\\CA Name");
  CHECK_INT(cs_adcs_config_check("\\Corp CA", why, sizeof why), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_config_check("ca01\\", why, sizeof why), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_config_check("ca01\\a\\b", why, sizeof why), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_config_check("ca 01\\Corp CA", why, sizeof why), ==, CS_ECONFIG);
  CHECK_CONTAINS(why, "not a host name");
  CHECK_INT(cs_adcs_config_check("ca01\\ Corp CA", why, sizeof why), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_config_check("ca01\\Corp\nCA", why, sizeof why), ==, CS_ECONFIG);
  CHECK_CONTAINS(why, "control character");
  CHECK_INT(cs_adcs_config_check("http://ces.corp.example.com/CES", why, sizeof why), ==, CS_ECONFIG);
  CHECK_CONTAINS(why, "https:// only");
  CHECK_INT(cs_adcs_config_check("https://", why, sizeof why), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_config_check("https://ces.example.com/a b", why, sizeof why), ==, CS_ECONFIG);
}

CS_TEST(config_load_checks_ca_config) {
  char dir[512], why[600];
  cs_config_t cfg;
  cs_err_t err;
  cs_test_mkdtemp("cs-adcs-", dir, sizeof dir);
  cs_test_put_str(cs_test_join(dir, "good.ini"), "[request]\nca_config = ca01.corp.example.test\\Corp CA\n");
  CHECK_INT(cs_config_load(&cfg, cs_test_join(dir, "good.ini"), &err), ==, CS_OK);
  CHECK_STR(cfg.request.ca_config, "ca01.corp.example.test\\Corp CA");
  cs_config_free(&cfg);
  cs_test_put_str(cs_test_join(dir, "bad.ini"), "[request]\nca_config = Corp CA\n");
  CHECK_INT(cs_config_load(&cfg, cs_test_join(dir, "bad.ini"), &err), ==, CS_ECONFIG);
  snprintf(why, sizeof why, "%s", err.text);
  CHECK_CONTAINS(why, "host\\CA Name");
}

CS_TEST(attributes_name_the_template) {
  char a[64];
  cs_err_t err;
  CHECK_INT(cs_adcs_attributes("BoardWebServer", a, sizeof a, &err), ==, CS_OK);
  CHECK_STR(a, "CertificateTemplate:BoardWebServer");
  CHECK_INT(cs_adcs_attributes(NULL, a, sizeof a, &err), ==, CS_OK);
  CHECK_STR(a, "");
  CHECK_INT(cs_adcs_attributes("", a, sizeof a, &err), ==, CS_OK);
  CHECK_STR(a, "");
  /* a line end would be a second attribute (Submit reads one "name:value" a line) */
  CHECK_INT(cs_adcs_attributes("Web\nSAN:dns=evil.example", a, sizeof a, &err), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_attributes("a:b", a, sizeof a, &err), ==, CS_ECONFIG);
  CHECK_INT(cs_adcs_attributes("AVeryLongTemplateNameThatDoesNotFitInTheBufferGiven", a, 30, &err), ==, CS_ETOOBIG);
}

CS_TEST(cookie_is_the_ca_request_id) {
  long id = 0;
  CHECK_INT(cs_adcs_cookie_id("1234", &id), ==, CS_OK);
  CHECK_INT(id, ==, 1234);
  CHECK_INT(cs_adcs_cookie_id("2147483647", &id), ==, CS_OK);
  CHECK_INT(cs_adcs_cookie_id("2147483648", &id), ==, CS_EFORMAT);
  CHECK_INT(cs_adcs_cookie_id("0", &id), ==, CS_EFORMAT);
  CHECK_INT(cs_adcs_cookie_id("", &id), ==, CS_EFORMAT);
  CHECK_INT(cs_adcs_cookie_id(NULL, &id), ==, CS_EFORMAT);
  CHECK_INT(cs_adcs_cookie_id("12a", &id), ==, CS_EFORMAT);
  CHECK_INT(cs_adcs_cookie_id("-5", &id), ==, CS_EFORMAT);
}

CS_TEST(hresult_kinds) {
  CHECK_INT(cs_adcs_hr_kind(0x800706BAUL), ==, CS_CA_UNREACHABLE);  /* RPC server unavailable */
  CHECK_INT(cs_adcs_hr_kind(0x800706D9UL), ==, CS_CA_UNREACHABLE);  /* no endpoints: the CA service is down */
  CHECK_INT(cs_adcs_hr_kind(0x80072EFDUL), ==, CS_CA_UNREACHABLE);  /* WinHTTP cannot connect */
  CHECK_INT(cs_adcs_hr_kind(0x80070057UL), ==, CS_CA_UNCONFIGURED); /* not this CA's name */
  CHECK_INT(cs_adcs_hr_kind(0x80094800UL), ==, CS_CA_UNCONFIGURED); /* no such template */
  CHECK_INT(cs_adcs_hr_kind(0x80094012UL), ==, CS_CA_UNCONFIGURED); /* template permissions */
  CHECK_INT(cs_adcs_hr_kind(0x80040154UL), ==, CS_CA_UNCONFIGURED); /* no CCertRequest */
  CHECK_INT(cs_adcs_hr_kind(0x80094014UL), ==, CS_CA_REJECTED);     /* a CA manager denied it */
  CHECK_INT(cs_adcs_hr_kind(0x80004005UL), ==, -1);                 /* E_FAIL: not known */
}

static cs_adcs_outcome_t outcome(cs_ca_op_t op, unsigned long hr, long disp, unsigned long status, long id) {
  cs_adcs_outcome_t o;
  memset(&o, 0, sizeof o);
  o.op = op;
  o.hr = hr;
  o.disposition = disp;
  o.status = status;
  o.request_id = id;
  return o;
}

/* the answer o stands for: its status; cookie and message into the caller's buffers */
static int answer(const cs_adcs_outcome_t *o, char *cookie, size_t cookie_len, char *msg, size_t msg_len,
                  size_t *out_len) {
  cs_ca_answer_t a;
  cs_err_t err;
  int status;
  CHECK_INT(cs_adcs_answer(o, &a, &err), ==, CS_OK);
  status = a.status;
  snprintf(cookie, cookie_len, "%s", a.cookie != NULL ? a.cookie : "(none)");
  snprintf(msg, msg_len, "%s", a.message);
  if (out_len != NULL)
    *out_len = a.out_len;
  cs_ca_answer_free(&a);
  return status;
}

CS_TEST(issued_carries_the_certificate) {
  static const unsigned char p7[] = {0x30, 0x82, 0x01, 0x02, 0x06, 0x09};
  cs_adcs_outcome_t o = outcome(CS_CA_OP_SUBMIT, 0, CS_ADCS_DISP_ISSUED, 0, 41);
  char cookie[32], msg[600];
  size_t len = 0;
  o.cert = p7;
  o.cert_len = sizeof p7;
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, &len), ==, CS_CA_ISSUED);
  CHECK_INT(len, ==, sizeof p7);
  CHECK_CONTAINS(msg, "41");
  /* issued, the certificate not read: polled by its id, never submitted again */
  o.cert = NULL;
  o.cert_len = 0;
  o.cert_hr = 0x800706BAUL;
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_WAIT);
  CHECK_STR(cookie, "41");
  CHECK_CONTAINS(msg, "0x800706BA");
}

CS_TEST(pending_waits_with_the_request_id) {
  cs_adcs_outcome_t o = outcome(CS_CA_OP_SUBMIT, 0, CS_ADCS_DISP_UNDER_SUBMISSION, 0, 1234);
  char cookie[32], msg[600];
  o.message = "Taken Under Submission";
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_WAIT);
  CHECK_STR(cookie, "1234");
  CHECK_CONTAINS(msg, "pending as the CA's request 1234: Taken Under Submission");
  /* a poll that is still pending keeps the id it polled */
  o = outcome(CS_CA_OP_POLL, 0, CS_ADCS_DISP_UNDER_SUBMISSION, 0, 77);
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_WAIT);
  CHECK_STR(cookie, "77");
  /* pending without an id cannot be polled: tried again as a CA that did not answer */
  o = outcome(CS_CA_OP_SUBMIT, 0, CS_ADCS_DISP_UNDER_SUBMISSION, 0, 0);
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNREACHABLE);
}

CS_TEST(denied_is_rejected_with_the_ca_reason) {
  cs_adcs_outcome_t o = outcome(CS_CA_OP_POLL, 0, CS_ADCS_DISP_DENIED, 0x80094014UL, 1234);
  char cookie[32], msg[600];
  o.message = "Denied by CORP\\caadmin";
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_REJECTED);
  CHECK_CONTAINS(msg, "denied by the CA (0x80094014): Denied by CORP\\caadmin");
  CHECK_STR(cookie, "(none)");
  o.disposition = CS_ADCS_DISP_REVOKED;
  o.message = "Revoked\nsecond line\x1b[31m";
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_REJECTED);
  CHECK_CONTAINS(msg, "revoked");
  CHECK(strchr(msg, '\n') == NULL && strchr(msg, '\x1b') == NULL); /* one printable line for the events */
  o.disposition = CS_ADCS_DISP_ERROR;
  o.status = 0x80094001UL; /* CERTSRV_E_BAD_REQUESTSUBJECT: this request's own fault */
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_REJECTED);
}

CS_TEST(template_problems_are_misconfigured_at_submit) {
  /* denied at submit for what an administrator sets up: submitted again, same key */
  cs_adcs_outcome_t o = outcome(CS_CA_OP_SUBMIT, 0, CS_ADCS_DISP_DENIED, 0x80094800UL, 55);
  char cookie[32], msg[600];
  o.message = "Denied by Policy Module";
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  CHECK_CONTAINS(msg, "0x80094800");
  o.status = 0x80094012UL;
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  /* the same code on a poll is the CA's last word on that request */
  o.op = CS_CA_OP_POLL;
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_REJECTED);
}

CS_TEST(failed_calls_by_their_hresult) {
  cs_adcs_outcome_t o = outcome(CS_CA_OP_SUBMIT, 0x800706BAUL, 0, 0, 0);
  char cookie[32], msg[600];
  o.hr_text = "The RPC server is unavailable.";
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNREACHABLE);
  CHECK_CONTAINS(msg, "cannot be reached (0x800706BA: The RPC server is unavailable.)");
  o = outcome(CS_CA_OP_SUBMIT, 0x80070057UL, 0, 0, 0); /* MS-WCCE: not this CA's name */
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  o = outcome(CS_CA_OP_POLL, 0x80040154UL, 0, 0, 9);
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  CHECK_CONTAINS(msg, "CA enrollment API (CCertRequest) is not available");
  CHECK_STR(cookie, "(none)"); /* the flow keeps the record's cookie */
  /* "no such request" ends a poll; a submit never reads it so */
  o = outcome(CS_CA_OP_POLL, 0x80094002UL, 0, 0, 9);
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_REJECTED);
  o.op = CS_CA_OP_SUBMIT;
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  /* a code this route does not know: said and tried again, the key kept */
  o = outcome(CS_CA_OP_SUBMIT, 0x80004005UL, 0, 0, 0);
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  CHECK_CONTAINS(msg, "0x80004005");
  /* out of band: nothing to fetch here; said, the key kept for the dropped certificate */
  o = outcome(CS_CA_OP_POLL, 0, CS_ADCS_DISP_ISSUED_OUT_OF_BAND, 0, 9);
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_UNCONFIGURED);
  CHECK_CONTAINS(msg, "drop folder");
}

CS_TEST(identify_names_the_ca) {
  cs_adcs_outcome_t o = outcome(CS_CA_OP_IDENTIFY, 0, 0, 0, 0);
  char cookie[32], msg[600];
  o.ca_name = "Corp Issuing CA";
  CHECK_INT(answer(&o, cookie, sizeof cookie, msg, sizeof msg, NULL), ==, CS_CA_ISSUED);
  CHECK_CONTAINS(msg, "\"Corp Issuing CA\"");
}

CS_TEST(reply_ca_line) {
  static const char good[] = CS_REPLY_MAGIC "\nca wait 1234 pending as the CA's request 1234\nend\n";
  static const char none[] = CS_REPLY_MAGIC "\nca misconfigured - the CA enrollment API is not available\nend\n";
  static const char bad[] = CS_REPLY_MAGIC "\nca sleepy 1 x\nend\n";
  cs_reply_t r;
  cs_err_t err;
  CHECK_INT(cs_reply_parse(good, strlen(good), &r, &err), ==, CS_OK);
  CHECK(r.has_ca);
  CHECK_INT(r.ca_status, ==, CS_CA_WAIT);
  CHECK_STR(r.ca_cookie, "1234");
  CHECK_STR(r.ca_message, "pending as the CA's request 1234");
  cs_reply_free(&r);
  CHECK_INT(cs_reply_parse(none, strlen(none), &r, &err), ==, CS_OK);
  CHECK_INT(r.ca_status, ==, CS_CA_UNCONFIGURED);
  CHECK(r.ca_cookie == NULL);
  cs_reply_free(&r);
  CHECK_INT(cs_reply_parse(bad, strlen(bad), &r, &err), ==, CS_EFORMAT);
  cs_reply_free(&r);
}

/* ---- the route run for real (certsteward-worker adcs) ------------------------------ */

#define CA_CONFIG "ca01.corp.example.test\\Corp Issuing CA"

CS_TEST(platform_call_says_what_this_machine_has) {
  cs_ca_answer_t a;
  cs_err_t err;
  int rc;
  memset(&a, 0, sizeof a);
  rc = cs_plat_adcs_call(CS_CA_OP_IDENTIFY, CA_CONFIG, NULL, "", 0, &a, &err);
  if (cs_plat_is_windows()) {
    /* Wine has no certcli.dll: measured, CoCreateInstance answers REGDB_E_CLASSNOTREG. A
     * Windows server has it: there this asks the CA (not in these tests). */
    CHECK_INT(rc, ==, CS_OK);
    CHECK_INT(a.status, ==, CS_CA_UNCONFIGURED);
    CHECK_CONTAINS(a.message, "not available on this machine (0x80040154");
  } else {
    CHECK_INT(rc, ==, CS_EINVAL);
    CHECK_CONTAINS(err.text, "route adcs is Windows' own");
  }
  cs_ca_answer_free(&a);
  /* a bad configuration string is refused before COM is touched */
  if (cs_plat_is_windows()) {
    CHECK_INT(cs_plat_adcs_call(CS_CA_OP_IDENTIFY, "Corp CA", NULL, "", 0, &a, &err), ==, CS_ECONFIG);
    CHECK_CONTAINS(err.text, "host\\CA Name");
  }
}

typedef struct {
  char dir[512], state[600], ini[600];
  cs_config_t cfg;
  cs_worker_t w;
} flow_fx_t;

/* A request in flight by route adcs (record, .csr), a configuration for it and the
 * worker under test; cookie NULL: not submitted yet */
static int flow_setup(flow_fx_t *x, const char *cookie, long long now) {
  const char *exe = getenv("CS_WORKER");
  char text[2048], path[1024];
  cs_request_t r;
  cs_err_t err;
  memset(x, 0, sizeof *x);
  if (exe == NULL) {
    cs_test_fail(__FILE__, __LINE__, "CS_WORKER is not set");
    return -1;
  }
  cs_test_mkdtemp("cs-adcs-", x->dir, sizeof x->dir);
  snprintf(x->state, sizeof x->state, "%s", cs_test_join(x->dir, "state"));
  snprintf(x->ini, sizeof x->ini, "%s", cs_test_join(x->dir, "cs.ini"));
  /* POSIX refuses route = adcs in the file; the record's route is what the flow follows */
  snprintf(text, sizeof text,
           "[connector]\nhost = board.example.test\n[store]\nstate_dir = %s\n[request]\nrenew_days = 30\n%s"
           "ca_config = " CA_CONFIG "\ntemplate = BoardWebServer\n",
           x->state, cs_plat_is_windows() ? "route = adcs\n" : "");
  cs_test_put_str(x->ini, text);
  if (cs_config_load(&x->cfg, x->ini, &err) != CS_OK) {
    cs_test_fail(__FILE__, __LINE__, "config: %s", err.text);
    return -1;
  }
  /* a POSIX path from CTest: the same file on Wine's Z: drive */
  snprintf(x->w.exe, sizeof x->w.exe, "%s%s", cs_plat_is_windows() && exe[0] == '/' ? "Z:" : "", exe);
  x->w.config_path = x->ini;
  memset(&r, 0, sizeof r);
  strcpy(r.state, cookie != NULL ? CS_REQ_PENDING : CS_REQ_MADE);
  strcpy(r.name, "cs-adcs-1");
  strcpy(r.route, "adcs");
  strcpy(r.key_kind, "rsa2048");
  r.made = now - 60;
  r.submitted = cookie != NULL ? now - 60 : 0;
  r.next = now;
  r.deadline = now + 86400;
  r.cookie = cookie != NULL ? strdup(cookie) : NULL;
  r.ca_id = cookie != NULL ? strdup(cookie) : NULL;
  CHECK_INT(cs_request_write(x->state, &r, &err), ==, CS_OK);
  cs_request_free(&r);
  CHECK_INT(cs_request_file(x->state, "cs-adcs-1", CS_REQUEST_CSR, path, sizeof path, &err), ==, CS_OK);
  cs_test_put_str(path, "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n");
  return 0;
}

/* One step of the flow; the record as it is on disk afterwards into *back */
static void flow_step(flow_fx_t *x, long long now, cs_request_t *back) {
  cs_reqflow_t f;
  cs_request_t r;
  cs_rq_state_t st = CS_RQ_NONE;
  char ready[1024];
  cs_err_t err;
  memset(&f, 0, sizeof f);
  f.cfg = &x->cfg;
  f.worker = &x->w;
  f.host = "board.example.test";
  CHECK_INT(cs_request_read(x->state, &r, &err), ==, CS_OK);
  CHECK_INT(cs_reqflow_step(&f, now, &r, &st, ready, sizeof ready, &err), ==, CS_OK);
  CHECK_INT(st, ==, CS_RQ_WAIT); /* neither ended nor issued */
  cs_request_free(&r);
  CHECK_INT(cs_request_read(x->state, back, &err), ==, CS_OK); /* the record is kept */
}

/* What the route says where AD CS's client is missing (Wine) or foreign (POSIX) */
static void says_api_missing(const char *said) {
  if (cs_plat_is_windows()) {
    CHECK_CONTAINS(said, "route adcs: the CA's answer is misconfigured");
    CHECK_CONTAINS(said, "the CA enrollment API (CCertRequest) is not available on this machine");
  } else {
    CHECK_CONTAINS(said, "route adcs is Windows' own");
  }
}

CS_TEST(submit_without_the_api_keeps_the_request) {
  long long now = 1800000000LL;
  flow_fx_t x;
  cs_request_t back;
  if (flow_setup(&x, NULL, now) != 0)
    return;
  flow_step(&x, now, &back);
  says_api_missing(back.said);
  CHECK_STR(back.state, CS_REQ_MADE); /* not submitted: submitted again later */
  CHECK(back.cookie == NULL);
  CHECK_INT(back.submitted, ==, 0);
  CHECK_INT(back.tries, ==, 1);
  CHECK(back.next > now); /* backed off, not in a loop */
  cs_request_free(&back);
  cs_config_free(&x.cfg);
}

CS_TEST(poll_without_the_api_keeps_the_ca_request_id) {
  long long now = 1800000000LL;
  flow_fx_t x;
  cs_request_t back;
  if (flow_setup(&x, "4321", now) != 0)
    return;
  flow_step(&x, now, &back);
  says_api_missing(back.said);
  CHECK_STR(back.state, CS_REQ_PENDING);
  CHECK_STR(back.cookie, "4321"); /* polled again, never submitted again */
  CHECK_STR(back.ca_id, "4321");
  CHECK(back.next > now);
  cs_request_free(&back);
  cs_config_free(&x.cfg);
}

CS_TEST(worker_identify_answers_for_doctor) {
  long long now = 1800000000LL;
  flow_fx_t x;
  cs_ca_answer_t a;
  cs_err_t err;
  int rc;
  if (flow_setup(&x, NULL, now) != 0)
    return;
  rc = cs_worker_adcs(&x.w, CS_CA_OP_IDENTIFY, NULL, NULL, x.state, CS_WORKER_TIMEOUT_MS, &a, &err);
  if (cs_plat_is_windows()) {
    CHECK_INT(rc, ==, CS_OK);
    CHECK_INT(a.status, ==, CS_CA_UNCONFIGURED);
    CHECK_CONTAINS(a.message, "not available on this machine");
    cs_ca_answer_free(&a);
  } else {
    CHECK_INT(rc, ==, CS_EFAILED);
    CHECK_CONTAINS(err.text, "route adcs is Windows' own");
  }
  /* a poll's cookie that is not a request id is refused by the worker before any call */
  rc = cs_worker_adcs(&x.w, CS_CA_OP_POLL, "cs-adcs-1", "12; del", x.state, CS_WORKER_TIMEOUT_MS, &a, &err);
  CHECK_INT(rc, ==, CS_EFAILED);
  CHECK_CONTAINS(err.text, "not a CA request id");
  cs_config_free(&x.cfg);
}

/* certsteward doctor judges route = adcs without submitting: under Wine the check fails
 * and says the CA enrollment API is not available; a malformed ca_config is named. POSIX
 * refuses route = adcs in the file itself. */
CS_TEST(doctor_says_what_the_route_lacks) {
  long long now = 1800000000LL;
  const char *bin = getenv("CS_BIN");
  const char *argv[5];
  char exe[1024];
  const char *line = NULL, *out = NULL;
  flow_fx_t x;
  cs_run_result_t res;
  cs_config_t cfg;
  cs_err_t err;
  if (!cs_plat_is_windows()) {
    char dir[512];
    cs_test_mkdtemp("cs-adcs-", dir, sizeof dir);
    cs_test_put_str(cs_test_join(dir, "cs.ini"), "[request]\nroute = adcs\nca_config = " CA_CONFIG "\n");
    CHECK_INT(cs_config_load(&cfg, cs_test_join(dir, "cs.ini"), &err), ==, CS_ECONFIG);
    CHECK_CONTAINS(err.text, "adcs is Windows' own");
    return;
  }
  if (bin == NULL || flow_setup(&x, NULL, now) != 0) {
    CHECK(bin != NULL);
    return;
  }
  snprintf(exe, sizeof exe, "%s%s", bin[0] == '/' ? "Z:" : "", bin);
  argv[0] = exe;
  argv[1] = "doctor";
  argv[2] = "--config";
  argv[3] = x.ini;
  argv[4] = NULL;
  CHECK_INT(cs_plat_run(argv, NULL, 0, 120000, 1 << 20, &res, &err), ==, CS_OK);
  CHECK(!res.timed_out);
  out = res.out != NULL ? res.out : "";
  line = strstr(out, "request ");
  CHECK(line != NULL);
  if (line != NULL) {
    CHECK(line - out >= 6 && strncmp(line - 6, "fail", 4) == 0);
    CHECK_CONTAINS(line, "the CA ca01.corp.example.test\\Corp Issuing CA answered misconfigured: the CA enrollment "
                         "API (CCertRequest) is not available on this machine");
  }
  cs_run_result_free(&res);
  cs_config_free(&x.cfg);
}
