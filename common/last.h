/* <state_dir>/last (statedir.h: CS_STATE_LAST): the result of the last renewal, written
 * when a transaction ends and read by `certsteward status`. One "key value" line each,
 * in the order of cs_last_keys; step and reason are sanitised text. */
#ifndef CS_LAST_H
#define CS_LAST_H

#include <stddef.h>

#include "error.h"
#include "text.h"

enum { CS_LAST_RESULT, CS_LAST_TIME, CS_LAST_OLD, CS_LAST_NEW, CS_LAST_STEP, CS_LAST_REASON, CS_LAST_N };

/* The keys, by index: "result", "time", "old", "new", "step", "reason". */
extern const char *const cs_last_keys[CS_LAST_N];

typedef struct cs_last_s {
  char *v[CS_LAST_N]; /* each value (malloc'ed), NULL when its line is absent */
} cs_last_t;

/* Appends the file's text to b: result (an outcome's name), time (seconds since 1970),
 * the old and new thumbprints, and the failed step and its reason ("" when none),
 * each of the last two sanitised (one line, no control bytes). */
void cs_last_format(cs_buf_t *b, const char *result, long long time, const char *old_tp, const char *new_tp,
                    const char *step, const char *reason);

/* cs_last_format into <state_dir>/last, replaced atomically, mode 0600. */
int cs_last_write(const char *state_dir, const char *result, long long time, const char *old_tp, const char *new_tp,
                  const char *step, const char *reason, cs_err_t *err);

/* The values of text (len bytes; it ends at a NUL before that) into out (cleared
 * first; cs_last_free): the first line of each key, a line without a known key ignored,
 * so that a truncated or damaged file gives what it still holds. CS_ENOMEM. */
int cs_last_parse(const char *text, size_t len, cs_last_t *out);

/* Reads and parses <state_dir>/last (not through a link): CS_OK, CS_ENOENT when there
 * is none (no renewal has ended), or the read's error in err. */
int cs_last_read(const char *state_dir, cs_last_t *out, cs_err_t *err);

void cs_last_free(cs_last_t *l);

#endif
