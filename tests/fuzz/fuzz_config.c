/* The configuration parser (inih and our reader, handler, value checks). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cs_config_t cfg;
  cs_err_t err;
  if (cs_config_load_mem(&cfg, "/fuzz/certsteward.ini", data, size, &err) == 0) {
    FILE *null = fopen("/dev/null", "w");
    if (null != NULL) {
      cs_config_dump(&cfg, null); /* every value it accepted prints back */
      fclose(null);
    }
    cs_config_free(&cfg);
  }
  return 0;
}
