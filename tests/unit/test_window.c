/* Maintenance windows: parsing and the wait until the next opening. */
#include <string.h>
#include <time.h>

#include "cs_test.h"
#include "window.h"

/* A local time: wday 0 = Sunday. */
static struct tm at(int wday, int hour, int min) {
  struct tm t;
  memset(&t, 0, sizeof t);
  t.tm_wday = wday;
  t.tm_hour = hour;
  t.tm_min = min;
  return t;
}

static long long wait_for(const char *spec, int wday, int hour, int min) {
  cs_window_t w;
  struct tm t = at(wday, hour, min);
  CHECK_INT(cs_window_parse(spec, &w), ==, 0);
  return cs_window_wait(&w, &t);
}

CS_TEST(parse_forms) {
  cs_window_t w;
  CHECK_INT(cs_window_parse("02:00-04:00", &w), ==, 0);
  CHECK_INT(w.days, ==, 0x7f);
  CHECK_INT(w.start_min, ==, 120);
  CHECK_INT(w.length_min, ==, 120);
  CHECK_INT(cs_window_parse("Sat 02:00-04:00", &w), ==, 0);
  CHECK_INT(w.days, ==, 1 << 6);
  CHECK_INT(cs_window_parse("sat,SUN 22:00-02:00", &w), ==, 0);
  CHECK_INT(w.days, ==, (1 << 6) | 1);
  CHECK_INT(w.length_min, ==, 240);
  CHECK_INT(cs_window_parse("Mon-Fri 01:00-03:00", &w), ==, 0);
  CHECK_INT(w.days, ==, 0x3e);
  CHECK_INT(cs_window_parse("Fri-Mon 01:00-03:00", &w), ==, 0); /* wraps over the week end */
  CHECK_INT(w.days, ==, (1 << 5) | (1 << 6) | 1 | (1 << 1));
  CHECK_INT(cs_window_parse("22:00-24:00", &w), ==, 0);
  CHECK_INT(w.length_min, ==, 120);
}

CS_TEST(parse_errors) {
  static const char *const bad[] = {"",
                                    "2-4",
                                    "02:00",
                                    "02:00-02:00",
                                    "25:00-26:00",
                                    "02:60-03:00",
                                    "Sat02:00-04:00",
                                    "Xyz 02:00-04:00",
                                    "Sat, 02:00-04:00",
                                    "02:00-04:00 ",
                                    "24:00-01:00",
                                    "Sat-",
                                    NULL};
  int i;
  for (i = 0; bad[i] != NULL; i++)
    if (cs_window_parse(bad[i], NULL) == 0)
      cs_test_fail(__FILE__, __LINE__, "\"%s\" was accepted", bad[i]);
}

CS_TEST(open_now_waits_zero) {
  CHECK_INT(wait_for("02:00-04:00", 3, 2, 0), ==, 0);
  CHECK_INT(wait_for("02:00-04:00", 3, 3, 59), ==, 0);
  CHECK_INT(wait_for("Sat 22:00-02:00", 0, 1, 30), ==, 0); /* opened Saturday, still open Sunday */
}

CS_TEST(waits_until_next_opening) {
  CHECK_INT(wait_for("02:00-04:00", 3, 4, 0), ==, 22 * 3600); /* closed at 04:00: tomorrow */
  CHECK_INT(wait_for("02:00-04:00", 3, 1, 0), ==, 3600);
  CHECK_INT(wait_for("Sat 02:00-04:00", 1, 2, 0), ==, 5 * 86400); /* Monday -> Saturday */
  CHECK_INT(wait_for("Sat 02:00-04:00", 6, 5, 0), ==, 7 * 86400 - 3 * 3600);
  CHECK_INT(wait_for("Sat 22:00-02:00", 0, 2, 0), ==, 6 * 86400 + 20 * 3600); /* Sunday 02:00 -> Saturday 22:00 */
}
