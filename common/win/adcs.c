/* Windows half of the CA enrollment API (platform.h: cs_plat_adcs_call): certcli's
 * CCertRequest, as certreq uses it, in the calling process (certsteward-worker adcs:
 * run unconfined as LocalSystem, so that DCOM authenticates to the CA as this
 * computer's account, and bounded by the worker's time limit). What the calls answer
 * becomes a CA helper's answer through adcs.c's pure cs_adcs_answer.
 *
 * Written from Microsoft's documentation (ICertRequest::Submit, RetrievePending,
 * GetLastStatus, GetRequestId, GetDispositionMessage, GetCertificate,
 * ICertRequest2::GetCAProperty, GetErrorMessageText, ICertRequest3::SetCredential).
 * Wine 8 has no certcli.dll: CoCreateInstance answers REGDB_E_CLASSNOTREG there, which
 * is all the tests under Wine see (the route says the API is not available). Only a
 * real Windows server with AD CS proves the rest: Submit, RetrievePending and
 * GetCertificate against a CA, DCOM's authentication as the computer account (the
 * process asks COM for packet privacy, which MS-WCCE 2.1 specifies for the protocol,
 * rather than the registry's default level: CoInitializeSecurity below), a
 * template's Read and Enroll permissions, a CA manager's approval of a pending request,
 * and an enrollment web service reached with Kerberos in the machine's context. */
#define COBJMACROS
#include <windows.h>

#include <certcli.h>
#include <certsrv.h> /* PROPTYPE_STRING (GetCAProperty) */
#include <objbase.h>
#include <oleauto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../adcs.h"
#include "../platform.h"
#include "win.h"

/* certcli.h declares these; mingw-w64 defines them in no library (libuuid.a and
 * libcertcli.a hold none), so they are defined here with the values of certcli.idl
 * (Windows SDK) that Microsoft's documentation names: the CCertRequest coclass and the
 * ICertRequest2 and ICertRequest3 interfaces (learn.microsoft.com, certcli.h). */
static const CLSID cs__clsid_cert_request = {
    0x98aff3f0, 0x5524, 0x11d0, {0x88, 0x12, 0x00, 0xa0, 0xc9, 0x03, 0xb8, 0x3c}};
static const IID cs__iid_cert_request2 = {0xa4772988, 0x4a85, 0x4fa9, {0x82, 0x4e, 0xb5, 0xcf, 0x5c, 0x16, 0x40, 0x5a}};
static const IID cs__iid_cert_request3 = {0xafc8f92b, 0x33a2, 0x4861, {0xbf, 0x36, 0x29, 0x33, 0xb7, 0xcd, 0x67, 0xb3}};

/* mingw-w64's certcli.h stops at ICertRequest2: ICertRequest3 (Windows 7 / Server 2008
 * R2 and later) is ICertRequest2's vtable followed by SetCredential, GetRequestIdString,
 * GetIssuedCertificate2 and GetRefreshPolicy (certcli.h of the Windows SDK); only the
 * first is called here */
typedef struct cs__cert_request3_vtbl_s {
  ICertRequest2Vtbl base;
  HRESULT(WINAPI *SetCredential)(void *This, LONG hWnd, LONG AuthType, BSTR strCredential, BSTR strPassword);
} cs__cert_request3_vtbl_t;
typedef struct cs__cert_request3_s {
  const cs__cert_request3_vtbl_t *lpVtbl;
} cs__cert_request3_t;

/* X509EnrollmentAuthFlags' X509AuthKerberos (certenroll.h of the Windows SDK; the
 * enumeration ICertRequest3::SetCredential takes) */
#define CS__X509_AUTH_KERBEROS 2
/* ICertRequest::Submit's CR_IN_MACHINE, "use the context of the key service computer"
 * (certcli.h of the Windows SDK: 0x100000; mingw-w64's lacks it) */
#define CS__CR_IN_MACHINE 0x100000

