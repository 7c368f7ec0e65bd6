/* Whether an account can READ a private key, by every rule that decides it (keyacl.h):
 * not only an entry of the account's own (keyacl.c's question, for the grant) but its
 * groups, deny entries and entry order, as Windows itself decides when the connector
 * opens the key. Authz makes the decision from the account's SID alone, with no logon
 * and no password: AuthzInitializeResourceManager(AUTHZ_RM_FLAG_NO_AUDIT),
 * AuthzInitializeContextFromSid (the account's groups as a logon would give them),
 * AuthzAccessCheck. An access check maps no generic rights in entries, which key
 * descriptors carry (certlm.msc writes GENERIC_READ): the descriptor is first mapped
 * as for files (cs__win_key_check_sd). cs__win_access_explain says which entry decided.
 *
 * Proven only on real Windows: Authz (Wine's is a stub that fails with
 * ERROR_CALL_NOT_IMPLEMENTED) and the key's descriptor (Wine cannot open machine keys
 * and fakes their descriptors). Under Wine the tests prove the pure part on
 * descriptors made from SDDL: the mapped descriptor and the explained decision. */
#include "keyacl.h"
#include "win.h"

#include <authz.h>
#include <sddl.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cs__win_key_check_sd(PSECURITY_DESCRIPTOR sd, PSECURITY_DESCRIPTOR *out, cs_err_t *err) {
  union {
    SID s;
    unsigned char b[SECURITY_MAX_SID_SIZE];
  } system;
  SECURITY_DESCRIPTOR abs;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL, acl = NULL;
  DWORD n = sizeof system, len = 0, i;
  size_t size = sizeof(ACL);
  PSECURITY_DESCRIPTOR rel = NULL;
  int rc = CS_OK;

  *out = NULL;
  if (sd == NULL || !IsValidSecurityDescriptor(sd) || !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted))
    return cs_err_set(err, CS_EINVAL, (long)GetLastError(), "the key's security descriptor cannot be read");
  if (!CreateWellKnownSid(WinLocalSystemSid, NULL, &system, &n))
    return cs__win_fail(err, GetLastError(), "cannot make the SID of LocalSystem");
  if (!present)
    dacl = NULL;
  for (i = 0; dacl != NULL && i < dacl->AceCount; i++) {
    void *ace = NULL;
    if (!GetAce(dacl, i, &ace))
      return cs__win_fail(err, GetLastError(), "cannot read the key's access rules");
    size += ((ACE_HEADER *)ace)->AceSize;
  }
  if (dacl != NULL) {
    if ((acl = malloc(size)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    if (!InitializeAcl(acl, (DWORD)size, dacl->AclRevision > ACL_REVISION ? dacl->AclRevision : ACL_REVISION))
      goto fail;
    for (i = 0; i < dacl->AceCount; i++) {
      ACE_HEADER *h = NULL, *added = NULL;
      ACCESS_MASK m;
      PSID s;
      if (!GetAce(dacl, i, (void **)&h))
        goto fail;
      if (h->AceFlags & INHERIT_ONLY_ACE)
        continue;
      if (!AddAce(acl, acl->AclRevision, MAXDWORD, h, h->AceSize) || !GetAce(acl, acl->AceCount - 1, (void **)&added))
        goto fail;
      if (cs__win_ace_entry(added, &m, &s) != ACE_OTHER) { /* the copy's rights, mapped */
        m = cs__win_key_mapped(m);
        memcpy((unsigned char *)added + sizeof(ACE_HEADER), &m, sizeof m);
      }
    }
  }
  /* a NULL DACL stays NULL: it lets everyone do everything, as the key's did */
  if (!InitializeSecurityDescriptor(&abs, SECURITY_DESCRIPTOR_REVISION) ||
      !SetSecurityDescriptorDacl(&abs, TRUE, acl, FALSE) || !SetSecurityDescriptorOwner(&abs, &system, FALSE) ||
      !SetSecurityDescriptorGroup(&abs, &system, FALSE))
    goto fail;
  if (MakeSelfRelativeSD(&abs, NULL, &len) || GetLastError() != ERROR_INSUFFICIENT_BUFFER || len == 0)
    goto fail;
  if ((rel = malloc(len)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if (!MakeSelfRelativeSD(&abs, rel, &len))
    goto fail;
  *out = rel;
  rel = NULL;
  goto out;
fail:
  rc = cs__win_fail(err, GetLastError(), "cannot prepare the key's access rules for an access check");
out:
  free(rel);
  free(acl);
  return rc;
}

/* The index in sids[0..n) of sid, or -1. */
static int held(PSID sid, const PSID *sids, size_t n) {
  size_t i;
  for (i = 0; i < n; i++)
    if (sids[i] != NULL && EqualSid(sid, sids[i]))
      return (int)i;
  return -1;
}

int cs__win_access_explain(PSECURITY_DESCRIPTOR sd, const PSID *sids, size_t n, ACCESS_MASK desired, char *why,
                           size_t len) {
  BOOL present = FALSE, defaulted = FALSE;
  ACCESS_MASK granted = 0;
  PACL dacl = NULL;
  char text[200];
  DWORD i;

  desired = cs__win_key_mapped(desired);
  if (sd == NULL || !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
    snprintf(why, len, "the key's access rules cannot be read");
    return 0;
  }
  if (!present || dacl == NULL) {
    snprintf(why, len, "the key has no access rules at all (no DACL), which lets everyone read it");
    return 1;
  }
  for (i = 0; i < dacl->AceCount; i++) {
    ACE_HEADER *h = NULL;
    ACCESS_MASK m;
    PSID s;
    int kind;
    if (!GetAce(dacl, i, (void **)&h))
      break;
    kind = cs__win_ace_entry(h, &m, &s);
    /* inherit-only entries are for children, which a key does not have */
    if (kind == ACE_OTHER || (h->AceFlags & INHERIT_ONLY_ACE) || held(s, sids, n) < 0)
      continue;
    m = cs__win_key_mapped(m) & desired;
    /* In order: the first entry to decide a right decides it. */
    if (kind == ACE_DENY && (m & ~granted) != 0) {
      snprintf(why, len, "entry %lu of the key's access rules denies READ to %s", (unsigned long)i + 1,
               cs__win_sid_text(s, text, sizeof text));
      return 0;
    }
    if (kind == ACE_ALLOW && (m & ~granted) != 0) {
      granted |= m;
      if ((granted & desired) == desired) {
        snprintf(why, len, "entry %lu of the key's access rules gives READ to %s", (unsigned long)i + 1,
                 cs__win_sid_text(s, text, sizeof text));
        return 1;
      }
    }
  }
  snprintf(why, len, "no entry of the key's access rules gives READ to %s or a group of it",
           n > 0 && sids[0] != NULL ? cs__win_sid_text(sids[0], text, sizeof text) : "the account");
  return 0;
}

/* The context's user and enabled group SIDs (pointers into *buf, new: free()). */
static int context_sids(AUTHZ_CLIENT_CONTEXT_HANDLE ctx, PSID user, PSID **sids, size_t *n, void **buf) {
  TOKEN_GROUPS *g;
  DWORD need = 0, i;
  *sids = NULL;
  *n = 0;
  *buf = NULL;
  if (AuthzGetInformationFromContext(ctx, AuthzContextInfoGroupsSids, 0, &need, NULL) ||
      GetLastError() != ERROR_INSUFFICIENT_BUFFER || need == 0 || (*buf = malloc(need)) == NULL ||
      !AuthzGetInformationFromContext(ctx, AuthzContextInfoGroupsSids, need, &need, *buf))
    need = 0; /* the explanation then counts the account's own entries only */
  g = need ? *buf : NULL;
  if ((*sids = malloc(sizeof **sids * (1 + (g ? g->GroupCount : 0)))) == NULL)
    return CS_ENOMEM;
  (*sids)[(*n)++] = user;
  for (i = 0; g != NULL && i < g->GroupCount; i++)
    if ((g->Groups[i].Attributes & SE_GROUP_ENABLED) && !(g->Groups[i].Attributes & SE_GROUP_USE_FOR_DENY_ONLY))
      (*sids)[(*n)++] = g->Groups[i].Sid;
  return CS_OK;
}

int cs__win_key_readable_sd(PSECURITY_DESCRIPTOR sd, PSID sid, int *readable, char *why, size_t len, cs_err_t *err) {
  AUTHZ_RESOURCE_MANAGER_HANDLE rm = NULL;
  AUTHZ_CLIENT_CONTEXT_HANDLE ctx = NULL;
  AUTHZ_ACCESS_REQUEST req;
  AUTHZ_ACCESS_REPLY reply;
  PSECURITY_DESCRIPTOR ready = NULL;
  ACCESS_MASK granted = 0;
  DWORD result = 0;
  LUID none = {0, 0};
  PSID *sids = NULL;
  size_t n = 0;
  void *groups = NULL;
  char text[200];
  int rc, explained;

  *readable = 0;
  snprintf(why, len, "%s", "");
  if ((rc = cs__win_key_check_sd(sd, &ready, err)) != CS_OK)
    goto out;
  if (!AuthzInitializeResourceManager(AUTHZ_RM_FLAG_NO_AUDIT, NULL, NULL, NULL, NULL, &rm)) {
    rc = cs__win_fail(err, GetLastError(), "cannot start an access check (AuthzInitializeResourceManager)");
    goto out;
  }
  /* Flags 0: the account's groups as a logon would give them (local and domain). */
  if (!AuthzInitializeContextFromSid(0, sid, rm, NULL, none, NULL, &ctx)) {
    rc = cs__win_failf(err, GetLastError(), "cannot make an access check context for %s",
                       cs__win_sid_text(sid, text, sizeof text));
    goto out;
  }
  memset(&req, 0, sizeof req);
  req.DesiredAccess = CS_WIN_KEY_READ_MAPPED;
  memset(&reply, 0, sizeof reply);
  reply.ResultListLength = 1;
  reply.GrantedAccessMask = &granted;
  reply.Error = &result;
  if (!AuthzAccessCheck(0, ctx, &req, NULL, ready, NULL, 0, &reply, NULL)) {
    rc = cs__win_fail(err, GetLastError(), "the access check on the key failed (AuthzAccessCheck)");
    goto out;
  }
  *readable = result == ERROR_SUCCESS && (granted & CS_WIN_KEY_READ_MAPPED) == CS_WIN_KEY_READ_MAPPED;
  if ((rc = context_sids(ctx, sid, &sids, &n, &groups)) != CS_OK) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  explained = cs__win_access_explain(ready, (const PSID *)sids, n, CS_WIN_KEY_READ_MAPPED, why, len);
  if (explained != *readable) /* restricted SIDs, conditions, labels: Windows' answer stands */
    snprintf(why, len, "the access check %s READ to %s", *readable ? "gives" : "refuses",
             cs__win_sid_text(sid, text, sizeof text));
out:
  free(sids);
  free(groups);
  free(ready);
  if (ctx != NULL)
    AuthzFreeContext(ctx);
  if (rm != NULL)
    AuthzFreeResourceManager(rm);
  return rc;
}

int cs__win_sid_is_admin(PSID sid) {
  AUTHZ_RESOURCE_MANAGER_HANDLE rm = NULL;
  AUTHZ_CLIENT_CONTEXT_HANDLE ctx = NULL;
  LUID none = {0, 0};
  PSID *sids = NULL, admins = NULL;
  size_t n = 0, i;
  void *groups = NULL;
  int r = -1;

  if (sid == NULL || !IsValidSid(sid) || !ConvertStringSidToSidA("S-1-5-32-544", &admins))
    goto out;
  if (!AuthzInitializeResourceManager(AUTHZ_RM_FLAG_NO_AUDIT, NULL, NULL, NULL, NULL, &rm) ||
      !AuthzInitializeContextFromSid(0, sid, rm, NULL, none, NULL, &ctx))
    goto out;
  if (context_sids(ctx, sid, &sids, &n, &groups) != CS_OK || n < 2)
    goto out; /* no groups read: not told */
  for (r = 0, i = 1; i < n && !r; i++)
    r = EqualSid(sids[i], admins) != 0;
out:
  free(sids);
  free(groups);
  LocalFree(admins);
  if (ctx != NULL)
    AuthzFreeContext(ctx);
  if (rm != NULL)
    AuthzFreeResourceManager(rm);
  return r;
}
