/* Windows half of platform.h: cs_plat_store_key_matches, whether the private key that
 * LocalMachine\My links to a certificate is there and is that certificate's own. The
 * key is opened as LocalSystem would use it (CryptAcquireCertificatePrivateKey: a CNG
 * key or a legacy CAPI one), its public half exported through its provider and
 * compared with the certificate's SubjectPublicKeyInfo. The private half never leaves
 * the provider: nothing here exports, signs, decrypts or writes. The same comparison
 * (cs__store_key_own, store.h) judges the key a pending request's entry in
 * LocalMachine\REQUEST links to (store_pending.c). What is said below of My's entries
 * goes for REQUEST's where its registry key (a sibling of MY under
 * HKLM\SOFTWARE\Microsoft\SystemCertificates) keeps the DACL it inherits: only a real
 * Windows server shows that DACL.
 *
 * Who put the certificate there, and what opening its key can do, as LocalSystem:
 * - Writing LocalMachine\My means writing HKLM\SOFTWARE\Microsoft\SystemCertificates\MY
 *   (its one physical store, .Default), which inherits the default DACL of HKLM\SOFTWARE
 *   (as the Windows STIG, V-220907, lists it): Administrators, SYSTEM and CREATOR OWNER
 *   full control, Users and ALL APPLICATION PACKAGES read; no user can create a key
 *   there, so CREATOR OWNER gives none anything. So on a machine whose registry DACLs
 *   are the defaults, the certificate and the link to its key (CERT_KEY_PROV_INFO:
 *   provider, container, flags) were written by an administrator or a process running
 *   as SYSTEM (autoenrollment, win-acme as a task); certsteward does not check that
 *   DACL here. The link is no proof of who made the key, though: every user may create
 *   machine key containers (the MachineKeys folders let Everyone create files, owned by
 *   their creator: KB 278381), so the container named may be one a non-administrator
 *   made and can still read. A 1 here says the key is the certificate's, not that only
 *   administrators can read it; who can is the key's DACL (keyperm.c, cs__win_key_sd).
 * - The provider is chosen by name from those an administrator registered (CAPI:
 *   HKLM\SOFTWARE\Microsoft\Cryptography\Defaults\Provider; CNG: the system's provider
 *   registration), so the link cannot make this process load a DLL a non-administrator
 *   chose. It can name a smart-card or HSM provider that an administrator installed:
 *   then that provider is loaded and asked for the key.
 * - CRYPT_ACQUIRE_SILENT_FLAG: a provider that needs UI (insert a card, a PIN, a
 *   strong-key-protection prompt) must fail with NTE_SILENT_CONTEXT instead of showing
 *   it, which a service could not answer (reading a public half asks for no PIN on
 *   Windows' own providers). What the flag does not bound is time: a provider that waits for a device, a reader or a
 *   networked HSM blocks this call as long as it waits, and crypt32 offers no way to
 *   cancel it. Call it on a worker thread, never on the daemon's loop.
 * - CRYPT_ACQUIRE_NO_HEALING: a certificate without a link is answered "no key" before
 *   any open; the flag also keeps crypt32 from re-creating a link it cannot read
 *   (healing), and the store is opened read-only: nothing is written.
 *
 * Under Wine (8.0, dlls/crypt32/cert.c): CryptAcquireCertificatePrivateKey honours only
 * the SILENT flag (ALLOW_NCRYPT_KEY and NO_HEALING are ignored, so it never hands out
 * a CNG handle) and opens the container with CryptAcquireContextW without the link's
 * CRYPT_MACHINE_KEYSET, so a machine key is looked for among the user's keys and is
 * not found (0x8009200B); CryptExportPublicKeyInfo takes every handle for a CAPI one.
 * The tests therefore link certificates to user keys (which Wine opens faithfully);
 * under Wine alone (ntdll's wine_get_version), a machine key it did not find that way is
 * opened with CRYPT_MACHINE_KEYSET, as Windows does, and compared the same way. Machine
 * keys through crypt32 itself and CNG keys are proven only on a real Windows server. */
#include "../platform.h"
#include "store.h"

#include <ncrypt.h>

#include <stdlib.h>

#include "../bindings.h"

#define MY_NAME "LocalMachine\\My"

/* The provider named by c's link, for the reason given ("" when it names none). */
static void provider_of(PCCERT_CONTEXT c, char *out, size_t len) {
  CRYPT_KEY_PROV_INFO *kp = cs__store_key(c);
  char *name = kp != NULL && kp->pwszProvName != NULL ? cs__win_utf8(kp->pwszProvName) : NULL;
  size_t i;
  cs__store_copy(out, len, name);
  for (i = 0; out[i] != '\0'; i++) /* written by an administrator, shown in an event: one plain line */
    if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
      out[i] = '?';
  free(name);
  free(kp);
}

/* The public half of the key h (dwKeySpec spec, as CryptAcquireCertificatePrivateKey
 * gave them: CERT_NCRYPT_KEY_SPEC for a CNG handle, which CryptExportPublicKeyInfo
 * then ignores) as a new CERT_PUBLIC_KEY_INFO (free()), or NULL with *e set. */
