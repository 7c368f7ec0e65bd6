/* The PFX password at rest: seal / unseal (Windows: DPAPI; under Wine, Wine's imitation
 * of it, see common/win/secret.c), cs_password_read of sealed and hand-written files,
 * cs_password_write, and `certsteward set-password` run as an admin runs it: piped and
 * refused (both platforms; Windows once certsteward.exe is built), on a terminal and
 * failing half-way (POSIX). */
#ifndef _WIN32
#define _XOPEN_SOURCE 700 /* posix_openpt, grantpt, unlockpt, ptsname */
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <windows.h>
#include <wincrypt.h>
#else
#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/acl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#include "cs_test.h"
#include "password.h"
#include "platform.h"

static int contains(const unsigned char *hay, size_t n, const char *needle) {
  size_t k = strlen(needle), i;
  for (i = 0; k > 0 && i + k <= n; i++)
    if (memcmp(hay + i, needle, k) == 0)
      return 1;
  return 0;
}

/* dir + sep + name into a static buffer (one of 8, so a few can be alive at once). */
static const char *join(const char *dir, const char *name) {
  static char buf[8][1024];
  static int i;
  i = (i + 1) % 8;
  if ((size_t)snprintf(buf[i], sizeof buf[i], "%s%s%s", dir, cs_plat_is_windows() ? "\\" : "/", name) >= sizeof buf[i])
    cs_test_fail(__FILE__, __LINE__, "path too long: %s", dir);
  return buf[i];
}

static void put_file(const char *path, const void *data, size_t len) {
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
  }
}

/* The file's bytes (NUL-terminated, free()) and length; NULL when unreadable. */
static unsigned char *get_file(const char *path, size_t *len) {
  unsigned char *data = NULL;
  *len = 0;
  if (cs_plat_read_file(path, 1 << 20, 0, &data, len, NULL) != CS_OK)
    return NULL;
  return data;
}

CS_TEST(seal_unseal_round_trip) {
  static const char pw[] = "s3cret p\xC3\xA4ssword\n";
  unsigned char *sealed = NULL, *plain = NULL, *again = NULL;
  size_t sealed_len = 0, plain_len = 0, again_len = 0;
  cs_err_t err;

  CHECK_INT(cs_plat_secret_seal(pw, sizeof pw - 1, &sealed, &sealed_len, &err), ==, CS_OK);
  if (cs_plat_is_windows()) {
    CHECK(sealed_len > CS_SECRET_HEADER_LEN + 24);
    CHECK(sealed != NULL && memcmp(sealed, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN) == 0);
    CHECK(!contains(sealed, sealed_len, "s3cret")); /* not kept in clear */
    /* each seal is salted: sealing again gives other bytes that open to the same text */
    CHECK_INT(cs_plat_secret_seal(pw, sizeof pw - 1, &again, &again_len, &err), ==, CS_OK);
    CHECK(again != NULL && (again_len != sealed_len || memcmp(again, sealed, sealed_len) != 0));
  } else {
    CHECK(sealed_len == sizeof pw - 1 && sealed != NULL && memcmp(sealed, pw, sealed_len) == 0);
  }
  CHECK_INT(cs_plat_secret_unseal(sealed, sealed_len, &plain, &plain_len, &err), ==, CS_OK);
  CHECK(plain_len == sizeof pw - 1 && plain != NULL && memcmp(plain, pw, plain_len) == 0);
  cs_plat_free_file(plain, plain_len);
  plain = NULL;
  if (again != NULL) {
    CHECK_INT(cs_plat_secret_unseal(again, again_len, &plain, &plain_len, &err), ==, CS_OK);
    CHECK(plain_len == sizeof pw - 1 && plain != NULL && memcmp(plain, pw, plain_len) == 0);
    cs_plat_free_file(plain, plain_len);
  }
  cs_plat_free_file(again, again_len);
  cs_plat_free_file(sealed, sealed_len);
}

