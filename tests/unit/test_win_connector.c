/* The connector's facts from Wine's real Service Control Manager (common/win/connector.c
 * and cs_connector_resolve): each test registers a service of its own (never started)
 * with a start name and a command line, over an install folder with the connector's
 * settings files, and checks what the configuration is given. Wine stores the start
 * name; that the service then runs as that account only real Windows proves. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>

#include "config.h"
#include "connector.h"
#include "events.h"
#include "platform.h"

#define TP "0123456789ABCDEF0123456789ABCDEF01234567"

typedef struct svc_s {
  char name[96];
  char dir[512]; /* the install folder */
  int created;
} svc_t;

static void put(const svc_t *s, const char *rel, const char *text) {
  char path[900], sub[900];
  cs_err_t err;
  FILE *f;
  snprintf(path, sizeof path, "%s\\%s", s->dir, rel);
  snprintf(sub, sizeof sub, "%s", path);
  *strrchr(sub, '\\') = '\0';
  CHECK_INT(cs_plat_mkdirs(sub, 0700, &err), ==, 0);
  f = cs_plat_fopen(path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    fputs(text, f);
    fclose(f);
  }
}

/* Registers "cs-conn-<pid>-<tag>" with start_name (NULL: LocalSystem) and the command
 * line image (an "@" in it becomes the install folder). */
static void svc_create(svc_t *s, const char *tag, const char *start_name, const char *image) {
  char cmd[1200];
  memset(s, 0, sizeof *s);
  snprintf(s->name, sizeof s->name, "cs-conn-%lu-%s", (unsigned long)GetCurrentProcessId(), tag);
  cs_test_mkdtemp("cs-conn", s->dir, sizeof s->dir);
  {
    const char *at = strchr(image, '@');
    if (at != NULL)
      snprintf(cmd, sizeof cmd, "%.*s%s%s", (int)(at - image), image, s->dir, at + 1);
    else
      snprintf(cmd, sizeof cmd, "%s", image);
  }
  s->created = cs_test_service_create(s->name, cmd, NULL, start_name);
}

static void svc_delete(svc_t *s) {
  cs_err_t err;
  if (s->created)
    cs_test_service_delete(s->name);
  (void)cs_plat_remove_tree(s->dir, &err);
}

/* The connector's settings files, as BOARD Connector lays them out under layout
 * ("config\\servers" or "config\\server"). */
static void connector_files(const svc_t *s, const char *layout) {
  char rel[200];
  snprintf(rel, sizeof rel, "%s\\tls.json", layout);
  put(s, rel,
      "{\r\n  \"webServer\": { \"port\": 8197, \"thumbprint\": \"" TP "\" },\r\n"
      "  \"configurationServer\": { \"port\": 8096, \"thumbprint\": \"" TP "\" }\r\n}\r\n");
  snprintf(rel, sizeof rel, "%s\\web\\general.json", layout);
  put(s, rel, "{ \"HttpPort\": 18097, \"HttpsPort\": 18197 }");
  snprintf(rel, sizeof rel, "%s\\config\\general.json", layout);
  put(s, rel, "{ \"Port\": 18096 }");
}

/* The configuration with [connector] service = s, the rest as given ("" = empty),
 * resolved, the events it gave written to events (a JSON-lines file). */
static void resolve(const svc_t *s, const char *account, const char *endpoints, cs_config_t *cfg, char **events) {
  char ini[2000], path[700], jsonl[700];
  cs_events_cfg_t ev;
  cs_err_t err;
  unsigned char *data = NULL;
  size_t len = 0;
  snprintf(ini, sizeof ini, "[connector]\nservice = %s\naccount = %s\nendpoints = %s\n", s->name, account, endpoints);
  snprintf(path, sizeof path, "%s\\cs.ini", s->dir);
  snprintf(jsonl, sizeof jsonl, "%s\\events.jsonl", s->dir);
  CHECK_INT(cs_config_load_mem(cfg, path, (const unsigned char *)ini, strlen(ini), &err), ==, 0);
  memset(&ev, 0, sizeof ev);
  ev.jsonl_path = jsonl;
  ev.jsonl_max = 1 << 20;
  CHECK_INT(cs_events_open(&ev), ==, 0);
  CHECK_INT(cs_connector_resolve(cfg, &err), ==, 0);
  cs_events_close();
  *events = NULL;
  if (cs_plat_read_file(jsonl, 1 << 20, 0, &data, &len, &err) == CS_OK && (*events = malloc(len + 1)) != NULL)
    memcpy(*events, data, len + 1);
  cs_plat_free_file(data, len);
}

static const char *join(const cs_strlist_t *l) {
  static char out[1200];
  size_t i;
  out[0] = '\0';
  for (i = 0; i < l->n; i++)
    snprintf(out + strlen(out), sizeof out - strlen(out), "%s%s", i ? ", " : "", l->v[i]);
  return out;
}

CS_TEST(service_settings_are_read) {
  svc_t s;
  char *start = NULL, *image = NULL, want[900];
  cs_err_t err;
  svc_create(&s, "read", "NT AUTHORITY\\LocalService", "\"@\\BCService.exe\" -service");
  CHECK_INT(cs_plat_service_config(s.name, &start, &image, &err), ==, 0);
  CHECK_STR(start, "NT AUTHORITY\\LocalService");
  snprintf(want, sizeof want, "\"%s\\BCService.exe\" -service", s.dir);
  CHECK_STR(image, want);
  free(start);
  free(image);
  svc_delete(&s);
  CHECK_INT(cs_plat_service_config("cs-conn-no-such-service", &start, &image, &err), ==, CS_ENOENT);
  CHECK(start == NULL && image == NULL);
  CHECK_CONTAINS(err.text, "no service named");
}

