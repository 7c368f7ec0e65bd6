/* [store] monitor: the certificates certsteward watches besides the one in service,
 * listed (a folder's files described by the worker, or the Windows machine store),
 * and rendered for certsteward status (monitor.h). */
#include "monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "platform.h"

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* A new string: s sanitised as a log line shows it; NULL when out of memory. */
static char *sanitised(const char *s) {
  cs_buf_t b = CS_BUF_INIT;
  char *out;
  cs_text_sanitize(&b, s);
  out = cs_buf_str(&b) != NULL ? cs_strdup(cs_buf_str(&b)) : NULL;
  cs_buf_free(&b);
  return out;
}

/* 1 if path is a regular file itself (a link is not followed). */
static int regular(const char *path) {
  uv_fs_t st;
  int yes = uv_fs_lstat(NULL, &st, path, NULL) == 0 && (st.statbuf.st_mode & S_IFMT) == S_IFREG;
  uv_fs_req_cleanup(&st);
  return yes;
}

/* The worker's description of path appended to m (room was made): why is NULL and
 * reply what it answered, or why the reason it could not be asked (reply not read). */
static void add(cs_monitor_t *m, const char *path, const cs_reply_t *reply, const char *why) {
  cs_monitor_cert_t *c = &m->certs[m->n++];
  const char *named = why == NULL && reply->report.file != NULL ? reply->report.file : path;
  size_t k = strlen(named);

  memset(c, 0, sizeof *c);
  if ((c->shown = sanitised(path)) == NULL) {
    c->error = cs_strdup("out of memory");
  } else if (why != NULL || reply->error != NULL) {
    why = why != NULL ? why : reply->error; /* "<file>: <why>": the file is said already */
    c->error = cs_strdup(strncmp(why, named, k) == 0 && strncmp(why + k, ": ", 2) == 0 ? why + k + 2 : why);
  } else if (reply->report.thumbprint[0] == '\0') {
    c->error = cs_strdup("the worker's scan answer names no certificate");
  } else if (reply->not_after_epoch == 0) {
    c->error = cs_strdup("the worker's answer gives no notAfter");
  } else {
    memcpy(c->tp, reply->report.thumbprint, sizeof c->tp);
    c->subject = reply->report.subject != NULL ? cs_strdup(reply->report.subject) : NULL;
    memcpy(c->not_after, reply->report.not_after, sizeof c->not_after);
    c->not_after_epoch = reply->not_after_epoch;
  }
}

/* Appends path to m (room was made) as a worker process of its own describes it. */
static void describe(cs_monitor_t *m, const cs_worker_t *w, const char *path) {
  cs_reply_t reply;
  cs_err_t err;
  cs_err_clear(&err);
  if (cs_worker_scan(w, path, &reply, &err) == CS_OK)
    add(m, path, &reply, NULL);
  else
    add(m, path, NULL, err.text);
  cs_reply_free(&reply);
}

/* Appends files[0..n) to m (room was made), many to a worker process; the files of
 * a process that failed as a whole (a file that crashes or hangs it, an answer that
 * is garbage) are asked again one process each: the bad one says so, the others
 * are described. */
static void describe_all(cs_monitor_t *m, const cs_worker_t *w, const char *const *files, size_t n) {
  cs_reply_t *replies = n > 1 ? calloc(n < CS_WORKER_SCAN_FILES ? n : CS_WORKER_SCAN_FILES, sizeof *replies) : NULL;
  size_t i = 0, k, j;
  cs_err_t err;

  while (i < n) {
    k = cs_worker_scan_fit(w, files + i, n - i);
    if (replies != NULL && k > 1 && cs_worker_scan_many(w, files + i, k, replies, &err) == CS_OK) {
      for (j = 0; j < k; j++) {
        add(m, files[i + j], &replies[j], NULL);
        cs_reply_free(&replies[j]);
      }
    } else {
      for (j = 0; j < k; j++)
        describe(m, w, files[i + j]);
    }
    i += k;
  }
  free(replies);
}

static int cmp_shown(const void *a, const void *b) {
  const cs_monitor_cert_t *x = *(const cs_monitor_cert_t *const *)a, *y = *(const cs_monitor_cert_t *const *)b;
  int c = strcmp(x->shown, y->shown);
  return c != 0 ? c : x < y ? -1 : x > y; /* the same label: the first listed first */
}

/* Which files the metrics carry: described ones whose source label is not one
 * already there. Paths in one folder differ, but two names can sanitise alike. */
