/* The drop folder's and the waiting folder's candidates (drop.h). */
#include "drop.h"

#include <string.h>

#include "statedir.h"

static int ends_with(const char *name, const char *suffix) {
  size_t n = strlen(name), k = strlen(suffix);
  return n > k && strcmp(name + n - k, suffix) == 0; /* the suffix alone is not a name with it */
}

int cs_drop_candidate(const char *name) {
  return !(name[0] == '.' || (name[0] == '~' && name[1] == '$') || ends_with(name, ".tmp") || ends_with(name, ".part"));
}

int cs_parked_candidate(const char *name) { return !ends_with(name, CS_STATE_REASON_SUFFIX); }
