/* common/config.c: defaults, every key type, path resolution, line limits, error
 * messages (file, line, key), BOM/CRLF files, the dump, and conf/certsteward.ini.
 * Each test writes its files into a fresh temporary folder and removes it. */
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "platform.h"

#ifndef CS_INI_MAX_LINE
#define CS_INI_MAX_LINE 8192 /* the build's default, see CMakeLists.txt */
#endif

#define PATH_MAX_LEN 2048

static const char *write_bytes(const char *name, const char *data, size_t len) {
  const char *path = cs_test_tmp_path(name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK_INT(fwrite(data, 1, len, f), ==, len);
    CHECK_INT(fclose(f), ==, 0);
  }
  return path;
}

static const char *write_text(const char *name, const char *text) { return write_bytes(name, text, strlen(text)); }

/* cs_config_dump's output as a new string. */
static char *dump_text(const cs_config_t *cfg, const char *name) {
  const char *path = cs_test_tmp_path(name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f == NULL)
    return NULL;
  CHECK_INT(cs_config_dump(cfg, f), ==, 0);
  CHECK_INT(fclose(f), ==, 0);
  return cs_test_read_text(path);
}

static int load_text(const char *text, cs_config_t *cfg, cs_err_t *err, const char **path) {
  *path = write_text("c.ini", text);
  return cs_config_load(cfg, *path, err);
}

/* Loads text that must be valid; shows the error if it is not. */
static int load_good(const char *text, cs_config_t *cfg) {
  cs_err_t err;
  const char *path;
  int rc = load_text(text, cfg, &err, &path);
  if (rc != 0)
    fprintf(stderr, "unexpected load error: %s\n", err.text);
  return rc;
}

/* The error is a configuration error that starts with "PATH:LINE: " and says what. */
#define CHECK_CONFIG_ERROR(rc, err, path, line, what)                                                                  \
  do {                                                                                                                 \
    char want_[PATH_MAX_LEN + 32];                                                                                     \
    snprintf(want_, sizeof want_, "%s:%d: ", (path), (line));                                                          \
    CHECK_INT((rc), ==, CS_ECONFIG);                                                                                   \
    CHECK_INT((err).code, ==, CS_ECONFIG);                                                                             \
    CHECK_CONTAINS((err).text, want_);                                                                                 \
    CHECK(strncmp((err).text, want_, strlen(want_)) == 0);                                                             \
    CHECK_CONTAINS((err).text, (what));                                                                                \
  } while (0)

/* Loads text (one bad line in it); checks the error and that cfg was left empty. */
#define CHECK_LOAD_FAILS(text, line, what)                                                                             \
  do {                                                                                                                 \
    cs_config_t cfg_;                                                                                                  \
    cs_err_t err_;                                                                                                     \
    const char *path_;                                                                                                 \
    int rc_ = load_text((text), &cfg_, &err_, &path_);                                                                 \
    CHECK_CONFIG_ERROR(rc_, err_, path_, (line), (what));                                                              \
    CHECK(cfg_.path == NULL && cfg_.connector.host == NULL);                                                           \
    CHECK_INT(cfg_.policy.min_rsa_bits, ==, 0);                                                                        \
    if (rc_ == 0)                                                                                                      \
      cs_config_free(&cfg_);                                                                                           \
  } while (0)

CS_TEST(defaults_values) {
  cs_config_t cfg;
  CHECK_INT(cs_config_defaults(&cfg), ==, 0);
  CHECK(cfg.path == NULL);
  CHECK(cfg.connector.host == NULL);
  CHECK(cfg.watch.password_file == NULL);
  CHECK_INT(cfg.watch.max_file_size, ==, 1048576);
  CHECK(cfg.policy.ca_file == NULL);
  CHECK_INT(cfg.policy.min_valid_days, ==, 7);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 2048);
  CHECK(!cfg.policy.allow_sha1);
  CHECK(cfg.policy.require_cn);
  cs_config_free(&cfg);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 0);
}

CS_TEST(empty_file_gives_defaults) {
  cs_config_t cfg;
  cs_err_t err;
  const char *path;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_text("", &cfg, &err, &path), ==, 0);
  CHECK_STR(cfg.path, path);
  CHECK_INT(cfg.watch.max_file_size, ==, 1048576);
  CHECK_INT(cfg.policy.min_valid_days, ==, 7);
  CHECK(cfg.policy.require_cn);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

