#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "request.h"

int cs_worker_init(cs_worker_t *w, const char *config_path, cs_err_t *err) {
  memset(w, 0, sizeof *w);
  w->config_path = config_path;
  return cs_plat_sibling_path(CS_WORKER_NAME, w->exe, sizeof w->exe, err);
}

/* Runs the worker with argv (argv[0] filled in here): 0 with its output in res (free
 * it with cs_run_result_free), or CS_EFAILED when it did not answer (could not start,
 * timed out, crashed). */
static int run(const cs_worker_t *w, const char **argv, int timeout_ms, int confined, cs_run_result_t *res,
               cs_err_t *err) {
  cs_err_t perr;
  int rc;

  cs_err_clear(&perr);
  argv[0] = w->exe;
  rc = confined ? cs_plat_run_confined(argv, NULL, 0, timeout_ms, CS_REPLY_MAX, res, &perr)
                : cs_plat_run(argv, NULL, 0, timeout_ms, CS_REPLY_MAX, res, &perr);
  if (rc != CS_OK)
    return cs_err_set(err, CS_EFAILED, perr.raw, "the worker could not be started: %s", perr.text);
  if (res->timed_out)
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker did not answer within %d s and was stopped", timeout_ms / 1000);
  else if (res->signal != 0)
    rc = cs_err_set(err, CS_EFAILED, res->signal, "the worker crashed (signal %d)", res->signal);
  if (rc != CS_OK)
    cs_run_result_free(res);
  return rc;
}

/* Runs the worker with argv (argv[0] filled in here), confined or not (its request
 * command: it makes the machine's keys), and parses its answer. */
static int ask_as(const cs_worker_t *w, const char **argv, int timeout_ms, int confined, cs_reply_t *reply,
                  cs_err_t *err) {
  cs_run_result_t res;
  cs_err_t perr;
  int rc;

  memset(reply, 0, sizeof *reply);
  cs_err_clear(&perr);
  if ((rc = run(w, argv, timeout_ms, confined, &res, err)) != CS_OK)
    return rc;
  if (cs_reply_parse(res.out ? res.out : "", res.out_len, reply, &perr) != CS_OK)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "the worker's answer is not valid (%s; exit status %d)", perr.text,
                    res.exit_code);
  else if (reply->error != NULL)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "%s", reply->error);
  else if (res.exit_code != 0)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "the worker exited with status %d", res.exit_code);
  cs_run_result_free(&res);
  return rc;
}

static int ask(const cs_worker_t *w, const char **argv, int timeout_ms, cs_reply_t *reply, cs_err_t *err) {
  return ask_as(w, argv, timeout_ms, 1, reply, err);
}

/* certsteward-worker request OP --name NAME [--config FILE] and the rest of argv */
static int ask_request(const cs_worker_t *w, const char *op, const char *name, const char *const *more, int confined,
                       cs_reply_t *reply, cs_err_t *err) {
  const char *argv[20];
  size_t k = 1, i;
  argv[k++] = "request";
  argv[k++] = op;
  argv[k++] = "--name";
  argv[k++] = name;
  if (w->config_path != NULL) {
    argv[k++] = "--config";
    argv[k++] = w->config_path;
  }
  for (i = 0; more != NULL && more[i] != NULL && k < 19; i++)
    argv[k++] = more[i];
  argv[k] = NULL;
  return ask_as(w, argv, CS_WORKER_TIMEOUT_MS, confined, reply, err);
}

int cs_worker_request_make(const cs_worker_t *w, const char *name, const char *host, const char *dns,
                           const char *template_name, const char *csr_path, cs_err_t *err) {
  const char *more[10] = {NULL};
  cs_reply_t reply;
  size_t k = 0;
  int rc;
  more[k++] = "--host";
  more[k++] = host;
  if (dns != NULL && *dns) {
    more[k++] = "--dns";
    more[k++] = dns;
  }
  if (template_name != NULL && *template_name) {
    more[k++] = "--template";
    more[k++] = template_name;
  }
  more[k++] = "--out";
  more[k++] = csr_path;
  more[k] = NULL;
  rc = ask_request(w, "make", name, more, 0, &reply, err);
  cs_reply_free(&reply);
  return rc;
}

int cs_worker_request_join(const cs_worker_t *w, const char *name, const char *answer, const char *out,
                           cs_reply_t *reply, cs_err_t *err) {
  const char *more[] = {"--out", out, "--", answer, NULL};
  return ask_request(w, "join", name, more, 1, reply, err); /* the CA's answer: untrusted */
}

int cs_worker_request_delete(const cs_worker_t *w, const char *name, cs_err_t *err) {
  cs_reply_t reply;
  int rc = ask_request(w, "delete", name, NULL, 0, &reply, err);
  cs_reply_free(&reply);
  return rc;
}

