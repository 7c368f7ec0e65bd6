/* The worker's answer: what the writer makes the parser reads back, and whatever
 * else arrives (a crashed worker's half answer, garbage) is CS_EFORMAT. */
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "metrics.h"
#include "reply.h"
#include "text.h"
#include "worker.h"

#define TP "1DEDF7311D54F50785EFCA8C121003C2EB636220"

/* Parses text (NUL-terminated); the caller frees reply. */
static int parse(const char *text, cs_reply_t *reply, cs_err_t *err) {
  cs_err_clear(err);
  return cs_reply_parse(text, strlen(text), reply, err);
}

/* Expects CS_EFORMAT for text, with the reason naming want (may be NULL). */
static void expect_bad(const char *text, const char *want, int line) {
  cs_reply_t r;
  cs_err_t err;
  int rc = parse(text, &r, &err);
  if (rc != CS_EFORMAT)
    cs_test_fail(__FILE__, line, "expected CS_EFORMAT, got %d for \"%.60s\"", rc, text);
  else if (want != NULL && strstr(err.text, want) == NULL)
    cs_test_fail(__FILE__, line, "reason \"%s\" does not name \"%s\"", err.text, want);
  cs_reply_free(&r);
}
#define EXPECT_BAD(text, want) expect_bad((text), (want), __LINE__)

/* A whole validate answer, as the worker writes it. */
static void write_validate(cs_buf_t *b) {
  cs_buf_puts(b, CS_REPLY_MAGIC "\n");
  cs_reply_put(b, "file", "/drop/new cert.pfx");
  cs_reply_put(b, "format", "PKCS#12");
  cs_reply_put(b, "thumbprint", TP);
  cs_reply_put(b, "subject", "CN=board.example.test,O=Cert\xC3\xA9 \x1b[31mred");
  cs_reply_put(b, "not_after", "2027-11-26T23:57:18Z");
  cs_reply_put(b, "not_after_epoch", "1827273438");
  cs_reply_put(b, "key", "yes");
  cs_reply_put(b, "check", "key_match ok the private key in the file belongs to the certificate");
  cs_reply_put(b, "check", "san_host ok board.example.test matches the SAN entry DNS:board.example.test");
  cs_reply_put(b, "check", "eku failed extended key usage lacks serverAuth\n(second line)");
  cs_reply_put(b, "check", "names_kept ok");
  cs_reply_put(b, "staged", "/var/lib/certsteward/stage/1");
  cs_buf_puts(b, "end\n");
}

CS_TEST(validate_answer_round_trips) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  const cs_check_t *c;
  write_validate(&b);
  CHECK(cs_buf_str(&b) != NULL);
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_OK);
  CHECK_STR(r.report.file, "/drop/new cert.pfx");
  CHECK_STR(r.format, "PKCS#12");
  CHECK_STR(r.report.thumbprint, TP);
  /* sanitised by the writer: UTF-8 kept, the escape character spelled out */
  CHECK_STR(r.report.subject, "CN=board.example.test,O=Cert\xC3\xA9 \\x1B[31mred");
  CHECK_STR(r.report.not_after, "2027-11-26T23:57:18Z");
  CHECK_INT(r.not_after_epoch, ==, 1827273438LL);
  CHECK_INT(r.has_key, ==, 1);
  CHECK_INT(r.report.n_checks, ==, 4);
  CHECK(!cs_report_accepted(&r.report));
  c = cs_report_find(&r.report, CS_CHECK_EKU);
  CHECK(c != NULL && !c->ok);
  if (c != NULL)
    CHECK_STR(c->detail, "extended key usage lacks serverAuth\\x0A(second line)");
  c = cs_report_find(&r.report, CS_CHECK_KEY_MATCH);
  CHECK(c != NULL && c->ok);
  c = cs_report_find(&r.report, CS_CHECK_NAMES_KEPT);
  CHECK(c != NULL && c->ok);
  if (c != NULL)
    CHECK_STR(c->detail, "");
  CHECK_STR(r.staged, "/var/lib/certsteward/stage/1");
  CHECK(r.error == NULL);
  CHECK_STR(r.served, "");
  cs_reply_free(&r);
  cs_buf_free(&b);
}

