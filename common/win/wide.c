/* The Windows half's edge: UTF-8 (platform.h) to UTF-16 (the wide Win32 API) and
 * back, paths, and Windows errors as CS_E* codes with the system's own text. */
#include "win.h"
#include "../text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

wchar_t *cs__win_wide(const char *s) {
  int n;
  wchar_t *w;
  if (s == NULL)
    return NULL;
  n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
  if (n <= 0 || (w = malloc(sizeof *w * (size_t)n)) == NULL)
    return NULL;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) != n) {
    free(w);
    return NULL;
  }
  return w;
}

char *cs__win_utf8(const wchar_t *w) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, NULL, 0, NULL, NULL);
  char *s;
  if (n <= 0 || (s = malloc((size_t)n)) == NULL)
    return NULL;
  if (WideCharToMultiByte(CP_UTF8, 0, w, -1, s, n, NULL, NULL) != n) {
    free(s);
    return NULL;
  }
  return s;
}

static void free_argv(char **argv) {
  size_t i;
  for (i = 0; argv != NULL && argv[i] != NULL; i++)
    free(argv[i]);
  free(argv);
}

/* RedirectionGuard for the whole process: a filesystem junction that a non-admin user
 * created is not followed ("prevent the process from following filesystem junctions
 * created by non-admin users and log the attempt",
 * PROCESS_MITIGATION_REDIRECTION_TRUST_POLICY). certsteward works as LocalSystem in
 * folders such accounts may write (the connector's settings): this closes the junction
 * half of a swapped folder on the Windows builds that have the policy; the others (and
 * Wine) refuse it, and the checks of each path (pathguard.c, adopt.c) still hold.
 * Symbolic links and hard links are not covered by it; only real Windows proves it. */
static void redirection_guard(void) {
  PROCESS_MITIGATION_REDIRECTION_TRUST_POLICY p;
  memset(&p, 0, sizeof p);
  p.EnforceRedirectionTrust = 1;
  (void)SetProcessMitigationPolicy(ProcessRedirectionTrustPolicy, &p, sizeof p);
}

int cs__win_wmain(int argc, wchar_t **wargv, int (*run)(int argc, char **argv), int nomem_code) {
  char **argv = calloc((size_t)(argc > 0 ? argc : 0) + 1, sizeof *argv);
  int i, rc;
  redirection_guard();
  for (i = 0; argv != NULL && i < argc; i++)
    if ((argv[i] = cs__win_utf8(wargv[i])) == NULL) {
      free_argv(argv);
      argv = NULL;
    }
  if (argv == NULL) {
    fputs("out of memory reading the command line\n", stderr);
    return nomem_code;
  }
  rc = run(argc, argv);
  free_argv(argv);
  return rc;
}

/* Beyond this, a path needs \\?\ (MAX_PATH less room for an 8.3 name, as CreateDirectory wants). */
#define SHORT_PATH_MAX (MAX_PATH - 12)

wchar_t *cs__win_path(const char *path) {
  wchar_t *w = cs__win_wide(path), *full = NULL, *out = NULL, *p;
  DWORD n;
  size_t len;

  if (w == NULL)
    return NULL;
  for (p = w; *p; p++)
    if (*p == L'/')
      *p = L'\\';
  len = wcslen(w);
  if (len < SHORT_PATH_MAX || wcsncmp(w, L"\\\\?\\", 4) == 0)
    return w;
  /* \\?\ turns off the API's own clean-up of "." and "..", so the path is made
   * absolute and clean first (a string operation, not limited to MAX_PATH). */
  n = GetFullPathNameW(w, 0, NULL, NULL);
  if (n == 0 || (full = malloc(sizeof *full * n)) == NULL || GetFullPathNameW(w, n, full, NULL) >= n)
    goto out;
  len = wcslen(full);
  if ((out = malloc(sizeof *out * (len + 8))) == NULL)
    goto out;
  if (full[0] == L'\\' && full[1] == L'\\') /* \\server\share\... -> \\?\UNC\server\share\... */
    swprintf(out, len + 8, L"\\\\?\\UNC\\%ls", full + 2);
  else
    swprintf(out, len + 8, L"\\\\?\\%ls", full);
out:
  free(full);
  free(w);
  return out;
}

