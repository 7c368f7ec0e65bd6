/* common/expiry.c: warn_days parsing, each threshold announced exactly once (also
 * across restarts), the jump straight to the most urgent one, a new certificate
 * resetting, expiry once, exact next_due, and the state file (damaged ones too).
 * Events are read back from a JSON-lines sink in a fresh temporary folder, which
 * each test removes at its end. */
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "expiry.h"
#include "platform.h"

#ifndef _WIN32
#include <sys/stat.h> /* the state file's mode */
#endif

#define DAY 86400LL
#define T0 1700000000LL /* 2023-11-14T22:13:20Z */
#define TP "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9"
#define TP_LOWER "3b2c1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9"
#define TP2 "A1B2C3D4E5F60718293A4B5C6D7E8F9001122334"

static const int DEFAULT_DAYS[] = {30, 14, 7, 3, 1};
#define N_DEFAULT 5

static char tmp_dir[1024];
static char path_buf[1200];

/* A fresh folder for one test; the events of the test go to events.jsonl there. */
static void tmp_open(void) {
  cs_events_cfg_t cfg = {0, 0, NULL, 0};
  cs_test_mkdtemp("cs-expiry", tmp_dir, sizeof tmp_dir);
  snprintf(path_buf, sizeof path_buf, "%s/events.jsonl", tmp_dir);
  cfg.jsonl_path = path_buf;
  CHECK_INT(cs_events_open(&cfg), ==, 0);
}

static void tmp_close(void) {
  cs_events_close();
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
  CHECK(!cs_plat_exists(tmp_dir));
}

static const char *tmp_path(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", tmp_dir, name);
  return path_buf;
}

static char *read_events_text(void) {
  char *s = cs_test_read_text(tmp_path("events.jsonl"));
  return s != NULL ? s : cs_strdup("(no event file)");
}

/* The events written so far, one "ID days/threshold" or "ID" per event, ';'-ended. */
static char *events_summary(void) {
  cs_buf_t b = CS_BUF_INIT;
  char *text = read_events_text(), *line, *next, *m, *s;
  int d, t;
  for (line = text; line != NULL && *line != '\0'; line = next) {
    if ((next = strchr(line, '\n')) == NULL) {
      cs_buf_puts(&b, "(unterminated line)");
      break;
    }
    *next++ = '\0';
    if (strncmp(line, "{\"time\":", 8) != 0) {
      cs_buf_puts(&b, "(bad line);");
    } else if (strstr(line, "\"id\":2000,") != NULL) {
      d = t = -1;
      m = strstr(line, "expires in ");
      if (m != NULL && sscanf(m, "expires in %d days", &d) == 1 && (m = strstr(m, "threshold ")) != NULL)
        sscanf(m, "threshold %d", &t);
      cs_buf_printf(&b, "2000 %d/%d;", d, t);
    } else {
      cs_buf_puts(&b, strstr(line, "\"id\":2001,") != NULL ? "2001;" : "other;");
    }
  }
  free(text);
  s = cs_strdup(cs_buf_str(&b));
  cs_buf_free(&b);
  return s;
}

static void check_summary(const char *expected, int line) {
  char *s = events_summary();
  if (s == NULL || strcmp(s, expected) != 0)
    cs_test_fail(__FILE__, line, "events \"%s\", expected \"%s\"", s ? s : "(null)", expected);
  free(s);
}

static cs_strlist_t mklist(const char *const *items, size_t n) {
  cs_strlist_t l = {NULL, 0};
  size_t i;
  l.v = calloc(n + 1, sizeof *l.v);
  for (i = 0; l.v != NULL && i < n; i++)
    l.v[i] = cs_strdup(items[i]);
  l.n = l.v != NULL ? n : 0;
  return l;
}

static void freelist(cs_strlist_t *l) {
  size_t i;
  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
}

static int parse(const char *const *items, size_t n, int *days, size_t max, size_t *out) {
  cs_strlist_t l = mklist(items, n);
  int rc = cs_expiry_thresholds(&l, days, max, out);
  freelist(&l);
  return rc;
}

/* ---- thresholds and time ------------------------------------------------------- */

