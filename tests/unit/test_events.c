/* The event catalog and its rules, formatting, JSON, and the stderr and JSON-lines
 * sinks (rotation, file mode, concurrent emitters). */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <uv.h>

#include "cs_test.h"
#include "events.h"
#include "platform.h"

#if defined(_WIN32)
#include <windows.h> /* FormatMessage: message_table_renders_catalog */
#endif

/* ---- helpers ------------------------------------------------------------------- */

/* A folder for one test, in the working folder (CTest: the build's tests/), not
 * in CS_TEST_DIR: that one belongs to the PKI fixture, which may run alongside. */
static const char *test_dir(const char *name) {
  static char dir[4096];
  snprintf(dir, sizeof dir, "events-test/%s", name);
  CHECK_INT(cs_plat_mkdirs(dir, 0700, NULL), ==, 0);
  return dir;
}

static const char *join(char *buf, size_t len, const char *dir, const char *name) {
  if (snprintf(buf, len, "%s/%s", dir, name) >= (int)len) {
    fprintf(stderr, "test_events: path too long: %s/%s\n", dir, name);
    exit(1);
  }
  return buf;
}

static char *format(const cs_event_t *ev) {
  cs_buf_t b = CS_BUF_INIT;
  char *s;
  cs_event_format(ev, &b);
  s = cs_strdup(cs_buf_str(&b));
  cs_buf_free(&b);
  return s;
}

/* Lines of a JSON-lines file, each parsed; returns how many, -1 if one does not parse. */
static int parse_lines(const char *text, cJSON **out, int max) {
  const char *p = text, *nl;
  int n = 0;
  while (p != NULL && *p != '\0') {
    nl = strchr(p, '\n');
    if (nl == NULL || n == max)
      return -1; /* every line ends in a newline */
    out[n] = cJSON_ParseWithLength(p, (size_t)(nl - p));
    if (out[n] == NULL || !cJSON_IsObject(out[n]))
      return -1;
    n++;
    p = nl + 1;
  }
  return n;
}

static void free_lines(cJSON **lines, int n) {
  int i;
  for (i = 0; i < n; i++)
    cJSON_Delete(lines[i]);
}

