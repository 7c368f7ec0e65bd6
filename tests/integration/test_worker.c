/* certsteward-worker as the daemon runs it (CS_WORKER names the executable): every
 * answer parses with cs_reply_parse; accepted files are staged with the right
 * modes and load back; a symbolic link is never followed; the probe reads the
 * certificate a real TLS server (openssl s_server on 127.0.0.1) serves and fails
 * fast and bounded otherwise. POSIX only (sockets, s_server, file modes). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cs_test.h"
#include "policy.h"
#include "proc.h"
#include "reply.h"
#include "text.h"

#define HOST "board.example.test"
#define PASSWORD "demo-pass"
#define OPENSSL_BIN "/usr/bin/openssl"

extern char **environ;

static const char *worker(void) {
  const char *w = getenv("CS_WORKER");
  return w ? w : "certsteward-worker";
}

typedef struct answer_s {
  cs_proc_result_t proc;
  cs_reply_t reply;
  int status;
} answer_t;

/* Runs the worker with the arguments (NULL-terminated); the answer must parse
 * and must not hold the password, whatever was asked. Returns the exit status. */
static int ask_at(int line, answer_t *a, const char *first, ...) {
  cs_err_t err;
  va_list ap;
  int rc;
  memset(a, 0, sizeof *a);
  a->status = -1;
  va_start(ap, first);
  rc = cs_proc_run_va(&a->proc, worker(), first, ap);
  va_end(ap);
  if (rc != 0) {
    cs_test_fail(__FILE__, line, "cannot run %s", worker());
    return -1;
  }
  a->status = a->proc.status;
  if (cs_reply_parse(a->proc.out, a->proc.out_len, &a->reply, &err) != CS_OK)
    cs_test_fail(__FILE__, line, "the answer does not parse: %s\n%s", err.text, a->proc.out);
  if (strstr(a->proc.out, PASSWORD) != NULL || strstr(a->proc.err, PASSWORD) != NULL)
    cs_test_fail(__FILE__, line, "the password was printed");
  if (strstr(a->proc.out, "PRIVATE KEY") != NULL || strstr(a->proc.err, "PRIVATE KEY") != NULL)
    cs_test_fail(__FILE__, line, "key material was printed");
  return a->status;
}
#define ASK(a, ...) ask_at(__LINE__, (a), __VA_ARGS__, (const char *)NULL)

static void answer_free(answer_t *a) {
  cs_reply_free(&a->reply);
  cs_proc_result_free(&a->proc);
}

/* A config for the test PKI (paths relative to the file), one per test: tests run in parallel. */
static const char *config(const char *name, const char *ca_file) {
  const char *path = cs_test_path(name);
  FILE *f = fopen(path, "wb");
  CHECK(f != NULL);
  if (f != NULL) {
    fprintf(f, "[connector]\nhost = " HOST "\n[watch]\npassword_file = pass.txt\n[policy]\nca_file = %s\n", ca_file);
    fclose(f);
  }
  return path;
}

static const char *const staged[] = {"cert.pem", "chain.pem", "key.pem", "bundle.pem", "leaf.der"};

/* A stage folder path that does not exist yet. */
static const char *fresh_stage(const char *name) {
  const char *dir = cs_test_path(name);
  char file[4200];
  size_t i;
  for (i = 0; i < sizeof staged / sizeof staged[0]; i++) {
    snprintf(file, sizeof file, "%s/%s", dir, staged[i]);
    unlink(file);
  }
  rmdir(dir);
  CHECK(access(dir, F_OK) != 0);
  return dir;
}

static char *staged_path(const char *dir, const char *name) {
  static char buf[4][4200];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
  return buf[i];
}

static int mode_of(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0)
    return -1;
  return (int)(st.st_mode & 07777);
}

static long size_of(const char *path) {
  struct stat st;
  return lstat(path, &st) == 0 ? (long)st.st_size : -1;
}

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (hay = hay ? strstr(hay, needle) : NULL; hay; hay = strstr(hay + 1, needle))
    n++;
  return n;
}

static X509 *read_first_cert(const char *path) {
  BIO *b = BIO_new_file(path, "rb");
  X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  return x;
}

static EVP_PKEY *read_key(const char *path) {
  BIO *b = BIO_new_file(path, "rb");
  EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
  BIO_free(b);
  return k;
}

static const char *thumbprint_of(X509 *x) {
  static char tp[41];
  if (x == NULL || cs_x509_thumbprint(x, tp) != CS_OK)
    return "(none)";
  return tp;
}