/* The HRESULT as text: the CA's own words for its codes (GetErrorMessageText knows the
 * CERTSRV_E_ ones), else the system's (new, free()), or NULL */
static char *hr_text(ICertRequest2 *req, HRESULT hr) {
  wchar_t msg[512];
  BSTR text = NULL;
  char *out = NULL;
  DWORD n;
  if (req != NULL && SUCCEEDED(ICertRequest2_GetErrorMessageText(req, hr, 0, &text)) && text != NULL) {
    out = cs__win_utf8(text);
    SysFreeString(text);
    return out;
  }
  n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK, NULL,
                     (DWORD)hr, MAKELANGID(LANG_NEUTRAL, SUBLANG_DEFAULT), msg, 512, NULL);
  while (n > 0 && (msg[n - 1] == L' ' || msg[n - 1] == L'\r' || msg[n - 1] == L'\n'))
    msg[--n] = L'\0';
  return n > 0 ? cs__win_utf8(msg) : NULL;
}

/* A new BSTR of the UTF-8 text s (SysFreeString), NULL when out of memory or not UTF-8 */
static BSTR bstr_of(const char *s) {
  wchar_t *w = cs__win_wide(s != NULL ? s : "");
  BSTR b = w != NULL ? SysAllocString(w) : NULL;
  free(w);
  return b;
}

/* An enrollment web service: Kerberos, which as LocalSystem is this computer's account
 * (SetCredential must come before Submit) */
static HRESULT web_service_credential(ICertRequest2 *req) {
  cs__cert_request3_t *r3 = NULL;
  HRESULT hr = ICertRequest2_QueryInterface(req, &cs__iid_cert_request3, (void **)&r3);
  if (FAILED(hr))
    return hr;
  hr = r3->lpVtbl->SetCredential(r3, 0, CS__X509_AUTH_KERBEROS, NULL, NULL);
  r3->lpVtbl->base.Release((ICertRequest2 *)r3);
  return hr;
}

