/* The machine's trust in a renewed certificate, from Windows' own chain engine
 * (platform.h: cs_plat_machine_chain). Used when [policy] ca_file is empty.
 *
 * Why the chain engine, not the machine's stores loaded into OpenSSL's X509_STORE:
 * "trusted by this machine" is what the chain engine decides, and only it knows all
 * of it: the roots of LocalMachine\Root with those group policy and Active Directory
 * (enterprise) put there, third-party roots (AuthRoot), the machine's intermediates
 * (CA), a certificate the admin distrusted (Disallowed, and Microsoft's own
 * disallowed list), the purposes a root is restricted to, and the roots Windows has
 * not downloaded yet. A copy of the stores would miss the last three: Windows ships
 * with few roots and fetches a public root from Windows Update the first time a chain
 * needs it (Automatic Root Certificates Update), so a copy taken before that says
 * "untrusted" for a certificate every Windows client accepts.
 *
 * A public root not downloaded yet: the engine fetches it (within Windows' own URL
 * retrieval timeouts, about 15 seconds a download) unless group policy turns the automatic update off or the server
 * cannot reach Windows Update; then the chain ends at an untrusted root, the
 * certificate is rejected with that reason, and the admin installs the root into
 * LocalMachine\Root (or sets [policy] ca_file). What the engine does not do here:
 * fetch intermediates named in the certificate (CERT_CHAIN_DISABLE_AIA: the file is
 * untrusted input, and a URL in it must not make LocalSystem connect anywhere), and
 * check revocation (a CA that publishes no reachable CRL would block every renewal;
 * the connector's clients check it). Intermediates come from the file and from
 * LocalMachine\CA.
 *
 * Under Wine the engine is real enough for the tests (tests/integration/win_trust.sh):
 * its LocalMachine\Root holds the host's roots plus what a test adds. Only real
 * Windows proves group policy and enterprise roots, AuthRoot and the automatic root
 * update, and the Disallowed list honoured by the engine itself (this file checks
 * LocalMachine\Disallowed on its own too, which Wine does run). */
#include "../platform.h"
#include "win.h"

#include <wincrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef CERT_CHAIN_DISABLE_AIA
#define CERT_CHAIN_DISABLE_AIA 0x00002000
#endif
#ifndef CERT_TRUST_IS_EXPLICIT_DISTRUST
#define CERT_TRUST_IS_EXPLICIT_DISTRUST 0x04000000
#endif
#ifndef CERT_TRUST_HAS_WEAK_SIGNATURE
#define CERT_TRUST_HAS_WEAK_SIGNATURE 0x00100000
#endif

/* Appends "; text" (or text) to buf. */
static void add(char *buf, size_t len, const char *text) {
  size_t n = strlen(buf);
  if (n + 1 < len)
    snprintf(buf + n, len - n, "%s%s", n ? "; " : "", text);
}

/* What each error bit of a chain's CERT_TRUST_STATUS means, for an admin. */
static const struct {
  DWORD bit;
  const char *text;
} reasons[] = {
    {CERT_TRUST_IS_EXPLICIT_DISTRUST, "a certificate of the chain is distrusted by this machine (Disallowed store)"},
    {CERT_TRUST_IS_UNTRUSTED_ROOT,
     "the chain ends at a root this machine does not trust (install it into LocalMachine\\Root, or set [policy] "
     "ca_file)"},
    {CERT_TRUST_IS_PARTIAL_CHAIN,
     "no issuer found for the last certificate of the chain: add the intermediate certificates to the file or to "
     "LocalMachine\\CA, and the root to LocalMachine\\Root (a public root Windows has not downloaded yet counts "
     "as missing when the server cannot reach Windows Update)"},
    {CERT_TRUST_IS_NOT_TIME_VALID, "a certificate of the chain is not valid now"},
    {CERT_TRUST_IS_NOT_SIGNATURE_VALID, "a signature in the chain does not verify"},
    {CERT_TRUST_IS_REVOKED, "a certificate of the chain is revoked"},
    {CERT_TRUST_IS_NOT_VALID_FOR_USAGE,
     "the chain is not valid for server authentication (a certificate's purposes, or a root restricted to others)"},
    {CERT_TRUST_IS_CYCLIC, "the chain is cyclic"},
    {CERT_TRUST_INVALID_EXTENSION, "a certificate of the chain has an invalid extension"},
    {CERT_TRUST_INVALID_POLICY_CONSTRAINTS, "the chain breaks a policy constraint"},
    {CERT_TRUST_INVALID_BASIC_CONSTRAINTS, "a certificate of the chain is not allowed to issue certificates"},
    {CERT_TRUST_INVALID_NAME_CONSTRAINTS, "the chain breaks a CA's name constraints"},
    {CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT, "a CA's name constraint is of a kind Windows does not support"},
    {CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT, "a name is outside every name constraint a CA defined"},
    {CERT_TRUST_HAS_NOT_PERMITTED_NAME_CONSTRAINT, "a name is not permitted by a CA's name constraints"},
    {CERT_TRUST_HAS_EXCLUDED_NAME_CONSTRAINT, "a name is excluded by a CA's name constraints"},
    {CERT_TRUST_HAS_NOT_SUPPORTED_CRITICAL_EXT, "a certificate of the chain has a critical extension Windows does not "
                                                "support"},
    {CERT_TRUST_HAS_WEAK_SIGNATURE, "a signature in the chain uses a weak algorithm"},
};

