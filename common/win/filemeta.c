/* Windows form of what a binding file is written back with (cs_plat_read_file_meta in
 * sys.c, cs_plat_write_recorded in replace.c), and the setting of an owner and a DACL
 * on a file through its handle.
 *
 * The text is "A:<attributes in hex>;<SDDL of the owner and the DACL>", e.g.
 * "A:21;O:BAD:PAI(A;;FA;;;SY)(A;;FA;;;BA)": the attributes a replacement keeps
 * (CS__WIN_KEPT_ATTRIBUTES), and ConvertSecurityDescriptorToStringSecurityDescriptorW's
 * string of the owner and the DACL, with the DACL's control bits ("P" protected, "AI"
 * auto-inherited, "AR") and each entry's flags ("ID" inherited). SDDL is made of SIDs,
 * two-letter aliases, hex rights and the characters ":;()" (Security Descriptor String
 * Format, Win32 docs): no tab, no line break, which the encoding checks all the same,
 * since the text is one field of a tab-separated manifest line. The aliases of the
 * machine's own accounts ("LA", "LG") are read back on the same machine, where the
 * manifest stays.
 *
 * What runs for real under Wine: the encoding both ways (Wine's SDDL functions are
 * correct), the refusal of malformed text, and SetSecurityInfo's call; Wine keeps no
 * ACL on a file (it makes one up from the Unix mode), so that the owner and the DACL
 * are set on the file, and the SeRestorePrivilege an owner other than the caller takes,
 * are proven on NTFS only. */
#include "../platform.h"
#include "keyacl.h"
#include "win.h"

#include <aclapi.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text.h"

#define OWNER_AND_DACL (OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)

/* An owner whose implicit READ_CONTROL and WRITE_DAC ("Security Descriptors", Win32
 * docs) would go to many accounts, or that is no account at all: a SID every token, every
 * service, every user or every domain member holds (Everyone, Authenticated Users,
 * SERVICE, Users, Domain Users...), a logon or creator placeholder (CREATOR OWNER,
 * OWNER RIGHTS), an integrity label or an app package. A file gets one only from
 * someone holding SeRestorePrivilege (the owner a token may give is its user or a group
 * marked SE_GROUP_OWNER): refused, so that no text makes LocalSystem give the folder's
 * writer, through such a group, the right to rewrite a file's DACL. Kept: SYSTEM,
 * Administrators, accounts and groups of a machine or domain (S-1-5-21-), service SIDs
 * (S-1-5-80-: TrustedInstaller, a service's virtual account), IIS pools (S-1-5-82-). */
static int owner_acceptable(PSID sid) {
  PSID_IDENTIFIER_AUTHORITY ia;
  PUCHAR n;
  DWORD first, last;
  static const BYTE nt[6] = {0, 0, 0, 0, 0, 5};
  if (sid == NULL || !IsValidSid(sid) || (ia = GetSidIdentifierAuthority(sid)) == NULL ||
      memcmp(ia->Value, nt, 6) != 0 || (n = GetSidSubAuthorityCount(sid)) == NULL || *n == 0)
    return 0;
  first = *GetSidSubAuthority(sid, 0);
  last = *GetSidSubAuthority(sid, (DWORD)*n - 1);
  if (first == SECURITY_LOCAL_SYSTEM_RID)
    return *n == 1;
  if (first == SECURITY_BUILTIN_DOMAIN_RID)
    return *n == 2 && last == DOMAIN_ALIAS_RID_ADMINS;
  if (first == SECURITY_NT_NON_UNIQUE) /* S-1-5-21-a-b-c-RID: not the domain's all-members groups, nor Guest */
    return *n == 5 && last != DOMAIN_GROUP_RID_USERS && last != DOMAIN_GROUP_RID_GUESTS &&
           last != DOMAIN_GROUP_RID_COMPUTERS && last != DOMAIN_USER_RID_GUEST;
  return (first == SECURITY_SERVICE_ID_BASE_RID || first == 82) && *n >= 2; /* S-1-5-80-, S-1-5-82- */
}

/* What the text may carry, read or written (encoded and decoded alike, so that what
 * is read can be written back): an acceptable owner and a DACL that is there and not
 * NULL (a NULL DACL lets everyone do everything with the file: "D:NO_ACCESS_CONTROL",
 * refused), made only of ACCESS_ALLOWED and ACCESS_DENIED entries. Conditional (callback),
 * object and any other entry types are refused: a file's settings do not carry them, and
 * what they grant cannot be judged here. */