int cs__win_code(DWORD e) {
  switch (e) {
  case ERROR_FILE_NOT_FOUND:
  case ERROR_PATH_NOT_FOUND:
  case ERROR_INVALID_NAME:
  case ERROR_INVALID_DRIVE:
  case ERROR_BAD_NETPATH:
  case ERROR_BAD_NET_NAME:
  case ERROR_BAD_PATHNAME:
    return CS_ENOENT;
  case ERROR_ACCESS_DENIED:
  case ERROR_SHARING_VIOLATION:
  case ERROR_LOCK_VIOLATION:
  case ERROR_PRIVILEGE_NOT_HELD:
  case ERROR_WRITE_PROTECT:
  case ERROR_INVALID_OWNER:
    return CS_EACCES;
  case ERROR_NOT_ENOUGH_MEMORY:
  case ERROR_OUTOFMEMORY:
    return CS_ENOMEM;
  case ERROR_DISK_FULL:
  case ERROR_HANDLE_DISK_FULL:
  case ERROR_FILE_TOO_LARGE:
  case ERROR_FILENAME_EXCED_RANGE:
    return CS_ETOOBIG;
  case ERROR_DIRECTORY:
  case ERROR_CANT_RESOLVE_FILENAME:
  case ERROR_CANT_ACCESS_FILE:
    return CS_ENOTREG;
  default:
    return CS_EIO;
  }
}

const char *cs__win_text(DWORD e, char *buf, size_t len) {
  wchar_t msg[512];
  char *utf8 = NULL, code[16];
  DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK,
                           NULL, e, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), msg, 512, NULL);
  while (n > 0 && (msg[n - 1] == L' ' || msg[n - 1] == L'\r' || msg[n - 1] == L'\n'))
    msg[--n] = L'\0';
  if (n > 0)
    utf8 = cs__win_utf8(msg);
  /* an HRESULT (NTE_*, CRYPT_E_*: the high bit set) as Microsoft's documents write it */
  snprintf(code, sizeof code, e & 0x80000000u ? "0x%08lX" : "%lu", (unsigned long)e);
  if (utf8 != NULL && utf8[0] != '\0')
    snprintf(buf, len, "%s (Windows error %s)", utf8, code);
  else
    snprintf(buf, len, "Windows error %s", code);
  free(utf8);
  return buf;
}

int cs__win_fail(cs_err_t *err, DWORD e, const char *what) {
  char text[256];
  return cs_err_set(err, cs__win_code(e), (long)e, "%s: %s", what, cs__win_text(e, text, sizeof text));
}

int cs__win_failf(cs_err_t *err, DWORD e, const char *fmt, ...) {
  char what[CS_ERR_TEXT_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  return cs__win_fail(err, e, what);
}

int cs__win_transient(DWORD e) {
  return e == ERROR_ACCESS_DENIED || e == ERROR_SHARING_VIOLATION || e == ERROR_LOCK_VIOLATION;
}

/* Inside quotes, backslashes are literal unless a quote follows them: those, and the
 * closing quote's, are doubled. Quotes only when needed. */
void cs__win_quote_arg(struct cs_buf_s *b, const char *arg) {
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

int cs__win_command_line(const char *const *argv, wchar_t **line, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  int i, rc = CS_OK;

  *line = NULL;
  /* argv[0] is read up to the next quote, without escapes: a path has no quote */
  if (argv == NULL || argv[0] == NULL || strchr(argv[0], '"') != NULL)
    return cs_err_set(err, CS_EINVAL, 0, "cannot run %s: a quote in a program's path, or no program",
                      argv && argv[0] ? argv[0] : "(nothing)");
  cs_buf_printf(&b, "\"%s\"", argv[0]);
  for (i = 1; argv[i] != NULL; i++) {
    cs_buf_puts(&b, " ");
    cs__win_quote_arg(&b, argv[i]);
  }
  if (cs_buf_str(&b) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else if ((*line = cs__win_wide(b.p)) == NULL)
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot run %s: not valid UTF-8, or out of memory", argv[0]);
  else if (wcslen(*line) >= CS__WIN_CMDLINE_MAX)
    rc = cs_err_set(err, CS_ETOOBIG, 0, "cannot run %s: the command line is over %d characters", argv[0],
                    CS__WIN_CMDLINE_MAX - 1);
  if (rc != CS_OK) {
    free(*line);
    *line = NULL;
  }
  cs_buf_free(&b);
  return rc;
}