CS_TEST(accepted_answer_parses_accepted) {
  cs_reply_t r;
  cs_err_t err;
  CHECK_INT(parse(CS_REPLY_MAGIC "\nfile a.pem\ncheck load ok read\ncheck chain ok trusted\nend\n", &r, &err), ==,
            CS_OK);
  CHECK(cs_report_accepted(&r.report));
  CHECK_INT(r.has_key, ==, 0);
  CHECK_INT(r.not_after_epoch, ==, 0);
  cs_reply_free(&r);
}

CS_TEST(probe_and_error_answers) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  cs_buf_puts(&b, CS_REPLY_MAGIC "\n");
  cs_reply_put(&b, "served", TP " CN=board.example.test");
  cs_buf_puts(&b, "end\n");
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_OK);
  CHECK_STR(r.served, TP);
  CHECK_STR(r.served_subject, "CN=board.example.test");
  cs_reply_free(&r);
  cs_buf_free(&b);

  /* the writer's NULL subject comes back as none */
  CHECK_INT(parse(CS_REPLY_MAGIC "\nserved " TP " -\nend\n", &r, &err), ==, CS_OK);
  CHECK_STR(r.served, TP);
  CHECK(r.served_subject == NULL);
  cs_reply_free(&r);

  CHECK_INT(parse(CS_REPLY_MAGIC "\nerror 127.0.0.1:8197: cannot connect: Connection refused\nend\n", &r, &err), ==,
            CS_OK);
  CHECK_STR(r.error, "127.0.0.1:8197: cannot connect: Connection refused");
  CHECK_STR(r.served, "");
  cs_reply_free(&r);
}

CS_TEST(put_null_is_dash_and_subject_dash_is_none) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  cs_buf_puts(&b, CS_REPLY_MAGIC "\n");
  cs_reply_put(&b, "subject", NULL);
  cs_buf_puts(&b, "end\n");
  CHECK_CONTAINS(cs_buf_str(&b), "\nsubject -\n");
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_OK);
  CHECK(r.report.subject == NULL);
  cs_reply_free(&r);
  cs_buf_free(&b);
}

CS_TEST(unknown_keys_ignored) {
  cs_reply_t r;
  cs_err_t err;
  CHECK_INT(parse(CS_REPLY_MAGIC "\nversion 0.1.0\nfile a.pem\nfuture_key whatever it says\nflag\n"
                                 "thumbprint " TP "\nend\n",
                  &r, &err),
            ==, CS_OK);
  CHECK_STR(r.report.file, "a.pem");
  CHECK_STR(r.report.thumbprint, TP);
  cs_reply_free(&r);
}

/* The certificate's DNS names (scan): one line, kept as said; a second one or an empty
 * one is not an answer */
CS_TEST(dns_names_line) {
  cs_reply_t r;
  cs_err_t err;
  CHECK_INT(
      parse(CS_REPLY_MAGIC "\nfile a.pem\nthumbprint " TP "\ndns board.example.com alt.example.com\nend\n", &r, &err),
      ==, CS_OK);
  CHECK_STR(r.dns, "board.example.com alt.example.com");
  cs_reply_free(&r);
  CHECK(r.dns == NULL);
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a.pem\ndns a.example\ndns b.example\nend\n", "a second dns line");
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a.pem\ndns\nend\n", "dns without a value");
}

CS_TEST(windows_line_ends_accepted) {
  cs_reply_t r;
  cs_err_t err;
  CHECK_INT(parse(CS_REPLY_MAGIC "\r\nfile a.pem\r\nkey no\r\nend\r\n", &r, &err), ==, CS_OK);
  CHECK_STR(r.report.file, "a.pem");
  cs_reply_free(&r);
}