static int sd_acceptable(PSECURITY_DESCRIPTOR sd) {
  PSID owner = NULL;
  BOOL defaulted, present = FALSE;
  PACL dacl = NULL;
  ACL_SIZE_INFORMATION size;
  DWORD i;
  if (!GetSecurityDescriptorOwner(sd, &owner, &defaulted) || !owner_acceptable(owner) ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present || dacl == NULL ||
      !GetAclInformation(dacl, &size, sizeof size, AclSizeInformation))
    return 0;
  for (i = 0; i < size.AceCount; i++) {
    ACE_HEADER *ace = NULL;
    if (!GetAce(dacl, i, (LPVOID *)&ace) || ace == NULL ||
        (ace->AceType != ACCESS_ALLOWED_ACE_TYPE && ace->AceType != ACCESS_DENIED_ACE_TYPE))
      return 0;
  }
  return 1;
}

int cs__win_meta_encode(PSECURITY_DESCRIPTOR sd, DWORD attrs, char **meta) {
  wchar_t *sddl = NULL;
  char *text = NULL;
  cs_buf_t b = CS_BUF_INIT;
  PSID owner = NULL;
  BOOL defaulted, present = FALSE;
  PACL dacl = NULL;
  int rc = CS_EFORMAT;

  *meta = NULL;
  /* an owner and a DACL must be there to be given back; a descriptor without them says
   * nothing to write back with, and one sd_acceptable refuses would not be written */
  if (!GetSecurityDescriptorOwner(sd, &owner, &defaulted) || owner == NULL ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present || !sd_acceptable(sd) ||
      (attrs & ~(DWORD)CS__WIN_KEPT_ATTRIBUTES) != 0)
    goto out;
  if (!ConvertSecurityDescriptorToStringSecurityDescriptorW(sd, SDDL_REVISION_1, OWNER_AND_DACL, &sddl, NULL)) {
    rc = GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? CS_ENOMEM : CS_EFORMAT;
    goto out;
  }
  if ((text = cs__win_utf8(sddl)) == NULL) {
    rc = CS_ENOMEM;
    goto out;
  }
  if (text[0] == '\0' || strpbrk(text, "\t\r\n") != NULL)
    goto out;
  cs_buf_printf(&b, "A:%lx;%s", (unsigned long)attrs, text);
  if (b.oom) {
    rc = CS_ENOMEM;
    goto out;
  }
  *meta = b.p;
  b.p = NULL;
  rc = CS_OK;
out:
  cs_buf_free(&b);
  free(text);
  LocalFree(sddl);
  return rc;
}

int cs__win_meta_decode(const char *meta, DWORD *attrs, PSECURITY_DESCRIPTOR *sd) {
  PSECURITY_DESCRIPTOR got = NULL;
  const char *p;
  wchar_t *w = NULL;
  unsigned long a = 0;
  PSID owner = NULL, group = NULL;
  BOOL defaulted, present = FALSE;
  PACL acl = NULL;
  int digits = 0, rc = CS_EFORMAT;

  *sd = NULL;
  *attrs = 0;
  if (meta == NULL || strncmp(meta, "A:", 2) != 0)
    return CS_EFORMAT;
  for (p = meta + 2; digits < 9; p++, digits++) {
    int v = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
    if (v < 0)
      break;
    a = a * 16 + (unsigned long)v;
  }
  if (digits == 0 || digits > 8 || *p != ';' || (a & ~(unsigned long)CS__WIN_KEPT_ATTRIBUTES) != 0)
    return CS_EFORMAT;
  p++;
  /* the NULL DACL by its name too: Wine's parser makes an empty DACL of it, Windows' a
   * NULL one, which sd_acceptable refuses */
  if (*p == '\0' || strpbrk(p, "\t\r\n") != NULL || strstr(p, "NO_ACCESS_CONTROL") != NULL)
    return CS_EFORMAT;
  if ((w = cs__win_wide(p)) == NULL)
    return CS_EFORMAT; /* invalid UTF-8 (SDDL is ASCII) */
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(w, SDDL_REVISION_1, &got, NULL)) {
    rc = GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? CS_ENOMEM : CS_EFORMAT;
    goto out;
  }
  /* what the encoding makes and nothing else: an owner and a DACL, no group, no SACL */
  if (!GetSecurityDescriptorOwner(got, &owner, &defaulted) || owner == NULL ||
      !GetSecurityDescriptorGroup(got, &group, &defaulted) || group != NULL ||
      !GetSecurityDescriptorDacl(got, &present, &acl, &defaulted) || !present ||
      !GetSecurityDescriptorSacl(got, &present, &acl, &defaulted) || present || !sd_acceptable(got))
    goto out;
  *sd = got;
  got = NULL;
  *attrs = (DWORD)a;
  rc = CS_OK;