static const char *jstr(const cJSON *o, const char *key) {
  return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static int jint(const cJSON *o, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* ---- catalog --------------------------------------------------------------------- */

CS_TEST(catalog_ids_unique_and_ascending) {
  size_t n, i;
  const cs_event_def_t *cat = cs_event_catalog(&n);
  CHECK_INT(n, >=, 27);
  for (i = 0; i < n; i++) {
    CHECK(cs_event_def(cat[i].id) == &cat[i]);
    CHECK_INT(cat[i].id, >, 0);
    CHECK_INT(cat[i].id, <=, 0xFFFF); /* Windows shows 16 bits */
    if (i > 0)
      CHECK_INT(cat[i - 1].id, <, cat[i].id);
  }
  CHECK(cs_event_def(0) == NULL);
  CHECK(cs_event_def(999) == NULL);
  CHECK(cs_event_def(1099) == NULL);
  CHECK(cs_event_def(99999) == NULL);
}

/* Released IDs never change: the ones monitoring is set up for. */
CS_TEST(catalog_released_ids_are_stable) {
  static const struct {
    int id;
    const char *name;
    cs_severity_t sev;
  } want[] = {
      {1000, "SERVICE_STARTED", CS_SEV_INFO},
      {1001, "SERVICE_STOPPED", CS_SEV_INFO},
      {1002, "CONFIG_ERROR", CS_SEV_ERROR},
      {1003, "CONNECTOR_MISSING", CS_SEV_ERROR},
      {1004, "FOLDER_UNSAFE", CS_SEV_ERROR},
      {1005, "WORKER_FAILED", CS_SEV_ERROR},
      {1006, "STATE_ERROR", CS_SEV_ERROR},
      {1007, "SECRET_EXPOSED", CS_SEV_ERROR},
      {1008, "SAFE_AGAIN", CS_SEV_INFO},
      {1009, "CONFIG_UNSAFE", CS_SEV_ERROR},
      {1014, "PATH_WRITERS", CS_SEV_WARNING},
      {1015, "PATH_WRITERS_FIXED", CS_SEV_INFO},
      {2000, "CERT_EXPIRING", CS_SEV_WARNING},
      {2001, "CERT_EXPIRED", CS_SEV_ERROR},
      {3000, "DROP_DETECTED", CS_SEV_INFO},
      {3001, "DROP_ACCEPTED", CS_SEV_INFO},
      {3002, "DROP_REJECTED", CS_SEV_ERROR},
      {3003, "DROP_WAITING", CS_SEV_INFO},
      {3004, "PREFLIGHT_REFUSED", CS_SEV_ERROR},
      {4000, "RENEWAL_STARTED", CS_SEV_INFO},
      {4001, "CERT_INSTALLED", CS_SEV_INFO},
      {4002, "KEY_PERMISSION_GRANTED", CS_SEV_INFO},
      {4003, "BINDINGS_REWRITTEN", CS_SEV_INFO},
      {4004, "SERVICE_RESTARTED", CS_SEV_INFO},
      {4005, "NEW_CERT_SERVED", CS_SEV_INFO},
      {4006, "RENEWAL_COMMITTED", CS_SEV_INFO},
      {4007, "OLD_CERT_ARCHIVED", CS_SEV_INFO},
      {4008, "KEY_PERMISSION_REPAIRED", CS_SEV_WARNING},
      {4009, "KEY_PERMISSION_FAILED", CS_SEV_ERROR},
      {5000, "ROLLBACK_STARTED", CS_SEV_WARNING},
      {5001, "ROLLBACK_COMPLETED", CS_SEV_ERROR},
      {5002, "ROLLBACK_FAILED", CS_SEV_ERROR},
      {5003, "JOURNAL_RECOVERY", CS_SEV_WARNING},
  };
  size_t i;
  for (i = 0; i < sizeof want / sizeof want[0]; i++) {
    const cs_event_def_t *d = cs_event_def(want[i].id);
    CHECK(d != NULL);
    if (d == NULL)
      continue;
    CHECK_STR(d->name, want[i].name);
    CHECK_INT(d->severity, ==, want[i].sev);
  }
  CHECK_INT(CS_EV_RENEWAL_COMMITTED, ==, 4006);
  CHECK_INT(CS_EV_JOURNAL_RECOVERY, ==, 5003);
}

/* The rules the Windows message compiler needs (events.def says them). */
CS_TEST(catalog_messages_fit_their_insertions) {
  size_t n, i;
  const cs_event_def_t *cat = cs_event_catalog(&n);
  for (i = 0; i < n; i++) {
    const char *m = cat[i].message, *p;
    int highest = 0, used[10] = {0}, k, ok = 1;
    CHECK(m[0] != '\0' && m[0] != '.');
    CHECK_INT(cat[i].n_args, >=, 0);
    CHECK_INT(cat[i].n_args, <=, CS_EVENT_MAX_ARGS);
    for (p = m; *p != '\0'; p++) {
      unsigned char c = (unsigned char)*p;
      if (c < 0x20 || c > 0x7E || c == '!' || c == ';' || c == '\\' || c == '"')
        ok = 0;
      if (c != '%')
        continue;
      if (p[1] < '1' || p[1] > '9' || isdigit((unsigned char)p[2])) {
        ok = 0;
        continue;
      }
      used[p[1] - '0'] = 1;
      if (p[1] - '0' > highest)
        highest = p[1] - '0';
      p++;
    }
    if (!ok)
      cs_test_fail(__FILE__, __LINE__, "event %d: character the message compiler cannot take: %s", cat[i].id, m);
    if (highest != cat[i].n_args)
      cs_test_fail(__FILE__, __LINE__, "event %d: nargs %d, highest %%%d", cat[i].id, cat[i].n_args, highest);
    for (k = 1; k <= cat[i].n_args; k++)
      if (!used[k])
        cs_test_fail(__FILE__, __LINE__, "event %d: %%%d unused", cat[i].id, k);
  }
}

CS_TEST(catalog_names_unique) {
  size_t n, i, j;
  const cs_event_def_t *cat = cs_event_catalog(&n);
  for (i = 0; i < n; i++) {
    const char *p;
    for (p = cat[i].name; *p != '\0'; p++)
      CHECK(isupper((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_');
    for (j = i + 1; j < n; j++)
      if (strcmp(cat[i].name, cat[j].name) == 0)
        cs_test_fail(__FILE__, __LINE__, "name %s used by %d and %d", cat[i].name, cat[i].id, cat[j].id);
  }
}

CS_TEST(severity_names) {
  CHECK_STR(cs_severity_name(CS_SEV_INFO), "info");
  CHECK_STR(cs_severity_name(CS_SEV_WARNING), "warning");
  CHECK_STR(cs_severity_name(CS_SEV_ERROR), "error");
}

/* docs/events.md lists every event with its current text (the CTest docs.events
 * check compares the whole file; this one also runs without CMake). */
CS_TEST(docs_list_every_event) {
  const char *src = getenv("CS_SOURCE_DIR");
  char path[4096], row[1024];
  char *doc;
  size_t n, i;
  const cs_event_def_t *cat = cs_event_catalog(&n);
  snprintf(path, sizeof path, "%s/docs/events.md", src != NULL ? src : ".");
  doc = cs_test_read_text(path);
  CHECK(doc != NULL);
  if (doc == NULL)
    return;
  for (i = 0; i < n; i++) {
    snprintf(row, sizeof row, "\n| %d | %s | `%s` | %s |\n", cat[i].id, cs_severity_name(cat[i].severity), cat[i].name,
             cat[i].message);
    CHECK_CONTAINS(doc, row);
  }
  free(doc);
}

/* ---- formatting ---------------------------------------------------------------- */

CS_TEST(format_puts_arguments_in) {
  cs_event_t ev = {CS_EV_CERT_EXPIRING, "AB12", NULL, "CN=www.example.com", NULL, {"12", "30", "2027-01-05"}};
  char *s = format(&ev);
  CHECK_STR(s, "The certificate in service expires in 12 days, on 2027-01-05 (warning threshold 30 days). "
               "Place a renewed certificate in the drop folder.");
  free(s);
}

CS_TEST(format_missing_arguments_read_dash) {
  cs_event_t ev = {CS_EV_ROLLBACK_STARTED, NULL, NULL, NULL, NULL, {NULL, ""}};
  char *s = format(&ev);
  CHECK_STR(s, "The certificate renewal failed at step -: -. The changes made so far are being undone.");
  free(s);
}

CS_TEST(format_sanitizes_untrusted_arguments) {
  cs_event_t ev = {CS_EV_DROP_DETECTED, NULL, NULL, NULL, NULL, {"evil\nFAKE\x1b[31m\xff\xC2\x9B.pfx"}};
  cs_event_t twice = {CS_EV_ROLLBACK_STARTED, NULL, NULL, NULL, NULL, {"%2", "x"}};
  char *s = format(&ev), *t = format(&twice);
  CHECK_STR(s, "A certificate file was found in the drop folder: evil\\x0AFAKE\\x1B[31m\\xFF\\xC2\\x9B.pfx. "
               "It is being checked.");
  /* an argument is text, never a template */
  CHECK_STR(t, "The certificate renewal failed at step %2: x. The changes made so far are being undone.");
  free(s);
  free(t);
}

CS_TEST(format_unknown_event_keeps_arguments) {
  cs_event_t ev = {4999, NULL, NULL, NULL, NULL, {"a", NULL, "c\n"}};
  char *s = format(&ev);
  CHECK_STR(s, "Event 4999 is not in this build's catalog. %1=a %3=c\\x0A");
  free(s);
}

#if defined(_WIN32)
/* The message table linked into this test executable, as into certsteward.exe
 * (cmake/events.cmake): Event Viewer renders an event with FormatMessage from the
 * EventMessageFile, message ID (severity << 30) | ID as common/win/eventlog.c sends
 * it. Rendered here the same way, each catalog entry must read exactly as
 * cs_event_format writes it (what syslog and the events file say). Wine's
 * FormatMessage is faithful; Event Viewer itself is proven only on real Windows. */
CS_TEST(message_table_renders_catalog) {
  const wchar_t *wargs[CS_EVENT_MAX_ARGS] = {L"a1", L"b2", L"c3", L"d4", L"e5", L"f6", L"g7", L"h8", L"i9"};
  const cs_event_def_t *cat;
  size_t n = 0, i;
  cat = cs_event_catalog(&n);
  CHECK(n > 0);
  for (i = 0; i < n; i++) {
    cs_event_t ev = {cat[i].id, NULL, NULL, NULL, NULL, {"a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "i9"}};
    DWORD sev = cat[i].severity == CS_SEV_ERROR ? 3u : cat[i].severity == CS_SEV_WARNING ? 2u : 1u;
    wchar_t *text = NULL;
    char *want = format(&ev), got[4096];
    DWORD len = FormatMessageW(
        FORMAT_MESSAGE_FROM_HMODULE | FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_ARGUMENT_ARRAY,
        GetModuleHandleW(NULL), (sev << 30) | (DWORD)cat[i].id, 0x409, (LPWSTR)&text, 0, (va_list *)(void *)wargs);
    if (len == 0) {
      cs_test_fail(__FILE__, __LINE__, "event %d (%s): no message in the table (error %lu)", cat[i].id, cat[i].name,
                   (unsigned long)GetLastError());
    } else {
      /* the message compiler ends every message with CR LF */
      CHECK(len >= 2 && text[len - 2] == L'\r' && text[len - 1] == L'\n');
      int k =
          WideCharToMultiByte(CP_UTF8, 0, text, (int)(len >= 2 ? len - 2 : len), got, (int)sizeof got - 1, NULL, NULL);
      got[k > 0 ? k : 0] = '\0';
      CHECK_STR(got, want);
    }
    LocalFree(text);
    free(want);
  }
}
#endif

/* ---- JSON ---------------------------------------------------------------------- */

CS_TEST(json_has_every_field) {
  cs_event_t ev = {CS_EV_RENEWAL_COMMITTED, "NEWTP", "OLDTP", "CN=evil\x1b]0;x\x07\xff", NULL, {"OLDTP", "NEWTP"}};
  cs_buf_t b = CS_BUF_INIT;
  cJSON *o;
  cs_event_json(&ev, 1795594150LL, &b); /* 2026-11-25T08:09:10Z */
  CHECK(strchr(cs_buf_str(&b), '\n') == NULL);
  o = cJSON_Parse(cs_buf_str(&b));
  CHECK(o != NULL);
  if (o != NULL) {
    CHECK_STR(jstr(o, "time"), "2026-11-25T08:09:10.000Z");
    CHECK_INT(jint(o, "id"), ==, 4006);
    CHECK_STR(jstr(o, "severity"), "info");
    CHECK_STR(jstr(o, "name"), "RENEWAL_COMMITTED");
    CHECK_STR(jstr(o, "message"), "The certificate OLDTP was replaced by the renewed certificate NEWTP, which is "
                                  "now in service. The renewal is complete.");
    CHECK_STR(jstr(o, "thumbprint"), "NEWTP");
    CHECK_STR(jstr(o, "old_thumbprint"), "OLDTP");
    CHECK_STR(jstr(o, "subject"), "CN=evil\x1b]0;x\x07\xEF\xBF\xBD"); /* JSON-escaped, U+FFFD for the bad byte */
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "file")));
    CHECK_INT(cJSON_GetArraySize(o), ==, 9);
  }
  cJSON_Delete(o);
  cs_buf_free(&b);
}

CS_TEST(json_time_is_rfc3339_utc) {
  static const struct {
    long long t;
    const char *want;
  } cases[] = {
      {0, "\"1970-01-01T00:00:00.000Z\""},
      {-1, "\"1969-12-31T23:59:59.000Z\""},
      {951782400, "\"2000-02-29T00:00:00.000Z\""},
      {1767225599, "\"2025-12-31T23:59:59.000Z\""},
      {4102444800LL, "\"2100-01-01T00:00:00.000Z\""},
      {4107542399LL, "\"2100-02-28T23:59:59.000Z\""},
  };
  size_t i;
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cs_event_t ev = {CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL, {NULL}};
    cs_buf_t b = CS_BUF_INIT;
    cs_event_json(&ev, cases[i].t, &b);
    CHECK_CONTAINS(cs_buf_str(&b), cases[i].want);
    cs_buf_free(&b);
  }
}

/* ---- sinks --------------------------------------------------------------------- */

CS_TEST(count_counts_every_emit) {
  cs_events_cfg_t cfg = {0, 0, NULL, 0};
  cs_event_t ev = {CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL, {NULL}};
  unsigned long before;
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  before = cs_events_count();
  cs_event_emit(&ev);
  cs_event_emit(&ev);
  ev.id = 4999; /* unknown: still counted, still not lost */
  cs_event_emit(&ev);
  CHECK_INT(cs_events_count(), ==, before + 3);
  cs_events_close();
}

/* Emits ev times times (between open and close when cfg is set) with stderr sent
 * to a file; returns what was written there. */
static char *capture_stderr_n(const char *dir, const cs_events_cfg_t *cfg, const cs_event_t *ev, int times) {
  char path[4096];
  int saved;
  FILE *f;
  join(path, sizeof path, dir, "stderr.txt");
  f = fopen(path, "wb");
  if (f == NULL)
    return NULL;
  saved = cs_test_stderr_to(f);
  if (cfg != NULL)
    cs_events_open(cfg);
  while (times-- > 0)
    cs_event_emit(ev);
  if (cfg != NULL)
    cs_events_close();
  cs_test_stderr_back(saved);
  fclose(f);
  return cs_test_read_text(path);
}

static char *capture_stderr(const char *dir, const cs_events_cfg_t *cfg, const cs_event_t *ev) {
  return capture_stderr_n(dir, cfg, ev, 1);
}

CS_TEST(stderr_line_format) {
  const char *dir = test_dir("events.stderr");
  cs_events_cfg_t cfg = {1, 0, NULL, 0};
  cs_event_t ev = {CS_EV_DROP_REJECTED, "AA11",        NULL,
                   "CN=a\nb",           "/drop/x.pfx", {"x.pfx", "expired, key mismatch", "/q/x.pfx"}};
  cs_event_t plain = {CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL, {NULL}};
  char *s = capture_stderr(dir, &cfg, &ev), *t;
  CHECK_STR(s, "certsteward[3002] error: The certificate file x.pfx was rejected and moved to /q/x.pfx. Failed "
               "checks: expired, key mismatch. The certificate in service is unchanged. Fix the file and drop it "
               "again. thumbprint=AA11 subject=CN=a\\x0Ab file=/drop/x.pfx\n");
  /* after close events still reach stderr */
  t = capture_stderr(dir, NULL, &plain);
  CHECK_CONTAINS(t, "certsteward[1001] info: The certsteward service stopped.");
  free(s);
  free(t);
}

/* What happens before the configuration is read (CONFIG_ERROR) is not lost.
 * Run alone (as CTest does), this is the state before any cs_events_open. */
CS_TEST(stderr_before_open) {
  const char *dir = test_dir("events.before_open");
  cs_event_t ev = {CS_EV_CONFIG_ERROR,
                   NULL,
                   NULL,
                   NULL,
                   "/etc/certsteward/certsteward.ini",
                   {"/etc/certsteward/certsteward.ini", "7", "unknown key"}};
  char *s = capture_stderr(dir, NULL, &ev);
  CHECK_STR(s, "certsteward[1002] error: The configuration file /etc/certsteward/certsteward.ini is not valid at "
               "line 7: unknown key. Correct the file, then start the service again. "
               "file=/etc/certsteward/certsteward.ini\n");
  free(s);
}

CS_TEST(stderr_off_writes_nothing) {
  const char *dir = test_dir("events.stderr_off");
  cs_events_cfg_t cfg = {0, 0, NULL, 0};
  cs_event_t ev = {CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL, {NULL}};
  char *s = capture_stderr(dir, &cfg, &ev);
  CHECK_STR(s, "");
  free(s);
}

static const char *fresh_jsonl(const char *test, char *buf, size_t len) {
  char old[4200];
  const char *dir = test_dir(test);
  join(buf, len, dir, "events.jsonl");
  snprintf(old, sizeof old, "%s.1", buf);
  cs_plat_remove(buf, NULL);
  cs_plat_remove(old, NULL);
  return buf;
}

CS_TEST(jsonl_one_parseable_line_per_event) {
  char path[4096];
  cs_events_cfg_t cfg = {0, 0, NULL, 1 << 20};
  cs_event_t ev = {CS_EV_DROP_DETECTED, NULL, NULL, "CN=x\r\n{\"forged\":1}", "a\nb.pfx", {"a\nb.pfx"}};
  cJSON *lines[8];
  char *text;
  int n, i;
  cfg.jsonl_path = fresh_jsonl("events.jsonl", path, sizeof path);
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  CHECK(cs_plat_exists(path)); /* made at open: a bad path shows at start */
  for (i = 0; i < 3; i++)
    cs_event_emit(&ev);
  ev.id = CS_EV_SERVICE_STOPPED;
  cs_event_emit(&ev);
  cs_events_close();
  text = cs_test_read_text(path);
  CHECK(text != NULL);
  n = text != NULL ? parse_lines(text, lines, 8) : -1;
  CHECK_INT(n, ==, 4);
  for (i = 0; i < n; i++) {
    CHECK_INT(jint(lines[i], "id"), ==, i < 3 ? 3000 : 1001);
    CHECK_STR(jstr(lines[i], "subject"), "CN=x\r\n{\"forged\":1}");
    CHECK_STR(jstr(lines[i], "file"), "a\nb.pfx");
  }
  free_lines(lines, n);
  free(text);
}

/* cs_event_cert fills every field where the JSON line shows it: thumbprints, subject,
 * file and insertion strings; an empty thumbprint is none (null), as is cs_event_say's. */
CS_TEST(event_cert_fills_each_field) {
  char path[4096];
  cs_events_cfg_t cfg = {0, 0, NULL, 1 << 20};
  cJSON *lines[4];
  char *text;
  int n;
  cfg.jsonl_path = fresh_jsonl("events.cert", path, sizeof path);
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  cs_event_cert(CS_EV_DROP_REJECTED, "AA11", "BB22", "CN=s", "f.pfx", "f.pfx", "why", "where");
  cs_event_cert(CS_EV_DROP_REJECTED, "", "", NULL, NULL, NULL, NULL, NULL);
  cs_event_say(CS_EV_STATE_ERROR, "g.pfx", "dir", "reason", NULL);
  cs_events_close();
  text = cs_test_read_text(path);
  CHECK(text != NULL);
  n = text != NULL ? parse_lines(text, lines, 4) : -1;
  CHECK_INT(n, ==, 3);
  if (n == 3) {
    cs_event_t ev = {CS_EV_DROP_REJECTED, NULL, NULL, NULL, NULL, {"f.pfx", "why", "where"}};
    char *want = format(&ev);
    CHECK_STR(jstr(lines[0], "thumbprint"), "AA11");
    CHECK_STR(jstr(lines[0], "old_thumbprint"), "BB22");
    CHECK_STR(jstr(lines[0], "subject"), "CN=s");
    CHECK_STR(jstr(lines[0], "file"), "f.pfx");
    CHECK_STR(jstr(lines[0], "message"), want);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lines[1], "thumbprint")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lines[1], "old_thumbprint")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lines[1], "subject")));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lines[1], "file")));
    CHECK_INT(jint(lines[2], "id"), ==, CS_EV_STATE_ERROR);
    CHECK_STR(jstr(lines[2], "file"), "g.pfx");
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(lines[2], "thumbprint")));
    free(want);
  }
  free_lines(lines, n);
  free(text);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" as milliseconds since 1970; -1 when it has another shape. */
