/* The renewal journal: the transaction's state, written atomically to
 * <state_dir>/journal before every step, so that a crash at any point leaves a
 * record of what may have been done. Absent journal = no transaction running.
 * Crypto-free; lines "key value", values sanitised. */
#ifndef CS_JOURNAL_H
#define CS_JOURNAL_H

#include "error.h"
#include "txplan.h"

/* States written to the journal */
#define CS_TX_RUNNING "running" /* steps 1..step may have been done */
#define CS_TX_ROLLING_BACK "rolling-back"
#define CS_TX_COMMITTED "committed" /* new certificate proven; only archiving left */

typedef struct cs_journal_s {
  int version; /* of the file read: 1 (no plan: the steps install grant bindings
                  restart probe) or 2; cs_journal_write always writes 2 */
  char state[16];
  char *plan;      /* the transaction's steps by name, in order, space-separated
                      (version 2; NULL in a version 1 journal) */
  int step;        /* index of the last step started (1-based) in plan; 0 = none yet */
  char *step_name; /* that step by name; NULL when none was started yet, and in a
                      journal written before the name was kept (see journal.c) */
  char old_tp[41];
  char new_tp[41];
  long long started; /* seconds since 1970 */
  char *file;        /* the drop being installed (informational) */
  char *subject;
  char *txdir;       /* the transaction's folder: stage, backups */
  char *failed_step; /* when rolling back */
  char *reason;
  char *dependents; /* the services stopped with the connector, "/"-separated (a
                       service name never holds a slash); NULL when not known yet */
} cs_journal_t;

int cs_journal_write(const char *path, const cs_journal_t *j, cs_err_t *err);
/* CS_ENOENT when there is no journal; CS_EFORMAT when it is unreadable, or of a
 * version this one does not know (a newer one's is refused, never guessed at). */
int cs_journal_read(const char *path, cs_journal_t *j, cs_err_t *err);
/* The same for the len bytes at text, read from path (for the messages). */
int cs_journal_parse(const char *text, size_t len, const char *path, cs_journal_t *j, cs_err_t *err);
/* A journal read back is acted on only when its transaction folder is txdir, the one
 * of the state folder it was read from: one naming another folder was not written for
 * this configuration (CS_EFORMAT, saying so; path is the journal's, for the message). */
int cs_journal_check_txdir(const cs_journal_t *j, const char *path, const char *txdir, cs_err_t *err);
/* The plan j names (a version 1 journal: its one fixed plan) into p, and the last step
 * started, as a 1-based index into p (0: none) into *step. By its name where the
 * journal keeps one: a name this certsteward does not know, a step not in the plan, or
 * an index that says another step is refused; else by the index, which must be within
 * the plan. CS_EFORMAT with err saying which. */
int cs_journal_plan(const cs_journal_t *j, cs_plan_t *p, int *step, cs_err_t *err);
void cs_journal_free(cs_journal_t *j);

#endif
