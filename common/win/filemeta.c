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
#include "win.h"

#include <aclapi.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../text.h"

#define OWNER_AND_DACL (OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION)

int cs__win_meta_encode(PSECURITY_DESCRIPTOR sd, DWORD attrs, char **meta) {
  wchar_t *sddl = NULL;
  char *text = NULL;
  cs_buf_t b = CS_BUF_INIT;
  PSID owner = NULL;
  BOOL defaulted, present = FALSE;
  PACL dacl = NULL;
  int rc = CS_EFORMAT;

  *meta = NULL;
  /* an owner and a DACL ("D:NO_ACCESS_CONTROL" for a NULL one) must be there to be
   * given back; a descriptor without them says nothing to write back with */
  if (!GetSecurityDescriptorOwner(sd, &owner, &defaulted) || owner == NULL ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present ||
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
  if (*p == '\0' || strpbrk(p, "\t\r\n") != NULL)
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
      !GetSecurityDescriptorSacl(got, &present, &acl, &defaulted) || present)
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
    rc = cs_err_set(err, rc, 0, "the owner and ACL of %s cannot be kept as text (no owner or no DACL)", path);
  LocalFree(sd);
  return rc;
}

int cs__win_restore_privilege(void) {
  TOKEN_PRIVILEGES tp;
  HANDLE tok = NULL;
  int ok;
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
    (void)RevertToSelf();
    return 0;
  }
  return 1;
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
    (void)RevertToSelf();
  if (e != ERROR_SUCCESS)
    rc = cs__win_failf(err, e, "cannot give the new %s its owner (this takes SeRestorePrivilege)", path);
out:
  LocalFree(mine);
  return rc;
}
