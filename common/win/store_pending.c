/* Windows: a key-less certificate joined to the private key its request left behind in
 * LocalMachine\REQUEST, as certreq -accept does (platform.h: cs_plat_store_pending,
 * which the worker asks; store.h: what store.c's install and undo take from here).
 *
 * certreq -new (and the MMC's "Create Custom Request", and any enrollment whose
 * answer is pending) keep the new key as a property of a placeholder certificate in
 * the REQUEST store: a self-signed certificate with the request's public key and a
 * CERT_KEY_PROV_INFO link to the key. When the issued certificate comes back,
 * certreq -accept finds that entry by public key, puts the issued certificate into
 * the personal store with the entry's key link, and removes the entry (Microsoft's
 * documentation of certreq -accept, and of xenroll's DeleteRequestCert: "the dummy
 * certificate is removed and the keys are added as properties of the issued
 * certificate"). Here the same, in three steps the transaction can undo: the
 * certificate into My with the entry's link (store.c), the entry, serialised with all
 * its properties (CertSerializeCertificateStoreElement, which keeps them for "a later
 * time"), saved into the backup folder, then the entry removed from REQUEST
 * (CertDeleteCertificateFromStore removes the certificate context only, never the key
 * it links to). The undo removes the certificate from My, again never the key, and
 * puts the entry back from what was saved, link included, so that the admin can
 * accept it again; each step is harmless when done before.
 *
 * What only a real Windows server proves: the exact shape of the entries certreq and
 * the MMC leave (which extra properties they carry, their CNG keys in the Microsoft
 * Software Key Storage Provider) and that certreq -accept finds a put-back entry again;
 * the machine key's ACL (the key keeps the one certreq gave it: the grant step then
 * adds the connector's READ). Under Wine the tests plant entries of that shape by hand
 * (a self-signed placeholder with a key link of a PKCS#12 import) in Wine's real
 * registry-backed LocalMachine\REQUEST; its keys are CAPI ones in one shared container
 * (store_key.c). */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "../bindings.h"
#include "../platform.h"

#define ENC CS__STORE_ENC
#define REQ_NAME "LocalMachine\\REQUEST"

int cs_plat_store_pending(const unsigned char *der, size_t len, char tp[41], char *why, size_t why_len, cs_err_t *err) {
  HCERTSTORE req = NULL;
  PCCERT_CONTEXT cert = NULL, c = NULL;
  char one[384], entry_tp[41];
  DWORD e;
  int rc = 0, m;

  tp[0] = '\0';
  cs__store_say(why, why_len, "%s", "");
  if (der == NULL || len == 0 || len > CS__STORE_FILE_MAX ||
      (cert = CertCreateCertificateContext(ENC, der, (DWORD)len)) == NULL)
    return cs_err_set(err, CS_EFORMAT, (long)GetLastError(), "not a certificate");
  /* read only, and only when it exists: looking changes nothing (Windows always has
   * it; a Wine prefix has none until something is put there) */
  req = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                      CERT_SYSTEM_STORE_LOCAL_MACHINE | CERT_STORE_OPEN_EXISTING_FLAG | CERT_STORE_READONLY_FLAG,
                      L"REQUEST");
  if (req == NULL) {
    e = GetLastError();
    if (e != ERROR_FILE_NOT_FOUND && e != ERROR_PATH_NOT_FOUND)
      rc = cs__win_fail(err, e, "cannot open the certificate store " REQ_NAME);
    goto out;
  }
  /* every entry with the certificate's public key (CERT_FIND_PUBLIC_KEY compares the
   * whole SubjectPublicKeyInfo): the first whose linked key opens and is that key */
  while ((c = CertFindCertificateInStore(req, ENC, 0, CERT_FIND_PUBLIC_KEY, &cert->pCertInfo->SubjectPublicKeyInfo,
                                         c)) != NULL) {
    if (!cs__store_tp(c, entry_tp))
      continue;
    if ((m = cs__store_key_own(req, REQ_NAME, c, one, sizeof one, err)) == 1) {
      cs__store_copy(tp, 41, entry_tp);
      rc = 1;
      break;
    }
    if (m < 0) {
      rc = m;
      break;
    }
    if (why_len > 0 && why[0] == '\0')
      cs__store_say(why, why_len, REQ_NAME " holds the request made on this machine for its key (entry %s), but %s",
                    entry_tp, one);
  }
out:
  cs__store_free_ctx(c);
  cs__store_free_ctx(cert);
  cs__store_close(req);
  return rc;
}

/* The manifest's "pending" line (store.c writes it before the entry is touched): an
 * install that joined the certificate to a request's key. */
int cs_plat_store_paired(const char *backup_dir, char *where, size_t len) {
  static const cs__store_field_t f[] = {{"pending", 0, 41}};
  char tp[41];
  int paired = cs__store_fields_read(backup_dir, CS__STORE_MANIFEST, f, 1, tp, sizeof tp, NULL) == CS_OK &&
               cs_thumbprint_valid(tp);
  cs__store_copy(where, len, paired ? REQ_NAME : "");
  return paired;
}

/* ---- install and undo (store.h) ------------------------------------------------------ */

