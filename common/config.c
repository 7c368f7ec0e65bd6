/* certsteward's configuration. One table (cs__keys) drives the defaults, the parsing
 * and the dump: a new key is one row there plus one field in cs_config_t.
 * inih parses; our own line reader feeds it, so that we know each key's line number,
 * refuse over-long lines instead of letting them be split, and behave the same with
 * Debian's inih (run-time options) and upstream's (compile-time options).
 * This file: the table, the parsing, each value stored into its field (cs__set, lists
 * included), the defaults, load, free, dump and host; numbers read and written, the
 * checks of values and a field written back are in config_values.c. */
#include "config_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "platform.h"
#include "text.h"

#ifndef CS_INI_MAX_LINE
#error "the build must define CS_INI_MAX_LINE (longest configuration line, in bytes)"
#endif

#define CS__FILE_MAX (4 * CS__MIB) /* a configuration file is small text */

#define CS__OFF(field) offsetof(cs_config_t, field)

#define CS__BOARD "BOARD Connector Service"

static const cs__key_t cs__keys[] = {
    {"connector", "host", CS__STR, CS__OFF(connector.host), "", "", 0, 0, NULL},
    {"connector", "service", CS__STR, CS__OFF(connector.service), "", CS__BOARD, 0, 0, NULL},
    /* Windows: empty = taken from the connector's service (connector.c), so that the
     * account, the binding file and the endpoints follow the connector as installed */
    {"connector", "account", CS__STR, CS__OFF(connector.account), "", "", 0, 0, NULL},
    {"connector", "thumbprint", CS__STR, CS__OFF(connector.thumbprint), "", "", 0, 0, NULL},
    {"connector", "endpoints", CS__LIST, CS__OFF(connector.endpoints), "", "", 0, 0, cs__check_endpoint},
    {"connector", "binding_files", CS__PATHLIST, CS__OFF(connector.binding_files), "", "", 0, 0, NULL},
    {"connector", "restart_command", CS__STR, CS__OFF(connector.restart_command), "", "", 0, 0, NULL},
    {"connector", "status_command", CS__STR, CS__OFF(connector.status_command), "", "", 0, 0, NULL},
    {"connector", "restart_timeout", CS__INT, CS__OFF(connector.restart_timeout), "120", "120", 1, 3600, NULL},
    {"connector", "maintenance_window", CS__STR, CS__OFF(connector.maintenance_window), "", "", 0, 0, cs__check_window},
    {"store", "state_dir", CS__PATH, CS__OFF(store.state_dir), "/var/lib/certsteward", "C:\\ProgramData\\certsteward",
     0, 0, NULL},
    {"store", "cert_file", CS__PATH, CS__OFF(store.cert_file), "", "", 0, 0, NULL},
    {"store", "key_file", CS__PATH, CS__OFF(store.key_file), "", "", 0, 0, NULL},
    {"store", "chain_file", CS__PATH, CS__OFF(store.chain_file), "", "", 0, 0, NULL},
    {"store", "bundle_file", CS__PATH, CS__OFF(store.bundle_file), "", "", 0, 0, NULL},
    {"store", "old_certificates", CS__STR, CS__OFF(store.old_certificates), "keep", "keep", 0, 0, cs__check_old},
    {"store", "key_provider", CS__STR, CS__OFF(store.key_provider), "default", "default", 0, 0, cs__check_provider},
    {"store", "monitor", CS__PATH, CS__OFF(store.monitor), "", "", 0, 0, NULL},
    {"store", "adopt", CS__BOOL, CS__OFF(store.adopt), "yes", "yes", 0, 0, NULL},
    {"store", "adopt_from", CS__PATH, CS__OFF(store.adopt_from), "", "", 0, 0, cs__check_adopt_from},
    {"watch", "folder", CS__PATH, CS__OFF(watch.folder), "/var/lib/certsteward/drop",
     "C:\\ProgramData\\certsteward\\drop", 0, 0, NULL},
    {"watch", "password_file", CS__PATH, CS__OFF(watch.password_file), "", "", 0, 0, NULL},
    {"watch", "max_file_size", CS__SIZE, CS__OFF(watch.max_file_size), "1M", "1M", 1024, 64 * 1024 * 1024, NULL},
    {"watch", "settle_seconds", CS__INT, CS__OFF(watch.settle_seconds), "2", "2", 0, 3600, NULL},
    {"watch", "rescan_interval", CS__INT, CS__OFF(watch.rescan_interval), "300", "300", 1, 86400, NULL},
    {"watch", "keep_processed", CS__BOOL, CS__OFF(watch.keep_processed), "no", "no", 0, 0, NULL},
    {"watch", "quarantine_days", CS__INT, CS__OFF(watch.quarantine_days), "30", "30", 0, 3650, NULL},
    {"expiry", "check_interval", CS__INT, CS__OFF(expiry.check_interval), "21600", "21600", 60, 604800, NULL},
    {"expiry", "warn_days", CS__LIST, CS__OFF(expiry.warn_days), "30, 14, 7, 3, 1", "30, 14, 7, 3, 1", 0, 0,
     cs__check_days},
    {"policy", "ca_file", CS__PATH, CS__OFF(policy.ca_file), "", "", 0, 0, NULL},
    {"policy", "min_valid_days", CS__INT, CS__OFF(policy.min_valid_days), "7", "7", 0, 3650, NULL},
    {"policy", "min_rsa_bits", CS__INT, CS__OFF(policy.min_rsa_bits), "2048", "2048", 1024, 16384, NULL},
    {"policy", "allow_sha1", CS__BOOL, CS__OFF(policy.allow_sha1), "no", "no", 0, 0, NULL},
    {"policy", "require_cn", CS__BOOL, CS__OFF(policy.require_cn), "yes", "yes", 0, 0, NULL},
    /* [request]: off until renew_days is set (0 = empty = never) */
    {"request", "renew_days", CS__INT, CS__OFF(request.renew_days), "", "", 1, 365, NULL},
    {"request", "key", CS__STR, CS__OFF(request.key), "rsa2048", "rsa2048", 0, 0, cs__check_keykind},
    {"request", "route", CS__STR, CS__OFF(request.route), "", "", 0, 0, cs__check_route},
    {"request", "submit_command", CS__STR, CS__OFF(request.submit_command), "", "", 0, 0, NULL},
    {"request", "ca_config", CS__STR, CS__OFF(request.ca_config), "", "", 0, 0, cs__check_ca_config},
    {"request", "template", CS__STR, CS__OFF(request.template_name), "", "", 0, 0, cs__check_template},
    {"request", "give_up_days", CS__INT, CS__OFF(request.give_up_days), "30", "30", 1, 3650, NULL},
    {"log", "events_file", CS__PATH, CS__OFF(log.events_file), "", "", 0, 0, NULL},
    {"log", "events_max_size", CS__SIZE, CS__OFF(log.events_max_size), "10M", "10M", 64 * 1024, 1024 * 1024 * 1024,
     NULL},
    {"log", "metrics_file", CS__PATH, CS__OFF(log.metrics_file), "", "", 0, 0, NULL},
};
#define CS__NKEYS (sizeof cs__keys / sizeof cs__keys[0])

