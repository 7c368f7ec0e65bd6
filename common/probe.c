/* The TLS probe over OpenSSL's own socket layer (BIO_s_connect): it resolves,
 * connects and initialises Winsock on Windows, so this file needs no socket
 * header and no #ifdef. The connect BIO runs non-blocking and is only driven
 * once its socket is ready (BIO_socket_wait): BIO_do_connect_retry would retry a
 * refused connection until the timeout, and some OpenSSL releases spin on a
 * pending non-blocking connect when asked too early. */
#include "probe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "platform.h"
#include "policy.h"
#include "validate.h"

/* The most telling reason in OpenSSL's error queue, then an empty queue: the
 * system error (such as "Connection refused"), raised before the BIO's generic
 * one, else the last error; with the text OpenSSL attached (the resolver's
 * message for a failed lookup, the connect call). */
static const char *queue_reason(char *buf, size_t len) {
  unsigned long e, pick = 0;
  const char *data = NULL, *d, *r;
  char text[256];
  int flags, i;
  while ((e = ERR_get_error_all(NULL, NULL, NULL, &d, &flags)) != 0) {
    if (pick == 0 || !ERR_SYSTEM_ERROR(pick)) {
      pick = e;
      data = (flags & ERR_TXT_STRING) && d != NULL && d[0] != '\0' ? d : NULL;
    }
  }
  if (pick == 0) {
    snprintf(buf, len, "no detail");
    return buf;
  }
  /* ERR_reason_error_string knows no system errors; ERR_error_string_n does:
   * "error:<code>:<library>:<function>:<reason>", the reason last. */
  ERR_error_string_n(pick, text, sizeof text);
  for (r = text, i = 0; i < 4 && r != NULL; i++)
    if ((r = strchr(r, ':')) != NULL)
      r++;
  if (r == NULL || *r == '\0')
    r = text;
  if (data != NULL && strcmp(r, "system lib") == 0) { /* a failed lookup: the resolver's text says it all */
    r = data;
    data = NULL;
  }
  /* the reason, then " (data)", each cut to what fits */
  snprintf(buf, len, "%s", r);
  if (data != NULL && strlen(buf) + 4 < len) {
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, " (%.*s)", (int)(len - used - 4), data);
  }
  return buf;
}

/* host:port with a numeric port, or [v6]:port; a bare IPv6 address is ambiguous. */
static int endpoint_ok(const char *ep) {
  const char *colon, *p;
  long port = 0;
  if (ep[0] == '[') {
    colon = strchr(ep, ']');
    if (colon == NULL || colon == ep + 1 || colon[1] != ':')
      return 0;
    colon++;
  } else {
    colon = strchr(ep, ':');
    if (colon == NULL || colon == ep || strchr(colon + 1, ':') != NULL)
      return 0;
  }
  if (colon[1] == '\0')
    return 0;
  for (p = colon + 1; *p; p++) {
    if (*p < '0' || *p > '9' || port > 65535)
      return 0;
    port = port * 10 + (*p - '0');
  }
  return port >= 1 && port <= 65535;
}

/* Waits at most a second for the socket: 1 ready, 0 not yet, -1 the wait failed.
 * Callers loop until their deadline (cs_plat_monotonic_ms, which a change of the wall
 * clock does not move; BIO_socket_wait's own limit is in wall-clock seconds, one at
 * most here). */
static int wait_ready(BIO *bio, int for_read) {
  int fd = -1, r;
  if (BIO_get_fd(bio, &fd) < 0 || fd < 0)
    return -1;
  r = BIO_socket_wait(fd, for_read, time(NULL) + 1);
  return r > 0 ? 1 : r;
}

static int connect_bio(BIO *bio, long long deadline, int secs, cs_err_t *err) {
  char why[256];
  int w;
  for (;;) {
    if (BIO_do_connect(bio) > 0)
      return CS_OK;
    if (!BIO_should_retry(bio))
      return cs_err_set(err, CS_EIO, (long)ERR_peek_last_error(), CS_PROBE_NO_CONNECTION ": %s",
                        queue_reason(why, sizeof why));
    do {
      if (cs_plat_monotonic_ms() >= deadline)
        return cs_err_set(err, CS_ETIMEDOUT, 0, CS_PROBE_CONNECT_TIMEOUT " %d s", secs);
      w = wait_ready(bio, 0);
    } while (w == 0);
    if (w < 0)
      return cs_err_set(err, CS_EIO, 0, CS_PROBE_NO_CONNECTION ": waiting on the socket failed");
  }
}

