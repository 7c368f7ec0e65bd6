/* [connector] restart_command and status_command judged before they run as root /
 * LocalSystem (cmd_judge.c): shell lines may name their program through PATH, use
 * builtins and operators, but every file they name by its full path (quoted or not,
 * inside what sh -c / cmd /c is handed, after --name=) must be changeable by
 * administrators only; a refused command is not run by the service restart
 * (service_cmd.c). Real files and folders; under Wine a folder opened to everyone
 * carries an explicit DACL (cs_test_open_to_all), which Wine keeps as its Unix mode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <sys/stat.h>
#endif

#include "cmd_judge.h"
#include "cs_test.h"
#include "platform.h"

static char dir[1024], open_dir[1200];

/* A test folder only this account can change, and in it "open", which everyone can */
static void fx_open(void) {
  cs_test_mkdtemp("cs-cmd", dir, sizeof dir);
  CHECK_INT(cs_plat_path_join(open_dir, sizeof open_dir, dir, "open"), ==, CS_OK);
  CHECK_INT(cs_test_mkdir(open_dir), ==, 0);
  cs_test_open_to_all(open_dir, 1);
}

static void fx_close(void) {
  cs_err_t err;
  CHECK_INT(cs_plat_remove_tree(dir, &err), ==, CS_OK);
}

static const char *at(const char *in_dir, const char *name) {
  static char bufs[4][1300];
  static int next;
  char *b = bufs[next++ % 4];
  CHECK_INT(cs_plat_path_join(b, sizeof bufs[0], in_dir, name), ==, CS_OK);
  return b;
}

/* A restart script in in_dir that leaves the mark "ran" in the test folder; its path */
static const char *marking_script(const char *in_dir) {
  static char path[1300];
  char text[1600];
  snprintf(path, sizeof path, "%s", at(in_dir, cs_plat_is_windows() ? "restart.cmd" : "restart.sh"));
  if (cs_plat_is_windows())
    snprintf(text, sizeof text, "@echo off\r\necho x> \"%s\"\r\nexit /b 0\r\n", at(dir, "ran"));
  else
    snprintf(text, sizeof text, "#!/bin/sh\necho x > '%s'\n", at(dir, "ran"));
  cs_test_put_str(path, text);
#ifndef _WIN32
  CHECK_INT(chmod(path, 0755), ==, 0);
#endif
  return path;
}

/* A command line made from a format (a literal) and one path */
static char line_buf[4096];
#define fmt(f, a) (snprintf(line_buf, sizeof line_buf, f, a), line_buf)

static void accepted(const char *command) {
  cs_err_t err;
  err.text[0] = '\0';
  CHECK_INT(cs_cmd_judge_shell("restart_command", command, &err), ==, CS_OK);
  if (err.text[0] != '\0' && cs_test_failed())
    fprintf(stderr, "  %s: %s\n", command, err.text);
}

