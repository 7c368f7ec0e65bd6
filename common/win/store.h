/* Shared by the parts of the Windows certificate store (not part of platform.h):
 * store.c changes LocalMachine\My and \CA (install, undo, archive), store_list.c looks
 * things up there (the certificate in service, the listing) and holds these helpers,
 * store_key.c opens a linked key, store_pending.c joins a certificate to the key its
 * request left in LocalMachine\REQUEST. */
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

/* printf into why[len] (nothing when len is 0): the reasons said to a caller. */
void cs__store_say(char *why, size_t len, const char *fmt, ...) CS_PRINTF(3, 4);

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
/* One "name value" line of a file of the store's (store.txt, a manifest): a string of
 * size bytes at offset off of the object read, or an int flag (size 0). */
typedef struct cs__store_field_s {
  const char *name;
  size_t off, size;
} cs__store_field_t;

/* Reads dir\name into the nf fields f of obj (size bytes, zeroed first; "-" stands
 * for ""); the file's bytes are wiped after (store.txt holds a password). */
int cs__store_fields_read(const char *dir, const char *name, const cs__store_field_t *f, size_t nf, void *obj,
                          size_t size, cs_err_t *err);

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

/* Whether the key c (of store s, called store_name in why) links to opens and is c's
 * own (store_key.c, as cs_plat_store_key_matches): 1 yes; 0 no, why says why (no link,
 * cannot be opened, another certificate's); CS_E* when it cannot be told. */
int cs__store_key_own(HCERTSTORE s, const char *store_name, PCCERT_CONTEXT c, char *why, size_t why_len, cs_err_t *err);

/* ---- the request's key, as certreq -accept (store_pending.c) ---- */

#define CS__STORE_MANIFEST "manifest"         /* in backup_dir: what install changes (store.c) */
#define CS__STORE_REQUEST_SAVED "request.sst" /* in backup_dir: the REQUEST entry, serialised */

/* The entry tp of LocalMachine\REQUEST whose key install gives the certificate leaf. */
typedef struct cs__store_pending_s {
  HCERTSTORE req;
  PCCERT_CONTEXT entry;
  CRYPT_KEY_PROV_INFO *kp; /* the entry's key link (new) */
} cs__store_pending_t;

/* Finds tp in LocalMachine\REQUEST (opened for writing) with a key link and leaf's
 * public key: CS_ENOENT (no longer there, or without a link), CS_EINVAL (another
 * public key), else 0 and p filled (close it with cs__store_pending_close). */
int cs__store_pending_open(const char *tp, PCCERT_CONTEXT leaf, cs__store_pending_t *p, cs_err_t *err);
void cs__store_pending_close(cs__store_pending_t *p);
/* The entry with its properties (its key link among them), serialised into
 * backup_dir\CS__STORE_REQUEST_SAVED: what the undo puts back. */
int cs__store_pending_save(const cs__store_pending_t *p, const char *backup_dir, cs_err_t *err);
/* Removes the entry from LocalMachine\REQUEST, never its key; committed. */
int cs__store_pending_take(cs__store_pending_t *p, cs_err_t *err);
/* The undo: the entry tp back into LocalMachine\REQUEST from what was saved in
 * backup_dir, with its key link, unless it is there; committed. */
int cs__store_pending_restore(const char *backup_dir, const char *tp, cs_err_t *err);

/* cs_plat_store_watch_start for any registry key root\path (store_watch.c), which the
 * tests point at a key of their own; shown names it in errors (a string that outlives
 * the watch). */
struct cs_plat_store_watch_s;
int cs__store_watch_key(HKEY root, const wchar_t *path, const char *shown, void (*cb)(void *arg), void *arg,
                        struct cs_plat_store_watch_s **out, cs_err_t *err);

#endif