static const char *const cs__true_words[] = {"yes", "true", "on", "1"};
static const char *const cs__false_words[] = {"no", "false", "off", "0"};

/* State of one cs_config_load: the reader and the handler share it. */
typedef struct {
  cs_config_t *cfg;
  const unsigned char *data; /* the whole file (read with cs_plat_read_file: UTF-8 paths on Windows too) */
  size_t len, pos;
  const char *path;
  int line;            /* lines handed to inih so far = line of the key being handled */
  int err_line;        /* line of the first error found; 0 = none yet */
  int seen[CS__NKEYS]; /* line that set each key; 0 = not set yet */
  int pend_line;       /* an unknown [section] that has had no key yet */
  char pend_name[CS__CLEAN_MAX];
  cs_err_t e; /* the first error, copied to the caller's err */
} cs__parse_t;

static int cs__section_known(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < CS__NKEYS; i++)
    if (cs__ieqn(s, n, cs__keys[i].section))
      return 1;
  return 0;
}

static int cs__first_of_section(size_t i) {
  size_t j;
  for (j = 0; j < i; j++)
    if (strcmp(cs__keys[j].section, cs__keys[i].section) == 0)
      return 0;
  return 1;
}

/* Row i is listed: the keys of section, or (section NULL) the sections. */
static int cs__listed(size_t i, const char *section) {
  return section != NULL ? cs__ieq(section, cs__keys[i].section) : cs__first_of_section(i);
}