CS_TEST(thresholds_sorted_unique) {
  static const char *const in[] = {"7", "30", "1", "14", "7", "3", "30", "0"};
  static const char *const bad[][1] = {{"abc"}, {"-1"}, {""}, {"7x"}, {"3651"}, {"1.5"}};
  int days[8] = {0}, big[40];
  size_t n = 99, i;
  char num[40][8];
  const char *many[40];
  CHECK_INT(parse(in, 8, days, 8, &n), ==, 0);
  CHECK_INT(n, ==, 6);
  CHECK(days[0] == 30 && days[1] == 14 && days[2] == 7 && days[3] == 3 && days[4] == 1 && days[5] == 0);
  CHECK_INT(parse(in, 8, days, 5, &n), ==, CS_ETOOBIG); /* 6 distinct, room for 5 */
  CHECK_INT(parse(in, 0, days, 8, &n), ==, 0);
  CHECK_INT(n, ==, 0);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK_INT(parse(bad[i], 1, days, 8, &n), ==, CS_EINVAL);
  for (i = 0; i < 40; i++) {
    snprintf(num[i], sizeof num[i], "%d", (int)i);
    many[i] = num[i];
  }
  CHECK_INT(parse(many, 40, big, 40, &n), ==, CS_ETOOBIG); /* more than the bits of notified */
  CHECK_INT(parse(many, 32, big, 40, &n), ==, 0);
  CHECK_INT(n, ==, 32);
  CHECK_INT(big[0], ==, 31);
  CHECK_INT(big[31], ==, 0);
}

CS_TEST(utc_format) {
  char buf[32];
  CHECK_STR(cs_time_utc(0, buf, sizeof buf), "1970-01-01T00:00:00Z");
  CHECK_STR(cs_time_utc(-1, buf, sizeof buf), "1969-12-31T23:59:59Z");
  CHECK_STR(cs_time_utc(951782400, buf, sizeof buf), "2000-02-29T00:00:00Z");
  CHECK_STR(cs_time_utc(1827272729, buf, sizeof buf), "2027-11-26T23:45:29Z");
  CHECK_STR(cs_time_utc(253402300799LL, buf, sizeof buf), "9999-12-31T23:59:59Z");
}

/* ---- the decision --------------------------------------------------------------- */

/* Day by day from 40 days and 1 hour left until two days past expiry; restart = save
 * and load the state into a fresh struct before every check. */
static void walk_days(int restart) {
  cs_expiry_state_t st;
  long long na = T0 + 40 * DAY + 3600, due = 0;
  unsigned long before;
  int k, changed = 0;
  cs_buf_t when = CS_BUF_INIT;
  cs_err_t err;
  memset(&st, 0, sizeof st);
  for (k = 0; k <= 42; k++) {
    if (restart) {
      CHECK_INT(cs_expiry_save(tmp_path("state"), &st, &err), ==, 0);
      memset(&st, 0xAB, sizeof st);
      CHECK_INT(cs_expiry_load(tmp_path("state"), &st, &err), ==, 0);
    }
    before = cs_events_count();
    CHECK_INT(
        cs_expiry_check(&st, TP, "CN=board.example.test", na, T0 + k * DAY, DEFAULT_DAYS, N_DEFAULT, &changed, &due),
        ==, 0);
    if (cs_events_count() != before)
      cs_buf_printf(&when, "%d,", k);
    CHECK_INT(changed, ==, cs_events_count() != before || k == 0); /* k == 0: state for TP begins */
    CHECK(due >= 1);
  }
  /* 30 days left at k = 10, 14 at 26, 7 at 33, 3 at 37, 1 at 39; expired at 41 */
  CHECK_STR(cs_buf_str(&when), "10,26,33,37,39,41,");
  check_summary("2000 30/30;2000 14/14;2000 7/7;2000 3/3;2000 1/1;2001;", __LINE__);
  CHECK_INT(due, ==, CS_EXPIRY_NEVER);
  cs_buf_free(&when);
}

CS_TEST(each_threshold_once) {
  tmp_open();
  walk_days(0);
  tmp_close();
}

CS_TEST(each_threshold_once_across_restarts) {
  tmp_open();
  walk_days(1);
  tmp_close();
}

CS_TEST(start_late_says_most_urgent_only) {
  cs_expiry_state_t st;
  long long na = T0 + 5 * DAY + 7200, due = 0;
  int changed = 0;
  char *text;
  memset(&st, 0, sizeof st);
  tmp_open();
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  check_summary("2000 5/7;", __LINE__);
  CHECK_INT(changed, ==, 1);
  CHECK_INT(st.notified, ==, 0x7);    /* 30, 14 and 7 */
  CHECK_INT(due, ==, DAY + 7200 + 1); /* threshold 3: once fewer than 4 whole days are left */
  /* the event names the certificate and when it expires */
  text = read_events_text();
  CHECK_CONTAINS(text, "\"thumbprint\":\"" TP "\"");
  CHECK_CONTAINS(text, "\"subject\":\"CN=x\"");
  CHECK_CONTAINS(text, "expires in 5 days, on 2023-11-20T00:13:20Z (warning threshold 7 days)");
  free(text);
  /* same hour again: nothing */
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0 + 3600, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 0);
  CHECK_INT(due, ==, DAY + 3600 + 1);
  /* 3 (3 days 2 h left), nothing at 2 days 2 h, 1, then expired */
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0 + 2 * DAY, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(due, ==, DAY + 7200 + 1);
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0 + 3 * DAY, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 0);
  check_summary("2000 5/7;2000 3/3;", __LINE__);
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0 + 4 * DAY, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(due, ==, DAY + 7200); /* the expiry itself */
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, na, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  check_summary("2000 5/7;2000 3/3;2000 1/1;2001;", __LINE__);
  tmp_close();
}

