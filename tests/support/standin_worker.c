/* A stand-in for certsteward-worker (service/worker.c) in the in-process tests of the
 * renewal transaction (tests/unit/test_renewal.c): it answers the worker's protocol
 * (common/reply.h) as the real one does, without a TLS server and without judging a
 * certificate.
 *
 * POSIX: a "certificate" is any file whose first line is "thumbprint <40 hex>"; no
 * OpenSSL. Windows: a real certificate file with its key (the test PKI's), since the
 * store is the real LocalMachine\My: it is staged as the worker stages it there
 * (leaf.der, chain.pem and cs_pfx_stage's PKCS#12). Either way a line "reject" in the
 * file makes validation fail one check.
 *
 * What an endpoint "serves" is the thumbprint named in the file CS_STANDIN_SERVED (the
 * first 40 hex digits after the word thumbprint, as in "thumbprint <tp>" or in a
 * tls.json's "thumbprint": "<tp>"): the test's restart command and systemctl stand-in
 * copy the store's certificate file, or the binding file the connector reads, there
 * when they "start" the connector, and remove it when they stop it; so a probe proves
 * which certificate the last start put in service. With CS_STANDIN_RUNNING set, nothing
 * is served unless the file it names exists (a test service's "running" file).
 *
 *   validate [--config F] [--current F] [--key F] [--stage DIR] [--sni S --timeout MS] -- FILE [ENDPOINT...]
 *   probe --timeout MS --sni S --confirm N ENDPOINT
 *   scan [--] FILE...
 *
 * POSIX staged files: cert.pem (the file's bytes), chain.pem, key.pem, bundle.pem,
 * leaf.der, as the store installs them (common/posix/store.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#include <fcntl.h>
#include <io.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "load.h"
#include "pfx.h"
#include "policy.h"
#endif

#include "platform.h"
#include "reply.h"
#include "report.h"

/* The first 40 hex digits after the word "thumbprint" in path, upper-case, into tp;
 * 0, or -1 when there are none. *reject (may be NULL): a line "reject" is there. */
static int thumbprint_of(const char *path, char tp[41], int *reject) {
  static const char hex[] = "0123456789abcdefABCDEF";
  unsigned char *data = NULL;
  size_t len = 0, n;
  const char *p;
  char *text;
  int ok = 0;
  if (reject != NULL)
    *reject = 0;
  if (path == NULL || cs_plat_read_file(path, 1u << 20, 0, &data, &len, NULL) != CS_OK)
    return -1;
  if ((text = malloc(len + 1)) != NULL) {
    memcpy(text, data, len);
    text[len] = '\0';
    if ((p = strstr(text, "thumbprint")) != NULL) {
      p += strcspn(p + 10, hex) + 10;
      if ((n = strspn(p, hex)) == 40) {
        for (n = 0; n < 40; n++)
          tp[n] = p[n] >= 'a' && p[n] <= 'f' ? (char)(p[n] - 'a' + 'A') : p[n];
        tp[40] = '\0';
        ok = 1;
      }
    }
    if (reject != NULL)
      *reject = strncmp(text, "reject", 6) == 0 || strstr(text, "\nreject") != NULL;
    free(text);
  }
  cs_plat_free_file(data, len);
  return ok ? 0 : -1;
}

static void describe(cs_buf_t *out, const char *tp) {
  cs_reply_put(out, "format", "PEM");
  cs_reply_put(out, "thumbprint", tp);
  cs_reply_put(out, "subject", "CN=standin.test");
  cs_reply_put(out, "not_after", "2099-01-01T00:00:00Z");
  cs_reply_put(out, "not_after_epoch", "4070908800");
}

/* What an endpoint serves now: the thumbprint of CS_STANDIN_SERVED; -1 when nothing
 * runs (that file is not there, or the file CS_STANDIN_RUNNING names, when set: a
 * service that says so while it runs). */
