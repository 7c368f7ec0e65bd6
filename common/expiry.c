#include "expiry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "platform.h"
#include "text.h"

#define MAGIC "certsteward-expiry 1"
#define STATE_MAX 4096 /* the file holds a few short lines; anything bigger is not ours */
#define DAY 86400LL
/* Years -2^40 s .. 2^40 s (about +-34,000 years) cover every notAfter a certificate
 * can carry (GeneralizedTime ends at 9999) and keep every subtraction below exact. */
#define TIME_LIMIT (1LL << 40)
#define DAYS_MAX 3650 /* as config.c accepts for warn_days */

_Static_assert(sizeof(unsigned) * 8 >= CS_EXPIRY_MAX_THRESHOLDS, "notified needs a bit per threshold");

/* ---- thresholds ---------------------------------------------------------------- */

static int desc(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x < y) - (x > y);
}

int cs_expiry_thresholds(const cs_strlist_t *l, int *days, size_t max, size_t *n) {
  int tmp[CS_EXPIRY_MAX_THRESHOLDS];
  size_t i, j, count = 0, out = 0;
  char *end;
  long d;

  if (n == NULL || l == NULL || (l->n > 0 && l->v == NULL))
    return CS_EINVAL;
  *n = 0;
  for (i = 0; i < l->n; i++) {
    /* the same rule config.c applies, so that a file it accepted works here */
    d = strtol(l->v[i], &end, 10);
    if (end == l->v[i] || *end != '\0' || d < 0 || d > DAYS_MAX)
      return CS_EINVAL;
    for (j = 0; j < count && tmp[j] != (int)d; j++)
      ;
    if (j < count)
      continue; /* duplicate: would be a second bit for the same moment */
    if (count == CS_EXPIRY_MAX_THRESHOLDS)
      return CS_ETOOBIG;
    tmp[count++] = (int)d;
  }
  if (count > max)
    return CS_ETOOBIG;
  qsort(tmp, count, sizeof tmp[0], desc);
  for (out = 0; out < count; out++)
    days[out] = tmp[out];
  *n = count;
  return CS_OK;
}

/* ---- UTC time --------------------------------------------------------------------- */

/* ---- persisted state ---------------------------------------------------------------- */

static int tp_valid(const char *tp) {
  size_t i;
  for (i = 0; tp[i] != '\0'; i++)
    if (i == 40 || strchr("0123456789abcdefABCDEF", tp[i]) == NULL)
      return 0;
  return 1;
}

/* Thumbprints reach us from bindings files and the worker in either case; a case
 * difference must not look like a new certificate (it would say every warning again). */
static int tp_equal(const char *a, const char *b) {
  for (; *a != '\0' && *b != '\0'; a++, b++) {
    int x = (unsigned char)*a, y = (unsigned char)*b;
    if (x >= 'a' && x <= 'f')
      x -= 'a' - 'A';
    if (y >= 'a' && y <= 'f')
      y -= 'a' - 'A';
    if (x != y)
      return 0;
  }
  return *a == *b;
}

int cs_expiry_save(const char *path, const cs_expiry_state_t *st, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  int rc;
  if (!tp_valid(st->tp))
    return cs_err_set(err, CS_EINVAL, 0, "expiry state: the thumbprint is not hexadecimal");
  cs_buf_puts(&b, MAGIC "\n");
  if (st->tp[0] != '\0')
    cs_buf_printf(&b, "thumbprint %s\n", st->tp);
  cs_buf_printf(&b, "notified %u\nexpired %d\nend\n", st->notified, st->expired_announced ? 1 : 0);
  rc = cs_buf_str(&b) == NULL ? cs_err_set(err, CS_ENOMEM, 0, "out of memory")
                              : cs_plat_write_atomic(path, b.p, b.len, 0600, err);
  cs_buf_free(&b);
  return rc;
}

/* One "key value" line into st; 0 or CS_EFORMAT. seen collects which keys came. */
static int parse_line(char *line, cs_expiry_state_t *st, unsigned *seen) {
  char *v = strchr(line, ' '), *end;
  unsigned long long u;
  if (v == NULL)
    return CS_EFORMAT;
  *v++ = '\0';
  if (strcmp(line, "thumbprint") == 0 && !(*seen & 1)) {
    if (v[0] == '\0' || !tp_valid(v))
      return CS_EFORMAT;
    memcpy(st->tp, v, strlen(v) + 1);
    *seen |= 1;
  } else if (strcmp(line, "notified") == 0 && !(*seen & 2)) {
    if (v[0] < '0' || v[0] > '9')
      return CS_EFORMAT;       /* strtoul would take "-1" */
    u = strtoull(v, &end, 10); /* 64 bits everywhere: unsigned long is 32 on Windows */
    if (*end != '\0' || u > 0xFFFFFFFFULL)
      return CS_EFORMAT;
    st->notified = (unsigned)u;
    *seen |= 2;
  } else if (strcmp(line, "expired") == 0 && !(*seen & 4)) {
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0)
      return CS_EFORMAT;
    st->expired_announced = v[0] == '1';
    *seen |= 4;
  } else {
    return CS_EFORMAT; /* unknown or repeated: not a file this version wrote */
  }
  return CS_OK;
}

