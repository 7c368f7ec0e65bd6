/* POSIX half of platform.h: running a program with a deadline, and finding our siblings.
 *
 * The daemon calls cs_plat_run from libuv's thread pool, so it keeps no global state
 * and changes no signal handler. It asks one thing of the process around it: SIGCHLD
 * must not be set to SIG_IGN (the kernel would then reap the child itself); a handler
 * is fine as long as it waits only for its own pids, as libuv's does.
 * SIGPIPE needs no process-wide SIG_IGN: writing input to a child that stopped reading
 * raises SIGPIPE in the writing thread, so it is blocked in this thread for the call,
 * and one raised by our own write is taken off before the thread's mask is restored. */
#define _GNU_SOURCE /* pipe2 (atomic close-on-exec) and posix_spawn_file_actions_addclosefrom_np */

#include "../platform.h"
#include "../text.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define SHELL_MAX_OUT (64 * 1024)
#define DRAIN_STEP (64 * 1024)      /* per wake-up, so a child that never stops writing cannot hold off the deadline */
#define DRAIN_AT_EXIT (1024 * 1024) /* the most a pipe can hold (Linux pipe-max-size default) */

typedef struct run_s {
  const char *prog;
  pid_t pid;
  int in_fd;  /* our end of the child's stdin, -1 once all is written or it stopped reading */
  int out_fd; /* our end of the child's stdout, -1 at end of file */
  const unsigned char *in;
  size_t in_left;
  size_t max_out;
  cs_buf_t out;
  int status;
  int reaped;
  int timed_out;
} run_t;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pipe end that landed on 0, 1 or 2 (the caller's own were closed) would be
 * clobbered by the dup2 onto the child's 0 and 1. */
static int above_stdio(int *fd) {
  int moved;
  if (*fd > 2)
    return 0;
  if ((moved = fcntl(*fd, F_DUPFD_CLOEXEC, 3)) < 0)
    return -1;
  close(*fd);
  *fd = moved;
  return 0;
}

/* Close-on-exec from the start: a program another thread starts meanwhile must not
 * inherit our pipe ends, or our reads and its readers would never see end of file. */
static int make_pipe(int p[2], const char *prog, cs_err_t *err) {
  if (pipe2(p, O_CLOEXEC) != 0 || above_stdio(&p[0]) != 0 || above_stdio(&p[1]) != 0)
    return cs_err_set(err, CS_EIO, errno, "cannot make a pipe to run %s: %s", prog, strerror(errno));
  return CS_OK;
}

static int spawn(run_t *r, const char *const *argv, char *const *envp, int in_r, int out_w, cs_err_t *err) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  union {
    const char *const *c;
    char *const *m;
  } u;
  int e;

  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  if (in_r >= 0)
    posix_spawn_file_actions_adddup2(&fa, in_r, 0);
  else
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out_w, 1);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  /* also the descriptors someone opened without close-on-exec */
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
#endif
  /* Its own process group, so a timeout reaches what it started; a clean signal
   * state, since our blocked SIGPIPE and any ignored signal would survive exec. */
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&at, 0);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all);
  /* posix_spawn's argv is not const-qualified, though it is never written */
  u.c = argv;
  e = posix_spawn(&r->pid, argv[0], &fa, &at, u.m, envp != NULL ? envp : environ);
  posix_spawnattr_destroy(&at);
  posix_spawn_file_actions_destroy(&fa);
  if (e != 0) {
    r->pid = -1;
    return cs_err_set(err,
                      e == ENOENT || e == ENOTDIR ? CS_ENOENT
                      : e == EACCES || e == EPERM ? CS_EACCES
                                                  : CS_EIO,
                      e, "cannot start %s: %s", argv[0], strerror(e));
  }
  return CS_OK;
}

static void feed(run_t *r) {
  while (r->in_left > 0) {
    ssize_t n = write(r->in_fd, r->in, r->in_left);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      break; /* EPIPE: it stopped reading, which is its business */
    }
    r->in += n;
    r->in_left -= (size_t)n;
  }
  close(r->in_fd);
  r->in_fd = -1;
}

/* Bytes past max_out are read and dropped, so that a chatty child never blocks on a full pipe. */
static void drain(run_t *r, size_t budget) {
  char chunk[4096];
  while (budget > 0) {
    ssize_t n = read(r->out_fd, chunk, sizeof chunk);
    size_t keep;
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK)
        return;
      n = 0;
    }
    if (n == 0) {
      close(r->out_fd);
      r->out_fd = -1;
      return;
    }
    keep = r->max_out - r->out.len < (size_t)n ? r->max_out - r->out.len : (size_t)n;
    if (keep > 0)
      cs_buf_append(&r->out, chunk, keep);
    budget -= (size_t)n < budget ? (size_t)n : budget;
  }
}

