/* The pure part of the private-key permission on Windows (keyacl.h): account names to
 * SIDs, and READ merged into a key's DACL. Unit-tested under Wine on DACLs made from
 * SDDL (tests/unit/test_win_keyacl.c); the key itself is keyperm.c's business. */
#include "keyacl.h"
#include "acl.h"
#include "win.h"

#include <bcrypt.h>
#include <sddl.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_READ_NEEDED CS_WIN_KEY_READ_MAPPED

#define SERVICE_PREFIX "NT SERVICE\\"

/* 1 if s starts with prefix, ASCII letters compared without case. */
static int has_prefix(const char *s, const char *prefix) {
  for (; *prefix; s++, prefix++) {
    char a = *s, b = *prefix;
    if (a >= 'a' && a <= 'z')
      a = (char)(a - 'a' + 'A');
    if (b >= 'a' && b <= 'z')
      b = (char)(b - 'a' + 'A');
    if (a != b)
      return 0;
  }
  return 1;
}

/* A new malloc() copy of sid (ConvertStringSidToSid and CreateWellKnownSid give other kinds). */
static PSID copy_sid(PSID sid) {
  DWORD n = GetLengthSid(sid);
  PSID c = malloc(n);
  if (c != NULL && !CopySid(n, c, sid)) {
    free(c);
    c = NULL;
  }
  return c;
}

const char *cs__win_sid_text(PSID sid, char *buf, size_t len) {
  LPSTR s = NULL;
  if (sid != NULL && IsValidSid(sid) && ConvertSidToStringSidA(sid, &s))
    snprintf(buf, len, "%s", s);
  else
    snprintf(buf, len, "?");
  LocalFree(s);
  return buf;
}

/* SHA-1 through Windows' own BCrypt (cs_core links no OpenSSL). */
static int sha1(unsigned char *data, ULONG len, unsigned char out[20], cs_err_t *err) {
  BCRYPT_ALG_HANDLE alg = NULL;
  BCRYPT_HASH_HANDLE h = NULL;
  NTSTATUS st;
  int rc = CS_OK;

  st = BCryptOpenAlgorithmProvider(&alg, BCRYPT_SHA1_ALGORITHM, NULL, 0);
  if (BCRYPT_SUCCESS(st))
    st = BCryptCreateHash(alg, &h, NULL, 0, NULL, 0, 0);
  if (BCRYPT_SUCCESS(st))
    st = BCryptHashData(h, data, len, 0);
  if (BCRYPT_SUCCESS(st))
    st = BCryptFinishHash(h, out, 20, 0);
  if (!BCRYPT_SUCCESS(st))
    rc = cs_err_set(err, CS_EIO, (long)st, "cannot compute SHA-1 with Windows' BCrypt (status 0x%08lx)",
                    (unsigned long)st);
  if (h != NULL)
    BCryptDestroyHash(h);
  if (alg != NULL)
    BCryptCloseAlgorithmProvider(alg, 0);
  return rc;
}

/* A new S-1-5-<sub[0]>-...-<sub[n-1]>. */
static PSID nt_sid(const DWORD *sub, BYTE n) {
  SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
  PSID sid = malloc(GetSidLengthRequired(n));
  BYTE i;
  if (sid == NULL || !InitializeSid(sid, &nt, n)) {
    free(sid);
    return NULL;
  }
  for (i = 0; i < n; i++)
    *GetSidSubAuthority(sid, i) = sub[i];
  return sid;
}