/* What an admin writes by hand is given back byte for byte, whatever it starts with. */
CS_TEST(unseal_of_plain_text_is_unchanged) {
  static const char *const inputs[] = {"hand written\r\n", "\xEF\xBB\xBFwith BOM\n", "x", "certsteward sealed",
                                       "\x01\x00\x00\x00 not ours"};
  static const size_t lens[] = {14, 13, 1, 18, 14};
  unsigned char *out = NULL;
  size_t i, out_len = 0;
  cs_err_t err;

  for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    CHECK_INT(cs_plat_secret_unseal(inputs[i], lens[i], &out, &out_len, &err), ==, CS_OK);
    CHECK_INT(out_len, ==, lens[i]);
    CHECK(out != NULL && memcmp(out, inputs[i], lens[i]) == 0);
    cs_plat_free_file(out, out_len);
    out = NULL;
  }
}

/* A damaged sealed file, or one this machine cannot open, is refused with a reason
 * that says what to do, and never what the password is. */
CS_TEST(corrupted_or_foreign_blob_is_a_clear_error) {
  static const char pw[] = "Corrupt-Me-42\n";
  unsigned char *sealed = NULL, *out = NULL, buf[4096];
  size_t sealed_len = 0, out_len = 0, i;
  cs_err_t err;

  if (cs_plat_is_windows()) {
    CHECK_INT(cs_plat_secret_seal(pw, sizeof pw - 1, &sealed, &sealed_len, &err), ==, CS_OK);
    CHECK(sealed_len < sizeof buf);
    if (sealed == NULL || sealed_len >= sizeof buf)
      return;
    /* one byte changed near the end, where both DPAPI and Wine's imitation keep the
     * cipher text and what authenticates it (the middle of Wine's blob holds fields it
     * does not check) */
    for (i = 8; i <= 30; i += 22) {
      memcpy(buf, sealed, sealed_len);
      buf[sealed_len - i] ^= 0x5A;
      CHECK_INT(cs_plat_secret_unseal(buf, sealed_len, &out, &out_len, &err), ==, CS_EFORMAT);
      CHECK(out == NULL);
      CHECK_CONTAINS(err.text, "cannot be opened on this machine");
      CHECK_CONTAINS(err.text, "set-password");
      CHECK(strstr(err.text, "Corrupt-Me") == NULL);
    }
    /* cut short after the header, and a wrong version */
    CHECK_INT(cs_plat_secret_unseal(sealed, CS_SECRET_HEADER_LEN + 10, &out, &out_len, &err), ==, CS_EFORMAT);
    CHECK_CONTAINS(err.text, "damaged");
    memcpy(buf, sealed, sealed_len);
    buf[CS_SECRET_HEADER_LEN] = 2;
    CHECK_INT(cs_plat_secret_unseal(buf, sealed_len, &out, &out_len, &err), ==, CS_EFORMAT);
    CHECK_CONTAINS(err.text, "damaged");
#ifdef _WIN32
    {
      /* What another machine's key does, as near as a test gets: a valid blob that
       * does not open with our entropy. */
      static BYTE other[] = "some other program";
      DATA_BLOB in, ent, blob = {0, NULL};
      in.cbData = (DWORD)(sizeof pw - 1);
      in.pbData = (BYTE *)buf;
      memcpy(buf, pw, sizeof pw - 1);
      ent.cbData = (DWORD)(sizeof other - 1);
      ent.pbData = other;
      CHECK(
          CryptProtectData(&in, L"x", &ent, NULL, NULL, CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN, &blob));
      if (blob.pbData != NULL && CS_SECRET_HEADER_LEN + blob.cbData <= sizeof buf) {
        memcpy(buf, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN);
        memcpy(buf + CS_SECRET_HEADER_LEN, blob.pbData, blob.cbData);
        CHECK_INT(cs_plat_secret_unseal(buf, CS_SECRET_HEADER_LEN + blob.cbData, &out, &out_len, &err), ==, CS_EFORMAT);
        CHECK_CONTAINS(err.text, "sealed on another machine");
      }
      LocalFree(blob.pbData);
    }
#endif
  } else {
    /* a file sealed on Windows, copied here */
    memcpy(buf, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN);
    memcpy(buf + CS_SECRET_HEADER_LEN, "\x01\x00\x00\x00 blob bytes", 16);
    CHECK_INT(cs_plat_secret_unseal(buf, CS_SECRET_HEADER_LEN + 16, &out, &out_len, &err), ==, CS_EFORMAT);
    CHECK(out == NULL);
    CHECK_CONTAINS(err.text, "Windows DPAPI");
    CHECK_CONTAINS(err.text, "set-password");
  }
  cs_plat_free_file(out, out_len);
  cs_plat_free_file(sealed, sealed_len);
}

