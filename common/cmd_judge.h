/* Command lines an admin configured, judged before they run as root / LocalSystem:
 * whoever can change a file such a line names (the program, a script it is handed, a
 * file it reads) runs code as certsteward. The line is read as the system shell reads
 * it (cs_plat_shell_syntax, cs_plat_shell_expand) and each file it names by its full
 * path is judged by the platform's own checks (cmd_judge.c). [request] submit_command
 * adds stricter rules of its own (ca_command.h: cs_ca_command_judge); [connector]
 * restart_command and status_command are judged by cs_cmd_judge_shell. */
#ifndef CS_CMD_JUDGE_H
#define CS_CMD_JUDGE_H

#include <stddef.h>

#include "error.h"

/* A line split into words as the shell splits it, quotes dropped: words holds them one
 * after another, each NUL-terminated; written[i] is 1 when word i follows an output
 * redirection ('>'). Owned: cs_cmd_words_free. */
typedef struct cs_cmd_words_s {
  char *words;
  unsigned char *written;
  size_t n;
} cs_cmd_words_t;

/* Splits line into w. strict: a special character outside quotes (another command, a
 * substitution, a redirection), or inside "..." where the shell still reads it, is
 * refused. Not strict: those end a word, as operators do, and the shell's escape
 * character is honoured. An unclosed quote is refused in both. key names the setting
 * in messages. CS_OK, CS_ECONFIG (said), CS_ENOMEM; w is empty after a failure. */
int cs_cmd_split(const char *key, const char *line, int strict, cs_cmd_words_t *w, cs_err_t *err);

void cs_cmd_words_free(cs_cmd_words_t *w);

/* path (absolute), named by the setting key as its what ("program", "argument"), may be
 * changed only by administrators: every folder from the root down
 * (cs_plat_path_writers), then the file itself (cs_plat_config_file_unsafe: owner, who
 * else may change it, one name, no link) or, for a folder, the folder
 * (cs_plat_folder_unsafe). A path that does not exist yet: its folders only (whoever
 * can create it there decides what it holds). written: a file the line writes to, not
 * one it runs or reads: its folders only. CS_OK, or CS_ECONFIG with err naming the
 * path and who can change it. Fails closed. */
int cs_cmd_judge_path(const char *key, const char *what, const char *path, int written, cs_err_t *err);

/* [connector] restart_command / status_command (key), a line for the system shell:
 * it may name its program through root's PATH (systemctl), use the shell's builtins
 * and operators (exit 3, a && b); every path it names by its full path, outside quotes
 * and inside them (what sh -c or cmd /c is handed is read as a line too), after
 * --name= or NAME= too, that exists or whose folder exists, is judged by
 * cs_cmd_judge_path. A full path the shell would change as it runs ($, a pattern) cannot
 * be judged and is refused; what the shell computes from root's own environment ($VAR
 * in another word) is root's. NULL or "": CS_OK. CS_ECONFIG (err says why), CS_ENOMEM. */
int cs_cmd_judge_shell(const char *key, const char *command, cs_err_t *err);

#endif
