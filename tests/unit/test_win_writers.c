/* Who can change a folder on the path of a file certsteward writes, on Windows
 * (cs_plat_path_writers, common/win/writers.c): the decision (cs__win_writers_judge)
 * and how the account at fault is named (cs__win_writers_say), on security descriptors
 * from SDDL, which Wine handles correctly; and the walk over real folders. Under Wine
 * every file is the process's user's and DACLs are made up from the Unix mode, so what
 * a real server's DACLs give (C:\ProgramData, a service's own folder) is proven only
 * there; the walk's order, its root and its failures are real here. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>

#include "platform.h"
#include "win/acl.h"

#define USER "S-1-5-21-1-2-3-1001"
/* NT SERVICE\BOARD Connector Service (the SHA-1 of its upper-cased name) */
#define BOARD "S-1-5-80-1875588013-3631800679-2118433554-238102967-4227175876"

static PSID judged_sid;
static char who[600];

/* cs__win_sd_judge (cs__win_writers_judge on the owner and DACL) on an SDDL security
 * descriptor (own: the file's own folder), self NULL; who receives
 * cs__win_writers_say's text when it is not safe. */
static int judge(const char *sddl, int own) {
  PSECURITY_DESCRIPTOR sd = NULL;
  int r;
  who[0] = '\0';
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL)) {
    cs_test_fail(__FILE__, __LINE__, "bad SDDL %s", sddl);
    return -1;
  }
  r = cs__win_sd_judge(sd, NULL, own, &judged_sid);
  if (r != CS_WIN_SAFE)
    cs__win_writers_say(r, judged_sid, who, sizeof who);
  LocalFree(sd);
  return r;
}

/* C:\ as Windows ships it: every user may create folders there (this folder only) and
 * Authenticated Users may modify what is below (inherit only, replaced by each child's
 * own DACL). Above a file that replaces nothing; as the file's own folder it plants. */
#define DRIVE_ROOT                                                                                                     \
  "O:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464D:(A;OICI;FA;;;BA)(A;OICI;FA;;;SY)"                 \
  "(A;OICI;0x1200a9;;;BU)(A;OICIIO;SDGXGWGR;;;AU)(A;;LC;;;AU)(A;OICIIO;GA;;;CO)"

CS_TEST(drive_root_is_safe_above_but_not_as_the_files_folder) {
  CHECK_INT(judge(DRIVE_ROOT, 0), ==, CS_WIN_SAFE);
  CHECK_INT(judge(DRIVE_ROOT, 1), ==, CS_WIN_WRITER);
  CHECK_CONTAINS(who, "S-1-5-11"); /* Authenticated Users */
  CHECK_CONTAINS(who, "(DACL)");
}

/* The connector's own config folder: its service account may change it. Named by its
 * SID (Wine cannot look NT SERVICE accounts up; Windows adds the name before it). */
CS_TEST(service_account_with_modify_is_named) {
  static const char *cfg = "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1301bf;;;" BOARD ")";
  CHECK_INT(judge(cfg, 1), ==, CS_WIN_WRITER);
  CHECK_CONTAINS(who, BOARD);
  CHECK_CONTAINS(who, "(DACL)");
  /* above the file: modify holds DELETE, which replaces what the folder holds */
  CHECK_INT(judge(cfg, 0), ==, CS_WIN_WRITER);
  /* read and execute only: nothing to say */
  CHECK_INT(judge("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;" BOARD ")", 1), ==, CS_WIN_SAFE);
  CHECK_INT(judge("O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICI;0x1200a9;;;" BOARD ")", 0), ==, CS_WIN_SAFE);
}

/* A folder above that lets a user delete children, or change its DACL, is said; one
 * owned by a user too (the owner can always rewrite the DACL); a NULL DACL too. */
