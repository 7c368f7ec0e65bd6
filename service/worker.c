/* certsteward-worker: the short-lived process that touches untrusted input for the
 * daemon (which never loads OpenSSL): validating and staging a dropped file (and the
 * renewal's pre-flight probe in the same process), the expiry scan of certificate
 * files (many in one process), the TLS probe. It answers on standard output
 * in the line protocol of reply.h, the whole answer written at once at the end, so
 * a crash leaves an answer without its "end" line, which the daemon refuses.
 * Exit status: 0 answered (a rejected file too), 1 could not do what was asked
 * (an "error" line says why), 2 bad usage. Nothing secret is ever printed: no
 * password, no key bytes.
 * One exception: `check` is `certsteward check` itself (certsteward hands its
 * command line over), with that command's text output and exit statuses.
 * This file: the arguments, the validate, probe, scan and version commands and the
 * dispatch; the staging of a validated file is in worker_stage.c, check in
 * worker_check.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "config.h"
#include "csr.h"
#include "fault.h"
#include "load.h"
#include "opts.h"
#include "platform.h"
#include "probe.h"
#include "reply.h"
#include "request.h"
#include "report.h"
#include "text.h"
#include "validate.h"
#include "worker_int.h"

#ifndef CS_VERSION
#define CS_VERSION "unknown"
#endif

#define PROBE_TIMEOUT_MS 10000
#define PROBE_TIMEOUT_MAX_MS 3600000L
#define PROBE_CONFIRM_MAX 10L /* CS_WORKER_CONFIRM_MAX */

static const char usage[] =
    "usage: certsteward-worker validate [--config FILE] [--current FILE] [--key FILE] [--stage DIR] "
    "[--host NAME] [--sni NAME [--timeout MS]] FILE [ENDPOINT...] | "
    "probe [--timeout MS] [--confirm N] --sni NAME ENDPOINT... | scan [--max-size N] FILE... | "
    "request make|join|delete --name NAME ... | adcs submit|poll|identify ... | version | "
    "check (as certsteward check)";

/* Options as certsteward reads them (opts.c); a usage error becomes an answer on
 * standard output, not a line on stderr. */
int cs__worker_args(int argc, char **argv, cs_opt_t *opts, const char **operands, int *n, cs_buf_t *out) {
  cs_buf_t why = CS_BUF_INIT;
  cs_err_t err;
  if (cs_opts_parse(argc, argv, 2, opts, operands, n, &err) == CS_OK)
    return 0;
  cs_buf_printf(&why, "%s: %s; %s", argv[1], err.text, usage);
  cs_reply_put(out, "error", cs_buf_str(&why));
  cs_buf_free(&why);
  return -1;
}

int cs__worker_fail(cs_buf_t *out, int code, const char *text) {
  cs_reply_put(out, "error", text);
  return code;
}

static long parse_positive(const char *s, long max) {
  char *end = NULL;
  long v = strtol(s, &end, 10);
  return end != s && *end == '\0' && v > 0 && v <= max ? v : -1;
}

/* Writes the leaf's description: thumbprint, subject, not_after, not_after_epoch. */
/* "dns": the leaf's DNS names (csr.h: its SAN dNSNames, else its CN), for the request
 * that renews it; none, no line */
static void put_names(cs_buf_t *out, X509 *leaf) {
  cs_csr_dns_t names;
  cs_buf_t line = CS_BUF_INIT;
  cs_err_t err;
  size_t i;
  if (cs_csr_x509_names(leaf, &names, &err) == CS_OK && names.n > 0) {
    for (i = 0; i < names.n; i++)
      cs_buf_printf(&line, "%s%s", i ? " " : "", names.v[i]);
    if (cs_buf_str(&line) != NULL)
      cs_reply_put(out, "dns", cs_buf_str(&line));
  }
  cs_buf_free(&line);
  cs_csr_dns_free(&names);
}

int cs__worker_put_leaf(cs_buf_t *out, X509 *leaf) {
  char tp[41], not_after[21], num[32];
  char *subject = NULL;
  long long epoch = 0;
  int rc = cs_x509_describe(leaf, tp, &subject, not_after, &epoch);
  if (rc == CS_OK) {
    cs_reply_put(out, "thumbprint", tp);
    cs_reply_put(out, "subject", subject);
    cs_reply_put(out, "not_after", not_after);
    snprintf(num, sizeof num, "%lld", epoch);
    cs_reply_put(out, "not_after_epoch", num);
    put_names(out, leaf);
  }
  free(subject);
  return rc;
}

