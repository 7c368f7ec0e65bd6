/* A stand-in for certsteward-worker (service/worker.c) in the in-process tests of the
 * renewal transaction (tests/unit/test_renewal.c): it answers the worker's protocol
 * (common/reply.h) as the real one does, without OpenSSL and without a TLS server.
 *
 * A "certificate" here is any file whose first line is "thumbprint <40 hex>"; a line
 * "reject" in it makes validation fail one check. What an endpoint "serves" is the
 * certificate in the file named by CS_STANDIN_SERVED (the test's restart command and
 * systemctl stand-in copy the store's certificate file there when they "start" the
 * connector, and remove it when they stop it), so a probe proves which certificate
 * the last start put in service.
 *
 *   validate [--config F] [--current F] [--key F] [--stage DIR] [--sni S --timeout MS] -- FILE [ENDPOINT...]
 *   probe --timeout MS --sni S --confirm N ENDPOINT
 *   scan [--] FILE...
 *
 * Staged files: cert.pem (the file's bytes), chain.pem, key.pem, bundle.pem, leaf.der,
 * each naming the thumbprint, as the store installs them (common/posix/store.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "reply.h"
#include "report.h"

/* The thumbprint on the first line of path into tp; 0, or -1 when it has none. */
static int thumbprint_of(const char *path, char tp[41], int *reject) {
  char line[256];
  FILE *f = path != NULL ? cs_plat_fopen(path, "rb") : NULL;
  int ok = 0;
  size_t n;
  if (reject != NULL)
    *reject = 0;
  if (f == NULL)
    return -1;
  if (fgets(line, sizeof line, f) != NULL && strncmp(line, "thumbprint ", 11) == 0) {
    n = strcspn(line + 11, "\r\n");
    if (n == 40) {
      memcpy(tp, line + 11, 40);
      tp[40] = '\0';
      ok = 1;
    }
  }
  while (reject != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "reject", 6) == 0)
      *reject = 1;
  fclose(f);
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
 * runs (the file is not there). */
static int served(char tp[41]) { return thumbprint_of(getenv("CS_STANDIN_SERVED"), tp, NULL); }

static int stage(const char *dir, const char *file, const char *tp, cs_err_t *err) {
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
  if (thumbprint_of(argv[i], tp, &reject) != 0) {
    cs_reply_put(out, "check", CS_CHECK_LOAD " failed not a stand-in certificate");
    return 0;
  }
  describe(out, tp);
  cs_reply_put(out, "key", "yes");
  cs_reply_put(out, "check", CS_CHECK_LOAD " ok read by the stand-in");
  cs_reply_put(out, "check", reject ? CS_CHECK_CHAIN " failed the file says reject" : CS_CHECK_CHAIN " ok");
  if (reject)
    return 0;
  if (stage_dir != NULL) {
    if (stage(stage_dir, argv[i], tp, &err) != CS_OK)
      return cs_reply_put(out, "error", err.text), 0;
    cs_reply_put(out, "staged", stage_dir);
  }
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
  if (cs_buf_str(&out) != NULL)
    fwrite(out.p, 1, out.len, stdout);
  cs_buf_free(&out);
  return rc;
}