/* "[a], [b] or [c]" (section NULL) or the keys of section as "x, y or z". */
static void cs__list(char *out, size_t n, const char *section) {
  size_t i, len = 0, count = 0, total = 0;
  for (i = 0; i < CS__NKEYS; i++)
    total += (size_t)cs__listed(i, section);
  out[0] = '\0';
  for (i = 0; i < CS__NKEYS && len < n; i++) {
    if (!cs__listed(i, section))
      continue;
    count++;
    len += (size_t)snprintf(out + len, n - len, section != NULL ? "%s%s" : "%s[%s]",
                            count == 1       ? ""
                            : count == total ? " or "
                                             : ", ",
                            section != NULL ? cs__keys[i].key : cs__keys[i].section);
  }
}

static void cs__fail(cs__parse_t *p, int line, int code, const char *fmt, ...) CS_PRINTF(4, 5);
/* Records "FILE:LINE: text" unless an error on an earlier line is already known. */
static void cs__fail(cs__parse_t *p, int line, int code, const char *fmt, ...) {
  va_list ap;
  int n;

  if (p->err_line != 0 && p->err_line <= line)
    return;
  p->err_line = line;
  p->e.code = code;
  p->e.raw = 0;
  n = snprintf(p->e.text, sizeof p->e.text, "%s:%d: ", p->path, line);
  if (n < 0 || (size_t)n >= sizeof p->e.text)
    return;
  va_start(ap, fmt);
  vsnprintf(p->e.text + n, sizeof p->e.text - (size_t)n, fmt, ap);
  va_end(ap);
}

static void cs__list_free(cs_strlist_t *l) {
  size_t i;
  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = NULL;
  l->n = 0;
}

/* A comma-separated list: elements trimmed, empty ones refused, paths resolved. */
static int cs__set_list(void *field, const cs__key_t *k, const char *v, const char *file, char *why, size_t n) {
  cs_strlist_t l = {NULL, 0};
  const char *p = v, *end, *a, *b;
  char *elem = NULL;
  int rc = 0;

  while (v[0] != '\0') {
    end = strchr(p, ',');
    if (end == NULL)
      end = p + strlen(p);
    for (a = p; a < end && (*a == ' ' || *a == '\t'); a++)
      ;
    for (b = end; b > a && (b[-1] == ' ' || b[-1] == '\t'); b--)
      ;
    if (a == b) {
      snprintf(why, n, "empty element in the list (expected values separated by commas)");
      rc = CS_ECONFIG;
      goto out;
    }
    if ((elem = malloc((size_t)(b - a) + 1)) == NULL) {
      rc = CS_ENOMEM;
      goto out;
    }
    memcpy(elem, a, (size_t)(b - a));
    elem[b - a] = '\0';
    if (k->check != NULL && (rc = k->check(elem, why, n)) != 0)
      goto out;
    if (k->type == CS__PATHLIST) {
      char *r = cs_plat_path_resolve(file, elem);
      free(elem);
      if ((elem = r) == NULL) {
        rc = CS_ENOMEM;
        goto out;
      }
    }
    {
      char **nv = realloc(l.v, sizeof *nv * (l.n + 1));
      if (nv == NULL) {
        rc = CS_ENOMEM;
        goto out;
      }
      l.v = nv;
      l.v[l.n++] = elem;
      elem = NULL;
    }
    if (*end == '\0')
      break;
    p = end + 1;
  }
  cs__list_free(field);
  *(cs_strlist_t *)field = l;
  l.v = NULL;
  l.n = 0;
out:
  free(elem);
  cs__list_free(&l);
  return rc;
}

/* Stores value v (as written in the file) into k's field of cfg. Relative paths are
 * taken relative to the folder of file (NULL: kept as they are). On a bad value
 * returns CS_ECONFIG with "what is wrong (expected ...)" in why. */