static void refused(const char *command, const char *want) {
  cs_err_t err;
  err.text[0] = '\0';
  CHECK_INT(cs_cmd_judge_shell("restart_command", command, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, want);
}

/* A program found through root's PATH, builtins, operators, switches: nothing to judge,
 * or only files administrators alone can change */
CS_TEST(bare_names_builtins_and_operators_are_accepted) {
  fx_open();
  accepted(NULL);
  accepted("");
  accepted("exit 3");
  accepted("systemctl restart nginx");
  accepted("restart-my-service --now"); /* resolved by the shell, in root's PATH */
  if (cs_plat_is_windows()) {
    accepted("sc stop X && sc start X");
    accepted("cmd /c exit 3");
    accepted("\"%SystemRoot%\\System32\\cmd.exe\" /c exit 0 >NUL 2>&1");
    accepted("net stop \"BOARD Connector Service\" & net start \"BOARD Connector Service\"");
  } else {
    accepted("systemctl reload nginx || exit 3; true");
    accepted("kill -HUP $(cat /run/certsteward-test-none.pid) 2>/dev/null || systemctl restart nginx");
    accepted("test -e /etc && echo up >/dev/null");
    accepted("\"$HOME/bin/x\" && `true`"); /* root's own environment */
  }
  /* a script in a folder only this account (an administrator's, as the service) can change */
  accepted(fmt("\"%s\" now", marking_script(dir)));
  accepted(fmt("systemctl --config=%s restart", marking_script(dir)));
  fx_close();
}

/* The script the admin named lies in a folder others can change: refused, naming the
 * script, the folder and who can change it, quoted or not, whatever surrounds it */
CS_TEST(path_in_a_folder_others_can_change_is_refused) {
  const char *script, *who = cs_plat_is_windows() ? "S-1-1-0" : "all users (mode 777)";
  char quoted[1400];
  fx_open();
  script = marking_script(open_dir);
  snprintf(quoted, sizeof quoted, "\"%s\"", script);
  refused(quoted, script);
  refused(quoted, "can be changed by");
  refused(quoted, who);
  refused(quoted, open_dir);
  refused(fmt("systemctl stop x && %s && systemctl start x", quoted), script);
  refused(fmt("exit 0; %s", quoted), script);
  refused(fmt("%s|| exit 3", quoted), script);
  if (strchr(script, ' ') == NULL) {
    refused(fmt("%s", script), script);
    refused(fmt("x>NUL & (%s)", script), script);
  }
  /* --name=PATH, NAME=PATH */
  refused(fmt("my-restart --script=%s", script), script);
  refused(fmt("SCRIPT=%s my-restart", script), script);
  /* a file it reads, and the folder itself named */
  refused(fmt("my-restart --config \"%s\"", open_dir), open_dir);
  /* not there yet: whoever can create it there decides what it runs */
  refused(fmt("\"%s\"", at(open_dir, "later.sh")), "not there yet");
  fx_close();
}

/* What sh -c or cmd /c is handed is a line too: a path inside it is judged */
CS_TEST(paths_inside_quoted_lines_are_judged) {
  const char *script;
  fx_open();
  script = marking_script(open_dir);
  if (strchr(script, ' ') != NULL) {
    fprintf(stderr, "the test folder has a blank: the nested line is not tried\n");
  } else if (cs_plat_is_windows()) {
    refused(fmt("cmd /c \"%s now & exit 0\"", script), script);
  } else {
    refused(fmt("sh -c '%s now; exit 0'", script), script);
    refused(fmt("su root -c \"sh -c '%s'\"", script), script);
  }
  fx_close();
}

/* A file the line writes to (a redirection) is judged by its folders only: one in the
 * test folder is fine, one in the open folder is refused */
CS_TEST(redirected_output_is_judged_by_its_folders) {
  fx_open();
  cs_test_put_str(at(dir, "out.log"), "");
  cs_test_open_to_all(at(dir, "out.log"), 0);
  accepted(fmt("echo restarted >> \"%s\"", at(dir, "out.log")));
  refused(fmt("echo restarted > \"%s\"", at(open_dir, "out.log")), "writes to");
  refused(fmt("echo restarted 2>\"%s\"", at(open_dir, "out.log")), open_dir);
  fx_close();
}

/* A script others can change itself (in a safe folder) is refused with what is wrong
 * with it; what cannot be judged (a full path the shell rewrites, an unclosed quote) too */
CS_TEST(what_cannot_be_trusted_or_judged_is_refused) {
  const char *script;
  fx_open();
  script = marking_script(dir);
  cs_test_open_to_all(script, 0);
  refused(fmt("\"%s\"", script), script);
  refused(fmt("\"%s\"", script), cs_plat_is_windows() ? "S-1-1-0" : "all users (mode 666)");
  refused("systemctl restart \"nginx", "not closed");
  if (cs_plat_is_windows()) {
    /* a network path: another machine's administrators decide what it holds */
    refused("\\\\fileserver\\share\\restart.cmd", "on another machine");
    refused("cmd /c \\\\?\\UNC\\fileserver\\share\\restart.cmd", "on another machine");
    /* a % cmd.exe reads its own way (a substring, a dynamic or an undefined variable) */
    refused("%SystemDrive:~0,2%\\Users\\Public\\x.cmd", "reads its own way");
    refused("%CD%\\x.cmd", "reads its own way");
    refused("%CS_NO_SUCH_VARIABLE_AT_ALL%\\x.cmd", "reads its own way");
  } else {
    refused(fmt("%s/*.sh", dir), "other paths as it runs");
    refused(fmt("\"%s/$X\"", dir), "other paths as it runs");
    refused(fmt("%s/\\$X", dir), "other paths as it runs");
  }
  fx_close();
}

/* The service restart judges before it runs: a refused restart command or status
 * command runs nothing (the script's mark is not made); a safe one runs */
CS_TEST(service_restart_runs_no_refused_command) {
  cs_err_t err;
  char good[1400], bad[1400];
  fx_open();
  snprintf(bad, sizeof bad, "\"%s\"", marking_script(open_dir));
  snprintf(good, sizeof good, "\"%s\"", marking_script(dir));
  CHECK_INT(cs_plat_service_restart(NULL, bad, NULL, 20000, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, "restart_command's path");
  CHECK_CONTAINS(err.text, open_dir);
  CHECK(!cs_plat_exists(at(dir, "ran")));
  /* a refused status command stops the restart before it runs */
  CHECK_INT(cs_plat_service_restart(NULL, good, bad, 20000, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, "status_command's path");
  CHECK(!cs_plat_exists(at(dir, "ran")));
  /* the same script where only administrators can change it runs */
  CHECK_INT(cs_plat_service_restart(NULL, good, "exit 0", 20000, &err), ==, CS_OK);
  CHECK(cs_plat_exists(at(dir, "ran")));
  fx_close();
}
