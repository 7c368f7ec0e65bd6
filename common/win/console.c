/* Windows half of platform.h: the program's standard streams (binary standard output,
 * a secret read from the console without echo) and the privileges of this process. */
#include "../platform.h"
#include "confine.h"
#include "win.h"

#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>

#include "../password.h"

/* "\n" reaches a reader that takes lines (the daemon) as "\n", not "\r\n". Without a
 * standard output stream _fileno gives -2, which _setmode would hand to the invalid
 * parameter handler (the process ends): there is nothing to set then. */
void cs_plat_stdout_binary(void) {
  int fd = _fileno(stdout);
  if (fd >= 0)
    (void)_setmode(fd, _O_BINARY);
}

int cs_plat_privileges(char *buf, size_t len) {
  HANDLE t = NULL;
  int rc = CS_EIO;
  if (len > 0)
    buf[0] = '\0';
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &t) && cs__win_privilege_names(t, 1, buf, len) == 0)
    rc = CS_OK;
  if (t != NULL)
    CloseHandle(t);
  return rc;
}

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
static int read_console(HANDLE in, const char *prompt, char *buf, size_t cap, size_t *len) {
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
  fputs(prompt, stderr);
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

/* 1 when buf[0..n) holds a line end. */
static int has_line_end(const char *buf, size_t n) {
  return memchr(buf, '\n', n) != NULL || memchr(buf, '\r', n) != NULL;
}

int cs_plat_read_secret_line(const char *prompt, char *buf, size_t cap, size_t *len) {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode, got;
  int ended = 0;

  *len = 0;
  if (in == NULL || in == INVALID_HANDLE_VALUE)
    return 0; /* no standard input: nothing given */
  if (GetConsoleMode(in, &mode))
    return read_console(in, prompt, buf, cap, len);
  while (*len < cap && !ended) {
    if (!ReadFile(in, buf + *len, (DWORD)(cap - *len), &got, NULL)) {
      DWORD e = GetLastError();
      if (e == ERROR_BROKEN_PIPE || e == ERROR_HANDLE_EOF)
        break; /* the writer is done */
      return -1;
    }
    if (got == 0)
      break;
    ended = has_line_end(buf + *len, got);
    *len += got;
  }
  return !ended && *len == cap ? -2 : 0;
}
