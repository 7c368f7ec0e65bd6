/* certsteward's configuration: one INI file (conf/certsteward.ini documents every
 * key), parsed with inih. Built-in defaults follow the platform the program runs on.
 * Relative paths in the file are taken relative to the folder holding the file. */
#ifndef CS_CONFIG_H
#define CS_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "error.h"

/* A list value: comma-separated in the file. */
typedef struct cs_strlist_s {
  char **v;
  size_t n;
} cs_strlist_t;

typedef struct cs_config_s {
  char *path; /* file the values were read from; NULL = built-in defaults only */
  struct {
    char *host;                 /* DNS name the certificate must carry; NULL = this machine's FQDN */
    char *service;              /* service to restart (systemd unit / Windows service name) */
    char *account;              /* gets READ on the private key; NULL = no such step (Windows: the
                                 * account the service runs as, see cs_connector_resolve) */
    char *thumbprint;           /* certificate in service; NULL = found from bindings / cert_file */
    cs_strlist_t endpoints;     /* host:port the connector serves TLS on, probed after a restart */
    int endpoints_default;      /* 1: not configured but taken from the connector's settings or the
                                 * documented defaults (cs_connector_resolve): one that does not
                                 * listen or speak TLS is skipped with a warning, not refused */
    cs_strlist_t binding_files; /* files naming the thumbprint in service */
    char *restart_command;      /* replaces the platform's restart; NULL = none */
    char *status_command;       /* polled until it exits 0 after a restart; NULL = none */
    int restart_timeout;        /* seconds for restart + probe */
    char *maintenance_window;   /* NULL = any time; see window.h */
  } connector;
  struct {
    char *state_dir; /* journal, archive, quarantine, events, metrics */
    char *cert_file; /* POSIX store: leaf + chain */
    char *key_file;
    char *chain_file;       /* chain only; NULL = none */
    char *bundle_file;      /* leaf + chain + key; NULL = none */
    char *old_certificates; /* "keep" or "delete" (after COMMIT) */
    char *key_provider;     /* Windows: "default", "cng" or "capi" (where an imported key goes) */
    char *monitor;          /* folder of PEM/DER files listed with their expiry; NULL = none */
    bool adopt;             /* a renewed certificate found where an admin's tool left it is put
                             * in service (Windows: LocalMachine\My; POSIX: adopt_from) */
    char *adopt_from;       /* POSIX: folder an ACME client renews into (certbot's live/NAME);
                             * NULL = none */
  } store;
  struct {
    char *folder;           /* drop folder */
    char *password_file;    /* first line = PFX / key password; NULL = none */
    uint64_t max_file_size; /* bytes; larger dropped files are refused before parsing */
    int settle_seconds;     /* a file is taken once unchanged this long */
    int rescan_interval;    /* seconds between full scans besides change events */
    bool keep_processed;    /* keep committed drops under state_dir/processed */
    int quarantine_days;    /* quarantine entries older than this are removed */
  } watch;
  struct {
    int check_interval;     /* seconds between expiry checks */
    cs_strlist_t warn_days; /* thresholds, in days */
  } expiry;
  struct {
    char *ca_file;      /* PEM trust anchors; NULL = the system's default store */
    int min_valid_days; /* a new certificate must stay valid at least this long */
    int min_rsa_bits;
    bool allow_sha1; /* accept SHA-1 signatures on leaf and intermediates */
    bool require_cn; /* the subject CN must match the host too */
  } policy;
  struct {
    int renew_days;       /* a new key and request this many days before the certificate in
                           * service expires; 0 = never (request.h) */
    char *key;            /* "rsa2048", "rsa3072" or "ec-p256" */
    char *route;          /* "command" or "adcs"; NULL = manual (the request waits in the outbox) */
    char *submit_command; /* route = command: a certmonger CA helper's command line */
    char *ca_config;      /* AD CS: "host\CA Name" or an enrollment web service URL */
    char *template_name;  /* AD CS template, also handed to the command; NULL = none */
    int give_up_days;     /* a request not issued by then is given up, its key deleted */
  } request;
  struct {
    char *events_file; /* JSON lines; NULL = state_dir/events.jsonl */
    uint64_t events_max_size;
    char *metrics_file; /* Prometheus text; NULL = state_dir/certsteward.prom */
  } log;
} cs_config_t;

/* Fills cfg with the built-in defaults (allocates strings). */
int cs_config_defaults(cs_config_t *cfg);

/* Fills cfg with the defaults, then the values from the file at path. On error
 * cfg is left freed/empty and err names the file, the line and the key. */
int cs_config_load(cs_config_t *cfg, const char *path, cs_err_t *err);

/* The same from the file's contents in memory (data, len); path names the file in
 * messages and anchors relative paths. */
int cs_config_load_mem(cs_config_t *cfg, const char *path, const unsigned char *data, size_t len, cs_err_t *err);

/* Frees every string cfg owns; cfg can be loaded again afterwards. */
void cs_config_free(cs_config_t *cfg);

/* The DNS name certificates must carry: override when not empty, else
 * [connector] host, else this machine's FQDN. */
int cs_config_host(const cs_config_t *cfg, const char *override, char *buf, size_t len, cs_err_t *err);

/* Prints the effective configuration (defaults included) as INI. */
int cs_config_dump(const cs_config_t *cfg, FILE *out);

#endif
