/* The connector's facts (common/connector.c): the account decision and the ImagePath
 * parsing as pure functions, the settings files read from real files, the probe
 * errors that make a default endpoint skippable, the pre-flight's skip list. Built
 * natively and for Windows (run under Wine). */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "connector.h"
#include "json.h"
#include "platform.h"

/* ---- the account ------------------------------------------------------------------- */

static const char *account(const char *start_name, const char *service, int *rc) {
  static char out[300];
  *rc = cs_connector_account(start_name, service, out, sizeof out);
  return out;
}

#define CHECK_ACCOUNT(start, service, want)                                                                            \
  do {                                                                                                                 \
    int rc_;                                                                                                           \
    const char *got_ = account((start), (service), &rc_);                                                              \
    CHECK_INT(rc_, ==, CS_OK);                                                                                         \
    CHECK_STR(got_, (want));                                                                                           \
  } while (0)

#define CHECK_NO_GRANT(start)                                                                                          \
  do {                                                                                                                 \
    int rc_;                                                                                                           \
    const char *got_ = account((start), "BOARD Connector Service", &rc_);                                              \
    CHECK_INT(rc_, ==, CS_CONNECTOR_NO_GRANT);                                                                         \
    CHECK_STR(got_, "");                                                                                               \
  } while (0)

CS_TEST(account_local_system_gets_nothing) {
  CHECK_NO_GRANT(NULL);
  CHECK_NO_GRANT("");
  CHECK_NO_GRANT("LocalSystem");
  CHECK_NO_GRANT(".\\LocalSystem");
  CHECK_NO_GRANT("localsystem");
  CHECK_NO_GRANT("NT AUTHORITY\\SYSTEM");
  CHECK_NO_GRANT("S-1-5-18");
}

CS_TEST(account_service_accounts_by_sid) {
  CHECK_ACCOUNT("NT AUTHORITY\\LocalService", "svc", "S-1-5-19");
  CHECK_ACCOUNT("NT AUTHORITY\\LOCAL SERVICE", "svc", "S-1-5-19");
  CHECK_ACCOUNT("nt authority\\networkservice", "svc", "S-1-5-20");
  CHECK_ACCOUNT("NT AUTHORITY\\NETWORK SERVICE", "svc", "S-1-5-20");
  CHECK_ACCOUNT("NetworkService", "svc", "S-1-5-20");
}

CS_TEST(account_virtual_is_the_service_key_name) {
  CHECK_ACCOUNT("NT SERVICE\\BOARD Connector Service", "BOARD Connector Service",
                "NT SERVICE\\BOARD Connector Service");
  /* the start name's own spelling does not count: the SID comes from the key name */
  CHECK_ACCOUNT("nt service\\Other", "BOARD Connector Service", "NT SERVICE\\BOARD Connector Service");
  {
    int rc;
    (void)account("NT SERVICE\\X", "", &rc);
    CHECK_INT(rc, ==, CS_EINVAL);
  }
}

CS_TEST(account_others_as_given) {
  CHECK_ACCOUNT("CONTOSO\\svc-board", "svc", "CONTOSO\\svc-board");
  CHECK_ACCOUNT("CONTOSO\\gmsa-board$", "svc", "CONTOSO\\gmsa-board$");
  CHECK_ACCOUNT(".\\boarduser", "svc", ".\\boarduser");
  CHECK_ACCOUNT("board@contoso.example", "svc", "board@contoso.example");
}

CS_TEST(account_garbage_refused) {
  char longname[400];
  int rc;
  (void)account("CONTOSO\\bad\nname", "svc", &rc);
  CHECK_INT(rc, ==, CS_EINVAL);
  memset(longname, 'a', sizeof longname - 1);
  longname[sizeof longname - 1] = '\0';
  (void)account(longname, "svc", &rc);
  CHECK_INT(rc, ==, CS_EINVAL);
  {
    char small[8];
    CHECK_INT(cs_connector_account("CONTOSO\\svc-board", "svc", small, sizeof small), ==, CS_ETOOBIG);
  }
}