static long long rfc3339_ms(const char *s) {
  int y, mo, d, h, mi, sec, ms, n = 0;
  long long days, era, yoe, doy, doe;
  if (s == NULL || strlen(s) != 24 ||
      sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &y, &mo, &d, &h, &mi, &sec, &ms, &n) != 7 || n != 24)
    return -1;
  /* days from the civil date (the inverse of cs_time_utc's conversion) */
  y -= mo <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  days = era * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + ms;
}

/* The file's times have milliseconds: two events 50 ms apart read 50 ms apart (or
 * more, on a busy machine), and both read the time they were emitted at. */
CS_TEST(jsonl_time_has_milliseconds) {
  char path[4096];
  cs_events_cfg_t cfg = {0, 0, NULL, 1 << 20};
  cs_event_t ev = {CS_EV_SERVICE_STARTED, NULL, NULL, NULL, NULL, {"1", "x"}};
  cJSON *lines[4];
  long long before, after, t[2] = {-1, -1};
  char *text;
  int n, i;
  cfg.jsonl_path = fresh_jsonl("events.ms", path, sizeof path);
  CHECK_INT(rfc3339_ms("2026-11-25T08:09:10.524Z"), ==, 1795594150524LL); /* the helper itself */
  CHECK_INT(rfc3339_ms("2000-02-29T00:00:00.001Z"), ==, 951782400001LL);
  CHECK_INT(rfc3339_ms("2026-11-25T08:09:10Z"), ==, -1LL); /* no milliseconds: not the shape */
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  before = (long long)time(NULL) * 1000;
  cs_event_emit(&ev);
  cs_plat_sleep_ms(50);
  cs_event_emit(&ev);
  after = ((long long)time(NULL) + 1) * 1000;
  cs_events_close();
  text = cs_test_read_text(path);
  n = text != NULL ? parse_lines(text, lines, 4) : -1;
  CHECK_INT(n, ==, 2);
  for (i = 0; i < n && i < 2; i++) {
    t[i] = rfc3339_ms(jstr(lines[i], "time"));
    if (t[i] < before || t[i] > after)
      cs_test_fail(__FILE__, __LINE__, "event %d: time %s is not between %lld and %lld ms", i, jstr(lines[i], "time"),
                   before, after);
  }
#ifdef TIME_UTC
  /* the C library has timespec_get (mingw-w64 against msvcrt.dll has not: whole seconds) */
  CHECK_INT(t[1] - t[0], >=, 50);
  CHECK_INT(t[1] - t[0], <, 5000);
  CHECK(t[0] % 1000 != 0 || t[1] % 1000 != 0); /* whole seconds both times: no milliseconds written */
#endif
  free_lines(lines, n);
  free(text);
}

