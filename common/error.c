#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cs_strerror(int code) {
  switch (code) {
  case CS_OK:
    return "success";
  case CS_ENOMEM:
    return "out of memory";
  case CS_EINVAL:
    return "invalid argument";
  case CS_EIO:
    return "input/output error";
  case CS_ENOENT:
    return "no such file";
  case CS_ETOOBIG:
    return "too big";
  case CS_EFORMAT:
    return "unrecognised format";
  case CS_EPASSWORD:
    return "wrong or missing password";
  case CS_ENOTREG:
    return "not a regular file";
  case CS_ECONFIG:
    return "configuration error";
  case CS_ECRYPTO:
    return "cryptographic library error";
  case CS_EACCES:
    return "permission denied";
  case CS_EEMPTY:
    return "empty";
  case CS_EBUSY:
    return "busy";
  case CS_ETIMEDOUT:
    return "timed out";
  case CS_EFAILED:
    return "failed";
  case CS_EEXIST:
    return "already exists";
  default:
    return "unknown error";
  }
}

void cs_err_vset(cs_err_t *err, int code, long raw, const char *fmt, va_list ap) {
  if (err != NULL) {
    err->code = code;
    err->raw = raw;
    vsnprintf(err->text, sizeof err->text, fmt, ap);
  }
}

void cs_err_clear(cs_err_t *err) {
  if (err != NULL) {
    err->code = CS_OK;
    err->raw = 0;
    err->text[0] = '\0';
  }
}