static int served(char tp[41]) {
  const char *running = getenv("CS_STANDIN_RUNNING");
  if (running != NULL && *running != '\0' && !cs_plat_exists(running))
    return -1;
  return thumbprint_of(getenv("CS_STANDIN_SERVED"), tp, NULL);
}

#ifdef _WIN32
/* The certificate of file (a test PKI file with its key): its thumbprint, and staged
 * into dir as the worker stages it on Windows. */
static int certificate_of(const char *file, const char *dir, char tp[41], cs_err_t *err) {
  static const char *const names[] = {"leaf.der", "chain.pem"};
  cs_bundle_t b;
  unsigned char *der = NULL;
  BIO *pem = NULL;
  char *text, path[4096];
  long len;
  int rc, n, i;
  memset(&b, 0, sizeof b);
  if ((rc = cs_crypto_init(err)) != CS_OK || (rc = cs_load_file(file, 1u << 20, 0, NULL, &b, err)) != CS_OK)
    return rc;
  if (b.leaf == NULL || cs_x509_thumbprint(b.leaf, tp) != CS_OK) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "no certificate in %s", file);
    goto out;
  }
  if (dir == NULL)
    goto out;
  if ((n = i2d_X509(b.leaf, &der)) <= 0 || (pem = BIO_new(BIO_s_mem())) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  for (i = 0; i < sk_X509_num(b.chain); i++)
    (void)PEM_write_bio_X509(pem, sk_X509_value(b.chain, i));
  len = BIO_get_mem_data(pem, &text);
  if ((rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)
    goto out;
  for (i = 0; i < 2 && rc == CS_OK; i++)
    rc = cs_plat_path_join(path, sizeof path, dir, names[i]) != 0
             ? cs_err_set(err, CS_ETOOBIG, 0, "stage path too long")
             : cs_plat_write_atomic(path, i == 0 ? (const void *)der : (const void *)text,
                                    i == 0 ? (size_t)n : (size_t)(len > 0 ? len : 0), 0600, err);
  if (rc == CS_OK)
    rc = cs_pfx_stage(dir, "default", b.leaf, b.key, b.chain, NULL, err);
out:
  OPENSSL_free(der);
  BIO_free(pem);
  cs_bundle_free(&b);
  return rc;
}
#else
static int stage_files(const char *dir, const char *file, const char *tp, cs_err_t *err) {
  static const char *const names[] = {"cert.pem", "chain.pem", "key.pem", "bundle.pem", "leaf.der"};
  unsigned char *data = NULL;
  size_t len = 0, i;
  char path[4096], text[256];
  int rc;
  if ((rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)
    return rc;
  for (i = 0; i < sizeof names / sizeof names[0] && rc == CS_OK; i++) {
    if (cs_plat_path_join(path, sizeof path, dir, names[i]) != 0)
      return cs_err_set(err, CS_ETOOBIG, 0, "stage path too long");
    if (i == 0) {
      if ((rc = cs_plat_read_file(file, 1u << 20, 0, &data, &len, err)) == CS_OK)
        rc = cs_plat_write_atomic(path, data, len, 0644, err);
      cs_plat_free_file(data, len);
      continue;
    }
    snprintf(text, sizeof text, "%s of %s\n", names[i], tp);
    rc = cs_plat_write_atomic(path, text, strlen(text), i == 2 || i == 3 ? 0600 : 0644, err);
  }
  return rc;
}

/* The stand-in certificate of file: its thumbprint, and staged into dir (NULL: not). */
static int certificate_of(const char *file, const char *dir, char tp[41], cs_err_t *err) {
  if (thumbprint_of(file, tp, NULL) != 0)
    return cs_err_set(err, CS_EFORMAT, 0, "not a stand-in certificate");
  return dir != NULL ? stage_files(dir, file, tp, err) : CS_OK;
}
#endif

static int cmd_validate(int argc, char **argv, cs_buf_t *out) {
  const char *stage_dir = NULL, *sni = NULL;
  char tp[41], now[41];
  cs_buf_t line = CS_BUF_INIT;
  cs_err_t err;
  int i = 2, reject = 0;
  for (; i < argc && strcmp(argv[i], "--") != 0; i += 2) {
    if (i + 1 >= argc)
      return cs_reply_put(out, "error", "an option without its value"), 0;
    if (strcmp(argv[i], "--stage") == 0)
      stage_dir = argv[i + 1];
    else if (strcmp(argv[i], "--sni") == 0)
      sni = argv[i + 1];
  }
  if (++i >= argc)
    return cs_reply_put(out, "error", "validate: no file"), 0;
  cs_reply_put(out, "file", argv[i]);
  (void)thumbprint_of(argv[i], tp, &reject);
  if (certificate_of(argv[i], reject ? NULL : stage_dir, tp, &err) != CS_OK) {
    cs_buf_printf(&line, "%s %s", CS_CHECK_LOAD " failed", err.text);
    cs_reply_put(out, "check", cs_buf_str(&line));
    cs_buf_free(&line);
    return 0;
  }
  describe(out, tp);
  cs_reply_put(out, "key", "yes");
  cs_reply_put(out, "check", CS_CHECK_LOAD " ok read by the stand-in");
  cs_reply_put(out, "check", reject ? CS_CHECK_CHAIN " failed the file says reject" : CS_CHECK_CHAIN " ok");
  if (reject)
    return 0;
  if (stage_dir != NULL)
    cs_reply_put(out, "staged", stage_dir);
  for (i++; sni != NULL && i < argc; i++) {
    cs_buf_free(&line);
    cs_buf_printf(&line, "%s %s", served(now) == 0 ? now : "-", argv[i]);
    cs_reply_put(out, "preflight", cs_buf_str(&line));
  }
  cs_buf_free(&line);
  return 0;
}

static int cmd_probe(int argc, char **argv, cs_buf_t *out) {
  char tp[41];
  cs_buf_t line = CS_BUF_INIT;
  if (argc < 3)
    return cs_reply_put(out, "error", "probe: no endpoint"), 0;
  if (served(tp) == 0)
    cs_buf_printf(&line, "%s CN=standin.test", tp);
  else
    cs_buf_printf(&line, "%s: connection refused (the stand-in connector does not run)", argv[argc - 1]);
  cs_reply_put(out, served(tp) == 0 ? "served" : "error", cs_buf_str(&line));
  cs_buf_free(&line);
  return 0;
}

static int cmd_scan(int argc, char **argv, cs_buf_t *out) {
  char tp[41], why[512];
  int i = 2;
  if (i < argc && strcmp(argv[i], "--") == 0)
    i++;
  for (; i < argc; i++) {
    cs_reply_put(out, "file", argv[i]);
    if (thumbprint_of(argv[i], tp, NULL) == 0) {
      describe(out, tp);
    } else {
      snprintf(why, sizeof why, "%s: not a stand-in certificate", argv[i]);
      cs_reply_put(out, "error", why);
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  cs_buf_t out = CS_BUF_INIT;
  int rc = 1;
  cs_buf_puts(&out, CS_REPLY_MAGIC "\n");
  if (argc >= 2 && strcmp(argv[1], "validate") == 0)
    rc = cmd_validate(argc, argv, &out);
  else if (argc >= 2 && strcmp(argv[1], "probe") == 0)
    rc = cmd_probe(argc, argv, &out);
  else if (argc >= 2 && strcmp(argv[1], "scan") == 0)
    rc = cmd_scan(argc, argv, &out);
  else
    cs_reply_put(&out, "error", "the stand-in worker knows validate, probe and scan");
  cs_buf_puts(&out, "end\n");
#ifdef _WIN32
  (void)_setmode(_fileno(stdout), _O_BINARY); /* the lines end in \n, as the real worker's */
#endif
  if (cs_buf_str(&out) != NULL)
    fwrite(out.p, 1, out.len, stdout);
  cs_buf_free(&out);
  return rc;
}
