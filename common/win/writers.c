/* Windows half of platform.h: cs_plat_path_writers, who other than the administrators
 * can change a folder on the path of a file certsteward writes, from the drive's root
 * down to the file's folder, each judged through its own handle (cs__win_sd_judge,
 * pure, on the folder's owner and DACL; folder.c's walk and DACL decision); and the
 * same walk over the folders above the state and drop folders, the configuration and
 * the password file (cs__win_above_unsafe), which folder.c's checks add to their own. */
#include "../platform.h"
#include "acl.h"
#include "folder_int.h"
#include "win.h"

#include <aclapi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the folders on the path of a file certsteward writes (cs_plat_path_writers) -- */

int cs__win_writers_judge(PACL dacl, PSID owner, PSID self, int own, PSID *who) {
  return own ? cs__win_dacl_judge(dacl, owner, self, CS_WIN_FOLDER_WRITE_RIGHTS, 0, who)
             : cs__win_dacl_judge(dacl, owner, self, CS_WIN_REPLACE_RIGHTS, 1, who);
}

int cs__win_sd_judge(PSECURITY_DESCRIPTOR sd, PSID self, int own, PSID *who) {
  PSID owner = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  if (who != NULL)
    *who = NULL;
  if (sd == NULL || !GetSecurityDescriptorOwner(sd, &owner, &defaulted) || owner == NULL ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted))
    return CS_WIN_UNREAD; /* fail closed: what cannot be read is not trusted */
  /* no DACL at all (SE_DACL_PRESENT clear) grants everyone everything, as a NULL one does */
  return cs__win_writers_judge(present ? dacl : NULL, owner, self, own, who);
}

void cs__win_writers_say(int judged, PSID at_fault, char *who, size_t len) {
  char account[400];
  if (at_fault != NULL)
    cs__win_describe_sid(at_fault, account, sizeof account);
  if ((judged == CS_WIN_OWNER || judged == CS_WIN_WRITER) && at_fault != NULL)
    snprintf(who, len, "%s (%s)", account, judged == CS_WIN_OWNER ? "owner" : "DACL");
  else if (judged == CS_WIN_NO_DACL)
    snprintf(who, len, "everyone (no DACL)");
  else if (judged == CS_WIN_UNREAD)
    snprintf(who, len, "cannot be told: its owner and permissions cannot be read");
  else
    snprintf(who, len, "cannot be told: an access rule of a kind certsteward cannot read");
}

/* Who else can change the folder dir: own as cs__win_writers_judge; 1 with who set. */
static int writers_folder(const char *dir, int own, PSID self, char *who, size_t len) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL, at_fault = NULL;
  PACL dacl = NULL;
  BY_HANDLE_FILE_INFORMATION info;
  HANDLE h = INVALID_HANDLE_VALUE;
  wchar_t *w = cs__win_path(dir);
  cs_err_t err;
  int rc = 1, judged;
  if (w == NULL) {
    snprintf(who, len, "cannot be told: not a valid UTF-8 path, or out of memory");
    goto out;
  }
  cs_err_clear(&err);
  if ((judged = cs__win_open_walked(w, dir, READ_CONTROL, &h, &err)) != CS_OK) {
    char reason[500];
    cs__win_walked_why(judged, &err, dir, reason, sizeof reason);
    snprintf(who, len, "cannot be told: %s", reason);
    goto out;
  }
  if (!GetFileInformationByHandle(h, &info) || !(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) ||
      (info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT)) {
    /* a junction or link on the way is not followed here: what it points to is not judged */
    snprintf(who, len, "cannot be told: it is not a plain folder (a link, junction or file)");
    goto out;
  }
  if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL, &dacl,
                      NULL, &sd) != ERROR_SUCCESS)
    sd = NULL; /* judged below as unreadable: unsafe */
  if ((judged = cs__win_sd_judge(sd, self, own, &at_fault)) == CS_WIN_SAFE)
    rc = 0;
  else
    cs__win_writers_say(judged, at_fault, who, len);
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  LocalFree(sd);
  free(w);
  return rc;
}

