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
  static const char *bad[] = {"a\tb",
                              "a\nb",
                              "a\rb",
                              "a\x7f"
                              "b",
                              "a\x01",
                              "a\"b",
                              "a ;b",
                              "a\t;b"};
  size_t i;
  cs_install_set_t s;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(set(bad[i], &s), ==, -1);
    CHECK(s.value == NULL); /* left as it was */
  }
}