CS_TEST(account_sameness) {
  CHECK(cs_connector_same_account("NT SERVICE\\BOARD Connector Service", "nt service\\board connector service"));
  CHECK(cs_connector_same_account("LocalSystem", ""));
  CHECK(cs_connector_same_account("NT AUTHORITY\\SYSTEM", ""));
  CHECK(cs_connector_same_account("NT AUTHORITY\\NetworkService", "S-1-5-20"));
  CHECK(cs_connector_same_account(".\\boarduser", "boarduser"));
  CHECK(!cs_connector_same_account("NT SERVICE\\BOARD Connector Service", ""));
  CHECK(!cs_connector_same_account("NT SERVICE\\BOARD Connector Service", "S-1-5-19"));
  CHECK(!cs_connector_same_account("CONTOSO\\a", "CONTOSO\\b"));
}

/* ---- the ImagePath ------------------------------------------------------------------- */

static int exe(const char *image, char *out, size_t n) {
  cs_err_t err;
  int rc = cs_connector_image_exe(image, out, n, &err);
  if (rc != CS_OK)
    CHECK(err.text[0] != '\0');
  return rc;
}

CS_TEST(image_path_to_program) {
  char out[600];
  CHECK_INT(exe("\"C:\\Program Files\\BOARDConnector\\BCService.exe\"", out, sizeof out), ==, 0);
  CHECK_STR(out, "C:\\Program Files\\BOARDConnector\\BCService.exe");
  CHECK_INT(exe("  \"C:\\Program Files\\BOARD Connector\\BCService.exe\" -service \"x y\"", out, sizeof out), ==, 0);
  CHECK_STR(out, "C:\\Program Files\\BOARD Connector\\BCService.exe");
  /* unquoted, spaces and all: up to the first .exe followed by a blank or the end */
  CHECK_INT(exe("C:\\Program Files\\BOARDConnector\\BCService.exe", out, sizeof out), ==, 0);
  CHECK_STR(out, "C:\\Program Files\\BOARDConnector\\BCService.exe");
  CHECK_INT(exe("D:\\BOARD\\BCService.EXE /run now.exe", out, sizeof out), ==, 0);
  CHECK_STR(out, "D:\\BOARD\\BCService.EXE");
  CHECK_INT(exe("\"\\\\?\\C:\\Program Files\\BOARDConnector\\BCService.exe\"", out, sizeof out), ==, 0);
  CHECK_STR(out, "C:\\Program Files\\BOARDConnector\\BCService.exe");
  CHECK_INT(exe("\"C:/Program Files/BOARDConnector/BCService.exe\"", out, sizeof out), ==, 0);
  CHECK_STR(out, "C:\\Program Files\\BOARDConnector\\BCService.exe");
}

CS_TEST(image_path_long_without_prefix) {
  static char image[1500], want[1400];
  char *out = malloc(2000);
  size_t k;
  int n = snprintf(want, sizeof want, "E:\\Apps");
  for (k = 0; k < 40; k++) /* well past MAX_PATH (260) */
    n += snprintf(want + n, sizeof want - (size_t)n, "\\folder-number-%02zu", k);
  snprintf(want + n, sizeof want - (size_t)n, "\\BCService.exe");
  snprintf(image, sizeof image, "\"%s\" -x", want);
  CHECK(out != NULL && strlen(want) > 600);
  if (out == NULL)
    return;
  CHECK_INT(exe(image, out, 2000), ==, 0);
  CHECK_STR(out, want);
  CHECK_INT(exe(image, out, 100), ==, CS_ETOOBIG);
  free(out);
}