/* Length of the root of path, its separator included ("C:\\", "\\\\?\\C:\\",
 * "\\\\server\\share\\"); 0 when it has none that is judged here (a relative name). */
static size_t root_len(const char *p) {
  size_t off = strncmp(p, "\\\\?\\", 4) == 0 ? 4 : 0, i;
  int parts = 0;
  if (((p[off] >= 'A' && p[off] <= 'Z') || (p[off] >= 'a' && p[off] <= 'z')) && p[off + 1] == ':' &&
      cs_plat_is_path_sep(p[off + 2]))
    return off + 3;
  if (off != 0 || !cs_plat_is_path_sep(p[0]) || !cs_plat_is_path_sep(p[1]))
    return 0;
  for (i = 2; p[i] != '\0'; i++) /* \\server\share\ */
    if (cs_plat_is_path_sep(p[i]) && i > 2 && !cs_plat_is_path_sep(p[i - 1]) && ++parts == 2)
      return i + 1;
  return 0;
}

/* From the drive's root down to the folder that holds the file (path's last
 * separator), each judged through its own handle, reached by a walk from the root that
 * follows no link (a junction on the way answers "cannot be told"); what path names
 * itself is not. own_last: the folder that holds it is judged as a file's own folder
 * (cs__win_writers_judge own 1), else as every other, a folder above. */
static int writers_walk(const char *path, int own_last, char *folder, size_t folder_len, char *who, size_t who_len) {
  union cs__win_self_sid_u user;
  PSID self = cs__win_self_sid_into(&user);
  size_t r, last = 0, i, n;
  snprintf(folder, folder_len, "%s", path != NULL ? path : "");
  who[0] = '\0';
  if (path == NULL || (r = root_len(path)) == 0) {
    snprintf(who, who_len, "cannot be told: the path does not start at a drive or share");
    return 1;
  }
  if (!own_last && path[r] == '\0')
    return 0; /* a root: nothing above it */
  for (i = r; path[i] != '\0'; i++)
    if (cs_plat_is_path_sep(path[i]))
      last = i;
  if (last == 0)
    last = r - 1; /* a file in the root itself */
  for (i = r - 1;;) {
    n = i == r - 1 ? r : i; /* the root keeps its separator */
    if (n >= folder_len) {
      snprintf(who, who_len, "cannot be told: the path is too long");
      return 1;
    }
    memcpy(folder, path, n);
    folder[n] = '\0';
    if (writers_folder(folder, own_last && i == last, self, who, who_len))
      return 1;
    if (i == last)
      return 0;
    for (i++; !cs_plat_is_path_sep(path[i]); i++)
      ;
  }
}

/* Proven only on real Windows: Wine stores no ACLs on files and makes every file its
 * user's. */
int cs_plat_path_writers(const char *path, char *folder, size_t folder_len, char *who, size_t who_len) {
  return writers_walk(path, 1, folder, folder_len, who, who_len);
}

/* ---- the folders above a folder or file certsteward trusts (cs__win_above_unsafe) -- */

/* path made absolute as cs__win_walk makes it (GetFullPathNameW, a string operation;
 * a \\?\ path as it is), in UTF-8 without a separator at its end (a root keeps its
 * own); NULL when it cannot be (free). */
static char *absolute(const char *path) {
  wchar_t *w = cs__win_path(path), *full = NULL;
  char *p8 = NULL;
  size_t n, r;
  DWORD m;
  if (w == NULL)
    return NULL;
  if (wcsncmp(w, L"\\\\?\\", 4) == 0) {
    full = w;
    w = NULL;
  } else if ((m = GetFullPathNameW(w, 0, NULL, NULL)) == 0 || (full = malloc(sizeof *full * m)) == NULL ||
             GetFullPathNameW(w, m, full, NULL) >= m) {
    goto out;
  }
  if ((p8 = cs__win_utf8(full)) != NULL) {
    r = root_len(p8);
    for (n = strlen(p8); n > r && cs_plat_is_path_sep(p8[n - 1]); n--)
      p8[n - 1] = '\0';
  }
out:
  free(full);
  free(w);
  return p8;
}