/* ---- commands ------------------------------------------------------------------- */

/* The pre-flight of a renewal, in the validating process (validate --sni NAME FILE
 * ENDPOINT...): what each endpoint serves, "-" when it could not be probed (the
 * daemon probes that one again on its own, and says why if it still fails). */
static void preflight(cs_buf_t *out, const char *sni, long timeout, const char **endpoints, int n) {
  cs_buf_t line = CS_BUF_INIT;
  char tp[41], *subject = NULL;
  cs_err_t err;
  int i;
  for (i = 0; i < n; i++) {
    cs_fault_point("worker_probe"); /* test builds: crash.sh (as in probe) */
    cs_err_clear(&err);
    cs_buf_free(&line);
    cs_buf_printf(&line, "%s %s", cs_probe(endpoints[i], sni, (int)timeout, tp, &subject, &err) == CS_OK ? tp : "-",
                  endpoints[i]);
    cs_reply_put(out, "preflight", cs_buf_str(&line));
    free(subject);
    subject = NULL;
  }
  cs_buf_free(&line);
}

/* POSIX: the key file of the certificate request in flight, which a returned certificate
 * dropped alone is joined with (validate.h: request_key); NULL when none waits (Windows
 * joins it through the request's placeholder in LocalMachine\REQUEST instead). */
static const char *request_key(const cs_config_t *cfg, char *path, size_t len) {
  cs_request_t r;
  cs_err_t err;
  int ok;
  if (cs_plat_store_holds_keys() || cs_request_read(cfg->store.state_dir, &r, &err) != CS_OK)
    return NULL;
  ok = strcmp(r.state, CS_REQ_HELD) != 0 && strcmp(r.state, CS_REQ_ISSUED) != 0 &&
       cs_request_file(cfg->store.state_dir, r.name, CS_REQUEST_KEY, path, len, &err) == CS_OK && cs_plat_exists(path);
  cs_request_free(&r);
  return ok ? path : NULL;
}

