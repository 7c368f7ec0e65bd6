/* Windows certificate store, the changes (platform.h): LocalMachine\My through crypt32.
 * Install imports the stage's PKCS#12 (common/pfx.h writes it and store.txt) into the
 * machine key set, or binds a key-less certificate to a key already in My: the key of
 * the certificate in service (a renewal that kept its key), or its own (a rollback to
 * a certificate still in My with its key: then nothing is added), or to the key its
 * request left in LocalMachine\REQUEST, as certreq -accept (store_pending.c); the chain
 * goes to LocalMachine\CA. A manifest in backup_dir, written before anything changes, lets
 * the undo work from disk alone, whenever a crash came. Changes are committed with
 * CERT_STORE_CTRL_COMMIT: Wine does not keep a delete without it, and on Windows it
 * is harmless. The look-ups and shared helpers are in store_list.c (store.h). */
#include "store.h"

#include <ncrypt.h>

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../bindings.h"
#include "../config.h"
#include "../platform.h"
#include "../statedir.h"
#include "../text.h"

#define ENC CS__STORE_ENC
#define MAX_CA 16           /* intermediates one install may add */
#define ARCHIVED "cert.cer" /* in an archive folder: the old certificate, DER, never its key */

/* Why a certificate without its key in LocalMachine\My cannot go back in service, and
 * what the admin can do (a rollback that finds it gone or key-less says so). */
#define OWN_KEY_HELP                                                                                                   \
  "it can go back in service only with its own private key, which never leaves the store and of which "                \
  "certsteward keeps no copy ([store] old_certificates = delete removes a replaced certificate from "                  \
  "LocalMachine\\My); to put it back, drop its PFX file (certificate and private key) into the drop folder"

/* backup_dir\manifest: what install is about to change, as "name value" lines. */
typedef struct manifest_s {
  char new_tp[41];
  int existed;          /* new_tp was in My before the install */
  int had_key;          /* ... with a private key: then it is used as it is */
  char old_tp[41];      /* in service at the time; "" none */
  char bound_tp[41];    /* key-less: the certificate whose key it shares; "" otherwise */
  char pending_tp[41];  /* key-less: the REQUEST entry whose key it took (saved first, then
                           removed from REQUEST); "" otherwise */
  char container[128];  /* the key container the PKCS#12 asked for; "" none */
  char ca[MAX_CA * 41]; /* intermediates the install added to CA, space-separated */
} manifest_t;

/* stage_dir\store.txt, as cs_pfx_stage (pfx.h) writes it. */
typedef struct stage_s {
  char pfx[64];        /* the PKCS#12's file name in the stage; "" key-less */
  char password[128];  /* its password (wiped after use) */
  char container[128]; /* the key container name it asks for */
  char keyless[41];    /* key-less: the certificate whose key the new one shares */
  char pending[41];    /* key-less: the REQUEST entry whose key it is joined to */
} stage_t;

#define F(type, name, member, size)                                                                                    \
  { name, offsetof(type, member), size }
static const cs__store_field_t manifest_fields[] = {
    F(manifest_t, "new", new_tp, 41),           F(manifest_t, "existed", existed, 0),
    F(manifest_t, "had_key", had_key, 0),       F(manifest_t, "old", old_tp, 41),
    F(manifest_t, "bound", bound_tp, 41),       F(manifest_t, "pending", pending_tp, 41),
    F(manifest_t, "container", container, 128), F(manifest_t, "ca", ca, MAX_CA * 41)};
static const cs__store_field_t stage_fields[] = {
    F(stage_t, "pfx", pfx, 64), F(stage_t, "password", password, 128), F(stage_t, "container", container, 128),
    F(stage_t, "keyless", keyless, 41), F(stage_t, "pending", pending, 41)};
#define N_FIELDS(a) (sizeof(a) / sizeof(a)[0])
#undef F

/* ---- helpers ------------------------------------------------------------------------ */

