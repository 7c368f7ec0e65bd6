/* certsteward doctor's Windows decisions that Wine can prove (common/win/keyaccess.c,
 * common/win/doctor.c): whether an account reads a key, decided on descriptors made
 * from SDDL (the descriptor mapped for an access check, the entry that decides), and
 * what certsteward's own failure actions are worth. The access check itself (Authz, a
 * stub under Wine) on a real key is proven only on real Windows. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>

#include "platform.h"
#include "win/keyacl.h"
#include "win/svc.h"
#include "win/svcconf.h"

#define BOARD_SID "S-1-5-80-1875588013-3631800679-2118433554-238102967-4227175876"
#define USERS "S-1-5-32-545"
#define SERVICE "S-1-5-6"

static PSECURITY_DESCRIPTOR sd_of(const char *sddl) {
  PSECURITY_DESCRIPTOR sd = NULL;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL))
    cs_test_fail(__FILE__, __LINE__, "bad SDDL %s", sddl);
  return sd;
}

static PSID sid_of(const char *text) {
  PSID sid = NULL;
  if (!ConvertStringSidToSidA(text, &sid))
    cs_test_fail(__FILE__, __LINE__, "bad SID %s", text);
  return sid;
}

/* Whether the holder of the SIDs in the comma-separated list (its user first) reads a
 * key whose DACL is sddl, as the doctor explains it; why into why. */
static int reads(const char *sddl, const char *sid_list, char *why, size_t len) {
  PSECURITY_DESCRIPTOR sd = sd_of(sddl), ready = NULL;
  PSID sids[8];
  char list[512], *p, *next;
  size_t n = 0, i;
  cs_err_t err;
  int r = -1;

  snprintf(list, sizeof list, "%s", sid_list);
  for (p = list; p != NULL && n < 8; p = next) {
    if ((next = strchr(p, ',')) != NULL)
      *next++ = '\0';
    sids[n++] = sid_of(p);
  }
  if (sd != NULL && cs__win_key_check_sd(sd, &ready, &err) == CS_OK)
    r = cs__win_access_explain(ready, sids, n, CS_WIN_KEY_READ_MAPPED, why, len);
  else
    snprintf(why, len, "cannot prepare: %s", err.text);
  for (i = 0; i < n; i++)
    LocalFree(sids[i]);
  free(ready);
  LocalFree(sd);
  return r;
}

