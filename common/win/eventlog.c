/* The system sink on Windows: the Application event log, source "certsteward".
 *
 * The text an admin reads in Event Viewer is not sent here: it comes from the
 * message table compiled into the executable (cmake/events.cmake makes
 * certsteward.mc from events.def; windmc/mc and windres/rc build it), found through
 * the EventMessageFile value the installer writes under
 * HKLM\SYSTEM\CurrentControlSet\Services\EventLog\Application\certsteward.
 * What is sent: the 32-bit message ID and the insertion strings.
 *
 * Message ID: the .mc gives every message Severity=Informational/Warning/Error
 * (the .mc's SeverityNames 0x1/0x2/0x3), no Facility and no customer bit, so the
 * message compiler assigns (severity << 30) | catalog ID. message_id() below must
 * stay the same computation (doctor.c renders event 1000 with it); Event Viewer shows the low 16 bits as the Event ID.
 *
 * Insertion strings: %1..%n are the event's arguments; after them come four more,
 * always in this order and always present, for the Details view and for
 * collectors: "thumbprint=...", "old=...", "subject=...", "file=..." ("-" when unset).
 *
 * Wine's RegisterEventSource/ReportEvent are stubs that return TRUE and store
 * nothing: only real Windows proves that Event Viewer shows the right text. */
#include "../events.h"
#include "../platform.h"
#include "win.h"

#include <windows.h>

#include <stdlib.h>
#include <string.h>

/* Per string, in UTF-8 bytes: ReportEvent takes at most 31,839 characters in all,
 * and 13 strings of this size stay below it. */
#define MAX_STRING_BYTES 2048
#define N_EXTRA 4

static HANDLE source;

int cs_plat_syslog_open(cs_err_t *err) {
  if (source != NULL)
    return 0;
  source = RegisterEventSourceW(NULL, L"certsteward");
  if (source == NULL)
    return cs_err_set(err, CS_EIO, (long)GetLastError(), "cannot open the event log source certsteward");
  return 0;
}

void cs_plat_syslog_close(void) {
  if (source != NULL)
    DeregisterEventSource(source);
  source = NULL;
}

DWORD cs__win_event_message_id(const cs_event_def_t *def) {
  DWORD sev = def->severity == CS_SEV_ERROR ? 3u : def->severity == CS_SEV_WARNING ? 2u : 1u;
  return (sev << 30) | ((DWORD)def->id & 0xFFFFu);
}

static WORD event_type(cs_severity_t s) {
  switch (s) {
  case CS_SEV_INFO:
    return EVENTLOG_INFORMATION_TYPE;
  case CS_SEV_WARNING:
    return EVENTLOG_WARNING_TYPE;
  case CS_SEV_ERROR:
    return EVENTLOG_ERROR_TYPE;
  }
  return EVENTLOG_ERROR_TYPE;
}

/* New UTF-16 copy of label + value, sanitised and cut to MAX_STRING_BYTES on a
 * character boundary; NULL when out of memory. */
static wchar_t *wide_string(const char *label, const char *value) {
  cs_buf_t b = CS_BUF_INIT;
  wchar_t *w = NULL;
  size_t n;
  int wn;
  if (label != NULL)
    cs_buf_puts(&b, label);
  if (value == NULL || value[0] == '\0')
    cs_buf_puts(&b, "-");
  else
    cs_text_sanitize(&b, value);
  if (cs_buf_str(&b) == NULL)
    goto out;
  n = b.len;
  if (n > MAX_STRING_BYTES) {
    n = MAX_STRING_BYTES;
    while (n > 0 && ((unsigned char)b.p[n] & 0xC0u) == 0x80u)
      n--; /* not in the middle of a UTF-8 sequence */
  }
  wn = n == 0 ? 0 : MultiByteToWideChar(CP_UTF8, 0, b.p, (int)n, NULL, 0);
  w = malloc(((size_t)wn + 1) * sizeof *w);
  if (w == NULL)
    goto out;
  if (wn > 0 && MultiByteToWideChar(CP_UTF8, 0, b.p, (int)n, w, wn) != wn)
    wn = 0;
  w[wn] = L'\0';
out:
  cs_buf_free(&b);
  return w;
}

void cs_plat_syslog_write(const struct cs_event_def_s *def, const struct cs_event_s *ev, const char *message) {
  wchar_t *owned[CS_EVENT_MAX_ARGS + N_EXTRA] = {NULL};
  LPCWSTR strings[CS_EVENT_MAX_ARGS + N_EXTRA];
  int n_args = def->n_args < 0 ? 0 : def->n_args > CS_EVENT_MAX_ARGS ? CS_EVENT_MAX_ARGS : def->n_args;
  int n = 0, i;
  if (source == NULL)
    return;
  for (i = 0; i < n_args; i++)
    owned[n++] = wide_string(NULL, ev->args[i]);
  owned[n++] = wide_string("thumbprint=", ev->thumbprint);
  owned[n++] = wide_string("old=", ev->old_thumbprint);
  owned[n++] = wide_string("subject=", ev->subject);
  owned[n++] = wide_string("file=", ev->file);
  for (i = 0; i < n; i++)
    strings[i] = owned[i] != NULL ? owned[i] : L"-";
  /* nothing to do on failure: the event log is the last place to tell it */
  (void)ReportEventW(source, event_type(def->severity), 0, cs__win_event_message_id(def), NULL, (WORD)n, 0, strings,
                     NULL);
  for (i = 0; i < n; i++)
    free(owned[i]);
}

/* A slim reader/writer lock taken exclusively: statically initialised, so it works
 * before anything is set up, and a waiting thread sleeps rather than spins. */
static SRWLOCK events_lock = SRWLOCK_INIT;

void cs_plat_events_lock(void) { AcquireSRWLockExclusive(&events_lock); }
void cs_plat_events_unlock(void) { ReleaseSRWLockExclusive(&events_lock); }
