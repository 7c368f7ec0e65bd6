/* The TLS probe: which certificate does an endpoint serve right now? The proof
 * that a renewal took (or that a rollback restored the old one). Part of the
 * OpenSSL half of the core: the worker runs it, never the daemon. */
#ifndef CS_PROBE_H
#define CS_PROBE_H

#include "error.h"

/* Connects to endpoint ("host:port" or "[v6]:port"), makes a TLS handshake with
 * sni as the server name (NULL or "": none), without verifying anything (only
 * the served certificate matters), and gives the served leaf's SHA-1 thumbprint
 * (40 upper-case hex) and its subject (RFC 2253, the report's form; new string,
 * the caller frees it with free()). Call cs_crypto_init first.
 * The whole probe (connect and handshake; not the name lookup, which has no
 * portable timeout) is bounded by timeout_ms in whole seconds, rounded up:
 * OpenSSL's portable socket wait (BIO_socket_wait) and C11's clock count seconds.
 * A silent peer is given up on at the timeout; one that answers part of the way
 * may be given up on up to a second early or late.
 * Errors: CS_EINVAL (endpoint malformed), CS_EIO (name lookup failed, connection
 * refused or reset, handshake failed), CS_ETIMEDOUT, CS_EFORMAT (no certificate
 * served), CS_ENOMEM; err says what happened, without repeating the endpoint
 * (the caller names it). */
/* How err's text starts when the endpoint does not listen or does not speak TLS
 * (cs_connector_not_tls tells these from a probe that saw another certificate). */
#define CS_PROBE_NO_CONNECTION "cannot connect"
#define CS_PROBE_CONNECT_TIMEOUT "no connection within"
#define CS_PROBE_NO_TLS "TLS handshake failed"
#define CS_PROBE_TLS_TIMEOUT "no TLS handshake within"

int cs_probe(const char *endpoint, const char *sni, int timeout_ms, char thumbprint[41], char **subject, cs_err_t *err);

#endif
