/* The renewal journal's reader: a journal a crash cut short, a disk that returned
 * garbage or a hand edit must be refused, never acted on half understood, and never
 * hurt the daemon that reads it at start. The plan and the step found from what was
 * read (cs_journal_plan) are what a recovery acts on: checked here too. */
#include <stddef.h>
#include <stdint.h>

#include "journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_journal_t j;
  cs_plan_t p;
  cs_err_t err;
  int step;
  if (cs_journal_parse((const char *)data, size, "journal", &j, &err) != CS_OK)
    return 0;
  if (cs_journal_plan(&j, &p, &step, &err) == CS_OK && (step < 0 || step > p.n || p.n > CS_PLAN_MAX))
    __builtin_trap(); /* a step outside the plan was let through */
  (void)cs_journal_check_txdir(&j, "journal", "tx", &err);
  cs_journal_free(&j);
  return 0;
}