int cs_worker_adcs(const cs_worker_t *w, cs_ca_op_t op, const char *name, const char *cookie, const char *state_dir,
                   int timeout_ms, cs_ca_answer_t *ans, cs_err_t *err) {
  const char *argv[12];
  char path[4096];
  unsigned char *data = NULL;
  size_t k = 1, len = 0;
  cs_reply_t reply;
  int rc;

  memset(ans, 0, sizeof *ans);
  ans->status = -1;
  ans->delay = -1;
  argv[k++] = "adcs";
  argv[k++] = op == CS_CA_OP_SUBMIT ? "submit" : op == CS_CA_OP_POLL ? "poll" : "identify";
  if (w->config_path != NULL) {
    argv[k++] = "--config";
    argv[k++] = w->config_path;
  }
  if (name != NULL) {
    argv[k++] = "--name";
    argv[k++] = name;
  }
  if (op == CS_CA_OP_POLL) {
    argv[k++] = "--cookie";
    argv[k++] = cookie != NULL ? cookie : "";
  }
  argv[k] = NULL;
  if ((rc = ask_as(w, argv, timeout_ms, 0, &reply, err)) != CS_OK)
    goto out;
  if (!reply.has_ca) {
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker's adcs answer holds no ca line");
    goto out;
  }
  ans->status = reply.ca_status;
  ans->cookie = reply.ca_cookie;
  reply.ca_cookie = NULL;
  snprintf(ans->message, sizeof ans->message, "%s", reply.ca_message != NULL ? reply.ca_message : "");
  if (ans->status == CS_CA_ISSUED && name != NULL) {
    /* the CA's bytes as the worker wrote them: read here, judged by request join */
    if ((rc = cs_request_file(state_dir, name, CS_REQUEST_ANSWER, path, sizeof path, err)) != CS_OK ||
        (rc = cs_plat_read_file(path, CS_CA_OUT_MAX, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
      goto out;
    if ((ans->out = cs_memdup(data, len)) == NULL)
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    ans->out_len = len;
    cs_plat_free_file(data, len);
  }
out:
  cs_reply_free(&reply);
  if (rc != CS_OK)
    cs_ca_answer_free(ans);
  return rc;
}

int cs_worker_validate_probing(const cs_worker_t *w, const char *file, const char *current, const char *key,
                               const char *stage_dir, const char *sni, const char *const *endpoints, size_t n,
                               int timeout_ms, unsigned flags, cs_reply_t *reply, cs_err_t *err) {
  const char **argv;
  char ms[16];
  size_t k = 1, i;
  int rc;

  memset(reply, 0, sizeof *reply);
  if (sni == NULL)
    n = 0;
  if ((argv = malloc((20 + n) * sizeof *argv)) == NULL) /* 18 at most, the endpoints, NULL */
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  argv[k++] = "validate";
  if (w->config_path != NULL) {
    argv[k++] = "--config";
    argv[k++] = w->config_path;
  }
  if (current != NULL && *current) {
    argv[k++] = "--current";
    argv[k++] = current;
  }
  if (key != NULL && *key) {
    argv[k++] = "--key";
    argv[k++] = key;
  }
  if (flags & CS_WORKER_OWN_KEY) {
    argv[k++] = "--store-key";
    argv[k++] = "own";
  }
  if (stage_dir != NULL) {
    argv[k++] = "--stage";
    argv[k++] = stage_dir;
  }
  if (n > 0) {
    snprintf(ms, sizeof ms, "%d", timeout_ms);
    argv[k++] = "--sni";
    argv[k++] = sni;
    argv[k++] = "--timeout";
    argv[k++] = ms;
  }
  argv[k++] = "--";
  argv[k++] = file;
  for (i = 0; i < n; i++)
    argv[k++] = endpoints[i];
  argv[k] = NULL;
  /* the worker bounds each probe; this bound is for a worker that hangs */
  rc = ask(w, argv, CS_WORKER_TIMEOUT_MS + (int)n * timeout_ms, reply, err);
  free(argv);
  return rc;
}

int cs_worker_validate(const cs_worker_t *w, const char *file, const char *current, const char *key,
                       const char *stage_dir, cs_reply_t *reply, cs_err_t *err) {
  return cs_worker_validate_probing(w, file, current, key, stage_dir, NULL, NULL, 0, 0, 0, reply, err);
}

int cs_worker_probe_confirmed(const cs_worker_t *w, const char *endpoint, const char *sni, int timeout_ms, int confirm,
                              char served[41], cs_err_t *err) {
  char ms[16], times[16];
  const char *argv[] = {NULL, "probe", "--timeout", ms, "--sni", sni, "--confirm", times, endpoint, NULL};
  cs_reply_t reply;
  int rc;
  if (confirm < 1 || confirm > CS_WORKER_CONFIRM_MAX)
    return cs_err_set(err, CS_EINVAL, 0, "a probe is confirmed 1 to %d times, not %d", CS_WORKER_CONFIRM_MAX, confirm);
  snprintf(ms, sizeof ms, "%d", timeout_ms);
  snprintf(times, sizeof times, "%d", confirm);
  served[0] = '\0';
  /* the worker bounds each connection; this bound is for a worker that hangs */
  rc = ask(w, argv, timeout_ms * confirm + 5000, &reply, err);
  if (rc == CS_OK && reply.served[0] == '\0')
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker's probe answer names no certificate");
  if (rc == CS_OK)
    memcpy(served, reply.served, 41);
  cs_reply_free(&reply);
  return rc;
}

int cs_worker_probe(const cs_worker_t *w, const char *endpoint, const char *sni, int timeout_ms, char served[41],
                    cs_err_t *err) {
  return cs_worker_probe_confirmed(w, endpoint, sni, timeout_ms, 1, served, err);
}

int cs_worker_scan(const cs_worker_t *w, const char *file, cs_reply_t *reply, cs_err_t *err) {
  const char *argv[] = {NULL, "scan", file, NULL};
  int rc = ask(w, argv, CS_WORKER_TIMEOUT_MS, reply, err);
  if (rc == CS_OK && reply->report.thumbprint[0] == '\0')
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker's scan answer names no certificate");
  return rc;
}

/* Upper bound of what arg adds to a Windows command line (common/win: quoted when
 * needed, a backslash or quote at most doubled, one space before it), counted in
 * UTF-8 bytes, never fewer than its UTF-16 units. */
static size_t arg_cost(const char *arg) {
  size_t n = 3;
  for (; *arg != '\0'; arg++)
    n += *arg == '\\' || *arg == '"' ? 2 : 1;
  return n;
}

size_t cs_worker_scan_fit(const cs_worker_t *w, const char *const *files, size_t n) {
  /* the same bound everywhere: a scan behaves alike on both systems (a POSIX command
   * line holds far more) */
  size_t room = 32000 - arg_cost(w->exe) - 64, used = 0, k;
  for (k = 0; k < n && k < CS_WORKER_SCAN_FILES; k++) {
    used += arg_cost(files[k]);
    if (used > room)
      break;
  }
  return k > 0 ? k : (n > 0 ? 1 : 0);
}

/* 1 when the worker's record names file (sanitised by its writer as cs_reply_put does). */
static int names(const cs_reply_t *r, const char *file) {
  cs_buf_t b = CS_BUF_INIT;
  int same;
  cs_text_sanitize(&b, file);
  same = r->report.file != NULL && cs_buf_str(&b) != NULL && strcmp(r->report.file, cs_buf_str(&b)) == 0;
  cs_buf_free(&b);
  return same;
}

int cs_worker_scan_many(const cs_worker_t *w, const char *const *files, size_t n, cs_reply_t *out, cs_err_t *err) {
  const char **argv = NULL;
  cs_reply_many_t m;
  cs_run_result_t res;
  cs_err_t perr;
  size_t i;
  int rc;

  memset(&m, 0, sizeof m);
  memset(out, 0, n * sizeof *out);
  cs_err_clear(&perr);
  if ((argv = malloc((n + 4) * sizeof *argv)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  argv[1] = "scan";
  argv[2] = "--";
  for (i = 0; i < n; i++)
    argv[3 + i] = files[i];
  argv[3 + n] = NULL;
  if ((rc = run(w, argv, CS_WORKER_TIMEOUT_MS, 1, &res, err)) != CS_OK)
    goto out;
  if (cs_reply_parse_many(res.out ? res.out : "", res.out_len, n, &m, &perr) != CS_OK)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "the worker's answer is not valid (%s; exit status %d)", perr.text,
                    res.exit_code);
  else if (m.head.error != NULL)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "%s", m.head.error);
  else if (res.exit_code != 0)
    rc = cs_err_set(err, CS_EFAILED, res.exit_code, "the worker exited with status %d", res.exit_code);
  else if (m.n != n)
    rc = cs_err_set(err, CS_EFAILED, 0, "the worker described %zu of %zu files", m.n, n);
  for (i = 0; rc == CS_OK && i < n; i++)
    if (!names(&m.items[i], files[i]))
      rc = cs_err_set(err, CS_EFAILED, 0, "the worker's answer does not follow the files asked (record %zu)", i + 1);
  cs_run_result_free(&res);
  if (rc == CS_OK) { /* the records move to out */
    memcpy(out, m.items, n * sizeof *out);
    m.n = 0;
  }
out:
  cs_reply_many_free(&m);
  free(argv);
  return rc;
}