/* The worker's way in: a file set-password wrote, and one an admin wrote by hand. */
CS_TEST(password_read_sealed_and_plain) {
  static const char pw[] = "Zw\xC3\xB6lf Boxk\xC3\xA4mpfer jagen Viktor";
  char dir[1024], *got = NULL;
  unsigned char *raw;
  size_t raw_len;
  cs_err_t err;

  cs_test_mkdtemp("cs-secret", dir, sizeof dir);
  CHECK_INT(cs_password_write(join(dir, "pfx.pass"), pw, &err), ==, CS_OK);
  CHECK_INT(cs_password_read(join(dir, "pfx.pass"), &got, &err), ==, CS_OK);
  CHECK_STR(got, pw);
  cs_password_free(got);
  got = NULL;
  raw = get_file(join(dir, "pfx.pass"), &raw_len);
  CHECK(raw != NULL);
  if (raw != NULL && cs_plat_is_windows()) {
    CHECK(raw_len > CS_SECRET_HEADER_LEN && memcmp(raw, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN) == 0);
    CHECK(!contains(raw, raw_len, "Boxk"));
  } else if (raw != NULL) {
    CHECK_INT(raw_len, ==, sizeof pw); /* the line and its LF */
    CHECK(memcmp(raw, pw, sizeof pw - 1) == 0 && raw[sizeof pw - 1] == '\n');
  }
  cs_plat_free_file(raw, raw_len);

  put_file(join(dir, "hand.pass"), "\xEF\xBB\xBFhand-written\r\nsecond line\r\n", 30);
  CHECK_INT(cs_password_read(join(dir, "hand.pass"), &got, &err), ==, CS_OK);
  CHECK_STR(got, "hand-written");
  cs_password_free(got);
  got = NULL;

  /* a sealed file that does not open names the file and what to do */
  put_file(join(dir, "bad.pass"), CS_SECRET_HEADER "\x01\x00\x00\x00", CS_SECRET_HEADER_LEN + 4);
  CHECK_INT(cs_password_read(join(dir, "bad.pass"), &got, &err), ==, CS_EFORMAT);
  CHECK(got == NULL);
  CHECK_CONTAINS(err.text, "bad.pass");
  CHECK_CONTAINS(err.text, "set-password");
  cs_plat_remove_tree(dir, NULL);
}

CS_TEST(password_write_refuses_what_cannot_be_read_back) {
  static const char *const bad[] = {"", "two\nlines", "cr\rinside", "not utf-8 \xFF\xFE"};
  char dir[1024], big[CS_PASSWORD_MAX + 2];
  size_t i;
  cs_err_t err;

  cs_test_mkdtemp("cs-secret", dir, sizeof dir);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(cs_password_write(join(dir, "pfx.pass"), bad[i], &err) != CS_OK);
    CHECK(err.text[0] != '\0');
    CHECK(bad[i][0] == '\0' || strstr(err.text, bad[i]) == NULL);
    CHECK(!cs_plat_exists(join(dir, "pfx.pass")));
  }
  memset(big, 'a', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  CHECK_INT(cs_password_write(join(dir, "pfx.pass"), big, &err), ==, CS_ETOOBIG);
  big[CS_PASSWORD_MAX] = '\0'; /* the longest one is fine */
  CHECK_INT(cs_password_write(join(dir, "pfx.pass"), big, &err), ==, CS_OK);
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  cs_plat_remove_tree(dir, NULL);
}

