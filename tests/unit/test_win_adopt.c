/* What certsteward install finds before it uses it (common/win/adopt.c, the judgement
 * in common/win/folder.c), the state files the daemon trusts (cs_plat_state_unsafe)
 * and the service's failure actions and exit codes (common/win/svcconf.c).
 * The decisions are pure and tested on security descriptors from SDDL. Under Wine
 * every file is owned by the process's user and DACLs are made up from the Unix mode:
 * the real-file tests pass no "self" to make Wine's owner someone else (a planted
 * file), or this process's user to make it an administrator's; link counts and renames
 * are real. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>

#include "platform.h"
#include "win/acl.h"
#include "win/adopt.h"
#include "win/svcconf.h"
#include "win/win.h"

#define USER "S-1-5-21-1-2-3-1001"
#define TI "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

/* cs__win_found_judge on the owner and DACL of an SDDL security descriptor. */
static int found(const char *sddl, DWORD attrs, DWORD links, int want, const char *self_sid) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL, self = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  int r;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL)) {
    cs_test_fail(__FILE__, __LINE__, "bad SDDL %s", sddl);
    return -1;
  }
  GetSecurityDescriptorOwner(sd, &owner, &defaulted);
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  if (self_sid != NULL)
    ConvertStringSidToSidA(self_sid, &self);
  r = cs__win_found_judge(attrs, links, want, owner, 1, present ? dacl : NULL, self, CS_WIN_FOLDER_WRITE_RIGHTS, NULL);
  LocalFree(self);
  LocalFree(sd);
  return r;
}

#define FILE_ATTRS FILE_ATTRIBUTE_ARCHIVE
#define DIR_ATTRS FILE_ATTRIBUTE_DIRECTORY

/* A configuration a user put in %ProgramData%\certsteward before the MSI ran is
 * theirs (CREATOR OWNER keeps full control there): not adopted. */
