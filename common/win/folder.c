/* Windows half of platform.h: is a folder writable by someone other than the
 * administrators? (the drop and state folders must not be.)
 *
 * A first version: the owner and the allow entries of the folder's DACL are read, and
 * any write-type right (acl.h) held by a SID other than Administrators, SYSTEM,
 * TrustedInstaller, CREATOR OWNER, OWNER RIGHTS, this process's user or the folder's
 * (trusted) owner makes it unsafe. Group membership is not expanded (a domain group
 * whose only member is an admin still counts as someone else), and deny entries are
 * not weighed: the check errs towards "unsafe". What the Effective Access tab would
 * say (GetEffectiveRightsFromAcl per group) is for a later version.
 * The decision (cs__win_dacl_unsafe) is pure and unit-tested on DACLs made from SDDL,
 * which Wine handles correctly. Reading a real folder's DACL is proven only on real
 * Windows: Wine stores no ACLs on files and makes one up. The same decision, with read
 * rights added, judges a secret file (cs_plat_secret_file_unsafe: the PFX password).
 * Every path is judged through one handle (cs__win_found_judge: not a reparse point,
 * one name for a file, an owner that is an administrator, no one else with write-type
 * rights), which also judges the state files the daemon reads (cs_plat_state_unsafe)
 * and what certsteward install finds (adopt.c, which opens by name). Here that handle
 * comes from cs__win_walk: a link in any folder on the way is refused, not judged in
 * place of what the path names.
 * The folders above are judged too, from the drive's root down, as on POSIX: whoever
 * can rename or delete what one of them holds, or change who may, can put a folder of
 * their own (a state folder with a planted journal, a configuration) in place of the
 * one judged here (cs__win_above_unsafe, writers.c, which says what Windows ships on
 * C:\ and C:\ProgramData and why that passes).
 * This file: the decision on a DACL, the folder, secret-file, configuration and state
 * checks; the folders on the path of a written file (cs_plat_path_writers) and above a
 * judged one are in writers.c. */
#include "../platform.h"
#include "acl.h"
#include "folder_int.h"
#include "win.h"

#include <aclapi.h>
#include <sddl.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NT SERVICE\TrustedInstaller, the owner of the system's own folders */
#define TRUSTED_INSTALLER_SID "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

static int well_known(PSID sid, WELL_KNOWN_SID_TYPE type) {
  union {
    SID s;
    unsigned char b[SECURITY_MAX_SID_SIZE];
  } known;
  DWORD n = sizeof known;
  return CreateWellKnownSid(type, NULL, &known, &n) && EqualSid(sid, &known);
}

static int is_trusted_installer(PSID sid) {
  PSID ti = NULL;
  int yes = ConvertStringSidToSidA(TRUSTED_INSTALLER_SID, &ti) && EqualSid(sid, ti);
  LocalFree(ti);
  return yes;
}

int cs__win_sid_trusted(PSID sid, PSID owner, PSID self) {
  if (sid == NULL || !IsValidSid(sid))
    return 0;
  return well_known(sid, WinBuiltinAdministratorsSid) || well_known(sid, WinLocalSystemSid) ||
         well_known(sid, WinCreatorOwnerSid) || well_known(sid, WinCreatorOwnerRightsSid) ||
         is_trusted_installer(sid) || (self != NULL && IsValidSid(self) && EqualSid(sid, self)) ||
         (owner != NULL && IsValidSid(owner) && EqualSid(sid, owner));
}

/* The rights and SID of an allow entry; 0 when ace is not one, -1 when it is one of a
 * kind not read here. */
