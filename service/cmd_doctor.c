/* certsteward doctor: is this server ready for certsteward? What an admin runs right
 * after installing: one line per check (ok, warn or fail, and why), or one JSON
 * object. It only looks: no folder is created, no lock taken, no transaction
 * recovered, nothing granted, imported or rewritten (the worker it asks stages
 * nothing). Which certificate is in service is decided as status and the renewal
 * decide it (cs_renewal_current); the probes, the scan of the binding files and the
 * chain check are theirs too. Exit status: 0 every check passed (warnings allowed),
 * 1 a check failed, 2 it could not run. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bindings.h"
#include "cli.h"
#include "cmd_judge.h"
#include "doctor_request.h"
#include "connector.h"
#include "daemon.h"
#include "platform.h"
#include "renewal.h"
#include "text.h"
#include "worker.h"

#define PROBE_TIMEOUT_MS 5000
#define STATUS_TIMEOUT_MS 10000
#define DETAIL_MAX 1024
#define ID_WIDTH 18
#define DOCTOR_OWN_SERVICE "certsteward" /* the service certsteward install registers */

typedef struct check_s {
  const char *id; /* stable: scripts key on it */
  cs_doctor_outcome_t outcome;
  char *detail; /* owned; raw (sanitised on output) */
} check_t;

typedef struct doctor_s {
  const cs_config_t *cfg;
  cs_worker_t worker;
  cs_err_t worker_err; /* CS_OK when the worker was found */
  char host[256];
  cs_err_t host_err;
  char tp[41]; /* in service; "" when unknown */
  cs_err_t tp_err;
  char store_tp[41]; /* POSIX: what [store] cert_file holds; "" when unknown */
  check_t *checks;
  size_t n, cap;
  int nomem;
} doctor_t;

static const char *outcome_name(cs_doctor_outcome_t o) {
  return o == CS_DOCTOR_OK ? "ok" : o == CS_DOCTOR_WARN ? "warn" : "fail";
}

static void add(doctor_t *d, const char *id, cs_doctor_outcome_t o, const char *fmt, ...) CS_PRINTF(4, 5);
static void add(doctor_t *d, const char *id, cs_doctor_outcome_t o, const char *fmt, ...) {
  char detail[DETAIL_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    check_t *v = realloc(d->checks, cap * sizeof *v);
    if (v == NULL) {
      d->nomem = 1;
      return;
    }
    d->checks = v;
    d->cap = cap;
  }
  d->checks[d->n].id = id;
  d->checks[d->n].outcome = o;
  if ((d->checks[d->n].detail = cs_strdup(detail)) == NULL) {
    d->nomem = 1;
    return;
  }
  d->n++;
}

static const char *nonempty(const char *s, const char *dflt) { return s != NULL && *s ? s : dflt; }

/* ---- the connector's service --------------------------------------------------- */

