/* JSON escaping and log-line sanitising of untrusted bytes; reports. */
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "report.h"
#include "text.h"

static void json_is(const char *in, const char *want) {
  cs_buf_t b = CS_BUF_INIT;
  cs_json_str(&b, in);
  CHECK_STR(cs_buf_str(&b), want);
  cs_buf_free(&b);
}

static void sanitized_is(const char *in, const char *want) {
  cs_buf_t b = CS_BUF_INIT;
  cs_text_sanitize(&b, in);
  CHECK_STR(cs_buf_str(&b), want);
  cs_buf_free(&b);
}

CS_TEST(json_plain_and_specials) {
  json_is("abc", "\"abc\"");
  json_is("a\"b\\c", "\"a\\\"b\\\\c\"");
  json_is("l1\nl2\r\t", "\"l1\\nl2\\r\\t\"");
  json_is("\x1b[31m\x07\x7f", "\"\\u001b[31m\\u0007\\u007f\"");
  json_is(NULL, "null");
  json_is("", "\"\"");
}

CS_TEST(json_utf8_kept_invalid_replaced) {
  json_is("Cert\xC3\xA9", "\"Cert\xC3\xA9\"");
  json_is("\xF0\x9F\x94\x92", "\"\xF0\x9F\x94\x92\""); /* 4-byte sequence kept */
  json_is("a\xFF"
          "b",
          "\"a\\ufffdb\"");                             /* invalid byte */
  json_is("\xC0\xAF", "\"\\ufffd\\ufffd\"");            /* overlong '/' */
  json_is("\xED\xA0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* UTF-16 surrogate */
  json_is("\xE2\x82", "\"\\ufffd\\ufffd\"");            /* truncated sequence */
  json_is("\xC2\x85", "\"\\u0085\"");                   /* C1 control */
  json_is("\xE2\x80\xA8", "\"\\u2028\"");               /* line separator */
}

CS_TEST(sanitize_for_log_lines) {
  sanitized_is("plain text", "plain text");
  sanitized_is("Cert\xC3\xA9", "Cert\xC3\xA9");
  sanitized_is("a\nb", "a\\x0Ab");
  sanitized_is("\x1b[2J", "\\x1B[2J");
  sanitized_is("back\\slash", "back\\slash");
  sanitized_is("bad\xFF", "bad\\xFF");
  sanitized_is("\xC2\x9B", "\\xC2\\x9B"); /* C1 CSI, a terminal escape */
}

CS_TEST(buffer_grows) {
  cs_buf_t b = CS_BUF_INIT;
  int i;
  CHECK_STR(cs_buf_str(&b), "");
  for (i = 0; i < 1000; i++)
    cs_buf_printf(&b, "%04d,", i);
  CHECK_INT(b.len, ==, 5000);
  CHECK(strncmp(cs_buf_str(&b) + 4995, "0999,", 5) == 0);
  cs_buf_free(&b);
}

CS_TEST(report_verdict) {
  cs_report_t r;
  CHECK_INT(cs_report_init(&r, "x.pfx"), ==, 0);
  CHECK(!cs_report_accepted(&r)); /* nothing checked: not accepted */
  CHECK_INT(cs_report_add(&r, CS_CHECK_SAN_HOST, true, "ok %d", 1), ==, 0);
  CHECK(cs_report_accepted(&r));
  CHECK_INT(cs_report_add(&r, CS_CHECK_EKU, false, "no serverAuth"), ==, 0);
  CHECK(!cs_report_accepted(&r));
  CHECK_STR(cs_report_find(&r, "eku")->detail, "no serverAuth");
  CHECK(cs_report_find(&r, "chain") == NULL);
  cs_report_free(&r);
}
