/* The one rule for which names in the drop folder are taken (and listed by status),
 * and which in the waiting folder are parked files. */
#include "cs_test.h"
#include "drop.h"

CS_TEST(drop_candidates) {
  CHECK(cs_drop_candidate("new.pfx"));
  CHECK(cs_drop_candidate("board.example.test.pem"));
  CHECK(cs_drop_candidate("cert.tmp.pfx")); /* .tmp inside the name, not its end */
  CHECK(cs_drop_candidate("a~$b.pfx"));     /* ~$ only counts at the start */
  CHECK(cs_drop_candidate("part"));         /* no dot: not the suffix */
  CHECK(cs_drop_candidate("x.TMP"));        /* the suffixes are compared exactly */
  CHECK(cs_drop_candidate("~x.pfx"));
  CHECK(!cs_drop_candidate(".hidden.pfx"));
  CHECK(!cs_drop_candidate(".tmp"));
  CHECK(!cs_drop_candidate("~$cert.pfx"));
  CHECK(!cs_drop_candidate("cert.pfx.tmp"));
  CHECK(!cs_drop_candidate("cert.pfx.part"));
  CHECK(!cs_drop_candidate("a.part"));
}

CS_TEST(parked_candidates) {
  CHECK(cs_parked_candidate("1767225600-0-new.pfx"));
  CHECK(cs_parked_candidate(".reason.pfx"));
  CHECK(cs_parked_candidate("x.reasons"));
  CHECK(!cs_parked_candidate("1767225600-0-new.pfx.reason"));
  CHECK(cs_parked_candidate(".reason")); /* the suffix alone is a name, not a reason file */
}
