/* JSON escaping and log-line sanitising: whatever comes in, what goes out is valid
 * UTF-8 with no control characters, and the JSON string is well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_clean(const char *s, size_t len) {
  size_t i = 0, k;
  unsigned long cp;
  while (i < len) {
    k = cs_utf8_decode((const unsigned char *)s + i, len - i, &cp);
    if (k == 0 || cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
      abort();
    i += k;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  cs_buf_t json = CS_BUF_INIT, line = CS_BUF_INIT;
  size_t i;
  int escaped = 0;
  if (s == NULL)
    return 0;
  memcpy(s, data, size);
  s[size] = '\0'; /* the functions take C strings: up to the first NUL */
  cs_json_str(&json, s);
  cs_text_sanitize(&line, s);
  if (cs_buf_str(&json) != NULL) {
    check_clean(json.p, json.len);
    if (json.len < 2 || json.p[0] != '"' || json.p[json.len - 1] != '"')
      abort();
    for (i = 1; i + 1 < json.len; i++) { /* no unescaped quote inside */
      if (escaped)
        escaped = 0;
      else if (json.p[i] == '\\')
        escaped = 1;
      else if (json.p[i] == '"')
        abort();
    }
    if (escaped)
      abort();
  }
  if (cs_buf_str(&line) != NULL)
    check_clean(line.p, line.len);
  cs_buf_free(&json);
  cs_buf_free(&line);
  free(s);
  return 0;
}
