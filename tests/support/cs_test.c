#include "cs_test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <direct.h>
#include <io.h>
#include <process.h>
#include <windows.h>
#include <aclapi.h>
#include <sddl.h>
#else
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#define CS_TEST_MAX 256

static struct {
  const char *name;
  cs_test_fn fn;
} tests[CS_TEST_MAX];
static int n_tests;
static int failures;

void cs_test_register(const char *name, cs_test_fn fn) {
  if (n_tests == CS_TEST_MAX) {
    fprintf(stderr, "too many tests in one executable\n");
    abort();
  }
  tests[n_tests].name = name;
  tests[n_tests].fn = fn;
  n_tests++;
}

void cs_test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s:%d: FAILED: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  failures++;
}

int cs_test_failed(void) { return failures; }

const char *cs_test_path(const char *name) {
  static char bufs[16][4096];
  static int next;
  char *b = bufs[next++ % 16];
  const char *dir = getenv("CS_TEST_DIR");
  snprintf(b, sizeof bufs[0], "%s/%s", dir ? dir : ".", name);
  return b;
}

#define TMP_MAX_PATHS 64
#define TMP_PATH_LEN 4200

static char tmp_dir[1024];
static char tmp_paths[TMP_MAX_PATHS][TMP_PATH_LEN];
static int n_tmp_paths;

void cs_test_tmp_open(const char *prefix) {
  cs_test_mkdtemp(prefix, tmp_dir, sizeof tmp_dir);
  n_tmp_paths = 0;
}

const char *cs_test_tmp_dir(void) { return tmp_dir; }

const char *cs_test_tmp_path(const char *name) {
  int i;
  if (n_tmp_paths == TMP_MAX_PATHS) {
    fprintf(stderr, "too many temporary paths\n");
    exit(1);
  }
  if (snprintf(tmp_paths[n_tmp_paths], TMP_PATH_LEN, "%s/%s", tmp_dir, name) >= TMP_PATH_LEN) {
    fprintf(stderr, "test path too long: %s/%s\n", tmp_dir, name);
    exit(1);
  }
  for (i = 0; i < n_tmp_paths; i++)
    if (strcmp(tmp_paths[i], tmp_paths[n_tmp_paths]) == 0)
      return tmp_paths[i];
  return tmp_paths[n_tmp_paths++];
}

void cs_test_tmp_close(void) {
  int i;
  for (i = n_tmp_paths - 1; i >= 0; i--)
    if (remove(tmp_paths[i]) != 0)
      (void)cs_test_rmdir(tmp_paths[i]);
  n_tmp_paths = 0;
  CHECK_INT(cs_test_rmdir(tmp_dir), ==, 0);
}

int cs_test_mkdir(const char *path) {
#ifdef _WIN32
  return _mkdir(path);
#else
  return mkdir(path, 0700);
#endif
}

int cs_test_rmdir(const char *path) {
#ifdef _WIN32
  return _rmdir(path);
#else
  return rmdir(path);
#endif
}

void cs_test_open_to_all(const char *path, int folder) {
#ifdef _WIN32
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  wchar_t w[1200];
  CHECK(MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1200) > 0);
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;OICI;FA;;;WD)", SDDL_REVISION_1, &sd, NULL));
  CHECK(GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted));
  CHECK_INT((int)SetNamedSecurityInfoW(w, SE_FILE_OBJECT,
                                       DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL, NULL,
                                       dacl, NULL),
            ==, 0);
  LocalFree(sd);
#else
  CHECK_INT(chmod(path, folder ? 0777 : 0666), ==, 0);
#endif
  (void)folder;
}

void cs_test_setenv(const char *name, const char *value) {
#ifdef _WIN32
  _putenv_s(name, value != NULL ? value : "");
#else
  if (value != NULL)
    setenv(name, value, 1);
  else
    unsetenv(name);
#endif
}

char *cs_test_read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long n;
  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
      (buf = malloc((size_t)n + 1)) != NULL)
    buf[fread(buf, 1, (size_t)n, f)] = '\0';
  fclose(f);
  return buf;
}

int cs_test_stderr_to(FILE *f) {
  int saved;
  fflush(stderr);
#ifdef _WIN32
  if ((saved = _dup(_fileno(stderr))) >= 0 && _dup2(_fileno(f), _fileno(stderr)) != 0) {
    _close(saved);
    saved = -1;
  }
#else
  if ((saved = dup(fileno(stderr))) >= 0 && dup2(fileno(f), fileno(stderr)) < 0) {
    close(saved);
    saved = -1;
  }
#endif
  return saved;
}

void cs_test_stderr_back(int saved) {
  fflush(stderr);
  if (saved < 0)
    return;
#ifdef _WIN32
  _dup2(saved, _fileno(stderr));
  _close(saved);
#else
  dup2(saved, fileno(stderr));
  close(saved);
#endif
}

const char *cs_test_join(const char *dir, const char *name) {
  static char bufs[4][4096];
  static int next;
  char *b = bufs[next++ % 4];
  if (snprintf(b, sizeof bufs[0], "%s/%s", dir, name) >= (int)sizeof bufs[0]) {
    fprintf(stderr, "test path too long: %s/%s\n", dir, name);
    exit(1);
  }
  return b;
}