CS_TEST(key_read_by_own_entry_or_group) {
  char why[300];
  /* what certlm.msc's "Manage Private Keys > Read" leaves: GENERIC_READ for the account */
  CHECK_INT(reads("D:(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 1);
  CHECK_STR(why, "entry 3 of the key's access rules gives READ to " BOARD_SID);
  /* the same READ written as the specific file rights (a CAPI key file) */
  CHECK_INT(reads("D:(A;;FR;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 1);
  /* through a group the account is in (the grant's own check does not count these) */
  CHECK_INT(reads("D:(A;;GA;;;SY)(A;;GR;;;" USERS ")", BOARD_SID "," SERVICE "," USERS, why, sizeof why), ==, 1);
  CHECK_STR(why, "entry 2 of the key's access rules gives READ to " USERS);
  /* READ assembled from two entries (read data through a group, the rest its own): the
   * one that completes it is named */
  CHECK_INT(reads("D:(A;;0x1;;;" SERVICE ")(A;;0x20088;;;" BOARD_SID ")", BOARD_SID "," SERVICE, why, sizeof why), ==,
            1);
  CHECK_STR(why, "entry 2 of the key's access rules gives READ to " BOARD_SID);
  /* either alone is not READ */
  CHECK_INT(reads("D:(A;;0x20088;;;" BOARD_SID ")", BOARD_SID "," SERVICE, why, sizeof why), ==, 0);
  /* no DACL at all lets everyone read */
  CHECK_INT(reads("O:SYG:SY", BOARD_SID, why, sizeof why), ==, 1);
  CHECK(strstr(why, "no DACL") != NULL);
}

CS_TEST(key_not_read) {
  char why[300];
  /* administrators and SYSTEM only: the connector's account is in neither */
  CHECK_INT(reads("D:(A;;GA;;;SY)(A;;GA;;;BA)", BOARD_SID "," SERVICE "," USERS, why, sizeof why), ==, 0);
  CHECK_STR(why, "no entry of the key's access rules gives READ to " BOARD_SID " or a group of it");
  /* a group's READ the account is not in */
  CHECK_INT(reads("D:(A;;GR;;;" USERS ")", BOARD_SID "," SERVICE, why, sizeof why), ==, 0);
  /* an empty DACL lets no one in */
  CHECK_INT(reads("D:", BOARD_SID, why, sizeof why), ==, 0);
  /* write without read is no read */
  CHECK_INT(reads("D:(A;;GW;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 0);
  /* an entry for children only (inherit-only) does not apply to the key */
  CHECK_INT(reads("D:(A;OICIIO;GR;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 0);
}

CS_TEST(key_deny_comes_first) {
  char why[300];
  /* a deny of a group before the account's own allow: denied, and the entry named */
  CHECK_INT(reads("D:(D;;GR;;;" USERS ")(A;;GR;;;" BOARD_SID ")", BOARD_SID "," USERS, why, sizeof why), ==, 0);
  CHECK_STR(why, "entry 1 of the key's access rules denies READ to " USERS);
  /* a deny after READ was given changes nothing (entries in order) */
  CHECK_INT(reads("D:(A;;GR;;;" BOARD_SID ")(D;;GR;;;" USERS ")", BOARD_SID "," USERS, why, sizeof why), ==, 1);
  /* a deny of writing the data takes no READ away */
  CHECK_INT(reads("D:(D;;0x2;;;" BOARD_SID ")(A;;GR;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 1);
  /* but GENERIC_WRITE stands for READ_CONTROL too, which READ needs: denied, as Windows does */
  CHECK_INT(reads("D:(D;;GW;;;" BOARD_SID ")(A;;GR;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 0);
  CHECK_STR(why, "entry 1 of the key's access rules denies READ to " BOARD_SID);
  /* a deny of a group the account is not in is not its */
  CHECK_INT(reads("D:(D;;GR;;;" USERS ")(A;;GR;;;" BOARD_SID ")", BOARD_SID, why, sizeof why), ==, 1);
}

CS_TEST(key_descriptor_mapped_for_the_check) {
  PSECURITY_DESCRIPTOR sd = sd_of("D:(A;;GR;;;" BOARD_SID ")(A;OICIIO;GA;;;BA)(D;;GW;;;" USERS ")"), ready = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  PSID owner = NULL;
  PACL dacl = NULL;
  ACCESS_ALLOWED_ACE *ace = NULL;
  cs_err_t err;
  char text[100];

  CHECK_INT(cs__win_key_check_sd(sd, &ready, &err), ==, CS_OK);
  CHECK(ready != NULL && IsValidSecurityDescriptor(ready));
  CHECK(GetSecurityDescriptorDacl(ready, &present, &dacl, &defaulted) && present && dacl != NULL);
  if (dacl != NULL) {
    CHECK_INT(dacl->AceCount, ==, 2); /* the inherit-only entry is left out */
    CHECK(GetAce(dacl, 0, (void **)&ace));
    CHECK_INT(ace->Mask, ==, FILE_GENERIC_READ); /* GENERIC_READ as the file rights it stands for */
    CHECK(GetAce(dacl, 1, (void **)&ace));
    CHECK_INT(ace->Header.AceType, ==, ACCESS_DENIED_ACE_TYPE);
    CHECK_INT(ace->Mask, ==, FILE_GENERIC_WRITE);
  }
  CHECK(GetSecurityDescriptorOwner(ready, &owner, &defaulted) && owner != NULL);
  CHECK_STR(cs__win_sid_text(owner, text, sizeof text), "S-1-5-18");
  free(ready);
  LocalFree(sd);
  CHECK_INT(cs__win_key_check_sd(NULL, &ready, &err), ==, CS_EINVAL);
}

CS_TEST(own_failure_actions_judged) {
  SERVICE_FAILURE_ACTIONSW fa;
  SERVICE_FAILURE_ACTIONS_FLAG flag;
  SC_ACTION set[3], forever[2] = {{SC_ACTION_RESTART, 60000}, {SC_ACTION_RESTART, 60000}};
  SC_ACTION none[1] = {{SC_ACTION_NONE, 0}};
  char why[300];

  cs__win_failure_actions(&fa, set, &flag); /* what install sets */
  CHECK_INT(cs__win_failure_actions_judge(&fa, why, sizeof why), ==, CS_DOCTOR_OK);
  CHECK_STR(why, "restarted 2 times after a failure (60 s after the first), then left stopped");
  fa.cActions = 2; /* restarts only: the last repeats */
  fa.lpsaActions = forever;
  CHECK_INT(cs__win_failure_actions_judge(&fa, why, sizeof why), ==, CS_DOCTOR_WARN);
  CHECK(strstr(why, "restarted forever") != NULL);
  CHECK(strstr(why, "not what certsteward install sets") != NULL);
  fa.cActions = 1;
  fa.lpsaActions = none;
  CHECK_INT(cs__win_failure_actions_judge(&fa, why, sizeof why), ==, CS_DOCTOR_FAIL);
  CHECK(strstr(why, "not restarted") != NULL);
  CHECK(strstr(why, "sets 2 restarts") != NULL);
  fa.cActions = 0;
  CHECK_INT(cs__win_failure_actions_judge(&fa, why, sizeof why), ==, CS_DOCTOR_FAIL);
  CHECK_INT(cs__win_failure_actions_judge(NULL, why, sizeof why), ==, CS_DOCTOR_FAIL);
}
