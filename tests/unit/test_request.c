/* The request record: what is written comes back whole (a helper's cookie of any bytes
 * included), a damaged or foreign record is refused and never guessed at; when a
 * request is due, how polls back off, the key's name. */
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "platform.h"
#include "request.h"

static void sample(cs_request_t *r) {
  memset(r, 0, sizeof *r);
  strcpy(r->state, CS_REQ_PENDING);
  strcpy(r->name, "cs-20261207T151000Z");
  strcpy(r->route, "command");
  strcpy(r->key_kind, "ec-p256");
  strcpy(r->old_tp, "1111111111111111111111111111111111111111");
  strcpy(r->new_tp, "2222222222222222222222222222222222222222");
  r->made = 1796656200LL;
  r->submitted = 1796656201LL;
  r->next = 1796656321LL;
  r->deadline = 1799248200LL;
  r->tries = 3;
  r->cookie = strdup("state=check&requestId=17\nline two 100% \x01 end");
  r->ca_id = strdup("17");
  r->said = NULL;
}

CS_TEST(record_round_trip) {
  char dir[512];
  cs_request_t w, r;
  cs_err_t err;
  cs_test_mkdtemp("cs-request-", dir, sizeof dir);
  sample(&w);
  CHECK_INT(cs_request_write(dir, &w, &err), ==, CS_OK);
  CHECK_INT(cs_request_read(dir, &r, &err), ==, CS_OK);
  CHECK_STR(r.state, "pending");
  CHECK_STR(r.name, w.name);
  CHECK_STR(r.route, "command");
  CHECK_STR(r.key_kind, "ec-p256");
  CHECK_STR(r.old_tp, w.old_tp);
  CHECK_STR(r.new_tp, w.new_tp);
  CHECK(r.made == w.made && r.submitted == w.submitted && r.next == w.next && r.deadline == w.deadline);
  CHECK_INT(r.tries, ==, 3);
  CHECK_STR(r.cookie, w.cookie); /* line breaks, '%' and control bytes come back as they were */
  CHECK_STR(r.ca_id, "17");
  CHECK(r.said == NULL);
  cs_request_free(&r);
  /* removed: no request in flight */
  CHECK_INT(cs_request_remove(dir, &err), ==, CS_OK);
  CHECK_INT(cs_request_read(dir, &r, &err), ==, CS_ENOENT);
  CHECK_INT(cs_request_remove(dir, &err), ==, CS_OK);
  cs_request_free(&w);
}

static int parse(const char *text, cs_request_t *r, cs_err_t *err) {
  return cs_request_parse(text, strlen(text), "record", r, err);
}

#define GOOD_HEAD "certsteward-request 1\nstate pending\nname cs-1\nroute command\n"

CS_TEST(damaged_records_are_refused) {
  cs_request_t r;
  cs_err_t err;
  CHECK_INT(parse(GOOD_HEAD "made 5\nend\n", &r, &err), ==, CS_OK);
  CHECK(r.made == 5);
  cs_request_free(&r);
  CHECK_INT(parse(GOOD_HEAD "made 5\n", &r, &err), ==, CS_EFORMAT); /* cut short */
  CHECK_CONTAINS(err.text, "cut short");
  CHECK_INT(parse(GOOD_HEAD "made soon\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_INT(parse(GOOD_HEAD "made +5\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_INT(parse(GOOD_HEAD "next  5\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_INT(parse(GOOD_HEAD "cookie bad%0\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_INT(parse(GOOD_HEAD "cookie nul%00\nend\n", &r, &err), ==, CS_EFORMAT);
  /* a name that could leave the folder */
  CHECK_INT(parse("certsteward-request 1\nstate pending\nname ../x\nroute command\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_INT(parse("certsteward-request 1\nstate pending\nname ..\nroute command\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_INT(parse("certsteward-request 1\nstate pending\nroute command\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "missing");
  CHECK_INT(parse("certsteward-request 2\nend\n", &r, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "another version");
  CHECK_INT(parse("something else\n", &r, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "not a request record");
  /* a key a later version added is passed over */
  CHECK_INT(parse(GOOD_HEAD "colour blue\nend\n", &r, &err), ==, CS_OK);
  cs_request_free(&r);
}

CS_TEST(due_when_expiry_is_within_renew_days) {
  long long now = 1796656200LL, day = 86400;
  CHECK_INT(cs_request_due(now + 31 * day, now, 30), ==, 0);
  CHECK_INT(cs_request_due(now + 30 * day, now, 30), ==, 1);
  CHECK_INT(cs_request_due(now - day, now, 30), ==, 1); /* expired already */
  CHECK_INT(cs_request_due(now + day, now, 0), ==, 0);  /* never */
}

CS_TEST(backoff_doubles_to_six_hours_and_follows_the_ca) {
  CHECK(cs_request_backoff(0, -1) == 60);
  CHECK(cs_request_backoff(1, -1) == 120);
  CHECK(cs_request_backoff(3, -1) == 480);
  CHECK(cs_request_backoff(20, -1) == 6 * 3600);
  CHECK(cs_request_backoff(1000000, -1) == 6 * 3600);
  CHECK(cs_request_backoff(5, 90) == 90);
  CHECK(cs_request_backoff(5, 0) == 30);
  CHECK(cs_request_backoff(5, 100000000L) == 86400);
}

CS_TEST(name_from_the_time_and_chance) {
  char a[CS_REQUEST_NAME_MAX + 1], b[CS_REQUEST_NAME_MAX + 1];
  cs_err_t err;
  size_t i;
  CHECK_INT(cs_request_name(1796656200LL, a, &err), ==, CS_OK);
  CHECK_INT(cs_request_name(1796656200LL, b, &err), ==, CS_OK);
  CHECK_INT((int)strlen(a), ==, (int)strlen("cs-20261207T151000Z-") + 8);
  CHECK(strncmp(a, "cs-20261207T151000Z-", 20) == 0);
  for (i = 20; i < strlen(a); i++)
    CHECK(strchr("0123456789abcdef", a[i]) != NULL);
  CHECK(strcmp(a, b) != 0); /* the same second: still two names */
}

CS_TEST(ended_time_round_trip) {
  char dir[512];
  cs_err_t err;
  cs_test_mkdtemp("cs-request-", dir, sizeof dir);
  CHECK(cs_request_ended_read(dir) == 0);
  CHECK_INT(cs_request_ended_write(dir, 1796656200LL, &err), ==, CS_OK);
  CHECK(cs_request_ended_read(dir) == 1796656200LL);
}