void cs_test_mkdtemp(const char *prefix, char *dir, size_t len) {
#ifdef _WIN32
  char base[MAX_PATH + 1];
  int i;
  dir[0] = '\0';
  for (i = 0; i < 100 && GetTempPathA(sizeof base, base) > 0; i++) {
    snprintf(dir, len, "%s%s-%d-%d", base, prefix, _getpid(), i);
    if (_mkdir(dir) == 0)
      return;
    dir[0] = '\0';
  }
#else
  const char *t = getenv("TMPDIR");
  snprintf(dir, len, "%s/%s-XXXXXX", t != NULL && t[0] != '\0' ? t : "/tmp", prefix);
  if (mkdtemp(dir) != NULL)
    return;
#endif
  fprintf(stderr, "cannot make a temporary folder\n");
  exit(1);
}

int main(int argc, char **argv) {
  int ran = 0, i;
  for (i = 0; i < n_tests; i++) {
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
      continue;
    tests[i].fn();
    ran++;
  }
  if (ran == 0) {
    fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");
    return 2;
  }
  return failures == 0 ? 0 : 1;
}

int cs_test_count_entries(const char *dir) {
  int n = 0;
#ifdef _WIN32
  char pattern[4200];
  WIN32_FIND_DATAA fd;
  HANDLE h;
  snprintf(pattern, sizeof pattern, "%s\\*", dir);
  if ((h = FindFirstFileA(pattern, &fd)) == INVALID_HANDLE_VALUE)
    return -1;
  do
    n += strcmp(fd.cFileName, ".") != 0 && strcmp(fd.cFileName, "..") != 0;
  while (FindNextFileA(h, &fd));
  FindClose(h);
#else
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
#endif
  return n;
}

void cs_test_put(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  if (f == NULL) {
    cs_test_fail(__FILE__, __LINE__, "cannot write %s", path);
    return;
  }
  if (fwrite(data, 1, len, f) != len)
    cs_test_fail(__FILE__, __LINE__, "cannot write %s", path);
  if (fclose(f) != 0)
    cs_test_fail(__FILE__, __LINE__, "cannot close %s", path);
}

void cs_test_put_str(const char *path, const char *text) { cs_test_put(path, text, strlen(text)); }

void cs_test_file_is(const char *path, const void *want, size_t len) {
  FILE *f = fopen(path, "rb");
  char *got = malloc(len + 2);
  size_t n = 0;
  if (f == NULL || got == NULL) {
    cs_test_fail(__FILE__, __LINE__, "cannot read %s", path);
  } else {
    n = fread(got, 1, len + 1, f); /* one more: a longer file differs */
    got[n] = '\0';
    if (n != len || memcmp(got, want, len) != 0)
      cs_test_fail(__FILE__, __LINE__, "%s differs (%zu bytes, wanted %zu):\n%s\nwanted:\n%.*s", path, n, len, got,
                   (int)len, (const char *)want);
  }
  if (f != NULL)
    fclose(f);
  free(got);
}

void cs_test_file_is_str(const char *path, const char *want) { cs_test_file_is(path, want, strlen(want)); }

#ifdef _WIN32
int cs_test_service_create(const char *name, const char *command, const char *depends_on, const char *start_name) {
  wchar_t wname[96], wcmd[2048], deps[100], wstart[200];
  SC_HANDLE scm, svc = NULL;
  memset(deps, 0, sizeof deps); /* a list of names, each ended by a NUL, and one more */
  MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 96);
  MultiByteToWideChar(CP_UTF8, 0, command, -1, wcmd, 2048);
  if (depends_on != NULL)
    MultiByteToWideChar(CP_UTF8, 0, depends_on, -1, deps, 98);
  if (start_name != NULL)
    MultiByteToWideChar(CP_UTF8, 0, start_name, -1, wstart, 200);
  scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CREATE_SERVICE | SC_MANAGER_CONNECT);
  CHECK(scm != NULL);
  if (scm != NULL)
    svc = CreateServiceW(scm, wname, wname, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS, SERVICE_DEMAND_START,
                         SERVICE_ERROR_NORMAL, wcmd, NULL, NULL, depends_on != NULL ? deps : NULL,
                         start_name != NULL ? wstart : NULL, start_name != NULL ? L"" : NULL);
  if (svc == NULL)
    fprintf(stderr, "CreateService %s: Windows error %lu\n", name, (unsigned long)GetLastError());
  CHECK(svc != NULL);
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
  return svc != NULL;
}

void cs_test_service_delete(const char *name) {
  wchar_t wname[96];
  SC_HANDLE scm, svc = NULL;
  MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 96);
  scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
  if (scm != NULL)
    svc = OpenServiceW(scm, wname, DELETE);
  CHECK(svc != NULL && DeleteService(svc));
  if (svc != NULL)
    CloseServiceHandle(svc);
  if (scm != NULL)
    CloseServiceHandle(scm);
}
#endif
