/* The worker's answer (reply.h). The daemon runs this parser on bytes from a
 * process that may have been fed a hostile file, so it trusts nothing: every
 * line is checked (valid UTF-8, no control bytes, within the limits), every known
 * key's value has a fixed shape, and an answer without its "end" line is a crash,
 * not a short answer. One answer describes one file or one endpoint: a second
 * record would otherwise be silently merged with the first. A scan of many files
 * is parsed record by record (cs_reply_parse_many), each record held to the same
 * rule. */
#include "reply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca_command.h"
#include "text.h"

/* Check ids mapped back to the static strings report.h promises. */
static const char *const check_ids[] = {
    CS_CHECK_LOAD,      CS_CHECK_KEY_MATCH,     CS_CHECK_SAN_HOST,  CS_CHECK_CN_HOST,   CS_CHECK_VALIDITY,
    CS_CHECK_CHAIN,     CS_CHECK_NOT_CA,        CS_CHECK_EKU,       CS_CHECK_KEY_USAGE, CS_CHECK_KEY_STRENGTH,
    CS_CHECK_SIGNATURE, CS_CHECK_EXPIRES_LATER, CS_CHECK_NAMES_KEPT};

static const char *const formats[] = {"PKCS#12", "PEM", "DER", "PKCS#7"};

/* Keys that may appear once per answer: bit flags in the parser's "seen" set. */
enum {
  SEEN_FILE = 1 << 0,
  SEEN_FORMAT = 1 << 1,
  SEEN_THUMBPRINT = 1 << 2,
  SEEN_SUBJECT = 1 << 3,
  SEEN_NOT_AFTER = 1 << 4,
  SEEN_EPOCH = 1 << 5,
  SEEN_KEY = 1 << 6,
  SEEN_STAGED = 1 << 7,
  SEEN_SERVED = 1 << 8,
  SEEN_ERROR = 1 << 9,
  SEEN_DNS = 1 << 10,
  SEEN_CA = 1 << 11
};

void cs_reply_put(cs_buf_t *out, const char *key, const char *value) {
  cs_buf_t v = CS_BUF_INIT;
  const char *s;
  size_t n, room, cut = 0, k;
  unsigned long cp;

  cs_text_sanitize(&v, value ? value : "-");
  s = cs_buf_str(&v);
  if (s == NULL) {
    out->oom = 1;
    goto out;
  }
  /* A line must fit the reader's limit: cut an over-long value (a hostile subject)
   * on a character boundary and say so, rather than emit a line the parser refuses. */
  n = strlen(s);
  room = CS_REPLY_LINE_MAX - strlen(key) - 2; /* key, space, newline */
  cs_buf_puts(out, key);
  cs_buf_puts(out, " ");
  if (n <= room) {
    cs_buf_append(out, s, n);
  } else {
    while ((k = cs_utf8_decode((const unsigned char *)s + cut, n - cut, &cp)) > 0 && cut + k <= room - 3)
      cut += k;
    cs_buf_append(out, s, cut);
    cs_buf_puts(out, "...");
  }
  cs_buf_puts(out, "\n");
out:
  cs_buf_free(&v);
}

void cs_reply_free(cs_reply_t *reply) {
  size_t i;
  cs_report_free(&reply->report);
  free(reply->staged);
  free(reply->served_subject);
  free(reply->error);
  free(reply->dns);
  free(reply->ca_cookie);
  free(reply->ca_message);
  for (i = 0; i < reply->n_preflight; i++)
    free(reply->preflight[i].endpoint);
  free(reply->preflight);
  memset(reply, 0, sizeof *reply);
}

/* 1 when the line is valid UTF-8 without control characters (what cs_text_sanitize
 * produces); NUL bytes fall under control characters. */
static int clean_text(const char *s, size_t n) {
  unsigned long cp;
  size_t k;
  while (n > 0) {
    k = cs_utf8_decode((const unsigned char *)s, n, &cp);
    if (k == 0 || cs_text_unsafe_cp(cp))
      return 0;
    s += k;
    n -= k;
  }
  return 1;
}

static int is_thumbprint(const char *s, size_t n) {
  size_t i;
  if (n != 40)
    return 0;
  for (i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'F')))
      return 0;
  return 1;
}

/* YYYY-MM-DDTHH:MM:SSZ: digits where digits belong, separators where they belong. */
static int is_iso_time(const char *s) {
  static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
  size_t i;
  if (strlen(s) != sizeof shape - 1)
    return 0;
  for (i = 0; i < sizeof shape - 1; i++) {
    if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
      return 0;
  }
  return 1;
}

static int parse_epoch(const char *s, long long *v) {
  char *end = NULL;
  const char *d = s[0] == '-' ? s + 1 : s;
  if (d[0] < '0' || d[0] > '9')
    return 0;
  errno = 0;
  *v = strtoll(s, &end, 10);
  return errno == 0 && end != NULL && *end == '\0';
}

