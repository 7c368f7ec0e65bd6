/* <state_dir>/last: its one writer and its one reader (last.h). */
#include "last.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "statedir.h"

#define LAST_MAX (64u << 10) /* a larger file is not one certsteward wrote */
#define PATH_LEN 4096

const char *const cs_last_keys[CS_LAST_N] = {"result", "time", "old", "new", "step", "reason"};

void cs_last_format(cs_buf_t *b, const char *result, long long time, const char *old_tp, const char *new_tp,
                    const char *step, const char *reason) {
  cs_buf_printf(b, "%s %s\n%s %lld\n%s %s\n%s %s\n", cs_last_keys[CS_LAST_RESULT], result, cs_last_keys[CS_LAST_TIME],
                time, cs_last_keys[CS_LAST_OLD], old_tp, cs_last_keys[CS_LAST_NEW], new_tp);
  cs_buf_printf(b, "%s ", cs_last_keys[CS_LAST_STEP]);
  cs_text_sanitize(b, step ? step : "");
  cs_buf_printf(b, "\n%s ", cs_last_keys[CS_LAST_REASON]);
  cs_text_sanitize(b, reason ? reason : "");
  cs_buf_puts(b, "\n");
}

int cs_last_write(const char *state_dir, const char *result, long long time, const char *old_tp, const char *new_tp,
                  const char *step, const char *reason, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  char path[PATH_LEN];
  int rc;
  cs_last_format(&b, result, time, old_tp, new_tp, step, reason);
  if (cs_plat_path_join(path, PATH_LEN, state_dir, CS_STATE_LAST) != CS_OK)
    rc = cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is too long");
  else if (cs_buf_str(&b) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  else
    rc = cs_plat_write_atomic(path, b.p, b.len, 0600, err);
  cs_buf_free(&b);
  return rc;
}

int cs_last_parse(const char *text, size_t len, cs_last_t *out) {
  const char *line = text, *end = text + len, *nul = memchr(text, '\0', len), *eol;
  int rc = CS_OK;
  size_t i;

  memset(out, 0, sizeof *out);
  if (nul != NULL)
    end = nul;
  for (; line < end; line = eol + 1) {
    if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
      eol = end;
    for (i = 0; i < CS_LAST_N; i++) {
      size_t k = strlen(cs_last_keys[i]), n = (size_t)(eol - line);
      const char *v;
      if (out->v[i] != NULL || n < k || memcmp(line, cs_last_keys[i], k) != 0 || (n > k && line[k] != ' '))
        continue;
      v = n > k ? line + k + 1 : eol;
      if ((out->v[i] = malloc((size_t)(eol - v) + 1)) == NULL) {
        rc = CS_ENOMEM;
        continue;
      }
      memcpy(out->v[i], v, (size_t)(eol - v));
      out->v[i][eol - v] = '\0';
    }
  }
  return rc;
}

int cs_last_read(const char *state_dir, cs_last_t *out, cs_err_t *err) {
  unsigned char *data = NULL;
  char path[PATH_LEN];
  size_t len = 0;
  int rc;

  memset(out, 0, sizeof *out);
  if (cs_plat_path_join(path, PATH_LEN, state_dir, CS_STATE_LAST) != CS_OK)
    return cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is too long");
  if ((rc = cs_plat_read_file(path, LAST_MAX, CS_READ_NOFOLLOW, &data, &len, err)) == CS_OK &&
      cs_last_parse((const char *)data, len, out) != CS_OK)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory reading %s", path);
  cs_plat_free_file(data, len);
  return rc;
}

void cs_last_free(cs_last_t *l) {
  size_t i;
  for (i = 0; i < CS_LAST_N; i++)
    free(l->v[i]);
  memset(l, 0, sizeof *l);
}