static int allowed_entry(ACE_HEADER *ace, ACCESS_MASK *mask, PSID *sid) {
  unsigned char *p = (unsigned char *)ace;
  size_t off;
  switch (ace->AceType) {
  case ACCESS_ALLOWED_ACE_TYPE:
  case ACCESS_ALLOWED_CALLBACK_ACE_TYPE:
    off = offsetof(ACCESS_ALLOWED_ACE, SidStart);
    break;
  case ACCESS_ALLOWED_OBJECT_ACE_TYPE:
  case ACCESS_ALLOWED_CALLBACK_OBJECT_ACE_TYPE: {
    const ACCESS_ALLOWED_OBJECT_ACE *o = (const ACCESS_ALLOWED_OBJECT_ACE *)ace;
    off = offsetof(ACCESS_ALLOWED_OBJECT_ACE, ObjectType);
    if (o->Flags & ACE_OBJECT_TYPE_PRESENT)
      off += sizeof(GUID);
    if (o->Flags & ACE_INHERITED_OBJECT_TYPE_PRESENT)
      off += sizeof(GUID);
    break;
  }
  case ACCESS_ALLOWED_COMPOUND_ACE_TYPE:
    return -1;
  default:
    /* Every other documented type up to SYSTEM_ACCESS_FILTER_ACE_TYPE (0x15) takes
     * away or records access (deny, audit, alarm, label, resource attribute, scoped
     * policy, trust label, filter): no grant. A type beyond that is unknown: unsafe. */
    return ace->AceType <= 0x15 ? 0 : -1;
  }
  if (off + 8 > ace->AceSize)
    return -1;
  memcpy(mask, p + sizeof(ACE_HEADER), sizeof *mask);
  *sid = (PSID)(p + off);
  if (!IsValidSid(*sid) || off + GetLengthSid(*sid) > ace->AceSize)
    return -1;
  return 1;
}

/* cs__win_dacl_unsafe; above 1: entries that apply only to what is created inside are
 * not counted (cs__win_writers_judge on a folder above a written file). */
int cs__win_dacl_judge(PACL dacl, PSID owner, PSID self, ACCESS_MASK rights, int above, PSID *who) {
  DWORD i;
  if (who != NULL)
    *who = NULL;
  if (owner != NULL && !cs__win_sid_trusted(owner, NULL, self)) {
    if (who != NULL)
      *who = owner;
    return CS_WIN_OWNER;
  }
  if (dacl == NULL)
    return CS_WIN_NO_DACL;
  for (i = 0; i < dacl->AceCount; i++) {
    void *ace = NULL;
    ACCESS_MASK mask = 0;
    PSID sid = NULL;
    int kind;
    if (!GetAce(dacl, i, &ace))
      return CS_WIN_UNKNOWN_ENTRY;
    kind = allowed_entry(ace, &mask, &sid);
    if (kind < 0)
      return CS_WIN_UNKNOWN_ENTRY;
    if (kind == 0 || (mask & rights) == 0 || (above && (((ACE_HEADER *)ace)->AceFlags & INHERIT_ONLY_ACE)) ||
        cs__win_sid_trusted(sid, owner, self))
      continue;
    if (who != NULL)
      *who = sid;
    return CS_WIN_WRITER;
  }
  return CS_WIN_SAFE;
}

int cs__win_dacl_unsafe(PACL dacl, PSID owner, PSID self, ACCESS_MASK rights, PSID *who) {
  return cs__win_dacl_judge(dacl, owner, self, rights, 0, who);
}

/* "DOMAIN\name (S-1-...)", or the SID alone when it has no name here. */
void cs__win_describe_sid(PSID sid, char *buf, size_t len) {
  wchar_t name[256], domain[256];
  DWORD nn = 256, dn = 256;
  SID_NAME_USE use;
  char *sid_text = NULL, *n8 = NULL, *d8 = NULL;
  LPSTR s = NULL;

  if (ConvertSidToStringSidA(sid, &s))
    sid_text = s;
  if (LookupAccountSidW(NULL, sid, name, &nn, domain, &dn, &use)) {
    n8 = cs__win_utf8(name);
    d8 = cs__win_utf8(domain);
  }
  if (n8 != NULL && d8 != NULL)
    snprintf(buf, len, "%s%s%s (%s)", d8, d8[0] ? "\\" : "", n8, sid_text ? sid_text : "?");
  else
    snprintf(buf, len, "%s", sid_text ? sid_text : "an account without a readable SID");
  free(n8);
  free(d8);
  LocalFree(s);
}