static int same_key(const CRYPT_KEY_PROV_INFO *a, const CRYPT_KEY_PROV_INFO *b) {
  return a != NULL && b != NULL && a->dwProvType == b->dwProvType &&
         _wcsicmp(a->pwszProvName ? a->pwszProvName : L"", b->pwszProvName ? b->pwszProvName : L"") == 0 &&
         wcscmp(a->pwszContainerName ? a->pwszContainerName : L"", b->pwszContainerName ? b->pwszContainerName : L"") ==
             0;
}

/* Removes c from its store; c is freed, also on failure. */
static int delete_ctx(PCCERT_CONTEXT c, const char *name, const char *tp, cs_err_t *err) {
  if (CertDeleteCertificateFromStore(c))
    return CS_OK;
  return cs__win_failf(err, GetLastError(), "cannot remove certificate %s from LocalMachine\\%s", tp, name);
}

/* Records rc (its text in e) into err unless an earlier error is there: an undo goes
 * on past a failure and reports the first. */
static void note(int rc, const cs_err_t *e, int *first, cs_err_t *err) {
  if (rc != CS_OK && *first == CS_OK) {
    *first = rc;
    if (err != NULL)
      *err = *e;
  }
}

/* ---- keys ----------------------------------------------------------------------------- */

/* NCryptOpenKey's legacy key spec and the key set flags of a link (kp). The spec
 * is the one the link records: PFXImportCertStore puts an RSA key of a PKCS#12 in as
 * AT_KEYEXCHANGE, also into a CNG provider, and the Microsoft Software Key Storage
 * Provider finds such a key only under that spec (with 0 it answers NTE_BAD_KEYSET
 * and the key file stays); CERT_NCRYPT_KEY_SPEC (or anything else) is no legacy
 * spec: 0. Documented in CRYPT_KEY_PROV_INFO: with dwProvType 0, dwKeySpec is what
 * NCryptOpenKey takes as dwLegacyKeySpec. */
int cs__store_keydel(const CRYPT_KEY_PROV_INFO *kp, cs__store_keydel_t *out) {
  memset(out, 0, sizeof *out);
  if (kp == NULL || kp->pwszContainerName == NULL || kp->pwszContainerName[0] == L'\0')
    return -1; /* CAPI would take the default container */
  out->prov = kp->pwszProvName;
  out->container = kp->pwszContainerName;
  out->type = kp->dwProvType;
  out->cng = kp->dwProvType == 0;
  if (out->cng) {
    out->spec = kp->dwKeySpec == AT_KEYEXCHANGE || kp->dwKeySpec == AT_SIGNATURE ? kp->dwKeySpec : 0;
    out->flags = NCRYPT_SILENT_FLAG | (kp->dwFlags & CRYPT_MACHINE_KEYSET ? NCRYPT_MACHINE_KEY_FLAG : 0);
  } else {
    /* the whole container goes, whatever key specs it holds */
    out->flags = CRYPT_DELETEKEYSET | CRYPT_SILENT | (kp->dwFlags & CRYPT_MACHINE_KEYSET);
  }
  return 0;
}

/* Deletes the key kp links to; one already gone (or a provider that is not there) is
 * not an error. Only real Windows proves that the key file goes: under Wine every
 * PKCS#12 import shares one CAPI container that a machine key set import loses, and
 * NCryptOpenKey answers NTE_NOT_SUPPORTED; test_win_store proves the parameters. */