/* The staged folder holds what the store installs, with the right modes, and it
 * loads back: the reported leaf first, its key. Returns the staged key (caller frees). */
static EVP_PKEY *check_staged(const char *dir, const char *thumbprint, int chain_certs) {
  X509 *cert = NULL, *der = NULL;
  EVP_PKEY *key = NULL;
  char *text = NULL;
  BIO *b = NULL;

  CHECK_INT(mode_of(dir), ==, 0700);
  CHECK_INT(mode_of(staged_path(dir, "key.pem")), ==, 0600);
  CHECK_INT(mode_of(staged_path(dir, "bundle.pem")), ==, 0600);
  CHECK_INT(mode_of(staged_path(dir, "cert.pem")), ==, 0644);
  CHECK_INT(mode_of(staged_path(dir, "chain.pem")), ==, 0644);
  CHECK_INT(mode_of(staged_path(dir, "leaf.der")), ==, 0644);

  cert = read_first_cert(staged_path(dir, "cert.pem"));
  CHECK_STR(thumbprint_of(cert), thumbprint);
  text = cs_test_read_text(staged_path(dir, "cert.pem"));
  CHECK_INT(count(text, "BEGIN CERTIFICATE"), ==, 1 + chain_certs);
  free(text);
  text = cs_test_read_text(staged_path(dir, "chain.pem"));
  CHECK_INT(count(text, "BEGIN CERTIFICATE"), ==, chain_certs);
  if (chain_certs == 0)
    CHECK_INT(size_of(staged_path(dir, "chain.pem")), ==, 0);
  free(text);

  /* unencrypted PKCS#8, and the leaf's own key */
  text = cs_test_read_text(staged_path(dir, "key.pem"));
  CHECK(text != NULL && strncmp(text, "-----BEGIN PRIVATE KEY-----", 27) == 0);
  free(text);
  key = read_key(staged_path(dir, "key.pem"));
  CHECK(key != NULL && cert != NULL && X509_check_private_key(cert, key) == 1);

  text = cs_test_read_text(staged_path(dir, "bundle.pem"));
  CHECK_INT(count(text, "BEGIN CERTIFICATE"), ==, 1 + chain_certs);
  CHECK_INT(count(text, "BEGIN PRIVATE KEY"), ==, 1);
  CHECK(text != NULL && strncmp(text, "-----BEGIN CERTIFICATE-----", 27) == 0); /* leaf first */
  free(text);

  b = BIO_new_file(staged_path(dir, "leaf.der"), "rb");
  der = b ? d2i_X509_bio(b, NULL) : NULL;
  CHECK_STR(thumbprint_of(der), thumbprint);
  BIO_free(b);
  X509_free(der);
  X509_free(cert);
  return key;
}

CS_TEST(validate_accepted_pfx_is_staged) {
  const char *dir = fresh_stage("worker-stage-pfx");
  EVP_PKEY *key;
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-pfx.ini", "root.pem"), "--stage", dir, "--",
                cs_test_path("good-aes.pfx")),
            ==, 0);
  CHECK(cs_report_accepted(&a.reply.report));
  CHECK_INT(a.reply.report.n_checks, >=, 10);
  CHECK_STR(a.reply.format, "PKCS#12");
  CHECK_INT(a.reply.has_key, ==, 1);
  CHECK_INT(strlen(a.reply.report.not_after), ==, 20);
  CHECK(a.reply.not_after_epoch > (long long)time(NULL));
  CHECK_CONTAINS(a.reply.report.subject, "CN=" HOST);
  CHECK_STR(a.reply.staged, dir);
  CHECK(a.reply.error == NULL);
  key = check_staged(dir, a.reply.report.thumbprint, 1);
  EVP_PKEY_free(key);
  answer_free(&a);
}

/* The PEM file path holds exactly the first certificates of the PEM files named
 * (NULL-terminated), in that order. */
static void check_certs_at(int line, const char *path, ...) {
  BIO *b = BIO_new_file(path, "rb");
  const char *name;
  X509 *got, *want;
  va_list ap;
  int i = 0;
  CHECK(b != NULL);
  va_start(ap, path);
  do {
    name = va_arg(ap, const char *);
    got = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    want = name ? read_first_cert(cs_test_path(name)) : NULL;
    if ((got == NULL) != (name == NULL) || (got != NULL && (want == NULL || X509_cmp(got, want) != 0)))
      cs_test_fail(__FILE__, line, "%s: certificate %d is %s, not %s", path, i, got ? thumbprint_of(got) : "none",
                   name ? name : "none (the end)");
    X509_free(got);
    X509_free(want);
    i++;
  } while (name != NULL);
  va_end(ap);
  ERR_clear_error();
  BIO_free(b);
}
#define CHECK_CERTS(path, ...) check_certs_at(__LINE__, (path), __VA_ARGS__, (const char *)NULL)