CS_TEST(image_path_garbage_is_unknown) {
  static const char *const bad[] = {NULL,
                                    "",
                                    "   ",
                                    "\"C:\\Program Files\\BOARDConnector\\BCService.exe", /* no closing quote */
                                    "\"C:\\a\\b.exe\"x",                            /* text right after the quote */
                                    "C:\\Program Files\\BOARDConnector\\BCService", /* no .exe */
                                    "BCService.exe",                                /* relative */
                                    "\\\\server\\share\\BCService.exe",             /* a network path */
                                    "%ProgramFiles%\\BOARDConnector\\BCService.exe",
                                    "\"C:\\Program Files\\..\\Windows\\x.exe\"",
                                    "\"C:\\a\\.\\x.exe\"",
                                    "\"C:\\a\\\\x.exe\"",
                                    "\"C:\\a\\x\tz.exe\"",
                                    "\"C:\\a:b\\x.exe\"",
                                    "\"C:\\a\\x?.exe\"",
                                    "system32\\svchost.exe -k netsvcs",
                                    "\\??\\C:\\Windows\\system32\\drivers\\x.sys"};
  char out[600];
  size_t i;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int rc = exe(bad[i], out, sizeof out);
    if (rc != CS_EFORMAT)
      fprintf(stderr, "taken: %s -> %s\n", bad[i] ? bad[i] : "(null)", out);
    CHECK_INT(rc, ==, CS_EFORMAT);
    CHECK_STR(out, "");
  }
}

CS_TEST(image_path_to_binding_candidates) {
  char **c = NULL;
  size_t n = 0;
  cs_err_t err;
  CHECK_INT(cs_connector_candidates("\"C:\\Program Files\\BOARDConnector\\BCService.exe\" -x", &c, &n, &err), ==, 0);
  CHECK_INT(n, ==, 2); /* one install folder: never the one above as well */
  if (n == 2) {
    CHECK_STR(c[0], "C:\\Program Files\\BOARDConnector\\config\\servers\\tls.json");
    CHECK_STR(c[1], "C:\\Program Files\\BOARDConnector\\config\\server\\tls.json");
  }
  cs_connector_list_free(c, n);
  /* a program in <install>\bin: the install folder is the one above, and only that */
  CHECK_INT(cs_connector_candidates("\"C:\\Program Files\\BOARD\\Bin\\BCService.exe\"", &c, &n, &err), ==, 0);
  CHECK_INT(n, ==, 2);
  if (n == 2) {
    CHECK_STR(c[0], "C:\\Program Files\\BOARD\\config\\servers\\tls.json");
    CHECK_STR(c[1], "C:\\Program Files\\BOARD\\config\\server\\tls.json");
  }
  cs_connector_list_free(c, n);
  CHECK_INT(cs_connector_candidates("C:\\bin\\BCService.exe", &c, &n, &err), ==, CS_EFORMAT);
  CHECK(c == NULL && n == 0);
  /* one level below the root: the root is never an install folder */
  CHECK_INT(cs_connector_candidates("D:\\BOARD\\BCService.exe", &c, &n, &err), ==, 0);
  CHECK_INT(n, ==, 2);
  if (n == 2)
    CHECK_STR(c[0], "D:\\BOARD\\config\\servers\\tls.json");
  cs_connector_list_free(c, n);
  CHECK_INT(cs_connector_candidates("D:\\BCService.exe", &c, &n, &err), ==, CS_EFORMAT);
  CHECK(c == NULL && n == 0);
  CHECK_CONTAINS(err.text, "root");
  CHECK_INT(cs_connector_candidates("garbage", &c, &n, &err), ==, CS_EFORMAT);
  CHECK(c == NULL && n == 0);
}

/* ---- the settings files -------------------------------------------------------------- */

static char dir[1024];
static const char *sep(void) { return cs_plat_is_windows() ? "\\" : "/"; }

static const char *put(const char *rel, const char *text) {
  static char path[8][1200];
  static int k;
  char sub[1200], *p;
  cs_err_t err;
  FILE *f;
  k = (k + 1) % 8;
  snprintf(path[k], sizeof path[k], "%s%s%s", dir, sep(), rel);
  for (p = path[k]; *p; p++)
    if (*p == '/')
      *p = sep()[0];
  snprintf(sub, sizeof sub, "%s", path[k]);
  *strrchr(sub, sep()[0]) = '\0';
  CHECK_INT(cs_plat_mkdirs(sub, 0700, &err), ==, 0);
  if (text != NULL) {
    f = cs_plat_fopen(path[k], "wb");
    CHECK(f != NULL);
    if (f != NULL) {
      fputs(text, f);
      fclose(f);
    }
  }
  return path[k];
}