static void pick_for_metrics(cs_monitor_t *m) {
  cs_monitor_cert_t **v = m->n > 1 ? malloc(m->n * sizeof *v) : NULL;
  size_t i, k = 0;
  for (i = 0; i < m->n; i++) {
    cs_monitor_cert_t *c = &m->certs[i];
    c->in_metrics = c->tp[0] != '\0' && c->shown != NULL && strcmp(c->shown, "service") != 0;
    if (c->in_metrics && v != NULL)
      v[k++] = c;
  }
  if (v == NULL && m->n > 1) { /* out of memory: none rather than a label twice */
    for (i = 0; i < m->n; i++)
      m->certs[i].in_metrics = 0;
    return;
  }
  if (k > 1)
    qsort(v, k, sizeof *v, cmp_shown);
  for (i = 1; i < k; i++)
    if (strcmp(v[i]->shown, v[i - 1]->shown) == 0)
      v[i]->in_metrics = 0;
  free(v);
}

const char *cs_monitor_source(const cs_config_t *cfg) {
  if (cfg->store.monitor != NULL)
    return cfg->store.monitor;
  return cs_plat_store_is_system() ? CS_MONITOR_STORE_NAME : NULL;
}

/* The machine's store (Windows) as crypt32 lists it: no worker, no OpenSSL. */
static int store_scan(const cs_config_t *cfg, cs_monitor_t *m) {
  cs_plat_cert_t *certs = NULL;
  size_t n = 0, i, k;
  cs_buf_t name = CS_BUF_INIT;
  int rc = cs_plat_store_list(cfg, &certs, &n, &m->err);

  if (rc != CS_OK)
    return rc;
  for (i = k = 0; i < n; i++) { /* an archived one was renewed: listed no more, as Windows' own views do */
    if (certs[i].archived) {
      free(certs[i].subject);
      free(certs[i].friendly);
    } else {
      certs[k++] = certs[i];
    }
  }
  n = k;
  if (n > CS_MONITOR_MAX) {
    m->left_out = n - CS_MONITOR_MAX;
    n = CS_MONITOR_MAX;
  }
  if (n > 0 && (m->certs = calloc(n, sizeof *m->certs)) == NULL) {
    rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", CS_MONITOR_STORE_NAME);
    goto out;
  }
  for (i = 0; i < n; i++) {
    cs_monitor_cert_t *c = &m->certs[m->n++];
    cs_buf_free(&name);
    cs_buf_printf(&name, "%s\\%s", CS_MONITOR_STORE_NAME, certs[i].tp);
    c->shown = cs_buf_str(&name) != NULL ? sanitised(cs_buf_str(&name)) : NULL;
    if (c->shown == NULL) {
      c->error = cs_strdup("out of memory");
      continue;
    }
    memcpy(c->tp, certs[i].tp, sizeof c->tp);
    c->subject = certs[i].subject != NULL ? cs_strdup(certs[i].subject) : NULL;
    c->not_after_epoch = certs[i].not_after;
    cs_time_utc(certs[i].not_after, c->not_after, sizeof c->not_after);
  }
  pick_for_metrics(m);
out:
  cs_buf_free(&name);
  cs_plat_store_list_free(certs, n + m->left_out);
  return rc;
}

int cs_monitor_scan(const cs_config_t *cfg, const cs_worker_t *w, cs_monitor_t *m) {
  const char *dir = cfg->store.monitor;
  char **names = NULL, **nv, **files = NULL, *path = NULL;
  size_t n = 0, room = 0, i, cap, nf = 0;
  uv_dirent_t ent;
  uv_fs_t req;
  int r, rc = CS_OK;

  cs_err_clear(&m->err);
  if (dir == NULL)
    return cs_plat_store_is_system() ? store_scan(cfg, m) : CS_OK;
  if ((r = uv_fs_scandir(NULL, &req, dir, 0, NULL)) < 0) {
    rc = cs_err_set(&m->err, r == UV_ENOENT ? CS_ENOENT : CS_EIO, r, "cannot list %s: %s", dir, uv_strerror(r));
    uv_fs_req_cleanup(&req);
    goto out;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    char *copy;
    if (ent.type != UV_DIRENT_FILE && ent.type != UV_DIRENT_UNKNOWN)
      continue; /* a link, folder, FIFO, device or socket: not listed */
    if (n == room && (nv = realloc(names, (room ? 2 * room : 64) * sizeof *nv)) != NULL) {
      names = nv;
      room = room ? 2 * room : 64;
    }
    if (n == room || (copy = cs_strdup(ent.name)) == NULL) {
      rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
      break;
    }
    names[n++] = copy;
  }
  uv_fs_req_cleanup(&req);
  if (rc != CS_OK)
    goto out;
  if (n > 1)
    qsort(names, n, sizeof *names, cmp_names);
  /* the first cap regular files by name: their paths, then what the worker says */
  cap = n < CS_MONITOR_MAX ? n : CS_MONITOR_MAX;
  if (cap > 0 && ((m->certs = calloc(cap, sizeof *m->certs)) == NULL || (files = calloc(cap, sizeof *files)) == NULL)) {
    rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
    goto out;
  }
  for (i = 0; i < n; i++) {
    if (nf == cap) {
      m->left_out = n - i;
      break;
    }
    free(path);
    if ((path = cs_plat_path_join_new(dir, names[i])) == NULL) {
      rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
      goto out;
    }
    if (!regular(path))
      continue;
    if ((files[nf] = cs_strdup(path)) == NULL) {
      rc = cs_err_set(&m->err, CS_ENOMEM, 0, "out of memory listing %s", dir);
      goto out;
    }
    nf++;
  }
  describe_all(m, w, (const char *const *)files, nf);
  pick_for_metrics(m);
out:
  for (i = 0; i < n; i++)
    free(names[i]);
  free(names);
  for (i = 0; i < nf; i++)
    free(files[i]);
  free(files);
  free(path);
  return rc;
}

