#include "metrics.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "text.h"

#define P "certsteward_"
#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

static void family(cs_buf_t *b, const char *name, const char *type, const char *help) {
  cs_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: the format escapes only backslash, double quote and newline, and
 * requires UTF-8. Other control characters are legal there but would reach
 * terminals and dashboards verbatim from an attacker-chosen subject, so they
 * become U+FFFD like invalid bytes do. */
static void label_value(cs_buf_t *b, const char *s) {
  const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
  size_t n = strlen((const char *)p), k;
  unsigned long cp;
  while (n > 0) {
    k = cs_utf8_decode(p, n, &cp);
    if (k == 0) {
      cs_buf_puts(b, REPLACEMENT);
      k = 1;
    } else if (cp == '\\') {
      cs_buf_puts(b, "\\\\");
    } else if (cp == '"') {
      cs_buf_puts(b, "\\\"");
    } else if (cp == '\n') {
      cs_buf_puts(b, "\\n");
    } else if (cs_text_unsafe_cp(cp)) {
      cs_buf_puts(b, REPLACEMENT);
    } else {
      cs_buf_append(b, (const char *)p, k);
    }
    p += k;
    n -= k;
  }
}

static void cert_sample(cs_buf_t *b, const char *name, const cs_metrics_cert_t *c, long long value) {
  cs_buf_printf(b, "%s{thumbprint=\"", name);
  label_value(b, c->thumbprint);
  cs_buf_puts(b, "\",subject=\"");
  label_value(b, c->subject);
  cs_buf_puts(b, "\",host=\"");
  label_value(b, c->host);
  cs_buf_puts(b, "\",source=\"");
  label_value(b, c->source);
  cs_buf_printf(b, "\"} %lld\n", value);
}

int cs_metrics_format(const cs_metrics_t *m, long long now, char **out, cs_err_t *err) {
  cs_buf_t b = CS_BUF_INIT;
  size_t i;

  *out = NULL;
  if (m->n_certs > 0 && m->certs == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "metrics: certificates missing");
  for (i = 0; i < m->n_certs; i++) {
    long long t = m->certs[i].not_after;
    if ((now > 0 && t < LLONG_MIN + now) || (now < 0 && t > LLONG_MAX + now))
      return cs_err_set(err, CS_EINVAL, 0, "metrics: notAfter %lld out of range", t); /* the subtraction below */
  }

  family(&b, P "certificate_not_after_seconds", "gauge",
         "Time the certificate stops being valid (notAfter), in seconds since 1970.");
  for (i = 0; i < m->n_certs; i++)
    cert_sample(&b, P "certificate_not_after_seconds", &m->certs[i], m->certs[i].not_after);

  family(&b, P "certificate_expiry_seconds", "gauge",
         "Seconds until the certificate expires, negative once it has expired.");
  for (i = 0; i < m->n_certs; i++)
    cert_sample(&b, P "certificate_expiry_seconds", &m->certs[i], m->certs[i].not_after - now);

  /* no sample before the first renewal: 0 would read as "renewed in 1970" */
  family(&b, P "last_renewal_timestamp_seconds", "gauge",
         "Time the last renewal attempt ended, in seconds since 1970.");
  if (m->last_result != NULL)
    cs_buf_printf(&b, P "last_renewal_timestamp_seconds %lld\n", m->last_time);

  family(&b, P "last_renewal_result", "gauge", "Result of the last renewal attempt, in the label result.");
  if (m->last_result != NULL) {
    cs_buf_puts(&b, P "last_renewal_result{result=\"");
    label_value(&b, m->last_result);
    cs_buf_puts(&b, "\"} 1\n");
  }

  family(&b, P "drops_accepted_total", "counter", "Dropped certificate files that passed every check.");
  cs_buf_printf(&b, P "drops_accepted_total %llu\n", m->drops_accepted);
  family(&b, P "drops_rejected_total", "counter", "Dropped certificate files that were rejected.");
  cs_buf_printf(&b, P "drops_rejected_total %llu\n", m->drops_rejected);
  family(&b, P "rollbacks_total", "counter", "Renewals that failed and were rolled back.");
  cs_buf_printf(&b, P "rollbacks_total %llu\n", m->rollbacks);
  family(&b, P "adopted_total", "counter",
         "Certificates found in the certificate store or the adopt_from folder and put in service.");
  cs_buf_printf(&b, P "adopted_total %llu\n", m->adopted);
  family(&b, P "not_adopted_total", "counter",
         "Certificates found in the certificate store or the adopt_from folder that failed a check or a renewal.");
  cs_buf_printf(&b, P "not_adopted_total %llu\n", m->not_adopted);

  family(&b, P "request_pending", "gauge",
         "1 while a certificate request made by certsteward waits for its certificate, else 0.");
  cs_buf_printf(&b, P "request_pending %d\n", m->request_pending ? 1 : 0);
  if (m->request_pending) {
    family(&b, P "request_age_seconds", "gauge", "Seconds since the certificate request in flight was made.");
    cs_buf_printf(&b, P "request_age_seconds %lld\n", now - m->request_made);
  }

  family(&b, P "metrics_updated_timestamp_seconds", "gauge", "Time this file was written, in seconds since 1970.");
  cs_buf_printf(&b, P "metrics_updated_timestamp_seconds %lld\n", now);

  if (cs_buf_str(&b) == NULL) {
    cs_buf_free(&b);
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  *out = b.p; /* ownership passes to the caller */
  return CS_OK;
}

int cs_metrics_write(const char *path, const cs_metrics_t *m, long long now, cs_err_t *err) {
  char *text = NULL;
  int rc = cs_metrics_format(m, now, &text, err);
  if (rc != CS_OK)
    goto out;
  rc = cs_plat_write_atomic(path, text, strlen(text), 0644, err);
out:
  free(text);
  return rc;
}
