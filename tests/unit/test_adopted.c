/* [store] adopt's decisions: which store certificates may replace the one in service and
 * in which order (adopt_pick.c), and the record of what was judged (adopted.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adopt_pick.h"
#include "adopted.h"
#include "cs_test.h"
#include "statedir.h"

#define A "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" /* in service */
#define B "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define C "CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
#define D "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"
#define E "EEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEEE"

/* One listing entry: issued at nb, expires at na, with a key, nothing else set. */
static cs_plat_cert_t cert(const char *tp, long long nb, long long na) {
  cs_plat_cert_t c;
  memset(&c, 0, sizeof c);
  memcpy(c.tp, tp, 41);
  c.not_before = nb;
  c.not_after = na;
  c.has_key = 1;
  return c;
}

static int judged_d(const char *tp, const void *arg) {
  (void)arg;
  return strcmp(tp, D) == 0;
}

CS_TEST(pick_rules) {
  cs_plat_cert_t v[8];
  size_t order[8], n;
  v[0] = cert(A, 100, 1000);
  v[1] = cert(B, 200, 2000); /* a renewal */
  v[2] = cert(C, 50, 3000);  /* issued before the one in service, lives longer: no renewal of it */
  v[3] = cert(D, 300, 4000); /* judged before */
  v[4] = cert(E, 300, 900);  /* expires first */
  CHECK_INT(cs_pick_one(v, 5, 0, A, judged_d, NULL), ==, CS_PICK_IN_SERVICE);
  CHECK_INT(cs_pick_one(v, 5, 1, A, judged_d, NULL), ==, CS_PICK_CANDIDATE);
  CHECK_INT(cs_pick_one(v, 5, 2, A, judged_d, NULL), ==, CS_PICK_NOT_NEWER);
  CHECK_INT(cs_pick_one(v, 5, 3, A, judged_d, NULL), ==, CS_PICK_JUDGED);
  CHECK_INT(cs_pick_one(v, 5, 4, A, judged_d, NULL), ==, CS_PICK_NOT_LATER);
  CHECK_INT(cs_pick_one(v, 5, 3, A, NULL, NULL), ==, CS_PICK_CANDIDATE);
  v[1].has_key = 0;
  CHECK_INT(cs_pick_one(v, 5, 1, A, judged_d, NULL), ==, CS_PICK_NO_KEY);
  v[1].has_key = 1;
  v[1].archived = 1;
  CHECK_INT(cs_pick_one(v, 5, 1, A, judged_d, NULL), ==, CS_PICK_ARCHIVED);
  v[1].archived = 0;
  v[1].no_server_auth = 1;
  CHECK_INT(cs_pick_one(v, 5, 1, A, judged_d, NULL), ==, CS_PICK_NO_SERVER_AUTH);
  v[1].no_server_auth = 0;
  /* the one in service unknown, or not in the store: nothing to compare with */
  CHECK_INT(cs_pick_one(v, 5, 1, "", judged_d, NULL), ==, CS_PICK_NO_CURRENT);
  CHECK_INT(cs_pick_one(v + 1, 4, 0, A, judged_d, NULL), ==, CS_PICK_NO_CURRENT);
  n = cs_pick_order(v, 5, A, judged_d, NULL, order);
  CHECK_INT((int)n, ==, 1);
  CHECK_INT((int)order[0], ==, 1);
  CHECK_INT((int)cs_pick_order(v, 5, "", judged_d, NULL, order), ==, 0);
  CHECK_STR(cs_pick_text(CS_PICK_NOT_LATER), "expires before the certificate in service");
}

CS_TEST(pick_order_latest_then_link) {
  cs_plat_cert_t v[4];
  size_t order[4];
  char out[41];
  v[0] = cert(A, 100, 1000);
  v[1] = cert(B, 200, 2000);
  v[2] = cert(C, 300, 5000);
  v[3] = cert(D, 300, 5000);
  CHECK_INT((int)cs_pick_order(v, 4, A, NULL, NULL, order), ==, 3);
  /* latest-expiring first, a tie by thumbprint */
  CHECK_INT((int)order[0], ==, 2);
  CHECK_INT((int)order[1], ==, 3);
  CHECK_INT((int)order[2], ==, 1);
  /* the renewal link of the one in service goes first */
  memcpy(v[0].renewal, B, 41);
  cs_pick_renewed(v, 4, A, out);
  CHECK_STR(out, B);
  CHECK_INT((int)cs_pick_order(v, 4, A, NULL, NULL, order), ==, 3);
  CHECK_INT((int)order[0], ==, 1);
  CHECK_INT((int)order[1], ==, 2);
}

/* Autoenrollment archives what it renews: the one in service is found archived, and the
 * link is followed through a renewal that was renewed in turn (A -> B -> C), never in a
 * circle. */
