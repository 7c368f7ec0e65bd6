/* Command lines judged before they run as root / LocalSystem (cmd_judge.h): the
 * shell's own reading of a line (its quotes, its operators, its escape character), and
 * the judgement of each file the line names, by the platform's checks, as certsteward
 * doctor judges certsteward's own program (cs_plat_program_unsafe). */
#include "cmd_judge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

/* Quoted words are read again as lines this deep: sh -c "...", cmd /c "..." */
#define INNER_DEPTH 2

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

void cs_cmd_words_free(cs_cmd_words_t *w) {
  free(w->words);
  free(w->written);
  memset(w, 0, sizeof *w);
}

/* Not strict: what ends a word besides blanks (the specials that chain, redirect or
 * substitute; what makes words into others stays in the word, to be seen there) */
static int separates(const cs_plat_shell_syntax_t *sx, char c) {
  if (c == '\n' || c == '\r' || c == '(' || c == ')')
    return 1;
  return c != sx->escape && strchr(sx->specials, c) != NULL && strchr(sx->expands, c) == NULL;
}

int cs_cmd_split(const char *key, const char *line, int strict, cs_cmd_words_t *w, cs_err_t *err) {
  const cs_plat_shell_syntax_t *sx = cs_plat_shell_syntax();
  size_t len = strlen(line);
  const char *p;
  char *o, q = 0, buf[4];
  int in_word = 0, after_gt = 0, rc = CS_OK;

  memset(w, 0, sizeof *w);
  if ((w->words = malloc(len + 1)) == NULL || (w->written = calloc(len + 1, 1)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  o = w->words;
  for (p = line; *p != '\0'; p++) {
    char c = *p;
    int literal = 0;
    if (q != 0) {
      if (c == q) {
        q = 0;
        continue;
      }
      if (q == '"' && strchr(sx->in_double, c) != NULL) {
        if (strict) {
          rc = cs_err_set(err, CS_ECONFIG, 0,
                          "%s holds %s inside double quotes, which the shell still reads as its own: put what "
                          "needs it in the helper itself",
                          key, shown_char(c, buf));
          goto out;
        }
        if (c == sx->escape && p[1] != '\0' && (p[1] == '"' || strchr(sx->in_double, p[1]) != NULL))
          c = *++p;
      }
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
    if (strict && (strchr(sx->specials, c) != NULL || c == '\n' || c == '\r')) {
      rc = cs_err_set(err, CS_ECONFIG, 0,
                      "%s holds %s outside quotes, which the shell reads as its own (another command, a "
                      "substitution, a redirection): name one program with its arguments, quote an argument that "
                      "holds it, and put anything more in the helper itself",
                      key, shown_char(c, buf));
      goto out;
    }
    if (!strict && c == sx->escape) {
      if (p[1] == '\0')
        continue;
      c = *++p; /* the next character as it is */
      literal = 1;
    } else if (!strict && separates(sx, c)) {
      if (in_word) {
        *o++ = '\0';
        in_word = 0;
      }
      after_gt = c == '>' || (after_gt && c == '|'); /* >, >>, >|: the next word is written to */
      continue;
    }
    if (!in_word) {
      in_word = 1;
      w->written[w->n++] = (unsigned char)after_gt;
      after_gt = 0;
    }
    if (!literal && strchr(sx->quotes, c) != NULL) {
      q = c;
      continue;
    }
    *o++ = c;
  }
  if (q != 0) {
    rc = cs_err_set(err, CS_ECONFIG, 0, "%s has a quote (%c) that is not closed", key, q);
    goto out;
  }
  if (in_word)
    *o = '\0';
out:
  if (rc != CS_OK)
    cs_cmd_words_free(w);
  return rc;
}

/* A network path (\\server\share\..., \\?\UNC\...; //server/... too): its access rules
 * are another machine's (its Administrators are that server's), so whoever runs that
 * server decides what is run here; not judged, refused. */
static int network_path(const char *p) {
  if (!cs_plat_is_windows()) /* POSIX: //x is /x */
    return 0;
  if (!cs_plat_is_path_sep((unsigned char)p[0]) || !cs_plat_is_path_sep((unsigned char)p[1]))
    return 0;
  if (p[2] == '?' && cs_plat_is_path_sep((unsigned char)p[3])) /* \\?\C:\... is local */
    return (p[4] == 'U' || p[4] == 'u') && (p[5] == 'N' || p[5] == 'n') && (p[6] == 'C' || p[6] == 'c') &&
           cs_plat_is_path_sep((unsigned char)p[7]);
  return 1;
}

int cs_cmd_judge_path(const char *key, const char *what, const char *path, int written, cs_err_t *err) {
  char folder[1024], who[512], why[1024], why_dir[512];
  int exists;
  if (network_path(path))
    return cs_err_set(err, CS_ECONFIG, 0,
                      "%s's %s %s is on another machine, whose administrators decide what it holds: copy it to a "
                      "folder of this machine only %s can change",
                      key, what, path, cs_plat_admins());
  exists = cs_plat_exists(path);
  if (cs_plat_path_writers(path, folder, sizeof folder, who, sizeof who)) {
    if (written)
      return cs_err_set(err, CS_ECONFIG, 0,
                        "%s writes to %s as %s, but %s, its folder or one above it, can be changed by %s: write to "
                        "a folder only %s can change",
                        key, path, cs_plat_service_account(), folder, who, cs_plat_admins());
    return cs_err_set(err, CS_ECONFIG, 0,
                      "%s's %s %s %s as %s, but %s, its folder or one above it, can be changed by %s: move it to "
                      "a folder only %s can change",
                      key, what, path, exists ? "runs" : "(not there yet) would run", cs_plat_service_account(), folder,
                      who, cs_plat_admins());
  }
  if (written || !exists || cs_plat_config_file_unsafe(path, why, sizeof why) == 0 ||
      cs_plat_folder_unsafe(path, why_dir, sizeof why_dir) == 0)
    return CS_OK;
  return cs_err_set(err, CS_ECONFIG, 0, "%s's %s %s is used as %s, but only %s may be able to change it: %s", key, what,
                    path, cs_plat_service_account(), cs_plat_admins(), why);
}

/* Whether the folder that would hold path (absolute, not there) exists: a path right
 * under the root (/x, or a switch such as cmd.exe's /c) is not judged as a file. */
static int folder_exists(const char *path) {
  char *copy = malloc(strlen(path) + 1), *p, *sep = NULL;
  int yes = 0;
  if (copy == NULL)
    return 1; /* judged: fail closed */
  strcpy(copy, path);
  for (p = copy; *p != '\0'; p++)
    if (cs_plat_is_path_sep((unsigned char)*p))
      sep = p;
  if (sep != NULL && sep != copy) {
    *sep = '\0';
    yes = cs_plat_exists(copy);
  }
  free(copy);
  return yes;
}

/* One candidate path of a shell line: judged when absolute and there (at the top
 * level, also when only its folder is: it may be put there before it runs) */
static int judge_candidate(const char *key, const char *path, int written, int depth, cs_err_t *err) {
  const cs_plat_shell_syntax_t *sx = cs_plat_shell_syntax();
  if (!cs_plat_path_is_absolute(path))
    return CS_OK;
  if (network_path(path)) /* refused, there or not */
    return cs_cmd_judge_path(key, "path", path, written, err);
  if (sx->expands[0] != '\0' && strpbrk(path, sx->expands) != NULL)
    return cs_err_set(err, CS_ECONFIG, 0,
                      "%s names %s, which the shell makes into other paths as it runs (a variable, a pattern): "
                      "what it would run as %s cannot be judged: name the file itself",
                      key, path, cs_plat_service_account());
  if (!cs_plat_exists(path) && (depth > 0 || !folder_exists(path)))
    return CS_OK;
  return cs_cmd_judge_path(key, "path", path, written, err);
}

static int judge_words(const char *key, const char *line, int depth, cs_err_t *err) {
  const cs_plat_shell_syntax_t *sx = cs_plat_shell_syntax();
  cs_cmd_words_t w;
  const char *word, *eq;
  size_t i;
  int rc = cs_cmd_split(key, line, 0, &w, err);

  if (rc != CS_OK)
    return depth > 0 && rc == CS_ECONFIG ? CS_OK : rc; /* a quoted word that is no line of its own */
  for (word = w.words, i = 0; i < w.n && rc == CS_OK; word += strlen(word) + 1, i++) {
    if (cs_plat_path_is_absolute(word))
      rc = judge_candidate(key, word, w.written[i], depth, err);
    else if ((eq = strchr(word, '=')) != NULL) /* --name=PATH, NAME=PATH */
      rc = judge_candidate(key, eq + 1, w.written[i], depth, err);
    /* what a quoted word holds, a line of its own for sh -c or cmd /c: read again,
     * unless the word is a file's name */
    if (rc == CS_OK && depth < INNER_DEPTH && !cs_plat_exists(word) &&
        (strpbrk(word, " \t\r\n") != NULL || strpbrk(word, sx->quotes) != NULL || strpbrk(word, sx->specials) != NULL))
      rc = judge_words(key, word, depth + 1, err);
  }
  cs_cmd_words_free(&w);
  return rc;
}

int cs_cmd_judge_shell(const char *key, const char *command, cs_err_t *err) {
  char *line = NULL;
  int rc;
  if (command == NULL || command[0] == '\0')
    return CS_OK;
  if ((rc = cs_plat_shell_expand(command, &line, err)) == CS_OK)
    rc = judge_words(key, line, 0, err);
  else if (rc == CS_EINVAL && err != NULL) { /* a line that cannot be judged is refused as an unsafe one */
    cs_err_t why = *err;
    rc = cs_err_set(err, CS_ECONFIG, why.raw, "%s: %.400s", key, why.text);
  } else if (rc == CS_EINVAL)
    rc = CS_ECONFIG;
  free(line);
  return rc;
}
