/* [request] route = command: certmonger's helper contract read from exit codes and
 * output (pure), a real helper run through the system shell with the request in its
 * environment and a work folder of its own, and the judgement of submit_command before
 * it runs (ca_judge.c) on real files and folders. Under Wine the folders' and files'
 * DACLs are made up from their Unix modes (Everyone gets what "others" get): a folder
 * or file opened to everyone is made here with an explicit DACL granting Everyone full
 * control, which real Windows stores and Wine turns into mode 777 / 666. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

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

/* ---- real helpers ------------------------------------------------------------ */

static char dir[1024], state[1024];

/* A test folder with a state folder in it */
static void fx_open(void) {
  cs_err_t err;
  cs_test_mkdtemp("cs-ca", dir, sizeof dir);
  CHECK_INT(cs_plat_path_join(state, sizeof state, dir, "state"), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(state, 0700, &err), ==, CS_OK);
}

static void fx_close(void) {
  cs_err_t err;
  CHECK_INT(cs_plat_remove_tree(dir, &err), ==, CS_OK);
}

/* in_dir/name with this platform's separator (cmd.exe reads a '/' in a program's
 * name as a switch) */
static const char *at(const char *in_dir, const char *name) {
  static char bufs[4][1200];
  static int next;
  char *b = bufs[next++ % 4];
  CHECK_INT(cs_plat_path_join(b, sizeof bufs[0], in_dir, name), ==, CS_OK);
  return b;
}

/* The helper script in in_dir: POSIX sh (made executable) or a .cmd; its path (kept
 * until the next call) */
static const char *helper(const char *in_dir, const char *sh, const char *cmd) {
  static char path[1200];
  char text[2048];
  snprintf(path, sizeof path, "%s", at(in_dir, cs_plat_is_windows() ? "helper.cmd" : "helper"));
  snprintf(text, sizeof text, cs_plat_is_windows() ? "@echo off\r\n%s\r\n" : "#!/bin/sh\n%s\n",
           cs_plat_is_windows() ? cmd : sh);
  cs_test_put_str(path, text);
#ifndef _WIN32
  CHECK_INT(chmod(path, 0755), ==, 0);
#endif
  return path;
}

/* program with the rest of a command line after it, quoted (a temp folder may have blanks) */
static const char *line(const char *program, const char *rest) {
  static char buf[4096];
  snprintf(buf, sizeof buf, "\"%s\"%s%s", program, rest[0] ? " " : "", rest);
  return buf;
}

/* A real helper: it sees the operation, the request, the template, the host and, on a
 * poll only, the cookie, and a work folder of its own (new, under the state folder's
 * request folder, POSIX mode 700), which is gone after the run; what it prints and its
 * exit code come back read */