/* The configuration file this platform ships (CS_SHIPPED_INI): conf/certsteward.ini
 * on Linux, the certsteward-windows.ini the build makes of it on Windows. */
static const char *shipped_ini(char *buf, size_t n) {
  const char *ini = getenv("CS_SHIPPED_INI");
  CHECK(ini != NULL);
  snprintf(buf, n, "%s", ini != NULL ? ini : "certsteward.ini");
  return buf;
}

CS_TEST(shipped_ini_equals_defaults) {
  cs_config_t def, cfg;
  cs_err_t err;
  char path[PATH_MAX_LEN], *a, *b;
  cs_test_tmp_open("cs-config");
  CHECK_INT(cs_config_defaults(&def), ==, 0);
  CHECK_INT(cs_config_load(&cfg, shipped_ini(path, sizeof path), &err), ==, 0);
  if (cfg.path == NULL)
    fprintf(stderr, "load error: %s\n", err.text);
  a = dump_text(&def, "defaults.ini");
  b = dump_text(&cfg, "shipped.ini");
  CHECK(a != NULL && a[0] == '[');
  CHECK_STR(b, a);
  CHECK(cfg.connector.host == NULL && cfg.policy.ca_file == NULL);
  CHECK(cfg.watch.password_file == NULL);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, def.policy.min_rsa_bits);
  free(a);
  free(b);
  cs_config_free(&def);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(shipped_ini_lists_every_key) {
  cs_config_t def;
  char path[PATH_MAX_LEN], want[128], *dump, *text, *line, *eq;
  cs_test_tmp_open("cs-config");
  CHECK_INT(cs_config_defaults(&def), ==, 0);
  dump = dump_text(&def, "defaults.ini");
  text = cs_test_read_text(shipped_ini(path, sizeof path));
  CHECK(dump != NULL && text != NULL);
  for (line = dump; dump != NULL && text != NULL && line != NULL && *line != '\0';) {
    char *nl = strchr(line, '\n');
    if (nl != NULL)
      *nl = '\0';
    if (line[0] == '[') {
      snprintf(want, sizeof want, "\n%s", line); /* CRLF checkouts too */
      CHECK_CONTAINS(text, want);
    } else if ((eq = strstr(line, " =")) != NULL) {
      snprintf(want, sizeof want, "\n%.*s =", (int)(eq - line), line);
      CHECK_CONTAINS(text, want);
    }
    line = nl != NULL ? nl + 1 : NULL;
  }
  free(dump);
  free(text);
  cs_config_free(&def);
  cs_test_tmp_close();
}

CS_TEST(shipped_ini_is_ascii) {
  char path[PATH_MAX_LEN], *text, *p;
  text = cs_test_read_text(shipped_ini(path, sizeof path));
  CHECK(text != NULL && strlen(text) > 100);
  for (p = text; text != NULL && *p != '\0'; p++)
    CHECK((unsigned char)*p < 0x80);
  CHECK_CONTAINS(text, "%ProgramData%\\certsteward\\certsteward.ini");
  CHECK_CONTAINS(text, "/etc/certsteward/certsteward.ini");
  free(text);
}

CS_TEST(string_key) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[connector]\nhost = board.example.com\n", &cfg), ==, 0);
  CHECK_STR(cfg.connector.host, "board.example.com");
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(empty_values_are_null) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[connector]\nhost =\n[watch]\npassword_file=\n[policy]\nca_file =   \n", &cfg), ==, 0);
  CHECK(cfg.connector.host == NULL);
  CHECK(cfg.watch.password_file == NULL);
  CHECK(cfg.policy.ca_file == NULL);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(bool_spellings) {
  static const struct {
    const char *word;
    bool value;
  } cases[] = {{"yes", true}, {"No", false},  {"TRUE", true}, {"false", false},
               {"on", true},  {"OFF", false}, {"1", true},    {"0", false}};
  char text[128];
  size_t i;
  cs_test_tmp_open("cs-config");
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cs_config_t cfg;
    snprintf(text, sizeof text, "[policy]\nallow_sha1 = %s\nrequire_cn = %s\n", cases[i].word, cases[i].word);
    CHECK_INT(load_good(text, &cfg), ==, 0);
    CHECK_INT(cfg.policy.allow_sha1, ==, cases[i].value);
    CHECK_INT(cfg.policy.require_cn, ==, cases[i].value);
    cs_config_free(&cfg);
  }
  cs_test_tmp_close();
}

