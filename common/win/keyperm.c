/* Windows half of platform.h: READ on a certificate's private key for the connector's
 * account, as certlm.msc's "Manage Private Keys... > Read" gives it. key_ref is the SHA-1
 * thumbprint of a certificate in LocalMachine\My; its key is opened through the
 * certificate (CryptAcquireCertificatePrivateKey), and its DACL is read, merged with READ
 * for the account (keyacl.c: nothing else removed, no duplicate) and written back: CNG
 * keys through NCRYPT_SECURITY_DESCR_PROPERTY, legacy CAPI keys through
 * PP_KEYSET_SEC_DESCR. The grant is then read back through a new handle.
 *
 * Proven only on real Windows: everything that touches the key. Wine fails
 * CryptAcquireCertificatePrivateKey for machine keys (0x8009200B), never hands out an
 * NCrypt handle, and fakes key security descriptors (a CNG set returns success and stores
 * nothing; a CAPI set works once, later ones fail). Under Wine the tests prove the
 * thumbprint, store and "no key" paths, and keyacl.c's DACL decisions. */
#include "../platform.h"
#include "acl.h"
#include "keyacl.h"
#include "store.h"
#include "win.h"

#include <wincrypt.h>
#include <bcrypt.h>
#include <ncrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_NAME "LocalMachine\\My"

/* A certificate's private key, opened. */
struct cs__key {
  HCERTSTORE store;
  PCCERT_CONTEXT cert;
  HCRYPTPROV_OR_NCRYPT_KEY_HANDLE h;
  DWORD spec; /* CERT_NCRYPT_KEY_SPEC for CNG, AT_KEYEXCHANGE / AT_SIGNATURE for CAPI */
  BOOL free_h;
};

static int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

static int parse_thumbprint(const char *ref, BYTE hash[20], cs_err_t *err) {
  size_t i;
  if (ref == NULL || strlen(ref) != 40)
    goto bad;
  for (i = 0; i < 40; i++) {
    int v = hex_value(ref[i]);
    if (v < 0)
      goto bad;
    hash[i / 2] = (BYTE)(i % 2 ? hash[i / 2] | v : v << 4);
  }
  return CS_OK;
bad:
  return cs_err_set(err, CS_EINVAL, 0, "\"%.60s\" is not a certificate thumbprint (40 hexadecimal digits)",
                    ref != NULL ? ref : "");
}

/* CS_E* for what the key functions report: HRESULTs (NTE_*, CRYPT_E_*) or Win32 codes. */
static int key_code(DWORD e) {
  switch (e) {
  case (DWORD)NTE_BAD_KEYSET:
  case (DWORD)NTE_NO_KEY:
  case (DWORD)NTE_NOT_FOUND:
  case (DWORD)CRYPT_E_NO_KEY_PROPERTY:
    return CS_ENOENT;
  case (DWORD)NTE_PERM:
    return CS_EACCES;
  case (DWORD)NTE_NO_MEMORY:
    return CS_ENOMEM;
  default:
    if (HRESULT_FACILITY(e) == FACILITY_WIN32)
      return cs__win_code(HRESULT_CODE(e));
    return (e & 0x80000000u) ? CS_EIO : cs__win_code(e);
  }
}

static int key_fail(cs_err_t *err, DWORD e, const char *what, const char *tp) {
  char text[256];
  const char *hint = e == (DWORD)NTE_NOT_SUPPORTED
                         ? " (its key storage keeps no access rules per key, as on a smart card or HSM: grant "
                           "access with that provider's own tools)"
                         : "";
  return cs_err_set(err, key_code(e), (long)e, "%s the private key of certificate %s in " STORE_NAME ": %s%s", what, tp,
                    cs__win_text(e, text, sizeof text), hint);
}

static int has_key_link(PCCERT_CONTEXT cert) {
  static const DWORD props[] = {CERT_KEY_PROV_INFO_PROP_ID, CERT_KEY_CONTEXT_PROP_ID, CERT_NCRYPT_KEY_HANDLE_PROP_ID};
  size_t i;
  for (i = 0; i < sizeof props / sizeof props[0]; i++) {
    DWORD n = 0;
    if (CertGetCertificateContextProperty(cert, props[i], NULL, &n))
      return 1;
  }
  return 0;
}

