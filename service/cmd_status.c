/* certsteward status: what is in service and what certsteward is doing, for a
 * person or (--json) a script. Reads only: nothing is created, locked, recovered
 * or changed, and nothing missing (no state folder yet, no endpoint, a worker
 * that fails) stops the report: each part says what it could not tell. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "bindings.h"
#include "cli.h"
#include "daemon.h"
#include "drop.h"
#include "journal.h"
#include "last.h"
#include "platform.h"
#include "renewal.h"
#include "statedir.h"
#include "status_adopt.h"
#include "status_request.h"
#include "text.h"
#include "worker.h"

#define PATH_LEN 4096
#define PROBE_TIMEOUT_MS 3000 /* per endpoint: status answers now, not after a restart */
#define LABEL_WIDTH 18        /* text: labels are padded to this */

typedef struct folder_s {
  char path[PATH_LEN];
  int exists;
  char **names; /* sorted, raw (sanitised on output) */
  size_t n;
  cs_err_t err;
} folder_t;

typedef struct endpoint_s {
  const char *endpoint;
  char served[41];
  cs_err_t err;
} endpoint_t;

typedef struct last_s {
  int exists;
  cs_last_t l; /* last.h */
  cs_err_t err;
} last_t;

typedef struct status_s {
  const cs_config_t *cfg;
  char host[256];
  cs_err_t host_err;
  char tp[41]; /* the certificate in service; "" unknown */
  const char *tp_from;
  cs_err_t tp_err;
  int cert_scanned;
  cs_reply_t cert; /* the worker's scan of [store] cert_file */
  cs_err_t cert_err;
  cs_bindings_scan_t scan;
  int have_scan;
  cs_err_t scan_err;
  endpoint_t *eps;
  size_t n_eps;
  const char *state_dir;
  int state_exists;
  last_t last;
  int has_journal;
  cs_journal_t j;
  cs_err_t j_err;
  folder_t drop, waiting;
  cs_monitor_t monitored;  /* [store] monitor, when set */
  cs_status_adopt_t adopt; /* [store] adopt */
} status_t;

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Lists the files (not the folders) in f->path. */
static void list_files(folder_t *f, int waiting) {
  uv_fs_t req, st;
  uv_dirent_t ent;
  char path[PATH_LEN];
  int r = uv_fs_scandir(NULL, &req, f->path, 0, NULL);
  if (r < 0) {
    if (r != UV_ENOENT)
      cs_err_set(&f->err, CS_EIO, r, "cannot list %s: %s", f->path, uv_strerror(r));
    uv_fs_req_cleanup(&req);
    return;
  }
  f->exists = 1;
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    char **nv, *copy;
    int is_dir = ent.type == UV_DIRENT_DIR;
    if (waiting ? !cs_parked_candidate(ent.name) : !cs_drop_candidate(ent.name)) /* what the daemon leaves alone */
      continue;
    if (ent.type == UV_DIRENT_UNKNOWN) {
      is_dir = cs_plat_path_join(path, PATH_LEN, f->path, ent.name) == 0 && uv_fs_lstat(NULL, &st, path, NULL) == 0 &&
               (st.statbuf.st_mode & S_IFMT) == S_IFDIR;
      uv_fs_req_cleanup(&st);
    }
    if (is_dir)
      continue;
    if ((copy = cs_strdup(ent.name)) == NULL || (nv = realloc(f->names, (f->n + 1) * sizeof *nv)) == NULL) {
      free(copy);
      cs_err_set(&f->err, CS_ENOMEM, 0, "out of memory listing %s", f->path);
      break;
    }
    f->names = nv;
    f->names[f->n++] = copy;
  }
  uv_fs_req_cleanup(&req);
  if (f->n > 1)
    qsort(f->names, f->n, sizeof *f->names, cmp_names);
}

static void folder_free(folder_t *f) {
  size_t i;
  for (i = 0; i < f->n; i++)
    free(f->names[i]);
  free(f->names);
}

static void read_last(status_t *s) {
  if (cs_last_read(s->state_dir, &s->last.l, &s->last.err) == CS_ENOENT) {
    cs_err_clear(&s->last.err);
    return;
  }
  s->last.exists = 1;
}