/* This process's user SID, copied into buf (NULL when it cannot be read). */
PSID cs__win_self_sid_into(union cs__win_self_sid_u *buf) {
  HANDLE tok = NULL;
  DWORD n = 0;
  PSID sid = NULL;
  if (OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) &&
      GetTokenInformation(tok, TokenUser, buf, sizeof *buf, &n))
    sid = buf->u.User.Sid;
  if (tok != NULL)
    CloseHandle(tok);
  return sid;
}

int cs__win_handle_unsafe(HANDLE h, ACCESS_MASK rights) {
  union cs__win_self_sid_u user;
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL;
  PACL dacl = NULL;
  int r;
  if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL, &dacl,
                      NULL, &sd) != ERROR_SUCCESS)
    return CS_WIN_UNKNOWN_ENTRY;
  r = owner == NULL ? CS_WIN_OWNER : cs__win_dacl_unsafe(dacl, owner, cs__win_self_sid_into(&user), rights, NULL);
  LocalFree(sd);
  return r;
}

int cs__win_owner_trusted(PSID owner, PSID self) {
  if (owner == NULL || !IsValidSid(owner))
    return 0;
  return well_known(owner, WinBuiltinAdministratorsSid) || well_known(owner, WinLocalSystemSid) ||
         is_trusted_installer(owner) || (self != NULL && IsValidSid(self) && EqualSid(owner, self));
}

int cs__win_found_judge(DWORD attrs, DWORD links, int want, PSID owner, int dacl_read, PACL dacl, PSID self,
                        ACCESS_MASK rights, PSID *who) {
  int dir = (attrs & FILE_ATTRIBUTE_DIRECTORY) != 0, r;
  if (who != NULL)
    *who = NULL;
  if (attrs & FILE_ATTRIBUTE_REPARSE_POINT)
    return CS_WIN_FOUND_REPARSE;
  if (want >= 0 && dir != want)
    return CS_WIN_FOUND_KIND;
  /* another name elsewhere: what is done to this one is done to it. But Windows' own
   * programs in System32 (powershell.exe, sc.exe, certreq.exe...) are hard links into
   * the component store, WinSxS ("Manage the Component Store", Windows docs), owned by
   * TrustedInstaller, whom no other account can make an owner: a second name of such a
   * file is Windows' own, not a link someone planted. Only real Windows shows the link
   * counts (Wine's System32 files have one name). */
  if (!dir && links != 1 && !is_trusted_installer(owner))
    return CS_WIN_FOUND_LINKS;
  if (!cs__win_owner_trusted(owner, self)) {
    if (who != NULL)
      *who = owner;
    return CS_WIN_FOUND_OWNER;
  }
  if (!dacl_read)
    return CS_WIN_FOUND_WRITER;
  r = cs__win_dacl_unsafe(dacl, owner, self, rights, who);
  return r == CS_WIN_SAFE ? CS_WIN_FOUND_OK : CS_WIN_FOUND_WRITER;
}

HANDLE cs__win_open_self(const wchar_t *path, DWORD access) {
  return CreateFileW(path, access | SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                     OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
}

int cs__win_found_handle(HANDLE h, int want, PSID self, ACCESS_MASK rights, PSID *who, PSECURITY_DESCRIPTOR *sd) {
  BY_HANDLE_FILE_INFORMATION info;
  PSID owner = NULL;
  PACL dacl = NULL;
  *sd = NULL;
  if (who != NULL)
    *who = NULL;
  if (!GetFileInformationByHandle(h, &info))
    return CS_WIN_FOUND_OWNER; /* fail closed: nothing known, nothing trusted */
  if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL, &dacl,
                      NULL, sd) != ERROR_SUCCESS) {
    *sd = NULL;
    owner = NULL;
  }
  return cs__win_found_judge(info.dwFileAttributes, info.nNumberOfLinks, want, owner, *sd != NULL, dacl, self, rights,
                             who);
}

