/* The event catalog (from events.def), formatting, and the dispatcher to the three
 * sinks: stderr, the system log (platform half) and the JSON-lines file.
 *
 * Before cs_events_open and after cs_events_close events go to stderr, so that what
 * happens before the configuration is read (CONFIG_ERROR above all) is never lost.
 *
 * Locking: cs_event_emit runs on the loop thread and on thread-pool threads. The
 * sinks are guarded by the platform's mutex (cs_plat_events_lock: a pthread mutex, a
 * Windows SRW lock), not a spinlock: the holder does file I/O (open, write, flush,
 * rename for a rotation), syslog or ReportEvent, and may block on a full stderr pipe
 * or a slow disk, for milliseconds or more; spinning waiters would burn a core each
 * meanwhile (on a two-core server, the loop thread against the worker it waits for)
 * with no fairness, where a mutex puts them to sleep. ThreadSanitizer knows both,
 * so this is about behaviour under contention, not about correctness. It is held for
 * one event's output: the stderr line, the system log entry, and the events file
 * opened (no link followed), appended to, rarely rotated, and closed; the message,
 * the line and the JSON are prepared before. */
#include "events.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform.h"

#define CS_EVENT(id, sev, name, nargs, message)                                                                        \
  _Static_assert((nargs) >= 0 && (nargs) <= CS_EVENT_MAX_ARGS, #name ": nargs out of range");                          \
  _Static_assert((id) > 0 && (id) <= 0xFFFF, #name ": ID must fit the 16-bit Windows event ID");
#include "events.def"
#undef CS_EVENT

static const cs_event_def_t catalog[] = {
#define CS_EVENT(id, sev, name, nargs, message) {id, CS_SEV_##sev, #name, nargs, message},
#include "events.def"
#undef CS_EVENT
};

#define N_EVENTS (sizeof catalog / sizeof catalog[0])

/* ---- catalog --------------------------------------------------------------- */

const cs_event_def_t *cs_event_def(int id) {
  size_t lo = 0, hi = N_EVENTS, mid;
  while (lo < hi) {
    mid = lo + (hi - lo) / 2;
    if (catalog[mid].id == id)
      return &catalog[mid];
    if (catalog[mid].id < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const cs_event_def_t *cs_event_catalog(size_t *n) {
  if (n != NULL)
    *n = N_EVENTS;
  return catalog;
}

const char *cs_severity_name(cs_severity_t s) {
  switch (s) {
  case CS_SEV_INFO:
    return "info";
  case CS_SEV_WARNING:
    return "warning";
  case CS_SEV_ERROR:
    return "error";
  }
  return "error";
}

/* ---- formatting ------------------------------------------------------------ */

/* An empty insertion string reads as badly as a missing one ("at step : ..."). */
static void put_arg(cs_buf_t *out, const char *arg) {
  if (arg == NULL || arg[0] == '\0')
    cs_buf_puts(out, "-");
  else
    cs_text_sanitize(out, arg);
}

void cs_event_format(const cs_event_t *ev, cs_buf_t *out) {
  const cs_event_def_t *def = cs_event_def(ev->id);
  const char *p;
  int i;
  if (def == NULL) {
    /* a caller bug, but the arguments may be all that tells what happened */
    cs_buf_printf(out, "Event %d is not in this build's catalog.", ev->id);
    for (i = 0; i < CS_EVENT_MAX_ARGS; i++) {
      if (ev->args[i] == NULL)
        continue;
      cs_buf_printf(out, " %%%d=", i + 1);
      put_arg(out, ev->args[i]);
    }
    return;
  }
  for (p = def->message; *p != '\0'; p++) {
    if (p[0] == '%' && p[1] >= '1' && p[1] <= '9') {
      put_arg(out, ev->args[p[1] - '1']);
      p++;
    } else {
      cs_buf_append(out, p, 1);
    }
  }
}

/* RFC 3339 UTC with milliseconds, "YYYY-MM-DDTHH:MM:SS.mmmZ": events a few
 * milliseconds apart (a renewal's steps) keep their order and spacing. */
static void put_time(cs_buf_t *out, long long t, int ms) {
  char buf[32];
  size_t n = strlen(cs_time_utc(t, buf, sizeof buf));
  if (n > 0 && buf[n - 1] == 'Z')
    buf[n - 1] = '\0';
  cs_buf_printf(out, "\"%s.%03dZ\"", buf, ms);
}

static void event_json(const cs_event_t *ev, long long t, int ms, cs_buf_t *out) {
  const cs_event_def_t *def = cs_event_def(ev->id);
  cs_buf_t msg = CS_BUF_INIT;
  cs_event_format(ev, &msg);
  cs_buf_puts(out, "{\"time\":");
  put_time(out, t, ms);
  cs_buf_printf(out, ",\"id\":%d,\"severity\":", ev->id);
  cs_json_str(out, cs_severity_name(def != NULL ? def->severity : CS_SEV_ERROR));
  cs_buf_puts(out, ",\"name\":");
  cs_json_str(out, def != NULL ? def->name : "UNKNOWN");
  cs_buf_puts(out, ",\"message\":");
  cs_json_str(out, msg.oom ? "(out of memory)" : cs_buf_str(&msg));
  cs_buf_puts(out, ",\"thumbprint\":");
  cs_json_str(out, ev->thumbprint);
  cs_buf_puts(out, ",\"old_thumbprint\":");
  cs_json_str(out, ev->old_thumbprint);
  cs_buf_puts(out, ",\"subject\":");
  cs_json_str(out, ev->subject);
  cs_buf_puts(out, ",\"file\":");
  cs_json_str(out, ev->file);
  cs_buf_puts(out, "}");
  cs_buf_free(&msg);
}

void cs_event_json(const cs_event_t *ev, long long t, cs_buf_t *out) { event_json(ev, t, 0, out); }

/* Now, in seconds and milliseconds. C11's timespec_get where the C library has it
 * (TIME_UTC: glibc, the Universal CRT of MSVC); mingw-w64 against msvcrt.dll has
 * not: whole seconds there. */
static void now_ms(long long *t, int *ms) {
#ifdef TIME_UTC
  struct timespec ts;
  if (timespec_get(&ts, TIME_UTC) == TIME_UTC) {
    *t = (long long)ts.tv_sec;
    *ms = (int)(ts.tv_nsec / 1000000);
    return;
  }
#endif
  *t = (long long)time(NULL);
  *ms = 0;
}

/* ---- sinks ----------------------------------------------------------------- */

static atomic_ulong n_emitted;

static struct {
  int to_stderr;
  int to_system;
  char *jsonl_path;
  long long jsonl_max;
  int jsonl_failing; /* said once on stderr; quiet until the file works again */
} sinks = {1, 0, NULL, 0, 0};

static void lock_sinks(void) { cs_plat_events_lock(); }

static void unlock_sinks(void) { cs_plat_events_unlock(); }

static void put_field(cs_buf_t *b, const char *label, const char *value) {
  if (value == NULL)
    return;
  cs_buf_printf(b, " %s=", label);
  cs_text_sanitize(b, value);
}

static void stderr_line(const cs_event_t *ev, const cs_event_def_t *def, const char *message, cs_buf_t *b) {
  cs_buf_printf(b, "certsteward[%d] %s: %s", ev->id, cs_severity_name(def->severity), message);
  put_field(b, "thumbprint", ev->thumbprint);
  put_field(b, "old", ev->old_thumbprint);
  put_field(b, "subject", ev->subject);
  put_field(b, "file", ev->file);
  cs_buf_puts(b, "\n");
}

/* Said on stderr, once until the file works again: there is no other place. */
static void jsonl_failed(const char *what, const char *why) {
  if (sinks.jsonl_failing)
    return;
  sinks.jsonl_failing = 1;
  fprintf(stderr, "certsteward: cannot %s the event file %s: %s\n", what, sinks.jsonl_path,
          why != NULL && why[0] != '\0' ? why : "unknown error");
}

/* Appends one line, first moving the file to path.1 (replacing an older .1) when
 * the line would take it past jsonl_max. A line that cannot be rotated away is
 * still written: a file over its size is better than a lost event. */
static void jsonl_write(const char *line, size_t len) {
  const char *path = sinks.jsonl_path;
  cs_buf_t old = CS_BUF_INIT;
  cs_err_t err;
  FILE *f = NULL;
  long size;
  int rotated_ok = 1;
  cs_err_clear(&err);
  /* the folder may be one others can write (it is said, 1004): no link, no other file */
  f = cs_plat_fopen_log(path);
  if (f == NULL) {
    jsonl_failed("open", strerror(errno));
    goto out;
  }
  if (sinks.jsonl_max > 0 && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 &&
      (long long)size + (long long)len > sinks.jsonl_max) {
    fclose(f);
    f = NULL;
    cs_buf_printf(&old, "%s.1", path);
    if (cs_buf_str(&old) == NULL || cs_plat_rename(path, cs_buf_str(&old), &err) != 0) {
      jsonl_failed("rotate", cs_buf_str(&old) == NULL ? "out of memory" : err.text);
      rotated_ok = 0;
    }
    f = cs_plat_fopen_log(path);
    if (f == NULL) {
      jsonl_failed("open", strerror(errno));
      goto out;
    }
  }
  if (fwrite(line, 1, len, f) != len || fflush(f) != 0) {
    jsonl_failed("write", strerror(errno));
    goto out;
  }
  if (rotated_ok)
    sinks.jsonl_failing = 0;
out:
  if (f != NULL && fclose(f) != 0)
    jsonl_failed("write", strerror(errno));
  cs_buf_free(&old);
}

int cs_events_open(const cs_events_cfg_t *cfg) {
  cs_err_t err;
  char *path = NULL;
  int rc = 0;
  cs_err_clear(&err);
  if (cfg->jsonl_path != NULL && (path = cs_strdup(cfg->jsonl_path)) == NULL)
    return CS_ENOMEM;
  cs_events_close();
  lock_sinks();
  sinks.to_stderr = cfg->to_stderr;
  sinks.jsonl_path = path;
  sinks.jsonl_max = cfg->jsonl_max;
  sinks.jsonl_failing = 0;
  /* a file that cannot be created is a configuration problem: tell it at start */
  if (path != NULL) {
    FILE *f = cs_plat_fopen_log(path);
    if (f == NULL) {
      rc = CS_EIO;
      jsonl_failed("create", strerror(errno));
    } else {
      fclose(f);
    }
  }
  if (cfg->to_system) {
    int sys_rc = cs_plat_syslog_open(&err);
    if (sys_rc == 0)
      sinks.to_system = 1;
    else if (rc == 0)
      rc = sys_rc;
  }
  unlock_sinks();
  return rc;
}

void cs_events_close(void) {
  lock_sinks();
  if (sinks.to_system)
    cs_plat_syslog_close();
  free(sinks.jsonl_path);
  sinks.jsonl_path = NULL;
  sinks.to_system = 0;
  sinks.to_stderr = 1;
  sinks.jsonl_max = 0;
  sinks.jsonl_failing = 0;
  unlock_sinks();
}

void cs_event_emit(const cs_event_t *ev) {
  static const char no_memory[] = "(out of memory while formatting this event)";
  const cs_event_def_t *def = cs_event_def(ev->id);
  /* not in the catalog: still sent, with every argument (Windows: as strings) */
  cs_event_def_t unknown = {0, CS_SEV_ERROR, "UNKNOWN", CS_EVENT_MAX_ARGS, ""};
  cs_buf_t msg = CS_BUF_INIT, line = CS_BUF_INIT, json = CS_BUF_INIT;
  const char *message, *text;
  long long t;
  int ms;

  atomic_fetch_add(&n_emitted, 1);
  if (def == NULL) {
    unknown.id = ev->id;
    def = &unknown;
  }
  cs_event_format(ev, &msg);
  message = cs_buf_str(&msg) != NULL ? cs_buf_str(&msg) : no_memory;
  stderr_line(ev, def, message, &line);
  now_ms(&t, &ms);
  event_json(ev, t, ms, &json);
  cs_buf_puts(&json, "\n");

  lock_sinks();
  if (sinks.to_stderr) {
    text = cs_buf_str(&line);
    if (text != NULL)
      fputs(text, stderr);
    else
      fprintf(stderr, "certsteward[%d] %s: %s\n", ev->id, cs_severity_name(def->severity), no_memory);
    fflush(stderr);
  }
  if (sinks.to_system)
    cs_plat_syslog_write(def, ev, message);
  if (sinks.jsonl_path != NULL && cs_buf_str(&json) != NULL)
    jsonl_write(json.p, json.len);
  unlock_sinks();

  cs_buf_free(&msg);
  cs_buf_free(&line);
  cs_buf_free(&json);
}

unsigned long cs_events_count(void) { return atomic_load(&n_emitted); }

void cs_event_cert(int id, const char *tp, const char *old_tp, const char *subject, const char *file, const char *a1,
                   const char *a2, const char *a3) {
  cs_event_t ev;
  memset(&ev, 0, sizeof ev);
  ev.id = id;
  ev.thumbprint = tp != NULL && tp[0] != '\0' ? tp : NULL;
  ev.old_thumbprint = old_tp != NULL && old_tp[0] != '\0' ? old_tp : NULL;
  ev.subject = subject;
  ev.file = file;
  ev.args[0] = a1;
  ev.args[1] = a2;
  ev.args[2] = a3;
  cs_event_emit(&ev);
}

void cs_event_say(int id, const char *file, const char *a1, const char *a2, const char *a3) {
  cs_event_cert(id, NULL, NULL, NULL, file, a1, a2, a3);
}

void cs_event_say_system(int id, const char *a1, const char *a2, const char *a3) {
  cs_events_cfg_t system_only;
  memset(&system_only, 0, sizeof system_only);
  system_only.to_system = 1;
  if (cs_events_open(&system_only) != CS_OK)
    return;
  cs_event_say(id, NULL, a1, a2, a3);
  cs_events_close();
}