/* An existing file is replaced (a new file renamed over it), made private on the way,
 * with no temp file left behind. */
CS_TEST(password_write_replaces_existing) {
  char dir[1024], *got = NULL;
  const char *path;
  cs_err_t err;

  cs_test_mkdtemp("cs-secret", dir, sizeof dir);
  path = join(dir, "pfx.pass");
  put_file(path, "old-password\n", 13);
#ifndef _WIN32
  {
    struct stat before, after;
    acl_t acl = acl_from_text("u::rw-,g::r--,o::r--,u:nobody:r--,m::r--");
    CHECK(acl != NULL && acl_set_file(path, ACL_TYPE_ACCESS, acl) == 0);
    if (acl != NULL)
      acl_free(acl);
    CHECK_INT(stat(path, &before), ==, 0);
    CHECK_INT(cs_password_write(path, "new-password", &err), ==, CS_OK);
    CHECK_INT(stat(path, &after), ==, 0);
    CHECK(after.st_ino != before.st_ino); /* renamed over, not rewritten in place */
    CHECK_INT(after.st_mode & 07777, ==, 0600);
    CHECK_INT(acl_extended_file(path), ==, 0); /* u:nobody is gone */
    if (geteuid() == 0)
      CHECK_INT(after.st_uid, ==, 0);
  }
#else
  CHECK_INT(cs_password_write(path, "new-password", &err), ==, CS_OK);
#endif
  CHECK_INT(cs_password_read(path, &got, &err), ==, CS_OK);
  CHECK_STR(got, "new-password");
  cs_password_free(got);
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  cs_plat_remove_tree(dir, NULL);
}

/* ---- certsteward set-password, as an admin runs it ------------------------------------ */

/* The folder for a command test, with cs.ini naming password_file (NULL: none) in it.
 * Windows: certsteward.exe is built on request only for now; without it the test is
 * skipped (exit status 2, SKIP_RETURN_CODE of the Windows tests). */
static const char *cmd_setup(char *dir, size_t len, const char *password_file) {
  static char config[1100];
  char text[3300];
  const char *b = getenv("CS_BIN");
  if (cs_plat_is_windows() && (b == NULL || !cs_plat_exists(b))) {
    fprintf(stderr, "certsteward.exe is not built (--target certsteward): skipped\n");
    exit(2);
  }
  cs_test_mkdtemp("cs-setpw", dir, len);
  snprintf(config, sizeof config, "%s", join(dir, "cs.ini"));
  snprintf(text, sizeof text, "[watch]\nfolder = %s\n%s%s\n[store]\nstate_dir = %s\n", join(dir, "drop"),
           password_file ? "password_file = " : "", password_file ? join(dir, password_file) : "", join(dir, "state"));
  put_file(config, text, strlen(text));
  return config;
}

/* Runs set-password --config config [extra] through cs_plat_run with input on its
 * standard input. Its stderr is caught by lending it ours, redirected to a pipe that
 * is read once it has ended, without waiting for the pipe's end (Wine's console host
 * may hold it open a while). out and errtext get what it printed (cap bytes each). */
