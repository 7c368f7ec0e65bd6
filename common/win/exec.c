/* Windows: a command hands itself over to another program (certsteward check ->
 * certsteward-worker check). There is no exec: the program is started on this
 * console and standard handles, waited for, and its exit code becomes this
 * process's, so the caller sees what it would have seen from the program. */
#include "../platform.h"
#include "../text.h"

#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMDLINE_MAX 32767 /* CreateProcessW's limit, in UTF-16 units with the NUL */

/* Appends arg quoted so that the MSVC runtime (and CommandLineToArgvW) reads it
 * back unchanged: quotes only when needed; inside quotes, backslashes are literal
 * unless they precede a quote, so those and the closing quote's are doubled. */
static void quote_arg(cs_buf_t *b, const char *arg) {
  const char *p;
  size_t n;
  if (arg[0] != '\0' && strpbrk(arg, " \t\n\v\"") == NULL) {
    cs_buf_puts(b, arg);
    return;
  }
  cs_buf_puts(b, "\"");
  for (p = arg;; p++) {
    for (n = 0; *p == '\\'; p++)
      n++;
    if (*p == '\0') {
      for (; n > 0; n--)
        cs_buf_puts(b, "\\\\");
      break;
    }
    if (*p == '"')
      n = 2 * n + 1;
    for (; n > 0; n--)
      cs_buf_puts(b, "\\");
    cs_buf_append(b, p, 1);
  }
  cs_buf_puts(b, "\"");
}

/* New UTF-16 copy of a UTF-8 string, NULL on invalid UTF-8 or out of memory. */
static wchar_t *to_wide(const char *s) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  wchar_t *w;
  if (n <= 0 || (w = malloc(sizeof *w * (size_t)n)) == NULL)
    return NULL;
  MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
  return w;
}

static int map_error(DWORD e) {
  switch (e) {
  case ERROR_FILE_NOT_FOUND: case ERROR_PATH_NOT_FOUND: case ERROR_INVALID_NAME: return CS_ENOENT;
  case ERROR_ACCESS_DENIED: return CS_EACCES;
  case ERROR_NOT_ENOUGH_MEMORY: case ERROR_OUTOFMEMORY: return CS_ENOMEM;
  default: return CS_EIO;
  }
}

int cs_plat_exec(const char *path, char *const argv[], cs_err_t *err) {
  static const DWORD std_ids[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};
  cs_buf_t line = CS_BUF_INIT;
  wchar_t *wpath = NULL, *wline = NULL;
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  HANDLE std[3];
  DWORD code = 1;
  int i, rc;

  /* argv[0] is read up to the next quote, without escapes: a path has no quote */
  if (argv[0] == NULL || strchr(argv[0], '"') != NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot run %s: bad program name", path);
    goto out;
  }
  cs_buf_printf(&line, "\"%s\"", argv[0]);
  for (i = 1; argv[i] != NULL; i++) {
    cs_buf_puts(&line, " ");
    quote_arg(&line, argv[i]);
  }
  if (cs_buf_str(&line) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if ((wpath = to_wide(path)) == NULL || (wline = to_wide(line.p)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot run %s: not valid UTF-8, or out of memory", path);
    goto out;
  }
  if (wcslen(wline) >= CMDLINE_MAX) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "cannot run %s: the command line is over %d characters", path,
                    CMDLINE_MAX - 1);
    goto out;
  }

  /* the program gets this process's standard handles, inherited explicitly */
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  si.dwFlags = STARTF_USESTDHANDLES;
  for (i = 0; i < 3; i++) {
    std[i] = GetStdHandle(std_ids[i]);
    if (std[i] != NULL && std[i] != INVALID_HANDLE_VALUE)
      (void)SetHandleInformation(std[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  }
  si.hStdInput = std[0];
  si.hStdOutput = std[1];
  si.hStdError = std[2];
  fflush(NULL); /* what this process printed must come before what the program prints */
  if (!CreateProcessW(wpath, wline, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi)) {
    DWORD e = GetLastError();
    rc = cs_err_set(err, map_error(e), (long)e, "cannot run %s (Windows error %lu)", path, (unsigned long)e);
    goto out;
  }
  /* Ctrl+C reaches the program on the same console; this process waits for its code */
  (void)SetConsoleCtrlHandler(NULL, TRUE);
  if (WaitForSingleObject(pi.hProcess, INFINITE) != WAIT_OBJECT_0 || !GetExitCodeProcess(pi.hProcess, &code))
    code = 1;
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
  free(wpath);
  free(wline);
  cs_buf_free(&line);
  exit((int)code);
out:
  free(wpath);
  free(wline);
  cs_buf_free(&line);
  return rc;
}
