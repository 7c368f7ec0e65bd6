/* Windows half of the request keys (platform.h): a named machine key of the Microsoft
 * Software Key Storage Provider, "certsteward-<name>", made where it will be used so it
 * is never moved: not exportable (NCRYPT_EXPORT_POLICY_PROPERTY 0), and its security
 * descriptor (SYSTEM and Administrators full control, the connector's account READ) set
 * with NCryptSetProperty(NCRYPT_SECURITY_DESCR_PROPERTY) before NCryptFinalizeKey, so the
 * key never exists with the provider's default rules and needs no grant later. The
 * public half comes out as a BCRYPT_*PUBLIC_BLOB (cngblob.c turns it into an EVP_PKEY);
 * signatures come from NCryptSignHash over a SHA-256 digest made here.
 *
 * Measured under Wine 8 (test_csr): NCryptCreatePersistedKey, NCryptSetProperty,
 * NCryptFinalizeKey, NCryptExportKey(BCRYPT_RSAPUBLIC_BLOB) and NCryptSignHash work for
 * RSA, in memory only; an ECDSA P-256 key is refused (NTE_NOT_SUPPORTED); NCryptOpenKey
 * answers NTE_NOT_SUPPORTED for every name, so nothing is persisted, opened or deleted;
 * a second key of a name already made is created (Windows: NTE_EXISTS); the export
 * policy and the security descriptor are kept on the handle (read back as set) and
 * enforced nowhere: the private blob still exports. Only a real Windows server proves
 * that the key persists under its name in the machine's key store, that it cannot be
 * exported, that its DACL is the one set here from the start, that an existing key is
 * never overwritten (no NCRYPT_OVERWRITE_KEY_FLAG) and that open and delete find it. */
#include "reqkey.h"

#include <bcrypt.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../cngblob.h"
#include "../csr.h"
#include "keyacl.h"
#include "win.h"

#define BLOB_MAX 2048

struct cs_plat_reqkey_s {
  NCRYPT_PROV_HANDLE prov;
  NCRYPT_KEY_HANDLE key;
  EVP_PKEY *pub;
  cs_keykind_t kind;
  char where[sizeof CS_REQKEY_CNG_PREFIX + CS_REQKEY_NAME_MAX];
};

void cs_plat_reqkey_free(cs_plat_reqkey_t *k) {
  if (k == NULL)
    return;
  if (k->key != 0)
    NCryptFreeObject(k->key);
  if (k->prov != 0)
    NCryptFreeObject(k->prov);
  EVP_PKEY_free(k->pub);
  free(k);
}

EVP_PKEY *cs_plat_reqkey_public(cs_plat_reqkey_t *k) { return k != NULL ? k->pub : NULL; }
cs_keykind_t cs_plat_reqkey_kind(cs_plat_reqkey_t *k) { return k->kind; }
const char *cs_plat_reqkey_where(cs_plat_reqkey_t *k) { return k != NULL ? k->where : ""; }
NCRYPT_KEY_HANDLE cs__win_reqkey_handle(cs_plat_reqkey_t *k) { return k != NULL ? k->key : 0; }

/* A SECURITY_STATUS into err: "what (key): the system's text". */
static int ncrypt_fail(cs_err_t *err, SECURITY_STATUS st, const char *what, const char *where) {
  char text[256];
  int code = st == NTE_NO_MEMORY ? CS_ENOMEM : st == NTE_EXISTS ? CS_EEXIST : st == NTE_BAD_KEYSET ? CS_ENOENT : CS_EIO;
  return cs_err_set(err, code, (long)st, "%s %s: %s", what, where, cs__win_text((DWORD)st, text, sizeof text));
}

int cs__win_reqkey_account(const cs_config_t *cfg, PSID *sid, cs_err_t *err) {
  *sid = NULL;
  if (cfg != NULL && cfg->connector.account != NULL && cfg->connector.account[0] != '\0')
    return cs__win_account_sid(cfg->connector.account, sid, err);
  if (cfg != NULL && cfg->connector.service != NULL && cfg->connector.service[0] != '\0')
    return cs__win_service_sid(cfg->connector.service, sid, err);
  return CS_OK;
}

