/* The certsteward executable as an admin uses it: verdicts, exit statuses,
 * --json read back with a JSON parser, usage errors, config. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cs_test.h"
#include "proc.h"

#define HOST "board.example.test"

static const char *bin(void) {
  const char *b = getenv("CS_BIN");
  return b ? b : "certsteward";
}

/* Runs certsteward with the given arguments (NULL-terminated list). */
static int run(cs_proc_result_t *r, const char *first, ...) {
  va_list ap;
  int rc;
  va_start(ap, first);
  rc = cs_proc_run_va(r, bin(), first, ap);
  va_end(ap);
  if (rc != 0) {
    cs_test_fail(__FILE__, __LINE__, "cannot run %s", bin());
    return -1;
  }
  return r->status;
}

/* Writes a config file named name into the test folder; returns its path (static). */
static const char *write_config(const char *name, const char *text) {
  static char path[4096];
  FILE *f;
  snprintf(path, sizeof path, "%s", cs_test_path(name));
  f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

/* A config that names the test PKI's root and password (paths relative to the file). */
static const char *pki_config(void) {
  return write_config("cli.ini", "[connector]\nhost = " HOST "\n[watch]\npassword_file = pass.txt\n"
                                 "[policy]\nca_file = root.pem\n");
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (hay = strstr(hay, needle); hay; hay = strstr(hay + 1, needle))
    n++;
  return n;
}

CS_TEST(accepts_every_format) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--key", cs_test_path("leaf.key"), cs_test_path("good-aes.pfx"),
                cs_test_path("good-legacy.pfx"), cs_test_path("good-bundle.pem"), cs_test_path("good-enc.pem"),
                cs_test_path("good-ec.pem"), cs_test_path("good-chain.p7b"), cs_test_path("good-chain-der.p7b"), NULL),
            ==, 0);
  CHECK_INT(count(r.out, ": accepted\n"), ==, 7);
  CHECK_INT(count(r.out, "FAILED"), ==, 0);
  CHECK_CONTAINS(r.out, "[ok    ] chain");
  cs_proc_result_free(&r);
  /* a lone DER certificate: the intermediate comes with the trust anchors */
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--ca", cs_test_path("ca-chain.pem"), "--key",
                cs_test_path("leaf.key"), cs_test_path("good-leaf.der"), NULL),
            ==, 0);
  CHECK_INT(count(r.out, ": accepted\n"), ==, 1);
  cs_proc_result_free(&r);
}

CS_TEST(rejected_file_exit_1) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "check", "--config", pki_config(), cs_test_path("good-aes.pfx"), cs_test_path("bad-eku.pem"), NULL),
            ==, 1);
  CHECK_INT(count(r.out, ": accepted\n"), ==, 1);
  CHECK_INT(count(r.out, ": rejected\n"), ==, 1);
  CHECK_CONTAINS(r.out, "[FAILED] eku");
  cs_proc_result_free(&r);
}

CS_TEST(text_output_shows_thumbprint_subject_expiry) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "check", "--config", pki_config(), cs_test_path("good-bundle.pem"), NULL), ==, 0);
  CHECK_CONTAINS(r.out, "thumbprint");
  CHECK_CONTAINS(r.out, "subject     CN=board.example.test");
  CHECK_CONTAINS(r.out, "not after");
  cs_proc_result_free(&r);
}

