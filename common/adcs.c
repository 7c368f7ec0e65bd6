#include "adcs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* The HRESULTs this route decides on, each as winerror.h names it and where its meaning
 * is documented. HRESULT_FROM_WIN32(e) is 0x80070000 | e. */
static const struct {
  unsigned long hr;
  int kind;
} known[] = {
    /* reaching the CA over DCOM / RPC (System Error Codes 1700-3999, learn.microsoft.com) */
    {0x800706BAUL, CS_CA_UNREACHABLE}, /* RPC_S_SERVER_UNAVAILABLE (1722): host down, name unknown, firewall */
    {0x800706BBUL, CS_CA_UNREACHABLE}, /* RPC_S_SERVER_TOO_BUSY (1723) */
    {0x800706BEUL, CS_CA_UNREACHABLE}, /* RPC_S_CALL_FAILED (1726) */
    {0x800706BFUL, CS_CA_UNREACHABLE}, /* RPC_S_CALL_FAILED_DNE (1727) */
    {0x800706D9UL, CS_CA_UNREACHABLE}, /* EPT_S_NOT_REGISTERED (1753): the CA service is not running */
    {0x8007071AUL, CS_CA_UNREACHABLE}, /* RPC_S_CALL_CANCELLED (1818) */
    {0x80070035UL, CS_CA_UNREACHABLE}, /* ERROR_BAD_NETPATH (53) */
    {0x800705B4UL, CS_CA_UNREACHABLE}, /* ERROR_TIMEOUT (1460) */
    {0x80010108UL, CS_CA_UNREACHABLE}, /* RPC_E_DISCONNECTED (COM Error Codes) */
    /* the CA itself is not taking requests now (CERTSRV_E_*, winerror.h; MS-WCCE) */
    {0x80094006UL, CS_CA_UNREACHABLE}, /* CERTSRV_E_SERVER_SUSPENDED: suspended for a database restore */
    {0x8009400FUL, CS_CA_UNREACHABLE}, /* CERTSRV_E_NO_DB_SESSIONS: too many sessions */
    /* an enrollment web service's URL (WinHTTP error codes, 12000-12999) */
    {0x80072EE2UL, CS_CA_UNREACHABLE}, /* ERROR_WINHTTP_TIMEOUT (12002) */
    {0x80072EE7UL, CS_CA_UNREACHABLE}, /* ERROR_WINHTTP_NAME_NOT_RESOLVED (12007) */
    {0x80072EFDUL, CS_CA_UNREACHABLE}, /* ERROR_WINHTTP_CANNOT_CONNECT (12029) */
    {0x80072EFEUL, CS_CA_UNREACHABLE}, /* ERROR_WINHTTP_CONNECTION_ERROR (12030) */
    /* what an administrator sets up */
    {0x80070057UL, CS_CA_UNCONFIGURED}, /* E_INVALIDARG: MS-WCCE 3.2.1.4.2.1 answers it for a CA name that is
                                           not the CA's (ca_config's "CA Name") */
    {0x80070005UL, CS_CA_UNCONFIGURED}, /* E_ACCESSDENIED: the CA's or DCOM's permissions */
    {0x80094011UL, CS_CA_UNCONFIGURED}, /* CERTSRV_E_ENROLL_DENIED: the CA's permissions do not let this
                                           computer enroll (MS-WCCE 3.2.1.4.2.3) */
    {0x80094012UL, CS_CA_UNCONFIGURED}, /* CERTSRV_E_TEMPLATE_DENIED: the template's permissions do not
                                           (MS-WCCE 3.2.2.6.2.1.4.3: Read and Enroll) */
    {0x80094800UL, CS_CA_UNCONFIGURED}, /* CERTSRV_E_UNSUPPORTED_CERT_TYPE: no such template, or the CA does
                                           not issue it */
    {0x80094801UL, CS_CA_UNCONFIGURED}, /* CERTSRV_E_NO_CERT_TYPE: an enterprise CA needs [request] template */
    {0x80094807UL, CS_CA_UNCONFIGURED}, /* CERTSRV_E_BAD_TEMPLATE_VERSION */
    {0x80040154UL, CS_CA_UNCONFIGURED}, /* REGDB_E_CLASSNOTREG: CCertRequest is not registered here (no
                                           certcli.dll; Wine has none) */
    {0x80004002UL, CS_CA_UNCONFIGURED}, /* E_NOINTERFACE: no ICertRequest2/3 (an older Windows) */
    /* the CA's word on this request */
    {0x80094014UL, CS_CA_REJECTED}, /* CERTSRV_E_ADMIN_DENIED_REQUEST: a CA manager denied it (MS-CSRA) */
    {0x80094002UL, CS_CA_REJECTED}, /* CERTSRV_E_NO_REQUEST: the CA does not know the request polled */
};