static int cs__set(cs_config_t *cfg, const cs__key_t *k, const char *v, const char *file, char *why, size_t n) {
  void *field = (char *)cfg + k->offset;
  char q[CS__CLEAN_MAX], lo[32], hi[32];
  long long i;
  size_t w;

  cs__clean(q, v);
  switch (k->type) {
  case CS__STR:
  case CS__PATH: {
    char *s = NULL;
    if (v[0] != '\0' && k->check != NULL && k->check(v, why, n) != 0)
      return CS_ECONFIG;
    if (v[0] != '\0' && (s = k->type == CS__PATH ? cs_plat_path_resolve(file, v) : cs_strdup(v)) == NULL)
      return CS_ENOMEM;
    free(*(char **)field);
    *(char **)field = s;
    return 0;
  }
  case CS__LIST:
  case CS__PATHLIST:
    return cs__set_list(field, k, v, file, why, n);
  case CS__BOOL:
    for (w = 0; w < sizeof cs__true_words / sizeof cs__true_words[0]; w++) {
      if (cs__ieq(v, cs__true_words[w]) || cs__ieq(v, cs__false_words[w])) {
        *(bool *)field = cs__ieq(v, cs__true_words[w]);
        return 0;
      }
    }
    snprintf(why, n, "\"%s\" is not a boolean (expected yes/no, true/false, on/off or 1/0)", q);
    return CS_ECONFIG;
  case CS__INT:
  case CS__SIZE:
    if (v[0] == '\0' && k->type == CS__INT && k->def_posix[0] == '\0') {
      *(int *)field = 0; /* a number with no default: empty = not set */
      return 0;
    }
    cs__fmt_num(lo, sizeof lo, k->type, k->min);
    cs__fmt_num(hi, sizeof hi, k->type, k->max);
    if (!cs__parse_num(v, k->type, &i)) {
      snprintf(why, n, "\"%s\" is not %s (expected %s%s to %s)", q, k->type == CS__INT ? "a whole number" : "a size",
               k->type == CS__INT ? "" : "bytes, or a number with K or M, from ", lo, hi);
      return CS_ECONFIG;
    }
    if (i < k->min || i > k->max) {
      snprintf(why, n, "%s is out of range (expected %s to %s)", q, lo, hi);
      return CS_ECONFIG;
    }
    if (k->type == CS__INT)
      *(int *)field = (int)i;
    else
      *(uint64_t *)field = (uint64_t)i;
    return 0;
  }
  return CS_EINVAL;
}

/* An unknown [section] header followed by no key is reported once the next header
 * or the end of the file shows it stayed empty. */
static void cs__check_pending(cs__parse_t *p) {
  char list[256];
  if (p->pend_line == 0)
    return;
  cs__list(list, sizeof list, NULL);
  cs__fail(p, p->pend_line, CS_ECONFIG, "[%s]: unknown section (expected %s)", p->pend_name, list);
  p->pend_line = 0;
}

/* fgets for inih: one whole line per call, its line ending reduced to "\n", leading
 * blanks dropped (so no inih build takes an indented key for a continuation line).
 * A line that does not fit in inih's buffer (or over CS_INI_MAX_LINE) ends the parse
 * with an error instead of being split. */
static char *cs__reader(char *str, int num, void *stream) {
  cs__parse_t *p = stream;
  size_t limit, raw = 0, k = 0;
  int c, last = 0, lead = 1, nul = 0;

  if (p->err_line != 0 || num < 3)
    return NULL;
  limit = (size_t)num - 3; /* room for "\r\n" and the NUL, as inih counts */
  if (limit > CS_INI_MAX_LINE)
    limit = CS_INI_MAX_LINE;
  while ((c = p->pos < p->len ? p->data[p->pos++] : EOF) != EOF && c != '\n') {
    raw++;
    last = c;
    if (lead && (c == ' ' || c == '\t'))
      continue;
    lead = 0;
    nul |= c == '\0';
    if (k <= limit)
      str[k++] = (char)c;
  }
  if (c == EOF && raw == 0) {
    cs__check_pending(p);
    return NULL;
  }
  p->line++;
  if (last == '\r') {
    raw--;
    k--;
  }
  if (raw > limit)
    cs__fail(p, p->line, CS_ECONFIG, "line %d is longer than %zu bytes%s", p->line, limit,
             limit < CS_INI_MAX_LINE ? " (inih was built with a smaller line buffer)" : "");
  else if (nul)
    cs__fail(p, p->line, CS_ECONFIG, "line %d holds a NUL byte (expected text in UTF-8)", p->line);
  if (p->err_line != 0)
    return NULL;
  str[k++] = '\n';
  str[k] = '\0';
  if (str[0] == '[') {
    char *end = strchr(str, ']');
    cs__check_pending(p);
    if (end != NULL && !cs__section_known(str + 1, (size_t)(end - str - 1))) {
      *end = '\0';
      cs__clean(p->pend_name, str + 1);
      *end = ']';
      p->pend_line = p->line;
    }
  }
  return p->err_line != 0 ? NULL : str;
}

