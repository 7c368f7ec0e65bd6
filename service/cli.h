/* The certsteward command line: one function per command, sharing option parsing. */
#ifndef CS_CLI_H
#define CS_CLI_H

#include <stdio.h>

#include "config.h"
#include "opts.h" /* cs_opt_t */
#include "platform.h"
#include "renewal.h"

/* Exit statuses (documented in --help) */
#define CS_EXIT_OK 0       /* every file accepted / command done */
#define CS_EXIT_REJECTED 1 /* a file was rejected */
#define CS_EXIT_USAGE 2    /* the command could not run: bad usage, bad config */

/* Prints the usage of command cmd (all commands' when it is not one), main.c. */
void cs_cli_usage(const char *cmd, FILE *out);

/* Fills opts from argv[first..]; other arguments go to operands (argv order kept).
 * Prints the reason and the command's usage, and returns -1, on an unknown option
 * or a missing value. */
int cs_cli_parse(int argc, char **argv, int first, cs_opt_t *opts, const char **operands, int *n_operands);

/* For a command that takes no arguments: 0 when there are none; else prints why
 * and the command's usage, and returns -1. */
int cs_cli_no_arguments(int argc, char **argv);

/* 1 when cfg's file (none: built-in defaults, 0) can be changed by someone other
 * than root / Administrators / SYSTEM / this account, or cannot be checked (fail
 * closed): why receives the reason, msg the whole sentence for the admin. */
int cs_cli_config_unsafe(const cs_config_t *cfg, char *why, size_t len, char *msg, size_t msg_len);

/* Loads --config FILE, else the default file when it exists, else the built-in
 * defaults, and refuses a file that is not safe (cs_cli_config_unsafe); prints the
 * reason on error (cfg is then freed). 0 or -1. */
int cs_cli_config(const char *path, cs_config_t *cfg);

/* The start of a command whose only options are --config FILE and, when json is not
 * NULL, --json: parses them, refuses any other argument (why and the command's usage
 * printed), and loads the configuration (cs_cli_config). 0 with *cfg loaded (free it
 * with cs_config_free) and *json set, or -1 with nothing to free. */
int cs_cli_command_config(int argc, char **argv, cs_config_t *cfg, int *json);

/* The host name certificates must carry: override, else [connector] host, else
 * this machine's FQDN. Prints the reason on error. 0 or -1. */
int cs_cli_host(const cs_config_t *cfg, const char *override, char *buf, size_t len);

/* Opens the event sinks for a command: stderr when foreground, syslog / Event
 * Log, and the JSON-lines file under the state folder (created 0700). 0 or -1. */
int cs_cli_open_events(const cs_config_t *cfg, int foreground);

/* The start of a command that changes what is in service (apply, rollback):
 * event sinks (stderr too), the state folder's lock <state_dir>/lock, the worker,
 * then the recovery of a transaction a crash left unfinished. Fills env (it
 * points at cfg, worker and host). Prints why and returns -1 when the command
 * must not go on. Whatever it returned, the caller ends with cs_cli_end(*lock). */
int cs_cli_begin(const char *cmd, const cs_config_t *cfg, const char *host, cs_worker_t *worker, cs_renewal_env_t *env,
                 cs_plat_lock_t **lock);
/* Releases the lock (may be NULL) and closes the event sinks. */
void cs_cli_end(cs_plat_lock_t *lock);
/* Prints a transaction's outcome on what (the verdict's checks, then one line)
 * and returns the exit status: 0 committed or valid, 1 rejected, refused or
 * rolled back, 2 could not run. */
int cs_cli_outcome(const char *what, const cs_renewal_result_t *res);

int cs_cmd_check(int argc, char **argv);
int cs_cmd_apply(int argc, char **argv);
int cs_cmd_config(int argc, char **argv);
int cs_cmd_status(int argc, char **argv);
int cs_cmd_doctor(int argc, char **argv); /* cmd_doctor.c */
int cs_cmd_rollback(int argc, char **argv);
int cs_cmd_request(int argc, char **argv);      /* cmd_request.c */
int cs_cmd_set_password(int argc, char **argv); /* cmd_password.c */
/* winsvc.c: the Windows service (install, uninstall, and the entry the SCM starts) */
int cs_cmd_install(int argc, char **argv);
int cs_cmd_uninstall(int argc, char **argv);
int cs_cmd_service(int argc, char **argv);

#endif