int cs_adcs_hr_kind(unsigned long hr) {
  size_t i;
  hr &= 0xFFFFFFFFUL;
  for (i = 0; i < sizeof known / sizeof known[0]; i++)
    if (known[i].hr == hr)
      return known[i].kind;
  return -1;
}

static int ieq_prefix(const char *s, const char *prefix) {
  size_t i;
  for (i = 0; prefix[i] != '\0'; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != prefix[i])
      return 0;
  }
  return 1;
}

int cs_adcs_config_is_url(const char *config) { return config != NULL && ieq_prefix(config, "https://"); }

/* A host name as a configuration string holds it: letters, digits, '.', '-', '_' */
static int host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

int cs_adcs_config_check(const char *config, char *why, size_t len) {
  const char *bs;
  size_t n, i;

  if (config == NULL || config[0] == '\0') {
    snprintf(why, len,
             "[request] ca_config is not set: name the CA as certutil -dump does (host\\CA Name), or the "
             "https:// URL of a certificate enrollment web service");
    return CS_ECONFIG;
  }
  n = strlen(config);
  if (n > CS_ADCS_CONFIG_MAX) {
    snprintf(why, len, "[request] ca_config is longer than a CA's configuration string can be (%d)",
             CS_ADCS_CONFIG_MAX);
    return CS_ECONFIG;
  }
  for (i = 0; i < n; i++)
    if ((unsigned char)config[i] < 0x20 || config[i] == 0x7f) {
      snprintf(why, len, "[request] ca_config holds a control character");
      return CS_ECONFIG;
    }
  if (cs_adcs_config_is_url(config)) {
    /* a host after the scheme, and no space anywhere (ICertRequest::Submit: an HTTPS URL) */
    if (!host_char(config[8]) || strchr(config, ' ') != NULL) {
      snprintf(why, len, "[request] ca_config \"%.200s\" is not an https:// URL with a host", config);
      return CS_ECONFIG;
    }
    return 0;
  }
  if (ieq_prefix(config, "http://")) {
    snprintf(why, len, "[request] ca_config: a certificate enrollment web service is reached over https:// only");
    return CS_ECONFIG;
  }
  bs = strchr(config, '\\');
  if (bs == NULL || bs == config || bs[1] == '\0' || strchr(bs + 1, '\\') != NULL) {
    snprintf(why, len,
             "[request] ca_config \"%.200s\" is not host\\CA Name (one backslash between the CA's host and its name, "
             "as certutil -dump shows them) nor an https:// URL",
             config);
    return CS_ECONFIG;
  }
  for (i = 0; config + i < bs; i++)
    if (!host_char(config[i])) {
      snprintf(why, len, "[request] ca_config: \"%.*s\" is not a host name", (int)(bs - config), config);
      return CS_ECONFIG;
    }
  if (bs[1] == ' ' || config[n - 1] == ' ') {
    snprintf(why, len, "[request] ca_config: the CA's name starts or ends with a space");
    return CS_ECONFIG;
  }
  return 0;
}

