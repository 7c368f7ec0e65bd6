/* Maintenance windows: "02:00-04:00" (every day), "Sat 02:00-04:00",
 * "Sat,Sun 22:00-02:00" (crossing midnight: the day is the day it opens),
 * "Mon-Fri 01:00-03:00". Local time of the machine. Pure functions. */
#ifndef CS_WINDOW_H
#define CS_WINDOW_H

#include <time.h>

typedef struct cs_window_s {
  unsigned days;  /* bit 0 = Sunday .. bit 6 = Saturday, the day the window opens */
  int start_min;  /* minutes after midnight */
  int length_min; /* 1 .. 1440 */
} cs_window_t;

/* 0 when s is a window (w may be NULL to validate only), else CS_EINVAL. */
int cs_window_parse(const char *s, cs_window_t *w);

/* Seconds from local time now until the window is open: 0 when it is open now. */
long long cs_window_wait(const cs_window_t *w, const struct tm *now);

#endif
