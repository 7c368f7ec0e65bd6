/* Windows half of platform.h: cs_plat_path_writers, who other than the administrators
 * can change a folder on the path of a file certsteward writes, from the drive's root
 * down to the file's folder, each judged through its own handle (cs__win_writers_judge,
 * pure, on the folder's owner and DACL; folder.c's walk and DACL decision). */
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

void cs__win_writers_say(int judged, PSID at_fault, char *who, size_t len) {
  char account[400];
  if (at_fault != NULL)
    cs__win_describe_sid(at_fault, account, sizeof account);
  if ((judged == CS_WIN_OWNER || judged == CS_WIN_WRITER) && at_fault != NULL)
    snprintf(who, len, "%s (%s)", account, judged == CS_WIN_OWNER ? "owner" : "DACL");
  else if (judged == CS_WIN_NO_DACL)
    snprintf(who, len, "everyone (no DACL)");
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
                      NULL, &sd) != ERROR_SUCCESS ||
      owner == NULL) {
    snprintf(who, len, "cannot be told: its owner and permissions cannot be read");
    goto out;
  }
  if ((judged = cs__win_writers_judge(dacl, owner, self, own, &at_fault)) == CS_WIN_SAFE)
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

/* From the drive's root down to the folder that holds the file, each judged through
 * its own handle, reached by a walk from the root that follows no link (a junction on
 * the way answers "cannot be told"); the file itself is not. Proven only
 * on real Windows: Wine stores no ACLs on files and makes every file its user's. */
int cs_plat_path_writers(const char *path, char *folder, size_t folder_len, char *who, size_t who_len) {
  union cs__win_self_sid_u user;
  PSID self = cs__win_self_sid_into(&user);
  size_t r, last = 0, i, n;
  snprintf(folder, folder_len, "%s", path != NULL ? path : "");
  who[0] = '\0';
  if (path == NULL || (r = root_len(path)) == 0) {
    snprintf(who, who_len, "cannot be told: the path does not start at a drive or share");
    return 1;
  }
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
    if (writers_folder(folder, i == last, self, who, who_len))
      return 1;
    if (i == last)
      return 0;
    for (i++; !cs_plat_is_path_sep(path[i]); i++)
      ;
  }
}