int cs__win_reqkey_sd(PSID account, PSECURITY_DESCRIPTOR *sd, DWORD *len, cs_err_t *err) {
  /* GA: full control; GR: READ as certlm.msc's "Manage Private Keys... > Read" writes it */
  char sddl[256], sid[192];
  ULONG n = 0;
  *sd = NULL;
  *len = 0;
  snprintf(sddl, sizeof sddl, "D:P(A;;GA;;;SY)(A;;GA;;;BA)%s%s%s", account != NULL ? "(A;;GR;;;" : "",
           account != NULL ? cs__win_sid_text(account, sid, sizeof sid) : "", account != NULL ? ")" : "");
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, sd, &n))
    return cs__win_failf(err, GetLastError(), "cannot make the request key's security descriptor (%s)", sddl);
  *len = n;
  return CS_OK;
}

/* The key's public half and kind from its exported public blob. */
static int read_public(cs_plat_reqkey_t *k, const wchar_t *blob_type, cs_err_t *err) {
  unsigned char blob[BLOB_MAX];
  DWORD n = 0;
  SECURITY_STATUS st = NCryptExportKey(k->key, 0, blob_type, NULL, blob, sizeof blob, &n, NCRYPT_SILENT_FLAG);
  int rc;
  if (st != ERROR_SUCCESS)
    return ncrypt_fail(err, st, "cannot read the public half of", k->where);
  if ((rc = cs_cng_blob_to_pkey(blob, n, &k->pub, err)) != CS_OK)
    return rc;
  return cs_keykind_of(k->pub, &k->kind, err);
}

/* A handle on the provider, named for name (*wname: that name in UTF-16, free()); NULL
 * with *rc and err set when it cannot be had. */
static cs_plat_reqkey_t *new_handle(const char *name, wchar_t **wname, int *rc, cs_err_t *err) {
  cs_plat_reqkey_t *k;
  SECURITY_STATUS st;

  *wname = NULL;
  if ((*rc = cs_reqkey_name_check(name, err)) != CS_OK)
    return NULL;
  if ((k = calloc(1, sizeof *k)) == NULL) {
    *rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    return NULL;
  }
  snprintf(k->where, sizeof k->where, "%s%s", CS_REQKEY_CNG_PREFIX, name);
  if ((*wname = cs__win_wide(k->where)) == NULL) {
    free(k);
    *rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    return NULL;
  }
  if ((st = NCryptOpenStorageProvider(&k->prov, MS_KEY_STORAGE_PROVIDER, 0)) != ERROR_SUCCESS) {
    k->prov = 0;
    *rc = ncrypt_fail(err, st, "cannot open the Microsoft Software Key Storage Provider for", k->where);
    cs_plat_reqkey_free(k);
    free(*wname);
    *wname = NULL;
    return NULL;
  }
  *rc = CS_OK;
  return k;
}