CS_TEST(int_keys) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[policy]\nmin_valid_days = 30\nmin_rsa_bits = 3072\n", &cfg), ==, 0);
  CHECK_INT(cfg.policy.min_valid_days, ==, 30);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 3072);
  cs_config_free(&cfg);
  /* the ends of the ranges are allowed */
  CHECK_INT(load_good("[policy]\nmin_valid_days = 0\nmin_rsa_bits = 16384\n", &cfg), ==, 0);
  CHECK_INT(cfg.policy.min_valid_days, ==, 0);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 16384);
  cs_config_free(&cfg);
  CHECK_INT(load_good("[policy]\nmin_valid_days = 3650\nmin_rsa_bits = 1024\n", &cfg), ==, 0);
  CHECK_INT(cfg.policy.min_valid_days, ==, 3650);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 1024);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(size_suffixes) {
  static const struct {
    const char *text;
    unsigned long long value;
  } cases[] = {{"1048576", 1048576},   {"512K", 512 * 1024},  {"2M", 2 * 1048576},
               {"4 MiB", 4 * 1048576}, {"3k", 3 * 1024},      {"10KiB", 10 * 1024},
               {"1K", 1024},           {"64M", 64 * 1048576}, {"1024", 1024}};
  char text[128];
  size_t i;
  cs_test_tmp_open("cs-config");
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cs_config_t cfg;
    snprintf(text, sizeof text, "[watch]\nmax_file_size = %s\n", cases[i].text);
    CHECK_INT(load_good(text, &cfg), ==, 0);
    CHECK_INT(cfg.watch.max_file_size, ==, cases[i].value);
    cs_config_free(&cfg);
  }
  cs_test_tmp_close();
}

CS_TEST(relative_path_resolved) {
  cs_config_t cfg;
  const char *v;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[watch]\npassword_file = secrets/pfx.pass\n", &cfg), ==, 0);
  v = cfg.watch.password_file;
  CHECK(v != NULL && cs_plat_path_is_absolute(v));
  CHECK(v != NULL && strncmp(v, cs_test_tmp_dir(), strlen(cs_test_tmp_dir())) == 0);
  CHECK(v != NULL && strlen(v) > 8 && strcmp(v + strlen(v) - 8, "pfx.pass") == 0);
#ifndef _WIN32
  {
    char want[PATH_MAX_LEN];
    snprintf(want, sizeof want, "%s/secrets/pfx.pass", cs_test_tmp_dir());
    CHECK_STR(v, want);
  }
#endif
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(absolute_path_kept) {
  cs_config_t cfg;
  char text[PATH_MAX_LEN + 64], abs_ca[PATH_MAX_LEN];
  cs_test_tmp_open("cs-config");
  snprintf(abs_ca, sizeof abs_ca, "%s/trust/ca.pem", cs_test_tmp_dir());
  snprintf(text, sizeof text, "[policy]\nca_file = %s\n", abs_ca);
  CHECK_INT(load_good(text, &cfg), ==, 0);
  CHECK_STR(cfg.policy.ca_file, abs_ca);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(long_path_value) {
  cs_config_t cfg;
  const char *v;
  char value[1501], text[1600];
  cs_test_tmp_open("cs-config");
  memset(value, 'p', 1500);
  memcpy(value, "deep/", 5);
  value[1500] = '\0';
  snprintf(text, sizeof text, "[policy]\nca_file = %s\n", value);
  CHECK_INT(load_good(text, &cfg), ==, 0);
  v = cfg.policy.ca_file;
  CHECK(v != NULL && strlen(v) > 1500 && strcmp(v + strlen(v) - 1500, value) == 0);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

/* A line of exactly CS_INI_MAX_LINE bytes (CRLF not counted) is whole. */
CS_TEST(line_at_limit) {
  cs_config_t cfg;
  char *text = malloc(CS_INI_MAX_LINE + 64);
  size_t head;
  cs_test_tmp_open("cs-config");
  CHECK(text != NULL);
  if (text != NULL) {
    head = (size_t)snprintf(text, 64, "[connector]\r\nhost = ");
    memset(text + head, 'h', CS_INI_MAX_LINE - 7);
    strcpy(text + head + CS_INI_MAX_LINE - 7, "\r\n");
    CHECK_INT(load_good(text, &cfg), ==, 0);
    CHECK(cfg.connector.host != NULL && strlen(cfg.connector.host) == CS_INI_MAX_LINE - 7);
    cs_config_free(&cfg);
  }
  free(text);
  cs_test_tmp_close();
}

CS_TEST(line_too_long_error) {
  char *text = malloc(CS_INI_MAX_LINE + 256), want[64];
  size_t head;
  cs_test_tmp_open("cs-config");
  CHECK(text != NULL);
  if (text != NULL) {
    head = (size_t)snprintf(text, 128,
                            "; long line below\n[policy]\nmin_rsa_bits = 4096\n\n"
                            "ca_file = ");
    memset(text + head, 'c', CS_INI_MAX_LINE - 9);
    strcpy(text + head + CS_INI_MAX_LINE - 9, "\nallow_sha1 = yes\n");
    snprintf(want, sizeof want, "line 5 is longer than %d bytes", CS_INI_MAX_LINE);
    CHECK_LOAD_FAILS(text, 5, want);
  }
  free(text);
  cs_test_tmp_close();
}

/* Lines 1-6 of the files below are valid; the line under test is line 7. */
#define SIX_LINES "; test\n[connector]\nhost = a.example\n\n[policy]\nrequire_cn = yes\n"

CS_TEST(unknown_section_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS("; test\n[connector]\nhost = a.example\n\n[policy]\n[polcy]\n"
                   "min_rsa_bits = 4096\n",
                   7,
                   "[polcy] min_rsa_bits: unknown section "
                   "(expected [connector], [store], [watch], [expiry], [policy], [request] or [log])");
  cs_test_tmp_close();
}

CS_TEST(unknown_empty_section_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "[storage]\n; nothing here yet\n[watch]\nmax_file_size = 2M\n", 7,
                   "[storage]: unknown section");
  cs_test_tmp_close();
}

CS_TEST(unknown_key_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "min_valid_dayz = 3\n", 7,
                   "[policy] min_valid_dayz: unknown key (expected ca_file, min_valid_days,");
  cs_test_tmp_close();
}

CS_TEST(key_outside_section_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS("; test\n;\n;\n;\n;\n\nhost = a.example\n[connector]\n", 7, "host: outside any section");
  cs_test_tmp_close();
}

CS_TEST(duplicate_key_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS("; test\n[policy]\nmin_rsa_bits = 4096\nallow_sha1 = no\n\n[policy]\n"
                   "min_rsa_bits = 3072\n",
                   7, "[policy] min_rsa_bits: set a second time (expected once; first set on line 3)");
  cs_test_tmp_close();
}

CS_TEST(bad_bool_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "allow_sha1 = maybe\n", 7,
                   "[policy] allow_sha1: \"maybe\" is not a boolean (expected yes/no");
  cs_test_tmp_close();
}

