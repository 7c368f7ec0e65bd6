/* common/bindings.c: thumbprint tokens (never inside a longer hex run), case kept,
 * every other byte kept, all-or-nothing rewrite, restore, undo from disk alone.
 * Each test works in a fresh temporary folder and removes it, checking that nothing
 * was left behind (a stray temp or backup file makes the final rmdir fail). */
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "fault.h"
#include "platform.h"
#include "text.h"

#ifndef _WIN32
#include <sys/stat.h> /* the POSIX-only tests: modes, links */
#include <unistd.h>
#endif

#define OLD_U "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9"
#define OLD_L "3b2c1a0f9e8d7c6b5a4938271605f4e3d2c1b0a9"
#define NEW_U "A1B2C3D4E5F60718293A4B5C6D7E8F9001122334"
#define NEW_L "a1b2c3d4e5f60718293a4b5c6d7e8f9001122334"
#define OTHER "0123456789ABCDEF0123456789ABCDEF01234567"
#define SHA256_TAIL "00112233445566778899AABBCCDDEEFF00112233" /* 24 more digits after OLD: 64 */

#define PATH_LEN 4200

static const char *tmp_mkdir(const char *name) {
  const char *p = cs_test_tmp_path(name);
  CHECK_INT(cs_test_mkdir(p), ==, 0);
  return p;
}

/* Path of copy name in backup folder "bk" as cs_bindings_* spell it (with the
 * platform's separator, which cs_test_tmp_path("bk/<name>") does not use on Windows). */
static const char *bk_file(const char *name) {
  static char buf[PATH_LEN];
  if (snprintf(buf, sizeof buf, "%s%c%s", cs_test_tmp_path("bk"), cs_plat_path_sep(), name) >= (int)sizeof buf) {
    fprintf(stderr, "test_bindings: path too long: %s\n", name);
    exit(1);
  }
  return buf;
}

/* BOARD Connector's config\servers\tls.json shape: two selections, one thumbprint each. */
static const char tls_json_fmt[] =
    "{\n"
    "  \"webServer\": {\n"
    "    \"port\": 8197,\n"
    "    \"certificate\": { \"storeLocation\": \"LocalMachine\", \"storeName\": \"My\",\n"
    "                     \"thumbprint\": \"%s\" }\n"
    "  },\n"
    "  \"configurationServer\": {\n"
    "    \"port\": 8096,\n"
    "    \"certificate\": { \"storeLocation\": \"LocalMachine\", \"storeName\": \"My\",\n"
    "                     \"thumbprint\": \"%s\" }\n"
    "  }\n"
    "}\n";

static void tls_json(char *buf, size_t len, const char *web, const char *config) {
  snprintf(buf, len, tls_json_fmt, web, config);
}

CS_TEST(thumbprint_valid_and_upper) {
  char tp[] = OLD_L;
  CHECK(cs_thumbprint_valid(OLD_U));
  CHECK(cs_thumbprint_valid(OLD_L));
  CHECK(!cs_thumbprint_valid(OLD_U "0"));
  CHECK(!cs_thumbprint_valid("3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A"));
  CHECK(!cs_thumbprint_valid("3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0AG"));
  CHECK(!cs_thumbprint_valid("3B 2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A"));
  CHECK(!cs_thumbprint_valid(""));
  CHECK(!cs_thumbprint_valid(NULL));
  cs_thumbprint_upper(tp);
  CHECK_STR(tp, OLD_U);
}

