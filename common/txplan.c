/* The renewal transaction's plan and its rollback decisions (see txplan.h). */
#include "txplan.h"

#include <stdio.h>
#include <string.h>

/* The step table: by cs_step_t, its name and whether a plan may list it. */
static const struct {
  const char *name;
  int planned;
} table[CS_STEP_COUNT] = {
    [CS_STEP_NONE] = {"", 0},           [CS_STEP_INSTALL] = {"install", 1},   [CS_STEP_GRANT] = {"grant", 1},
    [CS_STEP_STOP] = {"stop", 1},       [CS_STEP_BINDINGS] = {"bindings", 1}, [CS_STEP_START] = {"start", 1},
    [CS_STEP_RESTART] = {"restart", 1}, [CS_STEP_PROBE] = {"probe", 1},       [CS_STEP_BEGIN] = {"begin", 0},
    [CS_STEP_CURRENT] = {"current", 0}, [CS_STEP_VALIDATE] = {"validate", 0}, [CS_STEP_PREFLIGHT] = {"preflight", 0},
    [CS_STEP_COMMIT] = {"commit", 0},   [CS_STEP_RECOVER] = {"recover", 0},
};

const char *cs_step_name(cs_step_t s) { return s >= 0 && s < CS_STEP_COUNT ? table[s].name : "?"; }

int cs_step_planned(cs_step_t s) { return s >= 0 && s < CS_STEP_COUNT && table[s].planned; }

cs_step_t cs_step_find(const char *name, size_t len) {
  int k;
  for (k = 0; k < CS_STEP_COUNT; k++)
    if (table[k].planned && strlen(table[k].name) == len && strncmp(table[k].name, name, len) == 0)
      return (cs_step_t)k;
  return CS_STEP_NONE;
}

static void set(cs_plan_t *p, const cs_step_t *v, int n) {
  memset(p, 0, sizeof *p);
  memcpy(p->step, v, sizeof *v * (size_t)n);
  p->n = n;
}

/* The one plan of a version 1 journal, and of an admin's restart command today. */
static const cs_step_t plan_restart[] = {CS_STEP_INSTALL, CS_STEP_GRANT, CS_STEP_BINDINGS, CS_STEP_RESTART,
                                         CS_STEP_PROBE};
static const cs_step_t plan_split[] = {CS_STEP_INSTALL,  CS_STEP_GRANT, CS_STEP_STOP,
                                       CS_STEP_BINDINGS, CS_STEP_START, CS_STEP_PROBE};

void cs_plan_for(int split, cs_plan_t *p) {
  if (split)
    set(p, plan_split, (int)(sizeof plan_split / sizeof plan_split[0]));
  else
    set(p, plan_restart, (int)(sizeof plan_restart / sizeof plan_restart[0]));
}

int cs_plan_parse(const char *text, cs_plan_t *p, cs_err_t *err) {
  const char *s = text, *end;
  unsigned seen = 0;
  cs_step_t k;

  if (text == NULL) {
    cs_plan_for(0, p);
    return CS_OK;
  }
  memset(p, 0, sizeof *p);
  for (;;) {
    while (*s == ' ')
      s++;
    if (*s == '\0')
      break;
    for (end = s; *end != '\0' && *end != ' '; end++)
      ;
    if ((k = cs_step_find(s, (size_t)(end - s))) == CS_STEP_NONE)
      return cs_err_set(err, CS_EFORMAT, 0, "the journal names a step this certsteward does not know: \"%.*s\"",
                        (int)(end - s > 40 ? 40 : end - s), s);
    if (seen & (1u << k))
      return cs_err_set(err, CS_EFORMAT, 0, "the journal names the step %s twice", table[k].name);
    seen |= 1u << k;
    if (p->n >= CS_PLAN_MAX) /* cannot be: each planned step once, and CS_PLAN_MAX of them */
      return cs_err_set(err, CS_EFORMAT, 0, "the journal names more steps than a plan has");
    p->step[p->n++] = k;
    s = end;
  }
  if (p->n == 0)
    return cs_err_set(err, CS_EFORMAT, 0, "the journal names no steps");
  return CS_OK;
}

void cs_plan_format(const cs_plan_t *p, char *buf, size_t len) {
  size_t used = 0;
  int i, n;
  if (len == 0)
    return;
  buf[0] = '\0';
  for (i = 0; i < p->n; i++) {
    n = snprintf(buf + used, len - used, "%s%s", i ? " " : "", cs_step_name(p->step[i]));
    if (n < 0 || (size_t)n >= len - used)
      return;
    used += (size_t)n;
  }
}

/* 1-based index of s in p, 0 when it is not there. */
static int index_of(const cs_plan_t *p, cs_step_t s) {
  int i;
  for (i = 0; i < p->n; i++)
    if (p->step[i] == s)
      return i + 1;
  return 0;
}

int cs_plan_rollback(const cs_plan_t *p, int step, int split_now, cs_rollback_t *rb, cs_err_t *err) {
  int stop = index_of(p, CS_STEP_STOP), restart = index_of(p, CS_STEP_RESTART), i;

  memset(rb, 0, sizeof *rb);
  if (step < 0 || step > p->n)
    return cs_err_set(err, CS_EFORMAT, 0, "the journal's step %d is not one of its %d steps", step, p->n);
  for (i = step; i >= 1; i--)
    if (p->step[i - 1] == CS_STEP_INSTALL || p->step[i - 1] == CS_STEP_BINDINGS)
      rb->undo[rb->n_undo++] = p->step[i - 1];
  if (stop != 0 && step >= stop) {
    if (!split_now) {
      /* the configuration now names a restart command: the files go back, then it runs */
      rb->bringup = CS_BRINGUP_RESTART;
    } else if (step > stop) {
      /* it was stopped, and may have been started on the new files since: stopped
       * (again) before they go back, so that no process holds them or writes its
       * settings over them, then started */
      rb->stop_first = 1;
      rb->bringup = CS_BRINGUP_START;
    } else {
      /* the stop itself failed or was cut short: nothing it reads has changed, so it
       * is only started again where it no longer runs */
      rb->bringup = CS_BRINGUP_ENSURE;
    }
  } else if (restart != 0 && step >= restart) {
    rb->bringup = CS_BRINGUP_RESTART; /* it may have loaded the new certificate */
  }
  return CS_OK;
}
