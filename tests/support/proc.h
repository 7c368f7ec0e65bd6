/* Running a program from a test: its exit status and what it printed. */
#ifndef CS_TEST_PROC_H
#define CS_TEST_PROC_H

#include <stdarg.h>
#include <stddef.h>

typedef struct cs_proc_result_s {
  int status; /* exit status; -1 if it did not exit normally */
  char *out;  /* stdout, NUL-terminated; owned */
  size_t out_len;
  char *err; /* stderr, NUL-terminated; owned */
  size_t err_len;
} cs_proc_result_t;

/* Runs argv[0] with argv (NULL-terminated), no standard input, and waits. 0 or -1. */
int cs_proc_run(const char *const *argv, cs_proc_result_t *res);
/* Runs prog with first and the arguments ap holds up to a NULL (at most 60), as
 * cs_proc_run does. */
int cs_proc_run_va(cs_proc_result_t *res, const char *prog, const char *first, va_list ap);
void cs_proc_result_free(cs_proc_result_t *res);

#endif