static int delete_key(const CRYPT_KEY_PROV_INFO *kp, cs_err_t *err) {
  NCRYPT_PROV_HANDLE p = 0;
  NCRYPT_KEY_HANDLE k = 0;
  HCRYPTPROV h = 0;
  cs__store_keydel_t d;
  DWORD e;
  if (cs__store_keydel(kp, &d) != 0)
    return CS_OK;
  if (d.cng) {
    SECURITY_STATUS st = NCryptOpenStorageProvider(&p, d.prov, 0);
    if (st == ERROR_SUCCESS)
      st = NCryptOpenKey(p, &k, d.container, d.spec, d.flags);
    if (st == ERROR_SUCCESS && (st = NCryptDeleteKey(k, NCRYPT_SILENT_FLAG)) == ERROR_SUCCESS)
      k = 0; /* freed by the delete */
    if (k != 0)
      NCryptFreeObject(k);
    if (p != 0)
      NCryptFreeObject(p);
    e = (DWORD)st;
  } else if (CryptAcquireContextW(&h, d.container, d.prov, d.type, d.flags)) {
    e = ERROR_SUCCESS;
  } else {
    e = GetLastError();
  }
  if (e == ERROR_SUCCESS || e == (DWORD)NTE_BAD_KEYSET || e == (DWORD)NTE_BAD_PROVIDER || e == (DWORD)NTE_BAD_PROV_TYPE)
    return CS_OK;
  return cs__win_fail(err, e, "cannot delete the imported private key");
}

/* The container a PKCS#12 of cs_pfx_stage asked for, by its name (unique to one
 * install), wherever Windows put it: after a crash between the key's import and the
 * certificate's add, nothing else leads to it, not even its key spec, so each is
 * tried. Best effort; real Windows only. */
static void delete_named(const char *name) {
  static const DWORD specs[] = {AT_KEYEXCHANGE, AT_SIGNATURE, 0};
  wchar_t csp[] = MS_ENH_RSA_AES_PROV_W, ksp[] = MS_KEY_STORAGE_PROVIDER;
  CRYPT_KEY_PROV_INFO kp;
  size_t i;
  memset(&kp, 0, sizeof kp);
  if ((kp.pwszContainerName = cs__win_wide(name)) == NULL)
    return;
  kp.dwFlags = CRYPT_MACHINE_KEYSET;
  kp.pwszProvName = csp;
  kp.dwProvType = PROV_RSA_AES;
  (void)delete_key(&kp, NULL);
  kp.pwszProvName = ksp;
  kp.dwProvType = 0;
  for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    kp.dwKeySpec = specs[i];
    (void)delete_key(&kp, NULL);
  }
  free(kp.pwszContainerName);
}

/* PFXImportCertStore flags and provider wording for [store] key_provider. default
 * is the certificate import wizard of the MMC into Local Computer: machine key set,
 * key not exportable, no provider flag, so the key goes where the file says, else
 * (RSA) into the Microsoft Enhanced Cryptographic Provider. The wizard's "include all
 * extended properties" (PKCS12_INCLUDE_EXTENDED_PROPERTIES) is left out: it restores
 * properties a Windows export stored in the file, and ours holds none (Wine 8 also
 * refuses the flag). cng and capi name their provider in the file (pfx.h); cng adds
 * PKCS12_PREFER_CNG_KSP, which fails rather than falls back. Where the key lands is
 * proven on real Windows only: Wine accepts these flags and ignores them. */
static DWORD import_flags(const char *provider, const char **desc) {
  if (provider != NULL && _stricmp(provider, "cng") == 0) {
    *desc = "the Microsoft Software Key Storage Provider";
    return CRYPT_MACHINE_KEYSET | PKCS12_PREFER_CNG_KSP;
  }
  if (provider != NULL && _stricmp(provider, "capi") == 0) {
    *desc = "the Microsoft Enhanced RSA and AES Cryptographic Provider";
    return CRYPT_MACHINE_KEYSET;
  }
  *desc = "the provider Windows picks (as the certificate import wizard)";
  return CRYPT_MACHINE_KEYSET;
}

/* ---- install -------------------------------------------------------------------------- */