CS_TEST(jsonl_rotates_keeping_one_generation) {
  enum { MAX = 1200, EVENTS = 40 };
  char path[4096], old[4200], two[4200], seq[16], *cur_text, *old_text;
  cs_events_cfg_t cfg = {0, 0, NULL, MAX};
  cs_event_t ev = {CS_EV_DROP_DETECTED, NULL, NULL, NULL, NULL, {seq}};
  cJSON *cur[EVENTS], *prev[EVENTS];
  int n_cur, n_prev, i, first;
  cfg.jsonl_path = fresh_jsonl("events.rotate", path, sizeof path);
  snprintf(old, sizeof old, "%s.1", path);
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  for (i = 0; i < EVENTS; i++) {
    snprintf(seq, sizeof seq, "%d", i);
    cs_event_emit(&ev);
  }
  cs_events_close();
  cur_text = cs_test_read_text(path);
  old_text = cs_test_read_text(old);
  CHECK(cur_text != NULL && old_text != NULL);
  if (cur_text == NULL || old_text == NULL)
    goto out;
  CHECK_INT(strlen(cur_text), <=, MAX);
  CHECK_INT(strlen(old_text), <=, MAX);
  CHECK_INT(strlen(old_text), >, MAX - 200); /* rotated only when the next line would not fit */
  snprintf(two, sizeof two, "%s.2", path);
  CHECK(!cs_plat_exists(two));
  n_cur = parse_lines(cur_text, cur, EVENTS);
  n_prev = parse_lines(old_text, prev, EVENTS);
  CHECK_INT(n_cur, >, 0);
  CHECK_INT(n_prev, >, 0);
  if (n_cur > 0 && n_prev > 0) {
    /* the newest events, in order, .1 right before them, nothing duplicated */
    first = EVENTS - n_cur - n_prev;
    CHECK_INT(first, >, 0); /* rotated more than once: older lines dropped */
    for (i = 0; i < n_prev; i++) {
      snprintf(seq, sizeof seq, ": %d.", first + i);
      CHECK_CONTAINS(jstr(prev[i], "message"), seq);
    }
    for (i = 0; i < n_cur; i++) {
      snprintf(seq, sizeof seq, ": %d.", first + n_prev + i);
      CHECK_CONTAINS(jstr(cur[i], "message"), seq);
    }
  }
  free_lines(cur, n_cur > 0 ? n_cur : 0);
  free_lines(prev, n_prev > 0 ? n_prev : 0);
out:
  free(cur_text);
  free(old_text);
}