CS_TEST(helper_gets_the_contract_environment) {
  cs_ca_answer_t a;
  cs_err_t err;
  const char *h, *w;
  fx_open();
  h = helper(
      dir,
      "printf '[%s][%s][%s][%s][%s][%s]%s' \"$CERTMONGER_OPERATION\" \"$CERTMONGER_CA_PROFILE\" "
      "\"$CERTMONGER_REQ_HOSTNAME\" \"${CERTMONGER_CA_COOKIE-none}\" \"$(printf %s \"$CERTMONGER_CSR\" | head -n "
      "1)\" \"$(stat -c %a \"$CERTSTEWARD_WORK_DIR\")\" \"$CERTSTEWARD_WORK_DIR\"\n"
      "[ \"$CERTMONGER_OPERATION\" = POLL ] && { echo \"$CERTMONGER_OPERATION $CERTMONGER_CA_COOKIE\"; exit 2; }\n"
      "exit 1",
      "if \"%CERTMONGER_OPERATION%\"==\"POLL\" (echo %CERTMONGER_OPERATION% %CERTMONGER_CA_COOKIE%& exit /b 2)\r\n"
      "if exist \"%CERTSTEWARD_WORK_DIR%\\\" (set d=700) else (set d=none)\r\n"
      "echo [%CERTMONGER_OPERATION%][%CERTMONGER_CA_PROFILE%][%CERTMONGER_REQ_HOSTNAME%][%CERTMONGER_CA_COOKIE%]"
      "[-----BEGIN CERTIFICATE REQUEST-----][%d%]%CERTSTEWARD_WORK_DIR%\r\n"
      "exit /b 1");
  CHECK_INT(cs_ca_command_run(line(h, ""), state, CS_CA_OP_SUBMIT, "-----BEGIN CERTIFICATE REQUEST-----\nMII\n",
                              "WebServer", "board.example.com", "ignored", &a, &err),
            ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_WAIT);
  /* (in a batch file an undefined %VAR% is nothing) */
  CHECK_CONTAINS(a.cookie, cs_plat_is_windows() ? "[SUBMIT][WebServer][board.example.com][]"
                                                : "[SUBMIT][WebServer][board.example.com][none]");
  CHECK_CONTAINS(a.cookie, "[-----BEGIN CERTIFICATE REQUEST-----][700]");
  CHECK_CONTAINS(a.cookie, at(at(state, "request"), "work-"));
  w = a.cookie != NULL ? strstr(a.cookie, at(state, "request")) : NULL;
  CHECK(w != NULL && !cs_plat_exists(w)); /* removed after the run */
  CHECK_INT(cs_test_count_entries(at(state, "request")), ==, 0);
  cs_ca_answer_free(&a);
  CHECK_INT(cs_ca_command_run(line(h, ""), state, CS_CA_OP_POLL, "csr", NULL, "h", "id=7", &a, &err), ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_REJECTED);
  CHECK_CONTAINS(a.message, "POLL id=7");
  cs_ca_answer_free(&a);
  /* no command: a configuration error, nothing run */
  CHECK_INT(cs_ca_command_run(NULL, state, CS_CA_OP_SUBMIT, "csr", NULL, "h", NULL, &a, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, "needs submit_command");
  /* no state folder: no work folder, nothing run */
  CHECK_INT(cs_ca_command_run(line(h, ""), at(dir, "missing"), CS_CA_OP_SUBMIT, "csr", NULL, "h", NULL, &a, &err), !=,
            CS_OK);
  CHECK_CONTAINS(err.text, "does not exist");
  fx_close();
}

/* Refused before it runs: rc CS_ECONFIG, err says want; the helper (which leaves a
 * mark) did not run */
static void refused(const char *command, const char *want) {
  cs_ca_answer_t a;
  cs_err_t err;
  char prog[1024];
  CHECK_INT(cs_ca_command_run(command, state, CS_CA_OP_SUBMIT, "csr", NULL, "h", NULL, &a, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, want);
  CHECK(!cs_plat_exists(at(dir, "ran")));
  CHECK_INT(cs_ca_command_judge(command, prog, sizeof prog, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, want);
}

static const char *marking_helper(const char *in_dir) {
  char sh[1200], cmd[1200];
  snprintf(sh, sizeof sh, "echo x > '%s'; exit 6", at(dir, "ran"));
  snprintf(cmd, sizeof cmd, "echo x> \"%s\"\r\nexit /b 6", at(dir, "ran"));
  return helper(in_dir, sh, cmd);
}

/* A helper whose folder others can write is refused, naming the folder and who; the
 * same helper in a folder only administrators can change runs */
CS_TEST(helper_in_a_folder_others_can_write_is_refused) {
  cs_ca_answer_t a;
  cs_err_t err;
  char open_dir[1200];
  const char *h;
  fx_open();
  snprintf(open_dir, sizeof open_dir, "%s", at(dir, "open"));
  CHECK_INT(cs_test_mkdir(open_dir), ==, 0);
  h = marking_helper(open_dir);
  CHECK_INT(cs_ca_command_run(line(h, ""), state, CS_CA_OP_IDENTIFY, NULL, NULL, "h", NULL, &a, &err), ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_UNSUPPORTED); /* it runs while the folder is closed */
  CHECK_INT(cs_plat_remove(at(dir, "ran"), &err), ==, CS_OK);
  cs_ca_answer_free(&a);
  cs_test_open_to_all(open_dir, 1);
  refused(line(h, ""), "can be changed by");
  refused(line(h, ""), open_dir);
  refused(line(h, ""), cs_plat_is_windows() ? "S-1-1-0" : "all users (mode 777)");
  fx_close();
}

/* A script (or any file) the program is handed that others can change is refused,
 * naming it and who can: powershell.exe -File "x.ps1", sh x.sh */
CS_TEST(script_others_can_change_is_refused) {
  const char *h, *script;
  char rest[1400];
  fx_open();
  h = marking_helper(dir);
  script = at(dir, "script.ps1");
  cs_test_put_str(script, "exit 6\n");
  snprintf(rest, sizeof rest, "-NoProfile -File \"%s\"", script);
  cs_test_open_to_all(script, 0);
  refused(line(h, rest), script);
  refused(line(h, rest), cs_plat_is_windows() ? "S-1-1-0" : "all users (mode 666)");
  /* unquoted too, and after --name= */
  snprintf(rest, sizeof rest, "--file=%s", script);
  refused(line(h, rest), script);
  fx_close();
}

/* --password-file naming a file in a folder others can write is refused, the folder
 * and who named; the same file in a safe folder is accepted and the helper runs */
CS_TEST(password_file_in_a_folder_others_can_write_is_refused) {
  cs_ca_answer_t a;
  cs_err_t err;
  char open_dir[1200], pass[1200], rest[1400];
  const char *h;
  fx_open();
  h = marking_helper(dir);
  snprintf(open_dir, sizeof open_dir, "%s", at(dir, "open"));
  CHECK_INT(cs_test_mkdir(open_dir), ==, 0);
  snprintf(pass, sizeof pass, "%s", at(open_dir, "step.pass"));
  cs_test_put_str(pass, "secret\n");
  snprintf(rest, sizeof rest, "--ca-url https://ca.example.test:9000 --password-file %s", pass);
  CHECK_INT(cs_ca_command_run(line(h, rest), state, CS_CA_OP_IDENTIFY, NULL, NULL, "h", NULL, &a, &err), ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_UNSUPPORTED);
  CHECK_INT(cs_plat_remove(at(dir, "ran"), &err), ==, CS_OK);
  cs_ca_answer_free(&a);
  cs_test_open_to_all(open_dir, 1);
  refused(line(h, rest), "can be changed by");
  refused(line(h, rest), open_dir);
  refused(line(h, rest), pass);
  fx_close();
}

/* What cannot be judged is refused before anything runs: a program found through PATH
 * or missing, a second command or a substitution, an unclosed quote */
CS_TEST(what_cannot_be_judged_is_refused) {
  char rest[1400];
  const char *h;
  fx_open();
  h = marking_helper(dir);
  refused("helper --x", "not named by its full path");
  refused(line(at(dir, "missing"), ""), "does not exist");
  snprintf(rest, sizeof rest, "%s", cs_plat_is_windows() ? "x & calc.exe" : "x; id");
  refused(line(h, rest), cs_plat_is_windows() ? "'&' outside quotes" : "';' outside quotes");
  refused(line(h, cs_plat_is_windows() ? "x | more" : "$(id)"), "outside quotes");
  refused(line(h, "\"unclosed"), "not closed");
  if (!cs_plat_is_windows())
    refused(line(h, "\"$HOME\""), "inside double quotes");
  /* quoted, the shell's characters are the argument's own */
  CHECK_INT(cs_ca_command_judge(line(h, "\"a & b; c | d\""), NULL, 0, NULL), ==, CS_OK);
  fx_close();
}

/* CERTMONGER_ named on the command line is refused, in any case: the shell would put
 * the CA's cookie into the line it runs */
CS_TEST(certmonger_variables_on_the_line_are_refused) {
  const char *h;
  fx_open();
  h = marking_helper(dir);
  refused(line(h, "%CERTMONGER_CA_COOKIE%"), "CERTMONGER_CA_COOKIE");
  refused(line(h, "'$CERTMONGER_CSR'"), "reads CERTMONGER_ variables from its environment");
  refused(line(h, "%certmonger_ca_cookie%"), "certmonger_ca_cookie");
  fx_close();
}

/* What the helper leaves in its work folder goes with it; a link in it is removed, not
 * followed (the file it points to stays) */
CS_TEST(work_folder_is_removed_without_following_links) {
  cs_ca_answer_t a;
  cs_err_t err;
  char sh[1400], cmd[1400], outside[1200];
  const char *h;
  fx_open();
  snprintf(outside, sizeof outside, "%s", at(dir, "outside"));
  CHECK_INT(cs_test_mkdir(outside), ==, 0);
  cs_test_put_str(at(outside, "keep"), "keep");
  snprintf(sh, sizeof sh,
           "cd \"$CERTSTEWARD_WORK_DIR\" || exit 9; echo x > request.csr; mkdir sub; echo y > sub/f; ln -s '%s' link; "
           "ln -s '%s' file-link; exit 6",
           outside, at(outside, "keep"));
  snprintf(cmd, sizeof cmd,
           "echo x> \"%%CERTSTEWARD_WORK_DIR%%\\request.csr\"\r\nmkdir \"%%CERTSTEWARD_WORK_DIR%%\\sub\"\r\n"
           "echo y> \"%%CERTSTEWARD_WORK_DIR%%\\sub\\f\"\r\n"
           "if not exist \"%%CERTSTEWARD_WORK_DIR%%\\sub\\f\" exit /b 9\r\nexit /b 6");
  h = helper(dir, sh, cmd);
  CHECK_INT(cs_ca_command_run(line(h, ""), state, CS_CA_OP_IDENTIFY, NULL, NULL, "h", NULL, &a, &err), ==, CS_OK);
  CHECK_INT(a.status, ==, CS_CA_UNSUPPORTED);
  if (a.status != CS_CA_UNSUPPORTED)
    fprintf(stderr, "the helper answered: %s\n", a.message);
  cs_ca_answer_free(&a);
  CHECK_INT(cs_test_count_entries(at(state, "request")), ==, 0);
  CHECK(cs_plat_exists(at(outside, "keep")));
  fx_close();
}

/* The shell's own expansion before it splits words: cmd.exe's %VAR% on Windows (a
 * program named through %SystemRoot% is judged where it is, and runs), nothing on POSIX */
CS_TEST(shell_expansion_as_the_shell_does) {
  cs_ca_answer_t a;
  cs_err_t err;
  char *out = NULL, want[2048], prog[1024];
  fx_open();
  cs_test_setenv("CS_TEST_CA_DIR", dir);
  if (cs_plat_is_windows()) {
    CHECK_INT(cs_plat_shell_expand("%CS_TEST_CA_DIR%\\x y", &out, &err), ==, CS_OK);
    snprintf(want, sizeof want, "%s\\x y", dir);
    CHECK_STR(out, want);
    free(out);
    out = NULL;
    /* an undefined name is left by ExpandEnvironmentStrings, and cmd.exe reads what is
     * left its own way: refused, not guessed at */
    CHECK_INT(cs_plat_shell_expand("%CS_TEST_CA_DIR%\\x %CS_TEST_UNSET_VAR% y", &out, &err), ==, CS_EINVAL);
    CHECK_CONTAINS(err.text, "reads its own way");
    CHECK(out == NULL);
  } else {
    CHECK_INT(cs_plat_shell_expand("%CS_TEST_CA_DIR%\\x %CS_TEST_UNSET_VAR% y", &out, &err), ==, CS_OK);
    snprintf(want, sizeof want, "%%CS_TEST_CA_DIR%%\\x %%CS_TEST_UNSET_VAR%% y");
    CHECK_STR(out, want);
    free(out);
  }
  if (cs_plat_is_windows()) {
    const char *root = getenv("SystemRoot");
    CHECK(root != NULL);
    snprintf(want, sizeof want, "%s\\System32\\cmd.exe", root != NULL ? root : "?");
    CHECK_INT(cs_ca_command_judge("\"%SystemRoot%\\System32\\cmd.exe\" /c exit 6", prog, sizeof prog, &err), ==, CS_OK);
    CHECK_STR(prog, want);
    CHECK_INT(cs_ca_command_run("%SystemRoot%\\System32\\cmd.exe /c exit 6", state, CS_CA_OP_IDENTIFY, NULL, NULL, "h",
                                NULL, &a, &err),
              ==, CS_OK);
    CHECK_INT(a.status, ==, CS_CA_UNSUPPORTED);
    cs_ca_answer_free(&a);
    /* a script named through a variable is judged where it leads */
    cs_test_put_str(at(dir, "s.ps1"), "exit 6\n");
    cs_test_open_to_all(at(dir, "s.ps1"), 0);
    refused("%SystemRoot%\\System32\\cmd.exe /c exit 6 %CS_TEST_CA_DIR%\\s.ps1", "s.ps1");
  }
  cs_test_setenv("CS_TEST_CA_DIR", NULL);
  fx_close();
}
