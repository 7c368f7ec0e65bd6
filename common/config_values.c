/* certsteward's configuration: the values of the keys (config_int.h). Numbers and
 * sizes read and written as in the file (cs__parse_num, cs__fmt_num), the checks of
 * the values that have a form of their own (endpoints, the maintenance window,
 * old_certificates, key_provider, warn_days), a field written back for the dump
 * (cs__value), and the comparison and quoting of file-supplied words. */
#include "config_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adcs.h"
#include "platform.h"
#include "text.h"
#include "window.h"

static int cs__lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* s[0..n) equals word, ASCII case-insensitively (Windows INI habits). */
int cs__ieqn(const char *s, size_t n, const char *word) {
  size_t i;
  for (i = 0; i < n; i++)
    if (word[i] == '\0' || cs__lower((unsigned char)s[i]) != cs__lower((unsigned char)word[i]))
      return 0;
  return word[n] == '\0';
}

int cs__ieq(const char *s, const char *word) { return cs__ieqn(s, strlen(s), word); }

/* A file-supplied string, shortened and made printable for an error message. */
void cs__clean(char out[CS__CLEAN_MAX], const char *s) {
  char head[41];
  cs_buf_t b = CS_BUF_INIT;
  size_t len = strlen(s);

  memcpy(head, s, len < 40 ? len + 1 : 40);
  head[40] = '\0';
  cs_text_sanitize(&b, head);
  if (len > 40)
    cs_buf_puts(&b, "...");
  snprintf(out, CS__CLEAN_MAX, "%s", cs_buf_str(&b) ? cs_buf_str(&b) : "?");
  cs_buf_free(&b);
}

/* An integer as written in the file: sizes with a K or M suffix when exact. */
void cs__fmt_num(char *buf, size_t n, cs__type_t type, long long v) {
  if (type == CS__SIZE && v > 0 && v % (long long)CS__MIB == 0)
    snprintf(buf, n, "%lldM", v / (long long)CS__MIB);
  else if (type == CS__SIZE && v > 0 && v % (long long)CS__KIB == 0)
    snprintf(buf, n, "%lldK", v / (long long)CS__KIB);
  else
    snprintf(buf, n, "%lld", v);
}

/* CS__INT: optional sign and decimal digits. CS__SIZE: decimal bytes with an optional
 * binary suffix (K or KiB, M or MiB). Numbers too large for *out give LLONG_MIN/MAX,
 * which any range refuses. */
int cs__parse_num(const char *s, cs__type_t type, long long *out) {
  unsigned long long v = 0, mult = 1;
  const char *p = s;
  char *end;

  if (type == CS__INT) {
    if (s[0] == '\0' || strchr("+-0123456789", s[0]) == NULL)
      return 0;
    *out = strtoll(s, &end, 10);
    return end != s && *end == '\0';
  }
  if (*p < '0' || *p > '9')
    return 0;
  for (; *p >= '0' && *p <= '9'; p++)
    v = v > LLONG_MAX / 10 ? LLONG_MAX : v * 10 + (unsigned)(*p - '0');
  while (*p == ' ' || *p == '\t')
    p++;
  if (cs__ieq(p, "K") || cs__ieq(p, "KiB"))
    mult = CS__KIB;
  else if (cs__ieq(p, "M") || cs__ieq(p, "MiB"))
    mult = CS__MIB;
  else if (*p != '\0')
    return 0;
  *out = v > LLONG_MAX / mult ? LLONG_MAX : (long long)(v * mult);
  return 1;
}

/* host:port or [v6]:port, port 1..65535. */
int cs__check_endpoint(const char *v, char *why, size_t n) {
  const char *colon = strrchr(v, ':');
  char *end;
  long port;
  if (colon == NULL || colon == v || (v[0] == '[' && colon[-1] != ']')) {
    snprintf(why, n, "endpoint \"%.100s\" is not host:port (expected e.g. 127.0.0.1:8197 or [::1]:443)", v);
    return CS_ECONFIG;
  }
  port = strtol(colon + 1, &end, 10);
  if (end == colon + 1 || *end != '\0' || port < 1 || port > 65535) {
    snprintf(why, n, "endpoint \"%.100s\" has no valid port (expected 1 to 65535)", v);
    return CS_ECONFIG;
  }
  return 0;
}

int cs__check_window(const char *v, char *why, size_t n) {
  if (cs_window_parse(v, NULL) != 0) {
    snprintf(why, n,
             "\"%.100s\" is not a maintenance window (expected HH:MM-HH:MM, optionally after days, "
             "e.g. 02:00-04:00 or Sat,Sun 02:00-04:00)",
             v);
    return CS_ECONFIG;
  }
  return 0;
}

