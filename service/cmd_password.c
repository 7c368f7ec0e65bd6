/* certsteward set-password: reads the PFX / key password from standard input (its first
 * line) and stores it where [watch] password_file says, through cs_password_write:
 * Windows seals it with DPAPI for this machine in a file only SYSTEM and Administrators
 * can open; Linux writes a 0600 file. On a terminal / console the typing is not echoed.
 * The password never reaches a command line, an output or an event, and every buffer
 * that held it is wiped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <errno.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>
#endif

#include "cli.h"
#include "password.h"
#include "platform.h"

/* Room for the longest password in UTF-8 (console input converted from UTF-16 may take
 * 3 bytes a unit), its line end, and one byte more to tell "too long". */
#define LINE_CAP (3 * (CS_PASSWORD_MAX + 2) + 1)
#define PROMPT "PFX password (not shown): "

/* Length of the first line in buf[0..len) (up to CR or LF); *ended = 1 if one ended. */
static size_t first_line(const char *buf, size_t len, int *ended) {
  size_t i;
  for (i = 0; i < len; i++)
    if (buf[i] == '\n' || buf[i] == '\r') {
      *ended = 1;
      return i;
    }
  *ended = 0;
  return len;
}

#ifdef _WIN32

static HANDLE console_in = NULL;
static DWORD console_mode;

/* Ctrl+C / Ctrl+Break while echo is off: echo back on, then the default (exit). */
static BOOL WINAPI on_ctrl(DWORD type) {
  (void)type;
  if (console_in != NULL)
    SetConsoleMode(console_in, console_mode);
  return FALSE;
}

/* From a console: UTF-16 from ReadConsoleW (the console's code page does not matter),
 * echo off, converted to UTF-8 with its LF. Only real Windows proves the echo is off:
 * no test here drives a console. */
static int read_console(HANDLE in, char *buf, size_t cap, size_t *len) {
  wchar_t w[CS_PASSWORD_MAX + 3];
  const DWORD wcap = (DWORD)(sizeof w / sizeof w[0]);
  DWORD got = 0, total = 0, line = 0, i;
  int n, ended = 0, rc = -1;

  console_in = in;
  console_mode = 0;
  if (!GetConsoleMode(in, &console_mode))
    return -1;
  SetConsoleCtrlHandler(on_ctrl, TRUE);
  /* echo off needs line input; processed input keeps Ctrl+C working */
  if (!SetConsoleMode(in, (console_mode | ENABLE_LINE_INPUT | ENABLE_PROCESSED_INPUT) & ~(DWORD)ENABLE_ECHO_INPUT))
    goto out;
  fputs(PROMPT, stderr);
  fflush(stderr);
  while (!ended && total < wcap) {
    if (!ReadConsoleW(in, w + total, wcap - total, &got, NULL) || got == 0)
      break;
    for (i = total; i < total + got && !ended; i++)
      if (w[i] == L'\r' || w[i] == L'\n') {
        ended = 1;
        line = i;
      }
    total += got;
  }
  if (!ended)
    line = total;
  if (line > 0 && w[0] == 0x1A)
    line = 0; /* Ctrl+Z, the console's end of input: nothing given */
  /* The rest of a line too long for w would go to the shell as a command: dropped. */
  FlushConsoleInputBuffer(in);
  fputs("\n", stderr);
  *len = 0;
  if (!ended && total == wcap) {
    rc = -2;
  } else if (line > 0) {
    n = WideCharToMultiByte(CP_UTF8, 0, w, (int)line, buf, (int)cap - 1, NULL, NULL);
    if (n <= 0) {
      rc = -2;
      goto out;
    }
    buf[n] = '\n';
    *len = (size_t)n + 1;
    rc = 0;
  } else {
    rc = 0;
  }
out:
  SecureZeroMemory(w, sizeof w);
  SetConsoleMode(in, console_mode);
  SetConsoleCtrlHandler(on_ctrl, FALSE);
  console_in = NULL;
  return rc;
}

/* Reads standard input up to the first line end, EOF, or cap bytes: 0, -1 when it
 * cannot be read, -2 when the first line does not fit. */
