/* The daemon's parser of the worker's answers: what a crashed or subverted
 * worker writes must never hurt the daemon. */
#include <stddef.h>
#include <stdint.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_reply_t reply;
  cs_err_t err;
  (void)cs_reply_parse((const char *)data, size, &reply, &err);
  cs_reply_free(&reply);
  return 0;
}