CS_TEST(new_thumbprint_resets) {
  cs_expiry_state_t st;
  long long na = T0 + 20 * DAY, due = 0;
  int changed = 0;
  memset(&st, 0, sizeof st);
  tmp_open();
  CHECK_INT(cs_expiry_check(&st, TP, NULL, na, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  /* the same certificate written in lower case is not a new one */
  CHECK_INT(cs_expiry_check(&st, TP_LOWER, NULL, na, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 0);
  check_summary("2000 20/30;", __LINE__);
  CHECK_INT(cs_expiry_check(&st, TP2, NULL, na, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 1);
  CHECK_STR(st.tp, TP2);
  CHECK_INT(st.notified, ==, 1);
  check_summary("2000 20/30;2000 20/30;", __LINE__);
  /* a renewed certificate far from expiry: the state still changes (new thumbprint), no event */
  CHECK_INT(cs_expiry_check(&st, TP, NULL, T0 + 90 * DAY, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 1);
  CHECK_INT(st.notified, ==, 0);
  CHECK_INT(due, ==, 59 * DAY + 1);
  check_summary("2000 20/30;2000 20/30;", __LINE__);
  /* bad arguments leave the state alone */
  CHECK_INT(cs_expiry_check(&st, "XYZ", NULL, na, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, CS_EINVAL);
  CHECK_INT(cs_expiry_check(&st, TP2, NULL, na, T0, (const int[]){7, 30}, 2, &changed, &due), ==, CS_EINVAL);
  CHECK_STR(st.tp, TP);
  tmp_close();
}

CS_TEST(expired_once) {
  cs_expiry_state_t st;
  long long na = T0 - 10, due = 0;
  int changed = 0;
  char *text;
  memset(&st, 0, sizeof st);
  tmp_open();
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 1);
  CHECK_INT(st.expired_announced, ==, 1);
  CHECK_INT(due, ==, CS_EXPIRY_NEVER);
  CHECK_INT(cs_expiry_check(&st, TP, "CN=x", na, T0 + DAY, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
  CHECK_INT(changed, ==, 0);
  check_summary("2001;", __LINE__); /* no warnings for thresholds passed while down */
  text = read_events_text();
  CHECK_CONTAINS(text, "expired on 2023-11-14T22:13:10Z");
  free(text);
  tmp_close();
}

CS_TEST(next_due_exact) {
  static const int d30[] = {30};
  cs_expiry_state_t st, copy;
  long long na = T0 + 31 * DAY + 3600, due = 0, now = T0;
  int changed = 0, wakeups = 0;
  memset(&st, 0, sizeof st);
  tmp_open();
  /* 31 days 1 h left: days_left = 31 until fewer than 31 whole days are left */
  CHECK_INT(cs_expiry_check(&st, TP, NULL, na, now, d30, 1, &changed, &due), ==, 0);
  CHECK_INT(due, ==, 3600 + 1);
  copy = st;
  CHECK_INT(cs_expiry_check(&copy, TP, NULL, na, now + due - 1, d30, 1, &changed, &due), ==, 0);
  check_summary("", __LINE__); /* one second early: 31 days left still */
  CHECK_INT(cs_expiry_check(&st, TP, NULL, na, now + 3601, d30, 1, &changed, &due), ==, 0);
  check_summary("2000 30/30;", __LINE__);
  CHECK_INT(due, ==, 31 * DAY - 1); /* then only the expiry */

  /* follow next_due alone: every wakeup has something to say, and nothing is missed */
  memset(&st, 0, sizeof st);
  now = T0;
  na = T0 + 40 * DAY + 12345;
  for (;;) {
    unsigned long before = cs_events_count();
    long long early = 0;
    CHECK_INT(cs_expiry_check(&st, TP2, NULL, na, now, DEFAULT_DAYS, N_DEFAULT, &changed, &due), ==, 0);
    CHECK_INT(cs_events_count(), ==, before + (wakeups > 0));
    if (due == CS_EXPIRY_NEVER || ++wakeups > 10)
      break;
    copy = st; /* one second before the due time: nothing yet */
    before = cs_events_count();
    CHECK_INT(cs_expiry_check(&copy, TP2, NULL, na, now + due - 1, DEFAULT_DAYS, N_DEFAULT, &changed, &early), ==, 0);
    CHECK_INT(cs_events_count(), ==, before);
    CHECK_INT(early, ==, 1);
    now += due;
  }
  CHECK_INT(wakeups, ==, 6);
  check_summary("2000 30/30;2000 30/30;2000 14/14;2000 7/7;2000 3/3;2000 1/1;2001;", __LINE__);
  tmp_close();
}

/* ---- the state file ------------------------------------------------------------------ */

CS_TEST(state_roundtrip) {
  cs_expiry_state_t st, back;
  cs_err_t err;
  tmp_open();
  memset(&back, 0x5A, sizeof back);
  CHECK_INT(cs_expiry_load(tmp_path("missing"), &back, &err), ==, 0); /* no file: empty */
  CHECK(back.tp[0] == '\0' && back.notified == 0 && back.expired_announced == 0);
  memset(&st, 0, sizeof st);
  memcpy(st.tp, TP, sizeof TP);
  st.notified = 0x80000003u;
  st.expired_announced = 1;
  CHECK_INT(cs_expiry_save(tmp_path("state"), &st, &err), ==, 0);
  CHECK_INT(cs_expiry_load(tmp_path("state"), &back, &err), ==, 0);
  CHECK_STR(back.tp, TP);
  CHECK_INT(back.notified, ==, 0x80000003u);
  CHECK_INT(back.expired_announced, ==, 1);
#ifndef _WIN32
  {
    struct stat sb;
    CHECK_INT(stat(tmp_path("state"), &sb), ==, 0);
    CHECK_INT(sb.st_mode & 0777, ==, 0600);
  }
#endif
  tmp_close();
}

CS_TEST(state_damaged) {
  static const char *const damaged[] = {
      "garbage\n",
      "",
      "certsteward-expiry 1\n",                             /* no end */
      "certsteward-expiry 1\nnotified 1\nexpired 0\n",      /* no end */
      "certsteward-expiry 1\nnotified 1\nexpired 0\nend",   /* cut short */
      "certsteward-expiry 2\nnotified 1\nexpired 0\nend\n", /* other version */
      "certsteward-expiry 1\nthumbprint XYZ\nnotified 1\nexpired 0\nend\n",
      "certsteward-expiry 1\nthumbprint " TP "0\nnotified 1\nexpired 0\nend\n", /* 41 digits */
      "certsteward-expiry 1\nnotified -1\nexpired 0\nend\n",
      "certsteward-expiry 1\nnotified 4294967296\nexpired 0\nend\n",
      "certsteward-expiry 1\nnotified 1\nexpired 2\nend\n",
      "certsteward-expiry 1\nnotified 1\nnotified 1\nexpired 0\nend\n",
      "certsteward-expiry 1\nexpired 0\nend\n", /* no notified */
      "certsteward-expiry 1\nnotified 1\nexpired 0\nwhat 1\nend\n",
      "certsteward-expiry 1\nnotified 1\nexpired 0\nend\nmore\n",
  };
  static const char minimal[] = "certsteward-expiry 1\nnotified 5\nexpired 0\nend\n";
  cs_expiry_state_t st;
  cs_err_t err;
  size_t i;
  char big[5000];
  tmp_open();
  for (i = 0; i < sizeof damaged / sizeof damaged[0]; i++) {
    CHECK_INT(cs_plat_write_atomic(tmp_path("state"), damaged[i], strlen(damaged[i]), 0600, NULL), ==, 0);
    memset(&st, 0x5A, sizeof st);
    cs_err_clear(&err);
    if (cs_expiry_load(tmp_path("state"), &st, &err) != CS_EFORMAT)
      cs_test_fail(__FILE__, __LINE__, "damaged state %zu was not refused", i);
    CHECK(st.tp[0] == '\0' && st.notified == 0 && st.expired_announced == 0);
    CHECK_INT(err.code, ==, CS_EFORMAT);
    CHECK_CONTAINS(err.text, "damaged");
  }
  /* a NUL byte inside */
  CHECK_INT(cs_plat_write_atomic(tmp_path("state"), "certsteward-expiry 1\n\0x\n", 24, 0600, NULL), ==, 0);
  CHECK_INT(cs_expiry_load(tmp_path("state"), &st, &err), ==, CS_EFORMAT);
  /* far too big to be ours: refused before it is read */
  memset(big, 'x', sizeof big);
  CHECK_INT(cs_plat_write_atomic(tmp_path("state"), big, sizeof big, 0600, NULL), ==, 0);
  memset(&st, 0x5A, sizeof st);
  CHECK_INT(cs_expiry_load(tmp_path("state"), &st, &err), ==, CS_ETOOBIG);
  CHECK(st.tp[0] == '\0' && st.notified == 0 && st.expired_announced == 0);
  /* and the minimal valid file still loads */
  CHECK_INT(cs_plat_write_atomic(tmp_path("state"), minimal, strlen(minimal), 0600, NULL), ==, 0);
  CHECK_INT(cs_expiry_load(tmp_path("state"), &st, &err), ==, 0);
  CHECK_INT(st.notified, ==, 5);
  tmp_close();
}