CS_TEST(empty_answer) {
  cs_reply_t r;
  cs_err_t err;
  CHECK_INT(cs_reply_parse("", 0, &r, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "empty");
  cs_reply_free(&r);
  EXPECT_BAD("\n", "line 1");
}

CS_TEST(missing_magic) {
  EXPECT_BAD("file a.pem\nend\n", "line 1");
  EXPECT_BAD("certsteward-worker 2\nend\n", "line 1");
  EXPECT_BAD("certsteward-worker 1 \nend\n", "line 1");
  EXPECT_BAD("end\n", "line 1");
}

/* What a worker that crashed half-way leaves behind. */
CS_TEST(missing_end_is_truncated) {
  cs_buf_t b = CS_BUF_INIT;
  size_t cut;
  EXPECT_BAD(CS_REPLY_MAGIC "\n", "no end line");
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a.pem\ncheck load ok read\n", "no end line");
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a.pem\nen", "line 3");
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a.pem\nend", "line 3"); /* even "end" needs its newline */
  /* every proper prefix of a real answer is refused */
  write_validate(&b);
  for (cut = 0; cut < b.len; cut++) {
    cs_reply_t r;
    cs_err_t err;
    int rc = cs_reply_parse(b.p, cut, &r, &err);
    if (rc != CS_EFORMAT)
      cs_test_fail(__FILE__, __LINE__, "a prefix of %zu bytes parsed (%d)", cut, rc);
    cs_reply_free(&r);
  }
  cs_buf_free(&b);
}

CS_TEST(data_after_end) {
  EXPECT_BAD(CS_REPLY_MAGIC "\nend\nfile a.pem\n", "line 3");
  EXPECT_BAD(CS_REPLY_MAGIC "\nend\nend\n", "after the end");
}

CS_TEST(over_long_line) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  char *big = malloc(CS_REPLY_LINE_MAX + 16);
  CHECK(big != NULL);
  if (big == NULL)
    return;
  memset(big, 'a', CS_REPLY_LINE_MAX + 15);
  big[CS_REPLY_LINE_MAX + 15] = '\0';
  /* a raw line over the limit */
  cs_buf_puts(&b, CS_REPLY_MAGIC "\nsubject ");
  cs_buf_puts(&b, big);
  cs_buf_puts(&b, "\nend\n");
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "line 2");
  cs_reply_free(&r);
  cs_buf_free(&b);
  /* the writer cuts an over-long value so that its answer still parses */
  cs_buf_puts(&b, CS_REPLY_MAGIC "\n");
  cs_reply_put(&b, "subject", big);
  cs_buf_puts(&b, "end\n");
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_OK);
  CHECK(r.report.subject != NULL && strlen(r.report.subject) < CS_REPLY_LINE_MAX);
  if (r.report.subject != NULL)
    CHECK_INT(strcmp(r.report.subject + strlen(r.report.subject) - 3, "..."), ==, 0);
  cs_reply_free(&r);
  cs_buf_free(&b);
  free(big);
}

CS_TEST(answer_over_total_limit) {
  cs_reply_t r;
  cs_err_t err;
  size_t n = (size_t)CS_REPLY_MAX + 1;
  char *big = malloc(n);
  CHECK(big != NULL);
  if (big == NULL)
    return;
  memset(big, '\n', n);
  memcpy(big, CS_REPLY_MAGIC "\n", sizeof CS_REPLY_MAGIC);
  CHECK_INT(cs_reply_parse(big, n, &r, &err), ==, CS_EFORMAT);
  cs_reply_free(&r);
  free(big);
}

CS_TEST(bad_thumbprint) {
  EXPECT_BAD(CS_REPLY_MAGIC "\nthumbprint 1dedf7311d54f50785efca8c121003c2eb636220\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nthumbprint 1DEDF7311D54F50785EFCA8C121003C2EB63622\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nthumbprint 1DEDF7311D54F50785EFCA8C121003C2EB6362200\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nthumbprint 1DEDF7311D54F50785EFCA8C121003C2EB63622G\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nthumbprint\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a\nserved 1DEDF7311D54F50785EFCA8C121003C2EB63622 CN=x\nend\n", "line 3");
  EXPECT_BAD(CS_REPLY_MAGIC "\nserved\nend\n", "line 2");
}

CS_TEST(unknown_check_id) {
  EXPECT_BAD(CS_REPLY_MAGIC "\ncheck telepathy ok fine\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\ncheck load\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\ncheck load maybe read\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\ncheck LOAD ok read\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\ncheck\nend\n", "line 2");
}

CS_TEST(malformed_known_lines) {
  EXPECT_BAD(CS_REPLY_MAGIC "\nnot_after 2027-11-26 23:57:18Z\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nnot_after 2027-11-26T23:57:18\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nnot_after_epoch 12x\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nnot_after_epoch 99999999999999999999999\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nnot_after_epoch\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nkey maybe\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nformat JKS\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\n key\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nFile a.pem\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\n\nend\n", "line 2");
}

/* One answer describes one item: a second record must not merge into the first. */
CS_TEST(second_record_refused) {
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a.pem\nthumbprint " TP "\nfile b.pem\nend\n", "line 4");
  EXPECT_BAD(CS_REPLY_MAGIC "\nserved " TP " CN=a\nserved " TP " CN=b\nend\n", "line 3");
  EXPECT_BAD(CS_REPLY_MAGIC "\nerror a\nerror b\nend\n", "line 3");
}