/* seconds since 1970 as YYYY-MM-DDTHH:MM:SSZ; "" when not a time */
static void iso_time(const char *epoch, char out[32]) {
  char *end = NULL;
  long long v = epoch ? strtoll(epoch, &end, 10) : 0;
  time_t t = (time_t)v;
  struct tm *tm;
  out[0] = '\0';
  if (epoch != NULL && end != epoch && *end == '\0' && (tm = gmtime(&t)) != NULL)
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", tm);
}

static void gather(status_t *s, const cs_worker_t *w, const cs_err_t *w_err) {
  const cs_config_t *cfg = s->cfg;
  cs_renewal_env_t env;
  char cert[PATH_LEN], key[PATH_LEN], journal[PATH_LEN];
  size_t i;

  if (cs_config_host(cfg, NULL, s->host, sizeof s->host, &s->host_err) != CS_OK)
    s->host[0] = '\0';
  memset(&env, 0, sizeof env);
  env.cfg = cfg;
  env.worker = w;
  env.host = s->host;
  s->tp_from = cfg->connector.thumbprint        ? "[connector] thumbprint"
               : cfg->connector.binding_files.n ? "the binding files"
                                                : "[store] cert_file";
  if (cs_renewal_current(&env, s->tp, &s->tp_err) != CS_OK)
    s->tp[0] = '\0';

  /* the store's certificate file, described by the worker */
  if (cfg->store.cert_file != NULL) {
    cs_plat_store_current(cfg, cert, sizeof cert, key, sizeof key, NULL);
    if (cert[0] == '\0')
      cs_err_set(&s->cert_err, CS_ENOENT, 0, "%s does not exist", cfg->store.cert_file);
    else if (w_err->code != CS_OK)
      s->cert_err = *w_err;
    else if (cs_worker_scan(w, cert, &s->cert, &s->cert_err) == CS_OK)
      s->cert_scanned = 1;
  }

  if (cfg->connector.binding_files.n > 0)
    s->have_scan = cs_bindings_scan((const char *const *)cfg->connector.binding_files.v, cfg->connector.binding_files.n,
                                    &s->scan, &s->scan_err) == CS_OK;

  s->n_eps = cfg->connector.endpoints.n;
  if (s->n_eps > 0 && (s->eps = calloc(s->n_eps, sizeof *s->eps)) == NULL)
    s->n_eps = 0;
  for (i = 0; i < s->n_eps; i++) {
    endpoint_t *e = &s->eps[i];
    e->endpoint = cfg->connector.endpoints.v[i];
    if (w_err->code != CS_OK)
      e->err = *w_err;
    else if (s->host[0] == '\0')
      cs_err_set(&e->err, CS_ECONFIG, 0, "no host name to send as SNI: %s", s->host_err.text);
    else
      (void)cs_worker_probe(w, e->endpoint, s->host, PROBE_TIMEOUT_MS, e->served, &e->err);
  }

  s->state_dir = cfg->store.state_dir;
  s->state_exists = cs_plat_exists(s->state_dir);
  read_last(s);
  if (cs_plat_path_join(journal, PATH_LEN, s->state_dir, CS_STATE_JOURNAL) == 0 && cs_plat_exists(journal)) {
    s->has_journal = 1;
    (void)cs_journal_read(journal, &s->j, &s->j_err);
  }
  snprintf(s->drop.path, sizeof s->drop.path, "%s", cfg->watch.folder ? cfg->watch.folder : "");
  if (s->drop.path[0] != '\0')
    list_files(&s->drop, 0);
  if (cs_plat_path_join(s->waiting.path, PATH_LEN, s->state_dir, CS_STATE_WAITING) == 0)
    list_files(&s->waiting, 1);
  if (cs_monitor_source(cfg) != NULL)
    (void)cs_monitor_scan(cfg, w, &s->monitored); /* a worker that failed: each file says so */
  cs_status_adopt_gather(&s->adopt, cfg, s->tp);
}