CS_TEST(int_out_of_range_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "min_rsa_bits = 512\n", 7,
                   "[policy] min_rsa_bits: 512 is out of range (expected 1024 to 16384)");
  CHECK_LOAD_FAILS("[policy]\nmin_valid_days = 3651\n", 2, "[policy] min_valid_days: 3651 is out of range");
  CHECK_LOAD_FAILS("[policy]\nmin_valid_days = -1\n", 2, "[policy] min_valid_days: -1 is out of range");
  CHECK_LOAD_FAILS("[policy]\nmin_valid_days = 99999999999999999999999\n", 2, "is out of range");
  cs_test_tmp_close();
}

CS_TEST(int_not_a_number_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "min_valid_days = 7d\n", 7,
                   "[policy] min_valid_days: \"7d\" is not a whole number (expected 0 to 3650)");
  CHECK_LOAD_FAILS("[policy]\nmin_valid_days =\n", 2, "[policy] min_valid_days: \"\" is not a whole number");
  cs_test_tmp_close();
}

CS_TEST(bad_size_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "[watch]\nmax_file_size = 2X\n", 8,
                   "[watch] max_file_size: \"2X\" is not a size "
                   "(expected bytes, or a number with K or M, from 1K to 64M)");
  CHECK_LOAD_FAILS("[watch]\n\n\n\n\n\nmax_file_size = 1.5M\n", 7, "\"1.5M\" is not a size");
  CHECK_LOAD_FAILS("[watch]\nmax_file_size = 2G\n", 2, "\"2G\" is not a size");
  cs_test_tmp_close();
}