static int read_input(char *buf, size_t cap, size_t *len) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode, got;
  int ended = 0;

  *len = 0;
  if (in == NULL || in == INVALID_HANDLE_VALUE)
    return 0; /* no standard input: nothing given */
  if (GetConsoleMode(in, &mode))
    return read_console(in, buf, cap, len);
  while (*len < cap && !ended) {
    if (!ReadFile(in, buf + *len, (DWORD)(cap - *len), &got, NULL)) {
      DWORD e = GetLastError();
      if (e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF)
        break; /* the writer is done */
      return -1;
    }
    if (got == 0)
      break;
    first_line(buf + *len, got, &ended);
    *len += got;
  }
  return !ended && *len == cap ? -2 : 0;
}

#else

static struct termios saved_tty;
static volatile sig_atomic_t tty_saved;

/* A signal while echo is off: echo back on, then the default action (SA_RESETHAND). */
static void on_signal(int sig) {
  if (tty_saved)
    tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
  raise(sig);
}

/* Reads standard input up to the first line end, EOF, or cap bytes; on a terminal,
 * with a prompt on stderr and the echo off. 0, -1 when it cannot be read, -2 when the
 * first line does not fit. */
static int read_input(char *buf, size_t cap, size_t *len) {
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
    fputs(PROMPT, stderr);
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
    first_line(buf + *len, (size_t)got, &ended);
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

#endif

int cs_cmd_set_password(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)argc);
  char *line = malloc(LINE_CAP);
  size_t len = 0, n, start = 0;
  int n_operands = 0, have_cfg = 0, ended = 0, got, rc = CS_EXIT_USAGE;
  const char *path;
  cs_config_t cfg;
  cs_err_t err;

  if (operands == NULL || line == NULL) {
    fprintf(stderr, "certsteward set-password: out of memory\n");
    goto out;
  }
  if (cs_cli_parse(argc, argv, 2, opts, operands, &n_operands) != 0)
    goto out;
  if (n_operands > 0) {
    /* not echoed: it may be the password itself, given where it does not belong */
    fprintf(stderr, "certsteward set-password: takes no arguments; the password is read from standard input, "
                    "never from the command line\n");
    goto out;
  }
  if (cs_cli_config(opts[0].value, &cfg) != 0)
    goto out;
  have_cfg = 1;
  if ((path = cfg.watch.password_file) == NULL) {
    /* no default file: the service reads the password from password_file only */
    char where[1100], def[1024];
    if (cfg.path != NULL)
      snprintf(where, sizeof where, "%s", cfg.path);
    else if (cs_plat_default_config_path(def, sizeof def) == CS_OK)
      snprintf(where, sizeof where, "the configuration (there is no %s)", def);
    else
      snprintf(where, sizeof where, "the configuration");
    fprintf(stderr,
            "certsteward set-password: [watch] password_file is not set in %s; set it to the file that is to hold "
            "the password (for example password_file = %s) and run set-password again\n",
            where, cs_plat_is_windows() ? "C:\\ProgramData\\certsteward\\pfx.pass" : "/etc/certsteward/pfx.pass");
    goto out;
  }
  if ((got = read_input(line, LINE_CAP, &len)) != 0) {
    if (got == -2)
      fprintf(stderr, "certsteward set-password: the password is longer than %d bytes; nothing written\n",
              CS_PASSWORD_MAX);
    else
      fprintf(stderr, "certsteward set-password: cannot read standard input; nothing written\n");
    goto out;
  }
  if (len >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
    start = 3; /* a UTF-8 byte-order mark (PowerShell, Notepad) is not part of it */
  n = first_line(line + start, len - start, &ended);
  if (n == 0) {
    fprintf(stderr, "certsteward set-password: no password on standard input (its first line is empty); "
                    "nothing written\n");
    goto out;
  }
  if (memchr(line + start, '\0', n) != NULL) {
    fprintf(stderr, "certsteward set-password: the password holds a NUL byte; nothing written\n");
    goto out;
  }
  line[start + n] = '\0';
  if (cs_password_write(path, line + start, &err) != CS_OK) {
    fprintf(stderr, "certsteward set-password: %s\n", err.text);
    goto out;
  }
  printf("certsteward: the PFX password is stored in %s (%s)\n", path,
         cs_plat_is_windows() ? "sealed with DPAPI for this machine; readable by SYSTEM and Administrators only"
                              : "mode 0600, readable by its owner only");
  rc = CS_EXIT_OK;
out:
  if (line != NULL) {
    cs_plat_wipe(line, LINE_CAP);
    free(line);
  }
  if (have_cfg)
    cs_config_free(&cfg);
  free(operands);
  return rc;
}
