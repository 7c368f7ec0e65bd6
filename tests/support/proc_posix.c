#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static char *slurp(FILE *f, size_t *len) {
  char *buf;
  long n;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  rewind(f);
  buf = malloc((size_t)n + 1);
  if (buf == NULL)
    return NULL;
  *len = fread(buf, 1, (size_t)n, f);
  buf[*len] = '\0';
  return buf;
}

int cs_proc_run(const char *const *argv, cs_proc_result_t *res) {
  FILE *out = tmpfile(), *err = tmpfile();
  posix_spawn_file_actions_t fa;
  union {
    const char *const *c;
    char *const *m;
  } u;
  pid_t pid;
  int st, rc = -1;

  res->status = -1;
  res->out = res->err = NULL;
  res->out_len = res->err_len = 0;
  if (out == NULL || err == NULL)
    goto out;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fileno(out), 1);
  posix_spawn_file_actions_adddup2(&fa, fileno(err), 2);
  /* posix_spawn's argv is not const-qualified, though it is never written */
  u.c = argv;
  st = posix_spawn(&pid, argv[0], &fa, NULL, u.m, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (st != 0)
    goto out;
  while (waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR)
      goto out;
  }
  res->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  res->out = slurp(out, &res->out_len);
  res->err = slurp(err, &res->err_len);
  rc = res->out && res->err ? 0 : -1;
out:
  if (out)
    fclose(out);
  if (err)
    fclose(err);
  return rc;
}

int cs_proc_run_va(cs_proc_result_t *res, const char *prog, const char *first, va_list ap) {
  const char *argv[64];
  int n = 0;
  argv[n++] = prog;
  argv[n++] = first;
  while (n < 63 && (argv[n] = va_arg(ap, const char *)) != NULL)
    n++;
  argv[n] = NULL;
  return cs_proc_run(argv, res);
}

void cs_proc_result_free(cs_proc_result_t *res) {
  free(res->out);
  free(res->err);
  res->out = res->err = NULL;
}