/* `openssl verify -CAfile root.pem -untrusted chain.pem cert.pem`: what a client
 * that trusts only the root can build from what the server sends. */
static void check_openssl_verify(const char *dir) {
  char root[4096], chain[4200], cert[4200];
  const char *argv[] = {OPENSSL_BIN, "verify", "-CAfile", root, "-untrusted", chain, cert, NULL};
  cs_proc_result_t r;
  snprintf(root, sizeof root, "%s", cs_test_path("root.pem"));
  snprintf(chain, sizeof chain, "%s", staged_path(dir, "chain.pem"));
  snprintf(cert, sizeof cert, "%s", staged_path(dir, "cert.pem"));
  CHECK_INT(cs_proc_run(argv, &r), ==, 0);
  CHECK_INT(r.status, ==, 0);
  CHECK_CONTAINS(r.out, ": OK");
  if (r.status != 0)
    fprintf(stderr, "openssl verify: %s%s\n", r.out ? r.out : "", r.err ? r.err : "");
  cs_proc_result_free(&r);
}

/* A renewal that kept its key: the drop has no key, the key in service is staged;
 * nor an intermediate, which the trust anchors hold: the verified chain is staged
 * (the server must send the intermediate), without the root. */
CS_TEST(validate_keyless_der_stages_service_key) {
  const char *dir = fresh_stage("worker-stage-der");
  EVP_PKEY *staged_key = NULL, *service_key = NULL;
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-der.ini", "ca-chain.pem"), "--key", cs_test_path("leaf.key"),
                "--stage", dir, cs_test_path("good-leaf.der")),
            ==, 0);
  CHECK(cs_report_accepted(&a.reply.report));
  CHECK_STR(a.reply.format, "DER");
  CHECK_INT(a.reply.has_key, ==, 0);
  CHECK_STR(a.reply.staged, dir);
  staged_key = check_staged(dir, a.reply.report.thumbprint, 1);
  CHECK_CERTS(staged_path(dir, "cert.pem"), "good-bundle.pem", "inter.pem"); /* leaf, then its issuer */
  CHECK_CERTS(staged_path(dir, "chain.pem"), "inter.pem");
  CHECK_CERTS(staged_path(dir, "bundle.pem"), "good-bundle.pem", "inter.pem");
  check_openssl_verify(dir);
  service_key = read_key(cs_test_path("leaf.key"));
  CHECK(staged_key != NULL && service_key != NULL && EVP_PKEY_eq(staged_key, service_key) == 1);
  EVP_PKEY_free(staged_key);
  EVP_PKEY_free(service_key);
  answer_free(&a);
}

/* A new key in the file wins over the key in service (the one it replaces). */
CS_TEST(validate_file_key_wins_over_service_key) {
  const char *dir = fresh_stage("worker-stage-newkey");
  EVP_PKEY *key, *old;
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-newkey.ini", "root.pem"), "--key",
                cs_test_path("bad-keymismatch.pem"), "--stage", dir, cs_test_path("good-bundle.pem")),
            ==, 0);
  CHECK(cs_report_accepted(&a.reply.report));
  CHECK_STR(a.reply.staged, dir);
  key = check_staged(dir, a.reply.report.thumbprint, 1);
  old = read_key(cs_test_path("bad-keymismatch.pem"));
  CHECK(key != NULL && old != NULL && EVP_PKEY_eq(key, old) != 1);
  EVP_PKEY_free(key);
  EVP_PKEY_free(old);
  answer_free(&a);
}

/* Certificates in the file that are not on the verified path (an unrelated root,
 * another leaf of the same intermediate) are not staged, nor is the root. */
