/* common/metrics.c: the exact text for a fixed input, escaping and sanitising of
 * hostile label values, and Prometheus' own checker (promtool) accepting the file.
 * Each test works in a fresh temporary folder and removes it at its end. */
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "platform.h"
#include "text.h"

#ifndef _WIN32
#include <sys/stat.h> /* the metrics file's mode */
#endif

#define TP "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9"
#define TP2 "A1B2C3D4E5F60718293A4B5C6D7E8F9001122334"
#define R "\xEF\xBF\xBD" /* U+FFFD */

/* Quotes, backslashes, a newline, control bytes (an ANSI colour sequence), an
 * invalid byte, a cut-short sequence, U+2028, and a valid non-ASCII letter. */
#define HOSTILE "CN=\"evil\\\"\n}\x01\x1b[31m\xff\xc3(\xe2\x80\xa8ok \xc3\xa9"
#define HOSTILE_ESCAPED "CN=\\\"evil\\\\\\\"\\n}" R R "[31m" R R "(" R "ok \xc3\xa9"

static char tmp_dir[1024];
static char path_buf[1200];

static void tmp_open(void) { cs_test_mkdtemp("cs-metrics", tmp_dir, sizeof tmp_dir); }

static void tmp_close(void) {
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
  CHECK(!cs_plat_exists(tmp_dir));
}

static const char *tmp_path(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", tmp_dir, name);
  return path_buf;
}

static const cs_metrics_cert_t FIXED_CERTS[] = {
    {TP, "CN=board.example.test,O=Example", "board.example.test", "service", 1827272729LL},
    {TP2, "CN=board.example.test", "board.example.test", "/etc/certsteward/monitor/old.pem", 1699999900LL},
};

static cs_metrics_t fixed_input(void) {
  cs_metrics_t m;
  memset(&m, 0, sizeof m);
  m.certs = FIXED_CERTS;
  m.n_certs = 2;
  m.last_result = "rolled-back";
  m.last_time = 1699990000LL;
  m.drops_accepted = 3;
  m.drops_rejected = 2;
  m.adopted = 4;
  m.not_adopted = 5;
  m.rollbacks = 1;
  m.request_pending = 1;
  m.request_made = 1699996400LL;
  return m;
}

#define LABELS1                                                                                                        \
  "{thumbprint=\"" TP "\",subject=\"CN=board.example.test,O=Example\",host=\"board.example.test\",source=\"service\"}"
#define LABELS2                                                                                                        \
  "{thumbprint=\"" TP2                                                                                                 \
  "\",subject=\"CN=board.example.test\",host=\"board.example.test\",source=\"/etc/certsteward/monitor/old.pem\"}"

static const char EXPECTED[] =
    "# HELP certsteward_certificate_not_after_seconds Time the certificate stops being valid (notAfter), in seconds "
    "since 1970.\n"
    "# TYPE certsteward_certificate_not_after_seconds gauge\n"
    "certsteward_certificate_not_after_seconds" LABELS1 " 1827272729\n"
    "certsteward_certificate_not_after_seconds" LABELS2 " 1699999900\n"
    "# HELP certsteward_certificate_expiry_seconds Seconds until the certificate expires, negative once it has "
    "expired.\n"
    "# TYPE certsteward_certificate_expiry_seconds gauge\n"
    "certsteward_certificate_expiry_seconds" LABELS1 " 127272729\n"
    "certsteward_certificate_expiry_seconds" LABELS2 " -100\n"
    "# HELP certsteward_last_renewal_timestamp_seconds Time the last renewal attempt ended, in seconds since 1970.\n"
    "# TYPE certsteward_last_renewal_timestamp_seconds gauge\n"
    "certsteward_last_renewal_timestamp_seconds 1699990000\n"
    "# HELP certsteward_last_renewal_result Result of the last renewal attempt, in the label result.\n"
    "# TYPE certsteward_last_renewal_result gauge\n"
    "certsteward_last_renewal_result{result=\"rolled-back\"} 1\n"
    "# HELP certsteward_drops_accepted_total Dropped certificate files that passed every check.\n"
    "# TYPE certsteward_drops_accepted_total counter\n"
    "certsteward_drops_accepted_total 3\n"
    "# HELP certsteward_drops_rejected_total Dropped certificate files that were rejected.\n"
    "# TYPE certsteward_drops_rejected_total counter\n"
    "certsteward_drops_rejected_total 2\n"
    "# HELP certsteward_rollbacks_total Renewals that failed and were rolled back.\n"
    "# TYPE certsteward_rollbacks_total counter\n"
    "certsteward_rollbacks_total 1\n"
    "# HELP certsteward_adopted_total Certificates found in the certificate store or the adopt_from folder and put in "
    "service.\n"
    "# TYPE certsteward_adopted_total counter\n"
    "certsteward_adopted_total 4\n"
    "# HELP certsteward_not_adopted_total Certificates found in the certificate store or the adopt_from folder that "
    "failed a check or a renewal.\n"
    "# TYPE certsteward_not_adopted_total counter\n"
    "certsteward_not_adopted_total 5\n"
    "# HELP certsteward_request_pending 1 while a certificate request made by certsteward waits for its "
    "certificate, else 0.\n"
    "# TYPE certsteward_request_pending gauge\n"
    "certsteward_request_pending 1\n"
    "# HELP certsteward_request_age_seconds Seconds since the certificate request in flight was made.\n"
    "# TYPE certsteward_request_age_seconds gauge\n"
    "certsteward_request_age_seconds 3600\n"
    "# HELP certsteward_metrics_updated_timestamp_seconds Time this file was written, in seconds since 1970.\n"
    "# TYPE certsteward_metrics_updated_timestamp_seconds gauge\n"
    "certsteward_metrics_updated_timestamp_seconds 1700000000\n";