static void kill_and_reap(run_t *r) {
  if (r->pid <= 0 || r->reaped)
    return;
  /* Not yet reaped, so neither the pid nor the group id can have been reused. */
  killpg(r->pid, SIGKILL);
  kill(r->pid, SIGKILL); /* in case it left its group */
  while (waitpid(r->pid, &r->status, 0) < 0 && errno == EINTR)
    ;
  r->reaped = 1;
}

static int supervise(run_t *r, int timeout_ms, cs_err_t *err) {
  int64_t deadline = now_ms() + timeout_ms;

  for (;;) {
    struct pollfd pfd[2];
    nfds_t n = 0;
    int64_t left;
    int wait_ms;
    pid_t w = waitpid(r->pid, &r->status, WNOHANG);

    if (w == r->pid) {
      r->reaped = 1;
      /* Something it started in the background may hold the pipe open for long:
       * take what is there and do not wait for that end of file. */
      if (r->out_fd >= 0)
        drain(r, DRAIN_AT_EXIT);
      return CS_OK;
    }
    if (w < 0 && errno == ECHILD) {
      /* SIGCHLD ignored: the kernel reaped it, and its pid may be another's by now */
      r->reaped = 1;
      return cs_err_set(err, CS_EIO, ECHILD, "cannot wait for %s: no such child (is SIGCHLD ignored?)", r->prog);
    }
    if (w < 0 && errno != EINTR)
      return cs_err_set(err, CS_EIO, errno, "cannot wait for %s: %s", r->prog, strerror(errno));
    left = deadline - now_ms();
    if (left <= 0) {
      r->timed_out = 1;
      kill_and_reap(r);
      if (r->out_fd >= 0) /* what it said before it was stopped helps to tell why */
        drain(r, DRAIN_AT_EXIT);
      return CS_OK;
    }
    if (r->in_fd >= 0) {
      pfd[n].fd = r->in_fd;
      pfd[n++].events = POLLOUT;
    }
    if (r->out_fd >= 0) {
      pfd[n].fd = r->out_fd;
      pfd[n++].events = POLLIN;
    }
    /* The pipes do not tell when the child ends while a background process holds
     * them, and nothing does once they are closed: hence the polling tick. */
    wait_ms = n > 0 ? 50 : 5;
    if (wait_ms > left)
      wait_ms = (int)left;
    if (poll(pfd, n, wait_ms) < 0) {
      if (errno == EINTR)
        continue;
      return cs_err_set(err, CS_EIO, errno, "cannot watch %s: %s", r->prog, strerror(errno));
    }
    while (n-- > 0) {
      if (pfd[n].revents == 0)
        continue;
      if (pfd[n].fd == r->in_fd)
        feed(r);
      else
        drain(r, DRAIN_STEP);
    }
  }
}

static int sigpipe_pending(void) {
  sigset_t s;
  return sigpending(&s) == 0 && sigismember(&s, SIGPIPE) == 1;
}

/* cs_plat_run with the environment envp (NULL: this process's) */
static int run_env(const char *const *argv, char *const *envp, const void *input, size_t input_len, int timeout_ms,
                   size_t max_out, cs_run_result_t *res, cs_err_t *err) {
  int in_p[2] = {-1, -1}, out_p[2] = {-1, -1};
  sigset_t pipe_set, old_mask;
  int masked = 0, pipe_was_pending = 0, rc;
  run_t r;

  memset(&r, 0, sizeof r);
  r.pid = -1;
  r.in_fd = r.out_fd = -1;
  r.max_out = max_out;
  res->exit_code = -1;
  res->timed_out = 0;
  res->signal = 0;
  res->out = NULL;
  res->out_len = 0;
  if (argv == NULL || argv[0] == NULL || timeout_ms <= 0) {
    rc = cs_err_set(err, CS_EINVAL, 0, "nothing to run, or no time to run it in");
    goto out;
  }
  r.prog = argv[0];
  if (input != NULL && input_len > 0 && (rc = make_pipe(in_p, r.prog, err)) != CS_OK)
    goto out;
  if ((rc = make_pipe(out_p, r.prog, err)) != CS_OK)
    goto out;
  if (in_p[1] >= 0) {
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);
    masked = 1;
    pipe_was_pending = sigpipe_pending();
  }
  if ((rc = spawn(&r, argv, envp, in_p[0], out_p[1], err)) != CS_OK)
    goto out;
  /* Only the child keeps these: their closing is how each side sees end of file. */
  close(in_p[0]);
  close(out_p[1]);
  in_p[0] = out_p[1] = -1;
  r.in_fd = in_p[1];
  r.out_fd = out_p[0];
  in_p[1] = out_p[0] = -1;
  r.in = input;
  r.in_left = r.in_fd >= 0 ? input_len : 0;
  if (r.in_fd >= 0)
    fcntl(r.in_fd, F_SETFL, fcntl(r.in_fd, F_GETFL) | O_NONBLOCK);
  fcntl(r.out_fd, F_SETFL, fcntl(r.out_fd, F_GETFL) | O_NONBLOCK);
  if ((rc = supervise(&r, timeout_ms, err)) != CS_OK)
    goto out;
  if (cs_buf_str(&r.out) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory keeping the output of %s", r.prog);
    goto out;
  }
  res->exit_code = WIFEXITED(r.status) ? WEXITSTATUS(r.status) : -1;
  res->signal = WIFSIGNALED(r.status) ? WTERMSIG(r.status) : 0;
  res->timed_out = r.timed_out;
  res->out_len = r.out.len;
  res->out = r.out.p != NULL ? r.out.p : cs_strdup("");
  r.out.p = NULL;
  rc = res->out != NULL ? CS_OK : cs_err_set(err, CS_ENOMEM, 0, "out of memory keeping the output of %s", r.prog);
