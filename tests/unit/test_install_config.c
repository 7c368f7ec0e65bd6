/* The one check of a configuration value certsteward install writes (service/
 * install_config.c: cs_install_set_value), for --set values and the values remembered
 * for a repair alike. */
#include "cs_test.h"

#include "install_config.h"

static int set(const char *v, cs_install_set_t *s) {
  memset(s, 0, sizeof *s);
  return cs_install_set_value(s, v, "the host remembered from the installation");
}

CS_TEST(set_value_takes_plain_text_trimmed) {
  cs_install_set_t s;
  CHECK_INT(set("  board.example.test ", &s), ==, 0);
  CHECK_INT((int)s.value_len, ==, 18);
  CHECK(strncmp(s.value, "board.example.test", s.value_len) == 0);
  CHECK_INT(set("C:\\BOARD Connector\\tls.json;x", &s), ==, 0); /* ";" without a blank before it */
  CHECK_INT(set("", &s), ==, 0);
  CHECK_INT((int)s.value_len, ==, 0);
}

CS_TEST(set_value_refuses_what_is_not_one_line_of_text) {
  static const char *bad[] = {"a\tb",  "a\nb", "a\rb", "a\177b", /* DEL (octal: a hex escape would take the b) */
                              "a\x01", "a\"b", "a ;b", "a\t;b"};
  size_t i;
  cs_install_set_t s;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(set(bad[i], &s), ==, -1);
    CHECK(s.value == NULL); /* left as it was */
  }
}

/* What a repair given HOST=... says (the MSI passes "--ignored HOST=[HOST]" on a
 * maintenance run): the property and its value, not used, and why; nothing for an empty
 * value; a control character shown, never written as it is; a long value cut. */
CS_TEST(ignored_values_are_said_with_why) {
  char out[2048], longv[600];
  CHECK_INT(cs_install_ignored_text("HOST=other.example.test", out, sizeof out), ==, 1);
  CHECK(strstr(out, "certsteward install: warning: HOST=other.example.test was given to a repair") == out);
  CHECK(strstr(out, "is not used: a repair keeps the values of the configuration") != NULL);
  CHECK(strstr(out, "used only to write the configuration again when it was deleted") != NULL);
  CHECK_INT(cs_install_ignored_text("HOST=", out, sizeof out), ==, 0);
  CHECK_INT(cs_install_ignored_text("HOST", out, sizeof out), ==, 0);
  CHECK_INT(cs_install_ignored_text("ENDPOINTS=a\x01"
                                    "b",
                                    out, sizeof out),
            ==, 1);
  CHECK(strstr(out, "ENDPOINTS=a\\x01b was given") != NULL);
  CHECK_INT(cs_install_ignored_text("x y=z", out, sizeof out), ==, 1);
  CHECK(strstr(out, "warning: a value=z was given") != NULL);
  memset(longv, 'a', sizeof longv - 1);
  longv[sizeof longv - 1] = '\0';
  memcpy(longv, "HOST=", 5);
  CHECK_INT(cs_install_ignored_text(longv, out, sizeof out), ==, 1);
  CHECK(strstr(out, "aaa... was given") != NULL);
}

/* --ignored is taken out of the arguments and never becomes a --set. */
CS_TEST(take_sets_drops_ignored_values) {
  char a[10][32] = {
      "certsteward", "install", "--ignored", "HOST=other.example.test", "--set", "host=a.example.test", "--ignored",
      "ENDPOINTS=",  "--run",   "t1"};
  char *argv[11];
  char *rest[11];
  int n_rest = 0;
  cs_install_set_t sets[CS_INSTALL_MAX_SETS];
  size_t n_sets = 0;
  int i;
  for (i = 0; i < 10; i++)
    argv[i] = a[i];
  argv[10] = NULL;
  CHECK_INT(cs_install_take_sets(10, argv, rest, &n_rest, sets, &n_sets), ==, 0);
  CHECK_INT((int)n_sets, ==, 1);
  CHECK(strcmp(sets[0].key, "host") == 0 && sets[0].value_len == 14);
  CHECK_INT(n_rest, ==, 4);
  CHECK(strcmp(rest[2], "--run") == 0 && strcmp(rest[3], "t1") == 0 && rest[4] == NULL);
}