CS_TEST(validate_bundle_junk_is_not_staged) {
  static const char *const parts[] = {"good-bundle.pem", "other-root.pem", "current-ok.pem", "root.pem"};
  const char *dir = fresh_stage("worker-stage-junk"), *file = cs_test_path("worker-junk.pem");
  char *text;
  FILE *f = fopen(file, "wb");
  EVP_PKEY *key;
  answer_t a;
  size_t i;
  CHECK(f != NULL);
  for (i = 0; f != NULL && i < sizeof parts / sizeof parts[0]; i++) {
    text = cs_test_read_text(cs_test_path(parts[i]));
    CHECK(text != NULL && fputs(text, f) >= 0);
    free(text);
  }
  if (f != NULL)
    fclose(f);
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-junk.ini", "root.pem"), "--stage", dir, file), ==, 0);
  CHECK(cs_report_accepted(&a.reply.report));
  CHECK_STR(a.reply.staged, dir);
  key = check_staged(dir, a.reply.report.thumbprint, 1);
  CHECK_CERTS(staged_path(dir, "cert.pem"), "good-bundle.pem", "inter.pem");
  CHECK_CERTS(staged_path(dir, "chain.pem"), "inter.pem");
  CHECK_CERTS(staged_path(dir, "bundle.pem"), "good-bundle.pem", "inter.pem");
  check_openssl_verify(dir);
  EVP_PKEY_free(key);
  answer_free(&a);
}

CS_TEST(validate_rejected_is_not_staged) {
  const char *dir = fresh_stage("worker-stage-bad");
  const cs_check_t *c;
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-bad.ini", "root.pem"), "--stage", dir,
                cs_test_path("bad-eku.pem")),
            ==, 0);
  CHECK(!cs_report_accepted(&a.reply.report));
  c = cs_report_find(&a.reply.report, CS_CHECK_EKU);
  CHECK(c != NULL && !c->ok);
  CHECK_INT(strlen(a.reply.report.thumbprint), ==, 40);
  CHECK(a.reply.staged == NULL);
  CHECK(a.reply.error == NULL);
  CHECK(access(dir, F_OK) != 0);
  answer_free(&a);
}

/* A dropped file is never read through a link: someone who can write the drop
 * folder must not make the service read (and stage) a file of their choosing. */
CS_TEST(validate_symlink_refused) {
  const char *dir = fresh_stage("worker-stage-link"), *link = cs_test_path("worker-link.pem");
  const cs_check_t *c;
  answer_t a;
  unlink(link);
  CHECK_INT(symlink("good-bundle.pem", link), ==, 0);
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-link.ini", "root.pem"), "--stage", dir, link), ==, 0);
  CHECK(!cs_report_accepted(&a.reply.report));
  c = cs_report_find(&a.reply.report, CS_CHECK_LOAD);
  CHECK(c != NULL && !c->ok);
  CHECK_STR(a.reply.report.thumbprint, "");
  CHECK(a.reply.staged == NULL);
  CHECK(access(dir, F_OK) != 0);
  answer_free(&a);
  unlink(link);
}

CS_TEST(validate_garbage_is_a_load_failure) {
  const cs_check_t *c;
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-garbage.ini", "root.pem"), cs_test_path("garbage.bin")), ==,
            0);
  CHECK_INT(a.reply.report.n_checks, ==, 1);
  c = cs_report_find(&a.reply.report, CS_CHECK_LOAD);
  CHECK(c != NULL && !c->ok);
  CHECK_STR(a.reply.report.file, cs_test_path("garbage.bin"));
  CHECK_STR(a.reply.format, "");
  CHECK(a.reply.error == NULL);
  answer_free(&a);
}

CS_TEST(validate_with_current_checks_renewal) {
  const cs_check_t *c;
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-cur.ini", "root.pem"), "--current",
                cs_test_path("current-ok.pem"), cs_test_path("good-enc.pem")),
            ==, 0);
  CHECK(cs_report_accepted(&a.reply.report));
  c = cs_report_find(&a.reply.report, CS_CHECK_EXPIRES_LATER);
  CHECK(c != NULL && c->ok);
  answer_free(&a);
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-cur.ini", "root.pem"), "--current",
                cs_test_path("current-more-names.pem"), cs_test_path("good-bundle.pem")),
            ==, 0);
  c = cs_report_find(&a.reply.report, CS_CHECK_NAMES_KEPT);
  CHECK(c != NULL && !c->ok);
  answer_free(&a);
}

/* Could not do what was asked: an error line, exit status 1, still a whole answer. */
CS_TEST(validate_unusable_setup_is_an_error) {
  answer_t a;
  CHECK_INT(ASK(&a, "validate", "--config", cs_test_path("no-such.ini"), cs_test_path("good-bundle.pem")), ==, 1);
  CHECK(a.reply.error != NULL);
  CHECK_INT(a.reply.report.n_checks, ==, 0);
  answer_free(&a);
  CHECK_INT(ASK(&a, "validate", "--config", config("worker-nokey.ini", "root.pem"), "--key",
                cs_test_path("no-such.key"), cs_test_path("good-leaf.der")),
            ==, 1);
  CHECK_CONTAINS(a.reply.error, "key in service");
  answer_free(&a);
}

