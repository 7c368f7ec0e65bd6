/* certsteward request: a certificate request now ([request]), whether or not the
 * certificate in service is due: the new key and request, the first submit (route
 * command) or the outbox (manual), and, when the CA issues at once, the certificate put
 * in service by the renewal transaction. With a request in flight it looks at that one
 * instead (a poll when it is due, or now with --poll). Under the state folder's lock,
 * after any recovery, as apply. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "clock.h"
#include "renewal.h"
#include "request_flow.h"

#define PATH_LEN 4096

/* What the request came to, on standard output */
static void say(const cs_request_t *r, cs_rq_state_t st, const char *ready) {
  char when[40];
  switch (st) {
  case CS_RQ_WAIT:
    if (strcmp(r->state, CS_REQ_OUTBOX) == 0)
      printf("request %s: written to the outbox, waiting for the certificate to be dropped\n", r->name);
    else
      printf("request %s: %s, the next look at %s\n", r->name, r->state, cs_time_utc(r->next, when, sizeof when));
    break;
  case CS_RQ_HELD:
    printf("request %s: issued, held (its renewal did not commit): certsteward apply %s\n", r->name, ready);
    break;
  case CS_RQ_ENDED:
    printf("request %s: ended (see the events)\n", r->name);
    break;
  default:
    break;
  }
}

int cs_cmd_request(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {"poll", 0, NULL}, {NULL, 0, NULL}};
  const char *operands[8];
  char host[256], ready[PATH_LEN], current[41];
  cs_plat_lock_t *lock = NULL;
  cs_renewal_result_t res;
  cs_renewal_env_t env;
  cs_reqflow_t f;
  cs_request_t r;
  cs_rq_state_t st = CS_RQ_NONE;
  cs_worker_t worker;
  cs_config_t cfg;
  cs_err_t err;
  long long now;
  int n = 0, rc = CS_EXIT_USAGE, have_cfg = 0, got;

  memset(&res, 0, sizeof res);
  memset(&r, 0, sizeof r);
  ready[0] = '\0';
  if (argc > 8) {
    fprintf(stderr, "certsteward request: too many arguments\n\n");
    cs_cli_usage("request", stderr);
    return CS_EXIT_USAGE;
  }
  if (cs_cli_parse(argc, argv, 2, opts, operands, &n) != 0)
    return CS_EXIT_USAGE;
  if (n != 0) {
    fprintf(stderr, "certsteward request: unexpected argument %s\n\n", operands[0]);
    cs_cli_usage("request", stderr);
    return CS_EXIT_USAGE;
  }
  if (cs_cli_config(opts[0].value, &cfg) != 0)
    return CS_EXIT_USAGE;
  have_cfg = 1;
  if (cs_cli_host(&cfg, NULL, host, sizeof host) != 0 || cs_cli_begin("request", &cfg, host, &worker, &env, &lock) != 0)
    goto out;
  f.cfg = &cfg;
  f.worker = &worker;
  f.host = host;
  f.in_service = cs_renewal_current(&env, current, &err) == CS_OK ? current : NULL;
  now = cs_clock_now();
  got = cs_request_read(cfg.store.state_dir, &r, &err);
  if (got != CS_OK && got != CS_ENOENT) {
    fprintf(stderr, "certsteward request: %s\n", err.text);
    goto out;
  }
  if (got == CS_OK) {
    if (opts[1].value != NULL && (strcmp(r.state, CS_REQ_PENDING) == 0 || strcmp(r.state, CS_REQ_MADE) == 0 ||
                                  strcmp(r.state, CS_REQ_ISSUED) == 0))
      r.next = now; /* --poll: now, not at the back-off's time */
    rc = cs_reqflow_step(&f, now, &r, &st, ready, sizeof ready, &err);
  } else {
    rc = cs_reqflow_start(&f, now, &r, &st, ready, sizeof ready, &err);
  }
  if (rc != CS_OK) {
    fprintf(stderr, "certsteward request: %s\n", err.text);
    rc = CS_EXIT_USAGE;
    goto out;
  }
  if (st == CS_RQ_ISSUED) {
    env.name = r.name;
    cs_renewal_run(&env, ready, 0, &res);
    cs_reqflow_renewed(&f, &r, &res, ready);
    rc = cs_cli_outcome(r.name, &res);
    if (strcmp(r.state, CS_REQ_HELD) == 0)
      say(&r, CS_RQ_HELD, ready);
    goto out;
  }
  say(&r, st, ready);
  rc = st == CS_RQ_ENDED ? CS_EXIT_REJECTED : CS_EXIT_OK;
out:
  cs_request_free(&r);
  cs_renewal_result_free(&res);
  cs_cli_end(lock);
  if (have_cfg)
    cs_config_free(&cfg);
  return rc;
}