static const char *known_check_id(const char *s, size_t n) {
  size_t i;
  for (i = 0; i < sizeof check_ids / sizeof check_ids[0]; i++)
    if (strlen(check_ids[i]) == n && memcmp(check_ids[i], s, n) == 0)
      return check_ids[i];
  return NULL;
}

/* Takes a copy of value into *dst; "-" (the writer's NULL) leaves it NULL. */
static int take_text(char **dst, const char *value, int dash_is_null) {
  if (dash_is_null && strcmp(value, "-") == 0)
    return CS_OK;
  *dst = cs_strdup(value);
  return *dst ? CS_OK : CS_ENOMEM;
}

/* "check <id> <ok|failed>[ <detail>]" */
static int parse_check(cs_reply_t *reply, const char *v, size_t lineno, cs_err_t *err) {
  const char *sp = strchr(v, ' '), *id, *verdict, *detail;
  size_t vlen;
  int ok;
  if (sp == NULL)
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: check without a verdict", lineno);
  id = known_check_id(v, (size_t)(sp - v));
  if (id == NULL)
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: unknown check id", lineno);
  verdict = sp + 1;
  detail = strchr(verdict, ' ');
  vlen = detail ? (size_t)(detail - verdict) : strlen(verdict);
  if (vlen == 2 && memcmp(verdict, "ok", 2) == 0)
    ok = 1;
  else if (vlen == 6 && memcmp(verdict, "failed", 6) == 0)
    ok = 0;
  else
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: check verdict is neither ok nor failed", lineno);
  if (cs_report_add(&reply->report, id, ok != 0, "%s", detail ? detail + 1 : "") != CS_OK)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return CS_OK;
}

/* "served <40 hex>[ <subject>]" */
static int parse_served(cs_reply_t *reply, const char *v, size_t lineno, cs_err_t *err) {
  const char *sp = strchr(v, ' ');
  size_t n = sp ? (size_t)(sp - v) : strlen(v);
  if (!is_thumbprint(v, n))
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: served needs a 40-digit upper-case hex thumbprint", lineno);
  memcpy(reply->served, v, 40);
  reply->served[40] = '\0';
  if (sp != NULL && sp[1] != '\0' && take_text(&reply->served_subject, sp + 1, 1) != CS_OK)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return CS_OK;
}

static const struct {
  const char *key;
  unsigned bit;
} once[] = {{"file", SEEN_FILE},
            {"format", SEEN_FORMAT},
            {"thumbprint", SEEN_THUMBPRINT},
            {"subject", SEEN_SUBJECT},
            {"not_after", SEEN_NOT_AFTER},
            {"not_after_epoch", SEEN_EPOCH},
            {"key", SEEN_KEY},
            {"staged", SEEN_STAGED},
            {"served", SEEN_SERVED},
            {"error", SEEN_ERROR},
            {"dns", SEEN_DNS},
            {"ca", SEEN_CA}};

/* 1 for a key this parser gives a meaning to. */
static int known_key(const char *key) {
  size_t i;
  for (i = 0; i < sizeof once / sizeof once[0]; i++)
    if (strcmp(key, once[i].key) == 0)
      return 1;
  return strcmp(key, "check") == 0 || strcmp(key, "preflight") == 0;
}