int cs_plat_adcs_call(int op, const char *ca_config, const char *csr_pem, const char *attributes, long request_id,
                      struct cs_ca_answer_s *ans, cs_err_t *err) {
  ICertRequest2 *req = NULL;
  BSTR config = NULL, request = NULL, attrs = NULL, cert = NULL, disp_msg = NULL;
  VARIANT name;
  cs_adcs_outcome_t o;
  char why[400], *message = NULL, *text = NULL, *ca_name = NULL;
  HRESULT hr, init;
  LONG disp = 0, id = 0, status = 0, flags;
  int rc = CS_OK, url = cs_adcs_config_is_url(ca_config);

  VariantInit(&name);
  memset(&o, 0, sizeof o);
  o.op = (cs_ca_op_t)op;
  o.request_id = op == CS_CA_OP_POLL ? request_id : 0;
  if (cs_adcs_config_check(ca_config, why, sizeof why) != 0)
    return cs_err_set(err, CS_ECONFIG, 0, "%s", why);
  if (op != CS_CA_OP_SUBMIT && op != CS_CA_OP_POLL && op != CS_CA_OP_IDENTIFY)
    return cs_err_set(err, CS_EINVAL, 0, "the CA enrollment API is asked to submit, poll or identify only");
  /* apartment-threaded, as Microsoft's examples of these interfaces are: this thread
   * is the worker process's only one */
  init = CoInitializeEx(NULL, COINIT_APARTMENTTHREADED);
  if (FAILED(init))
    return cs_err_set(err, CS_EFAILED, (long)init, "COM could not be initialised (0x%08lX)", (unsigned long)init);
  /* The process's COM security, once, before any interface is used (else COM takes the
   * registry's defaults, whose LegacyAuthenticationLevel is CONNECT): calls signed and
   * encrypted (packet privacy, what MS-WCCE 2.1 specifies), the CA may identify this
   * machine but not act as it. RPC_E_TOO_LATE: set already in this process. */
  hr = CoInitializeSecurity(NULL, -1, NULL, NULL, RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_IMP_LEVEL_IDENTIFY, NULL,
                            EOAC_NONE, NULL);
  if (FAILED(hr) && hr != RPC_E_TOO_LATE) {
    CoUninitialize();
    return cs_err_set(err, CS_EFAILED, (long)hr, "COM's security could not be set (0x%08lX)", (unsigned long)hr);
  }
  hr = CoCreateInstance(&cs__clsid_cert_request, NULL, CLSCTX_INPROC_SERVER, &cs__iid_cert_request2, (void **)&req);
  if (FAILED(hr))
    goto answer;
  if ((config = bstr_of(ca_config)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if (url && FAILED(hr = web_service_credential(req)))
    goto answer;
  if (op == CS_CA_OP_IDENTIFY) {
    /* the CA's name: answered by the CA without any request (CR_PROP_CANAME) */
    hr = ICertRequest2_GetCAProperty(req, config, CR_PROP_CANAME, 0, PROPTYPE_STRING, 0, &name);
    if (SUCCEEDED(hr) && V_VT(&name) == VT_BSTR && V_BSTR(&name) != NULL)
      o.ca_name = ca_name = cs__win_utf8(V_BSTR(&name));
    goto answer;
  }
  if (op == CS_CA_OP_SUBMIT) {
    if ((request = bstr_of(csr_pem)) == NULL || (attrs = bstr_of(attributes)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    /* the PEM request as the worker wrote it (with its BEGIN/END lines); the machine's
     * context for an enrollment web service */
    flags = CR_IN_BASE64HEADER | CR_IN_PKCS10 | (url ? CS__CR_IN_MACHINE : 0);
    hr = ICertRequest2_Submit(req, flags, request, attrs, config, &disp);
  } else {
    hr = ICertRequest2_RetrievePending(req, request_id, config, &disp);
  }
  if (FAILED(hr))
    goto answer;
  o.disposition = disp;
  /* the code behind a disposition that is not "issued" (GetLastStatus: "some server
   * failures, such as denied requests, return S_OK and a disposition") */
  if (SUCCEEDED(ICertRequest2_GetLastStatus(req, &status)))
    o.status = (unsigned long)status;
  if (SUCCEEDED(ICertRequest2_GetRequestId(req, &id)) && id > 0)
    o.request_id = id;
  if (SUCCEEDED(ICertRequest2_GetDispositionMessage(req, &disp_msg)) && disp_msg != NULL)
    o.message = message = cs__win_utf8(disp_msg);
  if (disp == CR_DISP_ISSUED) {
    /* the certificate with its chain as a binary PKCS#7, which the worker's join reads
     * (load.c); a binary BSTR holds bytes, its length SysStringByteLen */
    HRESULT got = ICertRequest2_GetCertificate(req, CR_OUT_BINARY | CR_OUT_CHAIN, &cert);
    if (SUCCEEDED(got) && cert != NULL) {
      o.cert = (const unsigned char *)cert;
      o.cert_len = SysStringByteLen(cert);
    } else {
      o.cert_hr = (unsigned long)got;
    }
  }
answer:
  o.hr = FAILED(hr) ? (unsigned long)hr : 0;
  if (o.hr != 0)
    o.hr_text = text = hr_text(req, hr);
  rc = cs_adcs_answer(&o, ans, err);
out:
  SysFreeString(config); /* NULL: nothing */
  SysFreeString(request);
  SysFreeString(attrs);
  SysFreeString(cert);
  SysFreeString(disp_msg);
  VariantClear(&name);
  if (req != NULL)
    ICertRequest2_Release(req);
  free(message);
  free(text);
  free(ca_name);
  CoUninitialize(); /* S_FALSE (COM was initialised already) is undone too */
  return rc;
}