static void status_free(status_t *s) {
  cs_reply_free(&s->cert);
  if (s->have_scan)
    cs_bindings_scan_free(&s->scan);
  free(s->eps);
  cs_last_free(&s->last.l);
  cs_journal_free(&s->j);
  folder_free(&s->drop);
  folder_free(&s->waiting);
  cs_monitor_free(&s->monitored);
  cs_status_adopt_free(&s->adopt);
}

/* ---- text ------------------------------------------------------------------- */

/* One line: the label, then each piece (NULL ends them) sanitised. */
#define tline(b, ...) cs_text_line((b), LABEL_WIDTH, __VA_ARGS__)

static const char *nonempty(const char *s, const char *dflt) { return s != NULL && *s ? s : dflt; }

static void text_folder(cs_buf_t *b, const char *label, const folder_t *f, const char *what) {
  char count[64];
  size_t i;
  snprintf(count, sizeof count, ": %zu file%s ", f->n, f->n == 1 ? "" : "s");
  if (f->err.code != CS_OK)
    tline(b, label, f->path, ": ", f->err.text, NULL);
  else if (!f->exists)
    tline(b, label, f->path, ": does not exist (nothing waiting)", NULL);
  else
    tline(b, label, f->path, f->n ? count : ": nothing ", what, NULL);
  for (i = 0; i < f->n; i++)
    tline(b, "", "  ", f->names[i], NULL);
}

static void text_cert(cs_buf_t *b, const status_t *s) {
  long long now = (long long)time(NULL), days = (s->cert.not_after_epoch - now) / 86400;
  char left[64];
  if (s->cfg->store.cert_file == NULL) {
    tline(b, "certificate file", "none ([store] cert_file not set)", NULL);
    return;
  }
  if (!s->cert_scanned) {
    tline(b, "certificate file", s->cfg->store.cert_file, ": ", s->cert_err.text, NULL);
    return;
  }
  if (s->cert.not_after_epoch < now)
    snprintf(left, sizeof left, " (EXPIRED)");
  else
    snprintf(left, sizeof left, " (%lld day%s left)", days, days == 1 ? "" : "s");
  tline(b, "certificate file", s->cfg->store.cert_file, NULL);
  tline(b, "  thumbprint", s->cert.report.thumbprint, NULL);
  tline(b, "  subject", s->cert.report.subject, NULL);
  tline(b, "  not after", s->cert.report.not_after, left, NULL);
}

static void text_bindings(cs_buf_t *b, const status_t *s) {
  cs_buf_t files = CS_BUF_INIT;
  char count[64];
  size_t i, k;
  if (s->cfg->connector.binding_files.n == 0)
    tline(b, "binding files", "none ([connector] binding_files not set)", NULL);
  else if (!s->have_scan)
    tline(b, "binding files", s->scan_err.text, NULL);
  else if (s->scan.n_found == 0)
    tline(b, "binding files", "name no thumbprint", NULL);
  for (i = 0; s->have_scan && i < s->scan.n_found; i++) {
    const cs_bindings_found_t *f = &s->scan.found[i];
    cs_buf_free(&files);
    for (k = 0; k < f->n_files; k++)
      cs_buf_printf(&files, "%s%s", k ? ", " : "", s->scan.files[f->files[k]]);
    snprintf(count, sizeof count, " %zu time%s in ", f->count, f->count == 1 ? "" : "s");
    tline(b, i ? "" : "binding files", f->tp, count, nonempty(cs_buf_str(&files), "?"), NULL);
  }
  cs_buf_free(&files);
}