static int handshake(SSL *ssl, BIO *bio, long long deadline, int secs, cs_err_t *err) {
  char why[256];
  int r, e, w;
  for (;;) {
    r = SSL_do_handshake(ssl);
    if (r == 1)
      return CS_OK;
    e = SSL_get_error(ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
        return cs_err_set(err, CS_EIO, 0, CS_PROBE_NO_TLS ": the server closed the connection");
      return cs_err_set(err, CS_EIO, (long)ERR_peek_last_error(), CS_PROBE_NO_TLS ": %s",
                        queue_reason(why, sizeof why));
    }
    do {
      if (cs_plat_monotonic_ms() >= deadline)
        return cs_err_set(err, CS_ETIMEDOUT, 0, CS_PROBE_TLS_TIMEOUT " %d s", secs);
      w = wait_ready(bio, e == SSL_ERROR_WANT_READ);
    } while (w == 0);
    if (w < 0)
      return cs_err_set(err, CS_EIO, 0, CS_PROBE_NO_TLS ": waiting on the socket failed");
  }
}

/* OpenSSL could not make an object: nearly always memory. */
static int ossl_failed(cs_err_t *err) {
  return cs_err_set(err, CS_ENOMEM, (long)ERR_peek_last_error(), "out of memory (or OpenSSL failed)");
}

int cs_probe(const char *endpoint, const char *sni, int timeout_ms, char thumbprint[41], char **subject,
             cs_err_t *err) {
  SSL_CTX *ctx = NULL;
  SSL *ssl = NULL;
  BIO *bio = NULL;
  X509 *peer = NULL;
  char not_after[21], ep_copy[300], sni_copy[300];
  long long epoch, deadline;
  int rc, secs;

  thumbprint[0] = '\0';
  *subject = NULL;
  ERR_clear_error();
  if (endpoint == NULL || !endpoint_ok(endpoint)) {
    rc = cs_err_set(err, CS_EINVAL, 0, "not host:port or [IPv6]:port");
    goto out;
  }
  if (timeout_ms < 1) {
    rc = cs_err_set(err, CS_EINVAL, 0, "probe timeout must be positive");
    goto out;
  }
  secs = (int)(((long)timeout_ms + 999) / 1000);
  deadline = cs_plat_monotonic_ms() + (long long)secs * 1000;

  ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == NULL) {
    rc = ossl_failed(err);
    goto out;
  }
  /* We read what is served, whatever it is: an expired, self-signed or weak
   * certificate must still be reported, not refused. */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  SSL_CTX_set_security_level(ctx, 0);
  bio = BIO_new(BIO_s_connect());
  /* "[v6]:port" and "host:port" are both understood by BIO_parse_hostserv. OpenSSL's
   * macros take a char *: hand them copies rather than cast const away. */
  if (snprintf(ep_copy, sizeof ep_copy, "%s", endpoint) >= (int)sizeof ep_copy ||
      snprintf(sni_copy, sizeof sni_copy, "%s", sni != NULL ? sni : "") >= (int)sizeof sni_copy) {
    rc = cs_err_set(err, CS_EINVAL, 0, "endpoint or server name too long");
    goto out;
  }
  if (bio == NULL || BIO_set_conn_hostname(bio, ep_copy) != 1 || BIO_set_nbio(bio, 1) != 1) {
    rc = ossl_failed(err);
    goto out;
  }
  if ((rc = connect_bio(bio, deadline, secs, err)) != CS_OK)
    goto out;

  ssl = SSL_new(ctx);
  if (ssl == NULL) {
    rc = ossl_failed(err);
    goto out;
  }
  if (sni_copy[0] != '\0' && SSL_set_tlsext_host_name(ssl, sni_copy) != 1) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s cannot be sent as a TLS server name", sni);
    goto out;
  }
  SSL_set_bio(ssl, bio, bio); /* the SSL owns the BIO from here */
  SSL_set_connect_state(ssl);
  if ((rc = handshake(ssl, bio, deadline, secs, err)) != CS_OK) {
    bio = NULL;
    goto out;
  }
  bio = NULL;

  peer = SSL_get1_peer_certificate(ssl);
  if (peer == NULL) {
    rc = cs_err_set(err, CS_EFORMAT, 0, "no certificate was served");
    goto out;
  }
  rc = cs_x509_describe(peer, thumbprint, subject, not_after, &epoch);
  if (rc != CS_OK) {
    rc = cs_err_set(err, rc, 0, "cannot read the certificate served");
    goto out;
  }
  /* A polite close_notify; the answer does not depend on it. */
  (void)SSL_shutdown(ssl);
out:
  if (rc != CS_OK) {
    thumbprint[0] = '\0';
    free(*subject);
    *subject = NULL;
  }
  ERR_clear_error();
  X509_free(peer);
  SSL_free(ssl);
  BIO_free(bio);
  SSL_CTX_free(ctx);
  return rc;
}
