/* certsteward run, and the same daemon under the Windows service (winsvc.c): the
 * start (configuration, event sinks, the state folder's lock, the worker, the
 * checks said once), the loop, and the stop — on SIGTERM / SIGINT, or asked from
 * another thread by the service's control handler (cs_daemon_request_stop). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "cli.h"
#include "cmd_judge.h"
#include "connector.h"
#include "daemon_int.h"
#include "events.h"
#include "opts.h"
#include "platform.h"
#include "statedir.h"

/* A stop asked from another thread reaches the loop through this async handle,
 * set while the loop runs; asked before, the flag keeps it until then. */
static uv_once_t stop_once = UV_ONCE_INIT;
static uv_mutex_t stop_lock;
static uv_async_t *stop_wake;
static int stop_asked;

static void stop_lock_init(void) {
  if (uv_mutex_init(&stop_lock) != 0)
    abort(); /* no mutex at all: nothing sensible is left to do */
}

void cs_daemon_request_stop(void) {
  uv_once(&stop_once, stop_lock_init);
  uv_mutex_lock(&stop_lock);
  stop_asked = 1;
  if (stop_wake != NULL)
    uv_async_send(stop_wake);
  uv_mutex_unlock(&stop_lock);
}

static void stop_deadline_cb(uv_timer_t *t) {
  daemon_t *d = t->data;
  /* the step did not finish in time: the journal rolls it back at the next start */
  cs_event_say(CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL);
  cs_events_close();
  if (d->host != NULL && d->host->abandoned != NULL)
    d->host->abandoned(d->host->arg);
  _Exit(0);
}

/* As on SIGTERM: the loop ends now, or once the running job is done (at most
 * CS_DAEMON_STOP_GRACE_MS from now). */
static void begin_stop(daemon_t *d) {
  if (d->stopping)
    return;
  d->stopping = 1;
  if (d->running == NULL)
    uv_stop(d->loop);
  else
    uv_timer_start(&d->stop, stop_deadline_cb, CS_DAEMON_STOP_GRACE_MS, 0);
}

static void signal_cb(uv_signal_t *h, int signum) {
  (void)signum;
  begin_stop(h->data);
}

static void wake_cb(uv_async_t *h) { begin_stop(h->data); }

static void ready_cb(uv_timer_t *t) {
  daemon_t *d = t->data;
  if (d->host != NULL && d->host->running != NULL)
    d->host->running(d->host->arg);
}

static void close_cb(uv_handle_t *h, void *arg) {
  (void)arg;
  if (!uv_is_closing(h))
    uv_close(h, NULL);
}

/* What is missing at start is said once; the daemon keeps watching regardless. */
static void startup_checks(daemon_t *d) {
  const cs_config_t *cfg = d->cfg;
  char tp[41];
  cs_err_t err;
  size_t i;
  if (cfg->connector.service != NULL && cs_plat_service_exists(cfg->connector.service, &err) == 0)
    cs_event_say(CS_EV_CONNECTOR_MISSING, NULL, "the service", cfg->connector.service, NULL);
  for (i = 0; i < cfg->connector.binding_files.n; i++)
    if (!cs_plat_exists(cfg->connector.binding_files.v[i]))
      cs_event_say(CS_EV_CONNECTOR_MISSING, NULL, "a binding file", cfg->connector.binding_files.v[i], NULL);
  if (cs_renewal_current(&d->env, tp, &err) != CS_OK)
    cs_event_say(CS_EV_CONNECTOR_MISSING, NULL, "the certificate in service", err.text, NULL);
  /* judged again before each run (service_cmd.c): said here so that it is known before a renewal needs it */
  if (cs_cmd_judge_shell("restart_command", cfg->connector.restart_command, &err) != CS_OK)
    cs_event_say(CS_EV_COMMAND_UNSAFE, NULL, "restart_command", err.text, NULL);
  if (cs_cmd_judge_shell("status_command", cfg->connector.status_command, &err) != CS_OK)
    cs_event_say(CS_EV_COMMAND_UNSAFE, NULL, "status_command", err.text, NULL);
}

/* A start that ends before the event sinks are open: said on stderr, and to the host. */
static void start_failed(const daemon_t *d, const char *config_path, const char *why) {
  char def[1024];
  fprintf(stderr, "certsteward: %s\n", why);
  if (config_path == NULL)
    config_path = cs_plat_default_config_path(def, sizeof def) == CS_OK ? def : "(built-in defaults)";
  if (d->host != NULL && d->host->failed != NULL)
    d->host->failed(d->host->arg, config_path, why);
}

int cs_cmd_run(int argc, char **argv) { return cs_daemon_main(argc, argv, NULL); }

