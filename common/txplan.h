/* The renewal transaction's plan: which steps it runs, in which order, and what a
 * rollback does after a given step was started. Pure decisions, no I/O (renewal.c runs
 * the steps; tests/unit/test_txplan.c proves the decisions). The plan is written to the
 * journal by name, so that a recovery undoes what the transaction that ran did, even
 * when the configuration or the program changed since. Crypto-free. */
#ifndef CS_TXPLAN_H
#define CS_TXPLAN_H

#include <stddef.h>

#include "error.h"

/* The step table's keys: the steps a plan is made of, and the phases of a run outside
 * its plan, so that where a run ended is one of these, never a free string. */
typedef enum cs_step_e {
  CS_STEP_NONE = 0, /* "": the run did not fail anywhere */
  /* planned: a plan lists them, the journal names them */
  CS_STEP_INSTALL,  /* the new certificate into the store (undo: the old one back) */
  CS_STEP_GRANT,    /* the connector's account READ on the new key (goes with the install) */
  CS_STEP_STOP,     /* the connector stopped, its process ended (its dependents first) */
  CS_STEP_BINDINGS, /* the binding files name the new thumbprint (undo: the originals back) */
  CS_STEP_START,    /* the connector started again (a new process), its dependents after it */
  CS_STEP_RESTART,  /* the connector restarted in one go (an admin's restart_command) */
  CS_STEP_PROBE,    /* every endpoint serves the new certificate */
  /* phases outside the plan */
  CS_STEP_BEGIN,     /* the state folder, the journal's first write */
  CS_STEP_CURRENT,   /* finding the certificate in service */
  CS_STEP_VALIDATE,  /* the worker's verdict on the file */
  CS_STEP_PREFLIGHT, /* every endpoint serves the old certificate */
  CS_STEP_COMMIT,    /* the journal's committed state written */
  CS_STEP_RECOVER,   /* reading back a journal a crash left */
  CS_STEP_COUNT
} cs_step_t;

/* A plan names each planned step once at most: never more steps than that. */
#define CS_PLAN_MAX ((int)CS_STEP_PROBE)

typedef struct cs_plan_s {
  cs_step_t step[CS_PLAN_MAX];
  int n;
} cs_plan_t;

/* "install", "stop", "validate", ...; "" for CS_STEP_NONE (what events, the journal
 * and `status` print). */
const char *cs_step_name(cs_step_t s);

/* Whether s can be a step of a plan (the phases outside one cannot). */
int cs_step_planned(cs_step_t s);

/* The planned step named by the len bytes at name; CS_STEP_NONE when no planned step
 * has that name (a phase's name included: a journal never names one as a step). */
cs_step_t cs_step_find(const char *name, size_t len);

/* The plan of a new transaction. split = 1 when the connector is a service that
 * certsteward stops and starts itself (a service name, no restart_command): install,
 * grant, stop, bindings, start, probe; the files change while no process of the
 * connector holds them or can write its old settings back when it stops. split = 0
 * (an admin's restart command, which cannot be split): install, grant, bindings,
 * restart, probe. */
void cs_plan_for(int split, cs_plan_t *p);

/* The plan a journal names (space-separated step names); NULL: a version 1 journal,
 * whose one plan was install, grant, bindings, restart, probe. CS_EFORMAT with err
 * set for an empty plan, a name not known, or a step named twice. */
int cs_plan_parse(const char *text, cs_plan_t *p, cs_err_t *err);

/* The plan as the journal keeps it ("install grant stop ..."), into buf. */
void cs_plan_format(const cs_plan_t *p, char *buf, size_t len);

/* How the connector is brought back at the end of a rollback. */
typedef enum cs_bringup_e {
  CS_BRINGUP_NONE = 0, /* it was never touched */
  CS_BRINGUP_ENSURE,   /* started when it is not running: its stop may have half happened */
  CS_BRINGUP_START,    /* started (a new process): it was stopped */
  CS_BRINGUP_RESTART   /* restarted in one go (restart command, or the service manager) */
} cs_bringup_t;

typedef struct cs_rollback_s {
  int stop_first;              /* stop the connector before the undo: it may run on changed files */
  cs_step_t undo[CS_PLAN_MAX]; /* the steps to undo, in this order (the last started first) */
  int n_undo;
  cs_bringup_t bringup;
} cs_rollback_t;

/* What a rollback does once steps 1..step (1-based; 0: none) of p were started.
 * split_now: whether the configuration still lets certsteward stop and start the
 * connector itself (else an admin's restart command restarts it once the files are
 * back). CS_EFORMAT with err set when step is outside the plan. */
int cs_plan_rollback(const cs_plan_t *p, int step, int split_now, cs_rollback_t *rb, cs_err_t *err);

#endif
