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

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

/* 1 when a[0..n) and b[0..n) are equal, ignoring ASCII case unless case_sensitive. */
static int same(const char *a, const char *b, size_t n, int case_sensitive) {
  size_t i;
  for (i = 0; i < n; i++)
    if (case_sensitive ? a[i] != b[i] : lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
      return 0;
  return 1;
}

/* The length of name without its extension when that extension is ext (ASCII case
 * ignored) and something comes before it; 0 otherwise. */
static size_t base_len(const char *name, const char *ext) {
  size_t n = strlen(name), k = strlen(ext);
  return n > k && same(name + n - k, ext, k, 0) ? n - k : 0;
}

static size_t cert_base(const char *name) {
  static const char *const exts[] = {".crt", ".cer", ".pem"};
  size_t i, n;
  for (i = 0; i < sizeof exts / sizeof exts[0]; i++)
    if ((n = base_len(name, exts[i])) > 0)
      return n;
  return 0;
}

cs_drop_role_t cs_drop_pair_role(const char *name) {
  if (cert_base(name) > 0)
    return CS_DROP_PAIR_CERT;
  return base_len(name, ".key") > 0 ? CS_DROP_PAIR_KEY : CS_DROP_ALONE;
}

int cs_drop_pair(const char *cert, const char *key, int case_sensitive) {
  size_t n = cert_base(cert);
  return n > 0 && base_len(key, ".key") == n && same(cert, key, n, case_sensitive);
}