static void check_service(doctor_t *d) {
  const cs_config_t *cfg = d->cfg;
  const char *svc = cfg->connector.service;
  char state[64], account[CS_ERR_TEXT_MAX + 400], *start_name = NULL, *image = NULL;
  cs_run_result_t res;
  cs_err_t err;
  int running = 0, rc;

  memset(&res, 0, sizeof res);
  if (svc == NULL) {
    if (cfg->connector.status_command == NULL) {
      add(d, "connector_service", CS_DOCTOR_WARN,
          "neither [connector] service nor status_command is set: whether the service runs cannot be told");
      return;
    }
    /* judged as every run judges it: a refused one is not run here either (connector_commands says why) */
    if (cs_cmd_judge_shell("status_command", cfg->connector.status_command, &err) != CS_OK) {
      add(d, "connector_service", CS_DOCTOR_FAIL, "status_command is not run: %s", err.text);
      return;
    }
    rc = cs_plat_run_shell(cfg->connector.status_command, STATUS_TIMEOUT_MS, &res, &err);
    if (rc != CS_OK)
      add(d, "connector_service", CS_DOCTOR_FAIL, "status_command cannot be run: %s", err.text);
    else if (res.timed_out || res.exit_code != 0)
      add(d, "connector_service", CS_DOCTOR_FAIL, "status_command %s (it must exit 0 while the service runs)",
          res.timed_out ? "did not finish in time" : "failed");
    else
      add(d, "connector_service", CS_DOCTOR_OK, "status_command exits 0: the service runs");
    cs_run_result_free(&res);
    return;
  }
  if ((rc = cs_plat_service_state(svc, state, sizeof state, &running, &err)) != CS_OK) {
    add(d, "connector_service", CS_DOCTOR_FAIL, "%s", err.text);
    return;
  }
  account[0] = '\0';
  if (cs_plat_service_config_known()) { /* the account it runs as, from the service manager */
    char name[300];
    if (cs_plat_service_config(svc, &start_name, &image, &err) != CS_OK)
      snprintf(account, sizeof account, ", its account unknown (%s)", err.text);
    else if ((rc = cs_connector_account(start_name, svc, name, sizeof name)) == CS_CONNECTOR_NO_GRANT)
      snprintf(account, sizeof account, ", as LocalSystem");
    else if (rc == CS_OK)
      snprintf(account, sizeof account, ", as %s", name);
    else
      snprintf(account, sizeof account, ", as \"%.200s\" (not an account name)", nonempty(start_name, "?"));
  }
  add(d, "connector_service", running ? CS_DOCTOR_OK : CS_DOCTOR_FAIL, "%s is %s%s%s", svc, nonempty(state, "?"),
      account, running ? "" : ": it must run to serve the certificate");
  free(start_name);
  free(image);
}

/* ---- the certificate in service and its key ------------------------------------ */

/* POSIX: [store] cert_file and key_file, judged by the worker as check --current does. */
static void check_cert_files(doctor_t *d, cs_reply_t *v, int *have_v) {
  const cs_config_t *cfg = d->cfg;
  char cert[4096], key[4096];
  const cs_check_t *c;
  cs_err_t err;

  if (cfg->store.cert_file == NULL) {
    add(d, "certificate", CS_DOCTOR_FAIL, "[store] cert_file is not set: there is no certificate in service");
    return;
  }
  cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, NULL);
  if (cert[0] == '\0') {
    add(d, "certificate", CS_DOCTOR_FAIL, "%s does not exist", cfg->store.cert_file);
    return;
  }
  if (d->worker_err.code != CS_OK) {
    add(d, "certificate", CS_DOCTOR_FAIL, "%s", d->worker_err.text);
    return;
  }
  if (cs_worker_validate(&d->worker, cert, cert, key[0] ? key : NULL, NULL, v, &err) != CS_OK) {
    add(d, "certificate", CS_DOCTOR_FAIL, "%s cannot be judged: %s", cert, err.text);
    return;
  }
  *have_v = 1;
  memcpy(d->store_tp, v->report.thumbprint, 41);
  if ((c = cs_report_find(&v->report, CS_CHECK_LOAD)) != NULL && !c->ok)
    add(d, "certificate", CS_DOCTOR_FAIL, "%s", c->detail);
  else if (key[0] == '\0')
    add(d, "certificate", CS_DOCTOR_FAIL, "%s holds %s, but its key, [store] key_file, %s", cert, d->store_tp,
        cfg->store.key_file ? "does not exist" : "is not set");
  else if ((c = cs_report_find(&v->report, CS_CHECK_KEY_MATCH)) == NULL || !c->ok)
    add(d, "certificate", CS_DOCTOR_FAIL, "%s: %s", key, c ? c->detail : "the key was not compared");
  else if (!d->tp[0]) /* binding files that name two: the store's file still tells what it holds */
    add(d, "certificate", CS_DOCTOR_FAIL, "%s holds %s, but which certificate is in service cannot be told: %s", cert,
        d->store_tp, d->tp_err.text);
  else if (strcmp(d->tp, d->store_tp) != 0)
    add(d, "certificate", CS_DOCTOR_FAIL, "%s holds %s, but the certificate in service is %s", cert, d->store_tp,
        d->tp);
  else
    add(d, "certificate", CS_DOCTOR_OK, "%s holds %s (%s, not after %s) and %s its private key", cert, d->store_tp,
        nonempty(v->report.subject, "no subject"), nonempty(v->report.not_after, "?"), key);
}