CS_TEST(size_out_of_range_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS("[watch]\n\n\n\n\n\nmax_file_size = 65M\n", 7,
                   "[watch] max_file_size: 65M is out of range (expected 1K to 64M)");
  CHECK_LOAD_FAILS("[watch]\nmax_file_size = 1023\n", 2, "1023 is out of range");
  CHECK_LOAD_FAILS("[watch]\nmax_file_size = 0\n", 2, "0 is out of range");
  CHECK_LOAD_FAILS("[watch]\nmax_file_size = 99999999999999999999999M\n", 2, "is out of range");
  cs_test_tmp_close();
}

CS_TEST(syntax_error) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "allow_sha1\n", 7, "syntax error");
  CHECK_LOAD_FAILS(SIX_LINES "[watch\n", 7, "syntax error");
  cs_test_tmp_close();
}

/* The first error in the file is the one reported, whoever found it. */
CS_TEST(first_error_wins) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS("[policy]\nmin_rsa_bits = 4096\nno equals sign here\n\n\n\nallow_sha1 = maybe\n", 3, "syntax error");
  CHECK_LOAD_FAILS("[policy]\nmin_rsa_bits = 4096\nallow_sha1 = maybe\n\n\n\nno equals sign here\n", 3, "allow_sha1");
  CHECK_LOAD_FAILS("[nothing]\nno equals sign here\n[policy]\n", 1, "[nothing]: unknown section");
  cs_test_tmp_close();
}

CS_TEST(nul_byte_error) {
  static const char text[] = "[policy]\nmin_rsa_bits = 4096\nallow_sha1 = n\0o\nrequire_cn = yes\n";
  cs_config_t cfg;
  cs_err_t err;
  const char *path;
  int rc;
  cs_test_tmp_open("cs-config");
  path = write_bytes("with-nul.ini", text, sizeof text - 1); /* not "nul.ini": the NUL device on Windows */
  rc = cs_config_load(&cfg, path, &err);
  CHECK_CONFIG_ERROR(rc, err, path, 3, "NUL byte");
  cs_test_tmp_close();
}

CS_TEST(bom_crlf_file) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("\xEF\xBB\xBF[policy]\r\nmin_rsa_bits = 3072\r\nallow_sha1 = yes\r\n\r\n[watch]\r\n"
                      "password_file = pfx.pass\r\nmax_file_size = 2M",
                      &cfg),
            ==, 0);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 3072);
  CHECK(cfg.policy.allow_sha1);
  CHECK_INT(cfg.watch.max_file_size, ==, 2 * 1048576);
  CHECK(cfg.watch.password_file != NULL && strchr(cfg.watch.password_file, '\r') == NULL);
  CHECK(cfg.watch.password_file != NULL &&
        strcmp(cfg.watch.password_file + strlen(cfg.watch.password_file) - 8, "pfx.pass") == 0);
  cs_config_free(&cfg);
  /* line numbers count CRLF lines too */
  CHECK_LOAD_FAILS("\xEF\xBB\xBF; test\r\n[connector]\r\nhost = a\r\n\r\n[policy]\r\nmin_rsa_bits = 4096\r\n"
                   "allow_sha1 = maybe\r\n",
                   7, "\"maybe\" is not a boolean");
  /* the BOM does not hide what follows it on line 1 */
  CHECK_LOAD_FAILS("\xEF\xBB\xBF[polcy]\r\n[policy]\r\n", 1, "[polcy]: unknown section");
  cs_test_tmp_close();
}

CS_TEST(utf16_rejected) {
  static const char text[] = "\xFF\xFE[\0p\0o\0l\0i\0c\0y\0]\0\r\0\n\0";
  cs_config_t cfg;
  cs_err_t err;
  const char *path;
  int rc;
  cs_test_tmp_open("cs-config");
  path = write_bytes("utf16.ini", text, sizeof text - 1);
  rc = cs_config_load(&cfg, path, &err);
  CHECK_CONFIG_ERROR(rc, err, path, 1, "UTF-16");
  cs_test_tmp_close();
}

/* Leading blanks are not continuation lines, in any build of inih. */
CS_TEST(indented_keys) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[policy]\n  min_valid_days = 9\n\tmin_rsa_bits = 3072\n    allow_sha1 = on\n", &cfg), ==, 0);
  CHECK_INT(cfg.policy.min_valid_days, ==, 9);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 3072);
  CHECK(cfg.policy.allow_sha1);
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(names_case_insensitive) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[Policy]\nAllow_SHA1 = Yes\nMIN_RSA_BITS = 4096\n", &cfg), ==, 0);
  CHECK(cfg.policy.allow_sha1);
  CHECK_INT(cfg.policy.min_rsa_bits, ==, 4096);
  cs_config_free(&cfg);
  CHECK_LOAD_FAILS("[policy]\nallow_sha1 = no\nALLOW_SHA1 = yes\n", 3, "set a second time");
  cs_test_tmp_close();
}