#define TP "0123456789ABCDEF0123456789ABCDEF01234567"

static char *endpoints(const char *tls, char *how_out, size_t how_len) {
  static char joined[400];
  char **eps = NULL;
  size_t n = 0, i;
  cs_buf_t how = CS_BUF_INIT;
  cs_err_t err;
  CHECK_INT(cs_connector_endpoints(tls, &eps, &n, &how, &err), ==, 0);
  joined[0] = '\0';
  for (i = 0; i < n; i++)
    snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s", i ? ", " : "", eps[i]);
  snprintf(how_out, how_len, "%s", cs_buf_str(&how) ? cs_buf_str(&how) : "");
  cs_buf_free(&how);
  cs_connector_list_free(eps, n);
  return joined;
}

CS_TEST(port_files_give_the_endpoints) {
  char how[2000];
  const char *tls;
  cs_test_mkdtemp("cs-conn", dir, sizeof dir);
  tls = put("config/servers/tls.json",
            "\xEF\xBB\xBF{\r\n  \"webServer\": { \"port\": 8197, \"thumbprint\": \"" TP "\" },\r\n"
            "  \"configurationServer\": { \"port\": 8096, \"thumbprint\": \"" TP "\" }\r\n}\r\n");
  put("config/servers/web/general.json", "{ \"HttpPort\": 9097, \"HttpsPort\": 9443, \"Name\": \"web\" }");
  put("config/servers/config/general.json", "{ \"Server\": { \"Port\": 9096 } }");
  CHECK_STR(endpoints(tls, how, sizeof how), "127.0.0.1:9443, 127.0.0.1:9096");
  CHECK_CONTAINS(how, "general.json");
}

CS_TEST(port_files_missing_or_bad_fall_back) {
  char how[2000];
  const char *tls;
  cs_test_mkdtemp("cs-conn", dir, sizeof dir);
  tls = put("config/server/tls.json", "{ \"webServer\": { \"port\": 8443, \"thumbprint\": \"" TP "\" },"
                                      "  \"configurationServer\": { \"thumbprint\": \"" TP "\" } }");
  put("config/server/config/general.json", "{ \"Port\": 9096, }"); /* not JSON */
  /* no web/general.json: the port the TLS selection names; config: the documented one */
  CHECK_STR(endpoints(tls, how, sizeof how), "127.0.0.1:8443, 127.0.0.1:8096");
  CHECK_CONTAINS(how, "not read");
  CHECK_CONTAINS(how, "not valid JSON");
}

CS_TEST(listener_without_certificate_is_not_probed) {
  char how[2000];
  const char *tls;
  cs_test_mkdtemp("cs-conn", dir, sizeof dir);
  tls = put("config/servers/tls.json", "{ \"webServer\": { \"thumbprint\": \"" TP "\" },"
                                       "  \"configurationServer\": { \"thumbprint\": \"\" } }");
  put("config/servers/config/general.json", "{ \"port\": 9096 }");
  CHECK_STR(endpoints(tls, how, sizeof how), "127.0.0.1:8197");
  CHECK_CONTAINS(how, "Configuration Server: no certificate selected");
  /* a tls.json that does not tell which listener is which: every listener */
  tls = put("config/servers/tls.json", "{ \"thumbprint\": \"" TP "\" }");
  CHECK_STR(endpoints(tls, how, sizeof how), "127.0.0.1:8197, 127.0.0.1:9096");
}

static int count_cb(void *arg, const char *parent, const char *name, const char *v, cs_json_type_t type) {
  (void)parent;
  (void)name;
  (void)v;
  (void)type;
  (*(int *)arg)++;
  return 0;
}