CS_TEST(resolved_from_the_service_and_its_files) {
  svc_t s;
  cs_config_t cfg;
  char *events = NULL, want[900];
  svc_create(&s, "files", "NT AUTHORITY\\NetworkService", "\"@\\BCService.exe\"");
  connector_files(&s, "config\\servers");
  resolve(&s, "", "", &cfg, &events);
  CHECK_STR(cfg.connector.account, "S-1-5-20");
  snprintf(want, sizeof want, "%s\\config\\servers\\tls.json", s.dir);
  CHECK_STR(join(&cfg.connector.binding_files), want);
  CHECK_STR(join(&cfg.connector.endpoints), "127.0.0.1:18197, 127.0.0.1:18096");
  CHECK_INT(cfg.connector.endpoints_default, ==, 1);
  CHECK_CONTAINS(events, "\"id\":1011");
  CHECK_CONTAINS(events, "S-1-5-20");
  free(events);
  cs_config_free(&cfg);
  svc_delete(&s);
}

CS_TEST(older_layout_and_virtual_account) {
  svc_t s;
  cs_config_t cfg;
  char *events = NULL, want[900];
  /* unquoted, in a bin folder below the install folder, config\server (older releases) */
  svc_create(&s, "older", "NT SERVICE\\whatever", "@\\bin\\BCService.exe /run");
  connector_files(&s, "config\\server");
  resolve(&s, "", "", &cfg, &events);
  snprintf(want, sizeof want, "NT SERVICE\\%s", s.name);
  CHECK_STR(cfg.connector.account, want);
  snprintf(want, sizeof want, "%s\\config\\server\\tls.json", s.dir);
  CHECK_STR(join(&cfg.connector.binding_files), want);
  CHECK_STR(join(&cfg.connector.endpoints), "127.0.0.1:18197, 127.0.0.1:18096");
  free(events);
  cs_config_free(&cfg);
  svc_delete(&s);
}

CS_TEST(local_system_gets_no_grant_and_explicit_account_is_warned) {
  svc_t s;
  cs_config_t cfg;
  char *events = NULL;
  svc_create(&s, "system", NULL, "\"@\\BCService.exe\"");
  connector_files(&s, "config\\servers");
  resolve(&s, "", "127.0.0.1:8443", &cfg, &events);
  CHECK(cfg.connector.account == NULL);
  CHECK_CONTAINS(events, "LocalSystem");
  CHECK(events == NULL || strstr(events, "\"id\":1010") == NULL);
  /* explicit endpoints stay, and stay explicit */
  CHECK_STR(join(&cfg.connector.endpoints), "127.0.0.1:8443");
  CHECK_INT(cfg.connector.endpoints_default, ==, 0);
  free(events);
  cs_config_free(&cfg);
  /* the old default, set explicitly, for a connector that runs as LocalSystem */
  resolve(&s, "NT SERVICE\\BOARD Connector Service", "", &cfg, &events);
  CHECK_STR(cfg.connector.account, "NT SERVICE\\BOARD Connector Service");
  CHECK_CONTAINS(events, "\"id\":1010");
  free(events);
  cs_config_free(&cfg);
  svc_delete(&s);
}

CS_TEST(unknown_install_folder_uses_the_documented_defaults) {
  svc_t s;
  cs_config_t cfg;
  char *events = NULL;
  svc_create(&s, "unknown", "NT AUTHORITY\\LocalService", "%SystemRoot%\\BCService.exe");
  resolve(&s, "", "", &cfg, &events);
  CHECK_STR(join(&cfg.connector.binding_files), CS_CONNECTOR_DEFAULT_BINDING);
  CHECK_STR(join(&cfg.connector.endpoints), CS_CONNECTOR_DEFAULT_ENDPOINTS);
  CHECK_INT(cfg.connector.endpoints_default, ==, 1);
  CHECK_CONTAINS(events, "\"id\":1012");
  CHECK_CONTAINS(events, "install folder");
  free(events);
  cs_config_free(&cfg);
  svc_delete(&s);
}

CS_TEST(missing_service_uses_its_virtual_account) {
  svc_t s;
  cs_config_t cfg;
  char *events = NULL;
  memset(&s, 0, sizeof s);
  snprintf(s.name, sizeof s.name, "cs-conn-%lu-missing", (unsigned long)GetCurrentProcessId());
  cs_test_mkdtemp("cs-conn", s.dir, sizeof s.dir);
  resolve(&s, "", "", &cfg, &events);
  CHECK_CONTAINS(cfg.connector.account, "NT SERVICE\\cs-conn-");
  CHECK_STR(join(&cfg.connector.binding_files), CS_CONNECTOR_DEFAULT_BINDING);
  CHECK_INT(cfg.connector.endpoints_default, ==, 1);
  CHECK_CONTAINS(events, "\"id\":1012");
  free(events);
  cs_config_free(&cfg);
  svc_delete(&s);
}