/* "preflight <40 hex|-> <endpoint>" */
static int parse_preflight(cs_reply_t *reply, const char *v, size_t lineno, cs_err_t *err) {
  const char *sp = strchr(v, ' ');
  size_t n = sp ? (size_t)(sp - v) : strlen(v);
  cs_reply_probe_t *p;
  if (!(n == 1 && v[0] == '-') && !is_thumbprint(v, n))
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: preflight needs a 40-digit upper-case hex thumbprint or -",
                      lineno);
  if (sp == NULL || sp[1] == '\0')
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: preflight names no endpoint", lineno);
  if (reply->n_preflight == CS_REPLY_PREFLIGHT_MAX)
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: more than %d preflight lines", lineno, CS_REPLY_PREFLIGHT_MAX);
  p = realloc(reply->preflight, (reply->n_preflight + 1) * sizeof *p);
  if (p == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  reply->preflight = p;
  p += reply->n_preflight;
  memset(p, 0, sizeof *p);
  if (n == 40)
    memcpy(p->tp, v, 40);
  if ((p->endpoint = cs_strdup(sp + 1)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  reply->n_preflight++;
  return CS_OK;
}

/* "ca <status> <cookie|-> [<message>]": the status a name cs_ca_status_name gives */
static int parse_ca(cs_reply_t *reply, const char *v, size_t lineno, cs_err_t *err) {
  const char *sp = strchr(v, ' '), *cookie, *end;
  size_t n = sp ? (size_t)(sp - v) : strlen(v);
  int s;
  for (s = -1; s <= CS_CA_UNSUPPORTED; s++)
    if (strlen(cs_ca_status_name(s)) == n && memcmp(cs_ca_status_name(s), v, n) == 0)
      break;
  if (s > CS_CA_UNSUPPORTED || sp == NULL)
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: ca needs a known status and a cookie or -", lineno);
  cookie = sp + 1;
  end = strchr(cookie, ' ');
  n = end ? (size_t)(end - cookie) : strlen(cookie);
  if (n == 0 || n > CS_CA_COOKIE_MAX)
    return cs_err_set(err, CS_EFORMAT, 0, "line %zu: ca's cookie is empty or too long", lineno);
  reply->has_ca = 1;
  reply->ca_status = s;
  if (!(n == 1 && cookie[0] == '-') && (reply->ca_cookie = (char *)cs_memdup(cookie, n + 1)) != NULL)
    reply->ca_cookie[n] = '\0';
  reply->ca_message = cs_strdup(end != NULL ? end + 1 : "");
  if (reply->ca_message == NULL || (!(n == 1 && cookie[0] == '-') && reply->ca_cookie == NULL))
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return CS_OK;
}

/* One "key value" line (value NUL-terminated, "" when the line had no space). */
static int parse_line(cs_reply_t *reply, const char *key, const char *v, size_t lineno, unsigned *seen, cs_err_t *err) {
  size_t i;
  int rc = CS_OK;

  for (i = 0; i < sizeof once / sizeof once[0]; i++) {
    if (strcmp(key, once[i].key) != 0)
      continue;
    if (*seen & once[i].bit)
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: a second %s line (one answer describes one item)", lineno, key);
    *seen |= once[i].bit;
    if (v[0] == '\0')
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: %s without a value", lineno, key);
  }

  if (strcmp(key, "file") == 0) {
    free(reply->report.file);
    reply->report.file = NULL;
    rc = take_text(&reply->report.file, v, 0);
  } else if (strcmp(key, "format") == 0) {
    for (i = 0; i < sizeof formats / sizeof formats[0] && strcmp(v, formats[i]) != 0; i++)
      ;
    if (i == sizeof formats / sizeof formats[0])
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: unknown format", lineno);
    snprintf(reply->format, sizeof reply->format, "%s", formats[i]);
  } else if (strcmp(key, "thumbprint") == 0) {
    if (!is_thumbprint(v, strlen(v)))
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: thumbprint is not 40 upper-case hex digits", lineno);
    memcpy(reply->report.thumbprint, v, 41);
  } else if (strcmp(key, "subject") == 0) {
    rc = take_text(&reply->report.subject, v, 1);
  } else if (strcmp(key, "not_after") == 0) {
    if (!is_iso_time(v))
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: not_after is not YYYY-MM-DDTHH:MM:SSZ", lineno);
    memcpy(reply->report.not_after, v, 21);
  } else if (strcmp(key, "not_after_epoch") == 0) {
    if (!parse_epoch(v, &reply->not_after_epoch))
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: not_after_epoch is not an integer", lineno);
  } else if (strcmp(key, "key") == 0) {
    if (strcmp(v, "yes") != 0 && strcmp(v, "no") != 0)
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: key is neither yes nor no", lineno);
    reply->has_key = strcmp(v, "yes") == 0;
  } else if (strcmp(key, "check") == 0) {
    return parse_check(reply, v, lineno, err);
  } else if (strcmp(key, "staged") == 0) {
    rc = take_text(&reply->staged, v, 0);
  } else if (strcmp(key, "served") == 0) {
    return parse_served(reply, v, lineno, err);
  } else if (strcmp(key, "preflight") == 0) {
    return parse_preflight(reply, v, lineno, err);
  } else if (strcmp(key, "error") == 0) {
    rc = take_text(&reply->error, v, 0);
  } else if (strcmp(key, "dns") == 0) {
    rc = take_text(&reply->dns, v, 0);
  } else if (strcmp(key, "ca") == 0) {
    return parse_ca(reply, v, lineno, err);
  } /* else: a key from a newer worker, ignored */
  return rc == CS_OK ? CS_OK : cs_err_set(err, rc, 0, "out of memory");
}

/* Called for each "key value" line between the first line and "end". */
typedef int (*line_cb)(void *arg, const char *key, const char *value, size_t lineno, cs_err_t *err);

/* What every answer shares: the first line, the end line, the limits, clean text,
 * the shape of a key; each line in between goes to cb. */
static int parse_frame(const char *data, size_t len, line_cb cb, void *arg, cs_err_t *err) {
  char *line = NULL;
  const char *p = data, *end = data + len, *nl, *sp;
  size_t lineno = 0, n, i;
  int rc = CS_OK, done = 0;

  if (len == 0) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "empty answer (the worker wrote nothing)");
    goto out;
  }
  if (len > CS_REPLY_MAX) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "answer over %d bytes", CS_REPLY_MAX);
    goto out;
  }
  line = malloc(CS_REPLY_LINE_MAX + 1);
  if (line == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  while (p < end) {
    lineno++;
    if (done) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "line %zu: data after the end line", lineno);
      goto out;
    }
    nl = memchr(p, '\n', (size_t)(end - p));
    if (nl == NULL) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "line %zu: answer cut short (no end of line)", lineno);
      goto out;
    }
    n = (size_t)(nl - p);
    if (n + 1 > CS_REPLY_LINE_MAX) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "line %zu: longer than %d bytes", lineno, CS_REPLY_LINE_MAX);
      goto out;
    }
    if (n > 0 && p[n - 1] == '\r') /* a Windows pipe in text mode */
      n--;
    if (!clean_text(p, n)) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "line %zu: control characters or invalid UTF-8", lineno);
      goto out;
    }
    memcpy(line, p, n);
    line[n] = '\0';
    p = nl + 1;

    if (lineno == 1) {
      if (strcmp(line, CS_REPLY_MAGIC) != 0) {
        rc = cs_err_set(err, CS_EFORMAT, 0, "line 1: not a \"%s\" answer", CS_REPLY_MAGIC);
        goto out;
      }
      continue;
    }
    if (strcmp(line, "end") == 0) {
      done = 1;
      continue;
    }
    sp = strchr(line, ' ');
    n = sp ? (size_t)(sp - line) : strlen(line);
    for (i = 0; i < n; i++)
      if (!((line[i] >= 'a' && line[i] <= 'z') || (line[i] >= '0' && line[i] <= '9') || line[i] == '_'))
        break;
    if (n == 0 || i < n) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "line %zu: no key", lineno);
      goto out;
    }
    line[n] = '\0';
    rc = cb(arg, line, sp ? sp + 1 : line + n, lineno, err);
    if (rc != CS_OK)
      goto out;
  }
  if (!done)
    rc = cs_err_set(err, CS_EFORMAT, 0, "no end line after line %zu (the worker stopped half-way)", lineno);
