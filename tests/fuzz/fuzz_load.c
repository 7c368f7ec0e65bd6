/* The certificate loader on arbitrary bytes: PKCS#12, PEM, DER, PKCS#7 by content. */
#include <stddef.h>
#include <stdint.h>

#include "load.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static int ready;
  cs_bundle_t b;
  if (!ready) {
    if (cs_crypto_init(NULL) != CS_OK)
      return 0;
    ready = 1;
  }
  /* the seeds' password: encrypted seeds get past the integrity check */
  if (cs_load_mem(data, size, "demo-pass", &b, NULL) == CS_OK)
    cs_bundle_free(&b);
  return 0;
}