/* Whoever can rename or delete a folder on the way to what certsteward trusts can put
 * a folder of their own in its place (a state folder holding a planted journal and
 * manifests; a drop folder; a configuration naming commands run as LocalSystem): the
 * documentation of DeleteFileW says "to delete or rename a file, you must have either
 * delete permission on the file, or delete child permission in the parent directory".
 * So each folder above, from the drive's root down, is judged as cs_plat_path_writers
 * judges the folders above a written file (cs__win_sd_judge, own 0): its owner
 * (who may always rewrite the DACL) must be Administrators, SYSTEM, TrustedInstaller
 * or this process's user, and no one else may hold DELETE (rename or delete the folder
 * itself), FILE_DELETE_CHILD (0x40, "the right to delete a directory and all the files
 * it contains", File Access Rights Constants: rename or delete any entry it holds),
 * WRITE_DAC, WRITE_OWNER, or a generic right that includes them; CREATOR OWNER and the
 * other entries that are inherit-only count only in what is made below, judged there.
 * Adding an entry is not replacing one: FILE_ADD_FILE (2) and FILE_ADD_SUBDIRECTORY (4,
 * "for a directory, the right to create a subdirectory") let a user make a new name,
 * never take one that exists.
 * That is what Windows ships on C:\ (Authenticated Users: FILE_ADD_SUBDIRECTORY on the
 * folder itself) and C:\ProgramData (owner SYSTEM, protected DACL; BUILTIN\Users:
 * FILE_ADD_FILE, FILE_ADD_SUBDIRECTORY, FILE_WRITE_EA, FILE_WRITE_ATTRIBUTES on the
 * folder and, inherited, on the folders below; CREATOR OWNER: GENERIC_ALL,
 * inherit-only), so a user may make C:\ProgramData\other but cannot rename or remove
 * C:\ProgramData\certsteward. What a user could make is the folder itself before an
 * administrator does: that one is refused by the folder's own check (its owner is the
 * user; certsteward install makes it with its own protected DACL, owner Administrators,
 * and does not adopt one a user made: adopt.c). The folder itself is judged stricter, by folder.c
 * (every write-type right, entries for what is made inside included).
 * Fail closed: a folder whose owner or DACL cannot be read, a junction on the way, a
 * path that does not start at a drive or share (a \\?\UNC\ one among them) is unsafe.
 * Proven only on real Windows: Wine stores no ACLs and makes one up from the Unix mode
 * and owner of each folder (a folder others may write, as the host's /tmp, mode 1777,
 * shows Everyone with DELETE and FILE_DELETE_CHILD, and is refused as a folder above).
 * The decision is unit-tested on the DACLs Windows ships (test_win_writers). */
int cs__win_above_unsafe(const char *path, char *why, size_t len) {
  char *full = absolute(path), folder[4096], who[600];
  int rc = 1;
  if (full == NULL) {
    snprintf(why, len, "cannot make %s absolute: not a valid UTF-8 path, or out of memory", path);
    return 1;
  }
  if (writers_walk(full, 0, folder, sizeof folder, who, sizeof who) == 0)
    rc = 0;
  else if (strncmp(who, "cannot be told: ", 16) == 0)
    snprintf(why, len, "%s, a folder above %s, cannot be judged: %s", folder, path, who + 16);
  else
    snprintf(why, len,
             "%s, a folder above %s, can be changed by %s, who could rename what it holds and put their own in its "
             "place",
             folder, path, who);
  free(full);
  return rc;
}
