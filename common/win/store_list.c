/* Windows certificate store, the look-ups (platform.h): the certificate in service,
 * the key reference, the listing of LocalMachine\My; and the helpers the other parts
 * use (store.h). store.c holds install, undo and archive. */
#include "store.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../bindings.h"
#include "../platform.h"
#include "../statedir.h"
#include "../text.h"

/* ---- helpers (store.h) -------------------------------------------------------------- */

void cs__store_say(char *why, size_t len, const char *fmt, ...) {
  va_list ap;
  if (len == 0)
    return;
  va_start(ap, fmt);
  vsnprintf(why, len, fmt, ap);
  va_end(ap);
}

int cs__store_join(char out[CS__STORE_PATH], const char *dir, const char *name) {
  return cs_plat_path_join(out, CS__STORE_PATH, dir, name) == CS_OK ? 0 : -1;
}

int cs__store_read(const char *dir, const char *name, unsigned char **data, size_t *len, cs_err_t *err) {
  char path[CS__STORE_PATH];
  if (cs__store_join(path, dir, name) != 0)
    return cs_err_set(err, CS_ETOOBIG, 0, "path too long in %s", dir);
  return cs_plat_read_file(path, CS__STORE_FILE_MAX, 0, data, len, err);
}

int cs__store_fields_read(const char *dir, const char *name, const cs__store_field_t *f, size_t nf, void *obj,
                          size_t size, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0, i;
  char *p, *line, *v;
  int rc = cs__store_read(dir, name, &data, &len, err);
  memset(obj, 0, size);
  if (rc != CS_OK)
    return rc;
  for (p = (char *)data; *p;) {
    line = p;
    p += strcspn(p, "\n");
    if (*p)
      *p++ = '\0';
    line[strcspn(line, "\r")] = '\0';
    if ((v = strchr(line, ' ')) == NULL)
      continue;
    *v++ = '\0';
    for (i = 0; i < nf; i++) {
      char *dst = (char *)obj + f[i].off;
      if (strcmp(line, f[i].name) != 0)
        continue;
      if (f[i].size == 0)
        *(int *)(void *)dst = strcmp(v, "1") == 0;
      else
        cs__store_copy(dst, f[i].size, strcmp(v, "-") == 0 ? "" : v);
    }
  }
  cs_plat_free_file(data, len); /* wiped: store.txt holds a password */
  return CS_OK;
}

PCCERT_CONTEXT cs__store_find(HCERTSTORE s, const char *tp) {
#define HEX(c) ((c) <= '9' ? (c) - '0' : ((c) | 0x20) - 'a' + 10) /* of a valid hex digit */
  BYTE h[20];
  CRYPT_HASH_BLOB b = {sizeof h, h};
  int i;
  if (!cs_thumbprint_valid(tp))
    return NULL;
  for (i = 0; i < 20; i++)
    h[i] = (BYTE)(HEX(tp[2 * i]) << 4 | HEX(tp[2 * i + 1]));
  return CertFindCertificateInStore(s, CS__STORE_ENC, 0, CERT_FIND_SHA1_HASH, &b, NULL);
#undef HEX
}

/* The SHA-1 hash property prop of c (the certificate's own, or the one a link names)
 * as upper-case hex into tp; 0 and "" when c has none or it is not 20 bytes. */
static int hash_prop(PCCERT_CONTEXT c, DWORD prop, char tp[41]) {
  BYTE h[20];
  DWORD n = sizeof h, i;
  tp[0] = '\0';
  if (!CertGetCertificateContextProperty(c, prop, h, &n) || n != sizeof h)
    return 0;
  for (i = 0; i < n; i++)
    snprintf(tp + 2 * i, 3, "%02X", h[i]);
  return 1;
}

int cs__store_tp(PCCERT_CONTEXT c, char tp[41]) { return hash_prop(c, CERT_SHA1_HASH_PROP_ID, tp); }

CRYPT_KEY_PROV_INFO *cs__store_key(PCCERT_CONTEXT c) {
  CRYPT_KEY_PROV_INFO *p = NULL;
  DWORD n = 0;
  if (c != NULL && CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n) &&
      (p = malloc(n)) != NULL && !CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, p, &n)) {
    free(p);
    p = NULL;
  }
  return p;
}

/* Wine: its crypt32 opens a machine key among the user's keys and fails (store_key.c).
 * Told by ntdll's wine_get_version, which Windows never exports. */
static int under_wine(void) {
  HMODULE nt = GetModuleHandleW(L"ntdll.dll");
  return nt != NULL && GetProcAddress(nt, "wine_get_version") != NULL;
}