static void close_key(struct cs__key *k) {
  if (k->h != 0 && k->free_h) {
    if (k->spec == CERT_NCRYPT_KEY_SPEC)
      NCryptFreeObject(k->h);
    else
      CryptReleaseContext(k->h, 0);
  }
  if (k->cert != NULL)
    CertFreeCertificateContext(k->cert);
  if (k->store != NULL)
    CertCloseStore(k->store, 0);
  memset(k, 0, sizeof *k);
}

/* Finds the certificate tp in LocalMachine\<wstore> (name: how messages say it) and
 * opens its private key. */
static int open_key_in(const char *tp, const wchar_t *wstore, const char *name, struct cs__key *k, cs_err_t *err) {
  BYTE hash[20];
  CRYPT_HASH_BLOB blob;
  DWORD e;
  int rc;

  memset(k, 0, sizeof *k);
  if ((rc = parse_thumbprint(tp, hash, err)) != CS_OK)
    return rc;
  k->store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                           CS__STORE_OPEN | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG, wstore);
  if (k->store == NULL)
    return cs__win_failf(err, GetLastError(), "cannot open the certificate store %s", name);
  blob.cbData = sizeof hash;
  blob.pbData = hash;
  k->cert = CertFindCertificateInStore(k->store, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob,
                                       NULL);
  if (k->cert == NULL) {
    e = GetLastError();
    if (e == (DWORD)CRYPT_E_NOT_FOUND)
      return cs_err_set(err, CS_ENOENT, (long)e, "no certificate with thumbprint %s in %s", tp, name);
    return cs__win_failf(err, e, "cannot search the certificate store %s", name);
  }
  /* The link a PFX import makes; without it CryptAcquireCertificatePrivateKey only says
   * 0x8009200B, which Wine also says for keys it has but cannot open. */
  if (!has_key_link(k->cert))
    return cs_err_set(err, CS_ENOENT, 0,
                      "certificate %s in %s has no private key linked to it (imported without its key, "
                      "say from a .cer rather than a .pfx): there is no key to grant READ on",
                      tp, name);
  /* Silent: no UI in a service. No cache flag: a new handle each time, so that the read
   * back sees what the key storage kept. The provider info carries the machine-keyset
   * flag; a CNG key comes as an NCrypt handle, a legacy CSP key as a CAPI one.
   * Proven only on real Windows (Wine: 0x8009200B for machine keys). */
  /* Wine alone (store.h): the machine key, first; its crypt32 would find a user key of
   * the same container name (every PFX import uses one) before it, whose access rules are
   * the user's. Never on Windows. */
  if (cs__store_wine_key(k->cert, &k->h, &k->spec)) {
    k->free_h = TRUE;
    return CS_OK;
  }
  if (!CryptAcquireCertificatePrivateKey(k->cert, CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG, NULL,
                                         &k->h, &k->spec, &k->free_h)) {
    e = GetLastError();
    k->h = 0;
    return key_fail(err, e, "cannot open", tp);
  }
  return CS_OK;
}

static int open_key(const char *tp, struct cs__key *k, cs_err_t *err) {
  return open_key_in(tp, L"My", STORE_NAME, k, err);
}

/* The key's security descriptor, the parts info names (DACL_SECURITY_INFORMATION,
 * OWNER_SECURITY_INFORMATION; self-relative, new: free()). */
