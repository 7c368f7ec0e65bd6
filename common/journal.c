#include "journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "text.h"

#define JOURNAL_MAX (64u << 10)
/* Version 2 added the plan (the steps by name); version 1 had one fixed list of
 * steps, which the reader supplies. An older certsteward refuses version 2.
 * The last step started is kept by name too (step_name) beside its index, still as
 * version 2: the index stays right, so a certsteward that knows only the index (it
 * ignores a key it does not know) recovers such a journal as well as before, and a
 * new version number would only make it refuse. The reader goes by the name. */
#define MAGIC_V1 "certsteward-journal 1"
#define MAGIC "certsteward-journal 2"

static void put(cs_buf_t *b, const char *key, const char *value) {
  if (value == NULL)
    return;
  cs_buf_printf(b, "%s ", key);
  cs_text_sanitize(b, value);
  cs_buf_puts(b, "\n");
}

int cs_journal_write(const char *path, const cs_journal_t *j, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  char num[32];
  int rc;
  cs_buf_puts(&b, MAGIC "\n");
  put(&b, "state", j->state);
  put(&b, "plan", j->plan);
  snprintf(num, sizeof num, "%d", j->step);
  put(&b, "step", num);
  put(&b, "step_name", j->step_name);
  put(&b, "old", j->old_tp);
  put(&b, "new", j->new_tp);
  snprintf(num, sizeof num, "%lld", j->started);
  put(&b, "started", num);
  put(&b, "file", j->file);
  put(&b, "subject", j->subject);
  put(&b, "txdir", j->txdir);
  put(&b, "failed_step", j->failed_step);
  put(&b, "reason", j->reason);
  put(&b, "dependents", j->dependents);
  cs_buf_puts(&b, "end\n");
  rc = cs_buf_str(&b) == NULL ? cs_err_set(err, CS_ENOMEM, 0, "out of memory")
                              : cs_plat_write_atomic(path, b.p, b.len, 0600, err);
  cs_buf_free(&b);
  return rc;
}

static int set_str(char **dst, const char *v) {
  free(*dst);
  return (*dst = cs_strdup(v)) != NULL ? CS_OK : CS_ENOMEM;
}

/* A step index: digits only, a few of them (a plan has a handful of steps). */
static int set_step(int *dst, const char *v) {
  size_t i, n = strlen(v);
  if (n == 0 || n > 3)
    return CS_EFORMAT;
  for (i = 0; i < n; i++)
    if (v[i] < '0' || v[i] > '9')
      return CS_EFORMAT;
  *dst = atoi(v);
  return CS_OK;
}