CS_TEST(replace_rights_above_and_owner_are_said) {
  CHECK_INT(judge("O:BAD:(A;;FA;;;BA)(A;;0x40;;;" USER ")", 0), ==, CS_WIN_WRITER); /* FILE_DELETE_CHILD */
  CHECK_CONTAINS(who, USER);
  CHECK_INT(judge("O:BAD:(A;;FA;;;BA)(A;;WD;;;" USER ")", 0), ==, CS_WIN_WRITER);
  CHECK_INT(judge("O:BAD:(A;;FA;;;BA)(A;;WDFA;;;BU)", 0), ==, CS_WIN_WRITER);
  CHECK_CONTAINS(who, "S-1-5-32-545");
  /* adding files or folders alone replaces nothing above; it plants in the file's folder */
  CHECK_INT(judge("O:BAD:(A;;FA;;;BA)(A;;0x100006;;;" USER ")", 0), ==, CS_WIN_SAFE);
  CHECK_INT(judge("O:BAD:(A;;FA;;;BA)(A;;0x100006;;;" USER ")", 1), ==, CS_WIN_WRITER);
  CHECK_INT(judge("O:" USER "D:(A;;FA;;;BA)", 0), ==, CS_WIN_OWNER);
  CHECK_CONTAINS(who, USER);
  CHECK_CONTAINS(who, "(owner)");
  CHECK_INT(judge("O:" USER "D:(A;;FA;;;BA)", 1), ==, CS_WIN_OWNER);
  CHECK_INT(judge("O:BA", 0), ==, CS_WIN_NO_DACL);
  CHECK_STR(who, "everyone (no DACL)");
  /* Administrators, SYSTEM and TrustedInstaller are no one else */
  CHECK_INT(judge("O:SYD:(A;;FA;;;BA)(A;;FA;;;SY)(A;;FA;;;S-1-5-80-956008885-3418522649-1831038044-1853292631-"
                  "2271478464)",
                  1),
            ==, CS_WIN_SAFE);
}

/* C:\Program Files as Windows ships it (TrustedInstaller's; SYSTEM and Administrators
 * modify it and control what is made inside; Users and ALL APPLICATION PACKAGES read
 * and run; CREATOR OWNER) and certsteward's folder the MSI makes inside it (what it
 * inherits): certsteward doctor's program_folder check, which judges them as the
 * folders above a written file and the file's own folder. An admin who lets Users
 * modify the program's folder is said. */
#define TI "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
#define PROGRAM_FILES                                                                                                  \
  "O:" TI "D:PAI(A;;FA;;;" TI ")(A;CIIO;GA;;;" TI ")(A;;0x1301bf;;;SY)(A;OICIIO;GA;;;SY)(A;;0x1301bf;;;BA)"            \
  "(A;OICIIO;GA;;;BA)(A;;0x1200a9;;;BU)(A;OICIIO;GXGR;;;BU)(A;OICIIO;GA;;;CO)(A;;0x1200a9;;;AC)(A;OICIIO;GXGR;;;AC)"
#define PROGRAM_FOLDER_INHERITED                                                                                       \
  "(A;CIID;FA;;;" TI ")(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIID;0x1200a9;;;BU)(A;OICIIOID;GA;;;CO)"               \
  "(A;OICIID;0x1200a9;;;AC)"

CS_TEST(program_files_and_the_program_folder) {
  CHECK_INT(judge(PROGRAM_FILES, 0), ==, CS_WIN_SAFE);
  CHECK_INT(judge("O:BAD:AI" PROGRAM_FOLDER_INHERITED, 1), ==, CS_WIN_SAFE);
  CHECK_INT(judge("O:SYD:AI" PROGRAM_FOLDER_INHERITED, 1), ==, CS_WIN_SAFE);
  /* "Users: Modify" added by hand (icacls ... /grant Users:M) */
  CHECK_INT(judge("O:BAD:AI(A;OICI;0x1301bf;;;BU)" PROGRAM_FOLDER_INHERITED, 1), ==, CS_WIN_WRITER);
  CHECK_CONTAINS(who, "S-1-5-32-545");
  /* write only (add a file, a DLL planted beside the programs) is enough */
  CHECK_INT(judge("O:BAD:AI(A;;0x2;;;BU)" PROGRAM_FOLDER_INHERITED, 1), ==, CS_WIN_WRITER);
  /* a folder owned by the user who copied the programs there */
  CHECK_INT(judge("O:" USER "D:AI" PROGRAM_FOLDER_INHERITED, 1), ==, CS_WIN_OWNER);
  CHECK_CONTAINS(who, USER " (owner)");
}

