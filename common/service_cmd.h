/* The restart of a service as platform.h's cs_plat_service_restart defines it, shared
 * by both platform halves: the admin's restart_command / status_command (through
 * the system shell) replace the platform's own way, which each half passes in.
 * Not part of platform.h: only common/posix/service.c and common/win/service.c use it. */
#ifndef CS_SERVICE_CMD_H
#define CS_SERVICE_CMD_H

#include <stddef.h>

#include "error.h"
#include "platform.h"

/* The platform's own way of restarting a service. */
typedef struct cs__svc_way_s {
  /* Restarts service (never NULL or empty here) within left_ms; 0 or CS_E* with err set. */
  int (*restart)(void *ctx, const char *service, int left_ms, cs_err_t *err);
  /* One look at service after restart: *up = 1 when it runs; why (a phrase) says what
   * was seen, for the timeout message. NULL when restart itself waits until it runs. */
  int (*probe)(void *ctx, const char *service, int ms, int *up, char *why, size_t why_len, cs_err_t *err);
  void *ctx;
} cs__svc_way_t;

/* cs_plat_service_restart with the platform's way: the restart command (when set)
 * must exit 0, else way->restart; then the status command (when set) is polled
 * until it exits 0, else way->probe (when there is one and no restart command was
 * used), all within timeout_ms. Each command is judged (cs_cmd_judge_shell) before it
 * runs, the status command before anything runs: a refused one fails with CS_ECONFIG
 * and is not run. */
int cs__service_restart(const char *service, const char *restart_command, const char *status_command, int timeout_ms,
                        const cs__svc_way_t *way, cs_err_t *err);

/* After a start: polls status_command (through the shell, when set, judged before each
 * run: refused, CS_ECONFIG) until it exits 0,
 * else way->probe (when way and its probe are not NULL) until it says up, until
 * deadline (cs__service_now_ms); timeout_ms is for the message. */
int cs__service_wait_running(const cs__svc_way_t *way, const char *service, const char *status_command,
                             long long deadline, int timeout_ms, cs_err_t *err);

/* "exited 3", "was killed by signal 9", "did not finish within 5000 ms" */
void cs__service_describe(const cs_run_result_t *res, int ms, char *buf, size_t len);

/* Milliseconds of a clock that never goes back (not the wall clock), for deadlines.
 * Each platform half defines it (common/posix/service.c, common/win/service.c). */
long long cs__service_now_ms(void);

#endif
