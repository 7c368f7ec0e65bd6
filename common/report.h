/* The verdict on one certificate file: plain data (no OpenSSL types), so the
 * crypto-free part of the program can print it, log it or pass it on.
 * Check ids are stable: monitoring and scripts key on them. */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "error.h" /* CS_PRINTF */

/* Stable check ids */
#define CS_CHECK_LOAD "load"                   /* the file could be read and parsed */
#define CS_CHECK_KEY_MATCH "key_match"         /* private key belongs to the leaf */
#define CS_CHECK_SAN_HOST "san_host"           /* host among the SAN dNSNames */
#define CS_CHECK_CN_HOST "cn_host"             /* subject CN matches the host */
#define CS_CHECK_VALIDITY "validity"           /* notBefore <= now, notAfter >= now + min days */
#define CS_CHECK_CHAIN "chain"                 /* chain to a trust anchor, all valid now */
#define CS_CHECK_NOT_CA "not_ca"               /* leaf is not a CA */
#define CS_CHECK_EKU "eku"                     /* serverAuth, or no EKU */
#define CS_CHECK_KEY_USAGE "key_usage"         /* digitalSignature (+ keyEncipherment for RSA) */
#define CS_CHECK_KEY_STRENGTH "key_strength"   /* RSA bits, EC curve */
#define CS_CHECK_SIGNATURE "signature_hash"    /* no MD5 / SHA-1 on leaf and intermediates */
#define CS_CHECK_EXPIRES_LATER "expires_later" /* later notAfter than the certificate in service */
#define CS_CHECK_NAMES_KEPT "names_kept"       /* every DNS name of the certificate in service kept */

typedef struct cs_check_s {
  const char *id; /* one of CS_CHECK_*, static */
  bool ok;
  char *detail; /* owned; may hold untrusted text (raw bytes), sanitised on output */
} cs_check_t;

typedef struct cs_report_s {
  char *file;          /* as given; owned */
  char thumbprint[41]; /* SHA-1, upper-case hex; "" when no certificate was read */
  char *subject;       /* RFC 2253, UTF-8 (untrusted); owned, may be NULL */
  char not_after[21];  /* YYYY-MM-DDTHH:MM:SSZ; "" when unknown */
  cs_check_t *checks;  /* owned */
  size_t n_checks;
  size_t cap_checks;
} cs_report_t;

/* Sets file (copied); the report starts empty. 0 or CS_ENOMEM. */
int cs_report_init(cs_report_t *r, const char *file);
void cs_report_free(cs_report_t *r);

/* Adds a check with a printf-style detail. 0 or CS_ENOMEM. */
int cs_report_add(cs_report_t *r, const char *id, bool ok, const char *fmt, ...) CS_PRINTF(4, 5);

/* The check with that id, or NULL. */
const cs_check_t *cs_report_find(const cs_report_t *r, const char *id);

/* accepted = at least one check was made and every check is ok. */
bool cs_report_accepted(const cs_report_t *r);

/* Human-readable block / one JSON object on one line (with newline). */
void cs_report_print_text(const cs_report_t *r, FILE *out);
void cs_report_print_json(const cs_report_t *r, FILE *out);

#endif