/* Windows: the certificate in LocalMachine\My, with its private key. */
static void check_cert_store(doctor_t *d) {
  cs_plat_cert_t *certs = NULL;
  char when[32] = "?";
  size_t n = 0, i;
  cs_err_t err;

  if (cs_plat_store_list(d->cfg, &certs, &n, &err) != CS_OK) {
    add(d, "certificate", CS_DOCTOR_FAIL, "%s", err.text);
    return;
  }
  for (i = 0; i < n && strcmp(certs[i].tp, d->tp) != 0; i++)
    ;
  if (i == n) {
    add(d, "certificate", CS_DOCTOR_FAIL, "%s is not in LocalMachine\\My", d->tp);
  } else {
    time_t t = (time_t)certs[i].not_after;
    struct tm *tm = gmtime(&t);
    if (tm != NULL)
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", tm);
    if (!certs[i].has_key)
      add(d, "certificate", CS_DOCTOR_FAIL, "%s is in LocalMachine\\My without a private key (imported from a .cer?)",
          d->tp);
    else
      add(d, "certificate", CS_DOCTOR_OK, "%s is in LocalMachine\\My with its private key (%s, not after %s)", d->tp,
          nonempty(certs[i].subject, "no subject"), when);
  }
  cs_plat_store_list_free(certs, n);
}

static void check_key_access(doctor_t *d) {
  const cs_config_t *cfg = d->cfg;
  const char *account = cfg->connector.account;
  char ref[4096], why[1024];
  int readable = 0;
  cs_err_t err;

  if (account == NULL) {
    add(d, "key_access", CS_DOCTOR_OK, "%s",
        cs_plat_is_windows() ? "the connector runs as LocalSystem, which reads every machine key: nothing to check"
                             : "no [connector] account: the key is read as root, nothing to check");
    return;
  }
  if (!d->tp[0] || cs_plat_store_key_ref(cfg, d->tp, ref, sizeof ref) != CS_OK || ref[0] == '\0') {
    add(d, "key_access", CS_DOCTOR_FAIL, "there is no key in service to check for %s", account);
    return;
  }
  if (cs_plat_key_readable(ref, account, &readable, why, sizeof why, &err) != CS_OK)
    add(d, "key_access", CS_DOCTOR_FAIL, "whether %s can read the key cannot be told: %s", account, err.text);
  else
    add(d, "key_access", readable ? CS_DOCTOR_OK : CS_DOCTOR_FAIL, "%s%s", why,
        readable ? "" : " (the next renewal grants READ; until then the connector cannot use the key)");
}

/* ---- bindings, endpoints, trust --------------------------------------------------- */