CS_TEST(garbage_bytes) {
  unsigned char junk[4096];
  unsigned long s = 0x2545F491UL;
  cs_reply_t r;
  cs_err_t err;
  size_t i;
  for (i = 0; i < sizeof junk; i++) {
    s ^= (s << 13) & 0xFFFFFFFFUL;
    s ^= s >> 17;
    s ^= (s << 5) & 0xFFFFFFFFUL;
    junk[i] = (unsigned char)(s >> 24);
  }
  CHECK_INT(cs_reply_parse((const char *)junk, sizeof junk, &r, &err), ==, CS_EFORMAT);
  cs_reply_free(&r);
  /* garbage after a good start: control bytes, a NUL, invalid UTF-8 */
  EXPECT_BAD(CS_REPLY_MAGIC "\nsubject CN=\x1b[2J\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nsubject CN=\xff\xfe\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\nsubject a\rb\nend\n", "line 2");
  {
    static const char nul[] = CS_REPLY_MAGIC "\nfile a\0b\nend\n";
    CHECK_INT(cs_reply_parse(nul, sizeof nul - 1, &r, &err), ==, CS_EFORMAT);
    CHECK_CONTAINS(err.text, "line 2");
    cs_reply_free(&r);
  }
  /* binary junk appended after a complete answer */
  {
    char buf[64 + sizeof junk];
    size_t n = strlen(CS_REPLY_MAGIC "\nend\n");
    memcpy(buf, CS_REPLY_MAGIC "\nend\n", n);
    memcpy(buf + n, junk, sizeof junk);
    CHECK_INT(cs_reply_parse(buf, n + sizeof junk, &r, &err), ==, CS_EFORMAT);
    cs_reply_free(&r);
  }
}

/* ---- one rule for unsafe code points: the parser and the sanitisers agree ---------- */

/* s (len bytes) between "a" and "b", as the subject of an answer; 1 when it parses. */
static int subject_accepted(const char *s, size_t len) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  int rc;
  cs_buf_puts(&b, CS_REPLY_MAGIC "\nsubject a");
  cs_buf_append(&b, s, len);
  cs_buf_puts(&b, "b\nend\n");
  rc = cs_reply_parse(b.p, b.len, &r, &err);
  cs_reply_free(&r);
  cs_buf_free(&b);
  return rc == CS_OK;
}

/* 1 when the metrics file carries the bytes of s unchanged in a subject label. */
static int metrics_keep(const char *s) {
  cs_metrics_cert_t c = {TP, NULL, "h", "service", 1827273438LL};
  cs_metrics_t m;
  char subject[32], *text = NULL;
  cs_err_t err;
  int kept;
  snprintf(subject, sizeof subject, "a%sb", s);
  c.subject = subject;
  memset(&m, 0, sizeof m);
  m.certs = &c;
  m.n_certs = 1;
  CHECK_INT(cs_metrics_format(&m, 1767225600LL, &text, &err), ==, CS_OK);
  kept = text != NULL && strstr(text, subject) != NULL;
  free(text);
  return kept;
}

/* Each code point at a boundary of the rule (C0, DEL, C1, U+2028/9, the bidi controls
 * around them, the last code points) and invalid UTF-8: cs_text_unsafe_cp says which are
 * unsafe; cs_text_sanitize, cs_json_str and the metrics keep exactly the others, the
 * parser accepts exactly the others, and it accepts whatever the sanitiser writes. */