out:
  LocalFree(got);
  free(w);
  return rc;
}

int cs__win_meta_of(HANDLE h, DWORD attrs, char **meta, const char *path, cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD e;
  int rc;
  *meta = NULL;
  /* through the handle the bytes are read from: the file at the path by now may be
   * another */
  e = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_AND_DACL, NULL, NULL, NULL, NULL, &sd);
  if (e != ERROR_SUCCESS)
    return cs__win_failf(err, e, "cannot read the owner and ACL of %s", path);
  rc = cs__win_meta_encode(sd, attrs & CS__WIN_KEPT_ATTRIBUTES, meta);
  if (rc == CS_ENOMEM)
    rc = cs_err_set(err, rc, 0, "out of memory reading %s", path);
  else if (rc != CS_OK)
    rc = cs_err_set(err, rc, 0,
                    "the owner and ACL of %s cannot be kept as text (no owner, no DACL or a NULL one, an "
                    "owner many accounts share, or an entry other than allow and deny)",
                    path);
  LocalFree(sd);
  return rc;
}

int cs__win_restore_privilege(void) {
  TOKEN_PRIVILEGES tp;
  HANDLE tok = NULL;
  int ok;
  /* a thread already impersonating someone is not given the privilege: RevertToSelf
   * would end that impersonation too */
  if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok)) {
    CloseHandle(tok);
    return 0;
  }
  if (!ImpersonateSelf(SecurityImpersonation))
    return 0;
  tp.PrivilegeCount = 1;
  tp.Privileges[0].Attributes = SE_PRIVILEGE_ENABLED;
  ok = OpenThreadToken(GetCurrentThread(), TOKEN_ADJUST_PRIVILEGES | TOKEN_QUERY, TRUE, &tok) &&
       LookupPrivilegeValueW(NULL, SE_RESTORE_NAME, &tp.Privileges[0].Luid) &&
       AdjustTokenPrivileges(tok, FALSE, &tp, 0, NULL, NULL) && GetLastError() != ERROR_NOT_ALL_ASSIGNED;
  if (tok != NULL)
    CloseHandle(tok);
  if (!ok) {
    cs__win_revert();
    return 0;
  }
  return 1;
}

void cs__win_revert(void) {
  /* "If RevertToSelf fails, your application continues to run in the context of the
   * client, which is not appropriate. You should shut down the process" (RevertToSelf,
   * Win32 docs): here that context holds SeRestorePrivilege enabled, with which every
   * open (FILE_OPEN_FOR_BACKUP_INTENT) writes past any DACL. */
  if (!RevertToSelf())
    abort();
}

int cs__win_creator_only_sd(PSECURITY_DESCRIPTOR *sd) {
  HANDLE tok = NULL;
  union {
    TOKEN_USER u;
    BYTE b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  } user;
  DWORD n = 0;
  wchar_t *sid = NULL, text[16 + 2 * SECURITY_MAX_SID_SIZE * 4];
  int rc = CS_EFAILED;
  *sd = NULL;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) ||
      !GetTokenInformation(tok, TokenUser, &user, sizeof user, &n) || !ConvertSidToStringSidW(user.u.User.Sid, &sid))
    goto out;
  /* P: protected, so that the folder's inheritable entries are not merged in ("DACL for a
   * New Object", Win32 docs); the creator alone, with every right */
  _snwprintf(text, sizeof text / sizeof *text, L"D:P(A;;FA;;;%ls)", sid);
  text[sizeof text / sizeof *text - 1] = L'\0';
  if (ConvertStringSecurityDescriptorToSecurityDescriptorW(text, SDDL_REVISION_1, sd, NULL))
    rc = CS_OK;
  else
    rc = GetLastError() == ERROR_NOT_ENOUGH_MEMORY ? CS_ENOMEM : CS_EFAILED;
out:
  LocalFree(sid);
  if (tok != NULL)
    CloseHandle(tok);
  return rc;
}

