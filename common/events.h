/* Events: what certsteward tells monitoring. One catalog (events.def) defines every
 * event: a numeric ID (stable forever once released), a severity, a symbolic name
 * and a message with insertion strings %1..%9 (the Windows message-table syntax).
 * The code constants below, the Windows message table and docs/events.md all come
 * from that one file. Crypto-free. */
#ifndef CS_EVENTS_H
#define CS_EVENTS_H

#include <stddef.h>

#include "text.h"

typedef enum cs_severity_e { CS_SEV_INFO = 0, CS_SEV_WARNING = 1, CS_SEV_ERROR = 2 } cs_severity_t;

enum cs_event_id_e {
#define CS_EVENT(id, sev, name, nargs, message) CS_EV_##name = id,
#include "events.def"
#undef CS_EVENT
  CS_EV__END
};

typedef struct cs_event_def_s {
  int id;
  cs_severity_t severity;
  const char *name;    /* "RENEWAL_COMMITTED" */
  int n_args;          /* insertion strings the message uses */
  const char *message; /* "...%1..." */
} cs_event_def_t;

#define CS_EVENT_MAX_ARGS 9

/* One occurrence. Every string may be NULL; strings from certificates or file
 * names are untrusted and sanitised on output. */
typedef struct cs_event_s {
  int id;
  const char *thumbprint;     /* the certificate concerned (the new one in a renewal) */
  const char *old_thumbprint; /* the certificate in service before, in a renewal */
  const char *subject;
  const char *file;                    /* the dropped file, when there is one */
  const char *args[CS_EVENT_MAX_ARGS]; /* %1..%n */
} cs_event_t;

/* The catalog entry for id, NULL if unknown. */
const cs_event_def_t *cs_event_def(int id);
/* Every catalog entry, in ID order; *n receives the count. */
const cs_event_def_t *cs_event_catalog(size_t *n);
const char *cs_severity_name(cs_severity_t s); /* "info", "warning", "error" */

/* Appends the message of ev with its insertion strings put in (each sanitised:
 * valid UTF-8, no control characters). A missing argument reads "-". */
void cs_event_format(const cs_event_t *ev, cs_buf_t *out);

/* Appends ev as one JSON object (no newline): time (RFC 3339 UTC, from t), id,
 * severity, name, message, thumbprint, old_thumbprint, subject, file. */
void cs_event_json(const cs_event_t *ev, long long t, cs_buf_t *out);

/* Where events go; set once at start (cs_events_open), used by cs_event_emit. */
typedef struct cs_events_cfg_s {
  int to_stderr;          /* foreground: one line per event on stderr */
  int to_system;          /* syslog (LOG_DAEMON, ident certsteward) / Windows Event Log */
  const char *jsonl_path; /* JSON-lines file, NULL = none */
  long long jsonl_max;    /* rotate (one .1 generation) past this size in bytes */
} cs_events_cfg_t;

int cs_events_open(const cs_events_cfg_t *cfg);
void cs_events_close(void);

/* Sends ev to every configured sink. Thread-safe. Never fails the caller. */
void cs_event_emit(const cs_event_t *ev);

/* The one way to build and send an event: cs_event_emit of event id about the
 * certificate tp (the new one in a renewal) replacing old_tp (NULL or "": none), its
 * subject and the dropped file (each may be NULL), with the insertion strings a1..a3
 * (NULL for those it has none of). */
void cs_event_cert(int id, const char *tp, const char *old_tp, const char *subject, const char *file, const char *a1,
                   const char *a2, const char *a3);

/* cs_event_cert about no certificate. */
void cs_event_say(int id, const char *file, const char *a1, const char *a2, const char *a3);

/* The same, to the system log alone, from a command that has no sinks open (install,
 * a service that could not start): opens that sink, emits, closes it. */
void cs_event_say_system(int id, const char *a1, const char *a2, const char *a3);

/* Events emitted so far in this process (tests and status). */
unsigned long cs_events_count(void);

#endif
