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
 * rights added, judges a secret file (cs_plat_secret_file_unsafe: the PFX password). */
#include "../platform.h"
#include "acl.h"
#include "win.h"

#include <aclapi.h>
#include <sddl.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* NT SERVICE\TrustedInstaller, the owner of the system's own folders */
#define TRUSTED_INSTALLER_SID "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"

union self_sid_u {
  TOKEN_USER u;
  unsigned char b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
};

static int well_known(PSID sid, WELL_KNOWN_SID_TYPE type) {
  union { SID s; unsigned char b[SECURITY_MAX_SID_SIZE]; } known;
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

int cs__win_dacl_unsafe(PACL dacl, PSID owner, PSID self, ACCESS_MASK rights, PSID *who) {
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
    if (kind == 0 || (mask & rights) == 0 || cs__win_sid_trusted(sid, owner, self))
      continue;
    if (who != NULL)
      *who = sid;
    return CS_WIN_WRITER;
  }
  return CS_WIN_SAFE;
}

/* "DOMAIN\name (S-1-...)", or the SID alone when it has no name here. */
static void describe_sid(PSID sid, char *buf, size_t len) {
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
static PSID self_sid(union self_sid_u *buf) {
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
  union self_sid_u user;
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL;
  PACL dacl = NULL;
  int r;
  if (GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL, &dacl,
                      NULL, &sd) != ERROR_SUCCESS)
    return CS_WIN_UNKNOWN_ENTRY;
  r = owner == NULL ? CS_WIN_OWNER : cs__win_dacl_unsafe(dacl, owner, self_sid(&user), rights, NULL);
  LocalFree(sd);
  return r;
}

/* What the checks share: a folder (dir) or a regular file, judged on the rights
 * given. Fail closed: 1 with the reason when anything cannot be read. */
static int path_unsafe(const char *path, int dir, ACCESS_MASK rights, char *why, size_t len) {
  union self_sid_u user;
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID owner = NULL, self = NULL, at_fault = NULL;
  PACL dacl = NULL;
  wchar_t *w = NULL;
  DWORD attrs, e;
  char account[400];
  cs_err_t err;
  int rc = 1;

  if ((w = cs__win_path(path)) == NULL) {
    snprintf(why, len, "%s is not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  if ((attrs = GetFileAttributesW(w)) == INVALID_FILE_ATTRIBUTES) {
    cs__win_failf(&err, GetLastError(), "cannot look at %s", path);
    snprintf(why, len, "%s", err.text);
    goto out;
  }
  if (!(attrs & FILE_ATTRIBUTE_DIRECTORY) != !dir || (attrs & FILE_ATTRIBUTE_REPARSE_POINT)) {
    snprintf(why, len, "%s is not a plain %s (a link, junction or %s): name the %s itself", path,
             dir ? "folder" : "file", dir ? "file" : "folder", dir ? "folder" : "file");
    goto out;
  }
  e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner, NULL,
                            &dacl, NULL, &sd);
  if (e != ERROR_SUCCESS) {
    cs__win_failf(&err, e, "cannot read the permissions of %s", path);
    snprintf(why, len, "%s", err.text);
    goto out;
  }
  if (owner == NULL) { /* not known: not taken as trusted */
    snprintf(why, len, "%s has no owner that can be read", path);
    goto out;
  }
  self = self_sid(&user);
  switch (cs__win_dacl_unsafe(dacl, owner, self, rights, &at_fault)) {
  case CS_WIN_SAFE:
    rc = 0;
    break;
  case CS_WIN_NO_DACL:
    snprintf(why, len, "%s has no DACL, which lets everyone do anything with it", path);
    break;
  case CS_WIN_OWNER:
    describe_sid(at_fault, account, sizeof account);
    snprintf(why, len, "%s is owned by %s, who can change its permissions", path, account);
    break;
  case CS_WIN_WRITER:
    describe_sid(at_fault, account, sizeof account);
    snprintf(why, len, "%s can be %s by %s", path,
             rights == CS_WIN_SECRET_RIGHTS ? "read or changed" : dir ? "written" : "changed", account);
    break;
  default:
    snprintf(why, len, "%s has an access rule of a kind certsteward cannot read", path);
    break;
  }
out:
  LocalFree(sd);
  free(w);
  return rc;
}

/* The folder that holds path: whoever can write it can put another file in its
 * place. A root keeps its backslash (C:\, \\?\C:\); a relative name is
 * judged against the current folder. */
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
  return path_unsafe(dir, 1, CS_WIN_FOLDER_WRITE_RIGHTS, why, len);
}

int cs_plat_folder_unsafe(const char *path, char *why, size_t len) {
  return path_unsafe(path, 1, CS_WIN_FOLDER_WRITE_RIGHTS, why, len);
}

/* The file, then the folder that holds it. */
int cs_plat_secret_file_unsafe(const char *path, char *why, size_t len) {
  return path_unsafe(path, 0, CS_WIN_SECRET_RIGHTS, why, len) || parent_unsafe(path, why, len);
}

/* The file, then the folder that holds it. Not yet done here, unlike the POSIX
 * half: folders further up are not judged (a user with DELETE_CHILD on one could
 * rename the folder away and put a junction there), and the path is opened twice
 * (attributes, then the security information by name, which follows a reparse
 * point swapped in between); both want one handle per level opened with
 * FILE_FLAG_OPEN_REPARSE_POINT and GetSecurityInfo on it. A drive-relative name
 * (C:x.ini) is judged against the current folder, and a file on a network share as
 * if it were local (its ACL names the server's accounts). Proven only on real
 * Windows: Wine stores no ACLs on files. */
int cs_plat_config_file_unsafe(const char *path, char *why, size_t len) {
  return path_unsafe(path, 0, CS_WIN_FOLDER_WRITE_RIGHTS, why, len) || parent_unsafe(path, why, len);
}
