/* <state_dir>/adopted (statedir.h: CS_STATE_ADOPTED): what the daemon decided about the
 * certificates it found where an admin's tool left them (the system store, [store]
 * adopt_from), so that each is judged once and said once, across restarts, until it
 * changes. One line per certificate or source version, newest last:
 *
 *   key TAB verdict TAB time TAB thumbprint TAB reason
 *
 * key: the certificate's thumbprint (the store) or the source's version (adopt_from:
 * the identity of the files read, as cs_plat_source_read gives it); verdict one of
 * the CS_ADOPT_* words; reason sanitised text (no tab, no line break). Read by the
 * daemon and by `certsteward status`. Crypto-free. */
#ifndef CS_ADOPTED_H
#define CS_ADOPTED_H

#include <stddef.h>

#include "error.h"

#define CS_ADOPT_ADOPTED "adopted"       /* put in service */
#define CS_ADOPT_IN_SERVICE "in-service" /* it was the certificate in service already */
#define CS_ADOPT_REJECTED "rejected"     /* failed a check, or its renewal was rolled back */
#define CS_ADOPT_OTHER_HOST "other-host" /* not for this host: not a candidate */
#define CS_ADOPT_REPLACED "replaced"     /* it was in service and a renewal replaced it */
#define CS_ADOPTED_MAX 256               /* entries kept; the oldest go first */

typedef struct cs_adopted_entry_s {
  char *key, *verdict, *tp, *reason;
  long long time;
} cs_adopted_entry_t;

typedef struct cs_adopted_s {
  cs_adopted_entry_t *v;
  size_t n;
} cs_adopted_t;

/* Parses text (len bytes) into out (cs_adopted_free): a line that is not five fields
 * is skipped, so that a damaged file gives what it still holds. CS_ENOMEM. */
int cs_adopted_parse(const char *text, size_t len, cs_adopted_t *out);

/* Reads <state_dir>/adopted (not through a link); none yet: empty, CS_OK. */
int cs_adopted_read(const char *state_dir, cs_adopted_t *out, cs_err_t *err);

/* The entry for key (compared as cs_adopted_put stores it: sanitised, cut short), NULL
 * when there is none. */
const cs_adopted_entry_t *cs_adopted_find(const cs_adopted_t *a, const char *key);

/* Sets the entry for key (replacing one there, moved to the end; the oldest dropped past
 * CS_ADOPTED_MAX) and writes the file again, atomically, mode 0600. */
int cs_adopted_put(const char *state_dir, cs_adopted_t *a, const char *key, const char *verdict, long long time,
                   const char *tp, const char *reason, cs_err_t *err);

/* Keeps the entries whose key keep(key, arg) says to keep, and writes the file again when
 * one went (the system store: what left the store is judged no more). */
int cs_adopted_retain(const char *state_dir, cs_adopted_t *a, int (*keep)(const char *key, void *arg), void *arg,
                      cs_err_t *err);

void cs_adopted_free(cs_adopted_t *a);

#endif
