/* Windows half of platform.h: files, host name, paths. Strings cross the
 * interface as UTF-8 and are converted to UTF-16 for the wide Win32 API here.
 * Proven under Wine: reading files, the host name, paths, and the refusal of a Unix
 * symbolic link to a folder in the path of a CS_READ_NOFOLLOW read. Only real Windows
 * proves it on NTFS symbolic links and junctions, and for a link as the file itself
 * (walk.c). */
#include "../platform.h"
#include "win.h"

#include <windows.h>
#include <bcrypt.h>
#include <knownfolders.h>
#include <shlobj.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs_plat_is_windows(void) { return 1; }

/* What the platform is (platform.h): Windows, its store LocalMachine\My with the
 * machine keys, its trust the machine's chain engine, its services' settings the SCM's. */
char cs_plat_path_sep(void) { return '\\'; }
int cs_plat_is_path_sep(int c) { return c == '/' || c == '\\'; }
int cs_plat_has_file_modes(void) { return 0; }

int cs_plat_names_case_sensitive(void) { return 0; }
const char *cs_plat_service_account(void) { return "LocalSystem"; }
const char *cs_plat_admins(void) { return "Administrators and SYSTEM"; }
int cs_plat_store_is_system(void) { return 1; }
int cs_plat_store_holds_keys(void) { return 1; }
int cs_plat_machine_trust(void) { return 1; }
int cs_plat_service_config_known(void) { return 1; }

/* UTF-16 to UTF-8 into buf; 0 or CS_ETOOBIG / CS_EINVAL. */
static int to_utf8(const wchar_t *w, char *buf, size_t len) {
  int n = WideCharToMultiByte(CP_UTF8, 0, w, -1, buf, (int)len, NULL, NULL);
  if (n <= 0)
    return GetLastError() == ERROR_INSUFFICIENT_BUFFER ? CS_ETOOBIG : CS_EINVAL;
  return CS_OK;
}

/* cs_plat_read_file; meta not NULL: cs_plat_read_file_meta (flags CS_READ_NOFOLLOW). */
static int read_file(const char *path, size_t max, unsigned flags, unsigned char **data, size_t *len, char **meta,
                     cs_err_t *err) {
  HANDLE h = INVALID_HANDLE_VALUE;
  wchar_t *wpath = NULL;
  unsigned char *buf = NULL;
  size_t got = 0;
  BY_HANDLE_FILE_INFORMATION info;
  LARGE_INTEGER size;
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  /* BACKUP_SEMANTICS opens a folder too, so it is refused by type below rather
   * than as "access denied". */
  DWORD fl = FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_SEQUENTIAL_SCAN;
  int rc;

  *data = NULL;
  *len = 0;
  /* cs__win_path: a long path gets \\?\ as the writes do, so that what
   * cs_plat_write_atomic wrote can be read back */
  if ((wpath = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path", path);
    goto out;
  }
  /* Shared for everything: a reader must not stand in the way of the program that owns
   * the file (the connector keeps its settings open for writing) nor of a replacement
   * (ReplaceFile, MoveFileEx need FILE_SHARE_DELETE from every open handle). */
  if (flags & CS_READ_NOFOLLOW) {
    /* every folder on the way and the file itself opened relative to the handle of
     * the folder before it, none followed when it is a link (walk.c) */
    if ((rc = cs__win_walk(wpath, path, 0, NULL, &at, err)) != CS_OK)
      goto out;
    rc = cs__win_open_last(&at, GENERIC_READ | (meta != NULL ? READ_CONTROL : 0),
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN, FILE_SEQUENTIAL_ONLY,
                           NULL, &h, &info, path, err);
    if (rc == CS_ENOENT)
      rc = cs__win_failf(err, ERROR_FILE_NOT_FOUND, "cannot open %s", path);
    if (rc != CS_OK)
      goto out;
  } else {
    h = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    fl, NULL);
    if (h == INVALID_HANDLE_VALUE) {
      rc = cs__win_failf(err, GetLastError(), "cannot open %s", path);
      goto out;
    }
  }
  if (GetFileType(h) != FILE_TYPE_DISK) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (a pipe or a device)", path);
    goto out;
  }
  if (!GetFileInformationByHandle(h, &info)) {
    DWORD e = GetLastError();
    rc = cs_err_set(err, CS_EIO, (long)e, "cannot query %s (Windows error %lu)", path, (unsigned long)e);
    goto out;
  }
  if (info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (a folder)", path);
    goto out;
  }
  if ((flags & CS_READ_NOFOLLOW) && (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s is a symbolic link or reparse point, which is not followed", path);
    goto out;
  }
  /* what is written back must be what this file had: one name, so that the owner and
   * DACL read are not those of a file elsewhere linked in by the folder's writer */
  if (meta != NULL && info.nNumberOfLinks != 1) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "%s has more than one name (a hard link to a file elsewhere); not read", path);
    goto out;
  }
  if (meta != NULL && (rc = cs__win_meta_of(h, info.dwFileAttributes, meta, path, err)) != CS_OK)
    goto out;
  if (!GetFileSizeEx(h, &size) || (unsigned long long)size.QuadPart > (unsigned long long)max) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "%s is %lld bytes, over the limit of %zu", path, (long long)size.QuadPart, max);
    goto out;
  }
  if ((buf = malloc(max + 2)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory reading %s", path);
    goto out;
  }
  for (;;) {
    DWORD n = 0, want = (DWORD)((max + 1 - got) > 0x10000000 ? 0x10000000 : (max + 1 - got));
    if (!ReadFile(h, buf + got, want, &n, NULL)) {
      DWORD e = GetLastError();
      rc = cs_err_set(err, CS_EIO, (long)e, "cannot read %s (Windows error %lu)", path, (unsigned long)e);
      goto out;
    }
    if (n == 0)
      break;
    got += n;
    if (got > max) {
      rc = cs_err_set(err, CS_ETOOBIG, 0, "%s grew over the limit of %zu bytes while read", path, max);
      goto out;
    }
  }
  buf[got] = '\0';
  *data = buf;
  *len = got;
  buf = NULL;
  rc = CS_OK;
out:
  if (rc != CS_OK && meta != NULL) {
    free(*meta);
    *meta = NULL;
  }
  if (buf != NULL)
    cs_plat_free_file(buf, got);
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  cs__win_at_close(&at);
  free(wpath);
  return rc;
}

