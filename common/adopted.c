/* The record of the certificates found and judged (adopted.h). */
#include "adopted.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "statedir.h"
#include "text.h"

#define FILE_MAX (1024 * 1024) /* CS_ADOPTED_MAX lines of at most a few hundred bytes */
#define REASON_MAX 600         /* bytes of a reason kept */
#define KEY_MAX 512            /* bytes of a key kept: a folder's version (daemon_int.h's job_t) */

static void entry_free(cs_adopted_entry_t *e) {
  free(e->key);
  free(e->verdict);
  free(e->tp);
  free(e->reason);
  memset(e, 0, sizeof *e);
}

void cs_adopted_free(cs_adopted_t *a) {
  size_t i;
  for (i = 0; i < a->n; i++)
    entry_free(&a->v[i]);
  free(a->v);
  a->v = NULL;
  a->n = 0;
}

static char *dup_n(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (p != NULL) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

/* One line "key\tverdict\ttime\ttp\treason" into e; 0 when it is not that, -1 out of memory. */
static int parse_line(const char *s, size_t n, cs_adopted_entry_t *e) {
  const char *f[5];
  size_t len[5], k = 0, i, start = 0;
  char num[24], *end;
  for (i = 0; i <= n && k < 5; i++)
    if (i == n || s[i] == '\t') {
      f[k] = s + start;
      len[k++] = i - start;
      start = i + 1;
    }
  if (k != 5 || start <= n || len[0] == 0 || len[1] == 0 || len[2] == 0 || len[2] >= sizeof num)
    return 0;
  memcpy(num, f[2], len[2]);
  num[len[2]] = '\0';
  e->time = strtoll(num, &end, 10);
  if (*end != '\0')
    return 0;
  e->key = dup_n(f[0], len[0]);
  e->verdict = dup_n(f[1], len[1]);
  e->tp = dup_n(f[3], len[3]);
  e->reason = dup_n(f[4], len[4]);
  if (e->key == NULL || e->verdict == NULL || e->tp == NULL || e->reason == NULL) {
    entry_free(e);
    return -1;
  }
  return 1;
}

int cs_adopted_parse(const char *text, size_t len, cs_adopted_t *out) {
  size_t i = 0, eol, cap = 0;
  memset(out, 0, sizeof *out);
  while (i < len && text[i] != '\0') {
    cs_adopted_entry_t e;
    int r;
    for (eol = i; eol < len && text[eol] != '\n' && text[eol] != '\0'; eol++)
      ;
    memset(&e, 0, sizeof e);
    if ((r = parse_line(text + i, eol - i, &e)) < 0)
      goto oom;
    if (r > 0) {
      if (out->n == cap) {
        cs_adopted_entry_t *grown = realloc(out->v, sizeof *grown * (cap = cap ? cap * 2 : 16));
        if (grown == NULL) {
          entry_free(&e);
          goto oom;
        }
        out->v = grown;
      }
      out->v[out->n++] = e;
    }
    i = eol < len && text[eol] == '\n' ? eol + 1 : eol;
  }
  return CS_OK;
oom:
  cs_adopted_free(out);
  return CS_ENOMEM;
}

int cs_adopted_read(const char *state_dir, cs_adopted_t *out, cs_err_t *err) {
  char path[4096];
  unsigned char *data = NULL;
  size_t len = 0;
  int rc;
  memset(out, 0, sizeof *out);
  if (cs_plat_path_join(path, sizeof path, state_dir, CS_STATE_ADOPTED) != CS_OK)
    return cs_err_set(err, CS_EINVAL, 0, "the state folder's path is too long");
  rc = cs_plat_read_file(path, FILE_MAX, CS_READ_NOFOLLOW, &data, &len, err);
  if (rc == CS_ENOENT)
    return CS_OK;
  if (rc != CS_OK)
    return rc;
  rc = cs_adopted_parse((const char *)data, len, out);
  cs_plat_free_file(data, len);
  return rc == CS_OK ? CS_OK : cs_err_set(err, rc, 0, "out of memory");
}

/* The first max bytes of s (NULL: "") made one field of at most max bytes:
 * cs_text_sanitize replaces tab, line breaks and every other control byte, and what it
 * grew is cut again, so that CS_ADOPTED_MAX entries always fit in FILE_MAX. */
static char *clean(const char *s, size_t max) {
  cs_buf_t b = CS_BUF_INIT;
  char *head, *out;
  size_t n = s != NULL ? strlen(s) : 0;
  if ((head = malloc((n < max ? n : max) + 1)) == NULL)
    return NULL;
  memcpy(head, s != NULL ? s : "", n < max ? n : max);
  head[n < max ? n : max] = '\0';
  cs_text_sanitize(&b, head);
  free(head);
  out = cs_buf_str(&b) != NULL ? cs_strdup(cs_buf_str(&b)) : NULL;
  cs_buf_free(&b);
  if (out != NULL && (n = strlen(out)) > max) { /* what sanitising grew, cut again, whole characters */
    n = max;
    while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
      n--;
    out[n] = '\0';
  }
  return out;
}

const cs_adopted_entry_t *cs_adopted_find(const cs_adopted_t *a, const char *key) {
  const cs_adopted_entry_t *found = NULL;
  char *k = clean(key, KEY_MAX); /* as it was stored */
  size_t i;
  for (i = a->n; k != NULL && i > 0 && found == NULL; i--)
    if (strcmp(a->v[i - 1].key, k) == 0)
      found = &a->v[i - 1];
  free(k);
  return found;
}

/* <state_dir>/adopted written anew from a, atomically, mode 0600. */
static int write_all(const char *state_dir, const cs_adopted_t *a, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  char path[4096];
  size_t i;
  int rc;
  for (i = 0; i < a->n; i++)
    cs_buf_printf(&b, "%s\t%s\t%lld\t%s\t%s\n", a->v[i].key, a->v[i].verdict, a->v[i].time, a->v[i].tp, a->v[i].reason);
  if (cs_buf_str(&b) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else if (cs_plat_path_join(path, sizeof path, state_dir, CS_STATE_ADOPTED) != CS_OK)
    rc = cs_err_set(err, CS_EINVAL, 0, "the state folder's path is too long");
  else
    rc = cs_plat_write_atomic(path, cs_buf_str(&b), strlen(cs_buf_str(&b)), 0600, err);
  cs_buf_free(&b);
  return rc;
}

int cs_adopted_put(const char *state_dir, cs_adopted_t *a, const char *key, const char *verdict, long long time,
                   const char *tp, const char *reason, cs_err_t *err) {
  cs_adopted_entry_t e;
  size_t i;

  memset(&e, 0, sizeof e);
  e.time = time;
  if ((e.key = clean(key, KEY_MAX)) == NULL || (e.verdict = clean(verdict, 40)) == NULL ||
      (e.tp = clean(tp, 40)) == NULL || (e.reason = clean(reason, REASON_MAX)) == NULL) {
    entry_free(&e);
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  for (i = 0; i < a->n; i++) /* the old entry for key goes; the new one is last */
    if (strcmp(a->v[i].key, e.key) == 0) {
      entry_free(&a->v[i]);
      memmove(&a->v[i], &a->v[i + 1], sizeof *a->v * (a->n - i - 1));
      a->n--;
      break;
    }
  while (a->n >= CS_ADOPTED_MAX) {
    entry_free(&a->v[0]);
    memmove(&a->v[0], &a->v[1], sizeof *a->v * (a->n - 1));
    a->n--;
  }
  {
    cs_adopted_entry_t *grown = realloc(a->v, sizeof *grown * (a->n + 1));
    if (grown == NULL) {
      entry_free(&e);
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    }
    a->v = grown;
    a->v[a->n++] = e;
  }
  return write_all(state_dir, a, err);
}

int cs_adopted_retain(const char *state_dir, cs_adopted_t *a, int (*keep)(const char *key, void *arg), void *arg,
                      cs_err_t *err) {
  size_t i, k = 0;
  for (i = 0; i < a->n; i++) {
    if (keep(a->v[i].key, arg))
      a->v[k++] = a->v[i];
    else
      entry_free(&a->v[i]);
  }
  if (k == a->n)
    return CS_OK;
  a->n = k;
  return write_all(state_dir, a, err);
}
