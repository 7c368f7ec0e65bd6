/* Text that leaves the program: a growable buffer, JSON string escaping, and the
 * sanitising of untrusted strings (certificate names, file names) for log lines.
 * Whatever bytes come in, the output is valid UTF-8 and holds no control characters. */
#ifndef CS_TEXT_H
#define CS_TEXT_H

#include <stdarg.h>
#include <stddef.h>

#include "error.h" /* CS_PRINTF */

typedef struct cs_buf_s {
  char *p; /* NUL-terminated once anything was appended; owned, free with cs_buf_free */
  size_t len;
  size_t cap;
  int oom; /* sticky: an append failed for lack of memory */
} cs_buf_t;

#define CS_BUF_INIT                                                                                                    \
  { NULL, 0, 0, 0 }

void cs_buf_append(cs_buf_t *b, const char *s, size_t n);
void cs_buf_puts(cs_buf_t *b, const char *s);
void cs_buf_printf(cs_buf_t *b, const char *fmt, ...) CS_PRINTF(2, 3);
/* The buffer's text ("" when empty); NULL after an out-of-memory. */
const char *cs_buf_str(const cs_buf_t *b);
void cs_buf_free(cs_buf_t *b);

/* Appends s as a quoted JSON string: ", \ and control characters escaped, each byte
 * that is not part of valid UTF-8 replaced by U+FFFD. s may be NULL (-> null). */
void cs_json_str(cs_buf_t *b, const char *s);

/* Appends s for a log line or a terminal: printable UTF-8 kept, control
 * characters and invalid bytes written as \xNN. */
void cs_text_sanitize(cs_buf_t *b, const char *s);

/* Appends one line for a terminal: label padded to width, then each piece (a NULL
 * ends them) as cs_text_sanitize writes it, then a newline. */
void cs_text_line(cs_buf_t *b, int width, const char *label, ...);

/* t (seconds since 1970) as RFC 3339 UTC, "YYYY-MM-DDTHH:MM:SSZ", into buf;
 * returns buf. Thread-safe and the same on every platform (no gmtime). */
char *cs_time_utc(long long t, char *buf, size_t len);

/* New copy of the n bytes at p (malloc), with a NUL after them; NULL when out of memory. */
unsigned char *cs_memdup(const void *p, size_t n);

/* New copy of s (malloc), NULL when out of memory: strdup is not ISO C. */
char *cs_strdup(const char *s);

/* FNV-1a, 64 bits, of the n bytes at p, going on from h (CS_FNV1A_INIT to start): a
 * name or a version for data no adversary chooses, never a check of integrity. */
#define CS_FNV1A_INIT 0xcbf29ce484222325ULL
unsigned long long cs_text_fnv1a(unsigned long long h, const void *p, size_t n);

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if s does not start one.
 * *cp receives the code point. n = bytes available. */
size_t cs_utf8_decode(const unsigned char *s, size_t n, unsigned long *cp);

/* 1 when the code point cp never leaves the program as it is: the C0 controls, DEL,
 * the C1 controls and U+2028 / U+2029 (line breaks to JavaScript and some viewers).
 * The one rule of cs_json_str, cs_text_sanitize, the metrics' label values and the
 * worker-answer parser, so that what a sanitiser lets through the parser accepts.
 * Invalid UTF-8 (cs_utf8_decode 0) is a separate, equally refused case. */
int cs_text_unsafe_cp(unsigned long cp);

#endif
