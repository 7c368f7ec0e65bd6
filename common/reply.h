/* The worker's answer over its standard output: a line protocol the crypto-free
 * daemon parses without trusting it (a worker may crash half-way or be fed a
 * hostile file). Every value is sanitised by the worker (cs_text_sanitize: valid
 * UTF-8, no control characters), so a value is the rest of its line.
 *
 *   certsteward-worker 1          first line: protocol version
 *   file <path>
 *   format <PKCS#12|PEM|DER|PKCS#7>
 *   thumbprint <40 upper-case hex>
 *   subject <RFC 2253 text>
 *   not_after <YYYY-MM-DDTHH:MM:SSZ>
 *   not_after_epoch <seconds since 1970>
 *   key <yes|no>                  the file held a private key
 *   dns <name> [<name>...]        the certificate's SAN dNSNames, space-separated (scan)
 *   check <id> <ok|failed> <detail>   one per check
 *   staged <folder>               the files ready to install (accepted only)
 *   served <40 hex> <subject>     probe: what an endpoint serves
 *   preflight <40 hex|-> <endpoint>   validate with probes: what an endpoint serves
 *                                 ("-": it could not be probed), one per endpoint
 *   ca <status> <cookie|-> <text> adcs: the CA's answer as a CA helper's (ca_command.h:
 *                                 status as cs_ca_status_name says it, the cookie for a
 *                                 poll or "-", a one-line message)
 *   error <text>                  the worker could not do what was asked
 *   end                           last line: the answer is complete
 *
 * Lines are at most CS_REPLY_LINE_MAX bytes; unknown keys are ignored (newer
 * workers may say more). An answer describes one file or one endpoint, except a
 * scan of many files: one record per file, each opened by its "file" line. */
#ifndef CS_REPLY_H
#define CS_REPLY_H

#include <stddef.h>

#include "report.h"
#include "text.h"

#define CS_REPLY_MAGIC "certsteward-worker 1"
#define CS_REPLY_LINE_MAX 8192
#define CS_REPLY_MAX (1024 * 1024) /* a whole answer */
#define CS_REPLY_PREFLIGHT_MAX 64  /* preflight lines in one answer */

typedef struct cs_reply_probe_s {
  char tp[41];    /* "" when the endpoint could not be probed */
  char *endpoint; /* owned */
} cs_reply_probe_t;

typedef struct cs_reply_s {
  cs_report_t report; /* file, thumbprint, subject, not_after, checks */
  char format[16];
  long long not_after_epoch; /* 0 when not given */
  int has_key;
  char *staged;                /* owned; NULL when none */
  char served[41];             /* probe answer; "" when none */
  char *served_subject;        /* owned; NULL when none */
  char *error;                 /* owned; NULL when none */
  char *dns;                   /* owned; the SAN dNSNames, space-separated; NULL when none */
  cs_reply_probe_t *preflight; /* owned; in the order of the lines */
  size_t n_preflight;
  int has_ca;       /* a "ca" line was read: */
  int ca_status;    /* CS_CA_* (ca_command.h) */
  char *ca_cookie;  /* owned; NULL for "-" */
  char *ca_message; /* owned; "" when none */
} cs_reply_t;

/* Parses a whole answer (len bytes, need not be NUL-terminated). Returns 0, or
 * CS_EFORMAT with the reason in err when the answer is not a complete, well-formed
 * reply (no magic, no "end", a malformed known line, over the limits).
 * Free with cs_reply_free whatever it returned. */
int cs_reply_parse(const char *data, size_t len, cs_reply_t *reply, cs_err_t *err);
void cs_reply_free(cs_reply_t *reply);

/* A scan of many files (certsteward-worker scan FILE...): one record per file, each
 * opened by its "file" line, in the order the files were asked. */
typedef struct cs_reply_many_s {
  cs_reply_t head;   /* lines before the first "file" line: only an error (the scan did not start) */
  cs_reply_t *items; /* owned; one per "file" line */
  size_t n;
} cs_reply_many_t;

/* Parses such an answer with the same framing and line rules as cs_reply_parse;
 * within a record every key of one file appears at most once, as in a one-file
 * answer. More than max_items records, or a known key other than "error" before
 * the first "file" line, is CS_EFORMAT. Free with cs_reply_many_free whatever it
 * returned. */
int cs_reply_parse_many(const char *data, size_t len, size_t max_items, cs_reply_many_t *m, cs_err_t *err);
void cs_reply_many_free(cs_reply_many_t *m);

/* Writer side (the worker): appends "key value\n" with value sanitised. */
void cs_reply_put(cs_buf_t *out, const char *key, const char *value);

#endif