int cs_journal_parse(const char *text, size_t len, const char *path, cs_journal_t *j, cs_err_t *err) {
  char *data, *line, *next, *v;
  int rc = CS_OK, ended = 0, n = 0, other = 0;

  memset(j, 0, sizeof *j);
  if (len > JOURNAL_MAX)
    return cs_err_set(err, CS_EFORMAT, 0, "the journal %s is too large to be one", path);
  if ((data = malloc(len + 1)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  memcpy(data, text, len);
  data[len] = '\0'; /* the lines end at a NUL too, as in the file read */
  for (line = data; line != NULL && *line && !ended; line = next, n++) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (n == 0) {
      j->version = strcmp(line, MAGIC) == 0 ? 2 : strcmp(line, MAGIC_V1) == 0 ? 1 : 0;
      other = j->version == 0 && strncmp(line, "certsteward-journal ", 20) == 0;
      if (j->version == 0)
        break;
      continue;
    }
    if (strcmp(line, "end") == 0) {
      ended = 1;
      continue;
    }
    v = strchr(line, ' ');
    if (v == NULL)
      continue;
    *v++ = '\0';
    if (strcmp(line, "state") == 0)
      snprintf(j->state, sizeof j->state, "%s", v);
    else if (strcmp(line, "step") == 0)
      rc = set_step(&j->step, v);
    else if (strcmp(line, "step_name") == 0 && j->version >= 2)
      rc = set_str(&j->step_name, v);
    else if (strcmp(line, "old") == 0)
      snprintf(j->old_tp, sizeof j->old_tp, "%s", v);
    else if (strcmp(line, "new") == 0)
      snprintf(j->new_tp, sizeof j->new_tp, "%s", v);
    else if (strcmp(line, "started") == 0)
      j->started = atoll(v);
    else if (strcmp(line, "file") == 0)
      rc = set_str(&j->file, v);
    else if (strcmp(line, "subject") == 0)
      rc = set_str(&j->subject, v);
    else if (strcmp(line, "txdir") == 0)
      rc = set_str(&j->txdir, v);
    else if (strcmp(line, "failed_step") == 0)
      rc = set_str(&j->failed_step, v);
    else if (strcmp(line, "reason") == 0)
      rc = set_str(&j->reason, v);
    else if (strcmp(line, "plan") == 0 && j->version >= 2)
      rc = set_str(&j->plan, v);
    else if (strcmp(line, "dependents") == 0 && j->version >= 2)
      rc = set_str(&j->dependents, v);
    if (rc != CS_OK)
      break;
  }
  free(data);
  if (rc == CS_EFORMAT)
    rc = cs_err_set(err, CS_EFORMAT, 0, "the journal %s is damaged (its step is not a number)", path);
  else if (rc == CS_ENOMEM)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else if (rc == CS_OK && other)
    rc = cs_err_set(err, CS_EFORMAT, 0,
                    "the journal %s was written by another version of certsteward (not 1 or 2): finish or roll "
                    "back that renewal with the version that started it",
                    path);
  else if (rc == CS_OK && (!ended || j->state[0] == '\0' || j->txdir == NULL || (j->version >= 2 && j->plan == NULL)))
    rc = cs_err_set(err, CS_EFORMAT, 0, "the journal %s is incomplete or damaged", path);
  if (rc != CS_OK)
    cs_journal_free(j);
  return rc;
}

int cs_journal_read(const char *path, cs_journal_t *j, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  int rc;
  memset(j, 0, sizeof *j);
  if ((rc = cs_plat_read_file(path, JOURNAL_MAX, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
    return rc;
  rc = cs_journal_parse((const char *)data, len, path, j, err);
  cs_plat_free_file(data, len);
  return rc;
}

int cs_journal_check_txdir(const cs_journal_t *j, const char *path, const char *txdir, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  int rc;
  cs_text_sanitize(&b, txdir); /* as cs_journal_write wrote it */
  if (cs_buf_str(&b) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else if (j->txdir == NULL || strcmp(cs_buf_str(&b), j->txdir) != 0)
    rc = cs_err_set(err, CS_EFORMAT, 0,
                    "the journal %s names the transaction folder %.200s, not %s: it was not "
                    "written for this state folder, nothing was undone; restore by hand",
                    path, j->txdir != NULL ? j->txdir : "(none)", txdir);
  else
    rc = CS_OK;
  cs_buf_free(&b);
  return rc;
}

int cs_journal_plan(const cs_journal_t *j, cs_plan_t *p, int *step, cs_err_t *err) {
  cs_step_t named;
  int rc, i;

  *step = 0;
  if ((rc = cs_plan_parse(j->plan, p, err)) != CS_OK)
    return rc;
  if (j->step_name == NULL) { /* none started yet, or a journal from before the name was kept */
    if (j->step < 0 || j->step > p->n)
      return cs_err_set(err, CS_EFORMAT, 0, "the journal's step %d is not one of its %d steps", j->step, p->n);
    *step = j->step;
    return CS_OK;
  }
  if ((named = cs_step_find(j->step_name, strlen(j->step_name))) == CS_STEP_NONE)
    return cs_err_set(err, CS_EFORMAT, 0, "the journal names a step this certsteward does not know: \"%.40s\"",
                      j->step_name);
  for (i = 0; i < p->n && p->step[i] != named; i++)
    ;
  if (i == p->n)
    return cs_err_set(err, CS_EFORMAT, 0, "the journal's step %s is not in its plan (%d steps)", cs_step_name(named),
                      p->n);
  if (j->step != i + 1)
    return cs_err_set(err, CS_EFORMAT, 0, "the journal's step %s is step %d of its plan, but its index says %d",
                      cs_step_name(named), i + 1, j->step);
  *step = i + 1;
  return CS_OK;
}

void cs_journal_free(cs_journal_t *j) {
  free(j->step_name);
  free(j->file);
  free(j->subject);
  free(j->txdir);
  free(j->failed_step);
  free(j->reason);
  free(j->plan);
  free(j->dependents);
  memset(j, 0, sizeof *j);
}
