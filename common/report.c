#include "report.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "text.h"

int cs_report_init(cs_report_t *r, const char *file) {
  memset(r, 0, sizeof *r);
  r->file = cs_strdup(file);
  return r->file ? CS_OK : CS_ENOMEM;
}

void cs_report_free(cs_report_t *r) {
  size_t i;
  for (i = 0; i < r->n_checks; i++)
    free(r->checks[i].detail);
  free(r->checks);
  free(r->file);
  free(r->subject);
  memset(r, 0, sizeof *r);
}

int cs_report_add(cs_report_t *r, const char *id, bool ok, const char *fmt, ...) {
  char *detail;
  va_list ap;
  int n;
  if (r->n_checks == r->cap_checks) {
    size_t cap = r->cap_checks ? r->cap_checks * 2 : 16;
    cs_check_t *c = realloc(r->checks, cap * sizeof *c);
    if (c == NULL)
      return CS_ENOMEM;
    r->checks = c;
    r->cap_checks = cap;
  }
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return CS_EINVAL;
  detail = malloc((size_t)n + 1);
  if (detail == NULL)
    return CS_ENOMEM;
  va_start(ap, fmt);
  vsnprintf(detail, (size_t)n + 1, fmt, ap);
  va_end(ap);
  r->checks[r->n_checks].id = id;
  r->checks[r->n_checks].ok = ok;
  r->checks[r->n_checks].detail = detail;
  r->n_checks++;
  return CS_OK;
}

const cs_check_t *cs_report_find(const cs_report_t *r, const char *id) {
  size_t i;
  for (i = 0; i < r->n_checks; i++)
    if (strcmp(r->checks[i].id, id) == 0)
      return &r->checks[i];
  return NULL;
}

bool cs_report_accepted(const cs_report_t *r) {
  size_t i;
  if (r->n_checks == 0)
    return false;
  for (i = 0; i < r->n_checks; i++)
    if (!r->checks[i].ok)
      return false;
  return true;
}

static void put_field(cs_buf_t *b, const char *label, const char *value) {
  cs_buf_printf(b, "  %-11s ", label);
  cs_text_sanitize(b, value && *value ? value : "-");
  cs_buf_puts(b, "\n");
}

void cs_report_print_text(const cs_report_t *r, FILE *out) {
  cs_buf_t b = CS_BUF_INIT;
  size_t i;
  cs_text_sanitize(&b, r->file);
  cs_buf_printf(&b, ": %s\n", cs_report_accepted(r) ? "accepted" : "rejected");
  put_field(&b, "thumbprint", r->thumbprint);
  put_field(&b, "subject", r->subject);
  put_field(&b, "not after", r->not_after);
  for (i = 0; i < r->n_checks; i++) {
    cs_buf_printf(&b, "  [%s] %-14s ", r->checks[i].ok ? "ok    " : "FAILED", r->checks[i].id);
    cs_text_sanitize(&b, r->checks[i].detail);
    cs_buf_puts(&b, "\n");
  }
  if (cs_buf_str(&b) != NULL)
    fputs(cs_buf_str(&b), out);
  else
    fputs("out of memory\n", out);
  cs_buf_free(&b);
}

void cs_report_print_json(const cs_report_t *r, FILE *out) {
  cs_buf_t b = CS_BUF_INIT;
  size_t i;
  cs_buf_puts(&b, "{\"file\":");
  cs_json_str(&b, r->file);
  cs_buf_printf(&b, ",\"verdict\":\"%s\",\"thumbprint\":", cs_report_accepted(r) ? "accepted" : "rejected");
  cs_json_str(&b, r->thumbprint[0] ? r->thumbprint : NULL);
  cs_buf_puts(&b, ",\"subject\":");
  cs_json_str(&b, r->subject);
  cs_buf_puts(&b, ",\"not_after\":");
  cs_json_str(&b, r->not_after[0] ? r->not_after : NULL);
  cs_buf_puts(&b, ",\"checks\":[");
  for (i = 0; i < r->n_checks; i++) {
    cs_buf_printf(&b, "%s{\"id\":\"%s\",\"ok\":%s,\"detail\":", i ? "," : "", r->checks[i].id,
                  r->checks[i].ok ? "true" : "false");
    cs_json_str(&b, r->checks[i].detail);
    cs_buf_puts(&b, "}");
  }
  cs_buf_puts(&b, "]}\n");
  if (cs_buf_str(&b) != NULL)
    fputs(cs_buf_str(&b), out);
  else
    fputs("{\"error\":\"out of memory\"}\n", out);
  cs_buf_free(&b);
}