static int cmd_validate(int argc, char **argv, cs_buf_t *out) {
  enum { O_CONFIG, O_CURRENT, O_KEY, O_STAGE, O_HOST, O_SNI, O_TIMEOUT, O_STORE_KEY };
  cs_opt_t opts[] = {{"config", 1, NULL},  {"current", 1, NULL},   {"key", 1, NULL},
                     {"stage", 1, NULL},   {"host", 1, NULL},      {"sni", 1, NULL},
                     {"timeout", 1, NULL}, {"store-key", 1, NULL}, {NULL, 0, NULL}};
  int own;
  const char **files = NULL;
  cs_validate_opts_t vo;
  cs_validate_t v;
  cs_config_t cfg;
  cs_report_t rep;
  cs_bundle_t b;
  STACK_OF(X509) *chain = NULL; /* the verified chain after the leaf: what is staged */
  cs_buf_t line = CS_BUF_INIT;
  cs_err_t err;
  size_t i;
  char request_key_path[4096];
  long timeout = PROBE_TIMEOUT_MS;
  int n_files = 0, have_cfg = 0, rc = EXIT_USAGE;

  memset(&v, 0, sizeof v);
  memset(&rep, 0, sizeof rep);
  memset(&b, 0, sizeof b);
  memset(&vo, 0, sizeof vo);
  cs_err_clear(&err);
  files = malloc(sizeof *files * (size_t)argc);
  if (files == NULL) {
    rc = cs__worker_fail(out, EXIT_FAILED, "out of memory");
    goto out;
  }
  if (cs__worker_args(argc, argv, opts, files, &n_files, out) != 0)
    goto out;
  if (n_files < 1 || (n_files > 1 && opts[O_SNI].value == NULL)) {
    rc = cs__worker_fail(out, EXIT_USAGE, "validate takes exactly one file (and endpoints after it with --sni)");
    goto out;
  }
  if (opts[O_TIMEOUT].value != NULL && (timeout = parse_positive(opts[O_TIMEOUT].value, PROBE_TIMEOUT_MAX_MS)) < 0) {
    cs__worker_fail(out, rc, "--timeout takes milliseconds, 1 to 3600000");
    goto out;
  }
  rc = EXIT_FAILED;
  if ((opts[O_CONFIG].value ? cs_config_load(&cfg, opts[O_CONFIG].value, &err) : cs_config_defaults(&cfg)) != CS_OK) {
    cs__worker_fail(out, rc, err.text[0] ? err.text : "cannot load the configuration");
    goto out;
  }
  have_cfg = 1;
  vo.host = opts[O_HOST].value;
  vo.current = opts[O_CURRENT].value;
  vo.key = opts[O_KEY].value;
  vo.request_key = request_key(&cfg, request_key_path, sizeof request_key_path);
  if (opts[O_STORE_KEY].value != NULL && strcmp(opts[O_STORE_KEY].value, "own") != 0) {
    cs__worker_fail(out, EXIT_USAGE,
                    "--store-key takes own (a certificate found in the store, with its own key there)");
    goto out;
  }
  /* --store-key own: a certificate adopted from the store is bound to its own key
   * there, never to the key in service; else the machine keys stay in
   * LocalMachine\My, and without a key in service a rollback uses its own. */
  own = opts[O_STORE_KEY].value != NULL;
  vo.key_in_store = cs_plat_store_holds_keys() && !own;
  vo.own_key_in_store = cs_plat_store_holds_keys();
  cs_fault_point("worker_validate"); /* test builds: crash.sh */
  if (cs_crypto_init(&err) != CS_OK || cs_validate_open(&v, &cfg, &vo, &err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  if (cs_report_init(&rep, files[0]) != CS_OK ||
      cs_validate_file(&v, files[0], CS_READ_NOFOLLOW, &b, &rep, &chain) != CS_OK) {
    cs__worker_fail(out, rc, "out of memory");
    goto out;
  }
  cs_fault_point("worker_validated"); /* test builds: crash.sh */

  cs_reply_put(out, "file", files[0]);
  if (b.leaf != NULL) {
    cs_reply_put(out, "format", cs_format_name(b.format));
    if (cs__worker_put_leaf(out, b.leaf) != CS_OK) {
      cs__worker_fail(out, rc, "cannot describe the certificate");
      goto out;
    }
    cs_reply_put(out, "key", b.key ? "yes" : "no");
  }
  for (i = 0; i < rep.n_checks; i++) {
    cs_buf_free(&line);
    cs_buf_printf(&line, "%s %s %s", rep.checks[i].id, rep.checks[i].ok ? "ok" : "failed", rep.checks[i].detail);
    cs_reply_put(out, "check", cs_buf_str(&line));
  }
  if (cs_report_accepted(&rep) && opts[O_STAGE].value != NULL) {
    if (cs__worker_stage(opts[O_STAGE].value, &cfg, &v, &b, chain, &err) != CS_OK) {
      cs_buf_t why = CS_BUF_INIT;
      cs_buf_printf(&why, "staging into %s failed: %s", opts[O_STAGE].value, err.text);
      cs__worker_fail(out, rc, cs_buf_str(&why));
      cs_buf_free(&why);
      goto out;
    }
    cs_reply_put(out, "staged", opts[O_STAGE].value);
  }
  if (cs_report_accepted(&rep) && opts[O_SNI].value != NULL)
    preflight(out, opts[O_SNI].value, timeout, files + 1, n_files - 1);
  rc = EXIT_ANSWERED;
out:
  cs_buf_free(&line);
  sk_X509_pop_free(chain, X509_free);
  cs_bundle_free(&b);
  cs_report_free(&rep);
  cs_validate_close(&v);
  if (have_cfg)
    cs_config_free(&cfg);
  free(files);
  return rc;
}

/* One endpoint, confirm handshakes back to back: what they agree on (tp, subject),
 * else an error naming what each saw. A reloading server may answer from its old and
 * its new processes at once for a moment; handshakes that disagree tell the daemon
 * to look again a little later. */
static int probe_confirmed(const char *endpoint, const char *sni, int timeout, long confirm, char tp[41],
                           char **subject, cs_err_t *err) {
  char again[41], *other = NULL;
  long k;
  int rc = cs_probe(endpoint, sni, timeout, tp, subject, err);
  for (k = 1; rc == CS_OK && k < confirm; k++) {
    if ((rc = cs_probe(endpoint, sni, timeout, again, &other, err)) == CS_OK && strcmp(again, tp) != 0)
      rc = cs_err_set(err, CS_EFAILED, 0, "served %s, then %s on the next connection", tp, again);
    free(other);
    other = NULL;
  }
  if (rc != CS_OK) {
    free(*subject);
    *subject = NULL;
  }
  return rc;
}

static int cmd_probe(int argc, char **argv, cs_buf_t *out) {
  enum { O_TIMEOUT, O_SNI, O_CONFIRM };
  cs_opt_t opts[] = {{"timeout", 1, NULL}, {"sni", 1, NULL}, {"confirm", 1, NULL}, {NULL, 0, NULL}};
  const char **endpoints = NULL;
  cs_buf_t line = CS_BUF_INIT;
  cs_err_t err;
  char tp[41], *subject = NULL;
  long timeout = PROBE_TIMEOUT_MS, confirm = 1;
  int n = 0, i, rc = EXIT_USAGE;

  cs_err_clear(&err);
  endpoints = malloc(sizeof *endpoints * (size_t)argc);
  if (endpoints == NULL) {
    rc = cs__worker_fail(out, EXIT_FAILED, "out of memory");
    goto out;
  }
  if (cs__worker_args(argc, argv, opts, endpoints, &n, out) != 0)
    goto out;
  if (opts[O_TIMEOUT].value != NULL && (timeout = parse_positive(opts[O_TIMEOUT].value, PROBE_TIMEOUT_MAX_MS)) < 0) {
    cs__worker_fail(out, rc, "--timeout takes milliseconds, 1 to 3600000");
    goto out;
  }
  if (opts[O_CONFIRM].value != NULL && (confirm = parse_positive(opts[O_CONFIRM].value, PROBE_CONFIRM_MAX)) < 0) {
    cs__worker_fail(out, rc, "--confirm takes a number of handshakes, 1 to 10");
    goto out;
  }
  if (opts[O_SNI].value == NULL || n == 0) {
    cs__worker_fail(out, rc, "probe needs --sni NAME and at least one ENDPOINT");
    goto out;
  }
  rc = EXIT_FAILED;
  if (cs_crypto_init(&err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  for (i = 0; i < n; i++) {
    cs_buf_free(&line);
    cs_fault_point("worker_probe"); /* test builds: crash.sh */
    if (probe_confirmed(endpoints[i], opts[O_SNI].value, (int)timeout, confirm, tp, &subject, &err) == CS_OK) {
      cs_buf_printf(&line, "%s %s", tp, subject ? subject : "-");
      cs_reply_put(out, "served", cs_buf_str(&line));
    } else {
      cs_buf_printf(&line, "%s: %s", endpoints[i], err.text);
      cs_reply_put(out, "error", cs_buf_str(&line));
    }
    free(subject);
    subject = NULL;
  }
  rc = EXIT_ANSWERED;
out:
  cs_buf_free(&line);
  free(endpoints);
  return rc;
}

/* The name after the last separator. */
static const char *base_name(const char *path) {
  const char *p, *base = path;
  for (p = path; *p != '\0'; p++)
    if (cs_plat_is_path_sep(*p))
      base = p + 1;
  return base;
}

static int cmd_scan(int argc, char **argv, cs_buf_t *out) {
  cs_opt_t opts[] = {{"max-size", 1, NULL}, {NULL, 0, NULL}};
  const char **files = NULL;
  cs_buf_t line = CS_BUF_INIT;
  cs_config_t def;
  cs_bundle_t b;
  cs_err_t err;
  long max;
  int n = 0, i, have_def = 0, lrc = CS_OK, rc = EXIT_USAGE;

  memset(&b, 0, sizeof b);
  cs_err_clear(&err);
  files = malloc(sizeof *files * (size_t)argc);
  if (files == NULL) {
    rc = cs__worker_fail(out, EXIT_FAILED, "out of memory");
    goto out;
  }
  if (cs__worker_args(argc, argv, opts, files, &n, out) != 0)
    goto out;
  if (n == 0) {
    cs__worker_fail(out, rc, "scan needs at least one FILE");
    goto out;
  }
  rc = EXIT_FAILED;
  /* The same default limit as [watch] max_file_size when none is given. */
  if (cs_config_defaults(&def) != CS_OK) {
    cs__worker_fail(out, rc, "out of memory");
    goto out;
  }
  have_def = 1;
  max = (long)def.watch.max_file_size;
  if (opts[0].value != NULL && (max = parse_positive(opts[0].value, 0x7fffffffL)) < 0) {
    rc = cs__worker_fail(out, EXIT_USAGE, "--max-size takes a byte count, 1 to 2147483647");
    goto out;
  }
  if (cs_crypto_init(&err) != CS_OK) {
    cs__worker_fail(out, rc, err.text);
    goto out;
  }
  for (i = 0; i < n; i++) {
    cs_fault_point("worker_scan");                        /* test builds: crash.sh */
    cs_fault_point2("worker_scan:", base_name(files[i])); /* test builds: daemon.sh, one file that kills */
    cs_reply_put(out, "file", files[i]);
    /* No password: certificate files only; a PFX is an error for its own line. What is
     * scanned is in service or waits to be (cs_load_content_error): of its content only
     * that it is not a readable certificate is said. */
    if ((lrc = cs_load_file(files[i], (size_t)max, CS_READ_NOFOLLOW, NULL, &b, &err)) != CS_OK ||
        cs__worker_put_leaf(out, b.leaf) != CS_OK) {
      cs_buf_free(&line);
      if (lrc != CS_OK && cs_load_content_error(lrc))
        cs_buf_printf(&line, "%s: not a certificate certsteward can read (" CS_LOAD_UNSAID ")", files[i]);
      else
        cs_buf_printf(&line, "%s: %s", files[i], err.text[0] ? err.text : "cannot describe the certificate");
      cs_reply_put(out, "error", cs_buf_str(&line));
    }
    cs_bundle_free(&b);
    cs_err_clear(&err);
  }
  rc = EXIT_ANSWERED;
out:
  cs_buf_free(&line);
  cs_bundle_free(&b);
  if (have_def)
    cs_config_free(&def);
  free(files);
  return rc;
}

/* ---- version and dispatch ------------------------------------------------------ */

/* "privileges <enabled ones>" in the version answer where a process holds such a list
 * (Windows): what this process may do beyond its account's access, as the one who
 * started it left it (certsteward version shows it; started by certsteward, only
 * SeChangeNotifyPrivilege). */
static void put_privileges(cs_buf_t *out) {
  char names[1024];
  if (cs_plat_privileges(names, sizeof names) == CS_OK)
    cs_reply_put(out, "privileges", names[0] ? names : "none");
}

static int run_command(int argc, char **argv) {
  cs_buf_t out = CS_BUF_INIT;
  const char *cmd = argc > 1 ? argv[1] : "";
  int rc;

  if (strcmp(cmd, "check") == 0)
    return cs__worker_check(argc, argv);
  cs_plat_stdout_binary(); /* "\n" must reach the daemon as "\n", not "\r\n" */
  cs_buf_puts(&out, CS_REPLY_MAGIC "\n");
  if (strcmp(cmd, "validate") == 0) {
    rc = cmd_validate(argc, argv, &out);
  } else if (strcmp(cmd, "probe") == 0) {
    rc = cmd_probe(argc, argv, &out);
  } else if (strcmp(cmd, "scan") == 0) {
    rc = cmd_scan(argc, argv, &out);
  } else if (strcmp(cmd, "request") == 0) {
    rc = cs__worker_request(argc, argv, &out);
  } else if (strcmp(cmd, "adcs") == 0) {
    rc = cs__worker_adcs(argc, argv, &out);
  } else if (strcmp(cmd, "version") == 0 && argc == 2) {
    cs_reply_put(&out, "version", CS_VERSION);
    cs_reply_put(&out, "openssl", OpenSSL_version(OPENSSL_VERSION));
    put_privileges(&out);
    rc = EXIT_ANSWERED;
  } else {
    rc = cs__worker_fail(&out, EXIT_USAGE, usage);
  }
  cs_buf_puts(&out, "end\n");
  cs_fault_point("worker_answer"); /* test builds: crash.sh */
  if (cs_buf_str(&out) == NULL) {
    /* Out of memory half-way: a short, complete answer rather than a truncated one. */
    fputs(CS_REPLY_MAGIC "\nerror out of memory\nend\n", stdout);
    rc = EXIT_FAILED;
  } else if (fwrite(out.p, 1, out.len, stdout) != out.len) {
    rc = EXIT_FAILED;
  }
  if (fflush(stdout) != 0)
    rc = EXIT_FAILED;
  cs_buf_free(&out);
  return rc;
}

/* Entered from the platform's main / wmain (cs_entry) with the arguments in UTF-8: the
 * paths the daemon and certsteward check hand over reach the file API whole, whatever
 * Windows' ANSI code page. */
const int cs_main_nomem_exit = EXIT_FAILED;
int cs_main(int argc, char **argv) { return run_command(argc, argv); }