CS_TEST(planted_file_is_not_an_administrators) {
  static const char *planted = "O:" USER "D:(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;" USER ")";
  CHECK_INT(found(planted, FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OWNER);
  CHECK_INT(found(planted, FILE_ATTRS, 1, 0, "S-1-5-18"), ==, CS_WIN_FOUND_OWNER);
  /* the same file, once an administrator made it: Administrators, SYSTEM, TrustedInstaller */
  CHECK_INT(found("O:BAD:(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;BU)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OK);
  CHECK_INT(found("O:SYD:(A;;FA;;;SY)(A;;FA;;;BA)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OK);
  CHECK_INT(found("O:" TI "D:(A;;FA;;;SY)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OK);
  /* the account install runs as (an elevated administrator) owns what it made */
  CHECK_INT(found(planted, FILE_ATTRS, 1, 0, USER), ==, CS_WIN_FOUND_OK);
  /* Users, Everyone, CREATOR OWNER: never an owner to trust */
  CHECK_INT(found("O:BUD:(A;;FA;;;SY)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OWNER);
  CHECK_INT(found("O:WDD:(A;;FA;;;SY)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OWNER);
  CHECK_INT(found("O:COD:(A;;FA;;;SY)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_OWNER);
  /* an owner that could not be read, a DACL that could not be read */
  CHECK_INT(cs__win_found_judge(FILE_ATTRS, 1, 0, NULL, 1, NULL, NULL, CS_WIN_FOLDER_WRITE_RIGHTS, NULL), ==,
            CS_WIN_FOUND_OWNER);
}

CS_TEST(links_kinds_and_writers_are_not_trusted) {
  static const char *admin = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";
  /* a junction or link is refused whoever owns it */
  CHECK_INT(found(admin, DIR_ATTRS | FILE_ATTRIBUTE_REPARSE_POINT, 1, 1, NULL), ==, CS_WIN_FOUND_REPARSE);
  CHECK_INT(found(admin, FILE_ATTRS | FILE_ATTRIBUTE_REPARSE_POINT, 1, 0, NULL), ==, CS_WIN_FOUND_REPARSE);
  CHECK_INT(found(admin, FILE_ATTRS | FILE_ATTRIBUTE_REPARSE_POINT, 1, -1, NULL), ==, CS_WIN_FOUND_REPARSE);
  /* a second name of a file: whatever is done to it is done to the other */
  CHECK_INT(found(admin, FILE_ATTRS, 2, 0, NULL), ==, CS_WIN_FOUND_LINKS);
  /* ... but a Windows program of System32, TrustedInstaller's, is linked into WinSxS */
  CHECK_INT(
      found("O:" TI "D:(A;;FA;;;" TI ")(A;;0x1200a9;;;BA)(A;;0x1200a9;;;SY)(A;;0x1200a9;;;BU)", FILE_ATTRS, 2, 0, NULL),
      ==, CS_WIN_FOUND_OK);
  CHECK_INT(found(admin, DIR_ATTRS, 3, 1, NULL), ==, CS_WIN_FOUND_OK); /* a folder's count is not its names */
  /* a file where a folder belongs, and the reverse */
  CHECK_INT(found(admin, FILE_ATTRS, 1, 1, NULL), ==, CS_WIN_FOUND_KIND);
  CHECK_INT(found(admin, DIR_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_KIND);
  CHECK_INT(found(admin, DIR_ATTRS, 1, -1, NULL), ==, CS_WIN_FOUND_OK);
  /* an administrator's, but Users may change it */
  CHECK_INT(found("O:BAD:(A;;FA;;;BA)(A;;0x116;;;BU)", FILE_ATTRS, 1, 0, NULL), ==, CS_WIN_FOUND_WRITER);
  CHECK_INT(found("O:BAD:(A;OICI;FA;;;BA)(A;CI;0x116;;;BU)", DIR_ATTRS, 1, 1, NULL), ==, CS_WIN_FOUND_WRITER);
  CHECK_INT(cs__win_found_judge(FILE_ATTRS, 1, 0, NULL, 0, NULL, NULL, CS_WIN_FOLDER_WRITE_RIGHTS, NULL), ==,
            CS_WIN_FOUND_OWNER);
}

/* The DACL of dacl_sddl with the base entries (cs__win_dacl_with_base), as SDDL. */
static void with_base(const char *dacl_sddl, char *out, size_t len, int *has_base) {
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_DESCRIPTOR abs;
  PACL dacl = NULL, merged = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  LPSTR text = NULL;
  out[0] = '\0';
  *has_base = -1;
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA(dacl_sddl, SDDL_REVISION_1, &sd, NULL));
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  merged = cs__win_dacl_with_base(present ? dacl : NULL);
  CHECK(merged != NULL);
  if (merged != NULL && InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION) &&
      SetSecurityDescriptorDacl(&abs, TRUE, merged, FALSE) &&
      SetSecurityDescriptorControl(&abs, SE_DACL_PROTECTED, SE_DACL_PROTECTED) &&
      ConvertSecurityDescriptorToStringSecurityDescriptorA(&abs, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &text,
                                                           NULL))
    snprintf(out, len, "%s", text);
  if (merged != NULL)
    *has_base = cs__win_dacl_has_base(SE_DACL_PROTECTED, merged);
  LocalFree(text);
  LocalFree(merged);
  LocalFree(sd);
}

/* A repair or upgrade keeps what an administrator added to a safe folder whose DACL is
 * protected (install makes every folder so): complete, it is kept as it is; else its
 * entries stay (any inherited one made explicit, deny entries first) and only missing
 * base entries are added. */
CS_TEST(safe_folder_keeps_added_entries) {
  char sddl[1024];
  int base;
  SECURITY_DESCRIPTOR_CONTROL prot = SE_DACL_PROTECTED;
  PSECURITY_DESCRIPTOR sd = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;

  /* install's own DACL with Backup Operators' read added: already complete, kept as it is */
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;BO)",
                                                             SDDL_REVISION_1, &sd, NULL));
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  CHECK_INT(cs__win_dacl_has_base(prot, dacl), ==, 1);
  CHECK_INT(cs__win_dacl_has_base(0, dacl), ==, 0); /* not protected: ProgramData's rules would flow in */
  LocalFree(sd);
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA("D:P(A;OICI;FA;;;SY)(A;OICIIO;FA;;;BA)", SDDL_REVISION_1,
                                                             &sd, NULL));
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  CHECK_INT(cs__win_dacl_has_base(prot, dacl), ==, 0); /* inherit-only: not on the folder itself */
  LocalFree(sd);

  /* inherited from a safe parent, with an added entry and a deny entry */
  with_base("D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICI;FR;;;BO)(D;OICIID;WD;;;AU)", sddl, sizeof sddl, &base);
  CHECK_STR(sddl, "D:P(D;OICI;WD;;;AU)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;BO)");
  CHECK_INT(base, ==, 1);
  /* the base entries missing: added after what is there */
  with_base("D:(A;OICI;FR;;;BO)", sddl, sizeof sddl, &base);
  CHECK_STR(sddl, "D:P(A;OICI;FR;;;BO)(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)");
  CHECK_INT(base, ==, 1);
  /* no DACL at all: the base entries alone */
  with_base("O:BA", sddl, sizeof sddl, &base);
  CHECK_STR(sddl, "D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)");
}

/* cs__win_safe_folder_action on an SDDL DACL (its control: "P" protected). */
static int action(const char *sddl, int foreign_with_files) {
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  int r;
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL));
  GetSecurityDescriptorControl(sd, &control, &revision);
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  r = cs__win_safe_folder_action(control, present ? dacl : NULL, foreign_with_files);
  LocalFree(sd);
  return r;
}

/* install run again over the drop folder it made, to which an administrator added Backup
 * Operators' read: kept as it is; missing base entries are added to what is there; a
 * folder whose rules flow from above gets install's own. */
CS_TEST(install_again_keeps_an_added_entry) {
  CHECK_INT(action("D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;FR;;;BO)", 0), ==, CS_WIN_KEEP);
  CHECK_INT(action("D:P(A;OICI;FR;;;BO)(A;OICI;FA;;;SY)", 0), ==, CS_WIN_ADD_BASE);
  CHECK_INT(action("D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICI;FR;;;BO)", 0), ==, CS_WIN_RESET);
  CHECK_INT(action("D:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)", 1), ==, CS_WIN_KEEP); /* elsewhere, with files */
  /* what Wine makes up for every folder: nothing inherited, nothing to protect from */
  CHECK_INT(action("D:(A;OICI;FA;;;SY)(A;OICI;FA;;;S-1-5-21-0-0-0-1000)(A;OICI;0x1200a9;;;WD)", 0), ==, CS_WIN_KEEP);
}

/* The date for the administrator who finds it, then the random suffix in hex. */
CS_TEST(untrusted_name_is_dated_and_random) {
  static const unsigned char rnd[CS_WIN_UNTRUSTED_RANDOM] = {0x0a, 0x1b, 0xc2, 0xff};
  static const unsigned char zero[CS_WIN_UNTRUSTED_RANDOM] = {0};
  SYSTEMTIME t;
  char name[256];
  memset(&t, 0, sizeof t);
  t.wYear = 2026;
  t.wMonth = 12;
  t.wDay = 6;
  t.wHour = 23;
  t.wMinute = 15;
  cs__win_untrusted_name("C:\\ProgramData\\certsteward\\certsteward.ini", &t, rnd, name, sizeof name);
  CHECK_STR(name, "C:\\ProgramData\\certsteward\\certsteward.ini.untrusted-20261206-231500-0a1bc2ff");
  cs__win_untrusted_name("C:\\x", &t, zero, name, sizeof name);
  CHECK_STR(name, "C:\\x.untrusted-20261206-231500-00000000");
}

/* ---- on real files under Wine --------------------------------------------------------- */

static char tmp_dir[1024];

static const char *tmp(const char *name) { return cs_test_join(tmp_dir, name); }

static int hard_link(const char *link, const char *target) {
  wchar_t *a = cs__win_path(link), *b = cs__win_path(target);
  int ok = a != NULL && b != NULL && CreateHardLinkW(a, b, NULL);
  free(a);
  free(b);
  return ok;
}

/* 1 when moved is path + ".untrusted-YYYYMMDD-HHMMSS-" and eight hex digits. */
static int is_moved_name(const char *moved, const char *path) {
  size_t n = strlen(path), i;
  if (strncmp(moved, path, n) != 0 || strncmp(moved + n, ".untrusted-", 11) != 0 || strlen(moved + n + 11) != 24)
    return 0;
  for (i = 0; i < 24; i++) {
    char c = moved[n + 11 + i];
    if (i == 8 || i == 15 ? c != '-' : i < 15 ? (c < '0' || c > '9') : !strchr("0123456789abcdef", c))
      return 0;
  }
  return 1;
}

/* A configuration someone else owns (under Wine: no "self", so the owner Wine gives
 * every file is someone else) is moved aside under a dated name with its content,
 * and its name left free for a new one; a folder is made again, empty. */
CS_TEST(planted_config_is_moved_aside_with_its_content) {
  cs_win_secured_t s;
  cs_err_t err;
  char drop_moved[1300];
  cs_test_mkdtemp("cs-adopt", tmp_dir, sizeof tmp_dir);
  cs_test_put_str(tmp("certsteward.ini"), "[connector]\r\nrestart_command = C:\\Users\\Public\\evil.cmd\r\n");
  CHECK_INT(cs__win_secure(tmp("certsteward.ini"), CS_WIN_SECURE_FILE, NULL, &s, &err), ==, 0);
  CHECK_INT(s.found, ==, CS_WIN_FOUND_OWNER);
  CHECK(is_moved_name(s.moved_to, tmp("certsteward.ini")));
  CHECK_CONTAINS(s.why, "owned by");
  CHECK(!cs_plat_exists(tmp("certsteward.ini")));
  cs_test_file_is_str(s.moved_to, "[connector]\r\nrestart_command = C:\\Users\\Public\\evil.cmd\r\n");
  CHECK_INT(s.created, ==, 0);

  CHECK_INT(cs_plat_mkdirs(tmp("drop"), 0700, &err), ==, 0);
  cs_test_put_str(tmp("drop\\planted.pfx"), "theirs");
  CHECK_INT(cs__win_secure(tmp("drop"), 0, NULL, &s, &err), ==, 0);
  CHECK_INT(s.found, ==, CS_WIN_FOUND_OWNER);
  CHECK_INT(s.created, ==, 1);
  snprintf(drop_moved, sizeof drop_moved, "%s\\planted.pfx", s.moved_to);
  cs_test_file_is_str(drop_moved, "theirs");
  CHECK(cs_plat_exists(tmp("drop")) && !cs_plat_exists(tmp("drop\\planted.pfx")));
  /* a file where the folder belongs: moved aside too, whoever owns it */
  cs_test_put_str(tmp("state"), "not a folder");
  CHECK_INT(cs__win_secure(tmp("state"), 0, NULL, &s, &err), ==, 0);
  CHECK_INT(s.found, ==, CS_WIN_FOUND_KIND);
  cs_test_file_is_str(s.moved_to, "not a folder");
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
}

/* A user who may create files beside the configuration creates, for this second and
 * the next few, every name a date alone could give ("-2" .. "-9" too): install still
 * moves the planted file aside, under a name no one could know; two moves in the same
 * second take two names. */
CS_TEST(names_created_in_advance_do_not_block_the_move) {
  char first[1200], name[1300];
  const char *ini;
  cs_win_secured_t s;
  cs_err_t err;
  SYSTEMTIME now;
  FILETIME ft;
  ULARGE_INTEGER u;
  int sec, n;
  cs_test_mkdtemp("cs-adopt", tmp_dir, sizeof tmp_dir);
  ini = tmp("certsteward.ini");
  GetSystemTimeAsFileTime(&ft);
  for (sec = 0; sec < 5; sec++) {
    SYSTEMTIME utc;
    FILETIME f;
    u.LowPart = ft.dwLowDateTime;
    u.HighPart = ft.dwHighDateTime;
    u.QuadPart += (ULONGLONG)sec * 10000000u;
    f.dwLowDateTime = u.LowPart;
    f.dwHighDateTime = u.HighPart;
    FileTimeToSystemTime(&f, &utc);
    SystemTimeToTzSpecificLocalTime(NULL, &utc, &now);
    for (n = 1; n <= 9; n++) {
      snprintf(name, sizeof name, "%s.untrusted-%04u%02u%02u-%02u%02u%02u", ini, now.wYear, now.wMonth, now.wDay,
               now.wHour, now.wMinute, now.wSecond);
      if (n > 1)
        snprintf(name + strlen(name), sizeof name - strlen(name), "-%d", n);
      cs_test_put_str(name, "someone's");
    }
  }
  cs_test_put_str(ini, "planted one");
  CHECK_INT(cs__win_secure(ini, CS_WIN_SECURE_FILE, NULL, &s, &err), ==, 0);
  CHECK(is_moved_name(s.moved_to, ini));
  cs_test_file_is_str(s.moved_to, "planted one");
  snprintf(first, sizeof first, "%s", s.moved_to);
  cs_test_put_str(ini, "planted two");
  CHECK_INT(cs__win_secure(ini, CS_WIN_SECURE_FILE, NULL, &s, &err), ==, 0);
  CHECK(is_moved_name(s.moved_to, ini));
  CHECK(strcmp(s.moved_to, first) != 0);
  cs_test_file_is_str(s.moved_to, "planted two");
  cs_test_file_is_str(first, "planted one");
  CHECK(!cs_plat_exists(ini));
  CHECK_INT(cs_test_count_entries(tmp_dir), ==, 5 * 9 + 2);
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
}

/* An administrator's configuration (this process's user under Wine) is kept as it is;
 * a second name makes a file someone else's, whoever owns it. */
CS_TEST(safe_config_is_kept_untouched) {
  PSID self = cs__win_self_sid();
  cs_win_secured_t s;
  cs_err_t err;
  CHECK(self != NULL);
  cs_test_mkdtemp("cs-adopt", tmp_dir, sizeof tmp_dir);
  cs_test_put_str(tmp("certsteward.ini"), "[watch]\r\nsettle_seconds = 3\r\n");
  CHECK_INT(cs__win_secure(tmp("certsteward.ini"), CS_WIN_SECURE_FILE, self, &s, &err), ==, 0);
  CHECK_INT(s.found, ==, CS_WIN_FOUND_OK);
  CHECK_STR(s.moved_to, "");
  CHECK_INT(s.changed, ==, 0);
  cs_test_file_is_str(tmp("certsteward.ini"), "[watch]\r\nsettle_seconds = 3\r\n");
  /* nothing there: nothing done, nothing made */
  CHECK_INT(cs__win_secure(tmp("missing.ini"), CS_WIN_SECURE_FILE, self, &s, &err), ==, 0);
  CHECK_INT(s.found, ==, -1);
  CHECK(!cs_plat_exists(tmp("missing.ini")));
  /* a hard link to a file elsewhere */
  cs_test_put_str(tmp("elsewhere"), "other");
  CHECK(hard_link(tmp("linked.ini"), tmp("elsewhere")));
  CHECK_INT(cs__win_secure(tmp("linked.ini"), CS_WIN_SECURE_FILE, self, &s, &err), ==, 0);
  CHECK_INT(s.found, ==, CS_WIN_FOUND_LINKS);
  CHECK(!cs_plat_exists(tmp("linked.ini")));
  cs_test_file_is_str(tmp("elsewhere"), "other");
  LocalFree(self);
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
}

/* install run twice: the drop folder it made is kept, with what it holds (its DACL
 * entries too: safe_folder_keeps_added_entries; Wine stores none). */
CS_TEST(folder_made_once_is_kept_the_second_time) {
  PSID self = cs__win_self_sid();
  cs_win_secured_t s;
  cs_err_t err;
  cs_test_mkdtemp("cs-adopt", tmp_dir, sizeof tmp_dir);
  CHECK_INT(cs__win_secure(tmp("drop"), 0, self, &s, &err), ==, 0);
  CHECK_INT(s.created, ==, 1);
  CHECK_INT(s.found, ==, -1);
  cs_test_put_str(tmp("drop\\renewed.pfx"), "admin's");
  CHECK_INT(cs__win_secure(tmp("drop"), 0, self, &s, &err), ==, 0);
  CHECK_INT(s.created, ==, 0);
  CHECK_INT(s.found, ==, CS_WIN_FOUND_OK);
  CHECK_STR(s.moved_to, "");
  cs_test_file_is_str(tmp("drop\\renewed.pfx"), "admin's");
  LocalFree(self);
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
}

/* The daemon's state files: a journal or manifest with a second name is not trusted,
 * nor a folder that holds one; nothing there is nothing to trust. */
CS_TEST(state_files_are_judged_before_they_are_trusted) {
  char why[1024] = "";
  cs_err_t err;
  cs_test_mkdtemp("cs-adopt", tmp_dir, sizeof tmp_dir);
  CHECK_INT(cs_plat_state_unsafe(tmp("journal"), why, sizeof why), ==, 0);
  cs_test_put_str(tmp("journal"), "state BEGIN\n");
  CHECK_INT(cs_plat_mkdirs(tmp("tx\\store"), 0700, &err), ==, 0);
  cs_test_put_str(tmp("tx\\store\\manifest"), "new AB\n");
  CHECK_INT(cs_plat_state_unsafe(tmp("journal"), why, sizeof why), ==, 0);
  CHECK_INT(cs_plat_state_unsafe(tmp("tx"), why, sizeof why), ==, 0);
  cs_test_put_str(tmp("other"), "someone's");
  CHECK(hard_link(tmp("tx\\store\\planted"), tmp("other")));
  CHECK_INT(cs_plat_state_unsafe(tmp("tx"), why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "planted has more than one name");
  CHECK_INT(cs_plat_state_unsafe(tmp("other"), why, sizeof why), ==, 1);
  /* the configuration check counts a file's names too */
  CHECK_INT(cs_plat_config_file_unsafe(tmp("other"), why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "more than one name");
  CHECK_INT(cs_plat_remove_tree(tmp_dir, NULL), ==, 0);
}

/* ---- the service ---------------------------------------------------------------------- */

/* Restart twice after a crash or a stop on its own error (a start that failed, a bad
 * configuration), then nothing, for a day. */
CS_TEST(failure_actions_restart_twice_then_stop) {
  SERVICE_FAILURE_ACTIONSW fa;
  SC_ACTION actions[3];
  SERVICE_FAILURE_ACTIONS_FLAG flag;
  DWORD win32 = 1, specific = 1;
  memset(&flag, 0xff, sizeof flag);
  cs__win_failure_actions(&fa, actions, &flag);
  CHECK_INT(fa.cActions, ==, 3);
  CHECK(fa.lpsaActions == actions);
  CHECK_INT(fa.lpsaActions[0].Type, ==, SC_ACTION_RESTART);
  CHECK_INT(fa.lpsaActions[1].Type, ==, SC_ACTION_RESTART);
  CHECK_INT(fa.lpsaActions[2].Type, ==, SC_ACTION_NONE); /* the last action repeats: none, for ever */
  CHECK_INT(fa.lpsaActions[0].Delay, ==, 60000);
  CHECK_INT(fa.dwResetPeriod, ==, 86400);
  CHECK(fa.lpCommand == NULL && fa.lpRebootMsg == NULL);
  CHECK_INT(flag.fFailureActionsOnNonCrashFailures, ==, TRUE);
  cs__win_service_exit(0, 0, &win32, &specific);
  CHECK_INT(win32, ==, NO_ERROR);
  CHECK_INT(specific, ==, 0);
  cs__win_service_exit(2, 1, &win32, &specific);
  CHECK_INT(win32, ==, ERROR_SERVICE_SPECIFIC_ERROR);
  CHECK_INT(specific, ==, CS_SVC_EXIT_CONFIG);
  CHECK_INT(CS_SVC_EXIT_CONFIG, ==, 3);
  cs__win_service_exit(2, 0, &win32, &specific);
  CHECK_INT(win32, ==, ERROR_SERVICE_SPECIFIC_ERROR);
  CHECK_INT(specific, ==, CS_SVC_EXIT_START);
}
