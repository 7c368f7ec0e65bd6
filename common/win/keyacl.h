/* The pure part of the private-key permission on Windows (common/win/keyperm.c): who an
 * account is (its SID, a service's computed without asking the system) and what a key's
 * DACL gives that SID, with the merge that adds READ. No key, no store: tests feed it
 * DACLs made from SDDL, which Wine handles faithfully. */
#ifndef CS_WIN_KEYACL_H
#define CS_WIN_KEYACL_H

#include <windows.h>

#include "../error.h"

/* READ on a private key, as certlm.msc's "Manage Private Keys... > Read" writes it for CNG
 * and CAPI keys alike: GENERIC_READ (Windows may store it with SYNCHRONIZE added, or
 * mapped to the specific rights, as a CAPI key file does; both still read as READ). */
#define CS_WIN_KEY_READ GENERIC_READ
/* The same once generic rights are mapped as for files (what an access check asks);
 * SYNCHRONIZE means nothing for a key and is not asked for. */
#define CS_WIN_KEY_READ_MAPPED (FILE_GENERIC_READ & ~(ACCESS_MASK)SYNCHRONIZE)

/* The kind, rights and SID of an entry: plain allow entries grant (ACE_ALLOW); plain and
 * conditional (callback) deny entries deny (ACE_DENY: a condition may hold). Object
 * entries only mean something on directory objects and are left out, as are conditional
 * allow entries, and entries too short for their SID (ACE_OTHER). */
enum { ACE_OTHER, ACE_ALLOW, ACE_DENY };
int cs__win_ace_entry(ACE_HEADER *h, ACCESS_MASK *mask, PSID *sid);

/* Generic rights as the specific ones they stand for on a file (and a key). */
ACCESS_MASK cs__win_key_mapped(ACCESS_MASK m);

/* The SID of the virtual account NT SERVICE\<service>: S-1-5-80- and the SHA-1 of the
 * service name upper-cased as Windows does it, in UTF-16LE, read as five little-endian
 * 32-bit numbers ("ALL SERVICES" is S-1-5-80-0). Needs no service of that name to exist.
 * *sid is new (free()). CS_EINVAL for an empty or invalid name. */
int cs__win_service_sid(const char *service, PSID *sid, cs_err_t *err);

/* The SID of an account as [connector] account names it: "NT SERVICE\<name>" (any case)
 * computed as above, "S-1-..." as it is, "LocalSystem" (the service manager's name for
 * SYSTEM), ".\<user>" for a local user, anything else through LookupAccountNameW.
 * *sid is new (free()). CS_ENOENT when there is no such account, CS_EINVAL when the
 * name cannot be one. */
int cs__win_account_sid(const char *account, PSID *sid, cs_err_t *err);

/* What a key's DACL gives sid (cs__win_key_access's answer). */
enum {
  CS_WIN_KEY_READS = 0, /* an allow entry for sid covers READ: nothing to do */
  CS_WIN_KEY_OPEN,      /* no DACL at all, which lets everyone do everything (READ included) */
  CS_WIN_KEY_NONE,      /* no entry of sid's own gives READ: a grant adds one */
  CS_WIN_KEY_PARTIAL,   /* sid has an explicit allow entry without READ: a grant extends it */
  CS_WIN_KEY_DENIED     /* a deny entry for sid takes (part of) READ away: a grant cannot help */
};

/* What dacl (NULL: no DACL) gives sid, entries read in order as an access check does.
 * Only entries naming sid itself count: group entries (Users, Everyone) are not
 * expanded, so READ through a group alone is CS_WIN_KEY_NONE (the grant then adds an
 * entry of sid's own, which stays right when the group changes). Generic and specific
 * rights are compared through the file mapping, which key files and CryptoKeyRights use. */
int cs__win_key_access(PACL dacl, PSID sid);

