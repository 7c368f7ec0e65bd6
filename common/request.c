#include "request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "statedir.h"
#include "text.h"

#define MAGIC "certsteward-request 1"
#define RECORD_MAX (64u << 10)
#define PATH_LEN 4096

int cs_request_dir(const char *state_dir, char *out, size_t len, cs_err_t *err) {
  if (cs_plat_path_join(out, len, state_dir, CS_STATE_REQUEST) != CS_OK)
    return cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is too long");
  return CS_OK;
}

int cs_request_file(const char *state_dir, const char *name, const char *suffix, char *out, size_t len, cs_err_t *err) {
  char dir[PATH_LEN], file[CS_REQUEST_NAME_MAX + 16];
  int rc = cs_request_dir(state_dir, dir, sizeof dir, err);
  snprintf(file, sizeof file, "%.64s%s", name, suffix);
  if (rc == CS_OK && cs_plat_path_join(out, len, dir, file) != CS_OK)
    rc = cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is too long");
  return rc;
}

static int in_dir(const char *state_dir, const char *file, char *out, size_t len, cs_err_t *err) {
  return cs_request_file(state_dir, file, "", out, len, err);
}

/* A value that may hold anything (a helper's cookie): printable ASCII but '%' as it is,
 * every other byte as %XX, so that it stays on its line and comes back whole. */
static void put_encoded(cs_buf_t *b, const char *key, const char *v) {
  const unsigned char *p;
  if (v == NULL)
    return;
  cs_buf_printf(b, "%s ", key);
  for (p = (const unsigned char *)v; *p; p++) {
    if (*p > 0x20 && *p < 0x7f && *p != '%')
      cs_buf_append(b, (const char *)p, 1);
    else
      cs_buf_printf(b, "%%%02X", *p);
  }
  cs_buf_puts(b, "\n");
}

static int hexval(int c) {
  return c >= '0' && c <= '9'   ? c - '0'
         : c >= 'A' && c <= 'F' ? c - 'A' + 10
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                : -1;
}

/* put_encoded's value back; NULL when it is not one (a NUL or a broken escape) */
static char *decoded(const char *v) {
  size_t n = strlen(v), i, o = 0;
  char *out = malloc(n + 1);
  for (i = 0; out != NULL && i < n; i++) {
    if (v[i] != '%') {
      out[o++] = v[i];
      continue;
    }
    if (i + 2 >= n || hexval(v[i + 1]) < 0 || hexval(v[i + 2]) < 0 ||
        (hexval(v[i + 1]) == 0 && hexval(v[i + 2]) == 0)) {
      free(out);
      return NULL;
    }
    out[o++] = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
    i += 2;
  }
  if (out != NULL)
    out[o] = '\0';
  return out;
}