CS_TEST(usage_errors) {
  answer_t a;
  CHECK_INT(ASK(&a, "frobnicate"), ==, 2);
  CHECK_CONTAINS(a.reply.error, "usage");
  answer_free(&a);
  CHECK_INT(ASK(&a, "validate", "--bogus", "x", cs_test_path("good-bundle.pem")), ==, 2);
  CHECK(a.reply.error != NULL);
  answer_free(&a);
  CHECK_INT(ASK(&a, "validate", cs_test_path("good-bundle.pem"), cs_test_path("good-aes.pfx")), ==, 2);
  answer_free(&a);
  CHECK_INT(ASK(&a, "probe", "127.0.0.1:1"), ==, 2); /* no --sni */
  answer_free(&a);
  CHECK_INT(ASK(&a, "probe", "--timeout", "0", "--sni", HOST, "127.0.0.1:1"), ==, 2);
  answer_free(&a);
}

CS_TEST(version_answers) {
  answer_t a;
  CHECK_INT(ASK(&a, "version"), ==, 0);
  CHECK_CONTAINS(a.proc.out, "\nversion ");
  answer_free(&a);
}

CS_TEST(scan_describes_certificate_files) {
  answer_t a;
  CHECK_INT(ASK(&a, "scan", cs_test_path("good-bundle.pem")), ==, 0);
  CHECK_INT(strlen(a.reply.report.thumbprint), ==, 40);
  CHECK_CONTAINS(a.reply.report.subject, "CN=" HOST);
  CHECK_INT(strlen(a.reply.report.not_after), ==, 20);
  CHECK(a.reply.not_after_epoch > (long long)time(NULL));
  CHECK(a.reply.error == NULL);
  answer_free(&a);
  /* a PFX needs a password, which a scan never has: an error for that file only */
  CHECK_INT(ASK(&a, "scan", cs_test_path("good-aes.pfx")), ==, 0);
  CHECK_STR(a.reply.report.thumbprint, "");
  CHECK_CONTAINS(a.reply.error, "good-aes.pfx");
  answer_free(&a);
  CHECK_INT(ASK(&a, "scan", "--max-size", "100", cs_test_path("good-bundle.pem")), ==, 0);
  CHECK(a.reply.error != NULL);
  answer_free(&a);
}

/* Several files in one scan: one record each, in order (cs_reply_t holds one, so
 * this answer is read as text). */
CS_TEST(scan_several_files_in_order) {
  cs_proc_result_t r;
  const char *argv[] = {
      worker(), "scan", cs_test_path("good-leaf.der"), cs_test_path("garbage.bin"), cs_test_path("current-ok.pem"),
      NULL};
  const char *a, *b, *c;
  CHECK_INT(cs_proc_run(argv, &r), ==, 0);
  CHECK_INT(r.status, ==, 0);
  CHECK_INT(count(r.out, "\nfile "), ==, 3);
  CHECK_INT(count(r.out, "\nthumbprint "), ==, 2);
  CHECK_INT(count(r.out, "\nerror "), ==, 1);
  a = strstr(r.out, "good-leaf.der");
  b = strstr(r.out, "\nerror ");
  c = strstr(r.out, "current-ok.pem");
  CHECK(a != NULL && b != NULL && c != NULL && a < b && b < c);
  CHECK(r.out_len > 4 && strcmp(r.out + r.out_len - 4, "end\n") == 0);
  cs_proc_result_free(&r);
}

/* ---- probe ------------------------------------------------------------------ */

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A listening socket on 127.0.0.1 (port in *port) that never accepts; -1 on failure. */
static int listen_silent(int *port) {
  struct sockaddr_in sa;
  socklen_t len = sizeof sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    if (fd >= 0)
      close(fd);
    return -1;
  }
  *port = ntohs(sa.sin_port);
  return fd;
}

/* A port on 127.0.0.1 that nothing listens on (just freed by the kernel). */
static int free_port(void) {
  int port = -1, fd = listen_silent(&port);
  if (fd >= 0)
    close(fd);
  return port;
}

static int can_connect(int port) {
  struct sockaddr_in sa;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = htons((unsigned short)port);
  ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  if (fd >= 0)
    close(fd);
  return ok;
}