int cs_adcs_attributes(const char *template_name, char *out, size_t len, cs_err_t *err) {
  static const char name[] = "CertificateTemplate:";
  if (len == 0)
    return cs_err_set(err, CS_ETOOBIG, 0, "no room for the request's attributes");
  out[0] = '\0';
  if (template_name == NULL || template_name[0] == '\0')
    return CS_OK;
  /* Submit reads "name:value" pairs, one a line: a line end would add an attribute */
  if (strpbrk(template_name, "\r\n:") != NULL)
    return cs_err_set(err, CS_ECONFIG, 0, "[request] template holds a line end or a colon");
  if (strlen(name) + strlen(template_name) + 1 > len)
    return cs_err_set(err, CS_ETOOBIG, 0, "[request] template is too long for the request's attributes");
  snprintf(out, len, "%s%s", name, template_name);
  return CS_OK;
}

int cs_adcs_cookie_id(const char *cookie, long *id) {
  long long v = 0; /* ten digits overflow Windows' 32-bit long */
  size_t i, n = cookie != NULL ? strlen(cookie) : 0;
  if (n == 0 || n > 10)
    return CS_EFORMAT;
  for (i = 0; i < n; i++) {
    if (cookie[i] < '0' || cookie[i] > '9')
      return CS_EFORMAT;
    v = v * 10 + (cookie[i] - '0');
  }
  if (v < 1 || v > 2147483647LL)
    return CS_EFORMAT;
  *id = (long)v;
  return CS_OK;
}

/* printf into the answer's message, made one printable line (the events' rule) */
static void say(cs_ca_answer_t *ans, const char *fmt, ...) CS_PRINTF(2, 3);
static void say(cs_ca_answer_t *ans, const char *fmt, ...) {
  char raw[sizeof ans->message];
  cs_buf_t b = CS_BUF_INIT;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(raw, sizeof raw, fmt, ap);
  va_end(ap);
  cs_text_sanitize(&b, raw);
  snprintf(ans->message, sizeof ans->message, "%s", cs_buf_str(&b) != NULL ? cs_buf_str(&b) : "(out of memory)");
  cs_buf_free(&b);
}

/* " (0x80094012: text)" for a code, "" for none */
static const char *code_text(unsigned long hr, const char *text, char *buf, size_t len) {
  if (hr == 0) {
    buf[0] = '\0';
    return buf;
  }
  snprintf(buf, len, " (0x%08lX%s%.300s)", hr & 0xFFFFFFFFUL, text != NULL && text[0] ? ": " : "",
           text != NULL ? text : "");
  return buf;
}

/* The kind of a refused disposition: a submit refused for what an administrator sets up
 * (the template, its permissions) is misconfigured, submitted again once that is fixed,
 * with the same key; anything else the CA refused ends the request. A poll's refusal is
 * the CA's last word on that request. */
static int refused_kind(const cs_adcs_outcome_t *o) {
  int k = cs_adcs_hr_kind(o->status);
  if (o->op == CS_CA_OP_SUBMIT && (k == CS_CA_UNCONFIGURED || k == CS_CA_UNREACHABLE))
    return k;
  return CS_CA_REJECTED;
}

static int wait_for(const cs_adcs_outcome_t *o, cs_ca_answer_t *ans) {
  char id[24];
  snprintf(id, sizeof id, "%ld", o->request_id);
  return (ans->cookie = cs_strdup(id)) != NULL ? CS_OK : CS_ENOMEM;
}

