#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(cs_buf_t *b, size_t extra) {
  size_t need, cap;
  char *p;
  if (b->oom)
    return 0;
  need = b->len + extra + 1;
  if (need <= b->cap)
    return 1;
  cap = b->cap ? b->cap : 64;
  while (cap < need)
    cap *= 2;
  p = realloc(b->p, cap);
  if (p == NULL) {
    b->oom = 1;
    return 0;
  }
  b->p = p;
  b->cap = cap;
  return 1;
}

void cs_buf_append(cs_buf_t *b, const char *s, size_t n) {
  if (!reserve(b, n))
    return;
  memcpy(b->p + b->len, s, n);
  b->len += n;
  b->p[b->len] = '\0';
}

void cs_buf_puts(cs_buf_t *b, const char *s) { cs_buf_append(b, s, strlen(s)); }

void cs_buf_printf(cs_buf_t *b, const char *fmt, ...) {
  va_list ap;
  int n;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !reserve(b, (size_t)n))
    return;
  va_start(ap, fmt);
  vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
}

const char *cs_buf_str(const cs_buf_t *b) {
  if (b->oom)
    return NULL;
  return b->p ? b->p : "";
}

void cs_buf_free(cs_buf_t *b) {
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}

void cs_text_line(cs_buf_t *b, int width, const char *label, ...) {
  const char *piece;
  va_list ap;
  cs_buf_printf(b, "%-*s", width, label);
  va_start(ap, label);
  while ((piece = va_arg(ap, const char *)) != NULL)
    cs_text_sanitize(b, piece);
  va_end(ap);
  cs_buf_puts(b, "\n");
}

/* Without gmtime (not thread-safe; gmtime_r / gmtime_s differ by platform):
 * H. Hinnant's civil_from_days, exact over the proleptic Gregorian calendar. */
char *cs_time_utc(long long t, char *buf, size_t len) {
  long long days = t / 86400, secs = t % 86400, z, era, y;
  unsigned doe, yoe, doy, mp, d, m;
  if (secs < 0) {
    secs += 86400;
    days--;
  }
  z = days + 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  doe = (unsigned)(z - era * 146097);
  yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = (long long)yoe + era * 400;
  doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2)
    y++;
  snprintf(buf, len, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", y, m, d, secs / 3600, secs / 60 % 60, secs % 60);
  return buf;
}

char *cs_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d != NULL)
    memcpy(d, s, n);
  return d;
}

size_t cs_utf8_decode(const unsigned char *s, size_t n, unsigned long *cp) {
  unsigned long c;
  size_t len, i;
  if (n == 0)
    return 0;
  if (s[0] < 0x80) {
    *cp = s[0];
    return 1;
  }
  if (s[0] >= 0xC2 && s[0] <= 0xDF) {
    len = 2;
    c = s[0] & 0x1Fu;
  } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
    len = 3;
    c = s[0] & 0x0Fu;
  } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
    len = 4;
    c = s[0] & 0x07u;
  } else {
    return 0;
  }
  if (n < len)
    return 0;
  for (i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3Fu);
  }
  /* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
  if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  *cp = c;
  return len;
}

int cs_text_unsafe_cp(unsigned long cp) {
  return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029;
}

void cs_json_str(cs_buf_t *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n, k;
  unsigned long cp;
  if (s == NULL) {
    cs_buf_puts(b, "null");
    return;
  }
  n = strlen(s);
  cs_buf_puts(b, "\"");
  while (n > 0) {
    k = cs_utf8_decode(p, n, &cp);
    if (k == 0) {
      cs_buf_puts(b, "\\ufffd");
      k = 1;
    } else if (cp == '"') {
      cs_buf_puts(b, "\\\"");
    } else if (cp == '\\') {
      cs_buf_puts(b, "\\\\");
    } else if (cp == '\n') {
      cs_buf_puts(b, "\\n");
    } else if (cp == '\r') {
      cs_buf_puts(b, "\\r");
    } else if (cp == '\t') {
      cs_buf_puts(b, "\\t");
    } else if (cs_text_unsafe_cp(cp)) { /* escaped so that the line stays one line */
      cs_buf_printf(b, "\\u%04lx", cp);
    } else {
      cs_buf_append(b, (const char *)p, k);
    }
    p += k;
    n -= k;
  }
  cs_buf_puts(b, "\"");
}

void cs_text_sanitize(cs_buf_t *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n, k, i;
  unsigned long cp;
  if (s == NULL)
    return;
  n = strlen(s);
  while (n > 0) {
    k = cs_utf8_decode(p, n, &cp);
    if (k == 0) {
      cs_buf_printf(b, "\\x%02X", p[0]);
      k = 1;
    } else if (cs_text_unsafe_cp(cp)) {
      for (i = 0; i < k; i++)
        cs_buf_printf(b, "\\x%02X", p[i]);
    } else {
      cs_buf_append(b, (const char *)p, k);
    }
    p += k;
    n -= k;
  }
}

unsigned char *cs_memdup(const void *p, size_t n) {
  unsigned char *c = malloc(n + 1);
  if (c == NULL)
    return NULL;
  if (n > 0)
    memcpy(c, p, n);
  c[n] = '\0';
  return c;
}

unsigned long long cs_text_fnv1a(unsigned long long h, const void *p, size_t n) {
  const unsigned char *b = p;
  size_t i;
  for (i = 0; i < n; i++)
    h = (h ^ b[i]) * 0x100000001b3ULL;
  return h;
}
