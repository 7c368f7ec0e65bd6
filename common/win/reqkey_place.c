/* Windows: the request key's placeholder in LocalMachine\REQUEST (platform.h:
 * cs_plat_reqkey_place), as certreq -new leaves one: a self-signed certificate with the
 * key's public half (csr.c: cs_csr_placeholder) whose CERT_KEY_PROV_INFO names the CNG
 * key ("certsteward-<name>", Microsoft Software Key Storage Provider, a machine key).
 * The certificate the CA issues is then joined with its key the way a certificate
 * dropped for any pending request is (store_pending.c): by public key, whoever brings
 * it (certsteward's CA helper, or an admin dropping the .cer of a manual request), the
 * transaction putting it into LocalMachine\My with the key link and taking the
 * placeholder out, its rollback putting the placeholder back.
 *
 * Under Wine, crypt32 keeps the placeholder and the property set on the context
 * CertAddEncodedCertificateToStore returns (windows-on-linux.md); the CNG key it names
 * lives in memory only (reqkey.c), so the join's key check is real Windows' to prove. */
#include "reqkey.h"

#include <stdlib.h>
#include <string.h>

#include "../csr.h"
#include "store.h"
#include "win.h"

#define REQ_W L"REQUEST"
#define REQ_NAME "REQUEST"

/* 1 when c's key link names the CNG machine key wname of the Software KSP */
static int links_to(PCCERT_CONTEXT c, const wchar_t *wname) {
  DWORD n = 0;
  CRYPT_KEY_PROV_INFO *kp;
  int same = 0;
  if (!CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n) || n < sizeof *kp ||
      (kp = malloc(n)) == NULL)
    return 0;
  if (CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, kp, &n) && kp->pwszContainerName != NULL &&
      kp->pwszProvName != NULL)
    same = CompareStringOrdinal(kp->pwszContainerName, -1, wname, -1, TRUE) == CSTR_EQUAL &&
           CompareStringOrdinal(kp->pwszProvName, -1, MS_KEY_STORAGE_PROVIDER, -1, TRUE) == CSTR_EQUAL;
  free(kp);
  return same;
}

int cs_plat_reqkey_place(const cs_config_t *cfg, cs_plat_reqkey_t *k, const char *host, cs_err_t *err) {
  unsigned char *der = NULL;
  size_t len = 0;
  HCERTSTORE req = NULL;
  PCCERT_CONTEXT added = NULL;
  CRYPT_KEY_PROV_INFO kp;
  CRYPT_DATA_BLOB friendly;
  wchar_t *wname = NULL;
  wchar_t label[] = L"certsteward: a certificate request waiting for its certificate";
  wchar_t prov[] = MS_KEY_STORAGE_PROVIDER; /* the API's fields are not const */
  int rc;

  (void)cfg;
  if ((rc = cs_csr_placeholder(host, k, &der, &len, err)) != CS_OK)
    return rc;
  if ((wname = cs__win_wide(cs_plat_reqkey_where(k))) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if ((rc = cs__store_open(REQ_W, REQ_NAME, &req, err)) != CS_OK)
    goto out;
  if (!CertAddEncodedCertificateToStore(req, X509_ASN_ENCODING, der, (DWORD)len, CERT_STORE_ADD_NEW, &added)) {
    rc = cs__win_failf(err, GetLastError(), "cannot put the request's placeholder into LocalMachine\\REQUEST");
    goto out;
  }
  memset(&kp, 0, sizeof kp);
  kp.pwszContainerName = wname;
  kp.pwszProvName = prov;
  kp.dwProvType = 0; /* CNG */
  kp.dwFlags = NCRYPT_MACHINE_KEY_FLAG;
  friendly.pbData = (BYTE *)label; /* wchar_t[] to its bytes */
  friendly.cbData = sizeof label;
  /* set on the context the add returned: the property is stored with the certificate */
  if (!CertSetCertificateContextProperty(added, CERT_KEY_PROV_INFO_PROP_ID, 0, &kp) ||
      !CertSetCertificateContextProperty(added, CERT_FRIENDLY_NAME_PROP_ID, 0, &friendly)) {
    rc = cs__win_failf(err, GetLastError(), "cannot link the request's placeholder to its key");
    cs_err_t ignored;
    (void)CertDeleteCertificateFromStore(CertDuplicateCertificateContext(added)); /* no placeholder without its key */
    (void)cs__store_commit(req, REQ_NAME, &ignored);
    goto out;
  }
  rc = cs__store_commit(req, REQ_NAME, err);
out:
  if (added != NULL)
    CertFreeCertificateContext(added);
  if (req != NULL)
    CertCloseStore(req, 0);
  free(wname);
  free(der);
  return rc;
}

int cs__win_reqkey_unplace(const char *where, cs_err_t *err) {
  HCERTSTORE req = NULL;
  PCCERT_CONTEXT c = NULL;
  wchar_t *wname = cs__win_wide(where);
  int rc, removed = 0;

  if (wname == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if ((rc = cs__store_open(REQ_W, REQ_NAME, &req, err)) != CS_OK) {
    free(wname);
    return rc;
  }
  /* the enumeration starts again after each removal: a context taken out of the store
   * is no place to go on from */
  for (;;) {
    while ((c = CertEnumCertificatesInStore(req, c)) != NULL && !links_to(c, wname))
      ;
    if (c == NULL)
      break;
    /* the delete frees the context it is given, whatever it returns */
    if (!CertDeleteCertificateFromStore(c)) {
      rc = cs__win_failf(err, GetLastError(), "cannot remove the placeholder of %s from LocalMachine\\REQUEST", where);
      break;
    }
    c = NULL;
    removed++;
  }
  if (rc == CS_OK && removed > 0)
    rc = cs__store_commit(req, REQ_NAME, err);
  CertCloseStore(req, 0);
  free(wname);
  return rc;
}

int cs__win_reqkey_in_use(const char *where, int *in_use, cs_err_t *err) {
  HCERTSTORE my = NULL;
  PCCERT_CONTEXT c = NULL;
  wchar_t *wname = cs__win_wide(where);
  int rc;

  *in_use = 1; /* fails closed: a key that may be in use is never deleted */
  if (wname == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if ((rc = cs__store_open(L"My", "My", &my, err)) == CS_OK) {
    while ((c = CertEnumCertificatesInStore(my, c)) != NULL && !links_to(c, wname))
      ;
    *in_use = c != NULL;
    if (c != NULL)
      CertFreeCertificateContext(c);
    CertCloseStore(my, 0);
  }
  free(wname);
  return rc;
}
