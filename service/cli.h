/* The certsteward command line: one function per command, sharing option parsing. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include "config.h"

/* Exit statuses (documented in --help) */
#define CS_EXIT_OK 0       /* every file accepted / command done */
#define CS_EXIT_REJECTED 1 /* a file was rejected */
#define CS_EXIT_USAGE 2    /* the command could not run: bad usage, bad config */

/* One option: "--name VALUE" or "--name=VALUE" (has_value), or a flag. */
typedef struct cs_opt_s {
  const char *name;
  int has_value;
  const char *value; /* set by cs_cli_parse; "" for a flag that was given */
} cs_opt_t;

/* Fills opts from argv[first..]; other arguments go to operands (argv order kept).
 * Prints the reason and returns -1 on an unknown option or a missing value. */
int cs_cli_parse(int argc, char **argv, int first, cs_opt_t *opts, const char **operands, int *n_operands);

/* Loads --config FILE, else the default file when it exists, else the built-in
 * defaults; prints the reason on error. 0 or -1. */
int cs_cli_config(const char *path, cs_config_t *cfg);

/* The host name certificates must carry: override, else [connector] host, else
 * this machine's FQDN. Prints the reason on error. 0 or -1. */
int cs_cli_host(const cs_config_t *cfg, const char *override, char *buf, size_t len);

/* Opens the event sinks for a command: stderr when foreground, syslog / Event
 * Log, and the JSON-lines file under the state folder (created 0700). 0 or -1. */
int cs_cli_open_events(const cs_config_t *cfg, int foreground);

int cs_cmd_check(int argc, char **argv);
int cs_cmd_apply(int argc, char **argv);
int cs_cmd_config(int argc, char **argv);

#endif