CS_TEST(dump_format) {
  cs_config_t def;
  char *text;
  cs_test_tmp_open("cs-config");
  CHECK_INT(cs_config_defaults(&def), ==, 0);
  text = dump_text(&def, "dump.ini");
  if (cs_plat_is_windows())
    /* account, endpoints and binding_files: empty = from the connector (connector.c) */
    CHECK_STR(text,
              "[connector]\nhost =\nservice = BOARD Connector Service\n"
              "account =\nthumbprint =\nendpoints =\nbinding_files =\n"
              "restart_command =\nstatus_command =\nrestart_timeout = 120\nmaintenance_window =\n\n"
              "[store]\nstate_dir = C:\\ProgramData\\certsteward\ncert_file =\nkey_file =\nchain_file =\n"
              "bundle_file =\nold_certificates = keep\nkey_provider = default\nmonitor =\nadopt = yes\nadopt_from =\n\n"
              "[watch]\nfolder = C:\\ProgramData\\certsteward\\drop\npassword_file =\nmax_file_size = 1M\n"
              "settle_seconds = 2\nrescan_interval = 300\nkeep_processed = no\nquarantine_days = 30\n\n"
              "[expiry]\ncheck_interval = 21600\nwarn_days = 30, 14, 7, 3, 1\n\n"
              "[policy]\nca_file =\nmin_valid_days = 7\nmin_rsa_bits = 2048\nallow_sha1 = no\nrequire_cn = yes\n\n"
              "[request]\nrenew_days =\nkey = rsa2048\nroute =\nsubmit_command =\nca_config =\ntemplate =\n"
              "give_up_days = 30\n\n"
              "[log]\nevents_file =\nevents_max_size = 10M\nmetrics_file =\n");
  else
    CHECK_STR(text,
              "[connector]\nhost =\nservice =\naccount =\nthumbprint =\nendpoints =\nbinding_files =\n"
              "restart_command =\nstatus_command =\nrestart_timeout = 120\nmaintenance_window =\n\n"
              "[store]\nstate_dir = /var/lib/certsteward\ncert_file =\nkey_file =\nchain_file =\n"
              "bundle_file =\nold_certificates = keep\nkey_provider = default\nmonitor =\nadopt = yes\nadopt_from =\n\n"
              "[watch]\nfolder = /var/lib/certsteward/drop\npassword_file =\nmax_file_size = 1M\n"
              "settle_seconds = 2\nrescan_interval = 300\nkeep_processed = no\nquarantine_days = 30\n\n"
              "[expiry]\ncheck_interval = 21600\nwarn_days = 30, 14, 7, 3, 1\n\n"
              "[policy]\nca_file =\nmin_valid_days = 7\nmin_rsa_bits = 2048\nallow_sha1 = no\nrequire_cn = yes\n\n"
              "[request]\nrenew_days =\nkey = rsa2048\nroute =\nsubmit_command =\nca_config =\ntemplate =\n"
              "give_up_days = 30\n\n"
              "[log]\nevents_file =\nevents_max_size = 10M\nmetrics_file =\n");
  free(text);
  cs_config_free(&def);
  cs_test_tmp_close();
}

CS_TEST(dump_loads_back) {
  cs_config_t a, b;
  cs_err_t err;
  const char *dump_path;
  char *first, *second;
  cs_test_tmp_open("cs-config");
  CHECK_INT(load_good("[connector]\nhost = board.example.com\n[watch]\npassword_file = pfx.pass\n"
                      "max_file_size = 1536\n[policy]\nca_file = ca.pem\nmin_valid_days = 30\n"
                      "min_rsa_bits = 4096\nallow_sha1 = yes\nrequire_cn = no\n",
                      &a),
            ==, 0);
  first = dump_text(&a, "dump1.ini");
  dump_path = cs_test_tmp_path("dump1.ini");
  CHECK_INT(cs_config_load(&b, dump_path, &err), ==, 0);
  second = dump_text(&b, "dump2.ini");
  CHECK_STR(second, first);
  CHECK_CONTAINS(first, "max_file_size = 1536\n");
  CHECK_STR(b.connector.host, a.connector.host);
  CHECK_STR(b.watch.password_file, a.watch.password_file);
  CHECK_STR(b.policy.ca_file, a.policy.ca_file);
  CHECK_INT(b.watch.max_file_size, ==, 1536);
  CHECK_INT(b.policy.min_valid_days, ==, 30);
  CHECK_INT(b.policy.min_rsa_bits, ==, 4096);
  CHECK(b.policy.allow_sha1 && !b.policy.require_cn);
  free(first);
  free(second);
  cs_config_free(&a);
  cs_config_free(&b);
  cs_test_tmp_close();
}

