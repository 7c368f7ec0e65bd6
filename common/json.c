/* The JSON walker (see json.h): recursive descent over the text, nothing kept but the
 * names on the way down. */
#include "json.h"

#include <string.h>

typedef struct js_s {
  const char *p, *start, *end;
  cs_json_cb cb;
  void *arg;
  int depth;
  int stop; /* what the callback returned to stop, else 0 */
  cs_err_t *err;
} js_t;

static int bad(js_t *j, const char *what) {
  return cs_err_set(j->err, CS_EFORMAT, 0, "not valid JSON at byte %zu: %s", (size_t)(j->p - j->start), what);
}

static void ws(js_t *j) {
  while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
    j->p++;
}

static int hex4(const char *p, unsigned *v) {
  int i;
  *v = 0;
  for (i = 0; i < 4; i++) {
    char c = p[i];
    unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
                 : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                 : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10)
                                        : 16u;
    if (d == 16u)
      return 0;
    *v = *v * 16 + d;
  }
  return 1;
}

/* A string at j->p into out (n bytes); *fits = 0 when it was longer (out then ""). */
static int string(js_t *j, char *out, size_t n, int *fits) {
  size_t k = 0;
  *fits = 1;
  j->p++; /* the opening quote */
  for (;;) {
    char c;
    if (j->p >= j->end)
      return bad(j, "a string does not end");
    c = *j->p++;
    if (c == '"')
      break;
    if ((unsigned char)c < 0x20)
      return bad(j, "a control character inside a string");
    if (c == '\\') {
      unsigned u;
      if (j->p >= j->end)
        return bad(j, "a string does not end");
      c = *j->p++;
      switch (c) {
      case '"':
      case '\\':
      case '/':
        break;
      case 'b':
        c = '\b';
        break;
      case 'f':
        c = '\f';
        break;
      case 'n':
        c = '\n';
        break;
      case 'r':
        c = '\r';
        break;
      case 't':
        c = '\t';
        break;
      case 'u':
        if (j->end - j->p < 4 || !hex4(j->p, &u))
          return bad(j, "a \\u escape without four hex digits");
        j->p += 4;
        c = u > 0 && u < 0x80 ? (char)u : '?';
        break;
      default:
        return bad(j, "an unknown escape in a string");
      }
    }
    if (k + 1 < n)
      out[k++] = c;
    else
      *fits = 0;
  }
  out[*fits ? k : 0] = '\0';
  return CS_OK;
}

static int literal(js_t *j, const char *word) {
  size_t n = strlen(word);
  if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n) != 0)
    return bad(j, "an unknown word");
  j->p += n;
  return CS_OK;
}

/* RFC 8259's number grammar; its text into out (numbers here are short). */
static int number(js_t *j, char *out, size_t n) {
  const char *s = j->p;
  size_t len;
  if (j->p < j->end && *j->p == '-')
    j->p++;
  if (j->p >= j->end || *j->p < '0' || *j->p > '9')
    return bad(j, "a number without digits");
  if (*j->p == '0')
    j->p++;
  else
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
  if (j->p < j->end && *j->p == '.') {
    j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
      return bad(j, "a fraction without digits");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
  }
  if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
    j->p++;
    if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
      j->p++;
    if (j->p >= j->end || *j->p < '0' || *j->p > '9')
      return bad(j, "an exponent without digits");
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
      j->p++;
  }
  len = (size_t)(j->p - s);
  if (len >= n)
    len = 0; /* too long to be a port: handed over as "" */
  memcpy(out, s, len);
  out[len] = '\0';
  return CS_OK;
}

static int scalar(js_t *j, const char *parent, const char *name, const char *value, cs_json_type_t type) {
  int r = j->cb != NULL ? j->cb(j->arg, parent, name, value, type) : 0;
  if (r != 0)
    j->stop = r;
  return r;
}

static int value(js_t *j, const char *parent, const char *name);

/* An object or an array; name is the member that holds it. */
static int container(js_t *j, const char *name) {
  char key[CS_JSON_NAME_MAX];
  char close = *j->p == '{' ? '}' : ']';
  int fits, rc;
  if (++j->depth > CS_JSON_DEPTH_MAX)
    return bad(j, "nested too deep");
  j->p++;
  ws(j);
  if (j->p < j->end && *j->p == close) {
    j->p++;
    j->depth--;
    return CS_OK;
  }
  for (;;) {
    key[0] = '\0';
    if (close == '}') {
      if (j->p >= j->end || *j->p != '"')
        return bad(j, "a member without a quoted name");
      if ((rc = string(j, key, sizeof key, &fits)) != CS_OK)
        return rc;
      ws(j);
      if (j->p >= j->end || *j->p != ':')
        return bad(j, "a member name without a colon");
      j->p++;
    }
    if ((rc = value(j, name, key)) != CS_OK)
      return rc;
    ws(j);
    if (j->p < j->end && *j->p == ',') {
      j->p++;
      ws(j);
      continue;
    }
    if (j->p < j->end && *j->p == close) {
      j->p++;
      j->depth--;
      return CS_OK;
    }
    return bad(j, close == '}' ? "an object member not followed by , or }" : "an element not followed by , or ]");
  }
}

static int value(js_t *j, const char *parent, const char *name) {
  char v[CS_JSON_VALUE_MAX];
  int fits, rc;
  ws(j);
  if (j->p >= j->end)
    return bad(j, "a value is missing");
  switch (*j->p) {
  case '{':
  case '[':
    return container(j, name);
  case '"':
    if ((rc = string(j, v, sizeof v, &fits)) != CS_OK)
      return rc;
    return fits ? scalar(j, parent, name, v, CS_JSON_STRING) : CS_OK;
  case 't':
    return (rc = literal(j, "true")) != CS_OK ? rc : scalar(j, parent, name, "true", CS_JSON_TRUE);
  case 'f':
    return (rc = literal(j, "false")) != CS_OK ? rc : scalar(j, parent, name, "false", CS_JSON_FALSE);
  case 'n':
    return (rc = literal(j, "null")) != CS_OK ? rc : scalar(j, parent, name, "null", CS_JSON_NULL);
  default:
    return (rc = number(j, v, sizeof v)) != CS_OK ? rc : scalar(j, parent, name, v, CS_JSON_NUMBER);
  }
}

int cs_json_walk(const char *data, size_t len, cs_json_cb cb, void *arg, cs_err_t *err) {
  js_t j;
  int rc;
  memset(&j, 0, sizeof j);
  j.start = j.p = data;
  j.end = data + len;
  j.cb = cb;
  j.arg = arg;
  j.err = err;
  if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) /* Notepad's UTF-8 */
    j.p += 3;
  rc = value(&j, "", "");
  if (j.stop != 0)
    return j.stop;
  if (rc != CS_OK)
    return rc;
  ws(&j);
  return j.p == j.end ? CS_OK : bad(&j, "text after the value");
}