static int run_plat(const char *config, const char *extra, const char *input, char *out, char *errtext, size_t cap) {
  const char *argv[] = {getenv("CS_BIN"), "set-password", "--config", config, extra, NULL};
  cs_run_result_t res;
  size_t len = 0;
  int status = -1;
#ifdef _WIN32
  HANDLE saved = GetStdHandle(STD_ERROR_HANDLE), r = NULL, w = NULL;
  DWORD avail = 0, n = 0;
  CHECK(CreatePipe(&r, &w, NULL, 64 * 1024));
  SetStdHandle(STD_ERROR_HANDLE, w);
#else
  int saved = dup(2), p[2] = {-1, -1};
  ssize_t n;
  CHECK(saved >= 0 && pipe(p) == 0);
  fflush(stderr);
  dup2(p[1], 2);
#endif
  memset(&res, 0, sizeof res);
  if (cs_plat_run(argv, input, strlen(input), 60000, 65536, &res, NULL) == CS_OK)
    status = res.exit_code;
#ifdef _WIN32
  SetStdHandle(STD_ERROR_HANDLE, saved);
  CloseHandle(w);
  if (PeekNamedPipe(r, NULL, 0, NULL, &avail, NULL) && avail > 0 &&
      ReadFile(r, errtext, avail < cap - 1 ? avail : (DWORD)(cap - 1), &n, NULL))
    len = n;
  CloseHandle(r);
#else
  dup2(saved, 2);
  close(saved);
  close(p[1]);
  fcntl(p[0], F_SETFL, O_NONBLOCK);
  while (len < cap - 1 && (n = read(p[0], errtext + len, cap - 1 - len)) > 0)
    len += (size_t)n;
  close(p[0]);
#endif
  errtext[len] = '\0';
  len = res.out_len < cap - 1 ? res.out_len : cap - 1;
  if (len > 0)
    memcpy(out, res.out, len);
  out[len] = '\0';
  cs_run_result_free(&res);
  return status;
}

CS_TEST(cmd_stores_piped_password) {
  char dir[1024], out[4096], errtext[4096], *got = NULL;
  const char *config = cmd_setup(dir, sizeof dir, "secrets/pfx.pass"), *path = join(dir, "secrets/pfx.pass");
  unsigned char *raw;
  size_t raw_len;
  cs_err_t err;

  /* CR LF and a second line: only the first line is the password */
  CHECK_INT(run_plat(config, NULL, "Plat-S3cret \xC3\xA9\r\nsecond\n", out, errtext, sizeof out), ==, 0);
  CHECK(strstr(out, "Plat-S3cret") == NULL && strstr(errtext, "Plat-S3cret") == NULL);
  CHECK(strstr(errtext, "PFX password") == NULL); /* no prompt when piped */
  CHECK_CONTAINS(out, cs_plat_is_windows() ? "sealed with DPAPI" : "mode 0600");
  CHECK_INT(cs_password_read(path, &got, &err), ==, CS_OK);
  CHECK_STR(got, "Plat-S3cret \xC3\xA9");
  cs_password_free(got);
  raw = get_file(path, &raw_len);
  CHECK(raw != NULL);
  if (raw != NULL && cs_plat_is_windows()) {
    CHECK(raw_len > CS_SECRET_HEADER_LEN && memcmp(raw, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN) == 0);
    CHECK(!contains(raw, raw_len, "Plat-S3cret"));
  }
  cs_plat_free_file(raw, raw_len);
#ifndef _WIN32
  {
    struct stat st;
    CHECK_INT(stat(path, &st), ==, 0);
    CHECK_INT(st.st_mode & 07777, ==, 0600);
    CHECK_INT(st.st_uid, ==, geteuid());
    CHECK_INT(stat(join(dir, "secrets"), &st), ==, 0); /* the missing folder, made private */
    CHECK_INT(st.st_mode & 07777, ==, 0700);
  }
#endif
  cs_plat_remove_tree(dir, NULL);
}

/* Refusals exit 2, write nothing, keep what was stored, name what to fix, and never
 * echo what was given. */
CS_TEST(cmd_refuses_empty_input) {
  static const char *const inputs[] = {"", "\n", "\r\n", "\xEF\xBB\xBF\n"};
  char dir[1024], out[4096], errtext[4096], *got = NULL;
  const char *config = cmd_setup(dir, sizeof dir, "pfx.pass");
  size_t i;
  cs_err_t err;

  for (i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    CHECK_INT(run_plat(config, NULL, inputs[i], out, errtext, sizeof out), ==, 2);
    CHECK_CONTAINS(errtext, "nothing written");
    CHECK(!cs_plat_exists(join(dir, "pfx.pass")));
  }
  CHECK_INT(run_plat(config, NULL, "Kept-S3cret\n", out, errtext, sizeof out), ==, 0);
  CHECK_INT(run_plat(config, NULL, "\r\n", out, errtext, sizeof out), ==, 2);
  CHECK_INT(cs_password_read(join(dir, "pfx.pass"), &got, &err), ==, CS_OK);
  CHECK_STR(got, "Kept-S3cret");
  cs_password_free(got);
  cs_plat_remove_tree(dir, NULL);
}