out:
  kill_and_reap(&r);
  if (r.in_fd >= 0)
    close(r.in_fd);
  if (r.out_fd >= 0)
    close(r.out_fd);
  if (in_p[0] >= 0)
    close(in_p[0]);
  if (in_p[1] >= 0)
    close(in_p[1]);
  if (out_p[0] >= 0)
    close(out_p[0]);
  if (out_p[1] >= 0)
    close(out_p[1]);
  if (masked) {
    if (!pipe_was_pending && sigpipe_pending()) {
      struct timespec zero = {0, 0};
      sigtimedwait(&pipe_set, NULL, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
  }
  cs_buf_free(&r.out);
  return rc;
}

int cs_plat_run(const char *const *argv, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                cs_run_result_t *res, cs_err_t *err) {
  return run_env(argv, NULL, input, input_len, timeout_ms, max_out, res, err);
}

int cs_plat_run_shell(const char *command, int timeout_ms, cs_run_result_t *res, cs_err_t *err) {
  const char *argv[] = {"/bin/sh", "-c", command, NULL};
  return cs_plat_run(argv, NULL, 0, timeout_ms, SHELL_MAX_OUT, res, err);
}

/* The variable entry e ("NAME=value") has the name of entry name ("NAME=...") */
static int env_named(const char *e, const char *name) {
  size_t n = strcspn(name, "=");
  return strncmp(e, name, n) == 0 && e[n] == '=';
}

int cs_plat_run_shell_env(const char *command, const char *const *env, const char *drop_prefix, int timeout_ms,
                          size_t max_out, cs_run_result_t *res, cs_err_t *err) {
  const char *argv[] = {"/bin/sh", "-c", command, NULL};
  static char *const none[] = {NULL};
  char *const *own = environ != NULL ? environ : none;
  const char *const *add = env != NULL ? env : (const char *const *)none;
  size_t n_own = 0, n_add = 0, i, j, k = 0;
  const char **envp;
  int rc;

  while (own[n_own] != NULL)
    n_own++;
  while (add[n_add] != NULL)
    n_add++;
  if ((envp = malloc(sizeof *envp * (n_own + n_add + 1))) == NULL) {
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  for (i = 0; i < n_own; i++) {
    int replaced = drop_prefix != NULL && strncmp(own[i], drop_prefix, strlen(drop_prefix)) == 0;
    for (j = 0; !replaced && j < n_add; j++)
      replaced = env_named(own[i], add[j]);
    if (!replaced)
      envp[k++] = own[i];
  }
  for (j = 0; j < n_add; j++)
    envp[k++] = add[j];
  envp[k] = NULL;
  {
    union {
      const char **c;
      char *const *m;
    } u; /* posix_spawn's envp is not const-qualified, though it is never written */
    u.c = envp;
    rc = run_env(argv, u.m, NULL, 0, timeout_ms, max_out, res, err);
  }
  free(envp);
  return rc;
}

int cs_plat_sibling_path(const char *name, char *buf, size_t len, cs_err_t *err) {
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe);
  const char *slash;
  size_t dir_len;

  if (n < 0)
    return cs_err_set(err, CS_EIO, errno, "cannot tell where this program is (/proc/self/exe): %s", strerror(errno));
  if ((size_t)n >= sizeof exe)
    return cs_err_set(err, CS_ETOOBIG, 0, "the path of this program is too long");
  exe[n] = '\0';
  if ((slash = strrchr(exe, '/')) == NULL)
    return cs_err_set(err, CS_EIO, 0, "this program's path %s has no folder", exe);
  dir_len = (size_t)(slash - exe) + 1;
  if (dir_len + strlen(name) + 1 > len)
    return cs_err_set(err, CS_ETOOBIG, 0, "the path of %s next to %s does not fit in %zu bytes", name, exe, len);
  memcpy(buf, exe, dir_len);
  memcpy(buf + dir_len, name, strlen(name) + 1);
  return CS_OK;
}

/* The worker runs as the caller here: dropping root needs an account to drop to,
 * which the installation does not have. */
int cs_plat_run_confined(const char *const *argv, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                         cs_run_result_t *res, cs_err_t *err) {
  return cs_plat_run(argv, input, input_len, timeout_ms, max_out, res, err);
}