/* A well-known group is named by its account name where Windows (and Wine) knows it. */
CS_TEST(well_known_group_is_named) {
  CHECK_INT(judge("O:BAD:(A;;FA;;;BA)(A;;FA;;;BU)", 1), ==, CS_WIN_WRITER);
  CHECK_CONTAINS(who, "Users (S-1-5-32-545) (DACL)");
}

/* The walk over real folders: a relative name, a missing folder and a path that does
 * not start at a drive fail closed, naming the folder; the root is judged first. */
CS_TEST(walk_fails_closed) {
  char folder[1024], why[600], dir[MAX_PATH], path[MAX_PATH + 64];
  CHECK_INT(cs_plat_path_writers("relative\\cert.pem", folder, sizeof folder, why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "does not start at a drive");
  /* under the Windows folder: the current folder may lie below a folder others can
   * write (a build under the host's /tmp is below Z:\tmp), said before the missing one */
  CHECK_INT(GetWindowsDirectoryA(dir, sizeof dir) > 0, ==, 1);
  snprintf(path, sizeof path, "%s\\no-such-folder-here\\cert.pem", dir);
  CHECK_INT(cs_plat_path_writers(path, folder, sizeof folder, why, sizeof why), ==, 1);
  CHECK_CONTAINS(folder, "no-such-folder-here");
  CHECK_CONTAINS(why, "cannot be told: cannot look at");
}

/* Real folders, with the DACLs Wine makes up from the Unix mode: the host's /tmp
 * (Z:\tmp, mode 1777, shown as Everyone with full control) is said, with Everyone by
 * name; the prefix's C:\windows (0755 folders) gives nothing. */
CS_TEST(real_folders_under_wine) {
  char folder[1024], why[600];
  CHECK_INT(cs_plat_path_writers("C:\\windows\\cert.pem", folder, sizeof folder, why, sizeof why), ==, 0);
  CHECK_INT(cs_plat_path_writers("Z:\\tmp\\cert.pem", folder, sizeof folder, why, sizeof why), ==, 1);
  CHECK_STR(folder, "Z:\\tmp");
  CHECK_CONTAINS(why, "Everyone (S-1-1-0) (DACL)");
}

/* ---- the folders above the state and drop folders, the configuration and the
 * password file (cs__win_above_unsafe: cs__win_sd_judge on each, own 0) ---------- */

/* C:\ProgramData as Windows 10 / Server 2016 and later ship it, from a published
 * `accesschk -dl C:\ProgramData` (pastebin.com/kf7ZLSM0; icacls shows the same as
 * SYSTEM:(OI)(CI)(F), Administrators:(OI)(CI)(F), CREATOR OWNER:(OI)(CI)(IO)(F),
 * Users:(OI)(CI)(RX), Users:(CI)(WD,AD,WEA,WA)): owner SYSTEM, DACL protected; Users
 * read, list and traverse (0x1200a9), and on the folder and (inherited) on the folders
 * below FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES
 * (0x116); CREATOR OWNER GENERIC_ALL, inherit-only. */
#define PROGRAMDATA_DACL "(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)(A;OICIIO;GA;;;CO)(A;OICI;0x1200a9;;;BU)(A;CI;0x116;;;BU)"
#define PROGRAMDATA "O:SYG:SYD:P" PROGRAMDATA_DACL
/* what certsteward install gives C:\ProgramData\certsteward (adopt.c's PRIVATE_SDDL) */
#define INSTALLED "O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"

/* The product's default layout: C:\ and C:\ProgramData above C:\ProgramData\certsteward,
 * each as Windows ships it, pass as folders above (Users may add a folder to
 * ProgramData, never rename or remove one that is there); the folder install makes
 * passes as above the drop folder and as the state folder itself. ProgramData would
 * not pass as a file's own folder (a configuration put straight into it). */
CS_TEST(default_layout_passes_above) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL, at = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  CHECK_INT(judge(DRIVE_ROOT, 0), ==, CS_WIN_SAFE);
  CHECK_INT(judge(PROGRAMDATA, 0), ==, CS_WIN_SAFE);
  CHECK_STR(who, "");
  CHECK_INT(judge(INSTALLED, 0), ==, CS_WIN_SAFE);
  CHECK_INT(judge(PROGRAMDATA, 1), ==, CS_WIN_WRITER);
  CHECK_CONTAINS(who, "S-1-5-32-545");
  /* the state folder itself, as folder.c judges it: every write-type right counts */
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA(INSTALLED, SDDL_REVISION_1, &sd, NULL));
  GetSecurityDescriptorOwner(sd, &owner, &defaulted);
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  CHECK_INT(cs__win_found_judge(FILE_ATTRIBUTE_DIRECTORY, 1, 1, owner, 1, dacl, NULL, CS_WIN_FOLDER_WRITE_RIGHTS, &at),
            ==, CS_WIN_FOUND_OK);
  LocalFree(sd);
  sd = NULL;
  /* a state folder that inherits ProgramData's rules (made without a protected DACL) does not pass */
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorA(
      "O:SYD:AI(A;OICIID;FA;;;SY)(A;OICIID;FA;;;BA)(A;OICIIOID;GA;;;CO)(A;OICIID;0x1200a9;;;BU)(A;CIID;0x116;;;BU)",
      SDDL_REVISION_1, &sd, NULL));
  GetSecurityDescriptorOwner(sd, &owner, &defaulted);
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  CHECK_INT(cs__win_found_judge(FILE_ATTRIBUTE_DIRECTORY, 1, 1, owner, 1, dacl, NULL, CS_WIN_FOLDER_WRITE_RIGHTS, &at),
            ==, CS_WIN_FOUND_WRITER);
  LocalFree(sd);
}