/* Every --json line parses; the fields are what --help promises. */
CS_TEST(json_parses_back) {
  cs_proc_result_t r;
  char *line, *save = NULL;
  int lines = 0;
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--json", cs_test_path("good-aes.pfx"),
                cs_test_path("bad-nosan.pem"), cs_test_path("unicode.pem"), cs_test_path("garbage.bin"), NULL),
            ==, 1);
  for (line = strtok_r(r.out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    cJSON *o = cJSON_Parse(line), *checks, *c;
    const char *verdict, *file;
    size_t i;
    lines++;
    CHECK(o != NULL);
    if (o == NULL)
      continue;
    for (i = 0; line[i]; i++)
      CHECK((unsigned char)line[i] >= 0x20); /* escaped, whatever the certificate holds */
    file = cJSON_GetStringValue(cJSON_GetObjectItem(o, "file"));
    verdict = cJSON_GetStringValue(cJSON_GetObjectItem(o, "verdict"));
    checks = cJSON_GetObjectItem(o, "checks");
    CHECK(file != NULL && verdict != NULL && cJSON_IsArray(checks));
    cJSON_ArrayForEach(c, checks) {
      CHECK(cJSON_IsString(cJSON_GetObjectItem(c, "id")));
      CHECK(cJSON_IsBool(cJSON_GetObjectItem(c, "ok")));
      CHECK(cJSON_IsString(cJSON_GetObjectItem(c, "detail")));
    }
    if (file && strstr(file, "good-aes.pfx")) {
      CHECK_STR(verdict, "accepted");
      CHECK_INT(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(o, "thumbprint"))), ==, 40);
      CHECK_INT(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(o, "not_after"))), ==, 20);
    } else if (file && strstr(file, "bad-nosan.pem")) {
      CHECK_STR(verdict, "rejected");
      cJSON_ArrayForEach(c, checks) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")), "san_host") == 0)
          CHECK(cJSON_IsFalse(cJSON_GetObjectItem(c, "ok")));
      }
    } else if (file && strstr(file, "unicode.pem")) {
      const char *subject = cJSON_GetStringValue(cJSON_GetObjectItem(o, "subject"));
      CHECK_STR(verdict, "accepted");
      CHECK_CONTAINS(subject, "Cert\xC3\xA9");
      CHECK(subject && strchr(subject, 0x1b) == NULL);
    } else if (file && strstr(file, "garbage.bin")) {
      CHECK_STR(verdict, "rejected");
      CHECK(cJSON_IsNull(cJSON_GetObjectItem(o, "thumbprint")));
      c = cJSON_GetArrayItem(checks, 0);
      CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItem(c, "id")), "load");
    } else {
      cs_test_fail(__FILE__, __LINE__, "unexpected file %s", file ? file : "(null)");
    }
    cJSON_Delete(o);
  }
  CHECK_INT(lines, ==, 4);
  cs_proc_result_free(&r);
}

CS_TEST(text_output_escapes_control_bytes) {
  cs_proc_result_t r;
  size_t i;
  CHECK_INT(run(&r, "check", "--config", pki_config(), cs_test_path("unicode.pem"), NULL), ==, 0);
  for (i = 0; i < r.out_len; i++)
    CHECK(r.out[i] == '\n' || (unsigned char)r.out[i] >= 0x20);
  CHECK_CONTAINS(r.out, "Cert\xC3\xA9");
  cs_proc_result_free(&r);
}

CS_TEST(options_override_config) {
  cs_proc_result_t r;
  CHECK_INT(
      run(&r, "check", "--config", pki_config(), "--host", "other.example.test", cs_test_path("good-bundle.pem"), NULL),
      ==, 1);
  CHECK_CONTAINS(r.out, "other.example.test is not among the SAN DNS names");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--ca", cs_test_path("other-root.pem"),
                cs_test_path("good-bundle.pem"), NULL),
            ==, 1);
  CHECK_CONTAINS(r.out, "[FAILED] chain");
  cs_proc_result_free(&r);
}

CS_TEST(current_certificate) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--current", cs_test_path("current-ok.pem"),
                cs_test_path("good-bundle.pem"), NULL),
            ==, 0);
  CHECK_CONTAINS(r.out, "[ok    ] expires_later");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--current", cs_test_path("current-more-names.pem"),
                cs_test_path("good-bundle.pem"), NULL),
            ==, 1);
  CHECK_CONTAINS(r.out, "[FAILED] names_kept");
  cs_proc_result_free(&r);
}

CS_TEST(password_never_printed) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--json", cs_test_path("good-aes.pfx"),
                cs_test_path("good-enc.pem"), NULL),
            ==, 0);
  CHECK(strstr(r.out, "demo-pass") == NULL && strstr(r.err, "demo-pass") == NULL);
  cs_proc_result_free(&r);
}

CS_TEST(usage_errors_exit_2) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "check", "--config", pki_config(), NULL), ==, 2);
  CHECK_CONTAINS(r.err, "at least one certificate file");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "check", "--bogus", cs_test_path("good-aes.pfx"), NULL), ==, 2);
  CHECK_CONTAINS(r.err, "unknown option --bogus");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "check", "--config", cs_test_path("no-such.ini"), cs_test_path("good-aes.pfx"), NULL), ==, 2);
  CHECK_CONTAINS(r.err, "no-such.ini");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--ca", cs_test_path("no-such-ca.pem"),
                cs_test_path("good-aes.pfx"), NULL),
            ==, 2);
  CHECK_CONTAINS(r.err, "no-such-ca.pem");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--password-file", cs_test_path("no-such-pass"),
                cs_test_path("good-aes.pfx"), NULL),
            ==, 2);
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "frobnicate", NULL), ==, 2);
  cs_proc_result_free(&r);
}