/* A rotation that cannot happen (here .1 is a folder) loses no event and is said
 * once on stderr, not once per event. */
CS_TEST(jsonl_failed_rotation_keeps_events) {
  char path[4096], old[4200], *text, *err, *p;
  cs_events_cfg_t cfg = {0, 0, NULL, 100};
  cs_event_t ev = {CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL, {NULL}};
  cJSON *lines[8];
  int n, said = 0;
  cfg.jsonl_path = fresh_jsonl("events.rotate_fails", path, sizeof path);
  snprintf(old, sizeof old, "%s.1", path);
  CHECK_INT(cs_plat_mkdirs(old, 0700, NULL), ==, 0);
  err = capture_stderr_n(test_dir("events.rotate_fails"), &cfg, &ev, 4);
  text = cs_test_read_text(path);
  n = text != NULL ? parse_lines(text, lines, 8) : -1;
  CHECK_INT(n, ==, 4);
  free_lines(lines, n > 0 ? n : 0);
  for (p = err; p != NULL && (p = strstr(p, "cannot rotate the event file")) != NULL; p++)
    said++;
  CHECK_INT(said, ==, 1);
  free(text);
  free(err);
}

CS_TEST(jsonl_file_not_world_readable) {
  char path[4096];
  cs_events_cfg_t cfg = {0, 0, NULL, 300};
  cs_event_t ev = {CS_EV_SERVICE_STOPPED, NULL, NULL, NULL, NULL, {NULL}};
  struct stat st;
  int i;
  if (cs_plat_is_windows())
    return; /* the file inherits the folder's ACL there */
  cfg.jsonl_path = fresh_jsonl("events.mode", path, sizeof path);
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  CHECK_INT(stat(path, &st), ==, 0);
  CHECK_INT(st.st_mode & 0777, ==, 0600);
  for (i = 0; i < 5; i++) /* past 300 bytes: the file after rotation too */
    cs_event_emit(&ev);
  cs_events_close();
  CHECK_INT(stat(path, &st), ==, 0);
  CHECK_INT(st.st_mode & 0777, ==, 0600);
}