/* A folder above that lets Users delete its entries (icacls DC, FILE_DELETE_CHILD:
 * rename the state folder away and put their own there), change its DACL (WRITE_DAC,
 * SDDL "WD") or its owner (WO), or own it, is refused with Users named; so is a folder
 * above that Users may delete or rename itself (icacls DE, DELETE, on a folder between
 * ProgramData and the state folder: C:\ProgramData\vendor\certsteward). Each is
 * ProgramData's own DACL with one entry more. */
CS_TEST(replace_rights_above_are_refused) {
  static const char *const extra[] = {"(A;;0x40;;;BU)", "(A;;WD;;;BU)", "(A;;WO;;;BU)",
                                      "(A;;SD;;;BU)",   "(A;;GA;;;BU)", "(A;;0x1301bf;;;BU)"};
  char sddl[512];
  size_t i;
  for (i = 0; i < sizeof extra / sizeof *extra; i++) {
    snprintf(sddl, sizeof sddl, "O:SYD:P%s" PROGRAMDATA_DACL, extra[i]);
    CHECK_INT(judge(sddl, 0), ==, CS_WIN_WRITER);
    CHECK_CONTAINS(who, "Users (S-1-5-32-545) (DACL)");
  }
  /* GENERIC_WRITE maps to FILE_GENERIC_WRITE: add entries, write attributes, no
   * DELETE nor FILE_DELETE_CHILD; nothing there is taken away */
  CHECK_INT(judge("O:SYD:P(A;;GW;;;BU)" PROGRAMDATA_DACL, 0), ==, CS_WIN_SAFE);
  /* the same right inherit-only is for what is made below, judged there */
  CHECK_INT(judge("O:SYD:P(A;OICIIO;0x40;;;BU)" PROGRAMDATA_DACL, 0), ==, CS_WIN_SAFE);
  /* the folder above owned by a user: the owner can always rewrite its DACL */
  CHECK_INT(judge("O:" USER "D:P" PROGRAMDATA_DACL, 0), ==, CS_WIN_OWNER);
  CHECK_CONTAINS(who, USER " (owner)");
}

