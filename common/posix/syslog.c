/* The system sink on POSIX: syslog, facility daemon, ident "certsteward" (journald
 * picks it up through /dev/log). One line per event:
 *   [<id> <NAME>] <message> thumbprint=<tp> old=<tp> subject=<...> file=<...>
 * with only the fields that are set, each sanitised (they come from certificates
 * and file names). */
#include "../events.h"
#include "../platform.h"

#include <pthread.h>
#include <syslog.h>

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;

/* Cannot fail for a default mutex locked and unlocked by one thread at a time. */
void cs_plat_events_lock(void) { (void)pthread_mutex_lock(&events_lock); }
void cs_plat_events_unlock(void) { (void)pthread_mutex_unlock(&events_lock); }

int cs_plat_syslog_open(cs_err_t *err) {
  /* LOG_NDELAY: connect now, before a chroot or a full file table can stop it later */
  openlog("certsteward", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  return 0;
}

static void put_field(cs_buf_t *b, const char *label, const char *value) {
  if (value == NULL)
    return;
  cs_buf_printf(b, " %s=", label);
  cs_text_sanitize(b, value);
}

void cs_plat_syslog_write(const struct cs_event_def_s *def, const struct cs_event_s *ev, const char *message) {
  cs_buf_t b = CS_BUF_INIT;
  const char *text;
  int priority = def->severity == CS_SEV_ERROR ? LOG_ERR : def->severity == CS_SEV_WARNING ? LOG_WARNING : LOG_INFO;
  cs_buf_printf(&b, "[%d %s] ", def->id, def->name);
  cs_text_sanitize(&b, message); /* already sanitised by cs_event_format; cheap to be sure */
  put_field(&b, "thumbprint", ev->thumbprint);
  put_field(&b, "old", ev->old_thumbprint);
  put_field(&b, "subject", ev->subject);
  put_field(&b, "file", ev->file);
  text = cs_buf_str(&b);
  if (text != NULL)
    syslog(priority, "%s", text);
  else
    syslog(priority, "[%d %s] (out of memory while formatting this event)", def->id, def->name);
  cs_buf_free(&b);
}

void cs_plat_syslog_close(void) { closelog(); }