PSID cs__win_self_sid(void) {
  union cs__win_self_sid_u user;
  PSID sid = cs__win_self_sid_into(&user), copy = NULL;
  DWORD n = sid != NULL ? GetLengthSid(sid) : 0;
  if (n > 0 && (copy = LocalAlloc(LMEM_FIXED, n)) != NULL && !CopySid(n, copy, sid)) {
    LocalFree(copy);
    copy = NULL;
  }
  return copy;
}

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

/* Opens path itself (folder or file) with access, through cs__win_walk and
 * cs__win_open_last: no link on the way or at path is followed (CS_ENOTREG); a root is
 * opened by name, as the walk does. CS_ENOENT without text: path itself is missing. */
int cs__win_open_walked(const wchar_t *w, const char *shown, DWORD access, HANDLE *h, cs_err_t *err) {
  cs__win_at_t at;
  BY_HANDLE_FILE_INFORMATION fi;
  int rc;
  *h = INVALID_HANDLE_VALUE;
  if ((rc = cs__win_walk(w, shown, 0, NULL, &at, err)) == CS_OK) {
    if (at.len > 0)
      rc = cs__win_open_last(&at, access, SHARE_ALL, FILE_OPEN, 0, NULL, h, &fi, shown, err);
    else if ((*h = cs__win_open_self(w, access | FILE_READ_ATTRIBUTES)) == INVALID_HANDLE_VALUE)
      rc = cs__win_failf(err, GetLastError(), "cannot open %s", shown);
  }
  cs__win_at_close(&at);
  return rc;
}

/* The reason cs__win_open_walked failed, into why. */
void cs__win_walked_why(int rc, cs_err_t *err, const char *path, char *why, size_t len) {
  if (rc == CS_ENOENT && err->text[0] == '\0')
    cs__win_failf(err, ERROR_FILE_NOT_FOUND, "cannot look at %s", path);
  snprintf(why, len, "%s", err->text);
}

/* What the checks share: a folder (dir) or a regular file, judged on the rights
 * given, through one handle that does not follow a reparse point (the attributes,
 * the link count, the owner and the DACL are those of one object, whatever is
 * renamed meanwhile). Fail closed: 1 with the reason when anything cannot be read. */
