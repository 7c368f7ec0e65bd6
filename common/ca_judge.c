/* [request] submit_command judged before it runs as root / LocalSystem (ca_command.h):
 * whoever can change the program it runs, a script that program is handed, or a file
 * it reads (a password, a CA's root) runs code as certsteward or steers what it asks
 * for. The line is read as the system shell reads it (platform.h: its %VAR% references
 * expanded on Windows, its quotes), and what cannot be judged is refused: a program
 * not named by its full path, a shell operator (a second command, a substitution, a
 * redirection), CERTMONGER_ named on the line (the shell would put a CA's cookie into
 * the line itself). Each file named is judged by the platform's own checks, as
 * restart_command and status_command are (cmd_judge.c: cs_cmd_judge_path). */
#include "ca_command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_judge.h"
#include "platform.h"

#define ENV_PREFIX "CERTMONGER_"

/* The first place of the case-insensitive name in s (cmd.exe's %certmonger_csr% is the
 * same variable as %CERTMONGER_CSR%); NULL when not there. */
static const char *find_nocase(const char *s, const char *name) {
  size_t n = strlen(name), i;
  for (; *s != '\0'; s++) {
    for (i = 0; i < n && s[i] != '\0'; i++) {
      char c = s[i];
      if (c >= 'a' && c <= 'z')
        c = (char)(c - 'a' + 'A');
      if (c != name[i])
        break;
    }
    if (i == n)
      return s;
  }
  return NULL;
}

int cs_ca_command_judge(const char *command, char *program, size_t program_len, cs_err_t *err) {
  const char *env;
  char *line = NULL, *w;
  cs_cmd_words_t words;
  size_t i;
  int rc;

  memset(&words, 0, sizeof words);
  if (program != NULL && program_len > 0)
    program[0] = '\0';
  if (command == NULL || command[0] == '\0')
    return cs_err_set(err, CS_ECONFIG, 0, "[request] route = command needs submit_command");
  if ((env = find_nocase(command, ENV_PREFIX)) != NULL)
    return cs_err_set(err, CS_ECONFIG, 0,
                      "submit_command names %.40s on its own line: the shell would put what the CA answered (a "
                      "cookie) into the command line and run it; the helper reads CERTMONGER_ variables from its "
                      "environment",
                      env);
  if ((rc = cs_plat_shell_expand(command, &line, err)) != CS_OK) {
    if (rc == CS_EINVAL && err != NULL) { /* a line that cannot be judged is refused as an unsafe one */
      cs_err_t why = *err;
      rc = cs_err_set(err, CS_ECONFIG, why.raw, "submit_command: %.400s", why.text);
    } else if (rc == CS_EINVAL)
      rc = CS_ECONFIG;
    goto out;
  }
  if ((rc = cs_cmd_split("submit_command", line, 1, &words, err)) != CS_OK)
    goto out;
  if (words.n == 0) {
    rc = cs_err_set(err, CS_ECONFIG, 0, "[request] route = command needs submit_command");
    goto out;
  }
  w = words.words;
  if (program != NULL && program_len > 0)
    snprintf(program, program_len, "%s", w);
  if (!cs_plat_path_is_absolute(w)) {
    rc = cs_err_set(err, CS_ECONFIG, 0,
                    "submit_command's program %s is not named by its full path (the shell would look for it "
                    "through PATH): name it by its full path",
                    w);
    goto out;
  }
  if (!cs_plat_exists(w)) {
    rc = cs_err_set(err, CS_ECONFIG, 0, "submit_command's program %s does not exist", w);
    goto out;
  }
  if ((rc = cs_cmd_judge_path("submit_command", "program", w, 0, err)) != CS_OK)
    goto out;
  /* every other word that names an existing file by its full path, or --name=PATH */
  for (w += strlen(w) + 1, i = 1; i < words.n; w += strlen(w) + 1, i++) {
    const char *eq = strchr(w, '=');
    const char *path = w[0] == '-' && eq != NULL ? eq + 1 : w;
    if (!cs_plat_path_is_absolute(path) || !cs_plat_exists(path))
      continue;
    if ((rc = cs_cmd_judge_path("submit_command", "argument", path, 0, err)) != CS_OK)
      goto out;
  }
out:
  free(line);
  cs_cmd_words_free(&words);
  return rc;
}