CS_TEST(parser_and_sanitisers_agree_on_code_points) {
  static const unsigned long cps[] = {0x00,   0x01,   0x09,   0x0A,   0x0D,   0x1B,   0x1F,    0x20,    0x7E,   0x7F,
                                      0x80,   0x85,   0x9B,   0x9F,   0xA0,   0xFF,   0x200E,  0x2027,  0x2028, 0x2029,
                                      0x202A, 0x202E, 0x2066, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF};
  static const unsigned long unsafe[] = {0x00, 0x01, 0x09, 0x0A, 0x0D, 0x1B,   0x1F,
                                         0x7F, 0x80, 0x85, 0x9B, 0x9F, 0x2028, 0x2029};
  static const char *const invalid[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xe2\x80", "\xf4\x90\x80\x80", "\x80"};
  size_t i, j;
  for (i = 0; i < sizeof cps / sizeof cps[0]; i++) {
    unsigned long cp = cps[i], back = 0;
    char u[5] = "";
    int want_unsafe = 0, len;
    cs_buf_t san = CS_BUF_INIT, json = CS_BUF_INIT;
    for (j = 0; j < sizeof unsafe / sizeof unsafe[0]; j++)
      want_unsafe |= unsafe[j] == cp;
    /* UTF-8 of cp */
    if (cp < 0x80) {
      u[0] = (char)cp, len = 1;
    } else if (cp < 0x800) {
      u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), len = 2;
    } else if (cp < 0x10000) {
      u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)), u[2] = (char)(0x80 | (cp & 0x3F)),
      len = 3;
    } else {
      u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)), u[2] = (char)(0x80 | (cp >> 6 & 0x3F));
      u[3] = (char)(0x80 | (cp & 0x3F)), len = 4;
    }
    CHECK_INT(cs_utf8_decode((const unsigned char *)u, (size_t)len, &back), ==, len);
    CHECK_INT(back, ==, cp);
    if (cs_text_unsafe_cp(cp) != want_unsafe)
      cs_test_fail(__FILE__, __LINE__, "U+%04lX: cs_text_unsafe_cp says %d", cp, !want_unsafe);
    /* a line break ends the answer's line: that is the protocol, not this rule */
    if (cp != '\n' && subject_accepted(u, (size_t)len) != !want_unsafe)
      cs_test_fail(__FILE__, __LINE__, "U+%04lX: the parser %s it", cp, want_unsafe ? "accepts" : "refuses");
    if (cp == 0)
      continue; /* a C string ends there: nothing more to sanitise */
    cs_text_sanitize(&san, u);
    if ((strcmp(cs_buf_str(&san), u) == 0) != !want_unsafe)
      cs_test_fail(__FILE__, __LINE__, "U+%04lX: cs_text_sanitize gives \"%s\"", cp, cs_buf_str(&san));
    if (!subject_accepted(san.p, san.len))
      cs_test_fail(__FILE__, __LINE__, "U+%04lX: the parser refuses the sanitiser's \"%s\"", cp, cs_buf_str(&san));
    cs_json_str(&json, u);
    if ((strstr(cs_buf_str(&json), u) != NULL) != !want_unsafe)
      cs_test_fail(__FILE__, __LINE__, "U+%04lX: cs_json_str gives %s", cp, cs_buf_str(&json));
    if (metrics_keep(u) != !want_unsafe)
      cs_test_fail(__FILE__, __LINE__, "U+%04lX: the metrics %s it", cp, want_unsafe ? "keep" : "change");
    cs_buf_free(&san);
    cs_buf_free(&json);
  }
  for (i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
    cs_buf_t san = CS_BUF_INIT;
    CHECK(!subject_accepted(invalid[i], strlen(invalid[i])));
    cs_text_sanitize(&san, invalid[i]);
    CHECK(strcmp(cs_buf_str(&san), invalid[i]) != 0);
    CHECK(subject_accepted(san.p, san.len));
    CHECK(!metrics_keep(invalid[i]));
    cs_buf_free(&san);
  }
}

/* ---- a scan of many files: one record per file ---------------------------------- */

/* The answer certsteward-worker scan a.pem b.bin c.pem writes: b.bin is no certificate. */
static void write_scan(cs_buf_t *b) {
  cs_buf_puts(b, CS_REPLY_MAGIC "\n");
  cs_reply_put(b, "file", "/m/a.pem");
  cs_reply_put(b, "thumbprint", TP);
  cs_reply_put(b, "subject", "CN=a");
  cs_reply_put(b, "not_after", "2027-11-26T23:57:18Z");
  cs_reply_put(b, "not_after_epoch", "1827273438");
  cs_reply_put(b, "file", "/m/b\x1b.bin");
  cs_reply_put(b, "error", "/m/b\x1b.bin: not a certificate file");
  cs_reply_put(b, "file", "/m/c.pem");
  cs_reply_put(b, "thumbprint", "A1E6860BF1D6877960802ADC120D5F686C07B4CF");
  cs_reply_put(b, "subject", NULL);
  cs_reply_put(b, "not_after", "2030-01-01T00:00:00Z");
  cs_reply_put(b, "not_after_epoch", "1893456000");
  cs_buf_puts(b, "end\n");
}

