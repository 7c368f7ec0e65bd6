/* The fixture of tests/unit/test_renewal.c (see renewal_fx.h): what both platforms
 * share, and the POSIX store, connector and systemctl stand-in. */
#include "renewal_fx.h"

#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "events.h"
#include "platform.h"

#ifdef _WIN32
char OLD_TP[41], NEW_TP[41]; /* the test PKI's, read by fx_setup */
#else
char OLD_TP[41] = "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9", NEW_TP[41] = "00112233445566778899AABBCCDDEEFF00112233";
static const char old_cert[] = "thumbprint 3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9\nthe certificate in service\n";
static const char old_key[] = "the key in service\n";
static const char new_cert[] = "thumbprint 00112233445566778899AABBCCDDEEFF00112233\nthe renewed certificate\n";
#endif
char old_tls[512];

void fx_tls_json(const char *tp, char *buf, size_t len) {
  char low[41];
  int i;
  for (i = 0; i < 41; i++)
    low[i] = tp[i] >= 'A' && tp[i] <= 'F' ? (char)(tp[i] - 'A' + 'a') : tp[i];
  snprintf(buf, len,
           "{\r\n  \"webServer\": { \"port\": 8197, \"thumbprint\": \"%s\" },\r\n  \"configurationServer\": "
           "{ \"port\": 8096, \"thumbprint\": \"%s\" }\r\n}\r\n",
           low, tp);
}

/* dir/name, in one of eight rotating buffers. */
const char *fx_at(const fx_t *f, const char *name) {
  static char buf[8][1200];
  static int k;
  char *b = buf[k++ % 8];
  snprintf(b, sizeof buf[0], "%s" SEP "%s", f->dir, name);
  return b;
}

void fx_open_events(const fx_t *f) {
  cs_events_cfg_t ev;
  memset(&ev, 0, sizeof ev);
  ev.jsonl_path = fx_at(f, "events.jsonl");
  ev.jsonl_max = 1 << 20;
  CHECK_INT(cs_events_open(&ev), ==, CS_OK);
}

/* Loads the configuration the fixture wrote (again, after the folder was replaced). */
void fx_load(fx_t *f) {
  cs_err_t err;
  CHECK_INT(cs_config_load(&f->cfg, fx_at(f, "cs.ini"), &err), ==, CS_OK);
  memset(&f->worker, 0, sizeof f->worker);
  /* built next to this test (tests/CMakeLists.txt) */
  CHECK_INT(cs_plat_sibling_path("cs-standin-worker", f->worker.exe, sizeof f->worker.exe, &err), ==, CS_OK);
  memset(&f->env, 0, sizeof f->env);
  f->env.cfg = &f->cfg;
  f->env.worker = &f->worker;
  f->env.host = "standin.test";
  f->env.name = "renewed.pem";
}

void fx_fault(const char *point, const char *mode, const char *run) {
  cs_test_setenv("CERTSTEWARD_TEST_FAULT", point);
  cs_test_setenv("CERTSTEWARD_TEST_FAULT_MODE", mode);
  cs_test_setenv("CERTSTEWARD_TEST_FAULT_RUN", run);
}

/* `last` (what `status` shows) says result and step. */
void fx_last_says(const fx_t *f, const char *result, const char *step) {
  char want[128], *last = cs_test_read_text(fx_at(f, "state" SEP "last"));
  snprintf(want, sizeof want, "result %s\n", result);
  CHECK_CONTAINS(last, want);
  snprintf(want, sizeof want, "\nstep %s\n", step);
  CHECK_CONTAINS(last, want);
  free(last);
}

void fx_no_transaction_left(const fx_t *f) {
  CHECK(!cs_plat_exists(fx_at(f, "state" SEP "journal")));
  CHECK(!cs_plat_exists(fx_at(f, "state" SEP "tx")));
}
#ifndef _WIN32
/* split: the connector is a service certsteward stops and starts (the systemctl
 * stand-in); else an admin's restart command restarts it in one go. */