int cs__win_service_sid(const char *service, PSID *sid, cs_err_t *err) {
  wchar_t *w = NULL, *up = NULL;
  unsigned char *bytes = NULL, digest[20];
  DWORD sub[6] = {SECURITY_SERVICE_ID_BASE_RID, 0, 0, 0, 0, 0};
  size_t n, i;
  int rc = CS_OK;

  *sid = NULL;
  if (service == NULL || service[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no service name after NT SERVICE\\");
  if ((w = cs__win_wide(service)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "the service name %s is not valid UTF-8, or out of memory", service);
    goto out;
  }
  n = wcslen(w);
  if (n > 32767 || (up = malloc(sizeof *up * (n + 1))) == NULL || (bytes = malloc(2 * n)) == NULL) {
    rc = cs_err_set(err, n > 32767 ? CS_EINVAL : CS_ENOMEM, 0, "cannot use the service name %s", service);
    goto out;
  }
  /* The service manager upper-cases with RtlUpcaseUnicodeString, the system's casing
   * table (not ASCII only, not a language's rules): LCMapStringEx's LCMAP_UPPERCASE in the
   * invariant locale, without LCMAP_LINGUISTIC_CASING, uses that same table. */
  if (LCMapStringEx(LOCALE_NAME_INVARIANT, LCMAP_UPPERCASE, w, (int)n, up, (int)n, NULL, NULL, 0) != (int)n) {
    rc = cs__win_fail(err, GetLastError(), "cannot upper-case the service name");
    goto out;
  }
  up[n] = L'\0';
  if (wcscmp(up, L"ALL SERVICES") == 0) { /* the group of all services, not a hashed name */
    if ((*sid = nt_sid(sub, 2)) == NULL)
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  for (i = 0; i < n; i++) { /* UTF-16LE, whatever this machine's byte order */
    bytes[2 * i] = (unsigned char)(up[i] & 0xff);
    bytes[2 * i + 1] = (unsigned char)(up[i] >> 8);
  }
  if ((rc = sha1(bytes, (ULONG)(2 * n), digest, err)) != CS_OK)
    goto out;
  for (i = 0; i < 5; i++)
    sub[i + 1] = (DWORD)digest[4 * i] | (DWORD)digest[4 * i + 1] << 8 | (DWORD)digest[4 * i + 2] << 16 |
                 (DWORD)digest[4 * i + 3] << 24;
  if ((*sid = nt_sid(sub, 6)) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
out:
  free(w);
  free(up);
  free(bytes);
  return rc;
}

/* LookupAccountNameW for anything that is not a service or a SID string. */
static int lookup(const char *account, const char *name, PSID *sid, cs_err_t *err) {
  wchar_t *w = cs__win_wide(name), *domain = NULL;
  DWORD sn = 0, dn = 0, e;
  SID_NAME_USE use;
  PSID found = NULL;
  int rc = CS_OK;

  if (w == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "the account name %s is not valid UTF-8, or out of memory", account);
  for (;;) {
    if (LookupAccountNameW(NULL, w, found, &sn, domain, &dn, &use))
      break;
    e = GetLastError();
    if (e == ERROR_NONE_MAPPED) {
      rc = cs_err_set(err, CS_ENOENT, (long)e, "no such account: %s (Windows knows no account of that name)", account);
      goto out;
    }
    if (e != ERROR_INSUFFICIENT_BUFFER || found != NULL) {
      rc = cs__win_failf(err, e, "cannot look up the account %s", account);
      goto out;
    }
    if ((found = malloc(sn)) == NULL || (domain = malloc(sizeof *domain * (dn ? dn : 1))) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
  }
  if (use == SidTypeDomain || use == SidTypeInvalid || use == SidTypeUnknown) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s names a domain or computer, not an account", account);
    goto out;
  }
  *sid = found;
  found = NULL;
out:
  free(found);
  free(domain);
  free(w);
  return rc;
}

int cs__win_account_sid(const char *account, PSID *sid, cs_err_t *err) {
  *sid = NULL;
  if (account == NULL || account[0] == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no account name");
  if (has_prefix(account, SERVICE_PREFIX))
    return cs__win_service_sid(account + strlen(SERVICE_PREFIX), sid, err);
  if (has_prefix(account, "S-1-")) {
    PSID s = NULL;
    if (!ConvertStringSidToSidA(account, &s))
      return cs_err_set(err, CS_EINVAL, (long)GetLastError(), "%s is not a valid SID", account);
    *sid = copy_sid(s);
    LocalFree(s);
    return *sid != NULL ? CS_OK : cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  if (has_prefix(account, "LocalSystem") && account[strlen("LocalSystem")] == '\0') {
    union {
      SID s;
      unsigned char b[SECURITY_MAX_SID_SIZE];
    } system;
    DWORD n = sizeof system;
    if (!CreateWellKnownSid(WinLocalSystemSid, NULL, &system, &n))
      return cs__win_fail(err, GetLastError(), "cannot make the SID of LocalSystem");
    *sid = copy_sid(&system);
    return *sid != NULL ? CS_OK : cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  /* ".\user" is how the service manager names a local user; the lookup wants "user". */
  return lookup(account, account[0] == '.' && account[1] == '\\' ? account + 2 : account, sid, err);
}

/* ---- the DACL ----------------------------------------------------------------------- */

int cs__win_ace_entry(ACE_HEADER *h, ACCESS_MASK *mask, PSID *sid) {
  int kind;
  PSID s;
  switch (h->AceType) {
  case ACCESS_ALLOWED_ACE_TYPE:
    kind = ACE_ALLOW;
    break;
  case ACCESS_DENIED_ACE_TYPE:
  case ACCESS_DENIED_CALLBACK_ACE_TYPE:
    kind = ACE_DENY;
    break;
  default:
    return ACE_OTHER;
  }
  if (h->AceSize < offsetof(ACCESS_ALLOWED_ACE, SidStart) + 8)
    return ACE_OTHER;
  s = (PSID)((unsigned char *)h + offsetof(ACCESS_ALLOWED_ACE, SidStart));
  if (!IsValidSid(s) || offsetof(ACCESS_ALLOWED_ACE, SidStart) + GetLengthSid(s) > h->AceSize)
    return ACE_OTHER;
  memcpy(mask, (unsigned char *)h + sizeof(ACE_HEADER), sizeof *mask);
  *sid = s;
  return kind;
}

ACCESS_MASK cs__win_key_mapped(ACCESS_MASK m) {
  if (m & GENERIC_READ)
    m |= FILE_GENERIC_READ;
  if (m & GENERIC_WRITE)
    m |= FILE_GENERIC_WRITE;
  if (m & GENERIC_EXECUTE)
    m |= FILE_GENERIC_EXECUTE;
  if (m & GENERIC_ALL)
    m |= FILE_ALL_ACCESS;
  return m & ~(ACCESS_MASK)(GENERIC_READ | GENERIC_WRITE | GENERIC_EXECUTE | GENERIC_ALL);
}

/* 1 if the entry is sid's own explicit allow entry that applies to the key itself, the
 * one a grant extends. */
static int own_explicit_allow(ACE_HEADER *h, PSID sid) {
  ACCESS_MASK mask;
  PSID s;
  return cs__win_ace_entry(h, &mask, &s) == ACE_ALLOW && !(h->AceFlags & (INHERITED_ACE | INHERIT_ONLY_ACE)) &&
         EqualSid(s, sid);
}

int cs__win_key_access(PACL dacl, PSID sid) {
  ACCESS_MASK granted = 0, denied = 0;
  int partial = 0;
  DWORD i;

  if (dacl == NULL)
    return CS_WIN_KEY_OPEN;
  for (i = 0; i < dacl->AceCount; i++) {
    void *ace = NULL;
    ACCESS_MASK mask = 0;
    PSID s = NULL;
    int kind;
    if (!GetAce(dacl, i, &ace))
      break;
    kind = cs__win_ace_entry(ace, &mask, &s);
    /* inherit-only entries are for children, which a key does not have */
    if (kind == ACE_OTHER || (((ACE_HEADER *)ace)->AceFlags & INHERIT_ONLY_ACE) || !EqualSid(s, sid))
      continue;
    /* In order, as AccessCheck: the first entry to decide a right decides it. */
    if (kind == ACE_ALLOW) {
      granted |= cs__win_key_mapped(mask) & ~denied;
      partial |= own_explicit_allow(ace, sid);
    } else {
      denied |= cs__win_key_mapped(mask) & ~granted;
    }
  }
  if ((granted & KEY_READ_NEEDED) == KEY_READ_NEEDED)
    return CS_WIN_KEY_READS;
  if (denied & KEY_READ_NEEDED)
    return CS_WIN_KEY_DENIED;
  return partial ? CS_WIN_KEY_PARTIAL : CS_WIN_KEY_NONE;
}

/* dacl with sid's READ added (state NONE) or its explicit allow entry extended (PARTIAL),
 * as a new ACL (free()). */
static int merge_dacl(PACL dacl, PSID sid, int state, PACL *out, cs_err_t *err) {
  DWORD count = dacl != NULL ? dacl->AceCount : 0, at = count, extend = MAXDWORD, i;
  DWORD rev = dacl != NULL && dacl->AclRevision > ACL_REVISION ? dacl->AclRevision : ACL_REVISION;
  size_t size = sizeof(ACL);
  PACL acl = NULL;
  void *copy = NULL;
  int rc = CS_OK;

  *out = NULL;
  for (i = 0; i < count; i++) {
    void *ace = NULL;
    if (!GetAce(dacl, i, &ace))
      return cs__win_fail(err, GetLastError(), "cannot read the key's access rules");
    size += ((ACE_HEADER *)ace)->AceSize;
    if (at == count && (((ACE_HEADER *)ace)->AceFlags & INHERITED_ACE))
      at = i; /* the new entry goes before the first inherited one */
    if (state == CS_WIN_KEY_PARTIAL && extend == MAXDWORD && own_explicit_allow(ace, sid))
      extend = i;
  }
  if (state != CS_WIN_KEY_PARTIAL)
    size += offsetof(ACCESS_ALLOWED_ACE, SidStart) + GetLengthSid(sid);
  if (size > 0xFFFF)
    return cs_err_set(err, CS_ETOOBIG, 0, "the key's access rules are too long to add an entry to");
  if ((acl = malloc(size)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (!InitializeAcl(acl, (DWORD)size, rev))
    goto fail;
  for (i = 0; i <= count; i++) {
    void *ace = NULL;
    WORD n;
    if (i == at && state != CS_WIN_KEY_PARTIAL && !AddAccessAllowedAceEx(acl, rev, 0, CS_WIN_KEY_READ, sid))
      goto fail;
    if (i == count)
      break;
    if (!GetAce(dacl, i, &ace))
      goto fail;
    n = ((ACE_HEADER *)ace)->AceSize;
    if (i == extend) { /* the same entry, READ added to what it had */
      ACCESS_MASK mask;
      if ((copy = malloc(n)) == NULL) {
        rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
        goto out;
      }
      memcpy(copy, ace, n);
      memcpy(&mask, (unsigned char *)copy + sizeof(ACE_HEADER), sizeof mask);
      mask |= CS_WIN_KEY_READ;
      memcpy((unsigned char *)copy + sizeof(ACE_HEADER), &mask, sizeof mask);
      ace = copy;
    }
    if (!AddAce(acl, rev, MAXDWORD, ace, n))
      goto fail;
  }
  *out = acl;
  acl = NULL;
  goto out;
fail:
  rc = cs__win_fail(err, GetLastError(), "cannot build the key's new access rules");
out:
  free(copy);
  free(acl);
  return rc;
}

int cs__win_key_merge(PSECURITY_DESCRIPTOR sd, PSID sid, PSECURITY_DESCRIPTOR *out, DWORD *out_len, int *state,
                      cs_err_t *err) {
  SECURITY_DESCRIPTOR abs;
  SECURITY_DESCRIPTOR_CONTROL control = 0, keep = SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL, merged = NULL;
  PSECURITY_DESCRIPTOR rel = NULL;
  DWORD revision = 0, len = 0;
  int rc;

  *out = NULL;
  *out_len = 0;
  *state = CS_WIN_KEY_NONE;
  if (sd == NULL || sid == NULL || !IsValidSid(sid) || !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) ||
      !GetSecurityDescriptorControl(sd, &control, &revision))
    return cs_err_set(err, CS_EINVAL, (long)GetLastError(), "the key's security descriptor cannot be read");
  *state = cs__win_key_access(present ? dacl : NULL, sid);
  if (*state != CS_WIN_KEY_NONE && *state != CS_WIN_KEY_PARTIAL)
    return CS_OK;
  if ((rc = merge_dacl(dacl, sid, *state, &merged, err)) != CS_OK)
    return rc;
  if (!InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&abs, TRUE, merged, FALSE) ||
      !SetSecurityDescriptorControl(&abs, keep, (SECURITY_DESCRIPTOR_CONTROL)(control & keep))) {
    rc = cs__win_fail(err, GetLastError(), "cannot build the key's new security descriptor");
    goto out;
  }
  if (MakeSelfRelativeSD(&abs, NULL, &len) || GetLastError() != ERROR_INSUFFICIENT_BUFFER || len == 0) {
    rc = cs__win_fail(err, GetLastError(), "cannot size the key's new security descriptor");
    goto out;
  }
  if ((rel = malloc(len)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if (!MakeSelfRelativeSD(&abs, rel, &len)) {
    rc = cs__win_fail(err, GetLastError(), "cannot build the key's new security descriptor");
    goto out;
  }
  *out = rel;
  *out_len = len;
  rel = NULL;
  rc = CS_OK;
out:
  free(rel);
  free(merged);
  return rc;
}

/* A key's specific rights (an entry's generic ones mapped as for files first) that read
 * it, and that change it or its rules. */
#define KEY_READ_BITS (FILE_READ_DATA | FILE_READ_EA | FILE_EXECUTE)
#define KEY_WRITE_BITS                                                                                                 \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_WRITE_ATTRIBUTES | FILE_DELETE_CHILD | DELETE |           \
   WRITE_DAC | WRITE_OWNER)

/* Administrators, SYSTEM, TrustedInstaller, or a user the machine counts among
 * Administrators (is_admin). */
static int admin_sid(PSID sid, int (*is_admin)(PSID)) {
  return cs__win_owner_trusted(sid, NULL) || (is_admin != NULL && is_admin(sid) == 1);
}

int cs__win_key_private(PSECURITY_DESCRIPTOR sd, PSID account, int (*is_admin)(PSID), char *why, size_t why_len) {
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  PSID owner = NULL;
  char name[600];
  DWORD i;

  if (!GetSecurityDescriptorOwner(sd, &owner, &defaulted) ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) ||
      owner == NULL) { /* fail closed: who could change the rules is not known */
    snprintf(why, why_len, "the owner of its private key cannot be read");
    return 0;
  }
  if (!admin_sid(owner, is_admin)) {
    cs__win_describe_sid(owner, name, sizeof name);
    snprintf(why, why_len, "its private key is owned by %s, who can give anyone access to it", name);
    return 0;
  }
  if (!present || dacl == NULL) {
    snprintf(why, why_len, "its private key has no access rules: everyone can read it");
    return 0;
  }
  for (i = 0; i < dacl->AceCount; i++) {
    void *ace = NULL;
    ACCESS_MASK mask = 0, m;
    PSID sid = NULL;
    int kind;
    if (!GetAce(dacl, i, &ace)) {
      snprintf(why, why_len, "its private key's access rules cannot be read");
      return 0;
    }
    if (((ACE_HEADER *)ace)->AceFlags & INHERIT_ONLY_ACE)
      continue; /* for children, which a key has not */
    kind = cs__win_ace_entry(ace, &mask, &sid);
    if (kind == ACE_DENY)
      continue;              /* not weighed: it can only take away */
    if (kind == ACE_OTHER) { /* a conditional or object entry may allow: not read here, refused */
      snprintf(why, why_len, "its private key has an access rule of a kind certsteward cannot read");
      return 0;
    }
    m = cs__win_key_mapped(mask);
    if ((m & (KEY_READ_BITS | KEY_WRITE_BITS)) == 0 || cs__win_sid_trusted(sid, NULL, NULL))
      continue; /* CREATOR OWNER and OWNER RIGHTS too: the owner is one of the above */
    if (account != NULL && EqualSid(sid, account) && (m & KEY_WRITE_BITS) == 0)
      continue; /* the connector's account, to read it */
    if (is_admin != NULL && is_admin(sid) == 1)
      continue; /* the administrator who made it (a CAPI machine key names its creator) */
    cs__win_describe_sid(sid, name, sizeof name);
    snprintf(why, why_len, "its private key can also be %s by %s",
             account != NULL && EqualSid(sid, account) ? "changed, or its rules," : "read or changed", name);
    return 0;
  }
  return 1;
}