int cs__store_wine_key(PCCERT_CONTEXT c, HCRYPTPROV_OR_NCRYPT_KEY_HANDLE *h, DWORD *spec) {
  CRYPT_KEY_PROV_INFO *kp = NULL;
  HCRYPTPROV prov = 0;
  if (!under_wine())
    return 0;
  if ((kp = cs__store_key(c)) != NULL && CryptAcquireContextW(&prov, kp->pwszContainerName, kp->pwszProvName,
                                                              kp->dwProvType, CRYPT_MACHINE_KEYSET | CRYPT_SILENT)) {
    *h = prov;
    /* Wine's PFX import writes a key type of 0 into the link: an imported key is an
     * exchange key unless the link says it signs only */
    *spec = kp->dwKeySpec == AT_SIGNATURE ? AT_SIGNATURE : AT_KEYEXCHANGE;
  }
  free(kp);
  return prov != 0;
}

int cs__store_has_key(PCCERT_CONTEXT c) {
  DWORD n = 0;
  return c != NULL && CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n);
}

int cs__store_open(const wchar_t *wname, const char *name, HCERTSTORE *s, cs_err_t *err) {
  if ((*s = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CS__STORE_OPEN, wname)) != NULL)
    return CS_OK;
  return cs__win_failf(err, GetLastError(), "cannot open the certificate store LocalMachine\\%s", name);
}

int cs__store_commit(HCERTSTORE s, const char *name, cs_err_t *err) {
  if (CertControlStore(s, 0, CERT_STORE_CTRL_COMMIT, NULL))
    return CS_OK;
  return cs__win_failf(err, GetLastError(), "cannot save the changes to LocalMachine\\%s", name);
}

int cs__store_in_service(const cs_config_t *cfg, char tp[41], cs_err_t *err) {
  const cs_strlist_t *files = &cfg->connector.binding_files;
  cs_bindings_scan_t scan;
  cs_err_t why;
  int rc;
  tp[0] = '\0';
  if (cfg->connector.thumbprint != NULL) {
    if (!cs_thumbprint_valid(cfg->connector.thumbprint))
      return cs_err_set(err, CS_ECONFIG, 0, "[connector] thumbprint is not 40 hex digits");
    cs__store_copy(tp, 41, cfg->connector.thumbprint);
    cs_thumbprint_upper(tp);
    return CS_OK;
  }
  if (files->n == 0)
    return CS_OK;
  if ((rc = cs_bindings_scan((const char *const *)files->v, files->n, &scan, err)) != CS_OK)
    return rc;
  rc = cs_bindings_current(&scan, tp, &why);
  cs_bindings_scan_free(&scan);
  if (rc == CS_ENOENT) /* the binding files name no certificate yet */
    tp[0] = '\0';
  else if (rc != CS_OK && err != NULL)
    *err = why;
  return rc == CS_ENOENT ? CS_OK : rc;
}

/* ---- what is in service, what is in the store ----------------------------------------- */

int cs_plat_store_current(const cs_config_t *cfg, char *cert_path, size_t cert_len, char *key_path, size_t key_len,
                          cs_err_t *err) {
  HCERTSTORE my = NULL;
  PCCERT_CONTEXT c = NULL;
  char tp[41], path[CS__STORE_PATH];
  int rc;

  cs__store_copy(cert_path, cert_len, "");
  cs__store_copy(key_path, key_len, ""); /* machine keys are not exportable: the worker compares public keys */
  if ((rc = cs__store_in_service(cfg, tp, err)) != CS_OK || !tp[0])
    return rc;
  if (cfg->store.state_dir == NULL || cs__store_join(path, cfg->store.state_dir, CS_STATE_CURRENT_CER) != 0 ||
      strlen(path) >= cert_len)
    return cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is not set or too long");
  if ((rc = cs__store_open(L"My", "My", &my, err)) != CS_OK)
    return rc;
  if ((c = cs__store_find(my, tp)) == NULL)
    /* a value the binding files hold is not said: one moved there may be no thumbprint */
    rc = cfg->connector.thumbprint != NULL
             ? cs_err_set(err, CS_ENOENT, 0, "the certificate in service, %s, is not in LocalMachine\\My", tp)
             : cs_err_set(err, CS_ENOENT, 0,
                          "the certificate the binding files name is not in LocalMachine\\My (certsteward status "
                          "shows the thumbprint they hold)");
  else if ((rc = cs_plat_mkdirs(cfg->store.state_dir, 0700, err)) == CS_OK &&
           (rc = cs_plat_write_atomic(path, c->pbCertEncoded, c->cbCertEncoded, 0644, err)) == CS_OK)
    cs__store_copy(cert_path, cert_len, path);
  cs__store_free_ctx(c);
  cs__store_close(my);
  return rc;
}

const char *cs_plat_store_name(const cs_config_t *cfg) {
  (void)cfg;
  return "LocalMachine\\My";
}

int cs_plat_store_key_ref(const cs_config_t *cfg, const char *thumbprint, char *buf, size_t len) {
  (void)cfg;
  if (!cs_thumbprint_valid(thumbprint))
    return CS_EINVAL;
  if (len < 41)
    return CS_ETOOBIG;
  cs__store_copy(buf, len, thumbprint);
  cs_thumbprint_upper(buf);
  return CS_OK;
}