int cs_plat_reqkey_make(const cs_config_t *cfg, const char *name, cs_keykind_t kind, cs_plat_reqkey_t **out,
                        cs_err_t *err) {
  cs_plat_reqkey_t *k = NULL;
  wchar_t *wname = NULL;
  PSID account = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD sd_len = 0, bits = kind == CS_KEYKIND_RSA3072 ? 3072 : 2048, policy = 0;
  SECURITY_STATUS st;
  int rc, finalized = 0, ec = kind == CS_KEYKIND_EC_P256;

  *out = NULL;
  if ((unsigned)kind > CS_KEYKIND_EC_P256)
    return cs_err_set(err, CS_EINVAL, 0, "no such kind of request key (%d)", (int)kind);
  if ((k = new_handle(name, &wname, &rc, err)) == NULL)
    return rc;
  if ((rc = cs__win_reqkey_account(cfg, &account, err)) != CS_OK ||
      (rc = cs__win_reqkey_sd(account, &sd, &sd_len, err)) != CS_OK)
    goto out;
  /* no NCRYPT_OVERWRITE_KEY_FLAG: a key of that name already there is NTE_EXISTS */
  st = NCryptCreatePersistedKey(k->prov, &k->key, ec ? BCRYPT_ECDSA_P256_ALGORITHM : BCRYPT_RSA_ALGORITHM, wname, 0,
                                NCRYPT_MACHINE_KEY_FLAG);
  if (st != ERROR_SUCCESS) {
    k->key = 0;
    rc = ncrypt_fail(err, st, st == NTE_EXISTS ? "a request key already exists, never overwritten:" : "cannot create",
                     k->where);
    goto out;
  }
  if (!ec && (st = NCryptSetProperty(k->key, NCRYPT_LENGTH_PROPERTY, (PBYTE)&bits, sizeof bits, NCRYPT_SILENT_FLAG)) !=
                 ERROR_SUCCESS) {
    rc = ncrypt_fail(err, st, "cannot set the length of", k->where);
    goto out;
  }
  if ((st = NCryptSetProperty(k->key, NCRYPT_EXPORT_POLICY_PROPERTY, (PBYTE)&policy, sizeof policy,
                              NCRYPT_PERSIST_FLAG | NCRYPT_SILENT_FLAG)) != ERROR_SUCCESS) {
    rc = ncrypt_fail(err, st, "cannot make non-exportable", k->where);
    goto out;
  }
  /* the rules before the key exists on disk: never a moment with the provider's defaults */
  if ((st = NCryptSetProperty(k->key, NCRYPT_SECURITY_DESCR_PROPERTY, (PBYTE)sd, sd_len,
                              DACL_SECURITY_INFORMATION | NCRYPT_SILENT_FLAG)) != ERROR_SUCCESS) {
    rc = ncrypt_fail(err, st, "cannot set who may use", k->where);
    goto out;
  }
  if ((st = NCryptFinalizeKey(k->key, NCRYPT_SILENT_FLAG)) != ERROR_SUCCESS) {
    rc = ncrypt_fail(err, st, "cannot make", k->where);
    goto out;
  }
  finalized = 1;
  if ((rc = read_public(k, ec ? BCRYPT_ECCPUBLIC_BLOB : BCRYPT_RSAPUBLIC_BLOB, err)) != CS_OK)
    goto out;
  if (k->kind != kind)
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s was made as %s but is %s", k->where, cs_keykind_name(kind),
                    cs_keykind_name(k->kind));
out:
  if (rc != CS_OK && finalized && NCryptDeleteKey(k->key, NCRYPT_SILENT_FLAG) == ERROR_SUCCESS)
    k->key = 0; /* NCryptDeleteKey freed the handle */
  if (rc != CS_OK)
    cs_plat_reqkey_free(k);
  else
    *out = k;
  LocalFree(sd);
  free(account);
  free(wname);
  return rc;
}

/* Opens the key name; NULL with *rc and err set when it cannot (CS_ENOENT: none). */
static cs_plat_reqkey_t *open_key(const char *name, int *rc, cs_err_t *err) {
  cs_plat_reqkey_t *k;
  wchar_t *wname = NULL;
  SECURITY_STATUS st;

  if ((k = new_handle(name, &wname, rc, err)) == NULL)
    return NULL;
  st = NCryptOpenKey(k->prov, &k->key, wname, 0, NCRYPT_MACHINE_KEY_FLAG | NCRYPT_SILENT_FLAG);
  free(wname);
  if (st != ERROR_SUCCESS) {
    k->key = 0;
    *rc = ncrypt_fail(err, st, st == NTE_BAD_KEYSET ? "there is no request key" : "cannot open", k->where);
    cs_plat_reqkey_free(k);
    return NULL;
  }
  return k;
}

