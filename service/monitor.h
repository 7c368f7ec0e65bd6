/* [store] monitor: what certsteward lists besides the certificate in service, for the
 * daemon's metrics and for certsteward status (service/monitor.c). */
#ifndef CS_MONITOR_H
#define CS_MONITOR_H

#include <stddef.h>

#include "config.h"
#include "text.h"
#include "worker.h"

/* Listed on Windows when [store] monitor is not set: the machine's own store. */
#define CS_MONITOR_STORE_NAME "LocalMachine\\My"

/* [store] monitor: at most this many files are listed, the first by name (byte order). */
#define CS_MONITOR_MAX 10000

/* One monitored file. Every string is owned by the list. */
typedef struct cs_monitor_cert_s {
  char *shown;        /* its path sanitised (cs_text_sanitize): status and the metrics' source label */
  char tp[41];        /* "" when the file could not be described (error says why) */
  char *subject;      /* may be NULL */
  char not_after[21]; /* YYYY-MM-DDTHH:MM:SSZ */
  long long not_after_epoch;
  char *error;    /* NULL when described */
  int in_metrics; /* 0: not described, or its source label repeats an earlier one's */
} cs_monitor_cert_t;

/* The files of [store] monitor: regular files only (links, folders, FIFOs and
 * devices are not listed), sorted by name. Free with cs_monitor_free. */
typedef struct cs_monitor_s {
  cs_monitor_cert_t *certs;
  size_t n;
  size_t left_out; /* files past CS_MONITOR_MAX, not listed */
  cs_err_t err;    /* the folder could not be listed; code CS_OK otherwise */
} cs_monitor_t;

/* What is monitored: [store] monitor when set; else on Windows the machine store
 * (CS_MONITOR_STORE_NAME), on Linux nothing (NULL). */
const char *cs_monitor_source(const cs_config_t *cfg);

/* Lists what cs_monitor_source names into m (zeroed by the caller or freed
 * before): a folder's files, described by the worker (up to CS_WORKER_SCAN_FILES in
 * one process; the files of a process that failed as a whole are asked again one
 * process each, so that one file that crashes or hangs it hides no other), or the
 * Windows store's certificates as crypt32 gives them (entries named
 * LocalMachine\My\<thumbprint>). 0, or the CS_E* also in m->err when it cannot be listed. */
int cs_monitor_scan(const cs_config_t *cfg, const cs_worker_t *w, cs_monitor_t *m);
void cs_monitor_free(cs_monitor_t *m);

/* For certsteward status at time now: m as text lines (labels padded to width,
 * every string sanitised), or as one JSON object
 * {"folder":…,"files":[{"file","thumbprint","subject","not_after","days_left","error"}],"left_out":N,"error":…}.
 * folder: [store] monitor; NULL (not set) writes nothing / null. */
void cs_monitor_text(cs_buf_t *b, const char *folder, const cs_monitor_t *m, long long now, int width);
void cs_monitor_json(cs_buf_t *b, const char *folder, const cs_monitor_t *m, long long now);

#endif
