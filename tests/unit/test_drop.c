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

CS_TEST(drop_pair_roles) {
  CHECK(cs_drop_pair_role("board.crt") == CS_DROP_PAIR_CERT);
  CHECK(cs_drop_pair_role("board.cer") == CS_DROP_PAIR_CERT);
  CHECK(cs_drop_pair_role("board.pem") == CS_DROP_PAIR_CERT);
  CHECK(cs_drop_pair_role("BOARD.CRT") == CS_DROP_PAIR_CERT); /* extensions in any case */
  CHECK(cs_drop_pair_role("board.Key") == CS_DROP_PAIR_KEY);
  CHECK(cs_drop_pair_role("board.pfx") == CS_DROP_ALONE);
  CHECK(cs_drop_pair_role("board.der") == CS_DROP_ALONE);
  CHECK(cs_drop_pair_role("board.crt.bak") == CS_DROP_ALONE);
  CHECK(cs_drop_pair_role("board.keys") == CS_DROP_ALONE);
  CHECK(cs_drop_pair_role(".key") == CS_DROP_ALONE); /* nothing before the extension */
  CHECK(cs_drop_pair_role("crt") == CS_DROP_ALONE);
}

CS_TEST(drop_pairs) {
  CHECK(cs_drop_pair("board.crt", "board.key", 1));
  CHECK(cs_drop_pair("board.pem", "board.key", 1));
  CHECK(cs_drop_pair("board.cer", "board.key", 1));
  CHECK(cs_drop_pair("board.example.test.crt", "board.example.test.key", 1));
  CHECK(cs_drop_pair("board.CRT", "board.KEY", 1));  /* extensions in any case */
  CHECK(!cs_drop_pair("Board.crt", "board.key", 1)); /* POSIX: two unrelated names */
  CHECK(cs_drop_pair("Board.crt", "board.key", 0));  /* Windows: one name */
  CHECK(!cs_drop_pair("board.crt", "board2.key", 0));
  CHECK(!cs_drop_pair("board.crt", "oard.key", 0));
  CHECK(!cs_drop_pair("board.key", "board.crt", 1)); /* certificate first */
  CHECK(!cs_drop_pair("board.pfx", "board.key", 1));
  CHECK(!cs_drop_pair("board.crt", "board.pem", 1));
  CHECK(!cs_drop_pair("board.crt", "board.crt.key", 1));
  CHECK(!cs_drop_pair(".crt", ".key", 1));
}