CS_TEST(pick_follows_archived_links) {
  cs_plat_cert_t v[3];
  size_t order[3];
  char out[41];
  v[0] = cert(A, 100, 1000);
  v[1] = cert(B, 200, 2000);
  v[2] = cert(C, 300, 1500);
  v[0].archived = 1;
  memcpy(v[0].renewal, B, 41);
  v[1].archived = 1;
  memcpy(v[1].renewal, C, 41);
  cs_pick_renewed(v, 3, A, out);
  CHECK_STR(out, C);
  CHECK_INT((int)cs_pick_order(v, 3, A, NULL, NULL, order), ==, 1); /* B is archived */
  CHECK_INT((int)order[0], ==, 2);
  memcpy(v[2].renewal, A, 41); /* a circle */
  v[2].archived = 1;
  cs_pick_renewed(v, 3, A, out);
  CHECK_STR(out, C);
  cs_pick_renewed(v, 3, "", out);
  CHECK_STR(out, "");
}

static int keep_not_b(const char *key, void *arg) {
  (void)arg;
  return strcmp(key, B) != 0;
}

CS_TEST(record_round_trip) {
  char dir[512], longkey[700];
  cs_adopted_t a, back;
  const cs_adopted_entry_t *e;
  cs_err_t err;
  size_t i;
  cs_test_mkdtemp("cs-adopted-", dir, sizeof dir);
  CHECK_INT(cs_adopted_read(dir, &a, &err), ==, CS_OK); /* none yet */
  CHECK_INT((int)a.n, ==, 0);
  CHECK_INT(cs_adopted_put(dir, &a, B, CS_ADOPT_REJECTED, 7, B, "san_host: other\tname\nline", &err), ==, CS_OK);
  CHECK_INT(cs_adopted_put(dir, &a, C, CS_ADOPT_OTHER_HOST, 8, C, "", &err), ==, CS_OK);
  CHECK_INT(cs_adopted_put(dir, &a, B, CS_ADOPT_ADOPTED, 9, B, "", &err), ==, CS_OK); /* replaces, goes last */
  CHECK_INT(cs_adopted_read(dir, &back, &err), ==, CS_OK);
  CHECK_INT((int)back.n, ==, 2);
  CHECK_STR(back.v[0].key, C);
  CHECK_STR(back.v[1].verdict, CS_ADOPT_ADOPTED);
  CHECK(back.v[1].time == 9);
  cs_adopted_free(&back);
  /* a reason's tab and line break cannot make a field or a line of their own */
  CHECK_INT(cs_adopted_put(dir, &a, D, CS_ADOPT_REJECTED, 10, D, "a\tb\nc", &err), ==, CS_OK);
  CHECK_INT(cs_adopted_read(dir, &back, &err), ==, CS_OK);
  CHECK_INT((int)back.n, ==, 3);
  CHECK((e = cs_adopted_find(&back, D)) != NULL && strchr(e->reason, '\t') == NULL && strchr(e->reason, '\n') == NULL);
  cs_adopted_free(&back);
  /* a long key (a folder's version) is found as it was stored */
  memset(longkey, 'v', sizeof longkey - 1);
  longkey[sizeof longkey - 1] = '\0';
  longkey[3] = '\x01';
  CHECK_INT(cs_adopted_put(dir, &a, longkey, CS_ADOPT_REJECTED, 11, "", "x", &err), ==, CS_OK);
  CHECK(cs_adopted_find(&a, longkey) != NULL);
  CHECK_INT(cs_adopted_read(dir, &back, &err), ==, CS_OK);
  CHECK(cs_adopted_find(&back, longkey) != NULL);
  CHECK(cs_adopted_find(&back, E) == NULL);
  cs_adopted_free(&back);
  /* retain: what the store no longer holds goes */
  CHECK_INT(cs_adopted_retain(dir, &a, keep_not_b, NULL, &err), ==, CS_OK);
  CHECK(cs_adopted_find(&a, B) == NULL);
  CHECK_INT(cs_adopted_read(dir, &back, &err), ==, CS_OK);
  CHECK(cs_adopted_find(&back, B) == NULL && cs_adopted_find(&back, C) != NULL);
  cs_adopted_free(&back);
  /* at most CS_ADOPTED_MAX entries: the oldest go */
  for (i = 0; i < CS_ADOPTED_MAX + 5; i++) {
    char k[41];
    snprintf(k, sizeof k, "%040zu", i);
    CHECK_INT(cs_adopted_put(dir, &a, k, CS_ADOPT_OTHER_HOST, (long long)i, k, "", &err), ==, CS_OK);
  }
  CHECK_INT((int)a.n, ==, CS_ADOPTED_MAX);
  CHECK(cs_adopted_find(&a, C) == NULL);
  cs_adopted_free(&a);
}

CS_TEST(record_damaged_gives_what_it_holds) {
  static const char text[] = "bad line\n" B "\trejected\t5\t" B "\twhy\n" C "\tadopted\tx\t\t\n" D "\tadopted\t6\t" D;
  cs_adopted_t a;
  CHECK_INT(cs_adopted_parse(text, strlen(text), &a), ==, CS_OK);
  /* the line without five fields, the one with a bad time and the cut one are skipped */
  CHECK_INT((int)a.n, ==, 1);
  CHECK_STR(a.v[0].key, B);
  CHECK_STR(a.v[0].reason, "why");
  cs_adopted_free(&a);
}