/* Fail closed: a security descriptor that could not be read, or without an owner, is
 * unsafe, said as such; one without a DACL lets everyone do anything. */
CS_TEST(unreadable_or_missing_dacl_above_is_refused) {
  SECURITY_DESCRIPTOR bare;
  CHECK_INT(cs__win_sd_judge(NULL, NULL, 0, &judged_sid), ==, CS_WIN_UNREAD);
  CHECK(judged_sid == NULL);
  cs__win_writers_say(CS_WIN_UNREAD, NULL, who, sizeof who);
  CHECK_CONTAINS(who, "cannot be told: its owner and permissions cannot be read");
  CHECK(InitializeSecurityDescriptor(&bare, SECURITY_DESCRIPTOR_REVISION));
  CHECK_INT(cs__win_sd_judge(&bare, NULL, 0, &judged_sid), ==, CS_WIN_UNREAD); /* no owner */
  CHECK_INT(judge("O:SY", 0), ==, CS_WIN_NO_DACL);                             /* no DACL */
  CHECK_STR(who, "everyone (no DACL)");
}

/* Real folders under Wine, whose DACLs are made up from the Unix mode: a drop folder
 * and a configuration of their own (mode 0755, made here) below the host's /tmp
 * (Z:\tmp, 1777: Everyone with DELETE and FILE_DELETE_CHILD) are refused, naming Z:\tmp
 * and Everyone; the same below the prefix's C:\ProgramData (0755) pass. Only real
 * Windows proves what its own DACLs give. */
CS_TEST(folders_above_real_paths_under_wine) {
  char dir[MAX_PATH], sub[MAX_PATH + 16], ini[MAX_PATH + 16], why[1200];
  int i;
  const char *const roots[] = {"Z:\\tmp", "C:\\ProgramData"};
  for (i = 0; i < 2; i++) {
    snprintf(dir, sizeof dir, "%s\\cs-above-%lu", roots[i], (unsigned long)GetCurrentProcessId());
    snprintf(sub, sizeof sub, "%s\\drop", dir);
    snprintf(ini, sizeof ini, "%s\\cs.ini", sub);
    CHECK(CreateDirectoryA(dir, NULL) || GetLastError() == ERROR_ALREADY_EXISTS);
    CHECK(CreateDirectoryA(sub, NULL) || GetLastError() == ERROR_ALREADY_EXISTS);
    cs_test_put_str(ini, "[watch]\n");
    why[0] = '\0';
    if (i == 0) {
      CHECK_INT(cs_plat_folder_unsafe(sub, why, sizeof why), ==, 1);
      CHECK_CONTAINS(why, "Z:\\tmp, a folder above ");
      CHECK_CONTAINS(why, "Everyone (S-1-1-0) (DACL)");
      CHECK_INT(cs_plat_config_file_unsafe(ini, why, sizeof why), ==, 1);
      CHECK_CONTAINS(why, "Z:\\tmp, a folder above ");
    } else {
      CHECK_INT(cs_plat_folder_unsafe(sub, why, sizeof why), ==, 0);
      CHECK_INT(cs_plat_folder_unsafe(dir, why, sizeof why), ==, 0);
      CHECK_INT(cs_plat_config_file_unsafe(ini, why, sizeof why), ==, 0);
    }
    DeleteFileA(ini);
    RemoveDirectoryA(sub);
    RemoveDirectoryA(dir);
  }
}