int cs_request_write(const char *state_dir, const cs_request_t *r, cs_err_t *err) {
  char dir[PATH_LEN], path[PATH_LEN];
  cs_buf_t b = CS_BUF_INIT;
  int rc;

  if ((rc = cs_request_dir(state_dir, dir, sizeof dir, err)) != CS_OK ||
      (rc = in_dir(state_dir, CS_REQUEST_RECORD, path, sizeof path, err)) != CS_OK)
    return rc;
  if (!cs_plat_exists(dir) && (rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)
    return rc;
  cs_buf_puts(&b, MAGIC "\n");
  put_encoded(&b, "state", r->state);
  put_encoded(&b, "name", r->name);
  put_encoded(&b, "route", r->route);
  put_encoded(&b, "key", r->key_kind);
  put_encoded(&b, "old", r->old_tp);
  if (r->new_tp[0] != '\0')
    put_encoded(&b, "new", r->new_tp);
  cs_buf_printf(&b, "made %lld\nsubmitted %lld\nnext %lld\ndeadline %lld\ntries %d\n", r->made, r->submitted, r->next,
                r->deadline, r->tries);
  put_encoded(&b, "cookie", r->cookie);
  put_encoded(&b, "ca_id", r->ca_id);
  put_encoded(&b, "said", r->said);
  cs_buf_puts(&b, "end\n");
  rc = cs_buf_str(&b) == NULL ? cs_err_set(err, CS_ENOMEM, 0, "out of memory")
                              : cs_plat_write_atomic(path, b.p, b.len, 0600, err);
  cs_buf_free(&b);
  return rc;
}

/* A number of seconds or a count: digits only, an optional minus sign */
static int number(const char *v, long long *out) {
  char *end;
  long long n;
  if (v[0] == '\0' || strlen(v) > 19 || !((v[0] >= '0' && v[0] <= '9') || v[0] == '-'))
    return 0; /* strtoll would take a space or a plus sign before the digits */
  n = strtoll(v, &end, 10);
  if (*end != '\0')
    return 0;
  *out = n;
  return 1;
}

/* Copies a decoded value into a fixed field: fits, and only the name's characters
 * where it is a name */
static int fixed(char *dst, size_t len, const char *v, int name) {
  size_t i, n = strlen(v);
  if (n >= len)
    return 0;
  for (i = 0; name && i < n; i++)
    if (!((v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '.' ||
          v[i] == '_' || v[i] == '-'))
      return 0;
  memcpy(dst, v, n + 1);
  return 1;
}

static int set_line(cs_request_t *r, const char *key, const char *raw) {
  long long n = 0;
  char *v = decoded(raw);
  int ok = v != NULL;
  if (!ok)
    return 0;
  if (strcmp(key, "state") == 0)
    ok = fixed(r->state, sizeof r->state, v, 1);
  else if (strcmp(key, "name") == 0)
    ok = fixed(r->name, sizeof r->name, v, 1) && v[0] != '.';
  else if (strcmp(key, "route") == 0)
    ok = fixed(r->route, sizeof r->route, v, 1);
  else if (strcmp(key, "key") == 0)
    ok = fixed(r->key_kind, sizeof r->key_kind, v, 1);
  else if (strcmp(key, "old") == 0)
    ok = fixed(r->old_tp, sizeof r->old_tp, v, 1);
  else if (strcmp(key, "new") == 0)
    ok = fixed(r->new_tp, sizeof r->new_tp, v, 1);
  else if (strcmp(key, "cookie") == 0) {
    free(r->cookie);
    r->cookie = v; /* kept: the record owns it */
    return 1;
  } else if (strcmp(key, "ca_id") == 0) {
    free(r->ca_id);
    r->ca_id = v;
    return 1;
  } else if (strcmp(key, "said") == 0) {
    free(r->said);
    r->said = v;
    return 1;
  } else if (number(v, &n)) {
    if (strcmp(key, "made") == 0)
      r->made = n;
    else if (strcmp(key, "submitted") == 0)
      r->submitted = n;
    else if (strcmp(key, "next") == 0)
      r->next = n;
    else if (strcmp(key, "deadline") == 0)
      r->deadline = n;
    else if (strcmp(key, "tries") == 0)
      r->tries = n >= 0 && n < 1000000 ? (int)n : 1000000;
  } else {
    ok = strcmp(key, "made") != 0 && strcmp(key, "submitted") != 0 && strcmp(key, "next") != 0 &&
         strcmp(key, "deadline") != 0 && strcmp(key, "tries") != 0; /* a key of a later version: ignored */
  }
  free(v);
  return ok;
}

int cs_request_parse(const char *text, size_t len, const char *path, cs_request_t *r, cs_err_t *err) {
  char *data, *line, *next, *v;
  int ended = 0, n = 0, ok = 1, magic = 0;

  memset(r, 0, sizeof *r);
  if (len > RECORD_MAX)
    return cs_err_set(err, CS_EFORMAT, 0, "the request record %s is too large to be one", path);
  if ((data = malloc(len + 1)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  memcpy(data, text, len);
  data[len] = '\0';
  for (line = data; ok && line != NULL && *line && !ended; line = next, n++) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (n == 0) {
      magic = strcmp(line, MAGIC) == 0 ? 1 : strncmp(line, "certsteward-request ", 20) == 0 ? 2 : 0;
      if (magic != 1)
        break;
      continue;
    }
    if (strcmp(line, "end") == 0) {
      ended = 1;
      continue;
    }
    if ((v = strchr(line, ' ')) == NULL)
      continue;
    *v++ = '\0';
    ok = set_line(r, line, v);
  }
  free(data);
  if (magic == 2) {
    cs_request_free(r);
    return cs_err_set(err, CS_EFORMAT, 0,
                      "the request record %s was written by another version of certsteward: finish that request "
                      "with the version that made it, or remove the record to make a new one",
                      path);
  }
  if (magic != 1 || !ok || !ended || r->name[0] == '\0' || r->state[0] == '\0' || r->route[0] == '\0') {
    cs_request_free(r);
    return cs_err_set(err, CS_EFORMAT, 0, "the request record %s is damaged (%s)", path,
                      magic != 1 ? "not a request record"
                      : !ok      ? "a value is not valid"
                      : !ended   ? "it was cut short"
                                 : "its name, state or route is missing");
  }
  return CS_OK;
}

int cs_request_read(const char *state_dir, cs_request_t *r, cs_err_t *err) {
  char path[PATH_LEN];
  unsigned char *data = NULL;
  size_t len = 0;
  int rc;

  memset(r, 0, sizeof *r);
  if ((rc = in_dir(state_dir, CS_REQUEST_RECORD, path, sizeof path, err)) != CS_OK)
    return rc;
  if ((rc = cs_plat_read_file(path, RECORD_MAX + 1, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
    return rc;
  rc = cs_request_parse((const char *)data, len, path, r, err);
  cs_plat_free_file(data, len);
  return rc;
}

int cs_request_remove(const char *state_dir, cs_err_t *err) {
  char path[PATH_LEN];
  int rc = in_dir(state_dir, CS_REQUEST_RECORD, path, sizeof path, err);
  if (rc == CS_OK && cs_plat_exists(path))
    rc = cs_plat_remove(path, err);
  return rc;
}

void cs_request_free(cs_request_t *r) {
  free(r->cookie);
  free(r->ca_id);
  free(r->said);
  r->cookie = r->ca_id = r->said = NULL;
}

int cs_request_due(long long not_after, long long now, int renew_days) {
  return renew_days > 0 && now >= not_after - (long long)renew_days * 86400;
}

long long cs_request_backoff(int tries, long ca_delay) {
  long long s = 60;
  if (ca_delay >= 0)
    return ca_delay < 30 ? 30 : ca_delay > 86400 ? 86400 : ca_delay;
  while (tries-- > 0 && s < 6 * 3600)
    s *= 2;
  return s > 6 * 3600 ? 6 * 3600 : s;
}

int cs_request_name(long long now, char out[CS_REQUEST_NAME_MAX + 1], cs_err_t *err) {
  unsigned char rnd[4];
  char t[40];
  size_t i, o = 3;
  int rc = cs_plat_random(rnd, sizeof rnd, err);
  out[0] = '\0';
  if (rc != CS_OK)
    return rc;
  cs_time_utc(now, t, sizeof t);
  memcpy(out, "cs-", 3);
  for (i = 0; t[i] != '\0' && o < CS_REQUEST_NAME_MAX - 9; i++)
    if (t[i] != '-' && t[i] != ':')
      out[o++] = t[i];
  snprintf(out + o, CS_REQUEST_NAME_MAX + 1 - o, "-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
  return CS_OK;
}

int cs_request_ended_write(const char *state_dir, long long when, cs_err_t *err) {
  char dir[PATH_LEN], path[PATH_LEN], text[32];
  int rc;
  if ((rc = cs_request_dir(state_dir, dir, sizeof dir, err)) != CS_OK ||
      (rc = in_dir(state_dir, CS_REQUEST_ENDED, path, sizeof path, err)) != CS_OK)
    return rc;
  if (!cs_plat_exists(dir) && (rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)
    return rc;
  snprintf(text, sizeof text, "%lld\n", when);
  return cs_plat_write_atomic(path, text, strlen(text), 0600, err);
}

long long cs_request_ended_read(const char *state_dir) {
  char path[PATH_LEN], text[32];
  unsigned char *data = NULL;
  size_t len = 0;
  long long when = 0;
  cs_err_t err;
  if (in_dir(state_dir, CS_REQUEST_ENDED, path, sizeof path, &err) != CS_OK ||
      cs_plat_read_file(path, 64, CS_READ_NOFOLLOW, &data, &len, &err) != CS_OK)
    return 0;
  snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), (const char *)data);
  cs_plat_free_file(data, len);
  text[strcspn(text, "\r\n")] = '\0';
  if (!number(text, &when) || when < 0)
    when = 0;
  return when;
}
