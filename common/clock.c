#include "clock.h"

#include <stdlib.h>
#include <time.h>

long long cs_clock_now(void) {
  long long now = (long long)time(NULL);
#ifdef CS_TEST_HOOKS
  const char *offset = getenv("CERTSTEWARD_TEST_CLOCK_OFFSET");
  if (offset != NULL)
    now += strtoll(offset, NULL, 10);
#endif
  return now;
}