/* The certificates of PEM text (chain.pem), at most MAX_CA, into out[*n]. */
static int pem_chain(const char *text, PCCERT_CONTEXT *out, size_t *n, cs_err_t *err) {
  static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
  const char *b, *e;
  BYTE *der = NULL;
  DWORD len = 0;
  for (*n = 0; (b = strstr(text, begin)) != NULL; text = e) {
    if ((e = strstr(b, end)) == NULL || *n == MAX_CA)
      return cs_err_set(err, CS_EFORMAT, 0, "the staged chain.pem is truncated or holds over %d certificates", MAX_CA);
    e += sizeof end - 1;
    if (!CryptStringToBinaryA(b, (DWORD)(e - b), CRYPT_STRING_BASE64HEADER, NULL, &len, NULL, NULL) ||
        (der = malloc(len)) == NULL ||
        !CryptStringToBinaryA(b, (DWORD)(e - b), CRYPT_STRING_BASE64HEADER, der, &len, NULL, NULL) ||
        (out[*n] = CertCreateCertificateContext(ENC, der, len)) == NULL) {
      free(der);
      return cs__win_fail(err, GetLastError(), "the staged chain.pem holds something that is not a certificate");
    }
    free(der);
    der = NULL;
    (*n)++;
  }
  return CS_OK;
}