CS_TEST(tls_json_both_selections_case_kept) {
  char before[2048], want[2048];
  const char *files[1];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  cs_test_tmp_path("bk");
  cs_test_tmp_path("bk/0-tls.json");
  cs_test_tmp_path("bk/manifest");
  tls_json(before, sizeof before, OLD_L, OLD_U);
  cs_test_put_str(files[0], before);
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  tls_json(want, sizeof want, NEW_L, NEW_U);
  cs_test_file_is_str(files[0], want);
  CHECK_INT(bk.n, ==, 1);
  CHECK_INT(bk.n > 0 ? bk.entries[0].replaced : 0, ==, 2);
  CHECK_STR(bk.n > 0 ? bk.entries[0].original : NULL, files[0]);
  CHECK_STR(bk.n > 0 ? bk.entries[0].backup : NULL, bk_file("0-tls.json"));
  cs_test_file_is_str(cs_test_tmp_path("bk/0-tls.json"), before);
  cs_bindings_backup_free(&bk);
  CHECK(bk.entries == NULL && bk.n == 0);
  cs_test_tmp_close();
}

CS_TEST(longer_hex_runs_and_other_thumbprints_untouched) {
  /* lower-case old given, mixed-case occurrence: becomes upper */
  static const char before[] = "sha256=" OLD_U SHA256_TAIL "\n"
                               "run41=0" OLD_U "\n"
                               "run41b=" OLD_L "f\n"
                               "other=" OTHER "\n"
                               "mixed=3b2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9\n"
                               "quoted=\"" OLD_L "\",bare:" OLD_U "\n"
                               "edge=" OLD_U;
  static const char want[] = "sha256=" OLD_U SHA256_TAIL "\n"
                             "run41=0" OLD_U "\n"
                             "run41b=" OLD_L "f\n"
                             "other=" OTHER "\n"
                             "mixed=" NEW_U "\n"
                             "quoted=\"" NEW_L "\",bare:" NEW_U "\n"
                             "edge=" NEW_U;
  const char *files[1];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("app.conf");
  cs_test_tmp_path("bk");
  cs_test_tmp_path("bk/0-app.conf");
  cs_test_tmp_path("bk/manifest");
  cs_test_put_str(files[0], before);
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_L, NEW_L, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  cs_test_file_is_str(files[0], want);
  CHECK_INT(bk.n > 0 ? bk.entries[0].replaced : 0, ==, 4);
  cs_bindings_backup_free(&bk);
  cs_test_tmp_close();
}

CS_TEST(crlf_and_bom_kept_byte_for_byte) {
  static const char before[] =
      "\xEF\xBB\xBF{\r\n  \"thumbprint\": \"" OLD_U "\",\r\n  \"name\": \"Caf\xC3\xA9\"\r\n}\r\n";
  static const char want[] =
      "\xEF\xBB\xBF{\r\n  \"thumbprint\": \"" NEW_U "\",\r\n  \"name\": \"Caf\xC3\xA9\"\r\n}\r\n";
  const char *files[1];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  cs_test_tmp_path("bk");
  cs_test_tmp_path("bk/0-tls.json");
  cs_test_tmp_path("bk/manifest");
  cs_test_put(files[0], before, sizeof before - 1);
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  cs_test_file_is(files[0], want, sizeof want - 1);
  cs_bindings_backup_free(&bk);
  cs_test_tmp_close();
}

CS_TEST(file_without_old_thumbprint_changes_nothing) {
  const char *files[2];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  files[1] = cs_test_tmp_path("other.json");
  cs_test_put_str(files[0], "{\"thumbprint\":\"" OLD_U "\"}\n");
  cs_test_put_str(files[1], "{\"thumbprint\":\"" OTHER "\"}\n");
  CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "does not name the certificate in service");
  CHECK_CONTAINS(err.text, "other.json");
  CHECK(bk.entries == NULL && bk.n == 0);
  cs_test_file_is_str(files[0], "{\"thumbprint\":\"" OLD_U "\"}\n");
  cs_test_file_is_str(files[1], "{\"thumbprint\":\"" OTHER "\"}\n");
  CHECK(!cs_plat_exists(cs_test_tmp_path("bk")));
  /* an unreadable file: same, nothing written */
  files[1] = cs_test_tmp_path("missing.json");
  CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "missing.json");
  cs_test_file_is_str(files[0], "{\"thumbprint\":\"" OLD_U "\"}\n");
  CHECK(!cs_plat_exists(cs_test_tmp_path("bk")));
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_U, "not-a-thumbprint", cs_test_tmp_path("bk"), &bk, &err), ==, CS_EINVAL);
  cs_test_tmp_close();
}