static int read_sd(struct cs__key *k, const char *tp, DWORD info, PSECURITY_DESCRIPTOR *sd, cs_err_t *err) {
  DWORD n = 0, e = 0;
  *sd = NULL;
  if (k->spec == CERT_NCRYPT_KEY_SPEC) {
    DWORD flags = info | NCRYPT_SILENT_FLAG;
    SECURITY_STATUS st = NCryptGetProperty(k->h, NCRYPT_SECURITY_DESCR_PROPERTY, NULL, 0, &n, flags);
    if (st == ERROR_SUCCESS && n > 0 && (*sd = malloc(n)) != NULL)
      st = NCryptGetProperty(k->h, NCRYPT_SECURITY_DESCR_PROPERTY, *sd, n, &n, flags);
    e = (DWORD)st;
  } else if (!CryptGetProvParam(k->h, PP_KEYSET_SEC_DESCR, NULL, &n, info) && GetLastError() != ERROR_MORE_DATA) {
    e = GetLastError();
  } else if (n > 0 && (*sd = malloc(n)) != NULL && !CryptGetProvParam(k->h, PP_KEYSET_SEC_DESCR, *sd, &n, info)) {
    e = GetLastError();
  }
  if (e == 0 && *sd == NULL)
    return cs_err_set(err, n > 0 ? CS_ENOMEM : CS_EFORMAT, 0,
                      "no access rules came back for the private key of "
                      "certificate %s in " STORE_NAME,
                      tp);
  if (e == 0 && !IsValidSecurityDescriptor(*sd))
    e = ERROR_INVALID_SECURITY_DESCR;
  if (e != 0) {
    free(*sd);
    *sd = NULL;
    return key_fail(err, e, "cannot read the access rules of", tp);
  }
  return CS_OK;
}

/* Writes the DACL of sd to the key. Proven only on real Windows: Wine's CNG set returns
 * success and keeps nothing, its CAPI set works once and fails after. The MS key storage
 * keeps a persisted key's descriptor with the key: Windows' own callers pass the part
 * (DACL_SECURITY_INFORMATION) alone, and NCRYPT_PERSIST_ONLY_FLAG is documented as not
 * allowed for this property. */
static int write_sd(struct cs__key *k, const char *tp, PSECURITY_DESCRIPTOR sd, DWORD len, cs_err_t *err) {
  if (k->spec == CERT_NCRYPT_KEY_SPEC) {
    SECURITY_STATUS st = NCryptSetProperty(k->h, NCRYPT_SECURITY_DESCR_PROPERTY, (PBYTE)sd, len,
                                           DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG);
    if (st != ERROR_SUCCESS)
      return key_fail(err, (DWORD)st, "cannot change the access rules of", tp);
  } else if (!CryptSetProvParam(k->h, PP_KEYSET_SEC_DESCR, (const BYTE *)sd, DACL_SECURITY_INFORMATION)) {
    return key_fail(err, GetLastError(), "cannot change the access rules of", tp);
  }
  return CS_OK;
}

/* "NT SERVICE\X (S-1-5-80-...)" into buf. */
static const char *describe(const char *account, PSID sid, char *buf, size_t len) {
  char text[200];
  snprintf(buf, len, "%s (%s)", account, cs__win_sid_text(sid, text, sizeof text));
  return buf;
}

/* What the key's DACL gives sid (cs__win_key_access). */
static int key_state(const char *tp, PSID sid, int *state, cs_err_t *err) {
  struct cs__key k;
  PSECURITY_DESCRIPTOR sd = NULL;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  int rc;

  if ((rc = open_key(tp, &k, err)) != CS_OK || (rc = read_sd(&k, tp, DACL_SECURITY_INFORMATION, &sd, err)) != CS_OK)
    goto out;
  if (!GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
    rc = key_fail(err, GetLastError(), "cannot read the access rules of", tp);
    goto out;
  }
  *state = cs__win_key_access(present ? dacl : NULL, sid);
out:
  free(sd);
  close_key(&k);
  return rc;
}

int cs__win_key_sd(const char *tp, PSECURITY_DESCRIPTOR *sd, cs_err_t *err) {
  struct cs__key k;
  int rc;
  *sd = NULL;
  if ((rc = open_key(tp, &k, err)) == CS_OK)
    rc = read_sd(&k, tp, DACL_SECURITY_INFORMATION, sd, err);
  close_key(&k);
  return rc;
}