CS_TEST(missing_file_error) {
  cs_config_t cfg;
  cs_err_t err;
  const char *path;
  cs_test_tmp_open("cs-config");
  path = cs_test_tmp_path("absent.ini");
  CHECK_INT(cs_config_load(&cfg, path, &err), ==, CS_ENOENT);
  CHECK_INT(err.code, ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, path);
  CHECK(cfg.path == NULL);
  cs_test_tmp_close();
}

CS_TEST(no_path_error) {
  cs_config_t cfg;
  cs_err_t err;
  CHECK_INT(cs_config_load(&cfg, NULL, &err), ==, CS_EINVAL);
  CHECK_INT(err.code, ==, CS_EINVAL);
  CHECK(cfg.path == NULL && cfg.connector.host == NULL);
}

CS_TEST(folder_instead_of_file_error) {
  cs_config_t cfg;
  cs_err_t err;
  int rc;
  cs_test_tmp_open("cs-config");
  rc = cs_config_load(&cfg, cs_test_tmp_dir(), &err);
  CHECK_INT(rc, ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "not a regular file");
  CHECK_INT(err.code, ==, rc);
  CHECK_CONTAINS(err.text, cs_test_tmp_dir());
  CHECK(cfg.path == NULL);
  cs_test_tmp_close();
}

CS_TEST(lists_parsed_and_paths_resolved) {
  const char *abs = cs_plat_is_windows() ? "C:\\abs\\other.json" : "/abs/other.json";
  char text[256];
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  snprintf(text, sizeof text,
           "[connector]\nendpoints = 127.0.0.1:8197 ,[::1]:8096\nbinding_files = conf/tls.json, %s\n"
           "[expiry]\nwarn_days = 10,2\n",
           abs);
  CHECK_INT(load_good(text, &cfg), ==, 0);
  CHECK_INT(cfg.connector.endpoints.n, ==, 2);
  CHECK_STR(cfg.connector.endpoints.v[0], "127.0.0.1:8197");
  CHECK_STR(cfg.connector.endpoints.v[1], "[::1]:8096");
  CHECK_INT(cfg.connector.binding_files.n, ==, 2);
  /* resolved against the config's folder */
  CHECK_CONTAINS(cfg.connector.binding_files.v[0], cs_plat_is_windows() ? "\\conf/tls.json" : "/conf/tls.json");
  CHECK(cs_plat_path_is_absolute(cfg.connector.binding_files.v[0]));
  CHECK_STR(cfg.connector.binding_files.v[1], abs);
  CHECK_INT(cfg.expiry.warn_days.n, ==, 2);
  CHECK_STR(cfg.expiry.warn_days.v[1], "2");
  cs_config_free(&cfg);
  cs_test_tmp_close();
}

CS_TEST(daemon_value_errors) {
  cs_test_tmp_open("cs-config");
  CHECK_LOAD_FAILS(SIX_LINES "[connector]\nendpoints = 127.0.0.1\n", 8,
                   "[connector] endpoints: endpoint \"127.0.0.1\" is not host:port");
  CHECK_LOAD_FAILS(SIX_LINES "[connector]\nendpoints = a:1,,b:2\n", 8, "[connector] endpoints: empty element");
  CHECK_LOAD_FAILS(SIX_LINES "[connector]\nendpoints = a:70000\n", 8, "no valid port");
  CHECK_LOAD_FAILS(SIX_LINES "[connector]\nmaintenance_window = 2-4\n", 8, "is not a maintenance window");
  CHECK_LOAD_FAILS(SIX_LINES "[store]\nold_certificates = shred\n", 8, "is not keep or delete");
  CHECK_LOAD_FAILS(SIX_LINES "[expiry]\nwarn_days = 30, soon\n", 8, "\"soon\" is not a number of days");
  cs_test_tmp_close();
}

/* [request]: off by default (renew_days empty = 0); each value checked; adcs only where
 * the store is Windows' own */
