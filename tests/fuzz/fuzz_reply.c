/* The daemon's parser of the worker's answers: what a crashed or subverted
 * worker writes must never hurt the daemon. Both forms: one file or endpoint, and a
 * scan of many files (at most a few records here: over that is refused). */
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_reply_t reply;
  cs_reply_many_t many;
  cs_err_t err;
  (void)cs_reply_parse((const char *)data, size, &reply, &err);
  cs_reply_free(&reply);
  (void)cs_reply_parse_many((const char *)data, size, 40, &many, &err);
  cs_reply_many_free(&many);
  return 0;
}