CS_TEST(many_records_round_trip) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_many_t m;
  cs_err_t err;
  write_scan(&b);
  CHECK_INT(cs_reply_parse_many(b.p, b.len, 3, &m, &err), ==, CS_OK);
  CHECK_INT(m.n, ==, 3);
  CHECK(m.head.error == NULL);
  if (m.n == 3) {
    CHECK_STR(m.items[0].report.file, "/m/a.pem");
    CHECK_STR(m.items[0].report.thumbprint, TP);
    CHECK_STR(m.items[0].report.subject, "CN=a");
    CHECK_INT(m.items[0].not_after_epoch, ==, 1827273438LL);
    CHECK(m.items[0].error == NULL);
    CHECK_STR(m.items[1].report.file, "/m/b\\x1B.bin"); /* as the writer sanitised it */
    CHECK_STR(m.items[1].error, "/m/b\\x1B.bin: not a certificate file");
    CHECK_STR(m.items[1].report.thumbprint, ""); /* nothing of a neighbour merged in */
    CHECK_INT(m.items[1].not_after_epoch, ==, 0);
    CHECK_STR(m.items[2].report.thumbprint, "A1E6860BF1D6877960802ADC120D5F686C07B4CF");
    CHECK(m.items[2].report.subject == NULL);
    CHECK_STR(m.items[2].report.not_after, "2030-01-01T00:00:00Z");
  }
  cs_reply_many_free(&m);
  CHECK(m.items == NULL && m.n == 0);
  /* more records than files asked: refused, not truncated */
  CHECK_INT(cs_reply_parse_many(b.p, b.len, 2, &m, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "more than 2 files");
  cs_reply_many_free(&m);
  cs_buf_free(&b);
}

/* A worker that crashed half-way through the list: every proper prefix is refused. */
CS_TEST(many_records_cut_short_refused) {
  cs_buf_t b = CS_BUF_INIT;
  size_t cut;
  write_scan(&b);
  for (cut = 0; cut < b.len; cut++) {
    cs_reply_many_t m;
    cs_err_t err;
    int rc = cs_reply_parse_many(b.p, cut, 3, &m, &err);
    if (rc != CS_EFORMAT)
      cs_test_fail(__FILE__, __LINE__, "a prefix of %zu bytes parsed (%d)", cut, rc);
    cs_reply_many_free(&m);
  }
  cs_buf_free(&b);
}

/* Each record is one file's: a key twice in one record is refused, and so is what
 * belongs to a file before any file line; an error there is the whole answer's. */
CS_TEST(many_records_keep_one_file_rules) {
  cs_reply_many_t m;
  cs_err_t err;
  static const char *const bad[] = {
      CS_REPLY_MAGIC "\nfile a\nthumbprint " TP "\nthumbprint " TP "\nend\n",
      CS_REPLY_MAGIC "\nthumbprint " TP "\nfile a\nend\n",
      CS_REPLY_MAGIC "\nfile a\nerror x\nerror y\nend\n",
      CS_REPLY_MAGIC "\nfile\nend\n",
      CS_REPLY_MAGIC "\nfile a\nnot_after_epoch soon\nend\n",
      CS_REPLY_MAGIC "\nfile a\nend\nfile b\nend\n",
  };
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = cs_reply_parse_many(bad[i], strlen(bad[i]), 10, &m, &err);
    if (rc != CS_EFORMAT)
      cs_test_fail(__FILE__, __LINE__, "answer %zu parsed (%d)", i, rc);
    cs_reply_many_free(&m);
  }
  /* the same key in two records is two files, not a second line */
  {
    static const char two[] = CS_REPLY_MAGIC "\nfile a\nerror x\nfile b\nerror y\nend\n";
    CHECK_INT(cs_reply_parse_many(two, sizeof two - 1, 10, &m, &err), ==, CS_OK);
  }
  CHECK_INT(m.n, ==, 2);
  if (m.n == 2)
    CHECK_STR(m.items[1].error, "y");
  cs_reply_many_free(&m);
  /* the scan could not start: an error before any file, and no record */
  {
    static const char head[] = CS_REPLY_MAGIC "\nversion 9\nerror cannot load OpenSSL\nend\n";
    CHECK_INT(cs_reply_parse_many(head, sizeof head - 1, 10, &m, &err), ==, CS_OK);
  }
  CHECK_INT(m.n, ==, 0);
  CHECK_STR(m.head.error, "cannot load OpenSSL");
  cs_reply_many_free(&m);
  /* a one-file answer is the one-file parser's: a second file is still refused there */
  EXPECT_BAD(CS_REPLY_MAGIC "\nfile a\nfile b\nend\n", "line 3");
}