static void check_bindings(doctor_t *d) {
  const cs_strlist_t *files = &d->cfg->connector.binding_files;
  const char *want = d->store_tp[0] ? d->store_tp : d->tp;
  cs_bindings_scan_t scan;
  cs_buf_t names = CS_BUF_INIT;
  cs_err_t err;
  size_t i, k;

  if (files->n == 0) {
    add(d, "bindings", CS_DOCTOR_OK, "no [connector] binding_files: no file names the thumbprint");
    return;
  }
  if (cs_bindings_scan((const char *const *)files->v, files->n, &scan, &err) != CS_OK) {
    add(d, "bindings", CS_DOCTOR_FAIL, "%s", err.text);
    return;
  }
  for (i = 0; i < scan.n_found; i++) {
    const cs_bindings_found_t *f = &scan.found[i];
    cs_buf_printf(&names, "%s%s %zu time%s in ", i ? "; " : "", f->tp, f->count, f->count == 1 ? "" : "s");
    for (k = 0; k < f->n_files; k++)
      cs_buf_printf(&names, "%s%s", k ? ", " : "", scan.files[f->files[k]]);
  }
  if (scan.n_found == 0)
    add(d, "bindings", CS_DOCTOR_FAIL, "%s name%s no thumbprint", files->v[0], files->n > 1 ? " and the others" : "s");
  else if (scan.n_found > 1)
    add(d, "bindings", CS_DOCTOR_FAIL, "they name more than one certificate: %s", nonempty(cs_buf_str(&names), "?"));
  else if (want[0] && strcmp(scan.found[0].tp, want) != 0)
    add(d, "bindings", CS_DOCTOR_FAIL, "they name %s, not %s, the certificate %s", nonempty(cs_buf_str(&names), "?"),
        want, d->store_tp[0] ? "in [store] cert_file" : "in service");
  else
    add(d, "bindings", CS_DOCTOR_OK, "%s", nonempty(cs_buf_str(&names), "?"));
  cs_buf_free(&names);
  cs_bindings_scan_free(&scan);
}

static void check_endpoints(doctor_t *d) {
  const cs_config_t *cfg = d->cfg;
  const char *why = cfg->connector.endpoints_default ? "taken from the connector's settings, not configured"
                                                     : "configured in [connector] endpoints";
  const char *want = d->store_tp[0] ? d->store_tp : d->tp;
  char served[41];
  cs_err_t err;
  size_t i;

  if (cfg->connector.endpoints.n == 0)
    add(d, "endpoints", CS_DOCTOR_WARN, "no endpoint to probe: a renewal cannot prove the new certificate is served");
  for (i = 0; i < cfg->connector.endpoints.n; i++) {
    const char *ep = cfg->connector.endpoints.v[i];
    if (d->worker_err.code != CS_OK)
      add(d, "endpoint", CS_DOCTOR_FAIL, "%s (%s): %s", ep, why, d->worker_err.text);
    else if (!d->host[0])
      add(d, "endpoint", CS_DOCTOR_FAIL, "%s (%s): no host name to send as SNI: %s", ep, why, d->host_err.text);
    else if (cs_worker_probe(&d->worker, ep, d->host, PROBE_TIMEOUT_MS, served, &err) != CS_OK)
      add(d, "endpoint",
          cfg->connector.endpoints_default && cs_connector_not_tls(ep, err.text) ? CS_DOCTOR_WARN : CS_DOCTOR_FAIL,
          "%s (%s): %s", ep, why, err.text);
    else if (!want[0] || strcmp(served, want) != 0)
      add(d, "endpoint", CS_DOCTOR_FAIL, "%s (%s) serves %s, not the certificate in service %s", ep, why, served,
          nonempty(want, "(unknown)"));
    else
      add(d, "endpoint", CS_DOCTOR_OK, "%s (%s) serves %s", ep, why, served);
  }
}

/* Windows without ca_file: the machine's chain engine, as the policy's chain check asks it. */
static void check_machine_chain(doctor_t *d) {
  unsigned char *der = NULL;
  size_t len = 0;
  cs_machine_chain_t mc;
  cs_der_t leaf;
  cs_err_t err;

  memset(&mc, 0, sizeof mc);
  if (cs_plat_store_cert(d->tp, &der, &len, &err) != CS_OK) {
    add(d, "chain", CS_DOCTOR_FAIL, "%s", err.text);
    return;
  }
  leaf.p = der;
  leaf.len = len;
  if (cs_plat_machine_chain(&leaf, NULL, 0, time(NULL), &mc, &err) != CS_OK)
    add(d, "chain", CS_DOCTOR_FAIL, "the machine's chain engine cannot be asked: %s", err.text);
  else if (!mc.trusted)
    add(d, "chain", CS_DOCTOR_FAIL, "this machine does not trust %s: %s", d->tp, mc.why);
  else
    add(d, "chain", CS_DOCTOR_OK, "%s chains to a root this machine trusts (%s)", d->tp, mc.root_from);
  cs_plat_machine_chain_free(&mc);
  free(der);
}