static int cs__handler(void *user, const char *section, const char *name, const char *value) {
  cs__parse_t *p = user;
  char sec[CS__CLEAN_MAX], key[CS__CLEAN_MAX], list[256], why[CS_ERR_TEXT_MAX];
  size_t i;
  int rc;

  if (p->err_line != 0)
    return 0;
  cs__clean(sec, section);
  cs__clean(key, name);
  if (value == NULL) {
    cs__fail(p, p->line, CS_ECONFIG, "[%s] %s: no value (expected key = value)", sec, key);
    return 0;
  }
  if (section[0] == '\0') {
    cs__fail(p, p->line, CS_ECONFIG, "%s: outside any section (expected a [section] line above it)", key);
    return 0;
  }
  if (!cs__section_known(section, strlen(section))) {
    cs__list(list, sizeof list, NULL);
    cs__fail(p, p->line, CS_ECONFIG, "[%s] %s: unknown section (expected %s)", sec, key, list);
    return 0;
  }
  for (i = 0; i < CS__NKEYS; i++)
    if (cs__ieq(section, cs__keys[i].section) && cs__ieq(name, cs__keys[i].key))
      break;
  if (i == CS__NKEYS) {
    cs__list(list, sizeof list, section);
    cs__fail(p, p->line, CS_ECONFIG, "[%s] %s: unknown key (expected %s)", sec, key, list);
    return 0;
  }
  if (p->seen[i] != 0) {
    cs__fail(p, p->line, CS_ECONFIG, "[%s] %s: set a second time (expected once; first set on line %d)",
             cs__keys[i].section, cs__keys[i].key, p->seen[i]);
    return 0;
  }
  p->seen[i] = p->line;
  rc = cs__set(p->cfg, &cs__keys[i], value, p->path, why, sizeof why);
  if (rc == CS_ENOMEM)
    snprintf(why, sizeof why, "out of memory");
  if (rc != 0) {
    cs__fail(p, p->line, rc, "[%s] %s: %s", cs__keys[i].section, cs__keys[i].key, why);
    return 0;
  }
  return 1;
}