/* How many files one worker scan takes: at most CS_WORKER_SCAN_FILES, fewer when their
 * paths would not fit a Windows command line, never none. */
CS_TEST(scan_chunks_fit_a_command_line) {
  static char longp[40000], mid[1001];
  const char *files[CS_WORKER_SCAN_FILES + 100];
  cs_worker_t w;
  size_t i, k;
  memset(&w, 0, sizeof w);
  snprintf(w.exe, sizeof w.exe, "/usr/bin/certsteward-worker");
  for (i = 0; i < sizeof files / sizeof files[0]; i++)
    files[i] = "/var/lib/certs/a-certificate-with-a-name.pem";
  CHECK_INT(cs_worker_scan_fit(&w, files, 3), ==, 3);
  CHECK_INT(cs_worker_scan_fit(&w, files, sizeof files / sizeof files[0]), ==, CS_WORKER_SCAN_FILES);
  CHECK_INT(cs_worker_scan_fit(&w, files, 0), ==, 0);
  memset(mid, 'x', sizeof mid - 1);
  for (i = 0; i < 100; i++)
    files[i] = mid;
  k = cs_worker_scan_fit(&w, files, 100);
  CHECK(k >= 25 && k <= 31);         /* 1,003 characters each in 32,000 less the program */
  memset(mid, '\\', sizeof mid - 1); /* backslashes may be doubled: counted twice */
  CHECK(cs_worker_scan_fit(&w, files, 100) <= k / 2 + 1);
  memset(longp, 'y', sizeof longp - 1);
  files[0] = longp;
  CHECK_INT(cs_worker_scan_fit(&w, files, 100), ==, 1); /* alone, and the system says if it is too long */
}

/* ---- validate with the pre-flight: what each endpoint serves, in order ------------ */

CS_TEST(preflight_lines_in_order) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  cs_buf_puts(&b, CS_REPLY_MAGIC "\n");
  cs_reply_put(&b, "file", "/drop/a.pfx");
  cs_reply_put(&b, "check", "load ok read");
  cs_reply_put(&b, "preflight", TP " 127.0.0.1:8197");
  cs_reply_put(&b, "preflight", "- [::1]:8096");
  cs_buf_puts(&b, "end\n");
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_OK);
  CHECK_INT(r.n_preflight, ==, 2);
  if (r.n_preflight == 2) {
    CHECK_STR(r.preflight[0].tp, TP);
    CHECK_STR(r.preflight[0].endpoint, "127.0.0.1:8197");
    CHECK_STR(r.preflight[1].tp, ""); /* could not be probed */
    CHECK_STR(r.preflight[1].endpoint, "[::1]:8096");
  }
  CHECK_STR(r.served, ""); /* not a probe's answer */
  cs_reply_free(&r);
  cs_buf_free(&b);
}

CS_TEST(preflight_lines_malformed_or_too_many) {
  cs_buf_t b = CS_BUF_INIT;
  cs_reply_t r;
  cs_err_t err;
  int i;
  EXPECT_BAD(CS_REPLY_MAGIC "\npreflight " TP "\nend\n", "line 2");  /* no endpoint */
  EXPECT_BAD(CS_REPLY_MAGIC "\npreflight " TP " \nend\n", "line 2"); /* empty endpoint */
  EXPECT_BAD(CS_REPLY_MAGIC "\npreflight 1dedf7311d54f50785efca8c121003c2eb636220 a:1\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\npreflight -- a:1\nend\n", "line 2");
  EXPECT_BAD(CS_REPLY_MAGIC "\npreflight\nend\n", "line 2");
  cs_buf_puts(&b, CS_REPLY_MAGIC "\n");
  for (i = 0; i <= CS_REPLY_PREFLIGHT_MAX; i++)
    cs_reply_put(&b, "preflight", "- a:1");
  cs_buf_puts(&b, "end\n");
  CHECK_INT(cs_reply_parse(b.p, b.len, &r, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "more than");
  cs_reply_free(&r);
  cs_buf_free(&b);
}