void cs_monitor_free(cs_monitor_t *m) {
  size_t i;
  for (i = 0; i < m->n; i++) {
    free(m->certs[i].shown);
    free(m->certs[i].subject);
    free(m->certs[i].error);
  }
  free(m->certs);
  memset(m, 0, sizeof *m);
}

/* ---- [store] monitor in certsteward status -------------------------------------- */

void cs_monitor_text(cs_buf_t *b, const char *folder, const cs_monitor_t *m, long long now, int width) {
  char count[96];
  size_t i;
  if (folder == NULL)
    return; /* [store] monitor not set: nothing to say */
  snprintf(count, sizeof count, ": %zu %s%s", m->n, strcmp(folder, CS_MONITOR_STORE_NAME) == 0 ? "certificate" : "file",
           m->n == 1 ? "" : "s");
  cs_text_line(b, width, "monitored", folder, m->err.code != CS_OK ? ": " : count,
               m->err.code != CS_OK ? m->err.text : "", NULL);
  for (i = 0; i < m->n; i++) {
    const cs_monitor_cert_t *c = &m->certs[i];
    long long days = (c->not_after_epoch - now) / 86400;
    if (c->tp[0] == '\0') {
      cs_text_line(b, width, "  file", c->shown ? c->shown : "?", ": ", c->error ? c->error : "out of memory", NULL);
      continue;
    }
    if (c->not_after_epoch < now)
      snprintf(count, sizeof count, " (EXPIRED)");
    else
      snprintf(count, sizeof count, " (%lld day%s left)", days, days == 1 ? "" : "s");
    cs_text_line(b, width, "  file", c->shown, NULL);
    cs_text_line(b, width, "    thumbprint", c->tp, NULL);
    cs_text_line(b, width, "    subject", c->subject ? c->subject : "", NULL);
    cs_text_line(b, width, "    not after", c->not_after, count, NULL);
  }
  if (m->left_out > 0) {
    snprintf(count, sizeof count, "%zu more file%s not listed: only the first %d by name are", m->left_out,
             m->left_out == 1 ? "" : "s", CS_MONITOR_MAX);
    cs_text_line(b, width, "", count, NULL);
  }
}

void cs_monitor_json(cs_buf_t *b, const char *folder, const cs_monitor_t *m, long long now) {
  char *shown;
  size_t i;
  if (folder == NULL) {
    cs_buf_puts(b, "null"); /* [store] monitor not set */
    return;
  }
  shown = sanitised(folder);
  cs_buf_puts(b, "{\"folder\":");
  cs_json_str(b, shown);
  cs_buf_puts(b, ",\"files\":[");
  for (i = 0; i < m->n; i++) {
    const cs_monitor_cert_t *c = &m->certs[i];
    int ok = c->tp[0] != '\0';
    cs_buf_puts(b, i ? ",{\"file\":" : "{\"file\":");
    cs_json_str(b, c->shown);
    cs_buf_puts(b, ",\"thumbprint\":");
    cs_json_str(b, ok ? c->tp : NULL);
    cs_buf_puts(b, ",\"subject\":");
    cs_json_str(b, ok ? c->subject : NULL);
    cs_buf_puts(b, ",\"not_after\":");
    cs_json_str(b, ok ? c->not_after : NULL);
    if (ok) {
      cs_buf_printf(b, ",\"days_left\":%lld,\"error\":null}", (c->not_after_epoch - now) / 86400);
    } else {
      cs_buf_puts(b, ",\"days_left\":null,\"error\":");
      cs_json_str(b, c->error ? c->error : "out of memory");
      cs_buf_puts(b, "}");
    }
  }
  cs_buf_printf(b, "],\"left_out\":%zu,\"error\":", m->left_out);
  cs_json_str(b, m->err.code != CS_OK ? m->err.text : NULL);
  cs_buf_puts(b, "}");
  free(shown);
}