static void check_chain(doctor_t *d, const cs_reply_t *v, int have_v) {
  const cs_check_t *c;
  if (!d->tp[0]) {
    add(d, "chain", CS_DOCTOR_FAIL, "no certificate in service to check");
  } else if (cs_plat_machine_trust()) {
    if (d->cfg->policy.ca_file == NULL)
      check_machine_chain(d);
    else /* the file is read by OpenSSL, in the worker, which takes a file: not done here */
      add(d, "chain", CS_DOCTOR_WARN,
          "[policy] ca_file %s decides trust: check the certificate in service with "
          "certsteward check --ca against an exported copy",
          d->cfg->policy.ca_file);
  } else if (!have_v) {
    add(d, "chain", CS_DOCTOR_FAIL, "%s could not be judged (see certificate)", nonempty(d->cfg->store.cert_file, "-"));
  } else if ((c = cs_report_find(&v->report, CS_CHECK_CHAIN)) == NULL) {
    add(d, "chain", CS_DOCTOR_FAIL, "the worker made no chain check");
  } else {
    add(d, "chain", c->ok ? CS_DOCTOR_OK : CS_DOCTOR_FAIL, "%s (trust: %s)", c->detail,
        nonempty(d->cfg->policy.ca_file, "the system's default store"));
  }
}

/* ---- folders and files --------------------------------------------------------- */

/* secret: no one else may read it either */
static void check_safe(doctor_t *d, const char *id, const char *what, const char *path,
                       int (*unsafe)(const char *, char *, size_t), int secret) {
  char why[1024];
  if (path == NULL)
    add(d, id, CS_DOCTOR_OK, "no %s is configured", what);
  else if (unsafe(path, why, sizeof why))
    add(d, id, CS_DOCTOR_FAIL, "%s %s is not safe: %s", what, path, why);
  else
    add(d, id, CS_DOCTOR_OK, "%s %s can be %s by %s only", what, path, secret ? "read and changed" : "changed",
        cs_plat_admins());
}

/* [connector] restart_command and status_command run as root / LocalSystem: what they
 * name must be changeable by administrators only, the judgement every run makes
 * (cmd_judge.h) and the daemon's event 1018 at start. A fail line per refused command. */
static void check_commands(doctor_t *d) {
  const char *keys[2] = {"restart_command", "status_command"};
  const char *lines[2] = {d->cfg->connector.restart_command, d->cfg->connector.status_command};
  cs_err_t err;
  int i, set = 0, refused = 0;
  for (i = 0; i < 2; i++) {
    if (lines[i] == NULL || lines[i][0] == '\0')
      continue;
    set++;
    if (cs_cmd_judge_shell(keys[i], lines[i], &err) != CS_OK) {
      refused++;
      add(d, "connector_commands", CS_DOCTOR_FAIL, "%s is not run: %s", keys[i], err.text);
    }
  }
  if (set > 0 && refused == 0)
    add(d, "connector_commands", CS_DOCTOR_OK, "what restart_command and status_command name can be changed by %s only",
        cs_plat_admins());
}

/* The folders on the path of each file certsteward writes (the daemon's event 1014):
 * a warning per file whose folders others can change, or one line saying none can. */
/* [request]: doctor_request.c */
static void check_request(doctor_t *d) {
  char detail[DETAIL_MAX];
  cs_doctor_outcome_t o =
      cs_doctor_request(d->cfg, d->worker_err.code == CS_OK ? &d->worker : NULL, d->host, detail, sizeof detail);
  add(d, "request", o, "%s", detail);
}

