/* Error codes and the error record every fallible core function can fill.
 * Functions return 0 or a negative CS_E* code; the cs_err_t (optional, may be
 * NULL) keeps the human-readable reason and the raw OS / OpenSSL code. */
#ifndef CS_ERROR_H
#define CS_ERROR_H

#include <stdarg.h>
#include <stddef.h>

/* printf-style format checking; MinGW's ANSI stdio (%zu, %lld) is gnu_printf. */
#if defined(__MINGW32__)
#define CS_PRINTF(fmt, args) __attribute__((format(gnu_printf, fmt, args))) /* built with __USE_MINGW_ANSI_STDIO=1 */
#elif defined(__GNUC__)
#define CS_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define CS_PRINTF(fmt, args)
#endif

enum {
  CS_OK = 0,
  CS_ENOMEM = -1,     /* out of memory */
  CS_EINVAL = -2,     /* bad argument or value */
  CS_EIO = -3,        /* read or write failed */
  CS_ENOENT = -4,     /* no such file */
  CS_ETOOBIG = -5,    /* over a size limit */
  CS_EFORMAT = -6,    /* content not recognised or malformed */
  CS_EPASSWORD = -7,  /* password missing or wrong */
  CS_ENOTREG = -8,    /* not a regular file (link, FIFO, device, folder) */
  CS_ECONFIG = -9,    /* configuration error */
  CS_ECRYPTO = -10,   /* OpenSSL failed */
  CS_EACCES = -11,    /* permission denied */
  CS_EEMPTY = -12,    /* empty input */
  CS_EBUSY = -13,     /* held by another process */
  CS_ETIMEDOUT = -14, /* did not finish in time */
  CS_EFAILED = -15,   /* a command or step ran and failed */
  CS_EEXIST = -16     /* already there, and never replaced */
};

#define CS_ERR_TEXT_MAX 512

typedef struct cs_err_s {
  int code;                   /* CS_E* */
  long raw;                   /* errno, GetLastError() or OpenSSL code; 0 if none */
  char text[CS_ERR_TEXT_MAX]; /* what went wrong, for a person; no secrets */
} cs_err_t;

/* Short name of a CS_E* code ("ENOENT"-like but ours), never NULL. */
const char *cs_strerror(int code);

/* Records code, raw and a printf-style text into err (if not NULL). */
void cs_err_vset(cs_err_t *err, int code, long raw, const char *fmt, va_list ap) CS_PRINTF(4, 0);

/* Records code, raw and a printf-style text into err (if not NULL); returns code.
 * Defined here, not in error.c, so that every caller's compiler sees that it returns
 * code: the static analyzer (CS_ANALYZER) would otherwise follow
 * "rc = cs_err_set(err, CS_ENOMEM, ...); goto out;" as a success. */
static inline int cs_err_set(cs_err_t *err, int code, long raw, const char *fmt, ...) CS_PRINTF(4, 5);
static inline int cs_err_set(cs_err_t *err, int code, long raw, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cs_err_vset(err, code, raw, fmt, ap);
  va_end(ap);
  return code;
}

/* Resets err to "no error". */
void cs_err_clear(cs_err_t *err);

#endif