/* Skips a UTF-8 byte order mark; refuses UTF-16 (Notepad's "Unicode"). */
static int cs__skip_bom(cs__parse_t *p) {
  const unsigned char *b = p->data;
  size_t n = p->len;

  if (n >= 2 && ((b[0] == 0xFF && b[1] == 0xFE) || (b[0] == 0xFE && b[1] == 0xFF))) {
    cs__fail(p, 1, CS_ECONFIG, "the file is UTF-16 text (expected UTF-8 or ASCII: save it as UTF-8)");
    return CS_ECONFIG;
  }
  if (n >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
    p->pos = 3;
  return 0;
}

int cs_config_defaults(cs_config_t *cfg) {
  char why[CS_ERR_TEXT_MAX];
  size_t i;
  int rc = 0;

  memset(cfg, 0, sizeof *cfg);
  for (i = 0; i < CS__NKEYS; i++) {
    const cs__key_t *k = &cs__keys[i];
    rc = cs__set(cfg, k, cs_plat_is_windows() ? k->def_windows : k->def_posix, NULL, why, sizeof why);
    if (rc != 0)
      goto out;
  }
out:
  if (rc != 0)
    cs_config_free(cfg);
  return rc;
}

int cs_config_load_mem(cs_config_t *cfg, const char *path, const unsigned char *data, size_t len, cs_err_t *err) {
  cs__parse_t p;
  int rc, irc;

  memset(&p, 0, sizeof p);
  p.cfg = cfg;
  p.path = path;
  p.data = data;
  p.len = len;
  cs_err_clear(err);
  if (path == NULL) {
    memset(cfg, 0, sizeof *cfg);
    return cs_err_set(err, CS_EINVAL, 0, "no configuration file given");
  }
  rc = cs_config_defaults(cfg);
  if (rc != 0) {
    cs_err_set(&p.e, rc, 0, "cannot set the built-in configuration defaults: %s", cs_strerror(rc));
    goto out;
  }
  if ((cfg->path = cs_strdup(path)) == NULL) {
    rc = cs_err_set(&p.e, CS_ENOMEM, 0, "out of memory loading %s", path);
    goto out;
  }
  if ((rc = cs__skip_bom(&p)) != 0)
    goto out;
#if defined(CS_INIH_RUNTIME_OPTIONS) && CS_INIH_RUNTIME_OPTIONS
  /* Debian's inih: a heap line buffer of exactly our size. With ini_use_stack = 0
   * the buffer is ini_initial_alloc bytes, so that one is set too. */
  ini_use_stack = 0;
  ini_allow_realloc = 0;
  ini_max_line = CS_INI_MAX_LINE + 3;
  ini_initial_alloc = CS_INI_MAX_LINE + 3;
#endif
  irc = ini_parse_stream(cs__reader, &p, cs__handler, &p);
  if (irc == -2) {
    rc = cs_err_set(&p.e, CS_ENOMEM, 0, "out of memory parsing %s", path);
  } else {
    if (irc > 0)
      cs__fail(&p, irc, CS_ECONFIG,
               "syntax error (expected [section], key = value, or a comment starting with ; or #)");
    rc = p.err_line != 0 ? p.e.code : 0;
  }
out:
  if (rc != 0) {
    cs_config_free(cfg);
    if (err != NULL)
      *err = p.e;
  }
  return rc;
}

int cs_config_load(cs_config_t *cfg, const char *path, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t why;
  int rc;

  memset(cfg, 0, sizeof *cfg);
  if (path == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "no configuration file given");
  if ((rc = cs_plat_read_file(path, CS__FILE_MAX, 0, &data, &len, &why)) != 0)
    return cs_err_set(err, rc, why.raw, "cannot read the configuration file: %s", why.text);
  rc = cs_config_load_mem(cfg, path, data, len, err);
  cs_plat_free_file(data, len);
  return rc;
}

void cs_config_free(cs_config_t *cfg) {
  size_t i;
  if (cfg == NULL)
    return;
  for (i = 0; i < CS__NKEYS; i++) {
    void *field = (char *)cfg + cs__keys[i].offset;
    if (cs__keys[i].type == CS__STR || cs__keys[i].type == CS__PATH)
      free(*(char **)field);
    else if (cs__keys[i].type == CS__LIST || cs__keys[i].type == CS__PATHLIST)
      cs__list_free(field);
  }
  free(cfg->path);
  memset(cfg, 0, sizeof *cfg);
}

int cs_config_dump(const cs_config_t *cfg, FILE *out) {
  cs_buf_t v = CS_BUF_INIT;
  size_t i, j;

  for (i = 0; i < CS__NKEYS; i++) {
    if (!cs__first_of_section(i))
      continue;
    fprintf(out, "%s[%s]\n", i == 0 ? "" : "\n", cs__keys[i].section);
    for (j = i; j < CS__NKEYS; j++) {
      if (strcmp(cs__keys[j].section, cs__keys[i].section) != 0)
        continue;
      v.len = 0;
      cs_buf_puts(&v, "");
      cs__value(cfg, &cs__keys[j], &v);
      if (cs_buf_str(&v) == NULL) {
        cs_buf_free(&v);
        return CS_ENOMEM;
      }
      fprintf(out, v.len ? "%s = %s\n" : "%s =%s\n", cs__keys[j].key, cs_buf_str(&v));
    }
  }
  cs_buf_free(&v);
  return fflush(out) != 0 || ferror(out) ? CS_EIO : 0;
}

int cs_config_host(const cs_config_t *cfg, const char *override, char *buf, size_t len, cs_err_t *err) {
  cs_err_t why;
  int rc;
  if (override != NULL && override[0] != '\0')
    return snprintf(buf, len, "%s", override) < (int)len ? 0 : cs_err_set(err, CS_ETOOBIG, 0, "host name too long");
  if (cfg->connector.host != NULL)
    return snprintf(buf, len, "%s", cfg->connector.host) < (int)len
               ? 0
               : cs_err_set(err, CS_ETOOBIG, 0, "host name too long");
  if ((rc = cs_plat_fqdn(buf, len, &why)) != 0)
    return cs_err_set(err, rc, why.raw, "no --host or [connector] host, and %s", why.text);
  return 0;
}