static void check_writers(doctor_t *d) {
  size_t i, n = cs_daemon_written_count(d->cfg), files = 0, open = 0;
  char folder[4096], who[1024];
  for (i = 0; i < n; i++) {
    const char *file = cs_daemon_written_file(d->cfg, i);
    if (file == NULL)
      continue;
    files++;
    if (cs_plat_path_writers(file, folder, sizeof folder, who, sizeof who)) {
      open++;
      add(d, "written_path", CS_DOCTOR_WARN, "%s is written as %s, but the folder %s on its path can be changed by %s",
          file, cs_plat_service_account(), folder, who);
    }
  }
  if (open == 0)
    add(d, "written_path", CS_DOCTOR_OK,
        files ? "the folders on the path of each file certsteward writes can be "
                "changed by %s only"
              : "no file is written outside the state folder%s",
        files ? cs_plat_admins() : "");
}

/* The last component of path */
static const char *base_name(const char *path) {
  const char *p = path + strlen(path);
  while (p > path && !cs_plat_is_path_sep(p[-1]))
    p--;
  return p;
}

/* The program's folder: certsteward and its worker run as root / LocalSystem, so
 * whoever can change either program or a folder on their path runs code as them
 * (cs_plat_program_unsafe, which certsteward install applies too). One line for exe and
 * worker; lead and tail frame it. */
static void judge_program(doctor_t *d, const char *exe, const char *worker, const char *lead, const char *tail) {
  const char *base[2] = {base_name(exe), base_name(worker)};
  char why[4096 + 1024 + 64];

  if (cs_plat_program_unsafe(exe, worker, why, sizeof why)) {
    add(d, "program_folder", CS_DOCTOR_FAIL, "%s%s: whoever can change it runs code as %s%s", lead, why,
        cs_plat_service_account(), tail);
    return;
  }
  add(d, "program_folder", CS_DOCTOR_OK, "%s%.*s, the folders above it, %s and %s can be changed by %s only%s", lead,
      (int)(base[0] - exe > 1 ? base[0] - exe - 1 : base[0] - exe), exe, base[0], base[1], cs_plat_admins(), tail);
}

/* The same file, as Windows names it: ASCII case and the separator ignored. Two names
 * of one file that compare different only make doctor judge it twice. */
static int same_program(const char *a, const char *b) {
  for (; *a != '\0' && *b != '\0'; a++, b++)
    if (!(cs_plat_is_path_sep(*a) && cs_plat_is_path_sep(*b)) &&
        !(*a == *b || ((*a | 0x20) == (*b | 0x20) && (*a | 0x20) >= 'a' && (*a | 0x20) <= 'z')))
      return 0;
  return *a == *b;
}

/* Which program is judged. What runs as LocalSystem on Windows is the program the
 * service certsteward's ImagePath names (the first argument of its command line), and
 * the worker beside it, which need not be the program doctor runs as (one install run
 * from a download folder registers that copy): that one is judged, said so when it is
 * another, and the running one too. The program is taken from the command line as
 * for the connector (cs_connector_image_exe): quoted, or unquoted up to its ".exe"; an
 * unquoted one with a blank in it is judged as the system runs it when no shorter
 * prefix names a program, which is not checked here. On Linux the running program is
 * judged: the systemd unit's ExecStart is fixed by the package, and the service manager
 * tells nothing (cs_plat_service_config_known). */