/* The reasons for status (a CERT_TRUST_STATUS.dwErrorStatus) into buf, "; "-separated;
 * bits without a text of their own are named by their value. Pure: unit-tested. */
void cs__win_trust_reasons(DWORD status, char *buf, size_t len);
void cs__win_trust_reasons(DWORD status, char *buf, size_t len) {
  char other[64];
  DWORD known = 0;
  size_t i;
  if (len == 0)
    return;
  buf[0] = '\0';
  for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
    known |= reasons[i].bit;
    if (status & reasons[i].bit)
      add(buf, len, reasons[i].text);
  }
  if (status & ~known) {
    snprintf(other, sizeof other, "chain error status 0x%08lx", (unsigned long)(status & ~known));
    add(buf, len, other);
  }
}

static HCERTSTORE open_machine(DWORD location, const wchar_t *name) {
  return CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0,
                       location | CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG, name);
}

/* 1 when the store location\name holds c, 0 when it does not or the store does not
 * exist, -1 when that cannot be told (the store exists but cannot be opened, or the
 * lookup fails other than with "not found"), for a caller that must fail closed. */
static int store_has(DWORD location, const wchar_t *name, PCCERT_CONTEXT c) {
  HCERTSTORE s = open_machine(location, name);
  PCCERT_CONTEXT found;
  int rc;
  if (s == NULL)
    return GetLastError() == ERROR_FILE_NOT_FOUND ? 0 : -1;
  found = CertFindCertificateInStore(s, X509_ASN_ENCODING | PKCS_7_ASN_ENCODING, 0, CERT_FIND_EXISTING, c, NULL);
  rc = found != NULL ? 1 : (DWORD)GetLastError() == (DWORD)CRYPT_E_NOT_FOUND ? 0 : -1;
  if (found != NULL)
    CertFreeCertificateContext(found);
  CertCloseStore(s, 0);
  return rc;
}

/* Where the engine found the root: the most specific of the stores that hold it
 * (LocalMachine\Root shows what group policy and Active Directory put there too). */
static void root_origin(PCCERT_CONTEXT root, char *buf, size_t len) {
  static const struct {
    DWORD location;
    const wchar_t *store;
    const char *name;
  } where[] = {
      {CERT_SYSTEM_STORE_LOCAL_MACHINE_GROUP_POLICY, L"Root", "LocalMachine\\Root (group policy)"},
      {CERT_SYSTEM_STORE_LOCAL_MACHINE_ENTERPRISE, L"Root", "LocalMachine\\Root (enterprise, Active Directory)"},
      {CERT_SYSTEM_STORE_LOCAL_MACHINE, L"Root", "LocalMachine\\Root"},
      {CERT_SYSTEM_STORE_LOCAL_MACHINE, L"AuthRoot", "LocalMachine\\AuthRoot (third-party roots)"},
  };
  size_t i;
  for (i = 0; i < sizeof where / sizeof where[0]; i++)
    if (store_has(where[i].location, where[i].store, root) > 0) {
      snprintf(buf, len, "%s", where[i].name);
      return;
    }
  snprintf(buf, len, "the machine's trusted roots");
}

/* 1 when LocalMachine\Disallowed holds c; -1 (counted as distrust) when that cannot be
 * told; a missing store is empty (as under Wine). */
static int disallowed(PCCERT_CONTEXT c) { return store_has(CERT_SYSTEM_STORE_LOCAL_MACHINE, L"Disallowed", c); }

static FILETIME filetime(time_t t) {
  ULONGLONG v = ((ULONGLONG)t + 11644473600ULL) * 10000000ULL; /* 100 ns since 1601 */
  FILETIME ft;
  ft.dwLowDateTime = (DWORD)v;
  ft.dwHighDateTime = (DWORD)(v >> 32);
  return ft;
}

