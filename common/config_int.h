/* Inside the configuration: what config.c (the key table, the parsing through inih,
 * each value stored into its field, the defaults, load, dump, host) and
 * config_values.c (numbers read and written, the checks of values, a field written
 * back) share. Not for other files. */
#ifndef CS_CONFIG_INT_H
#define CS_CONFIG_INT_H

#include <stddef.h>

#include "config.h"
#include "text.h"

#define CS__KIB 1024ull
#define CS__MIB (1024ull * 1024ull)
#define CS__CLEAN_MAX 200 /* a file-supplied name or value quoted in a message */

typedef enum { CS__STR, CS__PATH, CS__BOOL, CS__INT, CS__SIZE, CS__LIST, CS__PATHLIST } cs__type_t;

/* Extra check of a string value (or of each element of a list): 0 if fine, else
 * CS_ECONFIG with "what is wrong (expected ...)" in why. */
typedef int (*cs__check_fn)(const char *v, char *why, size_t n);

typedef struct {
  const char *section;
  const char *key;
  cs__type_t type;
  size_t offset;         /* of the field in cs_config_t: char *, bool, int or uint64_t */
  const char *def_posix; /* defaults written as in the file; "" = none (NULL field) */
  const char *def_windows;
  long long min, max; /* CS__INT and CS__SIZE */
  cs__check_fn check; /* NULL = any value */
} cs__key_t;

/* The checks of the table's rows. */
int cs__check_endpoint(const char *v, char *why, size_t n);
int cs__check_window(const char *v, char *why, size_t n);
int cs__check_adopt_from(const char *v, char *why, size_t n); /* not on a system store */
int cs__check_old(const char *v, char *why, size_t n);
int cs__check_provider(const char *v, char *why, size_t n);
int cs__check_days(const char *v, char *why, size_t n);
int cs__check_keykind(const char *v, char *why, size_t n);
int cs__check_route(const char *v, char *why, size_t n); /* adcs: Windows only */
int cs__check_template(const char *v, char *why, size_t n);
int cs__check_ca_config(const char *v, char *why, size_t n); /* adcs.h: host\CA Name or https:// */

/* s[0..n) or s equals word, ASCII case-insensitively. */
int cs__ieqn(const char *s, size_t n, const char *word);
int cs__ieq(const char *s, const char *word);
/* A file-supplied string, shortened and made printable for an error message. */
void cs__clean(char out[CS__CLEAN_MAX], const char *s);
/* A CS__INT or CS__SIZE value read from (1 if well-formed) and written as in a file. */
int cs__parse_num(const char *s, cs__type_t type, long long *out);
void cs__fmt_num(char *buf, size_t n, cs__type_t type, long long v);
/* Appends k's value in cfg as written in a file. */
void cs__value(const cs_config_t *cfg, const cs__key_t *k, cs_buf_t *out);

#endif