int cs_expiry_load(const char *path, cs_expiry_state_t *st, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  char *line, *next;
  unsigned seen = 0;
  int rc, n = 0, ended = 0;

  memset(st, 0, sizeof *st);
  rc = cs_plat_read_file(path, STATE_MAX, CS_READ_NOFOLLOW, &data, &len, err);
  if (rc == CS_ENOENT) {
    cs_err_clear(err); /* no state yet: nothing was announced */
    return CS_OK;
  }
  if (rc != CS_OK)
    goto out;
  if (memchr(data, '\0', len) != NULL) {
    rc = CS_EFORMAT;
    goto out;
  }
  for (line = (char *)data; *line != '\0'; line = next, n++) {
    next = strchr(line, '\n');
    if (next == NULL || ended) {
      rc = CS_EFORMAT; /* cut short, or something after "end" */
      goto out;
    }
    *next++ = '\0';
    if (n == 0)
      rc = strcmp(line, MAGIC) == 0 ? CS_OK : CS_EFORMAT;
    else if (strcmp(line, "end") == 0)
      ended = 1;
    else
      rc = parse_line(line, st, &seen);
    if (rc != CS_OK)
      goto out;
  }
  if (!ended || (seen & 6) != 6)
    rc = CS_EFORMAT;
out:
  cs_plat_free_file(data, len);
  if (rc != CS_OK) {
    memset(st, 0, sizeof *st);
    if (rc == CS_EFORMAT)
      cs_err_set(err, rc, 0, "the expiry state file %s is damaged; starting afresh", path);
  }
  return rc;
}

/* ---- the decision ------------------------------------------------------------------- */

int cs_expiry_check(cs_expiry_state_t *st, const char *tp, const char *subject, long long not_after, long long now,
                    const int *days, size_t n, int *changed, long long *next_due) {
  long long left, due = CS_EXPIRY_NEVER, days_left;
  char when[32], dl[24], th[24];
  size_t i, k;
  unsigned mark;

  if (st == NULL || changed == NULL || next_due == NULL || tp == NULL || tp[0] == '\0' || !tp_valid(tp) ||
      n > CS_EXPIRY_MAX_THRESHOLDS || not_after <= -TIME_LIMIT || not_after >= TIME_LIMIT || now <= -TIME_LIMIT ||
      now >= TIME_LIMIT)
    return CS_EINVAL;
  for (i = 0; i < n; i++)
    if (days[i] < 0 || days[i] > DAYS_MAX || (i > 0 && days[i] >= days[i - 1]))
      return CS_EINVAL; /* the bit numbering relies on one sorted order */

  *changed = 0;
  if (!tp_equal(st->tp, tp)) {
    memset(st, 0, sizeof *st);
    memcpy(st->tp, tp, strlen(tp) + 1);
    *changed = 1;
  }
  cs_time_utc(not_after, when, sizeof when);
  left = not_after - now;

  if (left <= 0) {
    if (!st->expired_announced) {
      cs_event_cert(CS_EV_CERT_EXPIRED, tp, NULL, subject, NULL, when, NULL, NULL);
      st->expired_announced = 1;
      *changed = 1;
    }
    *next_due = CS_EXPIRY_NEVER;
    return CS_OK;
  }

  days_left = left / DAY; /* left > 0: truncation is the floor */
  /* crossed thresholds are days[0..k): descending, so they come first */
  for (k = 0; k < n && days_left <= days[k]; k++)
    ;
  if (k > 0) {
    mark = k == 32 ? 0xFFFFFFFFu : (1u << k) - 1u;
    if (!(st->notified & (1u << (k - 1)))) {
      snprintf(dl, sizeof dl, "%lld", days_left);
      snprintf(th, sizeof th, "%d", days[k - 1]);
      cs_event_cert(CS_EV_CERT_EXPIRING, tp, NULL, subject, NULL, dl, th, when);
    }
    if ((st->notified | mark) != st->notified) {
      st->notified |= mark;
      *changed = 1;
    }
  }

  /* days_left <= d from the first second at which fewer than d + 1 whole days
   * are left: left < (d + 1) * DAY. A threshold already announced (a changed
   * list, a clock set back) needs no wakeup. */
  for (i = k; i < n; i++) {
    if (!(st->notified & (1u << i))) {
      due = left - ((long long)days[i] + 1) * DAY + 1;
      break;
    }
  }
  if (!st->expired_announced && left < due)
    due = left;
  *next_due = due < 1 ? 1 : due;
  return CS_OK;
}
