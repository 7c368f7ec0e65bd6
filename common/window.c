#include "window.h"

#include <string.h>

#include "error.h"

static const char *const day_names[7] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* Day name (3 letters, any case) at *p: its index, advancing *p; -1 if none. */
static int parse_day(const char **p) {
  int d;
  for (d = 0; d < 7; d++) {
    const char *n = day_names[d];
    if (lower((*p)[0]) == n[0] && lower((*p)[1]) == n[1] && lower((*p)[2]) == n[2]) {
      *p += 3;
      return d;
    }
  }
  return -1;
}

/* HH:MM at *p: minutes after midnight, advancing *p; -1 if malformed. 24:00 allowed as an end. */
static int parse_hm(const char **p) {
  const char *s = *p;
  int h, m;
  if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != ':' || s[3] < '0' || s[3] > '9' || s[4] < '0' ||
      s[4] > '9')
    return -1;
  h = (s[0] - '0') * 10 + (s[1] - '0');
  m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 24 || m > 59 || (h == 24 && m != 0))
    return -1;
  *p = s + 5;
  return h * 60 + m;
}

int cs_window_parse(const char *s, cs_window_t *w) {
  cs_window_t r = {0, 0, 0};
  const char *p = s, *probe = s;
  int start, end;

  if (s == NULL)
    return CS_EINVAL;
  if (parse_day(&probe) >= 0) {
    /* days: "Sat", "Sat,Sun", "Mon-Fri" */
    for (;;) {
      int a = parse_day(&p), b;
      if (a < 0)
        return CS_EINVAL;
      b = a;
      if (*p == '-' && (p++, (b = parse_day(&p)) < 0))
        return CS_EINVAL;
      for (;; a = (a + 1) % 7) {
        r.days |= 1u << a;
        if (a == b)
          break;
      }
      if (*p != ',')
        break;
      p++;
    }
    if (*p != ' ')
      return CS_EINVAL;
    while (*p == ' ')
      p++;
  } else {
    r.days = 0x7f;
  }
  if ((start = parse_hm(&p)) < 0 || start == 1440 || *p++ != '-' || (end = parse_hm(&p)) < 0 || *p != '\0' ||
      start == end)
    return CS_EINVAL;
  r.start_min = start;
  r.length_min = end > start ? end - start : end + 1440 - start;
  if (w != NULL)
    *w = r;
  return CS_OK;
}

long long cs_window_wait(const cs_window_t *w, const struct tm *now) {
  long long m = (long long)now->tm_hour * 60 + now->tm_min, best = -1;
  int d;
  /* a window that opened yesterday may still be open; the next one opens within a week */
  for (d = -1; d <= 7; d++) {
    int day = ((now->tm_wday + d) % 7 + 7) % 7;
    long long start = (long long)d * 1440 + w->start_min, end = start + w->length_min;
    if (!(w->days & (1u << day)))
      continue;
    if (m >= start && m < end)
      return 0;
    if (start > m && (best < 0 || start < best))
      best = start;
  }
  return best < 0 ? 0 : (best - m) * 60 - now->tm_sec;
}