CS_TEST(exact_text) {
  cs_metrics_t m = fixed_input();
  cs_err_t err;
  char *text;
  tmp_open();
  CHECK_INT(cs_metrics_write(tmp_path("certsteward.prom"), &m, 1700000000LL, &err), ==, 0);
  text = cs_test_read_text(tmp_path("certsteward.prom"));
  CHECK_STR(text, EXPECTED);
  free(text);
#ifndef _WIN32
  {
    struct stat sb; /* node_exporter runs as another user */
    CHECK_INT(stat(tmp_path("certsteward.prom"), &sb), ==, 0);
    CHECK_INT(sb.st_mode & 0777, ==, 0644);
  }
#endif
  /* rewritten in place: still one file, now without a renewal and without certificates */
  m.last_result = NULL;
  m.n_certs = 0;
  CHECK_INT(cs_metrics_write(tmp_path("certsteward.prom"), &m, 1700000060LL, &err), ==, 0);
  text = cs_test_read_text(tmp_path("certsteward.prom"));
  CHECK_CONTAINS(text, "# TYPE certsteward_last_renewal_result gauge\n# HELP certsteward_drops_accepted_total");
  CHECK_CONTAINS(text,
                 "# TYPE certsteward_last_renewal_timestamp_seconds gauge\n# HELP certsteward_last_renewal_result");
  CHECK_CONTAINS(text, "# TYPE certsteward_certificate_not_after_seconds gauge\n# HELP certsteward_certificate_expiry");
  CHECK_CONTAINS(text, "certsteward_metrics_updated_timestamp_seconds 1700000060\n");
  free(text);
  tmp_close();
}