static void check_program(doctor_t *d) {
  char exe[4096], worker[4096], svc_exe[4096], svc_worker[4096], lead[4096 + 64], *start_name = NULL, *image = NULL;
  const char *tail = "", *wbase;
  cs_err_t err;
  int rc, n;

  if (cs_plat_sibling_path("certsteward", exe, sizeof exe, &err) != CS_OK ||
      cs_plat_sibling_path(CS_WORKER_NAME, worker, sizeof worker, &err) != CS_OK) {
    add(d, "program_folder", CS_DOCTOR_FAIL, "%s", err.text);
    return;
  }
  if (cs_plat_service_config_known()) {
    rc = cs_plat_service_config(DOCTOR_OWN_SERVICE, &start_name, &image, &err);
    if (rc == CS_ENOENT)
      tail = "; the service " DOCTOR_OWN_SERVICE " is not installed: this program was judged";
    else if (rc != CS_OK)
      add(d, "program_folder", CS_DOCTOR_FAIL, "the program the service " DOCTOR_OWN_SERVICE " runs is unknown: %s",
          err.text);
    else if (cs_connector_image_exe(image, svc_exe, sizeof svc_exe, &err) != CS_OK)
      add(d, "program_folder", CS_DOCTOR_FAIL,
          "the program the service " DOCTOR_OWN_SERVICE " runs is unknown: %s (its command line: %s)", err.text, image);
    else if (!same_program(svc_exe, exe)) {
      /* its worker: the one it finds beside itself (cs_plat_sibling_path) */
      wbase = base_name(worker);
      n = (int)(strrchr(svc_exe, '\\') - svc_exe) + 1; /* image_exe: a drive path with \ only */
      if (snprintf(svc_worker, sizeof svc_worker, "%.*s%s", n, svc_exe, wbase) >= (int)sizeof svc_worker)
        add(d, "program_folder", CS_DOCTOR_FAIL, "the path of the service's worker is too long: %s", svc_exe);
      else {
        snprintf(lead, sizeof lead, "the service " DOCTOR_OWN_SERVICE " runs %s, not this program: ", svc_exe);
        judge_program(d, svc_exe, svc_worker, lead, "");
      }
    }
  }
  judge_program(d, exe, worker, "", tail);
  free(start_name);
  free(image);
}

static void check_platform(doctor_t *d) {
  char detail[DETAIL_MAX];
  cs_doctor_outcome_t o = cs_plat_doctor_event_source(detail, sizeof detail);
  if (detail[0])
    add(d, "event_source", o, "%s", detail);
  o = cs_plat_doctor_own_service(detail, sizeof detail);
  if (detail[0])
    add(d, "own_service", o, "%s", detail);
}

static void run_checks(doctor_t *d) {
  const cs_config_t *cfg = d->cfg;
  cs_renewal_env_t env;
  cs_reply_t v;
  int have_v = 0;

  memset(&v, 0, sizeof v);
  if (cfg->path == NULL)
    add(d, "config_file", CS_DOCTOR_WARN, "no configuration file: the built-in defaults are used");
  else
    check_safe(d, "config_file", "the configuration", cfg->path, cs_plat_config_file_unsafe, 0);
  check_commands(d);
  check_service(d);
  if (cs_config_host(cfg, NULL, d->host, sizeof d->host, &d->host_err) != CS_OK)
    d->host[0] = '\0';
  memset(&env, 0, sizeof env);
  env.cfg = cfg;
  env.worker = &d->worker;
  env.host = d->host;
  if (cs_renewal_current(&env, d->tp, &d->tp_err) != CS_OK)
    d->tp[0] = '\0';
  if (cs_plat_store_is_system()) {
    if (d->tp[0])
      check_cert_store(d);
    else
      add(d, "certificate", CS_DOCTOR_FAIL, "the certificate in service is unknown: %s", d->tp_err.text);
  } else {
    check_cert_files(d, &v, &have_v);
  }
  check_key_access(d);
  check_bindings(d);
  check_endpoints(d);
  check_chain(d, &v, have_v);
  check_safe(d, "drop_folder", "the drop folder", cfg->watch.folder, cs_plat_folder_unsafe, 0);
  check_safe(d, "state_folder", "the state folder", cfg->store.state_dir, cs_plat_folder_unsafe, 0);
  check_safe(d, "password_file", "the password file", cfg->watch.password_file, cs_plat_secret_file_unsafe, 1);
  check_writers(d);
  check_request(d);
  check_program(d);
  check_platform(d);
  cs_reply_free(&v);
}

/* ---- output ------------------------------------------------------------------------ */