CS_TEST(scan_finds_one) {
  char text[2048];
  const char *files[2];
  cs_bindings_scan_t s;
  char tp[CS_THUMBPRINT_LEN + 1];
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  files[1] = cs_test_tmp_path("extra.conf");
  tls_json(text, sizeof text, OLD_L, OLD_U);
  cs_test_put_str(files[0], text);
  cs_test_put_str(files[1], "tp=" OLD_L "\nsha256=" OLD_U SHA256_TAIL "\nrun=0" OTHER "\n");
  CHECK_INT(cs_bindings_scan(files, 2, &s, &err), ==, 0);
  CHECK_INT(s.n_found, ==, 1);
  if (s.n_found == 1) {
    CHECK_STR(s.found[0].tp, OLD_U);
    CHECK_INT(s.found[0].count, ==, 3);
    CHECK_INT(s.found[0].n_files, ==, 2);
  }
  CHECK_INT(cs_bindings_current(&s, tp, &err), ==, 0);
  CHECK_STR(tp, OLD_U);
  cs_bindings_scan_free(&s);
  CHECK(s.found == NULL && s.n_found == 0);
  cs_test_tmp_close();
}

CS_TEST(scan_finds_none) {
  const char *files[1];
  cs_bindings_scan_t s;
  char tp[CS_THUMBPRINT_LEN + 1];
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  cs_test_put_str(files[0], "{\"thumbprint\": \"\", \"sha256\": \"" OLD_U SHA256_TAIL "\"}\n");
  CHECK_INT(cs_bindings_scan(files, 1, &s, &err), ==, 0);
  CHECK_INT(s.n_found, ==, 0);
  CHECK_INT(cs_bindings_current(&s, tp, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "no certificate thumbprint");
  CHECK_CONTAINS(err.text, "tls.json");
  cs_bindings_scan_free(&s);
  files[0] = cs_test_tmp_path("missing.json");
  CHECK_INT(cs_bindings_scan(files, 1, &s, &err), ==, CS_ENOENT);
  CHECK(s.files == NULL && s.n_found == 0);
  cs_test_tmp_close();
}

CS_TEST(scan_finds_several_config_error) {
  char text[2048];
  const char *files[2];
  cs_bindings_scan_t s;
  char tp[CS_THUMBPRINT_LEN + 1];
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  files[1] = cs_test_tmp_path("extra.conf");
  tls_json(text, sizeof text, OLD_L, OTHER);
  cs_test_put_str(files[0], text);
  cs_test_put_str(files[1], "tp=" OTHER "\n");
  CHECK_INT(cs_bindings_scan(files, 2, &s, &err), ==, 0);
  CHECK_INT(s.n_found, ==, 2);
  if (s.n_found == 2) {
    CHECK_STR(s.found[0].tp, OLD_U);
    CHECK_INT(s.found[0].n_files, ==, 1);
    CHECK_STR(s.found[1].tp, OTHER);
    CHECK_INT(s.found[1].n_files, ==, 2);
  }
  CHECK_INT(cs_bindings_current(&s, tp, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, "[connector] thumbprint");
  CHECK(strstr(err.text, OLD_U) == NULL); /* the values found are not said (a file moved in may be root's) */
  CHECK(strstr(err.text, OTHER) == NULL);
  CHECK_CONTAINS(err.text, "2 different thumbprints");
  CHECK_CONTAINS(err.text, "extra.conf");
  CHECK_STR(tp, "");
  cs_bindings_scan_free(&s);
  cs_test_tmp_close();
}

CS_TEST(scan_refuses_too_many_values) {
  static char text[(CS_BINDINGS_MAX_FOUND + 1) * 41 + 1];
  const char *files[1];
  cs_bindings_scan_t s;
  cs_err_t err;
  size_t i, off = 0;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("hashes.txt");
  for (i = 0; i <= CS_BINDINGS_MAX_FOUND; i++)
    off += (size_t)snprintf(text + off, sizeof text - off, "%040zX\n", i);
  cs_test_put_str(files[0], text);
  CHECK_INT(cs_bindings_scan(files, 1, &s, &err), ==, CS_ETOOBIG);
  CHECK_CONTAINS(err.text, "hashes.txt");
  CHECK(s.found == NULL && s.n_found == 0);
  text[CS_BINDINGS_MAX_FOUND * 41] = '\0'; /* one fewer is fine */
  cs_test_put_str(files[0], text);
  CHECK_INT(cs_bindings_scan(files, 1, &s, &err), ==, 0);
  CHECK_INT(s.n_found, ==, CS_BINDINGS_MAX_FOUND);
  cs_bindings_scan_free(&s);
  cs_test_tmp_close();
}

/* Two files with the same base name in different folders: their backups must not collide. */
static void two_tls_json(const char **files, char *a, char *b, size_t len) {
  tmp_mkdir("web");
  tmp_mkdir("cfg");
  files[0] = cs_test_tmp_path("web/tls.json");
  files[1] = cs_test_tmp_path("cfg/tls.json");
  cs_test_tmp_path("bk");
  cs_test_tmp_path("bk/0-tls.json");
  cs_test_tmp_path("bk/1-tls.json");
  cs_test_tmp_path("bk/manifest");
  tls_json(a, len, OLD_L, OLD_U);
  snprintf(b, len, "\xEF\xBB\xBFthumbprint=%s\r\n", OLD_U);
  cs_test_put_str(files[0], a);
  cs_test_put_str(files[1], b);
}

/* text as UTF-16 (le: little-endian), with a byte order mark or without, into out;
 * its length in bytes */
static size_t utf16(char *out, const char *text, int le, int bom) {
  size_t n = 0;
  if (bom) {
    out[n++] = (char)(le ? 0xFF : 0xFE);
    out[n++] = (char)(le ? 0xFE : 0xFF);
  }
  for (; *text != '\0'; text++) {
    out[n++] = le ? *text : '\0';
    out[n++] = le ? '\0' : *text;
  }
  return n;
}

/* A tls.json saved as UTF-16 (PowerShell 5's Set-Content -Encoding Unicode, Out-File):
 * found, rewritten in its own encoding and byte order, case kept, undone byte for byte. */
CS_TEST(utf16_files_rewritten_in_their_encoding) {
  static const int kinds[][2] = {{1, 1}, {0, 1}, {1, 0}, {0, 0}}; /* le, bom */
  char text[2048], before[4200], want[4200];
  const char *files[1];
  size_t k, len, want_len;
  cs_bindings_scan_t scan;
  cs_bindings_backup_t bk;
  char tp[41];
  cs_err_t err;
  for (k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
    cs_test_tmp_open("cs-bindings");
    files[0] = cs_test_tmp_path("tls.json");
    cs_test_tmp_path("bk");
    cs_test_tmp_path("bk/0-tls.json");
    cs_test_tmp_path("bk/manifest");
    snprintf(text, sizeof text, "{\r\n  \"a\": \"%s\",\r\n  \"b\": \"%s\", \"c\": \"%s" SHA256_TAIL "\"\r\n}\r\n",
             OLD_L, OLD_U, OLD_U);
    len = utf16(before, text, kinds[k][0], kinds[k][1]);
    cs_test_put(files[0], before, len);
    CHECK_INT(cs_bindings_scan(files, 1, &scan, &err), ==, 0);
    CHECK_INT(cs_bindings_current(&scan, tp, &err), ==, 0);
    CHECK_STR(tp, OLD_U);
    cs_bindings_scan_free(&scan);
    CHECK_INT(cs_bindings_rewrite(files, 1, OLD_L, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
    CHECK_INT(bk.n == 1 ? bk.entries[0].replaced : 0, ==, 2);
    snprintf(text, sizeof text, "{\r\n  \"a\": \"%s\",\r\n  \"b\": \"%s\", \"c\": \"%s" SHA256_TAIL "\"\r\n}\r\n",
             NEW_L, NEW_U, OLD_U);
    want_len = utf16(want, text, kinds[k][0], kinds[k][1]);
    cs_test_file_is(files[0], want, want_len);
    CHECK_INT(cs_bindings_restore(&bk, &err), ==, 0);
    cs_test_file_is(files[0], before, len);
    CHECK_INT(cs_bindings_backup_remove(&bk, &err), ==, 0);
    cs_bindings_backup_free(&bk);
    cs_test_tmp_close();
  }
}

CS_TEST(restore_puts_originals_back) {
  char a[2048], b[2048];
  const char *files[2];
  cs_bindings_backup_t bk, again;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  two_tls_json(files, a, b, sizeof a);
  CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  CHECK_INT(bk.n, ==, 2);
  CHECK_INT(bk.n == 2 ? bk.entries[1].replaced : 0, ==, 1);
  cs_test_file_is_str(files[1], "\xEF\xBB\xBFthumbprint=" NEW_U "\r\n");
  cs_test_file_is_str(cs_test_tmp_path("bk/0-tls.json"), a);
  cs_test_file_is_str(cs_test_tmp_path("bk/1-tls.json"), b);
  /* the same folder must not take a second rewrite over the first one's backup */
  CHECK_INT(cs_bindings_rewrite(files, 2, NEW_U, OTHER, cs_test_tmp_path("bk"), &again, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "already holds a binding backup");
  CHECK(again.entries == NULL && again.n == 0);
  cs_test_file_is_str(files[1], "\xEF\xBB\xBFthumbprint=" NEW_U "\r\n");
  CHECK_INT(cs_bindings_restore(&bk, &err), ==, 0);
  cs_test_file_is_str(files[0], a);
  cs_test_file_is_str(files[1], b);
  CHECK_INT(cs_bindings_restore(&bk, &err), ==, 0); /* twice is harmless */
  cs_test_file_is_str(files[0], a);
  CHECK_INT(cs_bindings_backup_remove(&bk, &err), ==, 0);
  CHECK(!cs_plat_exists(cs_test_tmp_path("bk/manifest")));
  CHECK(!cs_plat_exists(cs_test_tmp_path("bk/0-tls.json")));
  cs_bindings_backup_free(&bk);
  cs_test_tmp_close();
}

CS_TEST(backup_load_after_crash_then_restore) {
  char a[2048], b[2048];
  const char *files[2];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  two_tls_json(files, a, b, sizeof a);
  CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  cs_bindings_backup_free(&bk); /* the "crash": only the folder is left */
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  CHECK_INT(bk.n, ==, 2);
  if (bk.n == 2) {
    CHECK_STR(bk.entries[0].original, files[0]);
    CHECK_STR(bk.entries[1].original, files[1]);
    CHECK_STR(bk.entries[1].backup, bk_file("1-tls.json"));
  }
  CHECK_INT(cs_bindings_restore(&bk, &err), ==, 0);
  cs_test_file_is_str(files[0], a);
  cs_test_file_is_str(files[1], b);
  CHECK_INT(cs_bindings_backup_remove(&bk, &err), ==, 0);
  cs_bindings_backup_free(&bk);
  /* no manifest: the rewrite never began changing files */
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "no binding file was changed");
  /* a manifest that is not ours is refused, not followed out of the folder */
  cs_test_put_str(cs_test_tmp_path("bk/manifest"), "../../etc/passwd\t/etc/passwd\n");
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, CS_EFORMAT);
  CHECK(bk.entries == NULL);
  cs_test_tmp_close();
}

/* The undo puts back the configured binding files only: a manifest naming another
 * file (planted in the state folder, standing for /etc/x) is refused whole by the
 * check the undo makes before writing any file, whatever its other lines say; a file
 * named twice is refused too. */
CS_TEST(backup_check_refuses_file_not_configured) {
  char a[2048], b[2048];
  const char *files[2];
  cs_buf_t m = CS_BUF_INIT;
  cs_bindings_backup_t bk;
  cs_err_t err;
  int i;
  cs_test_tmp_open("cs-bindings");
  two_tls_json(files, a, b, sizeof a);
  cs_test_put_str(cs_test_tmp_path("x"), "root's x");
  CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  cs_bindings_backup_free(&bk);
  /* the manifest the rewrite wrote names the configured files */
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  CHECK_INT(cs_bindings_backup_check(&bk, files, 2, &err), ==, 0);
  /* a configuration that no longer names the second file */
  CHECK_INT(cs_bindings_backup_check(&bk, files, 1, &err), ==, CS_ECONFIG);
  CHECK_CONTAINS(err.text, "not one of [connector] binding_files");
  cs_bindings_backup_free(&bk);
  for (i = 0; i < 2; i++) {
    cs_buf_printf(&m, "0-tls.json\t%s\n1-tls.json\t%s\n", files[0], i == 0 ? cs_test_tmp_path("x") : files[0]);
    cs_test_put_str(cs_test_tmp_path("bk/manifest"), cs_buf_str(&m));
    cs_buf_free(&m);
    CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, 0);
    CHECK_INT(cs_bindings_backup_check(&bk, files, 2, &err), ==, i == 0 ? CS_ECONFIG : CS_EFORMAT);
    CHECK_CONTAINS(err.text, i == 0 ? cs_test_tmp_path("x") : "twice");
    CHECK_CONTAINS(err.text, "nothing was restored");
    cs_bindings_backup_free(&bk);
  }
  cs_test_file_is_str(cs_test_tmp_path("x"), "root's x");
  cs_test_file_is_str(files[1], "\xEF\xBB\xBFthumbprint=" NEW_U "\r\n");
  cs_test_tmp_close();
}

#ifndef _WIN32
/* One binding file, tls.json, holding text with mode, and the names of its backup
 * (removed by tmp_close). */
static void one_tls_json(const char **files, const char *text, int mode) {
  files[0] = cs_test_tmp_path("tls.json");
  cs_test_tmp_path("bk");
  cs_test_tmp_path("bk/0-tls.json");
  cs_test_tmp_path("bk/manifest");
  cs_test_put_str(files[0], text);
  CHECK_INT(chmod(files[0], (mode_t)mode), ==, 0);
}

CS_TEST(mode_kept_after_rewrite) {
  struct stat st;
  const char *files[1];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  one_tls_json(files, "{\"thumbprint\":\"" OLD_U "\"}\n", 0640);
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  CHECK_INT(stat(files[0], &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0640);
  CHECK_INT(stat(cs_test_tmp_path("bk"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0700);
  CHECK_INT(stat(cs_test_tmp_path("bk/0-tls.json"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  cs_bindings_backup_free(&bk);
  cs_test_tmp_close();
}

/* After a crash (the backup loaded from disk alone), the folder's owner has put a
 * world-writable file of its own at the binding file's path: the undo refuses to write
 * over a file whose owner changed since the backup, saying so, and leaves it as it is;
 * over one of the recorded owner, it gives the file put back the owner and mode
 * recorded when it was read (manifest format 2), not the planted file's. A manifest of
 * format 1 (before owners were recorded) is still read: its files are written back only
 * over a file of this process's user, with what that file has. */
CS_TEST(restore_after_crash_gives_recorded_owner_and_mode) {
  const char *orig = "{\"thumbprint\":\"" OLD_U "\"}\n";
  struct stat st;
  const char *files[1];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  one_tls_json(files, orig, 0600);
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  cs_bindings_backup_free(&bk);
  CHECK_INT(unlink(files[0]), ==, 0);
  cs_test_put_str(files[0], "planted");
  CHECK_INT(chmod(files[0], 0666), ==, 0);
  if (geteuid() == 0)
    CHECK_INT(chown(files[0], 65534, 65534), ==, 0);
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  CHECK(bk.n == 1 && bk.entries[0].meta != NULL);
  if (geteuid() == 0) {
    CHECK_INT(cs_bindings_restore(&bk, &err), ==, CS_EACCES);
    CHECK_CONTAINS(err.text, "now owned by uid 65534, not by uid 0 as when it was saved");
    cs_test_file_is_str(files[0], "planted");
    CHECK_INT(chown(files[0], 0, 0), ==, 0); /* the recorded owner's, world-writable */
  }
  CHECK_INT(cs_bindings_restore(&bk, &err), ==, 0);
  cs_bindings_backup_free(&bk);
  cs_test_file_is_str(files[0], orig);
  CHECK_INT(stat(files[0], &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  CHECK_INT((long)st.st_uid, ==, (long)geteuid());
  /* format 1 */
  cs_test_put_str(cs_test_tmp_path("bk/manifest"),
                  "# certsteward binding backup 1: backup name TAB original path\n0-tls.json\t");
  {
    FILE *f = fopen(cs_test_tmp_path("bk/manifest"), "ab");
    CHECK(f != NULL);
    if (f != NULL) {
      fprintf(f, "%s\n", files[0]);
      fclose(f);
    }
  }
  CHECK_INT(chmod(files[0], 0640), ==, 0);
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, 0);
  CHECK(bk.n == 1 && bk.entries[0].meta == NULL);
  if (geteuid() == 0) {
    CHECK_INT(chown(files[0], 65534, 65534), ==, 0);
    CHECK_INT(cs_bindings_restore(&bk, &err), ==, CS_EACCES);
    CHECK_INT(chown(files[0], 0, 0), ==, 0);
  }
  CHECK_INT(cs_bindings_restore(&bk, &err), ==, 0);
  cs_bindings_backup_free(&bk);
  CHECK_INT(stat(files[0], &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0640);
  /* format 2 with no "written with" field: refused */
  cs_test_put_str(cs_test_tmp_path("bk/manifest"), "# certsteward binding backup 2: x\n0-tls.json\t\t/x\n");
  CHECK_INT(cs_bindings_backup_load(cs_test_tmp_path("bk"), &bk, &err), ==, CS_EFORMAT);
  cs_test_tmp_close();
}

/* The atomic rewrite would replace a link by a file: a link is refused, nothing written. */
CS_TEST(symbolic_link_refused) {
  struct stat st;
  const char *files[1];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  cs_test_put_str(cs_test_tmp_path("real.json"), "{\"thumbprint\":\"" OLD_U "\"}\n");
  files[0] = cs_test_tmp_path("tls.json");
  CHECK_INT(symlink("real.json", files[0]), ==, 0);
  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, CS_ENOTREG);
  CHECK_INT(lstat(files[0], &st), ==, 0);
  CHECK(S_ISLNK(st.st_mode));
  cs_test_file_is_str(cs_test_tmp_path("real.json"), "{\"thumbprint\":\"" OLD_U "\"}\n");
  CHECK(!cs_plat_exists(cs_test_tmp_path("bk")));
  cs_test_tmp_close();
}
#endif

#ifdef __linux__
/* A binding file with a second name (a hard link) is refused when it is read, before
 * anything is written: the file written back takes the owner and mode of the file
 * read, and another name could reach the file read. */
CS_TEST(second_name_refused_before_anything_changes) {
  char a[2048];
  const char *files[2];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  files[0] = cs_test_tmp_path("tls.json");
  files[1] = cs_test_tmp_path("b");
  tls_json(a, sizeof a, OLD_L, OLD_U);
  cs_test_put_str(files[0], a);
  cs_test_put_str(files[1], "tp=" OLD_U "\n");
  CHECK_INT(link(files[1], cs_test_tmp_path("b.second-name")), ==, 0);
  CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "hard links");
  CHECK(bk.entries == NULL);
  cs_test_file_is_str(files[0], a);
  cs_test_file_is_str(files[1], "tp=" OLD_U "\n");
  CHECK(!cs_plat_exists(cs_test_tmp_path("bk")));
  cs_test_tmp_close();
}

/* 1 when this build has the test hooks (common/fault.h): a point armed with a command
 * runs it. */
static int have_fault_hooks(void) {
  char cmd[PATH_LEN + 16];
  int ran;
  snprintf(cmd, sizeof cmd, "touch '%s'", cs_test_tmp_path("hooked"));
  cs_test_setenv("CERTSTEWARD_TEST_FAULT", "bindings_hook_probe");
  cs_test_setenv("CERTSTEWARD_TEST_FAULT_RUN", cmd);
  cs_fault_point("bindings_hook_probe");
  cs_test_setenv("CERTSTEWARD_TEST_FAULT", NULL);
  cs_test_setenv("CERTSTEWARD_TEST_FAULT_RUN", NULL);
  ran = cs_plat_exists(cs_test_tmp_path("hooked"));
  if (!ran)
    fprintf(stderr, "test_bindings: no test hooks in this build: the failing write is not made\n");
  return ran;
}

/* Writing the second file fails, though reading it worked: once the first is written
 * (bindings_write:0), the second's folder is made a symbolic link, which the write
 * refuses. The first file must be put back and no backup left. */
CS_TEST(failed_second_write_puts_first_back) {
  char a[2048], cmd[4 * PATH_LEN];
  const char *files[2];
  cs_bindings_backup_t bk;
  cs_err_t err;
  cs_test_tmp_open("cs-bindings");
  cs_test_tmp_path("bk");
  cs_test_tmp_path("bk/0-tls.json");
  cs_test_tmp_path("bk/1-b");
  cs_test_tmp_path("bk/manifest");
  cs_test_tmp_path("sub.real");
  cs_test_tmp_path("sub.real/b");
  tmp_mkdir("sub");
  files[0] = cs_test_tmp_path("tls.json");
  files[1] = cs_test_tmp_path("sub/b");
  tls_json(a, sizeof a, OLD_L, OLD_U);
  cs_test_put_str(files[0], a);
  cs_test_put_str(files[1], "tp=" OLD_U "\n");
  if (have_fault_hooks()) {
    snprintf(cmd, sizeof cmd, "mv '%s' '%s' && ln -s sub.real '%s'", cs_test_tmp_path("sub"),
             cs_test_tmp_path("sub.real"), cs_test_tmp_path("sub"));
    cs_test_setenv("CERTSTEWARD_TEST_FAULT", "bindings_write:0");
    cs_test_setenv("CERTSTEWARD_TEST_FAULT_RUN", cmd);
    CHECK_INT(cs_bindings_rewrite(files, 2, OLD_U, NEW_U, cs_test_tmp_path("bk"), &bk, &err), <, 0);
    cs_test_setenv("CERTSTEWARD_TEST_FAULT", NULL);
    cs_test_setenv("CERTSTEWARD_TEST_FAULT_RUN", NULL);
    CHECK_CONTAINS(err.text, "no binding file was left changed");
    CHECK_CONTAINS(err.text, "symbolic link");
    CHECK(bk.entries == NULL);
    cs_test_file_is_str(files[0], a);
    cs_test_file_is_str(cs_test_tmp_path("sub.real/b"), "tp=" OLD_U "\n");
    CHECK(!cs_plat_exists(cs_test_tmp_path("bk/manifest")));
  }
  cs_test_tmp_close();
}
#endif