int cs_plat_read_file(const char *path, size_t max, unsigned flags, unsigned char **data, size_t *len, cs_err_t *err) {
  return read_file(path, max, flags, data, len, NULL, err);
}

/* The account that may write a binding file's folder can put a file of its own at the
 * path between this read and the write back, and a replacement that kept the owner and
 * DACL of what it finds there would hand that account the bytes. So the bytes, the
 * owner, the DACL (with its protected and auto-inherited bits) and the attributes are
 * read through one handle, opened as cs_plat_read_file(CS_READ_NOFOLLOW) does (no
 * reparse point on the way, walk.c) with READ_CONTROL, of a file with one name; *meta
 * is their text (filemeta.c), which cs_plat_write_recorded gives the new file. Under
 * Wine the handle, the refusal of a second name and the text are real, the owner and
 * DACL are made up from the Unix mode: that they are the file's is proven on NTFS. */
int cs_plat_read_file_meta(const char *path, size_t max, unsigned char **data, size_t *len, char **meta,
                           cs_err_t *err) {
  *meta = NULL;
  return read_file(path, max, CS_READ_NOFOLLOW, data, len, meta, err);
}

void cs_plat_wipe(void *p, size_t n) {
  if (p != NULL && n > 0)
    SecureZeroMemory(p, n);
}

int cs_plat_fqdn(char *buf, size_t len, cs_err_t *err) {
  wchar_t name[256];
  DWORD n = 256;
  if (!GetComputerNameExW(ComputerNameDnsFullyQualified, name, &n)) {
    DWORD e = GetLastError();
    return cs_err_set(err, CS_EIO, (long)e, "cannot read the computer's DNS name (Windows error %lu)",
                      (unsigned long)e);
  }
  if (to_utf8(name, buf, len) != CS_OK)
    return cs_err_set(err, CS_ETOOBIG, 0, "host name too long");
  return CS_OK;
}

int cs_plat_default_config_path(char *buf, size_t len) {
  PWSTR dir = NULL;
  char utf8[MAX_PATH * 3];
  int rc = CS_EIO;
  if (SUCCEEDED(SHGetKnownFolderPath(&FOLDERID_ProgramData, 0, NULL, &dir)) && to_utf8(dir, utf8, sizeof utf8) == CS_OK)
    rc = snprintf(buf, len, "%s\\certsteward\\certsteward.ini", utf8) < (int)len ? CS_OK : CS_ETOOBIG;
  CoTaskMemFree(dir);
  return rc;
}

int cs_plat_path_is_absolute(const char *path) {
  if (path == NULL)
    return 0;
  if (path[0] == '\\' || path[0] == '/') /* UNC, \\?\, or rooted on the current drive */
    return 1;
  return ((path[0] >= 'A' && path[0] <= 'Z') || (path[0] >= 'a' && path[0] <= 'z')) && path[1] == ':' &&
         (path[2] == '\\' || path[2] == '/');
}

/* An absolute path (not \\?\) with "." and ".." folded away by name, as
 * GetFullPathNameW does it (a string operation: nothing is opened): the walk refuses
 * "..", and since it follows no link, the folder a ".." leads to is the one named before
 * it. Other paths, and a path that cannot be folded, are returned as they are (the walk
 * then refuses their "..", failing closed). Takes path (may be NULL) and returns it or
 * its replacement. */