CS_TEST(request_section) {
  cs_config_t cfg;
  cs_test_tmp_open("cs-config");
  CHECK_INT(cs_config_defaults(&cfg), ==, 0);
  CHECK_INT(cfg.request.renew_days, ==, 0);
  CHECK(cfg.request.route == NULL && cfg.request.submit_command == NULL && cfg.request.template_name == NULL);
  CHECK_STR(cfg.request.key, "rsa2048");
  CHECK_INT(cfg.request.give_up_days, ==, 30);
  cs_config_free(&cfg);
  CHECK_INT(load_good("[request]\nrenew_days = 20\nkey = ec-p256\nroute = command\n"
                      "submit_command = /usr/libexec/certmonger/helper -x\ntemplate = Web Server 2\n"
                      "give_up_days = 5\n",
                      &cfg),
            ==, 0);
  CHECK_INT(cfg.request.renew_days, ==, 20);
  CHECK_STR(cfg.request.key, "ec-p256");
  CHECK_STR(cfg.request.route, "command");
  CHECK_STR(cfg.request.template_name, "Web Server 2");
  CHECK_INT(cfg.request.give_up_days, ==, 5);
  cs_config_free(&cfg);
  CHECK_LOAD_FAILS(SIX_LINES "[request]\nrenew_days = 0\n", 8, "[request] renew_days: 0 is out of range (expected 1");
  CHECK_LOAD_FAILS(SIX_LINES "[request]\nrenew_days = 400\n", 8, "400 is out of range");
  CHECK_LOAD_FAILS(SIX_LINES "[request]\nkey = rsa1024\n", 8, "\"rsa1024\" is not rsa2048, rsa3072 or ec-p256");
  CHECK_LOAD_FAILS(SIX_LINES "[request]\nroute = acme\n", 8, "\"acme\" is not command or adcs");
  CHECK_LOAD_FAILS(SIX_LINES "[request]\ntemplate = a:b\n", 8, "[request] template: holds a character");
  CHECK_LOAD_FAILS(SIX_LINES "[request]\ngive_up_days =\n", 8, "is not a whole number");
  if (cs_plat_store_is_system()) {
    CHECK_INT(load_good("[request]\nroute = adcs\n", &cfg), ==, 0);
    CHECK_STR(cfg.request.route, "adcs");
    cs_config_free(&cfg);
  } else {
    CHECK_LOAD_FAILS(SIX_LINES "[request]\nroute = adcs\n", 8, "adcs is Windows' own");
  }
  cs_test_tmp_close();
}

/* The named platform queries (platform.h) answer as the branches on
 * cs_plat_is_windows() they replace did: Windows joins with '\' and takes '/' too,
 * names LocalMachine\My and keeps keys there; POSIX joins with '/' only and names
 * [store] cert_file. */
CS_TEST(platform_queries_answer_for_this_build) {
  cs_config_t cfg;
  char out[64];
  int win = cs_plat_is_windows();
  CHECK_INT(cs_config_defaults(&cfg), ==, 0);
  CHECK(cs_plat_path_sep() == (win ? '\\' : '/'));
  CHECK(cs_plat_is_path_sep('/'));
  CHECK_INT(cs_plat_is_path_sep('\\'), ==, win);
  CHECK(!cs_plat_is_path_sep(':'));
  CHECK_INT(cs_plat_path_join(out, sizeof out, "a", "b"), ==, CS_OK);
  CHECK_STR(out, win ? "a\\b" : "a/b");
  CHECK_INT(cs_plat_path_join(out, sizeof out, "a\\", "b"), ==, CS_OK);
  CHECK_STR(out, win ? "a\\b" : "a\\/b");
  if (win)
    CHECK_STR(cs_plat_store_name(&cfg), "LocalMachine\\My");
  else
    CHECK(cs_plat_store_name(&cfg) == cfg.store.cert_file);
  CHECK_INT(cs_plat_store_is_system(), ==, win);
  CHECK_INT(cs_plat_store_holds_keys(), ==, win);
  CHECK_INT(cs_plat_machine_trust(), ==, win);
  CHECK_INT(cs_plat_service_config_known(), ==, win);
  CHECK_INT(cs_plat_has_file_modes(), ==, !win);
  CHECK_STR(cs_plat_service_account(), win ? "LocalSystem" : "root");
  CHECK_STR(cs_plat_admins(), win ? "Administrators and SYSTEM" : "root");
  cs_config_free(&cfg);
}
