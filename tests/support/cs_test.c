#include "cs_test.h"

#include <stdarg.h>
#include <stdlib.h>

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
  static char buf[4096];
  const char *dir = getenv("CS_TEST_DIR");
  snprintf(buf, sizeof buf, "%s/%s", dir ? dir : ".", name);
  return buf;
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
