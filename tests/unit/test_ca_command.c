/* [request] route = command: certmonger's helper contract read from exit codes and
 * output (pure), and a real helper run through the system shell with the request in
 * its environment. */
#include <stdlib.h>
#include <string.h>

#include "ca_command.h"
#include "cs_test.h"
#include "platform.h"

#define PEM "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

static void read_answer(int code, const char *out, cs_ca_answer_t *ans) {
  cs_err_t err;
  CHECK_INT(cs_ca_answer_read(code, out, strlen(out), ans, &err), ==, CS_OK);
}

CS_TEST(issued_keeps_the_bytes) {
  cs_ca_answer_t a;
  read_answer(0, PEM, &a);
  CHECK_INT(a.status, ==, CS_CA_ISSUED);
  CHECK_INT((long long)a.out_len, ==, (long long)strlen(PEM));
  CHECK(a.out != NULL && memcmp(a.out, PEM, strlen(PEM)) == 0);
  cs_ca_answer_free(&a);
  /* issued with nothing: the contract broken, said */
  read_answer(0, " \n", &a);
  CHECK_INT(a.status, ==, -1);
  CHECK_CONTAINS(a.message, "gave no certificate");
  cs_ca_answer_free(&a);
}

CS_TEST(wait_keeps_the_cookie) {
  cs_ca_answer_t a;
  read_answer(1, "state=check&requestId=17\n", &a);
  CHECK_INT(a.status, ==, CS_CA_WAIT);
  CHECK_STR(a.cookie, "state=check&requestId=17");
  CHECK_INT(a.delay, ==, -1);
  cs_ca_answer_free(&a);
  read_answer(1, "", &a); /* a helper that needs no cookie */
  CHECK_INT(a.status, ==, CS_CA_WAIT);
  CHECK_STR(a.cookie, "");
  cs_ca_answer_free(&a);
}

CS_TEST(wait_delay_reads_seconds_then_cookie) {
  cs_ca_answer_t a;
  read_answer(5, "90\r\nid=4\nmore\n", &a);
  CHECK_INT(a.status, ==, CS_CA_WAIT_DELAY);
  CHECK_INT(a.delay, ==, 90);
  CHECK_STR(a.cookie, "id=4\nmore");
  cs_ca_answer_free(&a);
  read_answer(5, "30", &a); /* a delay alone */
  CHECK_INT(a.delay, ==, 30);
  CHECK_STR(a.cookie, "");
  cs_ca_answer_free(&a);
  read_answer(5, "soon\nid", &a);
  CHECK_INT(a.status, ==, -1);
  CHECK_CONTAINS(a.message, "without a number of seconds");
  cs_ca_answer_free(&a);
  read_answer(5, "99999999999999999999\nid", &a);
  CHECK_INT(a.status, ==, -1);
  cs_ca_answer_free(&a);
}

CS_TEST(refusals_keep_the_message_on_one_line) {
  cs_ca_answer_t a;
  read_answer(2, "Denied by Policy Module\r\n0x80094012\n", &a);
  CHECK_INT(a.status, ==, CS_CA_REJECTED);
  CHECK(strchr(a.message, '\n') == NULL && strchr(a.message, '\r') == NULL);
  CHECK_CONTAINS(a.message, "Denied by Policy Module");
  CHECK_CONTAINS(a.message, "0x80094012");
  cs_ca_answer_free(&a);
  read_answer(3, "", &a);
  CHECK_INT(a.status, ==, CS_CA_UNREACHABLE);
  CHECK_STR(a.message, "(the helper said nothing)");
  cs_ca_answer_free(&a);
  read_answer(4, "no template", &a);
  CHECK_INT(a.status, ==, CS_CA_UNCONFIGURED);
  CHECK_STR(cs_ca_status_name(a.status), "misconfigured");
  cs_ca_answer_free(&a);
  read_answer(9, "what", &a);
  CHECK_INT(a.status, ==, -1);
  CHECK_CONTAINS(a.message, "exited with 9");
  cs_ca_answer_free(&a);
  read_answer(-1, "", &a);
  CHECK_CONTAINS(a.message, "did not exit normally");
  cs_ca_answer_free(&a);
}

CS_TEST(cookie_too_long_is_refused) {
  cs_ca_answer_t a;
  char *big = malloc(CS_CA_COOKIE_MAX + 10);
  CHECK(big != NULL);
  if (big == NULL)
    return;
  memset(big, 'c', CS_CA_COOKIE_MAX + 9);
  big[CS_CA_COOKIE_MAX + 9] = '\0';
  read_answer(1, big, &a);
  CHECK_INT(a.status, ==, -1);
  CHECK_CONTAINS(a.message, "over 4096 bytes");
  cs_ca_answer_free(&a);
  free(big);
}

/* A real helper: it sees the operation, the request, the template, the host and, on a
 * poll only, the cookie; what it prints and its exit code come back read */
CS_TEST(helper_gets_the_contract_environment) {
  cs_ca_answer_t a;
  cs_err_t err;
  const char *submit =
      cs_plat_is_windows()
          ? "echo [%CERTMONGER_OPERATION%][%CERTMONGER_CA_PROFILE%][%CERTMONGER_REQ_HOSTNAME%][%CERTMONGER_CA_COOKIE%]"
            "& exit /b 1"
          : "printf '[%s][%s][%s][%s][%s]' \"$CERTMONGER_OPERATION\" \"$CERTMONGER_CA_PROFILE\" "
            "\"$CERTMONGER_REQ_HOSTNAME\" \"${CERTMONGER_CA_COOKIE-none}\" \"$(printf %s \"$CERTMONGER_CSR\" | head -n "
            "1)\"; exit 1";
  CHECK_INT(cs_ca_command_run(submit, CS_CA_OP_SUBMIT, "-----BEGIN CERTIFICATE REQUEST-----\nMII\n", "WebServer",
                              "board.example.com", "ignored", &a, &err),
            ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_WAIT);
  CHECK_CONTAINS(a.cookie, cs_plat_is_windows() ? "[SUBMIT][WebServer][board.example.com][%CERTMONGER_CA_COOKIE%]"
                                                : "[SUBMIT][WebServer][board.example.com][none][-----BEGIN "
                                                  "CERTIFICATE REQUEST-----]");
  cs_ca_answer_free(&a);
  CHECK_INT(cs_ca_command_run(cs_plat_is_windows() ? "echo %CERTMONGER_OPERATION% %CERTMONGER_CA_COOKIE%& exit /b 2"
                                                   : "echo \"$CERTMONGER_OPERATION $CERTMONGER_CA_COOKIE\"; exit 2",
                              CS_CA_OP_POLL, "csr", NULL, "h", "id=7", &a, &err),
            ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_REJECTED);
  CHECK_CONTAINS(a.message, "POLL id=7");
  cs_ca_answer_free(&a);
  /* no command: a configuration error, nothing run */
  CHECK_INT(cs_ca_command_run(NULL, CS_CA_OP_SUBMIT, "csr", NULL, "h", NULL, &a, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, "needs submit_command");
}