void cs__store_pending_close(cs__store_pending_t *p) {
  free(p->kp);
  cs__store_free_ctx(p->entry);
  cs__store_close(p->req);
  memset(p, 0, sizeof *p);
}

/* The key itself is not opened here (the worker did, as it validated the certificate:
 * a key's provider may block, and this runs in the service): the entry must still be
 * there with a link and the certificate's public key. */
int cs__store_pending_open(const char *tp, PCCERT_CONTEXT leaf, cs__store_pending_t *p, cs_err_t *err) {
  int rc;
  memset(p, 0, sizeof *p);
  if ((rc = cs__store_open(L"REQUEST", "REQUEST", &p->req, err)) != CS_OK)
    return rc;
  if ((p->entry = cs__store_find(p->req, tp)) == NULL || (p->kp = cs__store_key(p->entry)) == NULL) {
    rc = cs_err_set(err, CS_ENOENT, 0,
                    "the request %s whose private key the certificate was to be joined to is %s " REQ_NAME
                    ": accept the certificate with certreq -accept, or drop a PFX file with its private key",
                    tp, p->entry != NULL ? "without a private key in" : "no longer in");
  } else if (!CertComparePublicKeyInfo(ENC, &leaf->pCertInfo->SubjectPublicKeyInfo,
                                       &p->entry->pCertInfo->SubjectPublicKeyInfo)) {
    rc = cs_err_set(err, CS_EINVAL, 0, "the request %s in " REQ_NAME " is not for the certificate's public key", tp);
  }
  if (rc != CS_OK)
    cs__store_pending_close(p);
  return rc;
}

int cs__store_pending_save(const cs__store_pending_t *p, const char *backup_dir, cs_err_t *err) {
  char path[CS__STORE_PATH];
  BYTE *data = NULL;
  DWORD n = 0;
  int rc;
  if (cs__store_join(path, backup_dir, CS__STORE_REQUEST_SAVED) != 0)
    return cs_err_set(err, CS_ETOOBIG, 0, "path too long in %s", backup_dir);
  if (!CertSerializeCertificateStoreElement(p->entry, 0, NULL, &n) || (data = malloc(n)) == NULL ||
      !CertSerializeCertificateStoreElement(p->entry, 0, data, &n))
    rc = data == NULL && n > 0 ? cs_err_set(err, CS_ENOMEM, 0, "out of memory")
                               : cs__win_fail(err, GetLastError(), "cannot save the request's entry of " REQ_NAME);
  else
    rc = cs_plat_write_atomic(path, data, n, 0600, err);
  free(data);
  return rc;
}

int cs__store_pending_take(cs__store_pending_t *p, cs_err_t *err) {
  /* the delete frees the context it is given, also on failure: a copy of ours */
  if (!CertDeleteCertificateFromStore(CertDuplicateCertificateContext(p->entry)))
    return cs__win_fail(err, GetLastError(), "cannot remove the request's entry from " REQ_NAME);
  return cs__store_commit(p->req, "REQUEST", err);
}

int cs__store_pending_restore(const char *backup_dir, const char *tp, cs_err_t *err) {
  HCERTSTORE req = NULL, mem = NULL;
  PCCERT_CONTEXT c = NULL, saved = NULL;
  unsigned char *data = NULL;
  size_t len = 0;
  char saved_tp[41];
  int rc;

  if ((rc = cs__store_open(L"REQUEST", "REQUEST", &req, err)) != CS_OK)
    return rc;
  if ((c = cs__store_find(req, tp)) != NULL) /* never removed, or put back already */
    goto out;
  if ((rc = cs__store_read(backup_dir, CS__STORE_REQUEST_SAVED, &data, &len, err)) != CS_OK)
    goto out;
  /* read into a store of its own first: it must be that entry, with its link */
  mem = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, 0, NULL);
  if (mem == NULL ||
      !CertAddSerializedElementToStore(mem, data, (DWORD)len, CERT_STORE_ADD_NEW, 0,
                                       CERT_STORE_CERTIFICATE_CONTEXT_FLAG, NULL, (const void **)&saved)) {
    rc = cs__win_failf(err, GetLastError(), "%s\\%s is not a saved certificate", backup_dir, CS__STORE_REQUEST_SAVED);
    goto out;
  }
  if (!cs__store_tp(saved, saved_tp) || _stricmp(saved_tp, tp) != 0 || !cs__store_has_key(saved)) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s\\%s does not hold the request %s with its private key link", backup_dir,
                    CS__STORE_REQUEST_SAVED, tp);
    goto out;
  }
  /* added with its properties, the key link among them, in one call: Wine keeps no
   * property set afterwards on a certificate already in a store */
  if (!CertAddCertificateContextToStore(req, saved, CERT_STORE_ADD_NEW, NULL)) {
    rc = cs__win_failf(err, GetLastError(), "cannot put the request %s back into " REQ_NAME, tp);
    goto out;
  }
  rc = cs__store_commit(req, "REQUEST", err);
out:
  cs_plat_free_file(data, len);
  cs__store_free_ctx(saved);
  cs__store_free_ctx(c);
  cs__store_close(mem);
  cs__store_close(req);
  return rc;
}