out:
  free(line);
  return rc;
}

typedef struct one_s {
  cs_reply_t *reply;
  unsigned seen;
} one_t;

static int one_line(void *arg, const char *key, const char *value, size_t lineno, cs_err_t *err) {
  one_t *one = arg;
  return parse_line(one->reply, key, value, lineno, &one->seen, err);
}

int cs_reply_parse(const char *data, size_t len, cs_reply_t *reply, cs_err_t *err) {
  one_t one;
  memset(reply, 0, sizeof *reply);
  one.reply = reply;
  one.seen = 0;
  return parse_frame(data, len, one_line, &one, err);
}

typedef struct many_s {
  cs_reply_many_t *m;
  size_t max, cap;
  unsigned seen, head_seen; /* of the record being read; of the lines before the first file */
} many_t;

static int many_line(void *arg, const char *key, const char *value, size_t lineno, cs_err_t *err) {
  many_t *k = arg;
  cs_reply_many_t *m = k->m;
  if (strcmp(key, "file") == 0) { /* a new record */
    if (m->n == k->max)
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: more than %zu files (more than were asked)", lineno, k->max);
    if (m->n == k->cap) {
      size_t cap = k->cap ? k->cap * 2 : 16;
      cs_reply_t *v;
      if (cap > k->max)
        cap = k->max;
      if ((v = realloc(m->items, cap * sizeof *v)) == NULL)
        return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      m->items = v;
      k->cap = cap;
    }
    memset(&m->items[m->n++], 0, sizeof *m->items);
    k->seen = 0;
  } else if (m->n == 0) {
    /* before the first file: only what concerns the whole answer */
    if (known_key(key) && strcmp(key, "error") != 0)
      return cs_err_set(err, CS_EFORMAT, 0, "line %zu: %s before the first file line", lineno, key);
    return parse_line(&m->head, key, value, lineno, &k->head_seen, err);
  }
  return parse_line(&m->items[m->n - 1], key, value, lineno, &k->seen, err);
}

int cs_reply_parse_many(const char *data, size_t len, size_t max_items, cs_reply_many_t *m, cs_err_t *err) {
  many_t k;
  memset(m, 0, sizeof *m);
  memset(&k, 0, sizeof k);
  k.m = m;
  k.max = max_items;
  return parse_frame(data, len, many_line, &k, err);
}

void cs_reply_many_free(cs_reply_many_t *m) {
  size_t i;
  cs_reply_free(&m->head);
  for (i = 0; i < m->n; i++)
    cs_reply_free(&m->items[i]);
  free(m->items);
  memset(m, 0, sizeof *m);
}