static int has_dot_component(const char *p) {
  const char *c = p;
  for (;; p++) {
    if (*p == '\\' || *p == '/' || *p == '\0') {
      size_t n = (size_t)(p - c);
      if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
        return 1;
      if (*p == '\0')
        return 0;
      c = p + 1;
    }
  }
}

static char *fold_dots(char *path) {
  wchar_t *w = NULL, *full = NULL;
  char *folded = NULL;
  DWORD n;
  /* only a path with such a component: GetFullPathNameW rewrites more than dots */
  if (path == NULL || !cs_plat_path_is_absolute(path) || strncmp(path, "\\\\?\\", 4) == 0 || !has_dot_component(path) ||
      (w = cs__win_wide(path)) == NULL)
    goto out;
  if ((n = GetFullPathNameW(w, 0, NULL, NULL)) == 0 || (full = malloc(sizeof(wchar_t) * n)) == NULL ||
      GetFullPathNameW(w, n, full, NULL) >= n || (folded = cs__win_utf8(full)) == NULL)
    goto out;
  free(path);
  path = folded;
out:
  free(w);
  free(full);
  return path;
}

char *cs_plat_path_resolve(const char *relative_to_file, const char *path) {
  const char *sep = NULL, *p;
  size_t dir_len;
  char *out;

  for (p = relative_to_file; p != NULL && *p; p++)
    if (*p == '\\' || *p == '/')
      sep = p;
  if (cs_plat_path_is_absolute(path) || sep == NULL)
    return fold_dots(_strdup(path));
  dir_len = (size_t)(sep - relative_to_file);
  out = malloc(dir_len + 1 + strlen(path) + 1);
  if (out == NULL)
    return NULL;
  memcpy(out, relative_to_file, dir_len);
  out[dir_len] = '\\';
  strcpy(out + dir_len + 1, path);
  return fold_dots(out);
}

void cs_plat_sleep_ms(int ms) { Sleep((DWORD)ms); }

/* GetTickCount64: milliseconds since boot, not adjusted with the system time (it does
 * not wrap, unlike GetTickCount's 49.7 days). */
long long cs_plat_monotonic_ms(void) { return (long long)GetTickCount64(); }

int cs_plat_random(void *buf, size_t n, cs_err_t *err) {
  NTSTATUS st;
  if (n > 0xffffffffu)
    return cs_err_set(err, CS_EINVAL, 0, "too many random bytes asked for");
  st = BCryptGenRandom(NULL, buf, (ULONG)n, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  if (!BCRYPT_SUCCESS(st))
    return cs_err_set(err, CS_EIO, (long)st, "no random bytes from the system (BCryptGenRandom: 0x%08lx)",
                      (unsigned long)st);
  return CS_OK;
}

int cs_plat_localtime(long long t, struct tm *out) {
  __time64_t tt = (__time64_t)t;
  return _localtime64_s(out, &tt) == 0 ? CS_OK : CS_EINVAL;
}

/* cmd.exe: only "..." groups a word; outside it these chain, redirect or escape */
const cs_plat_shell_syntax_t *cs_plat_shell_syntax(void) {
  static const cs_plat_shell_syntax_t cmd = {"\"", "&|<>^\r\n", "", "", '^'};
  return &cmd;
}

/* cmd.exe replaces %VAR% references before it parses the line: ExpandEnvironmentStringsW
 * does the same replacement from the same environment (an undefined name stays as it
 * is; both are limited to 32K characters). It returns the characters needed, the NUL
 * included, or 0 on failure. */
int cs_plat_shell_expand(const char *command, char **out, cs_err_t *err) {
  wchar_t *w = NULL, *x = NULL;
  DWORD n;
  int rc = CS_OK;
  *out = NULL;
  if ((w = cs__win_wide(command != NULL ? command : "")) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "the command line is not valid UTF-8, or out of memory");
    goto out;
  }
  n = ExpandEnvironmentStringsW(w, NULL, 0);
  if (n == 0 || n > 32768) {
    rc = cs_err_set(err, CS_EINVAL, n == 0 ? GetLastError() : 0, "cannot expand the %%VAR%% references of %s", command);
    goto out;
  }
  if ((x = malloc(sizeof *x * n)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if (ExpandEnvironmentStringsW(w, x, n) != n || (*out = cs__win_utf8(x)) == NULL)
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot expand the %%VAR%% references of %s", command);
  /* A % left is one cmd.exe reads its own way ("set /?": %VAR:~n,m%, %VAR:a=b%, the
   * dynamic %CD%, %RANDOM%, %DATE%; or an undefined name): what it makes of it cannot be
   * judged here, so the line is refused */
  else if (wcschr(x, L'%') != NULL) {
    free(*out);
    *out = NULL;
    rc = cs_err_set(err, CS_EINVAL, 0,
                    "%s holds a %% that cmd.exe reads its own way (an undefined variable, %%VAR:~n,m%%, %%CD%%...): "
                    "what it would run cannot be judged; name the files themselves",
                    command);
  }
out:
  free(w);
  free(x);
  return rc;
}