static void text_transactions(cs_buf_t *b, const status_t *s) {
  const last_t *l = &s->last;
  char when[32], step[64];
  if (!l->exists) {
    tline(b, "last renewal", "none recorded", NULL);
  } else if (l->err.code != CS_OK) {
    tline(b, "last renewal", l->err.text, NULL);
  } else {
    char *const *v = l->l.v;
    iso_time(v[CS_LAST_TIME], when);
    tline(b, "last renewal", nonempty(v[CS_LAST_RESULT], "(unknown)"), when[0] ? " at " : "", when, ": ",
          nonempty(v[CS_LAST_OLD], "?"), " -> ", nonempty(v[CS_LAST_NEW], "?"), NULL);
    if (v[CS_LAST_STEP] != NULL && *v[CS_LAST_STEP])
      tline(b, "", "failed at ", v[CS_LAST_STEP], ": ", nonempty(v[CS_LAST_REASON], "?"), NULL);
  }
  if (!s->has_journal) {
    tline(b, "transaction", "none unfinished", NULL);
    return;
  }
  if (s->j_err.code != CS_OK) {
    tline(b, "transaction", "UNFINISHED: ", s->j_err.text, NULL);
  } else {
    snprintf(step, sizeof step, "%lld", s->j.started);
    iso_time(step, when);
    snprintf(step, sizeof step, " at step %d, started ", s->j.step);
    tline(b, "transaction", "UNFINISHED: ", s->j.state, step, nonempty(when, "?"), ", ", s->j.old_tp, " -> ",
          s->j.new_tp, s->j.failed_step ? "; failed at " : "", nonempty(s->j.failed_step, ""),
          s->j.failed_step ? ": " : "", s->j.failed_step ? nonempty(s->j.reason, "?") : "", NULL);
  }
  tline(b, "", "the next apply, rollback or run finishes it or rolls it back", NULL);
}

static void print_text(const status_t *s) {
  cs_buf_t b = CS_BUF_INIT;
  char from[64];
  size_t i;

  tline(&b, "configuration", nonempty(s->cfg->path, "(built-in defaults)"), NULL);
  tline(&b, "host", s->host[0] ? s->host : s->host_err.text, NULL);
  snprintf(from, sizeof from, " (from %s)", s->tp_from);
  tline(&b, "in service", s->tp[0] ? s->tp : s->tp_err.text, s->tp[0] ? from : "", NULL);
  text_cert(&b, s);
  cs_monitor_text(&b, cs_monitor_source(s->cfg), &s->monitored, (long long)time(NULL), LABEL_WIDTH);
  text_bindings(&b, s);
  if (s->n_eps == 0)
    tline(&b, "endpoints", "none ([connector] endpoints not set)", NULL);
  for (i = 0; i < s->n_eps; i++) {
    const endpoint_t *e = &s->eps[i];
    if (e->err.code != CS_OK)
      tline(&b, i ? "" : "endpoints", e->endpoint, " FAILED: ", e->err.text, NULL);
    else
      tline(&b, i ? "" : "endpoints", e->endpoint, " serves ", e->served,
            strcmp(e->served, s->tp) == 0 ? " (the certificate in service)" : " (NOT the certificate in service)",
            NULL);
  }
  tline(&b, "state folder", s->state_dir, s->state_exists ? "" : ": does not exist yet (no renewal has run)", NULL);
  text_transactions(&b, s);
  if (s->drop.path[0] != '\0')
    text_folder(&b, "drop folder", &s->drop, "waiting");
  text_folder(&b, "for the window", &s->waiting, "waiting for the maintenance window");
  cs_status_adopt_text(&b, &s->adopt, LABEL_WIDTH);
  cs_status_request_text(&b, s->cfg, LABEL_WIDTH);
  fputs(nonempty(cs_buf_str(&b), "certsteward status: out of memory\n"), stdout);
  cs_buf_free(&b);
}

/* ---- JSON ------------------------------------------------------------------- */

/* "key": (a comma before all but an object's first); first tracks that */
static void jkey(cs_buf_t *b, int *first, const char *key) {
  cs_buf_puts(b, *first ? "" : ",");
  *first = 0;
  cs_json_str(b, key);
  cs_buf_puts(b, ":");
}

static void jstr(cs_buf_t *b, int *first, const char *key, const char *v) { /* NULL or "" -> null */
  jkey(b, first, key);
  cs_json_str(b, v && *v ? v : NULL);
}

static void jraw(cs_buf_t *b, int *first, const char *key, const char *raw) { /* true, 12, null, ... */
  jkey(b, first, key);
  cs_buf_puts(b, raw);
}

static void jerr(cs_buf_t *b, int *first, const cs_err_t *e) {
  jstr(b, first, "error", e->code != CS_OK ? e->text : NULL);
}

