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

/* cs__win_writers_judge on an SDDL security descriptor (own: the file's own folder),
 * self NULL; who receives cs__win_writers_say's text when it is not safe. */
static int judge(const char *sddl, int own) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  int r;
  who[0] = '\0';
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL)) {
    cs_test_fail(__FILE__, __LINE__, "bad SDDL %s", sddl);
    return -1;
  }
  GetSecurityDescriptorOwner(sd, &owner, &defaulted);
  GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted);
  r = cs__win_writers_judge(present ? dacl : NULL, owner, NULL, own, &judged_sid);
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
