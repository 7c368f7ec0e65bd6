/* [request] submit_command judged before it runs as root / LocalSystem (ca_command.h):
 * whoever can change the program it runs, a script that program is handed, or a file
 * it reads (a password, a CA's root) runs code as certsteward or steers what it asks
 * for. The line is read as the system shell reads it (platform.h: its %VAR% references
 * expanded on Windows, its quotes), and what cannot be judged is refused: a program
 * not named by its full path, a shell operator (a second command, a substitution, a
 * redirection), CERTMONGER_ named on the line (the shell would put a CA's cookie into
 * the line itself). Each file named is judged by the platform's own checks: every
 * folder from the root down (cs_plat_path_writers) and the file itself
 * (cs_plat_config_file_unsafe: owner, who else may change it, one name, no link), as
 * certsteward doctor judges certsteward's own program (cs_plat_program_unsafe). */
#include "ca_command.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* How a character is shown in a message: a line end by name */
static const char *shown_char(char c, char buf[4]) {
  if (c == '\n')
    return "a line end";
  if (c == '\r')
    return "a carriage return";
  buf[0] = '\'';
  buf[1] = c;
  buf[2] = '\'';
  buf[3] = '\0';
  return buf;
}

/* Splits line into words as the shell does, into words (a copy of line, each word
 * NUL-terminated, quotes dropped), *n words. CS_ECONFIG, said, for a special character
 * outside quotes (or inside "..." where it still is one) and for an unclosed quote. */
static int split(const char *line, char *words, size_t *n, cs_err_t *err) {
  const cs_plat_shell_syntax_t *sx = cs_plat_shell_syntax();
  const char *p;
  char *o = words, q = 0, buf[4];
  int in_word = 0;
  *n = 0;
  for (p = line; *p != '\0'; p++) {
    char c = *p;
    if (q != 0) {
      if (c == q) {
        q = 0;
        continue;
      }
      if (q == '"' && strchr(sx->in_double, c) != NULL)
        return cs_err_set(err, CS_ECONFIG, 0,
                          "submit_command holds %s inside double quotes, which the shell still reads as its own: "
                          "put what needs it in the helper itself",
                          shown_char(c, buf));
      *o++ = c;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (in_word) {
        *o++ = '\0';
        in_word = 0;
      }
      continue;
    }
    if (strchr(sx->specials, c) != NULL || c == '\n' || c == '\r')
      return cs_err_set(err, CS_ECONFIG, 0,
                        "submit_command holds %s outside quotes, which the shell reads as its own (another "
                        "command, a substitution, a redirection): name one program with its arguments, quote an "
                        "argument that holds it, and put anything more in the helper itself",
                        shown_char(c, buf));
    if (!in_word) {
      in_word = 1;
      (*n)++;
    }
    if (strchr(sx->quotes, c) != NULL) {
      q = c;
      continue;
    }
    *o++ = c;
  }
  if (q != 0)
    return cs_err_set(err, CS_ECONFIG, 0, "submit_command has a quote (%c) that is not closed", q);
  if (in_word)
    *o++ = '\0';
  return CS_OK;
}

/* path (a program, a script, a file an argument names) may be changed only by
 * administrators: the folders from the root down, then the file itself; an existing
 * folder named as an argument is judged as a folder. */
static int judge_file(const char *path, const char *what, cs_err_t *err) {
  char folder[1024], who[512], why[1024], why_dir[512];
  if (cs_plat_path_writers(path, folder, sizeof folder, who, sizeof who))
    return cs_err_set(err, CS_ECONFIG, 0,
                      "submit_command's %s %s runs as %s, but %s, its folder or one above it, can be changed by %s: "
                      "move it to a folder only %s can change",
                      what, path, cs_plat_service_account(), folder, who, cs_plat_admins());
  if (cs_plat_config_file_unsafe(path, why, sizeof why) == 0 ||
      cs_plat_folder_unsafe(path, why_dir, sizeof why_dir) == 0)
    return CS_OK;
  return cs_err_set(err, CS_ECONFIG, 0,
                    "submit_command's %s %s is used as %s, but only %s may be able to change it: %s", what, path,
                    cs_plat_service_account(), cs_plat_admins(), why);
}

int cs_ca_command_judge(const char *command, char *program, size_t program_len, cs_err_t *err) {
  const char *env;
  char *line = NULL, *words = NULL, *w;
  size_t n = 0, i, len;
  int rc;

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
  if ((rc = cs_plat_shell_expand(command, &line, err)) != CS_OK)
    goto out;
  len = strlen(line);
  if ((words = malloc(len + 1)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if ((rc = split(line, words, &n, err)) != CS_OK)
    goto out;
  if (n == 0) {
    rc = cs_err_set(err, CS_ECONFIG, 0, "[request] route = command needs submit_command");
    goto out;
  }
  if (program != NULL && program_len > 0)
    snprintf(program, program_len, "%s", words);
  if (!cs_plat_path_is_absolute(words)) {
    rc = cs_err_set(err, CS_ECONFIG, 0,
                    "submit_command's program %s is not named by its full path (the shell would look for it "
                    "through PATH): name it by its full path",
                    words);
    goto out;
  }
  if (!cs_plat_exists(words)) {
    rc = cs_err_set(err, CS_ECONFIG, 0, "submit_command's program %s does not exist", words);
    goto out;
  }
  if ((rc = judge_file(words, "program", err)) != CS_OK)
    goto out;
  /* every other word that names an existing file by its full path, or --name=PATH */
  for (w = words + strlen(words) + 1, i = 1; i < n; w += strlen(w) + 1, i++) {
    const char *eq = strchr(w, '=');
    const char *path = w[0] == '-' && eq != NULL ? eq + 1 : w;
    if (!cs_plat_path_is_absolute(path) || !cs_plat_exists(path))
      continue;
    if ((rc = judge_file(path, "argument", err)) != CS_OK)
      goto out;
  }
out:
  free(line);
  free(words);
  return rc;
}