static CERT_PUBLIC_KEY_INFO *public_half(HCRYPTPROV_OR_NCRYPT_KEY_HANDLE h, DWORD spec, DWORD *e) {
  CERT_PUBLIC_KEY_INFO *pub = NULL;
  DWORD n = 0;
  if (!CryptExportPublicKeyInfo(h, spec, X509_ASN_ENCODING, NULL, &n)) {
    *e = GetLastError();
  } else if ((pub = malloc(n)) == NULL) {
    *e = ERROR_OUTOFMEMORY;
  } else if (!CryptExportPublicKeyInfo(h, spec, X509_ASN_ENCODING, pub, &n)) {
    *e = GetLastError();
    free(pub);
    pub = NULL;
  }
  return pub;
}

int cs__store_key_own(HCERTSTORE s, const char *store_name, PCCERT_CONTEXT c, char *why, size_t why_len,
                      cs_err_t *err) {
  const DWORD flags = CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG | CRYPT_ACQUIRE_NO_HEALING;
  PCCERT_CONTEXT holder = NULL;
  HCRYPTPROV_OR_NCRYPT_KEY_HANDLE h = 0;
  CERT_PUBLIC_KEY_INFO *pub = NULL;
  DWORD spec = 0, e = 0;
  BOOL free_h = FALSE;
  char text[256], prov[128], other[41];
  int rc = 0;

  cs__store_say(why, why_len, "%s", "");
  if (!cs__store_has_key(c)) {
    cs__store_say(why, why_len, "no private key is linked to it in %s", store_name);
    goto out;
  }
  provider_of(c, prov, sizeof prov);
  if (!CryptAcquireCertificatePrivateKey(c, flags, NULL, &h, &spec, &free_h)) {
    e = GetLastError();
    h = 0;
    if (e == (DWORD)CRYPT_E_NO_KEY_PROPERTY && cs__store_wine_key(c, &h, &spec)) {
      free_h = TRUE; /* opened as Windows would: compared below as any CAPI key */
      e = 0;
    }
  }
  if (h == 0) {
    cs__store_say(why, why_len, "the private key linked to it%s%s cannot be opened: %s", prov[0] ? " in " : "", prov,
                  cs__win_text(e, text, sizeof text));
    goto out;
  }
  if ((pub = public_half(h, spec, &e)) == NULL) {
    if (e == ERROR_OUTOFMEMORY) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    cs__store_say(why, why_len, "the public half of the private key linked to it%s%s cannot be read: %s",
                  prov[0] ? " in " : "", prov, cs__win_text(e, text, sizeof text));
    goto out;
  }
  if (CertComparePublicKeyInfo(X509_ASN_ENCODING, &c->pCertInfo->SubjectPublicKeyInfo, pub)) {
    rc = 1;
    goto out;
  }
  /* Another key: name the certificate it belongs to when the store holds one (a link
   * copied from another certificate, or a container reused by a later import). */
  holder = CertFindCertificateInStore(s, CS__STORE_ENC, 0, CERT_FIND_PUBLIC_KEY, pub, NULL);
  if (holder != NULL && cs__store_tp(holder, other))
    cs__store_say(why, why_len, "the private key linked to it is another certificate's: that of %s in %s", other,
                  store_name);
  else
    cs__store_say(why, why_len,
                  "the private key linked to it is not its own: its public half differs from the certificate's, and no "
                  "certificate in %s has it",
                  store_name);
out:
  if (h != 0 && free_h) {
    if (spec == CERT_NCRYPT_KEY_SPEC)
      NCryptFreeObject(h);
    else
      CryptReleaseContext(h, 0);
  }
  free(pub);
  cs__store_free_ctx(holder);
  return rc;
}

int cs_plat_store_key_matches(const char *tp, char *why, size_t why_len, cs_err_t *err) {
  HCERTSTORE my = NULL;
  PCCERT_CONTEXT c = NULL;
  DWORD e;
  int rc = 0;

  cs__store_say(why, why_len, "%s", "");
  if (tp == NULL || !cs_thumbprint_valid(tp))
    return cs_err_set(err, CS_EINVAL, 0, "\"%.60s\" is not a certificate thumbprint (40 hexadecimal digits)",
                      tp != NULL ? tp : "");
  /* read only: nothing here changes the store */
  my = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                     CS__STORE_OPEN | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG, L"My");
  if (my == NULL) {
    rc = cs__win_fail(err, GetLastError(), "cannot open the certificate store " MY_NAME);
    goto out;
  }
  if ((c = cs__store_find(my, tp)) == NULL) {
    e = GetLastError();
    rc = e == (DWORD)CRYPT_E_NOT_FOUND
             ? cs_err_set(err, CS_ENOENT, (long)e, "no certificate with thumbprint %s in " MY_NAME, tp)
             : cs__win_failf(err, e, "cannot search " MY_NAME " for certificate %s", tp);
    goto out;
  }
  if (!cs__store_has_key(c))
    cs__store_say(why, why_len,
                  "no private key is linked to it in " MY_NAME
                  " (added without its key: from a .cer or .crt rather than a .pfx, or without certreq -accept, which "
                  "joins a certificate to the key its request left behind)");
  else
    rc = cs__store_key_own(my, MY_NAME, c, why, why_len, err);
out:
  cs__store_free_ctx(c);
  cs__store_close(my);
  return rc;
}