/* c's subject (CN first, as RFC 2253) or, with friendly, its friendly name, in UTF-8
 * (new, free()); NULL when it has none. */
static char *text_of(PCCERT_CONTEXT c, int friendly) {
  const DWORD type = CERT_X500_NAME_STR | CERT_NAME_STR_REVERSE_FLAG;
  DWORD n = 0;
  BOOL ok;
  wchar_t *w;
  char *s = NULL;
  if (friendly)
    ok = CertGetCertificateContextProperty(c, CERT_FRIENDLY_NAME_PROP_ID, NULL, &n);
  else
    ok = (n = CertNameToStrW(CS__STORE_ENC, &c->pCertInfo->Subject, type, NULL, 0) * (DWORD)sizeof *w) > sizeof *w;
  if (!ok || (w = calloc(1, n + sizeof *w)) == NULL) /* one unit more: terminated either way */
    return NULL;
  if (friendly ? CertGetCertificateContextProperty(c, CERT_FRIENDLY_NAME_PROP_ID, w, &n)
               : CertNameToStrW(CS__STORE_ENC, &c->pCertInfo->Subject, type, w, n / (DWORD)sizeof *w) > 1)
    s = cs__win_utf8(w);
  free(w);
  return s;
}

/* Whether the store's own properties leave TLS server use to c: no
 * CERT_ENHKEY_USAGE_PROP_ID (the certificate's extension alone decides, which the worker
 * judges), or one that names server authentication. An empty list is the MMC's "Disable
 * all purposes"; CertGetEnhancedKeyUsage then reports no usages with
 * CRYPT_E_NOT_FOUND. */
static int server_auth_allowed(PCCERT_CONTEXT c) {
  CERT_ENHKEY_USAGE *u = NULL;
  DWORD n = 0, i;
  int ok = 0;
  if (!CertGetCertificateContextProperty(c, CERT_ENHKEY_USAGE_PROP_ID, NULL, &n))
    return 1;
  if ((u = malloc(n)) != NULL && CertGetEnhancedKeyUsage(c, CERT_FIND_PROP_ONLY_ENHKEY_USAGE_FLAG, u, &n))
    for (i = 0; i < u->cUsageIdentifier; i++)
      if (strcmp(u->rgpszUsageIdentifier[i], szOID_PKIX_KP_SERVER_AUTH) == 0)
        ok = 1;
  free(u);
  return ok;
}

int cs_plat_store_list(const cs_config_t *cfg, cs_plat_cert_t **certs, size_t *n, cs_err_t *err) {
  HCERTSTORE my;
  PCCERT_CONTEXT c = NULL;
  cs_plat_cert_t *v = NULL, *grown;
  ULARGE_INTEGER t;
  size_t cap = 0, k = 0;
  int rc;

  (void)cfg;
  *certs = NULL;
  *n = 0;
  if ((rc = cs__store_open(L"My", "My", &my, err)) != CS_OK)
    return rc;
  while ((c = CertEnumCertificatesInStore(my, c)) != NULL) {
    if (k == cap) {
      cap = cap ? cap * 2 : 8;
      if ((grown = realloc(v, sizeof *v * cap)) == NULL) {
        CertFreeCertificateContext(c);
        rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
        break;
      }
      v = grown;
    }
    memset(&v[k], 0, sizeof v[k]);
    (void)cs__store_tp(c, v[k].tp);
    v[k].subject = text_of(c, 0);
    v[k].friendly = text_of(c, 1);
    t.LowPart = c->pCertInfo->NotAfter.dwLowDateTime;
    t.HighPart = c->pCertInfo->NotAfter.dwHighDateTime;
    v[k].not_after = (long long)(t.QuadPart / 10000000u) - 11644473600LL; /* 1601 -> 1970 */
    t.LowPart = c->pCertInfo->NotBefore.dwLowDateTime;
    t.HighPart = c->pCertInfo->NotBefore.dwHighDateTime;
    v[k].not_before = (long long)(t.QuadPart / 10000000u) - 11644473600LL;
    v[k].has_key = cs__store_has_key(c);
    v[k].archived = CertGetCertificateContextProperty(c, CERT_ARCHIVED_PROP_ID, NULL, &(DWORD){0});
    v[k].no_server_auth = !server_auth_allowed(c);
    /* The renewal link (CERT_RENEWAL_PROP_ID): the SHA-1 hash of the certificate that
     * renewed this one, which the enrollment process (certenroll: autoenrollment, a
     * renewal request installed with certreq -accept or the MMC's renewal wizard) puts
     * on the OLD certificate in the personal store once the new one is issued. Larger
     * than 20 bytes: the call fails (ERROR_MORE_DATA); any other size is no SHA-1
     * hash. Both read as no link. */
    (void)hash_prop(c, CERT_RENEWAL_PROP_ID, v[k++].renewal);
  }
  CertCloseStore(my, 0);
  if (rc != CS_OK) {
    cs_plat_store_list_free(v, k);
    return rc;
  }
  *certs = v;
  *n = k;
  return CS_OK;
}