int cs_plat_reqkey_open(const cs_config_t *cfg, const char *name, cs_plat_reqkey_t **out, cs_err_t *err) {
  cs_plat_reqkey_t *k = NULL;
  int rc;
  DWORD n = 0;
  wchar_t alg[32] = L"";

  *out = NULL;
  if ((k = open_key(name, &rc, err)) == NULL)
    return rc;
  if (NCryptGetProperty(k->key, NCRYPT_ALGORITHM_GROUP_PROPERTY, (PBYTE)alg, sizeof alg - sizeof alg[0], &n,
                        NCRYPT_SILENT_FLAG) != ERROR_SUCCESS)
    alg[0] = L'\0';
  rc = read_public(k, wcscmp(alg, NCRYPT_ECDSA_ALGORITHM_GROUP) == 0 ? BCRYPT_ECCPUBLIC_BLOB : BCRYPT_RSAPUBLIC_BLOB,
                   err);
  if (rc != CS_OK)
    cs_plat_reqkey_free(k);
  else
    *out = k;
  return rc;
}

int cs_plat_reqkey_sign(cs_plat_reqkey_t *k, const void *data, size_t len, unsigned char **sig, size_t *sig_len,
                        cs_err_t *err) {
  unsigned char hash[32], *raw = NULL;
  unsigned int hn = 0;
  BCRYPT_PKCS1_PADDING_INFO pad = {BCRYPT_SHA256_ALGORITHM};
  int rsa = k->kind != CS_KEYKIND_EC_P256, rc = CS_OK;
  DWORD n = 0;
  SECURITY_STATUS st;

  *sig = NULL;
  *sig_len = 0;
  if (EVP_Digest(data, len, hash, &hn, EVP_sha256(), NULL) != 1 || hn != sizeof hash)
    return cs_err_set(err, CS_ECRYPTO, 0, "cannot hash what %s is to sign", k->where);
  /* the size first, then the signature; ECDSA's is r || s, which X.509 wants as DER */
  st = NCryptSignHash(k->key, rsa ? &pad : NULL, hash, sizeof hash, NULL, 0, &n,
                      (rsa ? BCRYPT_PAD_PKCS1 : 0) | NCRYPT_SILENT_FLAG);
  if (st == ERROR_SUCCESS && (raw = malloc(n ? n : 1)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (st == ERROR_SUCCESS)
    st = NCryptSignHash(k->key, rsa ? &pad : NULL, hash, sizeof hash, raw, n, &n,
                        (rsa ? BCRYPT_PAD_PKCS1 : 0) | NCRYPT_SILENT_FLAG);
  if (st != ERROR_SUCCESS)
    rc = ncrypt_fail(err, st, "cannot sign with", k->where);
  else if (rsa) {
    *sig = raw;
    *sig_len = n;
    raw = NULL;
  } else
    rc = cs_cng_ecdsa_der(raw, n, sig, sig_len, err);
  free(raw);
  return rc;
}

int cs_plat_reqkey_delete(const cs_config_t *cfg, const char *name, cs_err_t *err) {
  cs_plat_reqkey_t *k;
  SECURITY_STATUS st;
  char where[sizeof CS_REQKEY_CNG_PREFIX + CS_REQKEY_NAME_MAX];
  int rc = CS_OK;

  (void)cfg;
  if ((rc = cs_reqkey_name_check(name, err)) != CS_OK)
    return rc;
  snprintf(where, sizeof where, "%s%s", CS_REQKEY_CNG_PREFIX, name);
  if ((rc = cs__win_reqkey_unplace(where, err)) != CS_OK) /* no placeholder left naming a key that is gone */
    return rc;
  {
    int in_use = 1;
    if ((rc = cs__win_reqkey_in_use(where, &in_use, err)) != CS_OK)
      return rc;
    if (in_use)
      return CS_OK; /* a certificate in LocalMachine\My is bound to it: it is that certificate's key now */
  }
  if ((k = open_key(name, &rc, err)) == NULL) {
    if (rc != CS_ENOENT)
      return rc;
    cs_err_clear(err); /* gone already: done */
    return CS_OK;
  }
  if ((st = NCryptDeleteKey(k->key, NCRYPT_SILENT_FLAG)) == ERROR_SUCCESS)
    k->key = 0; /* freed by the delete */
  else
    rc = ncrypt_fail(err, st, "cannot delete", k->where);
  cs_plat_reqkey_free(k);
  return rc;
}