/* "certsteward YYYY-MM-DD" (today, local time) as c's friendly name. */
static int set_friendly(PCCERT_CONTEXT c, cs_err_t *err) {
  wchar_t name[40];
  CRYPT_DATA_BLOB b;
  struct tm tm;
  if (cs_plat_localtime((long long)time(NULL), &tm) != CS_OK)
    return cs_err_set(err, CS_EINVAL, 0, "cannot read the local date");
  swprintf(name, 40, L"certsteward %04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  b.cbData = (DWORD)((wcslen(name) + 1) * sizeof(wchar_t));
  b.pbData = (BYTE *)name;
  if (!CertSetCertificateContextProperty(c, CERT_FRIENDLY_NAME_PROP_ID, 0, &b))
    return cs__win_fail(err, GetLastError(), "cannot set the certificate's friendly name");
  return CS_OK;
}

/* The new certificate into My, linked to its key: imported from the PKCS#12, or
 * (kp not NULL, key-less) the key of the certificate in service or of the request. */
static int add_leaf(const cs_config_t *cfg, const char *stage_dir, const stage_t *st, const manifest_t *m,
                    HCERTSTORE my, PCCERT_CONTEXT leaf, const CRYPT_KEY_PROV_INFO *kp, cs_err_t *err) {
  HCERTSTORE pfx_store = NULL;
  PCCERT_CONTEXT src = NULL, added = NULL;
  CRYPT_DATA_BLOB blob;
  unsigned char *pfx = NULL;
  size_t pfx_len = 0;
  wchar_t *pw = NULL;
  const char *desc;
  char what[256];
  DWORD flags, e;
  int rc;

  if (kp != NULL) {
    src = CertDuplicateCertificateContext(leaf);
  } else {
    flags = import_flags(cfg->store.key_provider, &desc);
    if ((rc = cs__store_read(stage_dir, st->pfx, &pfx, &pfx_len, err)) != CS_OK)
      goto out;
    if ((pw = cs__win_wide(st->password)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    blob.cbData = (DWORD)pfx_len;
    blob.pbData = pfx;
    if ((pfx_store = PFXImportCertStore(&blob, pw, flags)) == NULL) {
      e = GetLastError();
      snprintf(what, sizeof what, "cannot import the private key into %s ([store] key_provider = %s)", desc,
               cfg->store.key_provider ? cfg->store.key_provider : "default");
      rc = e != ERROR_SUCCESS ? cs__win_fail(err, e, what)
                              : cs_err_set(err, CS_EFAILED, 0, "%s: the system gave no reason", what);
      goto out;
    }
    if ((src = cs__store_find(pfx_store, m->new_tp)) == NULL || !cs__store_has_key(src)) {
      rc = cs_err_set(err, CS_EFORMAT, 0, "%s\\%s does not hold certificate %s with its private key", stage_dir,
                      st->pfx, m->new_tp);
      goto out;
    }
  }
  /* One there without a key goes first (its DER is in the backup for the undo): Wine
   * does not keep the key link of a CERT_STORE_ADD_REPLACE_EXISTING. */
  if (m->existed && (added = cs__store_find(my, m->new_tp)) != NULL) {
    rc = delete_ctx(added, "My", m->new_tp, err);
    added = NULL;
    if (rc != CS_OK)
      goto out;
  }
  if (src == NULL || !CertAddCertificateContextToStore(my, src, CERT_STORE_ADD_NEW, &added)) {
    rc = cs__win_fail(err, GetLastError(), "cannot add the certificate to LocalMachine\\My");
    goto out;
  }
  /* Properties go on the context the add returned: Wine forgets those set through
   * another handle of a certificate already in the store. */
  if (kp != NULL && !CertSetCertificateContextProperty(added, CERT_KEY_PROV_INFO_PROP_ID, 0, kp)) {
    rc = cs__win_fail(err, GetLastError(), "cannot link the certificate to its private key");
    goto out;
  }
  rc = set_friendly(added, err);
out:
  cs__store_free_ctx(added);
  cs__store_free_ctx(src);
  cs__store_close(pfx_store);
  if (pw != NULL)
    SecureZeroMemory(pw, wcslen(pw) * sizeof *pw);
  free(pw);
  cs_plat_free_file(pfx, pfx_len);
  return rc;
}

int cs_plat_store_install(const cs_config_t *cfg, const char *stage_dir, const char *backup_dir, cs_err_t *err) {
  manifest_t m;
  stage_t st;
  cs__store_pending_t pend = {NULL, NULL, NULL};
  cs_buf_t text = CS_BUF_INIT;
  HCERTSTORE my = NULL, ca = NULL;
  PCCERT_CONTEXT leaf = NULL, have = NULL, bound = NULL, c, chain[MAX_CA];
  CRYPT_KEY_PROV_INFO *kp = NULL;
  unsigned char *der = NULL, *pem = NULL;
  size_t der_len = 0, pem_len = 0, n_chain = 0, i;
  char tp[41], path[CS__STORE_PATH], manifest[CS__STORE_PATH];
  int rc;

  memset(&m, 0, sizeof m);
  /* 1. everything needed, read and checked before anything changes */
  if ((rc = cs__store_fields_read(stage_dir, CS_PFX_INFO_FILE, stage_fields, N_FIELDS(stage_fields), &st, sizeof st,
                                  err)) != CS_OK ||
      (rc = cs__store_read(stage_dir, CS_STAGE_LEAF_DER, &der, &der_len, err)) != CS_OK ||
      (rc = cs__store_read(stage_dir, CS_STAGE_CHAIN, &pem, &pem_len, err)) != CS_OK ||
      (rc = pem_chain((const char *)pem, chain, &n_chain, err)) != CS_OK)
    goto out;
  if ((st.pfx[0] != '\0') + (st.keyless[0] != '\0') + (st.pending[0] != '\0') != 1 || strpbrk(st.pfx, "\\/:") != NULL) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s\\%s names not exactly one of a PKCS#12, a key to keep, a request to join",
                    stage_dir, CS_PFX_INFO_FILE);
    goto out;
  }
  if ((leaf = CertCreateCertificateContext(ENC, der, (DWORD)der_len)) == NULL || !cs__store_tp(leaf, m.new_tp)) {
    rc = cs__win_fail(err, GetLastError(), "the staged leaf.der is not a certificate");
    goto out;
  }
  if ((rc = cs__store_open(L"My", "My", &my, err)) != CS_OK || (rc = cs__store_open(L"CA", "CA", &ca, err)) != CS_OK ||
      (rc = cs__store_in_service(cfg, m.old_tp, err)) != CS_OK)
    goto out;
  have = cs__store_find(my, m.new_tp);
  m.existed = have != NULL;
  m.had_key = cs__store_has_key(have);
  if (st.keyless[0]) {
    cs__store_copy(m.bound_tp, sizeof m.bound_tp, st.keyless);
    cs_thumbprint_upper(m.bound_tp);
    if ((bound = cs__store_find(my, m.bound_tp)) == NULL || (kp = cs__store_key(bound)) == NULL) {
      if (strcmp(m.bound_tp, m.new_tp) == 0) /* its own key: a rollback (cs_pfx_stage) */
        rc = cs_err_set(err, CS_ENOENT, 0, "certificate %s is %s: %s", m.new_tp,
                        bound ? "in LocalMachine\\My without its private key" : "no longer in LocalMachine\\My",
                        OWN_KEY_HELP);
      else
        rc = cs_err_set(err, CS_ENOENT, 0,
                        "the renewal keeps the key of certificate %s, which is not in "
                        "LocalMachine\\My with a private key",
                        m.bound_tp);
      goto out;
    }
    if (!CertComparePublicKeyInfo(ENC, &leaf->pCertInfo->SubjectPublicKeyInfo,
                                  &bound->pCertInfo->SubjectPublicKeyInfo)) {
      rc = cs_err_set(err, CS_EINVAL, 0, "certificate %s does not have the public key of %s, whose key it would share",
                      m.new_tp, m.bound_tp);
      goto out;
    }
  } else if (st.pending[0] && !m.had_key) { /* in My with its key already: used as it is */
    cs__store_copy(m.pending_tp, sizeof m.pending_tp, st.pending);
    cs_thumbprint_upper(m.pending_tp);
    if ((rc = cs__store_pending_open(m.pending_tp, leaf, &pend, err)) != CS_OK)
      goto out;
    if ((kp = malloc(sizeof *kp)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    *kp = *pend.kp; /* its strings stay pend's: freed after kp */
  }
  cs__store_copy(m.container, sizeof m.container, kp != NULL ? "" : st.container);
  for (i = 0; i < n_chain; i++) {
    c = NULL;
    if (cs__store_tp(chain[i], tp) && strstr(m.ca, tp) == NULL && (c = cs__store_find(ca, tp)) == NULL)
      snprintf(m.ca + strlen(m.ca), sizeof m.ca - strlen(m.ca), "%s%s", m.ca[0] ? " " : "", tp);
    cs__store_free_ctx(c);
  }
  /* 2. the manifest, and the certificate's DER (to put one back that was there
   * without a key): from here on, the undo knows what to take back */
  cs_buf_printf(&text, "new %s\nexisted %d\nhad_key %d\nold %s\nbound %s\npending %s\ncontainer %s\nca %s\n", m.new_tp,
                m.existed, m.had_key, m.old_tp[0] ? m.old_tp : "-", m.bound_tp[0] ? m.bound_tp : "-",
                m.pending_tp[0] ? m.pending_tp : "-", m.container[0] ? m.container : "-", m.ca[0] ? m.ca : "-");
  if (cs__store_join(path, backup_dir, "leaf.cer") != 0 ||
      cs__store_join(manifest, backup_dir, CS__STORE_MANIFEST) != 0 || text.oom) {
    rc = cs_err_set(err, text.oom ? CS_ENOMEM : CS_ETOOBIG, 0, "cannot write the store manifest in %s", backup_dir);
    goto out;
  }
  if ((rc = cs_plat_mkdirs(backup_dir, 0700, err)) != CS_OK ||
      (rc = cs_plat_write_atomic(path, der, der_len, 0600, err)) != CS_OK ||
      (m.pending_tp[0] && (rc = cs__store_pending_save(&pend, backup_dir, err)) != CS_OK) ||
      (rc = cs_plat_write_atomic(manifest, text.p, text.len, 0600, err)) != CS_OK)
    goto out;
  /* 3. the certificate with its key; one in My with its key already is used as it is
   * (a rollback's: nothing added, so the undo removes nothing). That the key behind the
   * link is still there and still its own, only real Windows proves: under Wine every
   * PKCS#12 import shares one key container, so a later import replaced it. */
  if (!m.had_key && (rc = add_leaf(cfg, stage_dir, &st, &m, my, leaf, kp, err)) != CS_OK)
    goto out;
  /* 4. the intermediates CA did not have */
  for (i = 0; i < n_chain; i++)
    if (cs__store_tp(chain[i], tp) && strstr(m.ca, tp) != NULL &&
        !CertAddCertificateContextToStore(ca, chain[i], CERT_STORE_ADD_NEW, NULL) &&
        GetLastError() != (DWORD)CRYPT_E_EXISTS) {
      rc = cs__win_fail(err, GetLastError(), "cannot add an intermediate certificate to LocalMachine\\CA");
      goto out;
    }
  if ((rc = cs__store_commit(my, "My", err)) == CS_OK && (rc = cs__store_commit(ca, "CA", err)) == CS_OK &&
      m.pending_tp[0]) /* 5. the request's entry goes, as certreq -accept removes it: saved in step 2 */
    rc = cs__store_pending_take(&pend, err);
out:
  SecureZeroMemory(st.password, sizeof st.password);
  for (i = 0; i < n_chain; i++)
    cs__store_free_ctx(chain[i]);
  free(kp);
  cs__store_pending_close(&pend);
  cs__store_free_ctx(bound);
  cs__store_free_ctx(have);
  cs__store_free_ctx(leaf);
  cs__store_close(ca);
  cs__store_close(my);
  cs_buf_free(&text);
  cs_plat_free_file(der, der_len);
  cs_plat_free_file(pem, pem_len);
  return rc;
}

/* ---- undo, archive -------------------------------------------------------------------- */

/* Adds the certificate install saved (backup_dir\leaf.cer) to My, with no key. */
static int restore_keyless(HCERTSTORE my, const char *backup_dir, cs_err_t *err) {
  unsigned char *der = NULL;
  size_t len = 0;
  int rc = cs__store_read(backup_dir, "leaf.cer", &der, &len, err);
  if (rc == CS_OK && !CertAddEncodedCertificateToStore(my, ENC, der, (DWORD)len, CERT_STORE_ADD_USE_EXISTING, NULL))
    rc = cs__win_fail(err, GetLastError(), "cannot put the certificate back into LocalMachine\\My");
  cs_plat_free_file(der, len);
  return rc;
}

/* The manifest of backup_dir; CS_ENOENT (err untouched) when install changed nothing. */
static int manifest_read(const char *backup_dir, manifest_t *m, cs_err_t *err) {
  cs_err_t why;
  int rc = cs__store_fields_read(backup_dir, CS__STORE_MANIFEST, manifest_fields, N_FIELDS(manifest_fields), m,
                                 sizeof *m, &why);
  if (rc == CS_OK && !cs_thumbprint_valid(m->new_tp))
    return cs_err_set(err, CS_EFORMAT, 0, "malformed store manifest in %s", backup_dir);
  if (rc != CS_OK && rc != CS_ENOENT && err != NULL)
    *err = why;
  return rc;
}

int cs_plat_store_undo(const cs_config_t *cfg, const char *backup_dir, cs_err_t *err) {
  manifest_t m;
  HCERTSTORE my = NULL, ca = NULL;
  PCCERT_CONTEXT c = NULL, old = NULL;
  CRYPT_KEY_PROV_INFO *kp = NULL, *old_kp = NULL;
  char tp[41], *p;
  cs_err_t e;
  int rc, first = CS_OK;

  (void)cfg;
  if ((rc = manifest_read(backup_dir, &m, err)) != CS_OK) /* none: install changed nothing */
    return rc == CS_ENOENT ? CS_OK : rc;
  if ((rc = cs__store_open(L"My", "My", &my, err)) != CS_OK || (rc = cs__store_open(L"CA", "CA", &ca, err)) != CS_OK) {
    first = rc;
    goto out;
  }
  if (!m.had_key) { /* else it was in My with its key before, and nothing of it changed */
    kp = cs__store_key(c = cs__store_find(my, m.new_tp));
    if (kp != NULL && !m.bound_tp[0] && !m.pending_tp[0]) {
      /* its imported key, unless that is the key in service (proven on real Windows only) */
      if (m.old_tp[0] && strcmp(m.old_tp, m.new_tp) != 0)
        old_kp = cs__store_key(old = cs__store_find(my, m.old_tp));
      if (!same_key(kp, old_kp))
        note(delete_key(kp, &e), &e, &first, err);
    } else if (kp == NULL && !m.bound_tp[0] && m.container[0]) {
      delete_named(m.container); /* imported, never linked: a crash came in between */
    }
    /* the request's entry back with its key link (the key never left) before the
     * certificate goes: when it cannot come back, the certificate stays, so that
     * something in the store still leads to the key */
    if (m.pending_tp[0] && (rc = cs__store_pending_restore(backup_dir, m.pending_tp, &e)) != CS_OK) {
      note(rc, &e, &first, err);
    } else {
      if (c != NULL)
        note(delete_ctx(c, "My", m.new_tp, &e), &e, &first, err);
      c = NULL;
      if (m.existed) /* it was there without a key: so it is again */
        note(restore_keyless(my, backup_dir, &e), &e, &first, err);
    }
  }
  for (p = m.ca; strlen(p) >= 40; p += p[40] ? 41 : 40) {
    PCCERT_CONTEXT x;
    cs__store_copy(tp, sizeof tp, p);
    if ((x = cs__store_find(ca, tp)) != NULL)
      note(delete_ctx(x, "CA", tp, &e), &e, &first, err);
  }
  note(cs__store_commit(my, "My", &e), &e, &first, err);
  note(cs__store_commit(ca, "CA", &e), &e, &first, err);
out:
  free(kp);
  free(old_kp);
  cs__store_free_ctx(old);
  cs__store_free_ctx(c);
  cs__store_close(ca);
  cs__store_close(my);
  return first;
}

/* The old certificate (DER, never its key) into archive_dir\cert.cer, then out of
 * My unless [store] old_certificates = keep. Its key container stays: a deleted key
 * cannot come back, and a key-less renewal goes on using it. Again after a crash: a
 * certificate already archived and gone is fine. */
int cs_plat_store_archive(const cs_config_t *cfg, const char *backup_dir, const char *archive_dir, cs_err_t *err) {
  int keep = cfg->store.old_certificates == NULL || _stricmp(cfg->store.old_certificates, "delete") != 0;
  manifest_t m;
  HCERTSTORE my = NULL;
  PCCERT_CONTEXT c = NULL;
  char path[CS__STORE_PATH];
  int rc;

  if ((rc = manifest_read(backup_dir, &m, err)) != CS_OK)
    return rc == CS_ENOENT ? CS_OK : rc;
  if (!m.old_tp[0] || strcmp(m.old_tp, m.new_tp) == 0) /* nothing was in service before */
    return CS_OK;
  if (cs__store_join(path, archive_dir, ARCHIVED) != 0)
    return cs_err_set(err, CS_ETOOBIG, 0, "archive folder path too long");
  if ((rc = cs__store_open(L"My", "My", &my, err)) != CS_OK)
    return rc;
  if ((c = cs__store_find(my, m.old_tp)) == NULL) {
    rc = cs_plat_exists(path)
             ? CS_OK
             : cs_err_set(err, CS_ENOENT, 0, "the old certificate %s is no longer in LocalMachine\\My", m.old_tp);
  } else if ((rc = cs_plat_mkdirs(archive_dir, 0700, err)) == CS_OK &&
             (rc = cs_plat_write_atomic(path, c->pbCertEncoded, c->cbCertEncoded, 0644, err)) == CS_OK && !keep) {
    rc = delete_ctx(c, "My", m.old_tp, err);
    c = NULL;
    if (rc == CS_OK)
      rc = cs__store_commit(my, "My", err);
  }
  cs__store_free_ctx(c);
  cs__store_close(my);
  return rc;
}
