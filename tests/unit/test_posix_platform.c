/* POSIX platform layer: atomic writes, folders, running programs, service restart
 * with admin commands, key ACLs, the instance lock. Each test works in its own
 * mkdtemp folder, removed at its end. Some checks need root (chown, setuid): CI runs
 * the tests as root, and they are skipped with a note otherwise. */
#include <acl/libacl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cs_test.h"
#include "platform.h"

#define NOBODY 65534 /* uid and gid of nobody / nogroup on Debian */
/* what the key grant looks for: a PEM private key block (its bytes are not parsed) */
#define KEY_PEM "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"

static char dir_[256];

static void tmp_begin(void) {
  const char *t = getenv("TMPDIR");
  snprintf(dir_, sizeof dir_, "%s/cs-plat-XXXXXX", t != NULL && *t != '\0' ? t : "/tmp");
  if (mkdtemp(dir_) == NULL) {
    cs_test_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    exit(1);
  }
}

/* dir_/name, alive for the next three calls */
static const char *at(const char *name) { return cs_test_join(dir_, name); }

static void rm_tree(const char *path) {
  struct stat st;
  DIR *d;
  struct dirent *e;
  if (lstat(path, &st) != 0)
    return;
  if (S_ISDIR(st.st_mode) && (d = opendir(path)) != NULL) {
    while ((e = readdir(d)) != NULL) {
      char sub[1024];
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
        continue;
      snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
      rm_tree(sub);
    }
    closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

static void tmp_end(void) { rm_tree(dir_); }

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Entries of dir starting with '.', other than . and ..: temp files left behind. */
static int count_hidden(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int n = 0;
  if (d == NULL)
    return -1;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static void put(const char *path, const char *text, int mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  if (fd < 0)
    return;
  CHECK_INT(write(fd, text, strlen(text)), ==, (long long)strlen(text));
  CHECK_INT(fchmod(fd, (mode_t)mode), ==, 0);
  close(fd);
}

static int mode_of(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

/* Permission bits (ACL_READ|ACL_WRITE|ACL_EXECUTE) of the entry with tag (and uid for ACL_USER),
 * -1 when there is none; *count gets how many such entries there are. */
static int acl_perm(const char *path, acl_tag_t tag, uid_t uid, int *count) {
  acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
  acl_entry_t e;
  int which = ACL_FIRST_ENTRY, perm = -1, n = 0;
  if (acl == NULL)
    return -1;
  while (acl_get_entry(acl, which, &e) == 1) {
    acl_tag_t t;
    acl_permset_t ps;
    which = ACL_NEXT_ENTRY;
    if (acl_get_tag_type(e, &t) != 0 || t != tag)
      continue;
    if (tag == ACL_USER) {
      uid_t *q = acl_get_qualifier(e);
      int same = q != NULL && *q == uid;
      if (q != NULL)
        acl_free(q);
      if (!same)
        continue;
    }
    acl_get_permset(e, &ps);
    perm = (acl_get_perm(ps, ACL_READ) == 1 ? ACL_READ : 0) | (acl_get_perm(ps, ACL_WRITE) == 1 ? ACL_WRITE : 0) |
           (acl_get_perm(ps, ACL_EXECUTE) == 1 ? ACL_EXECUTE : 0);
    n++;
  }
  acl_free(acl);
  if (count != NULL)
    *count = n;
  return perm;
}

static int entry_count(const char *path) {
  acl_t acl = acl_get_file(path, ACL_TYPE_ACCESS);
  int n = acl != NULL ? acl_entries(acl) : -1;
  if (acl != NULL)
    acl_free(acl);
  return n;
}

static int set_acl_text(const char *path, const char *text) {
  acl_t acl = acl_from_text(text);
  int rc = acl == NULL ? -1 : acl_set_file(path, ACL_TYPE_ACCESS, acl);
  if (acl != NULL)
    acl_free(acl);
  return rc;
}

static int is_root(const char *what) {
  if (geteuid() == 0)
    return 1;
  fprintf(stderr, "note: not root, %s not checked\n", what);
  return 0;
}

/* ---- files ------------------------------------------------------------------ */

CS_TEST(write_atomic_new_file_mode_exact) {
  cs_err_t err;
  mode_t old = umask(0);
  tmp_begin();
  CHECK_INT(cs_plat_write_atomic(at("k0"), "key", 3, 0600, &err), ==, CS_OK);
  CHECK_INT(mode_of(at("k0")), ==, 0600);
  umask(077);
  CHECK_INT(cs_plat_write_atomic(at("k1"), "key", 3, 0600, &err), ==, CS_OK);
  CHECK_INT(mode_of(at("k1")), ==, 0600);
  CHECK_INT(cs_plat_write_atomic(at("c1"), "cert", 4, 0644, &err), ==, CS_OK);
  CHECK_INT(mode_of(at("c1")), ==, 0644); /* not narrowed by the umask either */
  umask(old);
  CHECK_INT(count_hidden(dir_), ==, 0);
  tmp_end();
}

CS_TEST(write_atomic_replace_keeps_owner_mode_acl) {
  cs_err_t err;
  unsigned char *data = NULL;
  size_t len = 0;
  struct stat st;
  tmp_begin();
  put(at("f"), "old", 0640);
  if (is_root("owner preservation"))
    CHECK_INT(chown(at("f"), NOBODY, NOBODY), ==, 0);
  CHECK_INT(set_acl_text(at("f"), "u::rw-,u:4242:r--,g::r--,m::r--,o::---"), ==, 0);
  CHECK_INT(lstat(at("f"), &st), ==, 0);

  CHECK_INT(cs_plat_write_atomic(at("f"), "new content", 11, 0600, &err), ==, CS_OK);
  CHECK_INT(cs_plat_read_file(at("f"), 100, 0, &data, &len, &err), ==, CS_OK);
  CHECK_STR((const char *)data, "new content");
  cs_plat_free_file(data, len);
  CHECK_INT(mode_of(at("f")), ==, 0640); /* the old mode, not 0600 */
  {
    struct stat now;
    CHECK_INT(lstat(at("f"), &now), ==, 0);
    CHECK_INT(now.st_uid, ==, st.st_uid);
    CHECK_INT(now.st_gid, ==, st.st_gid);
    CHECK_INT(now.st_ino, !=, st.st_ino); /* replaced, not rewritten in place */
  }
  CHECK_INT(acl_perm(at("f"), ACL_USER, 4242, NULL), ==, ACL_READ);
  CHECK_INT(acl_perm(at("f"), ACL_MASK, 0, NULL), ==, ACL_READ);
  CHECK_INT(count_hidden(dir_), ==, 0);
  tmp_end();
}

CS_TEST(write_atomic_failure_leaves_nothing) {
  cs_err_t err;
  struct rlimit lim, small;
  char big[8192];
  void (*old_xfsz)(int);
  tmp_begin();
  /* the folder is missing: nothing can be made */
  CHECK_INT(cs_plat_write_atomic(at("nope/f"), "x", 1, 0600, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, at("nope/f"));
  CHECK_INT(cs_plat_exists(at("nope")), ==, 0);

  /* the write fails halfway (file size limit): the temp file goes, the old file stays */
  put(at("f"), "old", 0600);
  memset(big, 'x', sizeof big);
  old_xfsz = signal(SIGXFSZ, SIG_IGN);
  CHECK_INT(getrlimit(RLIMIT_FSIZE, &lim), ==, 0);
  small = lim;
  small.rlim_cur = 1024;
  CHECK_INT(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
  CHECK_INT(cs_plat_write_atomic(at("f"), big, sizeof big, 0600, &err), ==, CS_ETOOBIG);
  setrlimit(RLIMIT_FSIZE, &lim);
  signal(SIGXFSZ, old_xfsz);
  CHECK_CONTAINS(err.text, "cannot write");
  CHECK_CONTAINS(err.text, at("f"));
  CHECK_INT(count_hidden(dir_), ==, 0);
  {
    unsigned char *data = NULL;
    size_t len = 0;
    CHECK_INT(cs_plat_read_file(at("f"), 100, 0, &data, &len, &err), ==, CS_OK);
    CHECK_STR((const char *)data, "old");
    cs_plat_free_file(data, len);
  }
  tmp_end();
}

CS_TEST(write_atomic_refuses_symlink) {
  cs_err_t err;
  char target[16] = "";
  tmp_begin();
  put(at("real"), "real", 0600);
  CHECK_INT(symlink("real", at("link")), ==, 0);
  CHECK_INT(cs_plat_write_atomic(at("link"), "x", 1, 0600, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(readlink(at("link"), target, sizeof target - 1), ==, 4);
  CHECK_STR(target, "real");
  CHECK_INT(count_hidden(dir_), ==, 0);
  tmp_end();
}

CS_TEST(mkdirs_creates_levels_with_mode) {
  cs_err_t err;
  struct stat st;
  mode_t old = umask(022);
  tmp_begin();
  CHECK_INT(cs_plat_mkdirs(at("a/b//c/"), 0700, &err), ==, CS_OK);
  CHECK_INT(stat(at("a/b/c"), &st), ==, 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK_INT(mode_of(at("a")), ==, 0700);
  CHECK_INT(mode_of(at("a/b/c")), ==, 0700);
  CHECK_INT(cs_plat_mkdirs(at("a/b/c"), 0700, &err), ==, CS_OK); /* again: nothing to do */
  umask(077);
  CHECK_INT(cs_plat_mkdirs(at("a/d"), 0755, &err), ==, CS_OK);
  CHECK_INT(mode_of(at("a/d")), ==, 0755);
  umask(old);
  put(at("file"), "", 0600);
  CHECK_INT(cs_plat_mkdirs(at("file"), 0700, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, at("file"));
  CHECK(cs_plat_mkdirs(at("file/sub"), 0700, &err) < 0);
  CHECK_CONTAINS(err.text, at("file/sub"));
  tmp_end();
}

CS_TEST(rename_remove_exists) {
  cs_err_t err;
  tmp_begin();
  put(at("a"), "a", 0600);
  CHECK_INT(symlink("nowhere", at("dangling")), ==, 0);
  CHECK_INT(cs_plat_exists(at("dangling")), ==, 1); /* links are not followed */
  CHECK_INT(cs_plat_rename(at("a"), at("b"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_exists(at("a")), ==, 0);
  CHECK_INT(cs_plat_exists(at("b")), ==, 1);
  CHECK_INT(cs_plat_rename(at("a"), at("c"), &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, at("a"));
  CHECK_INT(cs_plat_remove(at("b"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_exists(at("b")), ==, 0);
  CHECK_INT(cs_plat_remove(at("b"), &err), ==, CS_OK); /* already gone */
  tmp_end();
}

/* ---- processes ------------------------------------------------------------- */

/* 1 once pid is gone or a zombie (its new parent may never reap it in a container). */
static int proc_dead(long pid) {
  char path[64], buf[512], *paren;
  FILE *f;
  size_t n;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if ((f = fopen(path, "r")) == NULL)
    return 1;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  paren = strrchr(buf, ')');
  return paren != NULL && (paren[2] == 'Z' || paren[2] == 'X');
}

static int wait_dead(long pid, int ms) {
  int64_t end = now_ms() + ms;
  while (!proc_dead(pid) && now_ms() < end)
    usleep(10000);
  return proc_dead(pid);
}

CS_TEST(run_exit_code_and_stdout) {
  const char *echo[] = {"/bin/echo", "hello", "world", NULL};
  const char *three[] = {"/bin/sh", "-c", "exit 3", NULL};
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(cs_plat_run(echo, NULL, 0, 5000, 1024, &res, &err), ==, CS_OK);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_INT(res.timed_out, ==, 0);
  CHECK_STR(res.out, "hello world\n");
  CHECK_INT(res.out_len, ==, 12);
  cs_run_result_free(&res);
  CHECK_INT(cs_plat_run(three, NULL, 0, 5000, 1024, &res, &err), ==, CS_OK);
  CHECK_INT(res.exit_code, ==, 3);
  CHECK_INT(res.signal, ==, 0);
  CHECK_STR(res.out, "");
  cs_run_result_free(&res);
}

CS_TEST(run_feeds_stdin) {
  /* more than a pipe holds, both ways at once: a loop that only wrote, then read, would deadlock */
  const char *cat[] = {"/bin/cat", NULL};
  size_t n = 300000, i;
  unsigned char *in = malloc(n);
  cs_run_result_t res;
  cs_err_t err;
  CHECK(in != NULL);
  if (in == NULL)
    return;
  for (i = 0; i < n; i++)
    in[i] = (unsigned char)('a' + i % 26);
  CHECK_INT(cs_plat_run(cat, in, n, 10000, 1 << 20, &res, &err), ==, CS_OK);
  CHECK_INT(res.exit_code, ==, 0);
  CHECK_INT(res.out_len, ==, (long long)n);
  CHECK(res.out != NULL && memcmp(res.out, in, n) == 0);
  cs_run_result_free(&res);
  free(in);
}

CS_TEST(run_caps_output) {
  const char *argv[] = {"/bin/sh", "-c", "head -c 1000000 /dev/zero | tr '\\0' y; exit 5", NULL};
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(cs_plat_run(argv, NULL, 0, 10000, 10, &res, &err), ==, CS_OK);
  CHECK_INT(res.out_len, ==, 10);
  CHECK_STR(res.out, "yyyyyyyyyy");
  CHECK_INT(res.exit_code, ==, 5); /* it ran to its end: the rest was drained */
  CHECK_INT(res.timed_out, ==, 0);
  cs_run_result_free(&res);
}

CS_TEST(run_input_to_child_that_stops_reading) {
  /* stdin closed at once: our writes meet EPIPE, and SIGPIPE must not kill us */
  const char *argv[] = {"/bin/sh", "-c", "exec 0<&-; sleep 0.2; exit 4", NULL};
  size_t n = 1 << 20;
  char *in = calloc(1, n);
  sigset_t pending, mask;
  cs_run_result_t res;
  cs_err_t err;
  CHECK(in != NULL);
  if (in == NULL)
    return;
  CHECK_INT(cs_plat_run(argv, in, n, 5000, 1024, &res, &err), ==, CS_OK);
  CHECK_INT(res.exit_code, ==, 4);
  cs_run_result_free(&res);
  free(in);
  CHECK_INT(sigpending(&pending), ==, 0);
  CHECK_INT(sigismember(&pending, SIGPIPE), ==, 0);
  CHECK_INT(sigprocmask(SIG_BLOCK, NULL, &mask), ==, 0);
  CHECK_INT(sigismember(&mask, SIGPIPE), ==, 0); /* our mask is back as it was */
}

CS_TEST(run_timeout_kills_process_group) {
  const char *sleep30[] = {"/bin/sleep", "30", NULL};
  char cmd[600];
  const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  cs_run_result_t res;
  cs_err_t err;
  int64_t t0;
  long bg = 0;
  FILE *f;

  t0 = now_ms();
  CHECK_INT(cs_plat_run(sleep30, NULL, 0, 200, 1024, &res, &err), ==, CS_OK);
  CHECK_INT(res.timed_out, ==, 1);
  CHECK_INT(res.signal, ==, SIGKILL);
  CHECK_INT(res.exit_code, ==, -1);
  CHECK_INT(now_ms() - t0, >=, 190);
  CHECK_INT(now_ms() - t0, <, 5000);
  cs_run_result_free(&res);

  /* a grandchild in the background dies with it */
  tmp_begin();
  snprintf(cmd, sizeof cmd, "sleep 30 & echo $! > %s; sleep 30", at("bg.pid"));
  t0 = now_ms();
  CHECK_INT(cs_plat_run(argv, NULL, 0, 300, 1024, &res, &err), ==, CS_OK);
  CHECK_INT(res.timed_out, ==, 1);
  CHECK_INT(now_ms() - t0, <, 5000);
  cs_run_result_free(&res);
  f = fopen(at("bg.pid"), "r");
  CHECK(f != NULL);
  if (f != NULL) {
    CHECK_INT(fscanf(f, "%ld", &bg), ==, 1);
    fclose(f);
  }
  CHECK(bg > 0 && wait_dead(bg, 2000));
  tmp_end();
}

CS_TEST(run_background_child_does_not_hold_up) {
  /* what it leaves running keeps our stdout pipe open; its own exit is what counts */
  const char *argv[] = {"/bin/sh", "-c", "sleep 30 & echo $!; exit 2", NULL};
  cs_run_result_t res;
  cs_err_t err;
  int64_t t0 = now_ms();
  long bg;
  CHECK_INT(cs_plat_run(argv, NULL, 0, 10000, 1024, &res, &err), ==, CS_OK);
  CHECK_INT(now_ms() - t0, <, 2000);
  CHECK_INT(res.exit_code, ==, 2);
  CHECK_INT(res.timed_out, ==, 0);
  bg = strtol(res.out, NULL, 10);
  CHECK(bg > 0);
  if (bg > 0)
    kill((pid_t)bg, SIGKILL);
  cs_run_result_free(&res);
}

CS_TEST(run_missing_program) {
  const char *argv[] = {"/nonexistent/cs-no-such-program", NULL};
  const char *relative[] = {"sh", "-c", "true", NULL}; /* no PATH search */
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(cs_plat_run(argv, NULL, 0, 1000, 1024, &res, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "/nonexistent/cs-no-such-program");
  CHECK(res.out == NULL);
  cs_run_result_free(&res);
  CHECK(cs_plat_run(relative, NULL, 0, 1000, 1024, &res, &err) < 0);
  cs_run_result_free(&res);
}

static unsigned long long status_mask(const char *status, const char *field) {
  const char *p = strstr(status, field);
  return p != NULL ? strtoull(p + strlen(field), NULL, 16) : ~0ULL;
}

CS_TEST(run_child_gets_no_fds_and_clean_signals) {
  char cmd[200];
  const char *argv[] = {"/bin/sh", "-c", cmd, NULL};
  const char *status[] = {"/bin/cat", "/proc/self/status", NULL};
  const unsigned long long pipe_bit = 1ULL << (SIGPIPE - 1);
  int leak = open("/dev/null", O_RDONLY); /* deliberately without O_CLOEXEC */
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  cs_run_result_t res;
  cs_err_t err;

  CHECK(leak > 2);
  snprintf(cmd, sizeof cmd, "if [ -e /proc/self/fd/%d ]; then echo open; else echo closed; fi", leak);
  CHECK_INT(cs_plat_run(argv, NULL, 0, 5000, 1024, &res, &err), ==, CS_OK);
  CHECK_STR(res.out, "closed\n");
  cs_run_result_free(&res);
  /* with input, SIGPIPE is blocked in this thread meanwhile: the child must not inherit that */
  CHECK_INT(cs_plat_run(status, "x", 1, 5000, 65536, &res, &err), ==, CS_OK);
  CHECK_INT(status_mask(res.out, "SigBlk:") & pipe_bit, ==, 0);
  CHECK_INT(status_mask(res.out, "SigIgn:") & pipe_bit, ==, 0);
  CHECK_INT(res.exit_code, ==, 0);
  cs_run_result_free(&res);
  signal(SIGPIPE, old);
  close(leak);
}

CS_TEST(run_shell_captures_and_exit) {
  cs_run_result_t res;
  cs_err_t err;
  CHECK_INT(cs_plat_run_shell("echo one; echo two | tr a-z A-Z; exit 9", 5000, &res, &err), ==, CS_OK);
  CHECK_STR(res.out, "one\nTWO\n");
  CHECK_INT(res.exit_code, ==, 9);
  cs_run_result_free(&res);
}

/* The variables given reach the command, one of this process's with their name is
 * replaced, those with the dropped prefix are gone, the others stay; a multi-line
 * value arrives whole */
CS_TEST(run_shell_env_sets_and_drops) {
  const char *env[] = {"CERTMONGER_OPERATION=SUBMIT", "CERTMONGER_CSR=line 1\nline 2", "CS_TEST_KEPT=new", NULL};
  cs_run_result_t res;
  cs_err_t err;
  setenv("CS_TEST_KEPT", "old", 1);
  setenv("CS_TEST_OTHER", "other", 1);
  setenv("CERTMONGER_CA_COOKIE", "stale", 1);
  CHECK_INT(cs_plat_run_shell_env("printf '%s|%s|%s|%s|%s' \"$CERTMONGER_OPERATION\" \"$CERTMONGER_CSR\" "
                                  "\"${CERTMONGER_CA_COOKIE-unset}\" \"$CS_TEST_KEPT\" \"$CS_TEST_OTHER\"; exit 5",
                                  env, "CERTMONGER_", 5000, 1024, &res, &err),
            ==, CS_OK);
  CHECK_STR(res.out, "SUBMIT|line 1\nline 2|unset|new|other");
  CHECK_INT(res.exit_code, ==, 5);
  cs_run_result_free(&res);
  /* the output is cut at max_out */
  CHECK_INT(cs_plat_run_shell_env("printf 0123456789", env, NULL, 5000, 4, &res, &err), ==, CS_OK);
  CHECK_STR(res.out, "0123");
  cs_run_result_free(&res);
  unsetenv("CS_TEST_KEPT");
  unsetenv("CS_TEST_OTHER");
  unsetenv("CERTMONGER_CA_COOKIE");
}

CS_TEST(sibling_path_next_to_exe) {
  char exe[4096], want[4200], got[4200], *slash;
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  cs_err_t err;
  CHECK(n > 0);
  if (n <= 0)
    return;
  exe[n] = '\0';
  slash = strrchr(exe, '/');
  *slash = '\0';
  snprintf(want, sizeof want, "%s/certsteward-worker", exe);
  CHECK_INT(cs_plat_sibling_path("certsteward-worker", got, sizeof got, &err), ==, CS_OK);
  CHECK_STR(got, want);
  CHECK_INT(cs_plat_sibling_path("certsteward-worker", got, strlen(want), &err), ==, CS_ETOOBIG);
}

/* ---- service restart --------------------------------------------------------- */

CS_TEST(service_restart_with_commands) {
  cs_err_t err;
  char restart[600], status[600];
  int64_t t0;
  tmp_begin();
  CHECK_INT(cs_plat_service_restart(NULL, "true", NULL, 5000, &err), ==, CS_OK);
  /* up only once the marker appears, a moment after the restart command returned; its
   * background job keeps the output pipe open, which must not hold the restart up */
  snprintf(restart, sizeof restart, "(sleep 0.3; touch %s) &", at("up"));
  snprintf(status, sizeof status, "test -e %s", at("up"));
  t0 = now_ms();
  CHECK_INT(cs_plat_service_restart("demo", restart, status, 5000, &err), ==, CS_OK);
  CHECK_INT(now_ms() - t0, >=, 250);
  CHECK_INT(now_ms() - t0, <, 2000);
  CHECK_INT(cs_plat_exists(at("up")), ==, 1);
  tmp_end();
}

CS_TEST(service_restart_reports_exit_code) {
  cs_err_t err;
  CHECK_INT(cs_plat_service_restart("demo", "exit 7", "true", 5000, &err), ==, CS_EFAILED);
  CHECK_CONTAINS(err.text, "restart command exited 7");
  CHECK_INT(err.raw, ==, 7);
}

CS_TEST(service_restart_times_out) {
  cs_err_t err;
  int64_t t0 = now_ms();
  CHECK_INT(cs_plat_service_restart("demo", "true", "exit 1", 600, &err), ==, CS_ETIMEDOUT);
  CHECK_INT(now_ms() - t0, >=, 550);
  CHECK_INT(now_ms() - t0, <, 1500);
  CHECK_CONTAINS(err.text, "status command exited 1");
  t0 = now_ms();
  CHECK_INT(cs_plat_service_restart("demo", "sleep 30", "true", 300, &err), ==, CS_ETIMEDOUT);
  CHECK_INT(now_ms() - t0, <, 1500);
  CHECK_CONTAINS(err.text, "restart command did not finish");
}

CS_TEST(service_through_systemctl) {
  cs_err_t err;
  int rc = cs_plat_service_exists("cs-no-such-unit-4242", &err);
  if (access("/run/systemd/system", F_OK) == 0) {
    CHECK_INT(rc, ==, 0);
  } else {
    /* no systemd running (a container): a clear error, not a guess */
    CHECK(rc < 0);
    CHECK_CONTAINS(err.text, "systemctl");
  }
  CHECK(cs_plat_service_restart("cs-no-such-unit-4242", NULL, NULL, 5000, &err) < 0);
  CHECK_CONTAINS(err.text, "systemctl");
  CHECK_INT(cs_plat_service_restart(NULL, NULL, NULL, 5000, &err), ==, CS_EINVAL);
}

/* ---- private-key permission ------------------------------------------------ */

/* Whether nobody can really open path: the kernel's word, not ours. */
static int nobody_can_read(const char *path) {
  pid_t pid = fork();
  int st;
  if (pid == 0) {
    int fd;
    if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
      _exit(2);
    fd = open(path, O_RDONLY);
    _exit(fd >= 0 ? 0 : 1);
  }
  if (pid < 0 || waitpid(pid, &st, 0) != pid)
    return -1;
  return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

CS_TEST(key_grant_adds_effective_entry) {
  cs_err_t err;
  int granted = -1, count = 0;
  tmp_begin();
  chmod(dir_, 0711); /* nobody must get through the folder to the key */
  put(at("key"), KEY_PEM, 0600);
  CHECK_INT(cs_plat_key_check(at("key"), "nobody", &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 0);
  if (is_root("access as nobody"))
    CHECK_INT(nobody_can_read(at("key")), ==, 0);
  CHECK_INT(cs_plat_key_grant(at("key"), "nobody", &err), ==, CS_OK);
  CHECK_INT(acl_perm(at("key"), ACL_USER, NOBODY, &count), ==, ACL_READ);
  CHECK_INT(count, ==, 1);
  CHECK_INT(acl_perm(at("key"), ACL_MASK, 0, NULL), ==, ACL_READ);
  CHECK_INT(acl_perm(at("key"), ACL_OTHER, 0, NULL), ==, 0);
  CHECK_INT(cs_plat_key_check(at("key"), "nobody", &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 1);
  if (is_root("access as nobody"))
    CHECK_INT(nobody_can_read(at("key")), ==, 1);
  tmp_end();
}

CS_TEST(key_grant_is_idempotent) {
  cs_err_t err;
  int entries, count = 0;
  tmp_begin();
  put(at("key"), KEY_PEM, 0600);
  CHECK_INT(cs_plat_key_grant(at("key"), "nobody", &err), ==, CS_OK);
  entries = entry_count(at("key"));
  CHECK_INT(entries, ==, 5); /* user::, user:nobody, group::, mask::, other:: */
  CHECK_INT(cs_plat_key_grant(at("key"), "nobody", &err), ==, CS_OK);
  CHECK_INT(entry_count(at("key")), ==, entries);
  CHECK_INT(acl_perm(at("key"), ACL_USER, NOBODY, &count), ==, ACL_READ);
  CHECK_INT(count, ==, 1);
  tmp_end();
}

CS_TEST(key_check_detects_drift) {
  cs_err_t err;
  int granted = -1;
  acl_t plain = acl_from_mode(0600);
  tmp_begin();
  put(at("key"), KEY_PEM, 0600);
  CHECK_INT(cs_plat_key_grant(at("key"), "nobody", &err), ==, CS_OK);
  CHECK(plain != NULL && acl_set_file(at("key"), ACL_TYPE_ACCESS, plain) == 0);
  CHECK_INT(cs_plat_key_check(at("key"), "nobody", &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 0);
  /* an entry left in place but masked off is drift too */
  CHECK_INT(set_acl_text(at("key"), "u::rw-,u:nobody:r--,g::---,m::---,o::---"), ==, 0);
  CHECK_INT(cs_plat_key_check(at("key"), "nobody", &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 0);
  CHECK_INT(cs_plat_key_grant(at("key"), "nobody", &err), ==, CS_OK);
  CHECK_INT(cs_plat_key_check(at("key"), "nobody", &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 1);
  if (plain != NULL)
    acl_free(plain);
  tmp_end();
}

CS_TEST(key_grant_unknown_user_or_file) {
  cs_err_t err;
  int granted = -1;
  tmp_begin();
  put(at("key"), KEY_PEM, 0600);
  CHECK_INT(cs_plat_key_grant(at("key"), "cs-no-such-user-4242", &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "no such user");
  CHECK_INT(cs_plat_key_check(at("key"), "cs-no-such-user-4242", &granted, &err), ==, CS_ENOENT);
  CHECK_INT(entry_count(at("key")), ==, 3); /* untouched */
  CHECK_INT(cs_plat_key_grant(at("missing"), "nobody", &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, at("missing"));
  tmp_end();
}

CS_TEST(key_grant_merges_and_keeps_mask_narrow) {
  cs_err_t err;
  int count = 0;
  tmp_begin();
  /* group and user 4242 were given rw, then narrowed to r by the mask (chmod g-w) */
  put(at("key"), KEY_PEM, 0600);
  CHECK_INT(set_acl_text(at("key"), "u::rw-,u:4242:rw-,g::rw-,m::r--,o::---"), ==, 0);
  CHECK_INT(cs_plat_key_grant(at("key"), "nobody", &err), ==, CS_OK);
  CHECK_INT(acl_perm(at("key"), ACL_MASK, 0, NULL), ==, ACL_READ); /* write not re-opened */
  CHECK_INT(acl_perm(at("key"), ACL_USER, 4242, NULL), ==, ACL_READ | ACL_WRITE);
  CHECK_INT(acl_perm(at("key"), ACL_USER, NOBODY, NULL), ==, ACL_READ);
  /* an entry nobody already had keeps what it had and gains READ, without a second one */
  put(at("key2"), KEY_PEM, 0600);
  CHECK_INT(set_acl_text(at("key2"), "u::rw-,u:nobody:-w-,g::---,m::-w-,o::---"), ==, 0);
  CHECK_INT(cs_plat_key_grant(at("key2"), "nobody", &err), ==, CS_OK);
  CHECK_INT(acl_perm(at("key2"), ACL_USER, NOBODY, &count), ==, ACL_READ | ACL_WRITE);
  CHECK_INT(count, ==, 1);
  CHECK_INT(acl_perm(at("key2"), ACL_MASK, 0, NULL), ==, ACL_READ | ACL_WRITE);
  tmp_end();
}

CS_TEST(key_grant_to_owner_uses_owner_bits) {
  cs_err_t err;
  int granted = -1, count = -1;
  struct passwd *pw;
  char me[64] = "";
  tmp_begin();
  put(at("key"), KEY_PEM, 0200);
  pw = getpwuid(geteuid());
  CHECK(pw != NULL);
  if (pw != NULL)
    snprintf(me, sizeof me, "%s", pw->pw_name);
  CHECK_INT(cs_plat_key_check(at("key"), me, &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 0);
  CHECK_INT(cs_plat_key_grant(at("key"), me, &err), ==, CS_OK);
  CHECK_INT(mode_of(at("key")), ==, 0600);
  acl_perm(at("key"), ACL_USER, geteuid(), &count);
  CHECK_INT(count, ==, 0); /* no user:<owner> entry, which the kernel would ignore */
  CHECK_INT(cs_plat_key_check(at("key"), me, &granted, &err), ==, CS_OK);
  CHECK_INT(granted, ==, 1);
  tmp_end();
}

/* A file of root's that holds no private key (the account can rename one into
 * key_file's path) gets no READ; a key after a certificate (HAProxy), or with CRLF
 * line ends, does. */
CS_TEST(key_grant_refuses_a_file_that_holds_no_key) {
  cs_err_t err;
  tmp_begin();
  put(at("notes"), "root only\n-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", 0600);
  CHECK_INT(cs_plat_key_grant(at("notes"), "nobody", &err), ==, CS_EFORMAT);
  /* one text whatever the file holds: nothing of it is told */
  CHECK_CONTAINS(err.text, "is not a private key certsteward can grant; no permission is granted on it");
  CHECK(strstr(err.text, "PEM") == NULL);
  CHECK_INT(entry_count(at("notes")), ==, 3); /* untouched */
  put(at("empty"), "", 0600);
  CHECK_INT(cs_plat_key_grant(at("empty"), "nobody", &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "is not a private key certsteward can grant");
  put(at("half"), "-----BEGIN PRIVATE KEY", 0600);
  CHECK_INT(cs_plat_key_grant(at("half"), "nobody", &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "is not a private key certsteward can grant");
  put(at("combined"),
      "-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n"
      "-----BEGIN RSA PRIVATE KEY-----\r\nMIIB\r\n-----END RSA PRIVATE KEY-----\r\n",
      0600);
  CHECK_INT(cs_plat_key_grant(at("combined"), "nobody", &err), ==, CS_OK);
  CHECK_INT(acl_perm(at("combined"), ACL_USER, NOBODY, NULL), ==, ACL_READ);
  tmp_end();
}

/* ---- lock --------------------------------------------------------------------- */

CS_TEST(lock_second_open_is_busy) {
  cs_plat_lock_t *a = NULL, *b = NULL;
  cs_err_t err;
  char pid[32];
  mode_t old = umask(0);
  tmp_begin();
  CHECK_INT(cs_plat_lock(at("lock"), &a, &err), ==, CS_OK);
  umask(old);
  CHECK_INT(mode_of(at("lock")), ==, 0600);
  CHECK_INT(cs_plat_lock(at("lock"), &b, &err), ==, CS_EBUSY);
  CHECK(b == NULL);
  snprintf(pid, sizeof pid, "process %ld", (long)getpid());
  CHECK_CONTAINS(err.text, pid);
  cs_plat_unlock(a);
  CHECK_INT(cs_plat_lock(at("lock"), &b, &err), ==, CS_OK);
  cs_plat_unlock(b);
  tmp_end();
}

CS_TEST(lock_released_when_holder_killed) {
  cs_plat_lock_t *l = NULL;
  cs_err_t err;
  int p[2], st;
  char ready = 0, pid[32];
  pid_t child;
  tmp_begin();
  CHECK_INT(pipe(p), ==, 0);
  child = fork();
  if (child == 0) {
    char ok = cs_plat_lock(at("lock"), &l, NULL) == CS_OK ? 'y' : 'n';
    if (write(p[1], &ok, 1) != 1)
      _exit(1);
    for (;;)
      pause();
  }
  CHECK(child > 0);
  close(p[1]);
  CHECK_INT(read(p[0], &ready, 1), ==, 1);
  close(p[0]);
  CHECK_INT(ready, ==, 'y');
  CHECK_INT(cs_plat_lock(at("lock"), &l, &err), ==, CS_EBUSY);
  snprintf(pid, sizeof pid, "process %ld", (long)child);
  CHECK_CONTAINS(err.text, pid);
  kill(child, SIGKILL);
  CHECK_INT(waitpid(child, &st, 0), ==, child);
  CHECK_INT(cs_plat_lock(at("lock"), &l, &err), ==, CS_OK);
  cs_plat_unlock(l);
  tmp_end();
}
