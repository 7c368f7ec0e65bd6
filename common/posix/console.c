/* POSIX half of platform.h: the program's standard streams and its entry's companions. */
#include "../platform.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

void cs_plat_stdout_binary(void) {} /* no text mode to turn off */

int cs_plat_privileges(char *buf, size_t len) {
  if (len > 0)
    buf[0] = '\0';
  return CS_EINVAL; /* root's powers are not a list a token holds */
}

static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

/* A signal while echo is off: echo back on, then the default action (SA_RESETHAND). */
static void on_signal(int sig) {
  if (tty_saved)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
  raise(sig);
}

/* 1 when buf[0..n) holds a line end. */
static int has_line_end(const char *buf, size_t n) {
  return memchr(buf, '\n', n) != NULL || memchr(buf, '\r', n) != NULL;
}

int cs_plat_read_secret_line(const char *prompt, char *buf, size_t cap, size_t *len) {
  /* not SIGTSTP: a job-control shell keeps a stopped job's terminal modes for its fg */
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
  struct sigaction sa, old[sizeof sigs / sizeof sigs[0]];
  struct termios quiet;
  int tty = isatty(STDIN_FILENO), ended = 0, rc = 0;
  size_t i;

  *len = 0;
  if (tty && tcgetattr(STDIN_FILENO, &saved_tty) == 0) {
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
      sigaction(sigs[i], &sa, &old[i]);
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL | ICANON; /* the Enter still moves to the next line */
    tty_saved = 1;
    /* TCSAFLUSH: what was typed before the prompt (and echoed) is not taken */
    if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) != 0)
      tty = 0;
  } else {
    tty = 0;
  }
  if (tty) {
    fputs(prompt, stderr);
    fflush(stderr);
  }
  while (*len < cap && !ended) {
    ssize_t got = read(STDIN_FILENO, buf + *len, cap - *len);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      rc = -1;
      break;
    }
    if (got == 0)
      break;
    ended = has_line_end(buf + *len, (size_t)got);
    *len += (size_t)got;
  }
  if (tty_saved) {
    /* TCSAFLUSH: the rest of a line too long for buf is dropped, not left to the shell */
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    tty_saved = 0;
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
      sigaction(sigs[i], &old[i], NULL);
  }
  return rc == 0 && !ended && *len == cap ? -2 : rc;
}