static cs_doctor_outcome_t verdict(const doctor_t *d) {
  cs_doctor_outcome_t worst = CS_DOCTOR_OK;
  size_t i;
  for (i = 0; i < d->n; i++)
    if (d->checks[i].outcome > worst)
      worst = d->checks[i].outcome;
  return d->nomem ? CS_DOCTOR_FAIL : worst;
}

static size_t count(const doctor_t *d, cs_doctor_outcome_t o) {
  size_t i, k = 0;
  for (i = 0; i < d->n; i++)
    k += d->checks[i].outcome == o;
  return k;
}

static void print_text(const doctor_t *d) {
  cs_buf_t b = CS_BUF_INIT;
  cs_doctor_outcome_t v = verdict(d);
  size_t i, warns = count(d, CS_DOCTOR_WARN), fails = count(d, CS_DOCTOR_FAIL);
  for (i = 0; i < d->n; i++) {
    cs_buf_printf(&b, "%-4s  %-*s ", outcome_name(d->checks[i].outcome), ID_WIDTH, d->checks[i].id);
    cs_text_sanitize(&b, d->checks[i].detail);
    cs_buf_puts(&b, "\n");
  }
  if (v == CS_DOCTOR_FAIL)
    cs_buf_printf(&b, "doctor: NOT READY: %zu check%s failed\n", fails, fails == 1 ? "" : "s");
  else if (v == CS_DOCTOR_WARN)
    cs_buf_printf(&b, "doctor: ready, with %zu warning%s\n", warns, warns == 1 ? "" : "s");
  else
    cs_buf_puts(&b, "doctor: ready\n");
  fputs(d->nomem || cs_buf_str(&b) == NULL ? "certsteward doctor: out of memory\n" : cs_buf_str(&b), stdout);
  cs_buf_free(&b);
}

static void print_json(const doctor_t *d) {
  cs_buf_t b = CS_BUF_INIT, s = CS_BUF_INIT;
  size_t i;
  cs_buf_puts(&b, "{\"config\":");
  cs_json_str(&b, d->cfg->path);
  cs_buf_printf(&b, ",\"verdict\":\"%s\",\"in_service\":", outcome_name(verdict(d)));
  cs_json_str(&b, d->tp[0] ? d->tp : NULL);
  cs_buf_puts(&b, ",\"checks\":[");
  for (i = 0; i < d->n; i++) {
    cs_buf_printf(&b, "%s{\"id\":\"%s\",\"outcome\":\"%s\",\"detail\":", i ? "," : "", d->checks[i].id,
                  outcome_name(d->checks[i].outcome));
    cs_buf_free(&s);
    cs_text_sanitize(&s, d->checks[i].detail); /* as the text shows it */
    cs_json_str(&b, cs_buf_str(&s) ? cs_buf_str(&s) : "");
    cs_buf_puts(&b, "}");
  }
  cs_buf_puts(&b, "]}\n");
  fputs(d->nomem || cs_buf_str(&b) == NULL ? "{\"error\":\"out of memory\"}\n" : cs_buf_str(&b), stdout);
  cs_buf_free(&s);
  cs_buf_free(&b);
}

int cs_cmd_doctor(int argc, char **argv) {
  cs_config_t cfg;
  doctor_t d;
  size_t i;
  int json, rc;

  if (cs_cli_command_config(argc, argv, &cfg, &json) != 0)
    return CS_EXIT_USAGE;
  memset(&d, 0, sizeof d);
  d.cfg = &cfg;
  if (cs_worker_init(&d.worker, cfg.path, &d.worker_err) != CS_OK && d.worker_err.code == CS_OK)
    cs_err_set(&d.worker_err, CS_EFAILED, 0, "the worker cannot be found");
  run_checks(&d);
  if (json)
    print_json(&d);
  else
    print_text(&d);
  rc = verdict(&d) == CS_DOCTOR_FAIL ? CS_EXIT_REJECTED : CS_EXIT_OK;
  for (i = 0; i < d.n; i++)
    free(d.checks[i].detail);
  free(d.checks);
  cs_config_free(&cfg);
  return rc;
}