CS_TEST(cmd_refuses_without_password_file_or_with_argument) {
  char dir[1024], out[4096], errtext[4096];
  const char *config = cmd_setup(dir, sizeof dir, NULL);

  CHECK_INT(run_plat(config, NULL, "Unused-Secret\n", out, errtext, sizeof out), ==, 2);
  CHECK_CONTAINS(errtext, "[watch] password_file is not set");
  CHECK(strstr(errtext, "Unused-Secret") == NULL);
  cs_plat_remove_tree(dir, NULL);
  config = cmd_setup(dir, sizeof dir, "pfx.pass");
  CHECK_INT(run_plat(config, "Argv-Secret", "x\n", out, errtext, sizeof out), ==, 2);
  CHECK_CONTAINS(errtext, "standard input");
  CHECK(strstr(errtext, "Argv-Secret") == NULL);
  CHECK(!cs_plat_exists(join(dir, "pfx.pass")));
  cs_plat_remove_tree(dir, NULL);
}

#ifndef _WIN32
/* POSIX only: a file size limit and a terminal, which a test drives here with fork. */

static const char *bin(void) {
  const char *b = getenv("CS_BIN");
  return b ? b : "certsteward";
}

/* Appends what fd gives to buf (cap bytes, NUL-terminated) until buf holds until (NULL:
 * never), EOF, EIO (a terminal whose other side closed), a full buf, or the deadline. */
static void drain(int fd, char *buf, size_t cap, time_t deadline, const char *until) {
  size_t len = strlen(buf);
  while (len < cap - 1 && time(NULL) < deadline && (until == NULL || strstr(buf, until) == NULL)) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t n;
    if (poll(&p, 1, 200) <= 0)
      continue;
    if ((n = read(fd, buf + len, cap - 1 - len)) <= 0)
      break;
    len += (size_t)n;
    buf[len] = '\0';
  }
  buf[len] = '\0';
}

/* Waits for pid at most until deadline, then kills it (SIGKILL). Exit status or -1. */
static int reap(pid_t pid, time_t deadline) {
  struct timespec ten_ms = {0, 10000000};
  int st;
  for (;;) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    if ((w < 0 && errno != EINTR) || time(NULL) >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      return -1;
    }
    nanosleep(&ten_ms, NULL);
  }
}

/* Runs set-password with input and every file it writes capped at fsize bytes
 * (RLIMIT_FSIZE, SIGXFSZ ignored: write() fails with EFBIG). Exit status; its stderr
 * into errtext. */
static int run_capped(const char *config, const char *input, long fsize, char *errtext, size_t cap) {
  time_t deadline = time(NULL) + 30;
  int in[2], err[2];
  pid_t pid;

  errtext[0] = '\0';
  if (pipe(in) != 0 || pipe(err) != 0)
    return -1;
  if ((pid = fork()) == 0) {
    const char *argv[] = {bin(), "set-password", "--config", config, NULL};
    union {
      const char **c;
      char **m;
    } u;
    struct rlimit rl;
    dup2(in[0], 0);
    dup2(err[1], 2);
    rl.rlim_cur = rl.rlim_max = (rlim_t)fsize;
    signal(SIGXFSZ, SIG_IGN);
    setrlimit(RLIMIT_FSIZE, &rl);
    u.c = argv;
    execv(bin(), u.m);
    _exit(127);
  }
  close(in[0]), close(err[1]);
  CHECK(write(in[1], input, strlen(input)) == (ssize_t)strlen(input)); /* small: fits the pipe */
  close(in[1]);
  drain(err[0], errtext, cap, deadline, NULL);
  close(err[0]);
  return pid > 0 ? reap(pid, deadline) : -1;
}

/* Replaced by a rename, made 0600 on the way; a write that fails half-way leaves the
 * old file as it was and no temp file. */
