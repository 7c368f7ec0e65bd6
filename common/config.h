/* certsteward's configuration: one INI file (conf/certsteward.ini documents every
 * key), parsed with inih. Built-in defaults follow the platform the program runs on.
 * Relative paths in the file are taken relative to the folder holding the file. */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

typedef struct cs_config_s {
  char *path; /* file the values were read from; NULL = built-in defaults only */
  struct {
    char *host; /* DNS name the certificate must carry; NULL/empty = this machine's FQDN */
  } connector;
  struct {
    char *password_file;    /* first line = PFX / key password; NULL = none */
    uint64_t max_file_size; /* bytes; larger dropped files are refused before parsing */
  } watch;
  struct {
    char *ca_file;      /* PEM trust anchors; NULL = the system's default store */
    int min_valid_days; /* a new certificate must stay valid at least this long */
    int min_rsa_bits;
    bool allow_sha1;    /* accept SHA-1 signatures on leaf and intermediates */
    bool require_cn;    /* the subject CN must match the host too */
  } policy;
} cs_config_t;

/* Fills cfg with the built-in defaults (allocates strings). */
int cs_config_defaults(cs_config_t *cfg);

/* Fills cfg with the defaults, then the values from the file at path. On error
 * cfg is left freed/empty and err names the file, the line and the key. */
int cs_config_load(cs_config_t *cfg, const char *path, cs_err_t *err);

/* Frees every string cfg owns; cfg can be loaded again afterwards. */
void cs_config_free(cs_config_t *cfg);

/* Prints the effective configuration (defaults included) as INI. */
int cs_config_dump(const cs_config_t *cfg, FILE *out);

#endif