static int path_unsafe(const char *path, int dir, ACCESS_MASK rights, char *why, size_t len) {
  union cs__win_self_sid_u user;
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID at_fault = NULL;
  HANDLE h = INVALID_HANDLE_VALUE;
  wchar_t *w = NULL;
  char account[400];
  cs_err_t err;
  int rc = 1, r;

  if ((w = cs__win_path(path)) == NULL) {
    snprintf(why, len, "%s is not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  cs_err_clear(&err);
  if ((r = cs__win_open_walked(w, path, READ_CONTROL, &h, &err)) != CS_OK) {
    cs__win_walked_why(r, &err, path, why, len);
    goto out;
  }
  switch (cs__win_found_handle(h, dir, cs__win_self_sid_into(&user), rights, &at_fault, &sd)) {
  case CS_WIN_FOUND_OK:
    rc = 0;
    break;
  case CS_WIN_FOUND_REPARSE:
  case CS_WIN_FOUND_KIND:
    snprintf(why, len, "%s is not a plain %s (a link, junction or %s): name the %s itself", path,
             dir ? "folder" : "file", dir ? "file" : "folder", dir ? "folder" : "file");
    break;
  case CS_WIN_FOUND_LINKS:
    snprintf(why, len, "%s has more than one name (a hard link): copy it to a file of its own", path);
    break;
  case CS_WIN_FOUND_OWNER:
    if (at_fault == NULL) {
      snprintf(why, len, "%s has no owner that can be read", path);
      break;
    }
    cs__win_describe_sid(at_fault, account, sizeof account);
    snprintf(why, len, "%s is owned by %s, who can change its permissions", path, account);
    break;
  default:
    if (sd == NULL) {
      snprintf(why, len, "cannot read the permissions of %s", path);
    } else if (at_fault != NULL) {
      cs__win_describe_sid(at_fault, account, sizeof account);
      snprintf(why, len, "%s can be %s by %s", path,
               rights == CS_WIN_SECRET_RIGHTS ? "read or changed"
               : dir                          ? "written"
                                              : "changed",
               account);
    } else {
      snprintf(why, len,
               "%s has no DACL, which lets everyone do anything with it, or an access rule of a kind "
               "certsteward cannot read",
               path);
    }
    break;
  }
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  LocalFree(sd);
  free(w);
  return rc;
}

/* The folder that holds path: whoever can write it can put another file in its
 * place; then the folders above it. A root keeps its backslash (C:\, \\?\C:\); a
 * relative name is judged against the current folder. */
static int parent_unsafe(const char *path, char *why, size_t len) {
  char dir[4096];
  const char *slash = strrchr(path, '\\'), *fwd = strrchr(path, '/');
  size_t n;
  if (fwd != NULL && (slash == NULL || fwd > slash))
    slash = fwd;
  if (slash == NULL) {
    snprintf(dir, sizeof dir, ".");
  } else {
    n = (size_t)(slash - path);
    if (n > 0 && path[n - 1] == ':')
      n++; /* C:\x.ini: the folder is C:\ */
    if (n >= sizeof dir) {
      snprintf(why, len, "the path %s is too long to be checked", path);
      return 1;
    }
    memcpy(dir, path, n);
    dir[n] = '\0';
  }
  return path_unsafe(dir, 1, CS_WIN_FOLDER_WRITE_RIGHTS, why, len) || cs__win_above_unsafe(dir, why, len);
}

/* The folder, then every folder above it. */
int cs_plat_folder_unsafe(const char *path, char *why, size_t len) {
  return path_unsafe(path, 1, CS_WIN_FOLDER_WRITE_RIGHTS, why, len) || cs__win_above_unsafe(path, why, len);
}

/* The file, then the folder that holds it and those above. */
int cs_plat_secret_file_unsafe(const char *path, char *why, size_t len) {
  return path_unsafe(path, 0, CS_WIN_SECRET_RIGHTS, why, len) || parent_unsafe(path, why, len);
}

/* The file, then the folder that holds it, each through one handle that does not
 * follow a reparse point (owner, DACL and link count read from it), then every folder
 * above, from the drive's root (cs__win_above_unsafe). A drive-relative name (C:x.ini)
 * is judged against the current folder, and a file on a network share as if it were
 * local (its ACL names the server's accounts). Proven only on real Windows: Wine
 * stores no ACLs on files and makes every file its user's. */
int cs_plat_config_file_unsafe(const char *path, char *why, size_t len) {
  return path_unsafe(path, 0, CS_WIN_FOLDER_WRITE_RIGHTS, why, len) || parent_unsafe(path, why, len);
}

/* ---- state files: the file, or the folder and all it holds ---------------------- */

#define STATE_DEPTH 16 /* deeper than anything certsteward makes in its state folder */

/* One level of cs_plat_state_unsafe: w is judged through its own handle; a folder's
 * entries are then listed by name (the folder has just been judged writable by
 * administrators only, so no one else can rename what it holds meanwhile). */
static int state_level(const wchar_t *w, int depth, PSID self, char *why, size_t len) {
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID at_fault = NULL;
  HANDLE h = INVALID_HANDLE_VALUE, find = INVALID_HANDLE_VALUE;
  WIN32_FIND_DATAW fd;
  BY_HANDLE_FILE_INFORMATION info;
  wchar_t *child = NULL;
  char *p8 = cs__win_utf8(w), account[400];
  size_t n = wcslen(w);
  cs_err_t err;
  int rc = 1, found;

  cs_err_clear(&err);
  if ((found = cs__win_open_walked(w, p8 ? p8 : "a state file", READ_CONTROL, &h, &err)) != CS_OK) {
    if (found == CS_ENOENT)
      rc = 0; /* nothing there (or gone since it was listed): nothing to trust */
    else
      cs__win_walked_why(found, &err, p8 ? p8 : "a state file", why, len);
    goto out;
  }
  found = cs__win_found_handle(h, -1, self, CS_WIN_FOLDER_WRITE_RIGHTS, &at_fault, &sd);
  if (found != CS_WIN_FOUND_OK) {
    if (at_fault != NULL)
      cs__win_describe_sid(at_fault, account, sizeof account);
    snprintf(why, len, "%s %s", p8 ? p8 : "a state file",
             found == CS_WIN_FOUND_REPARSE ? "is a link or junction"
             : found == CS_WIN_FOUND_LINKS ? "has more than one name (a hard link)"
             : found == CS_WIN_FOUND_OWNER ? "is owned by someone other than the administrators"
                                           : "can be changed by someone other than the administrators");
    if (at_fault != NULL && strlen(why) + 8 < len)
      snprintf(why + strlen(why), len - strlen(why), ": %s", account);
    goto out;
  }
  if (!GetFileInformationByHandle(h, &info) || !(info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)) {
    rc = 0;
    goto out;
  }
  if (depth >= STATE_DEPTH) {
    snprintf(why, len, "%s is nested deeper than certsteward makes its state", p8 ? p8 : "a state folder");
    goto out;
  }
  if ((child = malloc(sizeof *child * (n + MAX_PATH + 2))) == NULL) {
    snprintf(why, len, "out of memory");
    goto out;
  }
  swprintf(child, n + 3, L"%ls\\*", w);
  if ((find = FindFirstFileW(child, &fd)) == INVALID_HANDLE_VALUE) {
    DWORD e = GetLastError();
    if (e == ERROR_FILE_NOT_FOUND) { /* an empty folder may list nothing */
      rc = 0;
      goto out;
    }
    cs__win_failf(&err, e, "cannot list %s", p8 ? p8 : "a state folder");
    snprintf(why, len, "%s", err.text);
    goto out;
  }
  do {
    if (wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0)
      continue;
    swprintf(child, n + MAX_PATH + 2, L"%ls\\%ls", w, fd.cFileName);
    if (state_level(child, depth + 1, self, why, len) != 0)
      goto out;
  } while (FindNextFileW(find, &fd));
  rc = 0;
out:
  if (find != INVALID_HANDLE_VALUE)
    FindClose(find);
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  LocalFree(sd);
  free(child);
  free(p8);
  return rc;
}

/* A state file or folder (the journal, the transaction's backups and manifests, a
 * parked file) is trusted only when it and all it holds were made by an administrator
 * and no one else may change them: never a reparse point, one name per file, owner
 * Administrators, SYSTEM, TrustedInstaller or this process's user, no write-type
 * right for anyone else. Proven only on real Windows: Wine makes every file its
 * user's (this process's), with a DACL made up from the Unix mode. */
int cs_plat_state_unsafe(const char *path, char *why, size_t len) {
  union cs__win_self_sid_u user;
  wchar_t *w = cs__win_path(path);
  int rc;
  if (w == NULL) {
    snprintf(why, len, "%s is not a valid UTF-8 path, or out of memory", path);
    return 1;
  }
  rc = state_level(w, 0, cs__win_self_sid_into(&user), why, len);
  free(w);
  return rc;
}
