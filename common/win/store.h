/* Shared by the two halves of the Windows certificate store (not part of platform.h):
 * store.c changes LocalMachine\My and \CA (install, undo, archive), store_list.c looks
 * things up there (the certificate in service, the listing) and holds these helpers. */
#ifndef CS_WIN_STORE_H
#define CS_WIN_STORE_H

#include "win.h"

#include <wincrypt.h>

#include <stddef.h>
#include <stdio.h>

#include "../config.h"

#define CS__STORE_ENC (X509_ASN_ENCODING | PKCS_7_ASN_ENCODING)
/* How LocalMachine's stores are opened: archived certificates included (CertOpenStore's
 * CERT_STORE_ENUM_ARCHIVED_FLAG; without it enumerations and finds skip them), for a
 * renewal by autoenrollment archives the certificate it renewed, which is the one in
 * service until certsteward puts the new one there. cs_plat_cert_t.archived tells them. */
#define CS__STORE_OPEN (CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_ENUM_ARCHIVED_FLAG)
#define CS__STORE_PATH 4096           /* a path built by cs__store_join */
#define CS__STORE_FILE_MAX (1u << 20) /* a staged file or a manifest */

/* s (NULL: "") into out[len], cut to fit. */
static inline void cs__store_copy(char *out, size_t len, const char *s) { snprintf(out, len, "%s", s ? s : ""); }

static inline void cs__store_free_ctx(PCCERT_CONTEXT c) {
  if (c != NULL)
    CertFreeCertificateContext(c);
}

static inline void cs__store_close(HCERTSTORE s) {
  if (s != NULL)
    CertCloseStore(s, 0);
}

/* dir\name into out; 0, or -1 when it does not fit. */
int cs__store_join(char out[CS__STORE_PATH], const char *dir, const char *name);

/* dir\name, at most CS__STORE_FILE_MAX bytes (free with cs_plat_free_file). */
int cs__store_read(const char *dir, const char *name, unsigned char **data, size_t *len, cs_err_t *err);

/* Under Wine alone, whose CryptAcquireCertificatePrivateKey looks for a machine key
 * among the user's keys (CRYPT_MACHINE_KEYSET dropped) and answers 0x8009200B: the key
 * c's link names, opened as Windows opens it (CryptAcquireContextW with
 * CRYPT_MACHINE_KEYSET, silent; a CAPI handle: Wine has no CNG keys), into *h
 * (CryptReleaseContext) and *spec. 0 on Windows, always, and when it cannot be opened. */
int cs__store_wine_key(PCCERT_CONTEXT c, HCRYPTPROV_OR_NCRYPT_KEY_HANDLE *h, DWORD *spec);

/* The certificate with SHA-1 thumbprint tp (any case) in s (free it), or NULL. */
PCCERT_CONTEXT cs__store_find(HCERTSTORE s, const char *tp);

/* c's SHA-1 thumbprint, upper-case hex; 0 when it cannot be read (then tp is ""). */
int cs__store_tp(PCCERT_CONTEXT c, char tp[41]);

/* The key c is linked to (new, free()), or NULL when it has none. */
CRYPT_KEY_PROV_INFO *cs__store_key(PCCERT_CONTEXT c);

/* How the undo deletes the key a certificate links to (kp), a pure decision: CNG
 * when dwProvType is 0 (NCryptOpenStorageProvider(prov), NCryptOpenKey(container,
 * spec, flags), NCryptDeleteKey), else CAPI (CryptAcquireContextW(container, prov,
 * type, flags), flags holding CRYPT_DELETEKEYSET). The strings point into kp. */
typedef struct cs__store_keydel_s {
  int cng;
  const wchar_t *prov, *container;
  DWORD type;  /* CAPI provider type; 0 for CNG */
  DWORD spec;  /* CNG: dwLegacyKeySpec, AT_KEYEXCHANGE, AT_SIGNATURE or 0 */
  DWORD flags; /* CNG: NCRYPT_SILENT_FLAG [| NCRYPT_MACHINE_KEY_FLAG]; CAPI: CRYPT_DELETEKEYSET |
                  CRYPT_SILENT [| CRYPT_MACHINE_KEYSET] */
} cs__store_keydel_t;

/* 0, or -1 when kp names no key container (nothing to delete). */
int cs__store_keydel(const CRYPT_KEY_PROV_INFO *kp, cs__store_keydel_t *out);

/* 1 when c (may be NULL) is linked to a private key. Only real Windows proves that
 * the key itself is there: the link is a property naming a key container. */
int cs__store_has_key(PCCERT_CONTEXT c);

/* Opens LocalMachine\<name> (wname: the same in UTF-16) into *s. */
int cs__store_open(const wchar_t *wname, const char *name, HCERTSTORE *s, cs_err_t *err);

/* Saves the changes made to s (LocalMachine\<name>). */
int cs__store_commit(HCERTSTORE s, const char *name, cs_err_t *err);

/* The thumbprint in service, as the renewal finds it (renewal.c, cs_renewal_current):
 * [connector] thumbprint, else the one the binding files name; "" when none is named
 * (a first install). */
int cs__store_in_service(const cs_config_t *cfg, char tp[41], cs_err_t *err);

/* cs_plat_store_watch_start for any registry key root\path (store_watch.c), which the
 * tests point at a key of their own; shown names it in errors (a string that outlives
 * the watch). */
struct cs_plat_store_watch_s;
int cs__store_watch_key(HKEY root, const wchar_t *path, const char *shown, void (*cb)(void *arg), void *arg,
                        struct cs_plat_store_watch_s **out, cs_err_t *err);

#endif