CS_TEST(json_walker_is_strict) {
  static const char *const good[] = {"{}", "[]", "{\"a\":[1,-2.5e3,\"x\\u0041\",true,false,null,{\"b\":{}}]}", " 0 "};
  static const char *const bad[] = {"",        "{",     "{\"a\" 1}",  "{\"a\":1,}", "[1 2]", "01", "{\"a\":tru}",
                                    "\"\\x\"", "{} {}", "[\"a\nb\"]", "-",          "1.",    "1e"};
  char deep[100];
  cs_err_t err;
  size_t i;
  int n;
  for (i = 0; i < sizeof good / sizeof good[0]; i++)
    CHECK_INT(cs_json_walk(good[i], strlen(good[i]), count_cb, &n, &err), ==, 0);
  n = 0;
  CHECK_INT(cs_json_walk(good[2], strlen(good[2]), count_cb, &n, &err), ==, 0);
  CHECK_INT(n, ==, 6);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_INT(cs_json_walk(bad[i], strlen(bad[i]), count_cb, &n, &err), ==, CS_EFORMAT);
    CHECK_CONTAINS(err.text, "not valid JSON");
  }
  memset(deep, '[', sizeof deep);
  CHECK_INT(cs_json_walk(deep, sizeof deep, count_cb, &n, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "deep");
}

/* ---- the probe's word and the skip list ------------------------------------------- */

CS_TEST(probe_errors_that_skip_a_default_endpoint) {
  const char *ep = "127.0.0.1:8096";
  CHECK(cs_connector_not_tls(ep, "127.0.0.1:8096: TLS handshake failed: wrong version number"));
  CHECK(cs_connector_not_tls(ep, "127.0.0.1:8096: cannot connect: Connection refused"));
  CHECK(cs_connector_not_tls(ep, "127.0.0.1:8096: no TLS handshake within 5 s"));
  CHECK(cs_connector_not_tls(ep, "127.0.0.1:8096: no connection within 5 s"));
  CHECK(!cs_connector_not_tls(ep, "127.0.0.1:8096 serves AAAA, not BBBB"));
  CHECK(!cs_connector_not_tls(ep, "127.0.0.1:8096: served AAAA, then BBBB on the next connection"));
  CHECK(!cs_connector_not_tls(ep, "the worker did not answer within 10 s and was stopped"));
  CHECK(!cs_connector_not_tls(ep, "127.0.0.1:8197: TLS handshake failed: wrong version number"));
  CHECK(!cs_connector_not_tls(ep, "127.0.0.1:80960: TLS handshake failed: wrong version number"));
}

CS_TEST(skip_list_round_trip) {
  const char *eps[] = {"127.0.0.1:8197", "127.0.0.1:8096", "[::1]:443"};
  const char *path;
  cs_test_mkdtemp("cs-conn", dir, sizeof dir);
  path = put("tx/skipped-endpoints", NULL);
  CHECK_INT(cs_connector_skips_read(path, eps, 3), ==, 0); /* none yet */
  CHECK_INT(cs_connector_skips_write(path, eps, 3, 0x6ull), ==, 0);
  CHECK_INT(cs_connector_skips_read(path, eps, 3), ==, 0x6);
  /* the configuration changed since: only what it still names */
  CHECK_INT(cs_connector_skips_read(path, eps, 2), ==, 0x2);
}

/* Linux keeps its explicit configuration: nothing is filled in there. */
CS_TEST(resolve_changes_nothing_on_linux) {
  cs_config_t cfg;
  cs_err_t err;
  if (cs_plat_is_windows())
    return; /* test_win_connector covers Windows, with a real service */
  CHECK_INT(cs_config_defaults(&cfg), ==, 0);
  CHECK_INT(cs_connector_resolve(&cfg, &err), ==, 0);
  CHECK(cfg.connector.account == NULL);
  CHECK_INT(cfg.connector.binding_files.n, ==, 0);
  CHECK_INT(cfg.connector.endpoints.n, ==, 0);
  CHECK_INT(cfg.connector.endpoints_default, ==, 0);
  cs_config_free(&cfg);
}
