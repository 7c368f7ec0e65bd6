/* <state_dir>/last: what the renewal writes is what status reads, and a damaged file
 * gives what it still holds. */
#include <stdlib.h>
#include <string.h>

#include "cs_test.h"
#include "last.h"
#include "statedir.h"

static const char *tp_old = "1111111111111111111111111111111111111111";
static const char *tp_new = "2222222222222222222222222222222222222222";

CS_TEST(round_trip) {
  char dir[512];
  cs_last_t l;
  cs_err_t err;
  cs_test_mkdtemp("cs-last-", dir, sizeof dir);
  CHECK_INT(
      cs_last_write(dir, "rolled-back", 1767225600LL, tp_old, tp_new, "probe", "no answer\nresult committed", &err), ==,
      CS_OK);
  CHECK_INT(cs_last_read(dir, &l, &err), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "rolled-back");
  CHECK_STR(l.v[CS_LAST_TIME], "1767225600");
  CHECK_STR(l.v[CS_LAST_OLD], tp_old);
  CHECK_STR(l.v[CS_LAST_NEW], tp_new);
  CHECK_STR(l.v[CS_LAST_STEP], "probe");
  /* a line break in the reason is sanitised: it cannot add a line of its own */
  CHECK_STR(l.v[CS_LAST_REASON], "no answer\\x0Aresult committed");
  cs_last_free(&l);
  CHECK(l.v[CS_LAST_RESULT] == NULL);

  /* a committed renewal: no step, no reason, both lines there and empty */
  CHECK_INT(cs_last_write(dir, "committed", 5, tp_old, tp_new, NULL, NULL, &err), ==, CS_OK);
  CHECK_INT(cs_last_read(dir, &l, &err), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "committed");
  CHECK_STR(l.v[CS_LAST_STEP], "");
  CHECK_STR(l.v[CS_LAST_REASON], "");
  cs_last_free(&l);
}

/* The bytes on disk, as earlier releases wrote them: a state folder outlives an upgrade. */
CS_TEST(format_is_the_one_on_disk) {
  char dir[512];
  cs_buf_t b = CS_BUF_INIT;
  cs_err_t err;
  cs_last_format(&b, "rolled-back", 42, "aa", "bb", "grant", "denied\x1b");
  CHECK_STR(cs_buf_str(&b), "result rolled-back\ntime 42\nold aa\nnew bb\nstep grant\nreason denied\\x1B\n");
  cs_test_mkdtemp("cs-last-", dir, sizeof dir);
  CHECK_INT(cs_last_write(dir, "rolled-back", 42, "aa", "bb", "grant", "denied\x1b", &err), ==, CS_OK);
  cs_test_file_is_str(cs_test_join(dir, CS_STATE_LAST), cs_buf_str(&b));
  cs_buf_free(&b);
}

CS_TEST(truncated_file_gives_what_it_holds) {
  static const char text[] = "result rolled-back\ntime 17\nold 11";
  cs_last_t l;
  CHECK_INT(cs_last_parse(text, strlen(text), &l), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "rolled-back");
  CHECK_STR(l.v[CS_LAST_TIME], "17");
  CHECK_STR(l.v[CS_LAST_OLD], "11"); /* the cut line, as far as it goes */
  CHECK(l.v[CS_LAST_NEW] == NULL && l.v[CS_LAST_STEP] == NULL && l.v[CS_LAST_REASON] == NULL);
  cs_last_free(&l);

  /* cut inside a key: no value for it */
  CHECK_INT(cs_last_parse("result x\nti", 11, &l), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "x");
  CHECK(l.v[CS_LAST_TIME] == NULL);
  cs_last_free(&l);

  /* len is the end, not a NUL */
  CHECK_INT(cs_last_parse("result abcdef", 10, &l), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "abc");
  cs_last_free(&l);
}

CS_TEST(garbage_is_ignored) {
  static const char text[] = "\xff\xfe garbage\nresultx committed\nnew\nresult first\nresult second\nold a b\n"
                             "time 9\0step hidden\n";
  cs_last_t l;
  CHECK_INT(cs_last_parse(text, sizeof text - 1, &l), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "first"); /* "resultx" is not "result"; the first line of a key counts */
  CHECK_STR(l.v[CS_LAST_NEW], "");         /* a key alone: present, empty */
  CHECK_STR(l.v[CS_LAST_OLD], "a b");
  CHECK_STR(l.v[CS_LAST_TIME], "9");
  CHECK(l.v[CS_LAST_STEP] == NULL); /* after a NUL: not text */
  CHECK(l.v[CS_LAST_REASON] == NULL);
  cs_last_free(&l);

  CHECK_INT(cs_last_parse("", 0, &l), ==, CS_OK);
  CHECK(l.v[CS_LAST_RESULT] == NULL);
  cs_last_free(&l);
}

CS_TEST(missing_file_is_enoent) {
  char dir[512];
  cs_last_t l;
  cs_err_t err;
  cs_test_mkdtemp("cs-last-", dir, sizeof dir);
  CHECK_INT(cs_last_read(dir, &l, &err), ==, CS_ENOENT);
  CHECK(l.v[CS_LAST_RESULT] == NULL);
  cs_test_put_str(cs_test_join(dir, CS_STATE_LAST), "result committed\n");
  CHECK_INT(cs_last_read(dir, &l, &err), ==, CS_OK);
  CHECK_STR(l.v[CS_LAST_RESULT], "committed");
  cs_last_free(&l);
}
