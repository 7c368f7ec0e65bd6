/* benchtool: the benchmark's own clock and stopwatch (no OpenSSL, no libuv), so
 * that what is timed is the program under test and not a shell.
 *   benchtool ts                 each line of stdin to stdout, behind its arrival
 *                                time (CLOCK_REALTIME, seconds.microseconds)
 *   benchtool drop SRC DST       rename(SRC, DST) (same file system: an atomic
 *                                drop); prints the time of the rename
 *   benchtool spawn N STATUS CMD [ARG...]
 *                                runs CMD N times, no stdin, output discarded;
 *                                prints each run's wall time and CPU time (user +
 *                                system, its children included) in ms; fails when
 *                                a run exits with another status than STATUS
 *   benchtool now                prints the time
 * Linux only (bench scripts). Exit 0, or 1 with a message on stderr. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Reads in blocks (a shell's read(1) goes byte by byte, and lags): the time a
 * line is printed with is when its last byte arrived. */
static int cmd_ts(void) {
  char buf[65536];
  int at_start = 1;
  for (;;) {
    ssize_t n = read(0, buf, sizeof buf);
    double t;
    ssize_t i, from = 0;
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    t = now_s();
    for (i = 0; i < n; i++) {
      if (at_start) {
        printf("%.6f ", t);
        at_start = 0;
      }
      if (buf[i] == '\n') {
        fwrite(buf + from, 1, (size_t)(i + 1 - from), stdout);
        from = i + 1;
        at_start = 1;
      }
    }
    if (from < n)
      fwrite(buf + from, 1, (size_t)(n - from), stdout);
    fflush(stdout);
  }
  return 0;
}

static int cmd_drop(const char *src, const char *dst) {
  double t = now_s();
  if (rename(src, dst) != 0) {
    fprintf(stderr, "benchtool drop: cannot rename %s to %s: %s\n", src, dst, strerror(errno));
    return 1;
  }
  printf("%.6f\n", t);
  return 0;
}

/* CPU time (user + system) of the children reaped so far, in ms */
static double children_cpu_ms(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_CHILDREN, &ru) != 0)
    return 0;
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmd_spawn(int n, int want, char **argv) {
  posix_spawn_file_actions_t fa;
  int i, rc = 0;
  if (posix_spawn_file_actions_init(&fa) != 0 ||
      posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
      posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0) {
    fprintf(stderr, "benchtool spawn: out of memory\n");
    return 1;
  }
  for (i = 0; i < n && rc == 0; i++) {
    pid_t pid;
    int st, e;
    double c0 = children_cpu_ms(), t0 = mono_ms();
    if ((e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ)) != 0) {
      fprintf(stderr, "benchtool spawn: cannot run %s: %s\n", argv[0], strerror(e));
      rc = 1;
      break;
    }
    while (waitpid(pid, &st, 0) < 0) {
      if (errno != EINTR) {
        fprintf(stderr, "benchtool spawn: waitpid: %s\n", strerror(errno));
        rc = 1;
        break;
      }
    }
    if (rc != 0)
      break;
    printf("%.3f %.3f\n", mono_ms() - t0, children_cpu_ms() - c0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != want) {
      fprintf(stderr, "benchtool spawn: %s exited with %s %d, expected status %d\n", argv[0],
              WIFEXITED(st) ? "status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st), want);
      rc = 1;
    }
  }
  posix_spawn_file_actions_destroy(&fa);
  return rc;
}

int main(int argc, char **argv) {
  const char *cmd = argc > 1 ? argv[1] : "";
  if (strcmp(cmd, "ts") == 0 && argc == 2)
    return cmd_ts();
  if (strcmp(cmd, "drop") == 0 && argc == 4)
    return cmd_drop(argv[2], argv[3]);
  if (strcmp(cmd, "now") == 0 && argc == 2) {
    printf("%.6f\n", now_s());
    return 0;
  }
  if (strcmp(cmd, "spawn") == 0 && argc >= 5 && atoi(argv[2]) > 0)
    return cmd_spawn(atoi(argv[2]), atoi(argv[3]), argv + 4);
  fprintf(stderr, "usage: benchtool ts | drop SRC DST | now | spawn N STATUS CMD [ARG...]\n");
  return 1;
}
