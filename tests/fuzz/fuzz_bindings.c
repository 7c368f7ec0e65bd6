/* The thumbprint rewrite of a binding file, with its promises checked: the length
 * and every byte outside a replaced token are kept, and swapping back restores the
 * original whenever the new thumbprint did not occur before. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"

#define OLD "0123456789ABCDEF0123456789abcdef01234567"
#define NEW "FEDCBA9876543210FEDCBA9876543210FEDCBA98"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  unsigned char *a = malloc(size + 1), *b = malloc(size + 1);
  size_t i, n, had_new;
  if (a == NULL || b == NULL)
    goto out;
  memcpy(a, data, size);
  memcpy(b, data, size);
  had_new = cs_bindings_swap(b, size, NEW, NEW); /* occurrences of NEW, left as they are */
  if (memcmp(a, b, size) != 0 && had_new == 0)
    abort();
  n = cs_bindings_swap(a, size, OLD, NEW);
  for (i = 0; i < size; i++)
    if (a[i] != data[i] && strchr("0123456789abcdefABCDEF", a[i]) == NULL)
      abort(); /* only hex digits inside tokens may change */
  if (had_new == 0) {
    if (cs_bindings_swap(a, size, NEW, OLD) != n)
      abort();
    for (i = 0; i < size; i++) /* back to the original, up to the case of letters */
      if ((a[i] | 0x20) != (data[i] | 0x20))
        abort();
  }
out:
  free(a);
  free(b);
  return 0;
}
