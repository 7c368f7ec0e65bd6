/* The fixture of tests/unit/test_renewal.c: a temporary state folder, a store, a
 * binding file, a connector and the stand-in worker (tests/support/standin_worker.c),
 * for cs_renewal_run and cs_renewal_recover in process.
 *
 * POSIX (renewal_fx.c): the store is files in the fixture's folder; the certificates
 * are the stand-in's ("thumbprint <tp>" files); the connector is the file "served",
 * the certificate the last start put in service (the restart command, or the systemctl
 * stand-in of the split plan, copy the store's certificate file there; a stop removes
 * it).
 * Windows (renewal_fx_win.c): the store is the real LocalMachine\My (crypt32, under
 * Wine in the test command), the certificates the test PKI's; the connector reads its
 * thumbprint from tls.json at each start: the restart command copies tls.json to
 * "served"; in the split plan the connector is a service registered with the SCM
 * (tests/support/win_testsvc.c) that keeps tls.json open while it runs and writes back
 * what it read when it stops, and a probe answers what tls.json names while it runs. */
#ifndef CS_RENEWAL_FX_H
#define CS_RENEWAL_FX_H

#include <stddef.h>

#include "config.h"
#include "renewal.h"
#include "worker.h"

#ifdef _WIN32
#define SEP "\\"
#else
#define SEP "/"
#endif

typedef struct fx_s {
  char dir[1024];
  int split;
  char service[96]; /* Windows, split: the connector's service, registered ("" when not) */
  cs_config_t cfg;
  cs_worker_t worker;
  cs_renewal_env_t env;
  cs_renewal_result_t res;
} fx_t;

/* the certificate in service and the renewed one */
extern char OLD_TP[41], NEW_TP[41];
/* the binding file naming OLD_TP (lower and upper case), as setup wrote it */
extern char old_tls[512];

/* tls.json naming tp, as the connector writes it */
void fx_tls_json(const char *tp, char *buf, size_t len);
/* the fault points' variables (NULL: unset) */
void fx_fault(const char *point, const char *mode, const char *run);
/* f->dir joined with name, in one of eight rotating buffers */
const char *fx_at(const fx_t *f, const char *name);
/* events to f->dir/events.jsonl */
void fx_open_events(const fx_t *f);
/* reads f->dir/cs.ini again, and the worker and env of f */
void fx_load(fx_t *f);

/* split: the connector is a service certsteward stops and starts; else an admin's
 * restart command restarts it in one go. */
void fx_setup(fx_t *f, int split);
void fx_teardown(fx_t *f);

/* The old certificate in service (the store, the binding file byte for byte, what is
 * served), nothing of the new one, no transaction left; the new one in service. */
void fx_old_in_service(const fx_t *f);
void fx_new_in_service(const fx_t *f);
void fx_no_transaction_left(const fx_t *f);
/* `last` (what `status` shows) says result and step */
void fx_last_says(const fx_t *f, const char *result, const char *step);

/* the platform's own part of fx_teardown */
void fx_platform_teardown(fx_t *f);

#endif