/* Copies the engine's chain (its first simple chain) into out. */
static int copy_chain(const CERT_SIMPLE_CHAIN *sc, cs_machine_chain_t *out, cs_err_t *err) {
  DWORD i;
  out->der = calloc(sc->cElement ? sc->cElement : 1, sizeof *out->der);
  out->der_len = calloc(sc->cElement ? sc->cElement : 1, sizeof *out->der_len);
  if (out->der == NULL || out->der_len == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  for (i = 0; i < sc->cElement; i++) {
    PCCERT_CONTEXT c = sc->rgpElement[i]->pCertContext;
    if ((out->der[i] = malloc(c->cbCertEncoded)) == NULL)
      return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    memcpy(out->der[i], c->pbCertEncoded, c->cbCertEncoded);
    out->der_len[i] = c->cbCertEncoded;
    out->n = i + 1;
  }
  return CS_OK;
}

int cs_plat_machine_chain(const cs_der_t *leaf, const cs_der_t *extra, size_t n_extra, time_t at,
                          cs_machine_chain_t *out, cs_err_t *err) {
  static char oid_server_auth[] = szOID_PKIX_KP_SERVER_AUTH;
  static LPSTR server_auth[] = {oid_server_auth};
  CERT_CHAIN_PARA para;
  CERT_CHAIN_POLICY_PARA pp;
  CERT_CHAIN_POLICY_STATUS ps;
  HCERTSTORE files = NULL;
  PCCERT_CONTEXT cert = NULL;
  PCCERT_CHAIN_CONTEXT chain = NULL;
  const CERT_SIMPLE_CHAIN *sc;
  FILETIME ft = filetime(at);
  DWORD status, i;
  size_t k;
  int rc, bad = 0;

  memset(out, 0, sizeof *out);
  /* The file's certificates, in memory: candidate intermediates, never trusted. */
  files = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, NULL);
  if (files == NULL) {
    rc = cs__win_fail(err, GetLastError(), "cannot make a certificate store in memory");
    goto out;
  }
  if (!CertAddEncodedCertificateToStore(files, X509_ASN_ENCODING, leaf->p, (DWORD)leaf->len, CERT_STORE_ADD_ALWAYS,
                                        &cert)) {
    rc = cs__win_fail(err, GetLastError(), "Windows cannot read the certificate");
    goto out;
  }
  for (k = 0; k < n_extra; k++) /* one Windows cannot read is simply not a candidate */
    (void)CertAddEncodedCertificateToStore(files, X509_ASN_ENCODING, extra[k].p, (DWORD)extra[k].len,
                                           CERT_STORE_ADD_USE_EXISTING, NULL);

  memset(&para, 0, sizeof para);
  para.cbSize = sizeof para;
  para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
  para.RequestedUsage.Usage.cUsageIdentifier = 1;
  para.RequestedUsage.Usage.rgpszUsageIdentifier = server_auth;
  /* The machine's own engine (LocalMachine's stores, not the caller's profile): a
   * private one would not be the machine's cache and policy, and Wine builds private
   * engines over the current user's stores. */
  if (!CertGetCertificateChain(HCCE_LOCAL_MACHINE, cert, &ft, files, &para, CERT_CHAIN_DISABLE_AIA, NULL, &chain)) {
    rc = cs__win_fail(err, GetLastError(), "the machine's chain engine cannot build a chain");
    goto out;
  }
  if (chain->cChain < 1 || chain->rgpChain[0]->cElement < 1) {
    rc = cs_err_set(err, CS_EFAILED, 0, "the machine's chain engine built an empty chain");
    goto out;
  }
  sc = chain->rgpChain[0];
  if ((rc = copy_chain(sc, out, err)) != CS_OK)
    goto out;

  memset(&pp, 0, sizeof pp);
  pp.cbSize = sizeof pp;
  memset(&ps, 0, sizeof ps);
  ps.cbSize = sizeof ps;
  if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_BASE, chain, &pp, &ps)) {
    rc = cs__win_fail(err, GetLastError(), "the machine's chain policy cannot be checked");
    goto out;
  }
  status = chain->TrustStatus.dwErrorStatus;
  cs__win_trust_reasons(status, out->why, sizeof out->why);
  for (i = 0; i < sc->cElement; i++) {
    int d = disallowed(sc->rgpElement[i]->pCertContext);
    if (d != 0 && !(status & CERT_TRUST_IS_EXPLICIT_DISTRUST) && !bad)
      add(out->why, sizeof out->why,
          d > 0 ? "a certificate of the chain is distrusted by this machine (Disallowed store)"
                : "LocalMachine\\Disallowed cannot be read, so distrust cannot be ruled out");
    if (d != 0)
      bad = 1;
  }
  if (ps.dwError != 0 && out->why[0] == '\0') {
    char text[256];
    add(out->why, sizeof out->why, cs__win_text(ps.dwError, text, sizeof text));
  }
  out->trusted = ps.dwError == 0 && status == CERT_TRUST_NO_ERROR && !bad;
  if (out->trusted)
    root_origin(sc->rgpElement[sc->cElement - 1]->pCertContext, out->root_from, sizeof out->root_from);
  rc = CS_OK;
out:
  if (chain != NULL)
    CertFreeCertificateChain(chain);
  if (cert != NULL)
    CertFreeCertificateContext(cert);
  if (files != NULL)
    CertCloseStore(files, 0);
  return rc;
}