static void json_folder(cs_buf_t *b, const folder_t *f) {
  cs_buf_t name = CS_BUF_INIT;
  int first = 1;
  size_t i;
  cs_buf_puts(b, "{");
  jstr(b, &first, "folder", f->path);
  jraw(b, &first, "exists", f->exists ? "true" : "false");
  jraw(b, &first, "files", "[");
  for (i = 0; i < f->n; i++) { /* sanitised, as the text output shows them */
    cs_buf_free(&name);
    cs_text_sanitize(&name, f->names[i]);
    cs_buf_puts(b, i ? "," : "");
    cs_json_str(b, cs_buf_str(&name));
  }
  cs_buf_free(&name);
  cs_buf_puts(b, "]");
  jerr(b, &first, &f->err);
  cs_buf_puts(b, "}");
}

static void json_cert(cs_buf_t *b, const status_t *s) {
  const cs_report_t *r = &s->cert.report;
  char days[32];
  int first = 1, ok = s->cert_scanned;
  snprintf(days, sizeof days, "%lld", (s->cert.not_after_epoch - (long long)time(NULL)) / 86400);
  cs_buf_puts(b, "{");
  jstr(b, &first, "path", s->cfg->store.cert_file);
  jstr(b, &first, "thumbprint", ok ? r->thumbprint : NULL);
  jstr(b, &first, "subject", ok ? r->subject : NULL);
  jstr(b, &first, "not_after", ok ? r->not_after : NULL);
  jraw(b, &first, "days_left", ok ? days : "null");
  jerr(b, &first, &s->cert_err);
  cs_buf_puts(b, "}");
}

static void json_bindings(cs_buf_t *b, const status_t *s) {
  const cs_strlist_t *files = &s->cfg->connector.binding_files;
  int first = 1, f2;
  size_t i, k;
  cs_buf_puts(b, "{");
  jraw(b, &first, "files", "[");
  for (i = 0; i < files->n; i++) {
    cs_buf_puts(b, i ? "," : "");
    cs_json_str(b, files->v[i]);
  }
  cs_buf_puts(b, "]");
  jraw(b, &first, "found", "[");
  for (i = 0; s->have_scan && i < s->scan.n_found; i++) {
    const cs_bindings_found_t *f = &s->scan.found[i];
    f2 = 1;
    cs_buf_puts(b, i ? ",{" : "{");
    jstr(b, &f2, "thumbprint", f->tp);
    jkey(b, &f2, "count");
    cs_buf_printf(b, "%zu", f->count);
    jraw(b, &f2, "files", "[");
    for (k = 0; k < f->n_files; k++) {
      cs_buf_puts(b, k ? "," : "");
      cs_json_str(b, s->scan.files[f->files[k]]);
    }
    cs_buf_puts(b, "]}");
  }
  cs_buf_puts(b, "]");
  jerr(b, &first, &s->scan_err);
  cs_buf_puts(b, "}");
}

static void json_endpoints(cs_buf_t *b, const status_t *s) {
  size_t i;
  cs_buf_puts(b, "[");
  for (i = 0; i < s->n_eps; i++) {
    const endpoint_t *e = &s->eps[i];
    int first = 1, ok = e->err.code == CS_OK;
    cs_buf_puts(b, i ? ",{" : "{");
    jstr(b, &first, "endpoint", e->endpoint);
    jraw(b, &first, "ok", ok ? "true" : "false");
    jstr(b, &first, "served", ok ? e->served : NULL);
    jraw(b, &first, "in_service", ok && strcmp(e->served, s->tp) == 0 ? "true" : "false");
    jerr(b, &first, &e->err);
    cs_buf_puts(b, "}");
  }
  cs_buf_puts(b, "]");
}