int cs_adcs_answer(const cs_adcs_outcome_t *o, cs_ca_answer_t *ans, cs_err_t *err) {
  const char *msg = o->message != NULL && o->message[0] != '\0' ? o->message : NULL;
  char code[400];
  int rc = CS_OK, kind;

  memset(ans, 0, sizeof *ans);
  ans->delay = -1;
  if (o->hr != 0) { /* the call failed: the HRESULT says why */
    kind = cs_adcs_hr_kind(o->hr);
    if (kind == CS_CA_REJECTED && o->op != CS_CA_OP_POLL && o->hr != 0x80094014UL)
      kind = -1; /* "no such request" answers a poll only */
    ans->status = kind == -1 ? CS_CA_UNCONFIGURED : kind;
    say(ans, "%s%s%s%.300s",
        o->hr == 0x80040154UL              ? "the CA enrollment API (CCertRequest) is not available on this machine"
        : ans->status == CS_CA_UNREACHABLE ? "the CA cannot be reached"
        : ans->status == CS_CA_REJECTED    ? "the CA refused the request"
        : kind == -1                       ? "the CA enrollment API failed"
                                           : "the CA or its template is not set up for this request",
        code_text(o->hr, o->hr_text, code, sizeof code), msg != NULL ? "; the CA said: " : "", msg != NULL ? msg : "");
    return CS_OK;
  }
  if (o->op == CS_CA_OP_IDENTIFY) {
    ans->status = CS_CA_ISSUED; /* certmonger's IDENTIFY: answered, who it is */
    say(ans, "the CA answers as \"%.200s\"", o->ca_name != NULL ? o->ca_name : "");
    return CS_OK;
  }
  switch (o->disposition) {
  case CS_ADCS_DISP_ISSUED:
    if (o->cert != NULL && o->cert_len > 0 && o->cert_len <= CS_CA_OUT_MAX) {
      ans->status = CS_CA_ISSUED;
      if ((ans->out = cs_memdup(o->cert, o->cert_len)) == NULL)
        rc = CS_ENOMEM;
      ans->out_len = o->cert_len;
      say(ans, "issued as the CA's request %ld", o->request_id);
    } else if (o->request_id > 0) {
      /* issued, its certificate not read: polled by its id, which answers issued again */
      ans->status = CS_CA_WAIT;
      rc = wait_for(o, ans);
      say(ans, "issued as the CA's request %ld, but its certificate could not be read%s: asked again", o->request_id,
          code_text(o->cert_hr, NULL, code, sizeof code));
    } else {
      ans->status = CS_CA_UNCONFIGURED;
      say(ans, "the CA said issued, but gave neither the certificate nor a request id");
    }
    break;
  case CS_ADCS_DISP_UNDER_SUBMISSION:
  case CS_ADCS_DISP_INCOMPLETE:
    if (o->request_id > 0) {
      ans->status = CS_CA_WAIT;
      rc = wait_for(o, ans);
      say(ans, "%s as the CA's request %ld%s%.300s",
          o->disposition == CS_ADCS_DISP_INCOMPLETE ? "not complete" : "pending", o->request_id,
          msg != NULL ? ": " : "", msg != NULL ? msg : "");
    } else {
      ans->status = CS_CA_UNREACHABLE;
      say(ans, "the CA did not complete the request and gave no request id%s",
          code_text(o->status, msg, code, sizeof code));
    }
    break;
  case CS_ADCS_DISP_DENIED:
  case CS_ADCS_DISP_REVOKED:
  case CS_ADCS_DISP_ERROR:
    ans->status = refused_kind(o);
    say(ans, "%s%s%s%.300s",
        o->disposition == CS_ADCS_DISP_DENIED    ? "denied by the CA"
        : o->disposition == CS_ADCS_DISP_REVOKED ? "revoked by the CA"
                                                 : "failed at the CA",
        code_text(o->status, NULL, code, sizeof code), msg != NULL ? ": " : "", msg != NULL ? msg : "");
    break;
  case CS_ADCS_DISP_ISSUED_OUT_OF_BAND:
    ans->status = CS_CA_UNCONFIGURED;
    say(ans, "the CA issued request %ld out of band: drop the certificate it gives you into the drop folder",
        o->request_id);
    break;
  default:
    ans->status = CS_CA_UNCONFIGURED;
    say(ans, "the CA answered disposition %ld, which this certsteward does not know", o->disposition);
    break;
  }
  if (rc != CS_OK) {
    cs_ca_answer_free(ans);
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  return CS_OK;
}