int cs_daemon_main(int argc, char **argv, const cs_daemon_host_t *host) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {"foreground", 0, NULL}, {"once", 0, NULL}, {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)argc);
  int n_operands = 0, rc = CS_EXIT_USAGE, have_cfg = 0, asked;
  cs_plat_lock_t *lock = NULL;
  cs_config_t cfg;
  daemon_t d;
  cs_err_t err;
  char lockpath[PATH_LEN], why[1024], msg[2048];

  memset(&d, 0, sizeof d);
  d.host = host;
  if (operands == NULL || cs_cli_parse(argc, argv, 2, opts, operands, &n_operands) != 0)
    goto out;
  if (n_operands > 0) {
    fprintf(stderr, "certsteward %s: unexpected argument %s\n", argv[1], operands[0]);
    goto out;
  }
  if (cs_opts_config(opts[0].value, &cfg, &err) != CS_OK) {
    start_failed(&d, opts[0].value, err.text);
    goto out;
  }
  have_cfg = 1;
  d.cfg = &cfg;
  d.once = opts[2].value != NULL;
  if (cs_config_host(&cfg, NULL, d.host_name, sizeof d.host_name, &err) != CS_OK) {
    start_failed(&d, cfg.path, err.text);
    goto out;
  }
  /* It names commands run as root / LocalSystem, and the folders written to: judged
   * before anything is created or written where it says, and said to the system log
   * (and stderr) only. */
  if (cs_cli_config_unsafe(&cfg, why, sizeof why, msg, sizeof msg)) {
    cs_events_cfg_t sys;
    memset(&sys, 0, sizeof sys);
    sys.to_system = 1;
    if (cs_events_open(&sys) == CS_OK)
      cs_event_say(CS_EV_CONFIG_UNSAFE, NULL, cfg.path, why, NULL);
    start_failed(&d, cfg.path, msg);
    goto out;
  }
  if (cs_cli_open_events(&cfg, opts[1].value != NULL) != 0)
    goto out;
  /* what [connector] leaves empty, from the connector itself: said in the event log */
  if (cs_connector_resolve(&cfg, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, NULL, cfg.store.state_dir, err.text, NULL);
    goto out;
  }
  (void)cs_plat_path_join(lockpath, sizeof lockpath, cfg.store.state_dir,
                          CS_STATE_LOCK); /* "" when too long: refused */
  if (cs_plat_lock(lockpath, &lock, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, NULL, cfg.store.state_dir, err.text, NULL);
    goto out;
  }
  if (cs_plat_mkdirs(cfg.watch.folder, 0700, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, NULL, cfg.watch.folder, err.text, NULL);
    goto out;
  }
  if (cs_worker_init(&d.worker, cfg.path, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, NULL, cfg.store.state_dir, err.text, NULL);
    goto out;
  }
  d.env.cfg = &cfg;
  d.env.worker = &d.worker;
  d.env.host = d.host_name;
  cs_event_say(CS_EV_SERVICE_STARTED, NULL, CS_VERSION, cfg.path ? cfg.path : "(built-in defaults)", NULL);
  startup_checks(&d);
  cs__daemon_writers(&d); /* and again before each renewal (daemon.c) */

  d.loop = uv_default_loop();
  uv_timer_init(d.loop, &d.stop);
  uv_timer_init(d.loop, &d.ready);
  d.stop.data = d.ready.data = &d;
  uv_signal_init(d.loop, &d.sigterm);
  uv_signal_init(d.loop, &d.sigint);
  d.sigterm.data = d.sigint.data = &d;
  uv_signal_start(&d.sigterm, signal_cb, SIGTERM);
  uv_signal_start(&d.sigint, signal_cb, SIGINT);
  uv_async_init(d.loop, &d.wake, wake_cb);
  d.wake.data = &d;
  uv_once(&stop_once, stop_lock_init);
  uv_mutex_lock(&stop_lock);
  stop_wake = &d.wake;
  asked = stop_asked;
  uv_mutex_unlock(&stop_lock);
  if (asked)
    uv_async_send(&d.wake);
  uv_timer_start(&d.ready, ready_cb, 0, 0); /* the first turn of the loop: it runs */

  cs__daemon_start(&d);
  uv_run(d.loop, UV_RUN_DEFAULT);
  cs__daemon_adopt_stop(&d);

  uv_mutex_lock(&stop_lock);
  stop_wake = NULL;
  uv_mutex_unlock(&stop_lock);
  cs_event_say(CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL);
  uv_walk(d.loop, close_cb, NULL);
  uv_run(d.loop, UV_RUN_DEFAULT);
  (void)uv_loop_close(d.loop);
  rc = d.once_incomplete ? CS_EXIT_USAGE : CS_EXIT_OK;
  if (d.once_incomplete)
    fprintf(stderr, "certsteward run --once: not everything due could be done (see the events)\n");
out:
  cs__daemon_writers_free(&d);
  cs__daemon_free(&d);
  cs_plat_unlock(lock);
  cs_events_close();
  if (have_cfg)
    cs_config_free(&cfg);
  free(operands);
  return rc;
}
