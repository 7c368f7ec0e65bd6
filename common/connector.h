/* The connector's facts, taken from the connector itself where the platform can tell
 * them (Windows: the Service Control Manager's record of the service, and the
 * connector's own settings files under its install folder) instead of fixed
 * defaults: the account it runs as (which gets READ on the private key), its binding
 * file, and the TLS endpoints that prove a renewal. Linux keeps its explicit
 * configuration. The decisions are pure functions (tested on every platform); the
 * resolution reads the service and the files. Crypto-free. */
#ifndef CS_CONNECTOR_H
#define CS_CONNECTOR_H

#include <stddef.h>

#include "config.h"
#include "error.h"
#include "text.h"

/* BOARD Connector's documented layout: BCService.exe in the install folder
 * (C:\Program Files\BOARDConnector), the settings under config\servers (config\server
 * in older releases), the TLS settings in tls.json there, each listener's port in
 * <listener>\general.json there. */
#define CS_CONNECTOR_DEFAULT_BINDING "C:\\Program Files\\BOARDConnector\\config\\servers\\tls.json"
#define CS_CONNECTOR_DEFAULT_ENDPOINTS "127.0.0.1:8197, 127.0.0.1:8096"

/* cs_connector_account's answer for a service running as LocalSystem. */
#define CS_CONNECTOR_NO_GRANT 1

/* The account that must be able to READ the private key of a service whose start
 * name (QueryServiceConfig's lpServiceStartName) is start_name and whose key name is
 * service, into out:
 * - LocalSystem (empty, "LocalSystem", ".\LocalSystem", "NT AUTHORITY\SYSTEM", S-1-5-18):
 *   CS_CONNECTOR_NO_GRANT, out "" (LocalSystem reads every machine key already);
 * - LocalService / NetworkService (by name, "NT AUTHORITY\..." or SID): their SID
 *   string, S-1-5-19 / S-1-5-20 (the names are localised, the SIDs are not);
 * - a virtual account ("NT SERVICE\..."): "NT SERVICE\<service>", the account the
 *   service key name makes (its SID is computed from that name);
 * - any other account (DOMAIN\user, a gMSA DOMAIN\name$, .\user, user@domain): as given.
 * 0 when out names an account; CS_EINVAL for a start name that is no account name
 * (control characters, too long) or a virtual account without a service name;
 * CS_ETOOBIG when out is too small. */
int cs_connector_account(const char *start_name, const char *service, char *out, size_t len);

/* 1 when the account configured ([connector] account) and the one the service runs as
 * (account as cs_connector_account gave it; "" for LocalSystem) are the same, by the
 * aliases above, ASCII case ignored; else 0. DOMAIN\user and user@domain of one
 * account compare different: the warning it gives is only a warning. */
int cs_connector_same_account(const char *configured, const char *account);

/* The executable of a service's ImagePath (lpBinaryPathName, written by whoever
 * installed the service): a quoted path ("C:\Program Files\X\a.exe" -args), or an
 * unquoted one, which ends at the first ".exe" followed by a blank or the end, as the
 * system finds it when no shorter prefix names a program. A \\?\ prefix is removed.
 * Only a drive-absolute path (X:\...) with no "." or ".." component, no environment
 * variable and no control character is taken: anything else is CS_EFORMAT, with err
 * saying why (unknown, never guessed). */
int cs_connector_image_exe(const char *image_path, char *out, size_t len, cs_err_t *err);

/* The binding files to try for a service with that ImagePath, in order: in the
 * executable's folder and then in the folder above it (never a drive's root, which
 * every user may add folders to), config\servers\tls.json then config\server\tls.json.
 * *out (n entries) is new: free with cs_connector_list_free. CS_EFORMAT as
 * cs_connector_image_exe. */
int cs_connector_candidates(const char *image_path, char ***out, size_t *n, cs_err_t *err);
void cs_connector_list_free(char **list, size_t n);

/* The endpoints of the connector whose TLS settings file is binding_file (its
 * listeners' port files beside it): for each listener (Web Server, Configuration
 * Server) whose TLS selection in binding_file names a certificate (all of them when
 * the file does not tell), "127.0.0.1:<port>", the port from the listener's
 * general.json (a member named like httpsPort, tlsPort or sslPort, else "port"), else
 * the port its TLS selection names, else the documented one (8197, 8096). *out is
 * new (free with cs_connector_list_free); how, when not NULL, says where each came
 * from. Files that are missing or not valid JSON are said in how and passed over. */
int cs_connector_endpoints(const char *binding_file, char ***out, size_t *n, cs_buf_t *how, cs_err_t *err);

/* 1 when a probe's error text (the worker's "<endpoint>: <reason>") says that the
 * endpoint does not listen or does not speak TLS, rather than that it serves another
 * certificate or that the probe itself failed; else 0. */
int cs_connector_not_tls(const char *endpoint, const char *text);

/* The default endpoints a renewal's pre-flight left out, kept in a file of the
 * transaction for its recovery: bit i of the mask is eps[i] (the first
 * CS_CONNECTOR_SKIP_MAX only). write: one endpoint a line, atomically; read: the mask
 * of those eps named there (0 when the file is missing or unreadable). */
#define CS_CONNECTOR_SKIP_MAX 64
int cs_connector_skips_write(const char *path, const char *const *eps, size_t n, unsigned long long mask);
unsigned long long cs_connector_skips_read(const char *path, const char *const *eps, size_t n);

/* Fills in what [connector] leaves empty, from the connector (Windows; on Linux
 * nothing changes, the configuration is explicit there): account from the account
 * the service runs as (none for LocalSystem), binding_files from its install folder,
 * endpoints from its settings files or the documented defaults (then marked
 * endpoints_default). An account configured that differs from the service's is kept
 * and warned about. What was found, and what could not be, is said in events (before
 * the event sinks are open: on standard error). Errors only for memory. */
int cs_connector_resolve(cs_config_t *cfg, cs_err_t *err);

#endif