int cs_plat_key_check(const char *key_ref, const char *account, int *granted, cs_err_t *err) {
  BYTE hash[20];
  PSID sid = NULL;
  int rc, state = CS_WIN_KEY_NONE;

  *granted = 0;
  if ((rc = parse_thumbprint(key_ref, hash, err)) != CS_OK || (rc = cs__win_account_sid(account, &sid, err)) != CS_OK)
    goto out;
  if ((rc = key_state(key_ref, sid, &state, err)) != CS_OK)
    goto out;
  *granted = state == CS_WIN_KEY_READS || state == CS_WIN_KEY_OPEN;
out:
  free(sid);
  return rc;
}

int cs_plat_key_grant(const char *key_ref, const char *account, cs_err_t *err) {
  struct cs__key k;
  BYTE hash[20];
  PSID sid = NULL;
  PSECURITY_DESCRIPTOR sd = NULL, merged = NULL;
  DWORD len = 0;
  char who[600];
  int rc, state = CS_WIN_KEY_NONE, granted = 0;

  memset(&k, 0, sizeof k);
  if ((rc = parse_thumbprint(key_ref, hash, err)) != CS_OK || (rc = cs__win_account_sid(account, &sid, err)) != CS_OK)
    goto out;
  if ((rc = open_key(key_ref, &k, err)) != CS_OK ||
      (rc = read_sd(&k, key_ref, DACL_SECURITY_INFORMATION, &sd, err)) != CS_OK)
    goto out;
  if ((rc = cs__win_key_merge(sd, sid, &merged, &len, &state, err)) != CS_OK)
    goto out;
  if (state == CS_WIN_KEY_DENIED) {
    rc = cs_err_set(err, CS_EFAILED, 0,
                    "the private key of certificate %s in " STORE_NAME " has an entry that denies READ to %s; "
                    "certsteward removes no entries: remove that one (certlm.msc, the certificate, All Tasks, "
                    "Manage Private Keys) and try again",
                    key_ref, describe(account, sid, who, sizeof who));
    goto out;
  }
  if (merged == NULL)
    goto out; /* READ already there (or no DACL at all): nothing to write */
  if ((rc = write_sd(&k, key_ref, merged, len, err)) != CS_OK)
    goto out;
  close_key(&k);
  /* Read back through a new handle: what counts is what the key storage kept. */
  if ((rc = key_state(key_ref, sid, &state, err)) != CS_OK)
    goto out;
  granted = state == CS_WIN_KEY_READS || state == CS_WIN_KEY_OPEN;
  if (!granted)
    rc = cs_err_set(err, CS_EFAILED, 0,
                    "READ for %s on the private key of certificate %s in " STORE_NAME
                    " did not take effect: the key storage kept its old access rules",
                    describe(account, sid, who, sizeof who), key_ref);
out:
  free(merged);
  free(sd);
  free(sid);
  close_key(&k);
  return rc;
}

int cs_plat_store_key_private(const char *tp, const char *account, char *why, size_t why_len, cs_err_t *err) {
  struct cs__key k;
  PSECURITY_DESCRIPTOR sd = NULL;
  PSID acct = NULL;
  int rc;

  memset(&k, 0, sizeof k);
  if (why_len > 0)
    why[0] = '\0';
  if (account != NULL && account[0] && (rc = cs__win_account_sid(account, &acct, err)) != CS_OK)
    goto out;
  /* My's certificate, else (not there) the entry a request left in REQUEST */
  if ((rc = open_key(tp, &k, err)) == CS_ENOENT && k.cert == NULL) {
    close_key(&k);
    rc = open_key_in(tp, L"REQUEST", "LocalMachine\\REQUEST", &k, err);
  }
  if (rc == CS_OK && (rc = read_sd(&k, tp, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &sd, err)) == CS_OK)
    rc = cs__win_key_private(sd, acct, cs__win_sid_is_admin, why, why_len);
out:
  free(sd);
  free(acct);
  close_key(&k);
  return rc;
}

/* The key is the one the certificate key_ref (a thumbprint) links to in
 * LocalMachine\My, which only administrators change: the thumbprint says it all. */
int cs_plat_key_identity(const char *key_ref, char *out, size_t len, cs_err_t *err) {
  (void)key_ref;
  (void)err;
  if (len > 0)
    out[0] = '\0';
  return CS_OK;
}