/* READ for sid merged into the DACL of sd (absolute or self-relative): *out receives a
 * new self-relative descriptor holding that DACL only (free()), and *out_len its size, for
 * writing back with DACL_SECURITY_INFORMATION; NULL when nothing is to change (READS, OPEN)
 * or nothing can be done (DENIED). An explicit allow entry of sid's own gains READ in place;
 * otherwise one new allow entry goes after the explicit entries, before the inherited ones
 * (the canonical order). Every other entry is kept as it is and where it is, and so are the
 * protected / auto-inherited flags. *state receives cs__win_key_access's answer for sd. */
int cs__win_key_merge(PSECURITY_DESCRIPTOR sd, PSID sid, PSECURITY_DESCRIPTOR *out, DWORD *out_len, int *state,
                      cs_err_t *err);

/* The security descriptor (DACL part, self-relative, new: free()) of the private key of
 * the certificate with thumbprint tp in LocalMachine\\My, read as cs_plat_key_check reads
 * it (keyperm.c). Proven only on real Windows (Wine cannot open machine keys). */
int cs__win_key_sd(const char *tp, PSECURITY_DESCRIPTOR *sd, cs_err_t *err);

/* Whether a key's security descriptor (owner and DACL) keeps it to the machine's
 * administrators: owned by Administrators, SYSTEM, TrustedInstaller or a user the machine
 * counts among Administrators (is_admin(sid) == 1; may be NULL: none); no allow entry
 * gives anyone else any right to read it, change it or its rules, but account (may be
 * NULL), to read it only. Inherit-only entries are left out (they are for children, which
 * a key has not), deny entries are not weighed, an entry of a kind not read here
 * (conditional, object) refuses. A CAPI machine key names the administrator who made it
 * (CryptAcquireContext: "accessed only by its creator and by a user with administrator
 * privileges"): is_admin lets that one pass. 1 yes; 0 no, with why naming who else may.
 * Pure but for is_admin: tests feed it descriptors made from SDDL. */
int cs__win_key_private(PSECURITY_DESCRIPTOR sd, PSID account, int (*is_admin)(PSID), char *why, size_t why_len);

/* 1 when the machine counts sid among BUILTIN\Administrators (its groups as a logon would
 * give them, through Authz, keyaccess.c); 0 when not, -1 when that cannot be told. Real
 * Windows only (Wine's Authz is a stub: -1). */
int cs__win_sid_is_admin(PSID sid);

/* ---- whether an account can read a key (keyaccess.c) ---------------------------------- */

/* sd made ready for an access check: its DACL with generic rights mapped as for files
 * and inherit-only entries left out (they are for children, which a key has not), the
 * owner and group SYSTEM (an access check wants both; SYSTEM's implicit owner rights are
 * no READ). *out is new, self-relative (free()). */
int cs__win_key_check_sd(PSECURITY_DESCRIPTOR sd, PSECURITY_DESCRIPTOR *out, cs_err_t *err);

/* What sd's DACL gives a principal holding sids[0..n) (its user SID first, then its
 * groups), entries read in order as an access check reads them: 1 when every right of
 * desired (mapped) is allowed before any is denied, else 0. why says which entry decided
 * ("entry 2 denies ... to S-1-5-32-545") or that none gave it. The pure part of the
 * decision (no system call beyond SID and ACL reading): it explains the access check's
 * answer; tested on descriptors made from SDDL. */
int cs__win_access_explain(PSECURITY_DESCRIPTOR sd, const PSID *sids, size_t n, ACCESS_MASK desired, char *why,
                           size_t len);

/* Whether the account whose SID is sid can READ a key whose descriptor is sd: Authz's
 * access check (a resource manager without audit, a client context made from the SID
 * alone, no logon) against cs__win_key_check_sd(sd); why from cs__win_access_explain
 * over the context's user and group SIDs. Proven only on real Windows: Wine's Authz is
 * a stub (ERROR_CALL_NOT_IMPLEMENTED) and its key descriptors are faked. */
int cs__win_key_readable_sd(PSECURITY_DESCRIPTOR sd, PSID sid, int *readable, char *why, size_t len, cs_err_t *err);

/* "S-1-5-80-..." for sid into buf (len bytes); "?" when it cannot be written. Returns buf. */
const char *cs__win_sid_text(PSID sid, char *buf, size_t len);

#endif