CS_TEST(bad_config_names_file_and_line) {
  cs_proc_result_t r;
  const char *cfg = write_config("cli-bad.ini", "[policy]\n; comment\nmin_valid_days = 7\nmin_rsa_bits = lots\n");
  CHECK_INT(run(&r, "check", "--config", cfg, cs_test_path("good-aes.pfx"), NULL), ==, 2);
  CHECK_CONTAINS(r.err, "cli-bad.ini:4");
  CHECK_CONTAINS(r.err, "min_rsa_bits");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "config", "--config", cfg, NULL), ==, 2);
  CHECK_CONTAINS(r.err, "cli-bad.ini:4");
  cs_proc_result_free(&r);
}

CS_TEST(config_prints_effective_values) {
  cs_proc_result_t r;
  const char *cfg = write_config("cli-cfg.ini", "[policy]\nmin_valid_days = 30\n");
  CHECK_INT(run(&r, "config", "--config", cfg, NULL), ==, 0);
  CHECK_CONTAINS(r.out, "[policy]");
  CHECK_CONTAINS(r.out, "min_valid_days = 30");
  CHECK_CONTAINS(r.out, "min_rsa_bits = 2048"); /* defaults included */
  CHECK_CONTAINS(r.out, "max_file_size = ");
  CHECK_CONTAINS(r.err, "is valid");
  cs_proc_result_free(&r);
}

CS_TEST(version_and_help) {
  cs_proc_result_t r;
  CHECK_INT(run(&r, "version", NULL), ==, 0);
  CHECK(strncmp(r.out, "certsteward ", 12) == 0);
  CHECK_CONTAINS(r.out, "OpenSSL 3.");
  cs_proc_result_free(&r);
  CHECK_INT(run(&r, "--help", NULL), ==, 0);
  CHECK_CONTAINS(r.out, "check [--config FILE]");
  CHECK_CONTAINS(r.out, "Exit status");
  cs_proc_result_free(&r);
}

/* Every command listed by --help answers COMMAND --help and -h with its own usage
 * (exit 0), and an unknown option with the same usage on stderr (exit 2). */
CS_TEST(every_command_has_help) {
  cs_proc_result_t r;
  char names[32][32], want[64];
  const char *line;
  int n = 0, i;
  CHECK_INT(run(&r, "--help", NULL), ==, 0);
  for (line = r.out; line != NULL && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
    size_t len = 0;
    if (line[0] != ' ' || line[1] != ' ' || line[2] < 'a' || line[2] > 'z')
      continue;
    while (line[2 + len] != ' ' && line[2 + len] != '\n' && line[2 + len] != '\0' && len < 31)
      len++;
    if (n < 32) {
      memcpy(names[n], line + 2, len); /* len < 32 */
      names[n++][len] = '\0';
    }
  }
  cs_proc_result_free(&r);
  CHECK(n >= 11); /* run check apply rollback status config set-password install uninstall service version */
  for (i = 0; i < n; i++) {
    if (snprintf(want, sizeof want, "usage: certsteward %s", names[i]) >= (int)sizeof want)
      continue; /* not a command's name */
    CHECK_INT(run(&r, names[i], "--help", NULL), ==, 0);
    CHECK(strncmp(r.out, want, strlen(want)) == 0);
    if (strncmp(r.out, want, strlen(want)) != 0)
      fprintf(stderr, "%s --help printed: %s\n", names[i], r.out);
    cs_proc_result_free(&r);
    CHECK_INT(run(&r, names[i], "-h", NULL), ==, 0);
    CHECK_CONTAINS(r.out, want);
    cs_proc_result_free(&r);
    CHECK_INT(run(&r, names[i], "--no-such-option", NULL), ==, 2);
    CHECK_CONTAINS(r.err, want);
    cs_proc_result_free(&r);
  }
  /* after "--", -h is a file name, not a request for help */
  CHECK_INT(run(&r, "check", "--config", pki_config(), "--", "-h", NULL), ==, 1); /* no such file: rejected */
  CHECK(strstr(r.out, "usage:") == NULL);
  cs_proc_result_free(&r);
}