#define THREADS 4
#define PER_THREAD 60

static void emit_many(void *arg) {
  cs_event_t ev = {CS_EV_NEW_CERT_SERVED, "TP", NULL, NULL, NULL, {(const char *)arg}};
  int i;
  for (i = 0; i < PER_THREAD; i++)
    cs_event_emit(&ev);
}

/* Every line has the same length here, so with rotation every three lines the
 * files must end up holding exactly 3 lines (.1) and ((N - 1) mod 3) + 1: a
 * rotation or a creation raced by two threads loses lines or a generation. */
CS_TEST(emit_from_threads_keeps_lines_and_generations) {
  static char names[THREADS][16] = {"https://a:443", "https://b:443", "https://c:443", "https://d:443"};
  static cJSON *lines[THREADS * PER_THREAD + 1];
  char path[4096], old[4200], *text = NULL, *old_text = NULL;
  cs_events_cfg_t cfg = {0, 0, NULL, 0};
  cs_event_t sample = {CS_EV_NEW_CERT_SERVED, "TP", NULL, NULL, NULL, {names[0]}};
  cs_buf_t b = CS_BUF_INIT;
  uv_thread_t t[THREADS];
  unsigned long before;
  int i, n, n_old;
  cs_event_json(&sample, 1795594150LL, &b);
  cfg.jsonl_max = 3 * ((long long)b.len + 1) + ((long long)b.len + 1) / 2;
  cs_buf_free(&b);
  cfg.jsonl_path = fresh_jsonl("events.threads", path, sizeof path);
  snprintf(old, sizeof old, "%s.1", path);
  CHECK_INT(cs_events_open(&cfg), ==, 0);
  before = cs_events_count();
  for (i = 0; i < THREADS; i++)
    CHECK_INT(uv_thread_create(&t[i], emit_many, names[i]), ==, 0);
  for (i = 0; i < THREADS; i++)
    uv_thread_join(&t[i]);
  cs_events_close();
  CHECK_INT(cs_events_count() - before, ==, THREADS * PER_THREAD);
  text = cs_test_read_text(path);
  old_text = cs_test_read_text(old);
  n = text != NULL ? parse_lines(text, lines, THREADS * PER_THREAD + 1) : -1;
  CHECK_INT(n, ==, (THREADS * PER_THREAD - 1) % 3 + 1);
  free_lines(lines, n > 0 ? n : 0);
  n_old = old_text != NULL ? parse_lines(old_text, lines, THREADS * PER_THREAD + 1) : -1;
  CHECK_INT(n_old, ==, 3);
  free_lines(lines, n_old > 0 ? n_old : 0);
  free(text);
  free(old_text);
}