int cs__win_sd_apply(HANDLE h, PSECURITY_DESCRIPTOR sd, const char *path, cs_err_t *err) {
  PSECURITY_DESCRIPTOR mine = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  SECURITY_INFORMATION si = DACL_SECURITY_INFORMATION;
  PSID owner = NULL, now = NULL;
  PACL dacl = NULL;
  BOOL present = FALSE, defaulted;
  DWORD rev, e;
  int rc = CS_OK, impersonating;

  if (!GetSecurityDescriptorOwner(sd, &owner, &defaulted) ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted))
    return cs__win_failf(err, GetLastError(), "cannot give the new %s its owner and ACL", path);
  if (present) {
    /* protected: exactly these entries; unprotected: the explicit ones, and those the
     * folder passes on added by SetSecurityInfo (Automatic Propagation of Inheritable
     * ACEs), as for any file created there */
    if (GetSecurityDescriptorControl(sd, &control, &rev) && (control & SE_DACL_PROTECTED))
      si |= PROTECTED_DACL_SECURITY_INFORMATION;
    else
      si |= UNPROTECTED_DACL_SECURITY_INFORMATION;
    if ((e = SetSecurityInfo(h, SE_FILE_OBJECT, si, NULL, NULL, dacl, NULL)) != ERROR_SUCCESS)
      return cs__win_failf(err, e, "cannot give the new %s its ACL", path);
  }
  e = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &now, NULL, NULL, NULL, &mine);
  if (owner == NULL || (e == ERROR_SUCCESS && now != NULL && EqualSid(owner, now)))
    goto out;
  impersonating = cs__win_restore_privilege();
  e = SetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, owner, NULL, NULL, NULL);
  if (impersonating)
    cs__win_revert();
  if (e != ERROR_SUCCESS)
    rc = cs__win_failf(err, e, "cannot give the new %s its owner (this takes SeRestorePrivilege)", path);
out:
  LocalFree(mine);
  return rc;
}

/* cs_plat_recorded_owner_unchanged (platform.h). Under Wine the owner is made up from
 * the Unix file (the same for every file of the test user), so the refusal of another
 * owner is proven on NTFS only; the walk, the open and the comparison run for real. */
int cs_plat_recorded_owner_unchanged(const char *path, const char *meta, cs_err_t *err) {
  cs__win_at_t at = {INVALID_HANDLE_VALUE, NULL, L"", 0};
  PSECURITY_DESCRIPTOR want = NULL, now = NULL;
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE h = INVALID_HANDLE_VALUE;
  PSID want_owner = NULL, now_owner = NULL;
  BOOL defaulted;
  wchar_t *wpath = NULL;
  DWORD attrs, e;
  char a[200], b[200];
  int rc;

  if (meta != NULL && (rc = cs__win_meta_decode(meta, &attrs, &want)) != CS_OK)
    return cs_err_set(err, rc, 0, "what %s was saved with cannot be read (\"%.40s\"); not put back", path, meta);
  if (want != NULL && !GetSecurityDescriptorOwner(want, &want_owner, &defaulted)) {
    rc = cs__win_failf(err, GetLastError(), "cannot read the owner %s was saved with", path);
    goto out;
  }
  if ((wpath = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path", path);
    goto out;
  }
  if ((rc = cs__win_walk(wpath, path, 0, NULL, &at, err)) != CS_OK ||
      (rc = cs__win_open_last(&at, READ_CONTROL, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, FILE_OPEN,
                              FILE_NON_DIRECTORY_FILE, NULL, &h, &fi, path, err)) != CS_OK) {
    if (rc == CS_ENOENT) /* nothing there (its folder or the file): nothing written over */
      rc = CS_OK;
    goto out;
  }
  if ((e = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &now_owner, NULL, NULL, NULL, &now)) !=
      ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot read the owner of %s", path);
    goto out;
  }
  if (want_owner != NULL
          ? EqualSid(want_owner, now_owner)
          : IsWellKnownSid(now_owner, WinLocalSystemSid) || IsWellKnownSid(now_owner, WinBuiltinAdministratorsSid)) {
    rc = CS_OK;
    goto out;
  }
  cs__win_sid_text(now_owner, a, sizeof a);
  if (want_owner != NULL)
    cs__win_sid_text(want_owner, b, sizeof b);
  else
    snprintf(b, sizeof b, "SYSTEM or Administrators");
  rc = cs_err_set(err, CS_EACCES, 0,
                  "%s is now owned by %s, not by %s as when it was saved (another file was put in its place since)",
                  path, a, b);
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  cs__win_at_close(&at);
  LocalFree(now);
  LocalFree(want);
  free(wpath);
  return rc;
}