void fx_setup(fx_t *f, int split) {
  char ini[4096], script[2048], restart[2600];
  cs_err_t err;
  memset(f, 0, sizeof *f);
  f->split = split;
  fx_tls_json(OLD_TP, old_tls, sizeof old_tls);
  cs_test_mkdtemp("cs-renewal", f->dir, sizeof f->dir);
  CHECK_INT(cs_plat_mkdirs(fx_at(f, "store"), 0700, &err), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(fx_at(f, "state"), 0700, &err), ==, CS_OK);
  cs_test_put_str(fx_at(f, "store/cert.pem"), old_cert);
  cs_test_put_str(fx_at(f, "store/key.pem"), old_key);
  cs_test_put_str(fx_at(f, "tls.json"), old_tls);
  cs_test_put_str(fx_at(f, "served"), old_cert); /* the connector runs, on the old certificate */
  cs_test_put_str(fx_at(f, "renewed.pem"), new_cert);
  if (split)
    snprintf(restart, sizeof restart, "service = cs-test-connector\n");
  else /* the restart command: the store's certificate is what is served now */
    snprintf(restart, sizeof restart, "restart_command = cp '%s' '%s'\n", fx_at(f, "store/cert.pem"),
             fx_at(f, "served"));
  snprintf(ini, sizeof ini,
           "[connector]\nhost = standin.test\nendpoints = 127.0.0.1:9\nbinding_files = %s\n"
           "status_command = test -e '%s'\nrestart_timeout = 2\n%s\n"
           "[store]\nstate_dir = %s\ncert_file = %s\nkey_file = %s\n",
           fx_at(f, "tls.json"), fx_at(f, "served"), restart, fx_at(f, "state"), fx_at(f, "store/cert.pem"),
           fx_at(f, "store/key.pem"));
  cs_test_put_str(fx_at(f, "cs.ini"), ini);
  /* systemctl as the split plan asks it (common/posix/service.c); a start of a running
   * unit does nothing, a restart starts it anew */
  snprintf(
      script, sizeof script,
      "#!/bin/sh\nD='%s'\ncase $1 in\nshow) echo loaded ;;\n"
      "is-active) if [ -e \"$D/served\" ]; then echo active; else echo inactive; exit 3; fi ;;\n"
      "stop) rm -f \"$D/served\"; echo stop >>\"$D/systemctl.log\" ;;\n"
      "start) [ -e \"$D/served\" ] || cp \"$D/store/cert.pem\" \"$D/served\"; echo start >>\"$D/systemctl.log\" ;;\n"
      "restart) cp \"$D/store/cert.pem\" \"$D/served\"; echo restart >>\"$D/systemctl.log\" ;;\n"
      "*) exit 1 ;;\nesac\n",
      f->dir);
  cs_test_put_str(fx_at(f, "systemctl"), script);
  CHECK_INT(chmod(fx_at(f, "systemctl"), 0700), ==, 0);
  cs_test_setenv("CERTSTEWARD_TEST_SYSTEMCTL", fx_at(f, "systemctl"));
  cs_test_setenv("CS_STANDIN_SERVED", fx_at(f, "served"));
  fx_open_events(f);
  fx_load(f);
}

/* The old certificate in service, byte for byte, and nothing of the new one. */
void fx_old_in_service(const fx_t *f) {
  cs_test_file_is_str(fx_at(f, "store/cert.pem"), old_cert);
  cs_test_file_is_str(fx_at(f, "store/key.pem"), old_key);
  cs_test_file_is_str(fx_at(f, "tls.json"), old_tls);
  cs_test_file_is_str(fx_at(f, "served"), old_cert);
  fx_no_transaction_left(f);
}

void fx_new_in_service(const fx_t *f) {
  char *tls = cs_test_read_text(fx_at(f, "tls.json")), want[512];
  cs_test_file_is_str(fx_at(f, "store/cert.pem"), new_cert);
  cs_test_file_is_str(fx_at(f, "served"), new_cert);
  fx_tls_json(NEW_TP, want, sizeof want);
  CHECK_STR(tls, want);
  free(tls);
  cs_test_file_is_str(fx_at(f, "state/archive/3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9/cert.pem"), old_cert);
  cs_test_file_is_str(fx_at(f, "state/archive/3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9/key.pem"), old_key);
  fx_no_transaction_left(f);
}

void fx_platform_teardown(fx_t *f) { (void)f; }
#endif

void fx_teardown(fx_t *f) {
  cs_err_t err;
  fx_fault(NULL, NULL, NULL);
  cs_events_close();
  cs_renewal_result_free(&f->res);
  cs_config_free(&f->cfg);
  fx_platform_teardown(f);
  CHECK_INT(cs_plat_remove_tree(f->dir, &err), ==, CS_OK);
}