int cs__check_adopt_from(const char *v, char *why, size_t n) {
  (void)v;
  if (!cs_plat_store_is_system())
    return 0;
  snprintf(why, n,
           "is for a system whose certificates are files: here certsteward watches the certificate store "
           "itself ([store] adopt)");
  return CS_ECONFIG;
}

int cs__check_old(const char *v, char *why, size_t n) {
  if (cs__ieq(v, "keep") || cs__ieq(v, "delete"))
    return 0;
  snprintf(why, n, "\"%.100s\" is not keep or delete", v);
  return CS_ECONFIG;
}

int cs__check_provider(const char *v, char *why, size_t n) {
  if (cs__ieq(v, "default") || cs__ieq(v, "cng") || cs__ieq(v, "capi"))
    return 0;
  snprintf(why, n, "\"%.100s\" is not default, cng or capi", v);
  return CS_ECONFIG;
}

int cs__check_keykind(const char *v, char *why, size_t n) {
  if (cs__ieq(v, "rsa2048") || cs__ieq(v, "rsa3072") || cs__ieq(v, "ec-p256"))
    return 0;
  snprintf(why, n, "\"%.100s\" is not rsa2048, rsa3072 or ec-p256", v);
  return CS_ECONFIG;
}

int cs__check_route(const char *v, char *why, size_t n) {
  if (cs__ieq(v, "command"))
    return 0;
  if (cs__ieq(v, "adcs")) {
    if (cs_plat_store_is_system())
      return 0;
    snprintf(why, n, "adcs is Windows' own (ICertRequest): elsewhere use command with a CA helper");
    return CS_ECONFIG;
  }
  snprintf(why, n, "\"%.100s\" is not command or adcs (or empty: the request waits in the outbox)", v);
  return CS_ECONFIG;
}

/* AD CS's configuration string, as the adcs route hands it to the CA (adcs.c) */
int cs__check_ca_config(const char *v, char *why, size_t n) { return cs_adcs_config_check(v, why, n); }

/* An AD CS template's name is its common name: letters, digits, spaces and a few signs */
int cs__check_template(const char *v, char *why, size_t n) {
  size_t i, len = strlen(v);
  for (i = 0; i < len; i++) {
    unsigned char c = (unsigned char)v[i];
    if (c < 0x20 || c == 0x7f || c == ':' || c == '"' || c == '\\' || c == '%') {
      snprintf(why, n, "holds a character a template's name cannot (expected its name, e.g. WebServer)");
      return CS_ECONFIG;
    }
  }
  if (len > 64) {
    snprintf(why, n, "is longer than a template's name can be (64)");
    return CS_ECONFIG;
  }
  return 0;
}

int cs__check_days(const char *v, char *why, size_t n) {
  char *end;
  long d = strtol(v, &end, 10);
  if (end == v || *end != '\0' || d < 0 || d > 3650) {
    snprintf(why, n, "\"%.100s\" is not a number of days (expected 0 to 3650)", v);
    return CS_ECONFIG;
  }
  return 0;
}

/* The value of k in cfg as it would be written in the file ("" = empty). */
/* Appends k's value in cfg as written in a file. */
void cs__value(const cs_config_t *cfg, const cs__key_t *k, cs_buf_t *out) {
  const void *field = (const char *)cfg + k->offset;
  const cs_strlist_t *l = field;
  char buf[32];
  size_t i;

  switch (k->type) {
  case CS__STR:
  case CS__PATH:
    if (*(char *const *)field != NULL)
      cs_buf_puts(out, *(char *const *)field);
    return;
  case CS__LIST:
  case CS__PATHLIST:
    for (i = 0; i < l->n; i++)
      cs_buf_printf(out, "%s%s", i ? ", " : "", l->v[i]);
    return;
  case CS__BOOL:
    cs_buf_puts(out, *(const bool *)field ? "yes" : "no");
    return;
  case CS__INT:
    if (*(const int *)field == 0 && k->def_posix[0] == '\0')
      return; /* not set */
    cs__fmt_num(buf, sizeof buf, k->type, *(const int *)field);
    cs_buf_puts(out, buf);
    return;
  case CS__SIZE:
    cs__fmt_num(buf, sizeof buf, k->type, (long long)*(const uint64_t *)field);
    cs_buf_puts(out, buf);
    return;
  }
}