CS_TEST(cmd_replaces_existing_atomically) {
  char dir[1024], out[4096], errtext[4096], *got = NULL;
  const char *config = cmd_setup(dir, sizeof dir, "pfx.pass"), *path = join(dir, "pfx.pass");
  struct stat before, after;
  unsigned char *raw;
  size_t raw_len;
  cs_err_t err;

  put_file(path, "old-password\n", 13);
  CHECK_INT(chmod(path, 0644), ==, 0);
  CHECK_INT(stat(path, &before), ==, 0);
  /* 8 bytes at most per file: the new file cannot be written whole */
  CHECK_INT(run_capped(config, "a-much-longer-new-password\n", 8, errtext, sizeof errtext), ==, 2);
  CHECK_CONTAINS(errtext, "cannot write"); /* EFBIG: it failed where meant to */
  CHECK(strstr(errtext, "much-longer") == NULL);
  raw = get_file(path, &raw_len);
  CHECK(raw != NULL && raw_len == 13 && memcmp(raw, "old-password\n", 13) == 0);
  cs_plat_free_file(raw, raw_len);
  CHECK_INT(cs_test_count_entries(dir), ==, 2); /* cs.ini and pfx.pass: no temp file */
  CHECK_INT(run_plat(config, NULL, "new-password\n", out, errtext, sizeof out), ==, 0);
  CHECK_INT(stat(path, &after), ==, 0);
  CHECK(after.st_ino != before.st_ino);       /* renamed over, not rewritten in place */
  CHECK_INT(after.st_mode & 07777, ==, 0600); /* the old 0644 was not carried over */
  CHECK_INT(cs_password_read(path, &got, &err), ==, CS_OK);
  CHECK_STR(got, "new-password");
  cs_password_free(got);
  CHECK_INT(cs_test_count_entries(dir), ==, 2);
  cs_plat_remove_tree(dir, NULL);
}

/* On a terminal: a prompt on stderr, and what is typed is not echoed. */
CS_TEST(cmd_terminal_echo_off) {
  char dir[1024], screen[8192] = "", out[4096] = "", *got = NULL;
  const char *config = cmd_setup(dir, sizeof dir, "pfx.pass");
  time_t deadline = time(NULL) + 30;
  int m = posix_openpt(O_RDWR | O_NOCTTY), o[2];
  pid_t pid;
  cs_err_t err;

  CHECK(m >= 0 && grantpt(m) == 0 && unlockpt(m) == 0 && ptsname(m) != NULL && pipe(o) == 0);
  if (m < 0)
    return;
  if ((pid = fork()) == 0) {
    const char *argv[] = {bin(), "set-password", "--config", config, NULL};
    union {
      const char **c;
      char **mu;
    } u;
    int t;
    setsid(); /* the terminal opened next becomes the controlling one */
    if ((t = open(ptsname(m), O_RDWR)) < 0)
      _exit(126);
    dup2(t, 0);
    dup2(o[1], 1);
    dup2(t, 2);
    close(m), close(o[0]);
    u.c = argv;
    execv(bin(), u.mu);
    _exit(127);
  }
  close(o[1]);
  /* type only once the prompt shows: it comes after the echo is turned off */
  drain(m, screen, sizeof screen, deadline, "PFX password");
  CHECK_CONTAINS(screen, "PFX password");
  CHECK(write(m, "Pty-S3cret\n", 11) == 11);
  drain(m, screen, sizeof screen, deadline, NULL);
  drain(o[0], out, sizeof out, deadline, NULL);
  CHECK_INT(reap(pid, deadline), ==, 0);
  CHECK(strstr(screen, "Pty-S3cret") == NULL); /* not echoed */
  CHECK(strstr(out, "Pty-S3cret") == NULL);
  CHECK_CONTAINS(out, "pfx.pass");
  CHECK_INT(cs_password_read(join(dir, "pfx.pass"), &got, &err), ==, CS_OK);
  CHECK_STR(got, "Pty-S3cret");
  cs_password_free(got);
  close(m), close(o[0]);
  cs_plat_remove_tree(dir, NULL);
}
#endif
