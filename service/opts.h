/* Command-line options and the configuration file, as both executables
 * (certsteward and certsteward-worker) read them. Crypto-free, prints nothing:
 * each caller says a problem its own way (a line on stderr, a worker answer). */
#ifndef CS_OPTS_H
#define CS_OPTS_H

#include "config.h"
#include "error.h"

/* One option: "--name VALUE" or "--name=VALUE" (has_value), or a flag. */
typedef struct cs_opt_s {
  const char *name;
  int has_value;
  const char *value; /* set by cs_opts_parse; "" for a flag that was given */
} cs_opt_t;

/* The options of `check`, which certsteward checks (for its usage on an error)
 * and the worker then reads: one list for both. Index with CS_CHECK_O_*. */
enum {
  CS_CHECK_O_CONFIG,
  CS_CHECK_O_HOST,
  CS_CHECK_O_CA,
  CS_CHECK_O_PASSWORD_FILE,
  CS_CHECK_O_CURRENT,
  CS_CHECK_O_KEY,
  CS_CHECK_O_JSON
};
#define CS_CHECK_OPTIONS                                                                                               \
  {                                                                                                                    \
    {"config", 1, NULL}, {"host", 1, NULL}, {"ca", 1, NULL}, {"password-file", 1, NULL}, {"current", 1, NULL},         \
        {"key", 1, NULL}, {"json", 0, NULL}, {                                                                         \
      NULL, 0, NULL                                                                                                    \
    }                                                                                                                  \
  }

/* Fills opts from argv[first..]; other arguments go to operands (argv order
 * kept; room for argc entries); "--" makes the rest operands. CS_EINVAL with the
 * reason in err ("unknown option --x", "--x needs a value", ...). */
int cs_opts_parse(int argc, char **argv, int first, cs_opt_t *opts, const char **operands, int *n_operands,
                  cs_err_t *err);

/* Loads path, else the platform's default file when it exists, else the
 * built-in defaults. On error err says why, naming the file and line. */
int cs_opts_config(const char *path, cs_config_t *cfg, cs_err_t *err);

#endif