/* 1 if s is valid UTF-8 with no control character but the line ends. */
static int clean_utf8(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  size_t n = strlen(s), k;
  unsigned long cp;
  while (n > 0) {
    k = cs_utf8_decode(p, n, &cp);
    if (k == 0 || (cp < 0x20 && cp != '\n') || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
      return 0;
    p += k;
    n -= k;
  }
  return 1;
}

CS_TEST(hostile_labels_escaped) {
  cs_metrics_cert_t c = {HOSTILE, HOSTILE, "a\\b", "C:\\certs\\\"x\".pem", 1700000000LL};
  cs_metrics_t m;
  char *text = NULL;
  const char *p, *next;
  int samples = 0;
  memset(&m, 0, sizeof m);
  m.certs = &c;
  m.n_certs = 1;
  m.last_result = "bad\"\nresult\\";
  m.last_time = 1;
  CHECK_INT(cs_metrics_format(&m, 1700000000LL, &text, NULL), ==, 0);
  CHECK_CONTAINS(text,
                 "certsteward_certificate_expiry_seconds{thumbprint=\"" HOSTILE_ESCAPED "\",subject=\"" HOSTILE_ESCAPED
                 "\",host=\"a\\\\b\",source=\"C:\\\\certs\\\\\\\"x\\\".pem\"} 0\n");
  CHECK_CONTAINS(text, "certsteward_last_renewal_result{result=\"bad\\\"\\nresult\\\\\"} 1\n");
  CHECK(text != NULL && clean_utf8(text));
  /* no line was split: every line is a comment or one sample of ours */
  for (p = text; p != NULL && *p != '\0'; p = next) {
    next = strchr(p, '\n');
    CHECK(next != NULL);
    if (next != NULL)
      next++;
    if (strncmp(p, "# HELP certsteward_", 19) == 0 || strncmp(p, "# TYPE certsteward_", 19) == 0)
      continue;
    CHECK(strncmp(p, "certsteward_", 12) == 0);
    samples++;
  }
  CHECK_INT(samples, ==, 2 + 2 + 5 + 1 + 1); /* ... counters, request_pending, updated */
  free(text);
  /* NULL strings are empty label values */
  c.thumbprint = c.subject = c.host = c.source = NULL;
  CHECK_INT(cs_metrics_format(&m, 1700000000LL, &text, NULL), ==, 0);
  CHECK_CONTAINS(
      text,
      "certsteward_certificate_not_after_seconds{thumbprint=\"\",subject=\"\",host=\"\",source=\"\"} 1700000000\n");
  free(text);
}

/* promtool check metrics < path: 0 when promtool is content, else its words. */
static int promtool_check(const char *path, char **said) {
  cs_buf_t cmd = CS_BUF_INIT;
  char out[1200];
  int rc;
  if (snprintf(out, sizeof out, "%s.promtool", path) >= (int)sizeof out)
    return -1;
  cs_buf_printf(&cmd, "promtool check metrics < \"%s\" > \"%s\" 2>&1", path, out);
  rc = cs_buf_str(&cmd) != NULL ? system(cs_buf_str(&cmd)) : -1;
  *said = cs_test_read_text(out);
  cs_plat_remove(out, NULL);
  cs_buf_free(&cmd);
  return rc;
}

CS_TEST(promtool_accepts) {
  cs_metrics_cert_t hostile[2] = {{HOSTILE, HOSTILE, "board.example.test", "service", 1700000000LL},
                                  {TP2, "CN=\xff", "h", "/x", -5}};
  static const char broken[] = "certsteward_x{a=\"\n\"} 1\n";
  cs_metrics_t m = fixed_input();
  char *said = NULL;
  int rc;
  tmp_open();
  /* missing promtool fails the test: a skipped check proves nothing */
  if (system("promtool --version > " CS_TEST_NULL_DEVICE " 2>&1") != 0) {
    cs_test_fail(
        __FILE__, __LINE__,
        "promtool not found on PATH: install it (Debian 12: apt-get install --no-install-recommends prometheus)");
    tmp_close();
    return;
  }
  CHECK_INT(cs_metrics_write(tmp_path("fixed.prom"), &m, 1700000000LL, NULL), ==, 0);
  rc = promtool_check(tmp_path("fixed.prom"), &said);
  if (rc != 0)
    cs_test_fail(__FILE__, __LINE__, "promtool check metrics (fixed input): status %d: %s", rc, said ? said : "");
  free(said);

  m.certs = hostile;
  m.n_certs = 2;
  m.last_result = HOSTILE;
  CHECK_INT(cs_metrics_write(tmp_path("hostile.prom"), &m, 1700000000LL, NULL), ==, 0);
  rc = promtool_check(tmp_path("hostile.prom"), &said);
  if (rc != 0)
    cs_test_fail(__FILE__, __LINE__, "promtool check metrics (hostile input): status %d: %s", rc, said ? said : "");
  free(said);

  m.n_certs = 0;
  m.last_result = NULL;
  CHECK_INT(cs_metrics_write(tmp_path("empty.prom"), &m, 1700000000LL, NULL), ==, 0);
  rc = promtool_check(tmp_path("empty.prom"), &said);
  if (rc != 0)
    cs_test_fail(__FILE__, __LINE__, "promtool check metrics (no certificate, no renewal): status %d: %s", rc,
                 said ? said : "");
  free(said);

  /* and it does complain about a broken file, so the checks above mean something */
  CHECK_INT(cs_plat_write_atomic(tmp_path("broken.prom"), broken, strlen(broken), 0644, NULL), ==, 0);
  rc = promtool_check(tmp_path("broken.prom"), &said);
  CHECK(rc != 0);
  free(said);
  tmp_close();
}
