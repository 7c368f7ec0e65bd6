/* [request] route = adcs: Active Directory Certificate Services through Windows' own CA
 * enrollment API (certcli's CCertRequest: ICertRequest2::Submit, RetrievePending,
 * GetCertificate), answering what a CA helper answers (ca_command.h's cs_ca_answer_t),
 * so that the rest of the request's life (request_flow.c) is the same for both routes.
 * This file is the pure half, built and tested on every platform: the configuration
 * string's check, the request's attributes, the cookie (the CA's request id), and the
 * decision that turns the API's HRESULTs and dispositions into an answer. The COM calls
 * are common/win/adcs.c's (platform.h: cs_plat_adcs_call), run in certsteward-worker
 * (`certsteward-worker adcs`, not confined: the machine account authenticates to the
 * CA), so that a DCOM call that hangs is bounded by the worker's time limit. */
#ifndef CS_ADCS_H
#define CS_ADCS_H

#include <stddef.h>

#include "ca_command.h"
#include "error.h"

/* What MS-WCCE allows for a CA's name on the wire (pwszAuthority, range 1 to 1536),
 * with the host in front of it */
#define CS_ADCS_CONFIG_MAX 2048

/* CR_DISP_* of certcli.h (ICertRequest::Submit, RetrievePending: learn.microsoft.com,
 * "ICertRequest::Submit method"), here so that the mapping is tested on every build */
enum {
  CS_ADCS_DISP_INCOMPLETE = 0,
  CS_ADCS_DISP_ERROR = 1,
  CS_ADCS_DISP_DENIED = 2,
  CS_ADCS_DISP_ISSUED = 3,
  CS_ADCS_DISP_ISSUED_OUT_OF_BAND = 4,
  CS_ADCS_DISP_UNDER_SUBMISSION = 5,
  CS_ADCS_DISP_REVOKED = 6
};

/* What one run of the API gave (common/win/adcs.c fills it; the tests make it up) */
typedef struct cs_adcs_outcome_s {
  cs_ca_op_t op;
  unsigned long hr;          /* the HRESULT of Submit / RetrievePending / GetCAProperty (0: S_OK),
                                or of what came before it (CoCreateInstance) */
  const char *hr_text;       /* that HRESULT as Windows says it (FormatMessage), or NULL */
  long disposition;          /* CR_DISP_* when hr is 0 */
  unsigned long status;      /* GetLastStatus: the CA's code behind the disposition (0: none) */
  const char *message;       /* GetDispositionMessage (UTF-8), or NULL */
  long request_id;           /* GetRequestId, or the id polled; 0: none */
  const unsigned char *cert; /* ISSUED: GetCertificate's bytes (PKCS#7 with the chain), or NULL */
  size_t cert_len;
  unsigned long cert_hr; /* GetCertificate's HRESULT when cert is NULL */
  const char *ca_name;   /* IDENTIFY: the CA's name (GetCAProperty CR_PROP_CANAME), or NULL */
} cs_adcs_outcome_t;

/* 0 when config names a CA as certutil does, "host\CA Name", or is the https:// URL of
 * a certificate enrollment web service; else CS_ECONFIG with why (len bytes) saying
 * what is wrong. Pure. */
int cs_adcs_config_check(const char *config, char *why, size_t len);

/* 1 when config is an enrollment web service's URL (it takes Kerberos credentials and
 * the machine's context: ICertRequest3::SetCredential) */
int cs_adcs_config_is_url(const char *config);

/* The request's attributes for Submit: "CertificateTemplate:<template>", or "" with no
 * template (NULL or ""). CS_ECONFIG for a template holding a line end or colon (each
 * attribute is a line "name:value"), CS_ETOOBIG when out (len bytes) is too small. */
int cs_adcs_attributes(const char *template_name, char *out, size_t len, cs_err_t *err);

/* The CA's request id in a cookie (what a wait answer left): 1 to 2147483647, decimal
 * digits only. 0 and *id set, or CS_EFORMAT. */
int cs_adcs_cookie_id(const char *cookie, long *id);

/* What kind of failure hr is: CS_CA_UNREACHABLE (the CA or the network could not be
 * reached or was busy), CS_CA_UNCONFIGURED (a CA, template or permission to set up, or
 * the enrollment API missing here), CS_CA_REJECTED (the CA refused this request), or -1
 * when this file does not know it. Pure. */
int cs_adcs_hr_kind(unsigned long hr);

/* The answer o stands for (ans emptied first, then filled: status, out, cookie,
 * message). CS_OK, or CS_ENOMEM. Pure. */
int cs_adcs_answer(const cs_adcs_outcome_t *o, cs_ca_answer_t *ans, cs_err_t *err);

#endif