/* Starts openssl s_server with the good leaf on 127.0.0.1:port; its pid, or -1. */
static pid_t start_tls_server(int port) {
  posix_spawn_file_actions_t fa;
  char accept[64];
  const char *argv[] = {OPENSSL_BIN, "s_server", "-accept",  accept, "-cert",  NULL,
                        "-key",      NULL,       "-naccept", "20",   "-quiet", NULL};
  union {
    const char *const *c;
    char *const *m;
  } u;
  long long until;
  pid_t pid;
  int st;
  char cert[4096], key[4096];

  if (access(OPENSSL_BIN, X_OK) != 0) {
    cs_test_fail(__FILE__, __LINE__, "%s is needed for the probe tests", OPENSSL_BIN);
    return -1;
  }
  snprintf(accept, sizeof accept, "127.0.0.1:%d", port);
  snprintf(cert, sizeof cert, "%s", cs_test_path("good-bundle.pem"));
  snprintf(key, sizeof key, "%s", cs_test_path("leaf.key"));
  argv[5] = cert;
  argv[7] = key;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  u.c = argv;
  st = posix_spawn(&pid, argv[0], &fa, NULL, u.m, environ);
  posix_spawn_file_actions_destroy(&fa);
  if (st != 0)
    return -1;
  /* up once it accepts a connection; bounded to 5 s */
  for (until = now_ms() + 5000; now_ms() < until; usleep(50 * 1000)) {
    if (waitpid(pid, &st, WNOHANG) == pid)
      return -1; /* it died (port taken meanwhile?) */
    if (can_connect(port))
      return pid;
  }
  kill(pid, SIGTERM);
  waitpid(pid, &st, 0);
  return -1;
}

static void stop_server(pid_t pid) {
  int st;
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    ;
}

CS_TEST(probe_reads_served_certificate) {
  char endpoint[64];
  X509 *good = read_first_cert(cs_test_path("good-bundle.pem"));
  const char *want = thumbprint_of(good);
  char expected[41];
  pid_t server = -1;
  answer_t a;
  int port = -1, tries;

  snprintf(expected, sizeof expected, "%s", want);
  for (tries = 0; tries < 3 && server < 0; tries++) /* the free port may be taken meanwhile */
    if ((port = free_port()) > 0)
      server = start_tls_server(port);
  CHECK(server > 0);
  if (server > 0) {
    snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
    CHECK_INT(ASK(&a, "probe", "--timeout", "5000", "--sni", HOST, endpoint), ==, 0);
    CHECK_INT(strlen(expected), ==, 40);
    CHECK_STR(a.reply.served, expected);
    CHECK_CONTAINS(a.reply.served_subject, "CN=" HOST);
    CHECK(a.reply.error == NULL);
    answer_free(&a);
  }
  stop_server(server);
  X509_free(good);
}

CS_TEST(probe_closed_port_fails_fast) {
  char endpoint[64];
  long long t0;
  answer_t a;
  int port = free_port();
  CHECK(port > 0);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  t0 = now_ms();
  CHECK_INT(ASK(&a, "probe", "--timeout", "10000", "--sni", HOST, endpoint), ==, 0);
  CHECK(now_ms() - t0 < 3000);
  CHECK_STR(a.reply.served, "");
  CHECK_CONTAINS(a.reply.error, endpoint);
  CHECK_CONTAINS(a.reply.error, "refused");
  answer_free(&a);
}

/* A port that takes the connection but never speaks TLS: the timeout ends it. */
CS_TEST(probe_silent_server_times_out) {
  char endpoint[64];
  long long t0, took;
  answer_t a;
  int port = -1, fd = listen_silent(&port);
  CHECK(fd >= 0);
  snprintf(endpoint, sizeof endpoint, "127.0.0.1:%d", port);
  t0 = now_ms();
  CHECK_INT(ASK(&a, "probe", "--timeout", "1000", "--sni", HOST, endpoint), ==, 0);
  took = now_ms() - t0;
  CHECK(took >= 900); /* it did wait: not an instant failure */
  CHECK(took < 2500); /* and no longer than the timeout allows (see probe.h), with start-up slack */
  CHECK_STR(a.reply.served, "");
  CHECK_CONTAINS(a.reply.error, "within 1 s");
  answer_free(&a);
  if (fd >= 0)
    close(fd);
}

CS_TEST(probe_bad_endpoint) {
  answer_t a;
  CHECK_INT(ASK(&a, "probe", "--sni", HOST, "no-port"), ==, 0);
  CHECK_CONTAINS(a.reply.error, "no-port: ");
  answer_free(&a);
}