static void json_transactions(cs_buf_t *b, const status_t *s) {
  char when[32], num[32];
  int first = 1, i;
  cs_buf_puts(b, "\"last\":");
  if (!s->last.exists) {
    cs_buf_puts(b, "null");
  } else {
    iso_time(s->last.l.v[CS_LAST_TIME], when);
    cs_buf_puts(b, "{");
    for (i = 0; i < CS_LAST_N; i++)
      jstr(b, &first, cs_last_keys[i], i == CS_LAST_TIME ? when : s->last.l.v[i]);
    jerr(b, &first, &s->last.err);
    cs_buf_puts(b, "}");
  }
  cs_buf_puts(b, ",\"unfinished\":");
  if (!s->has_journal) {
    cs_buf_puts(b, "null");
    return;
  }
  snprintf(num, sizeof num, "%lld", s->j.started);
  iso_time(num, when);
  snprintf(num, sizeof num, "%d", s->j.step);
  first = 1;
  cs_buf_puts(b, "{");
  jstr(b, &first, "state", s->j.state);
  jraw(b, &first, "step", num);
  jstr(b, &first, "started", s->j.started ? when : NULL);
  jstr(b, &first, "old", s->j.old_tp);
  jstr(b, &first, "new", s->j.new_tp);
  jstr(b, &first, "failed_step", s->j.failed_step);
  jstr(b, &first, "reason", s->j.reason);
  jerr(b, &first, &s->j_err);
  cs_buf_puts(b, "}");
}

static void print_json(const status_t *s) {
  cs_buf_t b = CS_BUF_INIT;
  int first = 1, f2 = 1, f3 = 1;

  cs_buf_puts(&b, "{");
  jstr(&b, &first, "config", s->cfg->path);
  jstr(&b, &first, "host", s->host);
  jstr(&b, &first, "host_error", s->host_err.code != CS_OK ? s->host_err.text : NULL);
  jraw(&b, &first, "in_service", "{");
  jstr(&b, &f2, "thumbprint", s->tp);
  jstr(&b, &f2, "from", s->tp_from);
  jerr(&b, &f2, &s->tp_err);
  cs_buf_puts(&b, "}");
  jkey(&b, &first, "cert_file");
  if (s->cfg->store.cert_file != NULL)
    json_cert(&b, s);
  else
    cs_buf_puts(&b, "null");
  jkey(&b, &first, "monitored");
  cs_monitor_json(&b, cs_monitor_source(s->cfg), &s->monitored, (long long)time(NULL));
  jkey(&b, &first, "bindings");
  json_bindings(&b, s);
  jkey(&b, &first, "endpoints");
  json_endpoints(&b, s);
  jraw(&b, &first, "state_dir", "{");
  jstr(&b, &f3, "path", s->state_dir);
  jraw(&b, &f3, "exists", s->state_exists ? "true" : "false");
  cs_buf_puts(&b, "},");
  json_transactions(&b, s); /* "last", "unfinished" */
  cs_buf_puts(&b, ",\"waiting\":{\"drop\":");
  if (s->drop.path[0] != '\0')
    json_folder(&b, &s->drop);
  else
    cs_buf_puts(&b, "null");
  cs_buf_puts(&b, ",\"window\":");
  json_folder(&b, &s->waiting);
  cs_buf_puts(&b, "},\"adoption\":");
  cs_status_adopt_json(&b, &s->adopt);
  cs_buf_puts(&b, ",\"request\":");
  cs_status_request_json(&b, s->cfg);
  cs_buf_puts(&b, "}\n");
  fputs(nonempty(cs_buf_str(&b), "{\"error\":\"out of memory\"}\n"), stdout);
  cs_buf_free(&b);
}

int cs_cmd_status(int argc, char **argv) {
  cs_worker_t worker;
  cs_config_t cfg;
  cs_err_t w_err;
  status_t s;
  int json;

  if (cs_cli_command_config(argc, argv, &cfg, &json) != 0)
    return CS_EXIT_USAGE;
  memset(&s, 0, sizeof s);
  cs_err_clear(&w_err);
  if (cs_worker_init(&worker, cfg.path, &w_err) != CS_OK && w_err.code == CS_OK)
    cs_err_set(&w_err, CS_EFAILED, 0, "the worker cannot be found");
  s.cfg = &cfg;
  gather(&s, &worker, &w_err);
  if (json)
    print_json(&s);
  else
    print_text(&s);
  status_free(&s);
  cs_config_free(&cfg);
  return CS_EXIT_OK;
}
