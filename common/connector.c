/* The connector's facts (see connector.h): the pure decisions first, then the reading
 * of its settings files, then the resolution into the configuration. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bindings.h"
#include "events.h"
#include "json.h"
#include "platform.h"
#include "probe.h"

#define ACCOUNT_MAX 256         /* an account name: domain (DNS, 255) is the longest part */
#define SETTINGS_MAX (1u << 20) /* a settings file is small text */

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }

static int ieq(const char *a, const char *b) {
  for (; *a != '\0' && lower((unsigned char)*a) == lower((unsigned char)*b); a++, b++)
    ;
  return *a == '\0' && *b == '\0';
}

static int iprefix(const char *s, const char *prefix) {
  for (; *prefix != '\0'; s++, prefix++)
    if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
      return 0;
  return 1;
}

static int icontains(const char *s, const char *part) {
  for (; *s != '\0'; s++)
    if (iprefix(s, part))
      return 1;
  return 0;
}

/* ---- the account --------------------------------------------------------------- */

/* The SID string of a well-known service account named by any of its aliases, else NULL. */
static const char *well_known(const char *name) {
  static const char *const system[] = {"LocalSystem", "NT AUTHORITY\\SYSTEM", "SYSTEM", "S-1-5-18"};
  static const char *const local[] = {"LocalService", "NT AUTHORITY\\LocalService", "NT AUTHORITY\\LOCAL SERVICE",
                                      "S-1-5-19"};
  static const char *const network[] = {"NetworkService", "NT AUTHORITY\\NetworkService",
                                        "NT AUTHORITY\\NETWORK SERVICE", "S-1-5-20"};
  size_t i;
  if (name[0] == '.' && name[1] == '\\') /* the local machine's account */
    name += 2;
  for (i = 0; i < 4; i++) {
    if (ieq(name, system[i]))
      return "S-1-5-18";
    if (ieq(name, local[i]))
      return "S-1-5-19";
    if (ieq(name, network[i]))
      return "S-1-5-20";
  }
  return NULL;
}

int cs_connector_account(const char *start_name, const char *service, char *out, size_t len) {
  const char *p, *sid;
  int n;
  if (len > 0)
    out[0] = '\0';
  if (start_name == NULL || start_name[0] == '\0') /* CreateService: NULL runs it as LocalSystem */
    return CS_CONNECTOR_NO_GRANT;
  if (strlen(start_name) > ACCOUNT_MAX)
    return CS_EINVAL;
  for (p = start_name; *p != '\0'; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return CS_EINVAL;
  if ((sid = well_known(start_name)) != NULL) {
    if (strcmp(sid, "S-1-5-18") == 0)
      return CS_CONNECTOR_NO_GRANT;
    n = snprintf(out, len, "%s", sid);
  } else if (iprefix(start_name, "NT SERVICE\\")) {
    /* a virtual account is the service's own: its SID comes from the key name */
    if (service == NULL || service[0] == '\0')
      return CS_EINVAL;
    n = snprintf(out, len, "NT SERVICE\\%s", service);
  } else {
    n = snprintf(out, len, "%s", start_name);
  }
  return n >= 0 && (size_t)n < len ? CS_OK : CS_ETOOBIG;
}

int cs_connector_same_account(const char *configured, const char *account) {
  const char *a = well_known(configured), *b = account[0] == '\0' ? "S-1-5-18" : well_known(account);
  if (a == NULL)
    a = configured[0] == '.' && configured[1] == '\\' ? configured + 2 : configured;
  if (b == NULL)
    b = account[0] == '.' && account[1] == '\\' ? account + 2 : account;
  return ieq(a, b);
}

/* ---- the install folder ------------------------------------------------------------ */

int cs_connector_image_exe(const char *image_path, char *out, size_t len, cs_err_t *err) {
  const char *s = image_path, *end = NULL, *p, *seg;
  size_t n;
  if (len > 0)
    out[0] = '\0';
  if (s == NULL || s[0] == '\0')
    return cs_err_set(err, CS_EFORMAT, 0, "the service has no command line");
  while (*s == ' ' || *s == '\t')
    s++;
  if (*s == '"') {
    s++;
    if ((end = strchr(s, '"')) == NULL)
      return cs_err_set(err, CS_EFORMAT, 0, "its quoted program path does not end");
    if (end[1] != '\0' && end[1] != ' ' && end[1] != '\t')
      return cs_err_set(err, CS_EFORMAT, 0, "text follows its quoted program path without a blank");
  } else {
    for (p = s; *p != '\0' && end == NULL; p++)
      if (iprefix(p, ".exe") && (p[4] == '\0' || p[4] == ' ' || p[4] == '\t'))
        end = p + 4;
    if (end == NULL)
      return cs_err_set(err, CS_EFORMAT, 0, "it names no program ending in .exe");
  }
  if (end - s >= 4 && strncmp(s, "\\\\?\\", 4) == 0)
    s += 4;
  n = (size_t)(end - s);
  if (n < 4 || !((lower((unsigned char)s[0]) >= 'a' && lower((unsigned char)s[0]) <= 'z') && s[1] == ':' &&
                 (s[2] == '\\' || s[2] == '/')))
    return cs_err_set(err, CS_EFORMAT, 0, "its program is not a full path on a drive (X:\\...)");
  for (p = s; p < end; p++) {
    if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '%' || *p == '"' || *p == '*' || *p == '?' || *p == '<' ||
        *p == '>' || *p == '|' || (*p == ':' && p != s + 1))
      return cs_err_set(err, CS_EFORMAT, 0,
                        "its program path holds a character a path cannot (or an unexpanded "
                        "variable)");
  }
  for (seg = s + 3; seg < end; seg = p + 1) {
    for (p = seg; p < end && *p != '\\' && *p != '/'; p++)
      ;
    if (p == seg || (p - seg == 1 && seg[0] == '.') || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
      return cs_err_set(err, CS_EFORMAT, 0, "its program path has an empty, . or .. component");
  }
  if (n >= len)
    return cs_err_set(err, CS_ETOOBIG, 0, "its program path is too long");
  memcpy(out, s, n);
  out[n] = '\0';
  for (p = out; *p != '\0'; p++) /* one separator from here on */
    if (*p == '/')
      out[p - out] = '\\';
  return CS_OK;
}

void cs_connector_list_free(char **list, size_t n) {
  size_t i;
  for (i = 0; list != NULL && i < n; i++)
    free(list[i]);
  free(list);
}

static int list_add(char ***list, size_t *n, const char *s) {
  char **v = realloc(*list, sizeof *v * (*n + 1));
  if (v == NULL)
    return CS_ENOMEM;
  *list = v;
  if ((v[*n] = cs_strdup(s)) == NULL)
    return CS_ENOMEM;
  (*n)++;
  return CS_OK;
}

int cs_connector_candidates(const char *image_path, char ***out, size_t *n, cs_err_t *err) {
  static const char *const layouts[] = {"config\\servers\\tls.json", "config\\server\\tls.json"};
  char *dir = NULL, *cut, *path = NULL;
  size_t len = strlen(image_path != NULL ? image_path : "") + 1, up, k;
  int rc;
  *out = NULL;
  *n = 0;
  if ((dir = malloc(len)) == NULL || (path = malloc(len + 32)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if ((rc = cs_connector_image_exe(image_path, dir, len, err)) != CS_OK)
    goto out;
  /* One install folder, told from the program's path alone: its folder, or the one
   * above when that is named bin. Never "the first that exists" among several
   * folders: the connector's account may write its program's folder, and must not
   * choose by what it puts there which file LocalSystem rewrites. */
  for (up = 0; up < 2; up++) {
    if ((cut = strrchr(dir, '\\')) == NULL || cut - dir <= 2) /* "X:\" is a drive's root: never taken */
      break;
    *cut = '\0';
    if (up == 0 && (cut = strrchr(dir, '\\')) != NULL && ieq(cut + 1, "bin"))
      continue; /* <install>\bin\<program>: the install folder is the one above */
    for (k = 0; k < 2; k++) {
      snprintf(path, len + 32, "%s\\%s", dir, layouts[k]);
      if ((rc = list_add(out, n, path)) != CS_OK) {
        cs_err_set(err, rc, 0, "out of memory");
        goto out;
      }
    }
    break;
  }
  if (*n == 0)
    rc = cs_err_set(err, CS_EFORMAT, 0, "its program is in a drive's root folder, which is not an install folder");
out:
  if (rc != CS_OK) {
    cs_connector_list_free(*out, *n);
    *out = NULL;
    *n = 0;
  }
  free(dir);
  free(path);
  return rc;
}

/* ---- the connector's settings files ---------------------------------------------- */

typedef struct listener_s {
  const char *title;  /* for a person */
  const char *folder; /* its settings folder beside tls.json */
  const char *key;    /* a part of its TLS selection's member name in tls.json */
  int port;           /* the documented one */
} listener_t;

static const listener_t listeners[] = {
    {"Web Server", "web", "web", 8197},
    {"Configuration Server", "config", "config", 8096},
};
#define N_LISTENERS (sizeof listeners / sizeof listeners[0])

/* What the walk of tls.json found per listener. */
typedef struct tls_seen_s {
  int selection[N_LISTENERS]; /* 0 not named, 1 names a certificate, -1 names none */
  int port[N_LISTENERS];
} tls_seen_t;

static int port_value(const char *v, cs_json_type_t type) {
  long p = 0;
  const char *c;
  if ((type != CS_JSON_NUMBER && type != CS_JSON_STRING) || v[0] == '\0' || strlen(v) > 5)
    return 0;
  for (c = v; *c != '\0'; c++) {
    if (*c < '0' || *c > '9')
      return 0;
    p = p * 10 + (*c - '0');
  }
  return p >= 1 && p <= 65535 ? (int)p : 0;
}

static int tls_cb(void *arg, const char *parent, const char *name, const char *v, cs_json_type_t type) {
  tls_seen_t *t = arg;
  size_t i;
  for (i = 0; i < N_LISTENERS; i++) {
    if (!icontains(parent, listeners[i].key))
      continue;
    if (icontains(name, "thumbprint") && t->selection[i] != 1)
      t->selection[i] = type == CS_JSON_STRING && cs_thumbprint_valid(v) ? 1 : -1;
    else if (ieq(name, "port") && port_value(v, type) != 0)
      t->port[i] = port_value(v, type);
    break;
  }
  return 0;
}

typedef struct port_seen_s {
  int tls, plain;
} port_seen_t;

static int port_cb(void *arg, const char *parent, const char *name, const char *v, cs_json_type_t type) {
  port_seen_t *s = arg;
  int p = port_value(v, type);
  size_t n = strlen(name);
  (void)parent;
  if (p == 0 || n < 4 || !ieq(name + n - 4, "port"))
    return 0;
  if (s->tls == 0 && (icontains(name, "https") || icontains(name, "tls") || icontains(name, "ssl")))
    s->tls = p;
  else if (s->plain == 0 && n == 4)
    s->plain = p;
  return 0;
}

/* Reads path and walks it with cb; says in how what stopped it (0 when walked). */
static int walk_file(const char *path, cs_json_cb cb, void *arg, cs_buf_t *how) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t why;
  int rc = cs_plat_read_file(path, SETTINGS_MAX, CS_READ_NOFOLLOW, &data, &len, &why);
  if (rc == CS_OK)
    rc = cs_json_walk((const char *)data, len, cb, arg, &why);
  if (rc != CS_OK && how != NULL)
    cs_buf_printf(how, "%s%s not read (%s)", how->len ? "; " : "", path, why.text);
  cs_plat_free_file(data, len);
  return rc;
}

int cs_connector_endpoints(const char *binding_file, char ***out, size_t *n, cs_buf_t *how, cs_err_t *err) {
  const char *sep = strrchr(binding_file, cs_plat_path_sep());
  size_t dir_len = sep == NULL ? 0 : sep == binding_file ? 1 : (size_t)(sep - binding_file), i; /* "/" kept */
  char path[4200], dir[4200] = "", sub[4200], ep[32];
  tls_seen_t tls;
  int rc = CS_OK, tls_read;

  *out = NULL;
  *n = 0;
  if (dir_len < sizeof dir) {
    memcpy(dir, binding_file, dir_len);
    dir[dir_len] = '\0';
  }
  memset(&tls, 0, sizeof tls);
  tls_read = walk_file(binding_file, tls_cb, &tls, how) == CS_OK;
  for (i = 0; i < N_LISTENERS; i++) {
    port_seen_t ps = {0, 0};
    const char *from = "the documented port";
    int port = listeners[i].port;
    if (tls_read && tls.selection[i] < 0) {
      if (how != NULL)
        cs_buf_printf(how, "%s%s: no certificate selected in %s, not probed", how->len ? "; " : "", listeners[i].title,
                      binding_file);
      continue;
    }
    /* <folder of the TLS settings file>/<listener>/general.json (not read when the settings
     * file's name has no folder) */
    if (dir[0] != '\0' && cs_plat_path_join(sub, sizeof sub, dir, listeners[i].folder) == CS_OK &&
        cs_plat_path_join(path, sizeof path, sub, "general.json") == CS_OK &&
        walk_file(path, port_cb, &ps, how) == CS_OK && (ps.tls != 0 || ps.plain != 0)) {
      port = ps.tls != 0 ? ps.tls : ps.plain;
      from = path;
    } else if (tls.port[i] != 0) {
      port = tls.port[i];
      from = binding_file;
    }
    snprintf(ep, sizeof ep, "127.0.0.1:%d", port);
    if ((rc = list_add(out, n, ep)) != CS_OK) {
      cs_err_set(err, rc, 0, "out of memory");
      cs_connector_list_free(*out, *n);
      *out = NULL;
      *n = 0;
      return rc;
    }
    if (how != NULL)
      cs_buf_printf(how, "%s%s %s (port from %s)", how->len ? "; " : "", listeners[i].title, ep, from);
  }
  return CS_OK;
}

int cs_connector_not_tls(const char *endpoint, const char *text) {
  static const char *const reasons[] = {CS_PROBE_NO_CONNECTION, CS_PROBE_CONNECT_TIMEOUT, CS_PROBE_NO_TLS,
                                        CS_PROBE_TLS_TIMEOUT};
  size_t n = strlen(endpoint), i;
  if (strncmp(text, endpoint, n) != 0 || text[n] != ':' || text[n + 1] != ' ')
    return 0;
  for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
    if (strncmp(text + n + 2, reasons[i], strlen(reasons[i])) == 0)
      return 1;
  return 0;
}

int cs_connector_skips_write(const char *path, const char *const *eps, size_t n, unsigned long long mask) {
  cs_buf_t b = CS_BUF_INIT;
  size_t i;
  int rc;
  cs_buf_puts(&b, "");
  for (i = 0; i < n && i < CS_CONNECTOR_SKIP_MAX; i++)
    if (mask >> i & 1u)
      cs_buf_printf(&b, "%s\n", eps[i]);
  rc = cs_buf_str(&b) != NULL ? cs_plat_write_atomic(path, b.p, b.len, 0600, NULL) : CS_ENOMEM;
  cs_buf_free(&b);
  return rc;
}

unsigned long long cs_connector_skips_read(const char *path, const char *const *eps, size_t n) {
  unsigned long long mask = 0;
  unsigned char *data = NULL;
  const char *line, *nl;
  size_t len = 0, i;
  if (!cs_plat_exists(path) || cs_plat_read_file(path, 64 * 1024, CS_READ_NOFOLLOW, &data, &len, NULL) != CS_OK)
    return 0;
  for (line = (const char *)data; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
    for (i = 0; i < n && i < CS_CONNECTOR_SKIP_MAX; i++)
      if (strlen(eps[i]) == (size_t)(nl - line) && strncmp(line, eps[i], (size_t)(nl - line)) == 0)
        mask |= 1ull << i;
  cs_plat_free_file(data, len);
  return mask;
}

/* ---- the resolution ---------------------------------------------------------------- */

static int set_list(cs_strlist_t *l, char **v, size_t n) {
  size_t i;
  for (i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  l->v = v;
  l->n = n;
  return CS_OK;
}

/* "a, b" into a new list. */
static int split(const char *text, char ***out, size_t *n) {
  char item[300];
  const char *p = text, *e;
  int rc = CS_OK;
  *out = NULL;
  *n = 0;
  while (rc == CS_OK && *p != '\0') {
    while (*p == ' ' || *p == ',')
      p++;
    for (e = p; *e != '\0' && *e != ','; e++)
      ;
    while (e > p && e[-1] == ' ')
      e--;
    if (e > p && (size_t)(e - p) < sizeof item) {
      memcpy(item, p, (size_t)(e - p));
      item[e - p] = '\0';
      rc = list_add(out, n, item);
    }
    for (p = e; *p == ' '; p++)
      ;
  }
  return rc;
}

/* The account part: what the service runs as against [connector] account. */
static int resolve_account(cs_config_t *cfg, const char *start_name, int known, cs_buf_t *said) {
  const char *service = cfg->connector.service;
  char account[ACCOUNT_MAX + 16];
  int d = known ? cs_connector_account(start_name, service, account, sizeof account) : CS_EINVAL;
  if (known && d != CS_OK && d != CS_CONNECTOR_NO_GRANT) {
    cs_event_say(CS_EV_CONNECTOR_UNKNOWN, NULL, service, "the account it runs as",
                 "its start name is not an account name");
    known = 0;
  }
  if (cfg->connector.account != NULL) {
    if (known && !cs_connector_same_account(cfg->connector.account, d == CS_OK ? account : ""))
      cs_event_say(CS_EV_CONNECTOR_ACCOUNT_DIFFERS, NULL, cfg->connector.account, service,
                   d == CS_OK ? account : "LocalSystem");
    cs_buf_printf(said, "key READ for %s (configured)", cfg->connector.account);
    return CS_OK;
  }
  if (!known) /* not installed yet, or not readable: its virtual account, whose SID needs no lookup */
    snprintf(account, sizeof account, "NT SERVICE\\%s", service);
  else if (d == CS_CONNECTOR_NO_GRANT) {
    cs_buf_puts(said, "no key READ to grant (it runs as LocalSystem, which reads every machine key)");
    return CS_OK;
  }
  if ((cfg->connector.account = cs_strdup(account)) == NULL)
    return CS_ENOMEM;
  cs_buf_printf(said, "key READ for %s%s", account, known ? " (the account it runs as)" : " (its virtual account)");
  return CS_OK;
}

/* The binding file and the endpoints: from the install folder the ImagePath names. */
static int resolve_files(cs_config_t *cfg, const char *image_path, cs_buf_t *said) {
  char **cand = NULL, **eps = NULL;
  const char *binding = NULL;
  size_t n_cand = 0, n_eps = 0, i;
  cs_buf_t how = CS_BUF_INIT;
  cs_err_t why;
  int rc = CS_OK;

  if (image_path != NULL && cs_connector_candidates(image_path, &cand, &n_cand, &why) != CS_OK) {
    if (why.code == CS_ENOMEM) {
      rc = CS_ENOMEM;
      goto out;
    }
    cs_event_say(CS_EV_CONNECTOR_UNKNOWN, NULL, cfg->connector.service, "its install folder", why.text);
  }
  for (i = 0; i < n_cand && binding == NULL; i++)
    if (cs_plat_exists(cand[i]))
      binding = cand[i];
  if (binding == NULL) /* none there: the first is named, so that its absence is said */
    binding = n_cand > 0 ? cand[0] : CS_CONNECTOR_DEFAULT_BINDING;
  if (cfg->connector.binding_files.n == 0) {
    char **v = NULL;
    size_t n = 0;
    if ((rc = list_add(&v, &n, binding)) != CS_OK) {
      cs_connector_list_free(v, n);
      goto out;
    }
    set_list(&cfg->connector.binding_files, v, n);
    cs_buf_printf(said, ", binding file %s", binding);
  }
  if (cfg->connector.endpoints.n == 0) {
    /* the connector's own settings beside its TLS settings file (the one configured
     * or found), else the documented ports */
    const char *tls = cfg->connector.binding_files.v[0];
    int readable = cs_plat_exists(tls);
    rc = readable ? cs_connector_endpoints(tls, &eps, &n_eps, &how, &why)
                  : split(CS_CONNECTOR_DEFAULT_ENDPOINTS, &eps, &n_eps);
    if (rc != CS_OK)
      goto out;
    if (!readable)
      cs_buf_printf(&how, "the documented defaults %s (%s is missing)", CS_CONNECTOR_DEFAULT_ENDPOINTS, tls);
    set_list(&cfg->connector.endpoints, eps, n_eps);
    eps = NULL;
    cfg->connector.endpoints_default = 1;
    cs_buf_printf(said, ", endpoints: %s", cs_buf_str(&how) != NULL ? cs_buf_str(&how) : "none");
  }
out:
  cs_connector_list_free(eps, n_eps);
  cs_connector_list_free(cand, n_cand);
  cs_buf_free(&how);
  return rc;
}

int cs_connector_resolve(cs_config_t *cfg, cs_err_t *err) {
  char *start_name = NULL, *image_path = NULL;
  cs_buf_t said = CS_BUF_INIT;
  cs_err_t why;
  int rc = CS_OK, known = 0;

#ifdef CS_TEST_HOOKS
  /* Test builds on Linux: endpoints that stand in for Windows' documented defaults,
   * so that what a default endpoint gets (and an explicit one does not) is tested
   * against real servers here too. */
  const char *hook = getenv("CERTSTEWARD_TEST_DEFAULT_ENDPOINTS");
  if (!cs_plat_is_windows() && hook != NULL && cfg->connector.endpoints.n == 0) {
    char **v = NULL;
    size_t n = 0;
    if ((rc = split(hook, &v, &n)) != CS_OK) {
      cs_connector_list_free(v, n);
      return cs_err_set(err, rc, 0, "out of memory");
    }
    set_list(&cfg->connector.endpoints, v, n);
    cfg->connector.endpoints_default = 1;
  }
#endif
  if (!cs_plat_service_config_known() || cfg->connector.service == NULL)
    return CS_OK; /* Linux: the configuration says it all; no service: nothing to ask */
  rc = cs_plat_service_config(cfg->connector.service, &start_name, &image_path, &why);
  if (rc == CS_ENOMEM)
    goto out;
  known = rc == CS_OK;
  if (!known)
    cs_event_say(CS_EV_CONNECTOR_UNKNOWN, NULL, cfg->connector.service, "its settings in the service manager",
                 why.text);
  rc = resolve_account(cfg, start_name, known, &said);
  if (rc == CS_OK)
    rc = resolve_files(cfg, known ? image_path : NULL, &said);
  if (rc == CS_OK)
    cs_event_say(CS_EV_CONNECTOR_SETTINGS, NULL, cfg->connector.service,
                 cs_buf_str(&said) != NULL ? cs_buf_str(&said) : "-", NULL);
out:
  if (rc != CS_OK)
    cs_err_set(err, rc, 0, "out of memory reading the connector's settings");
  free(start_name);
  free(image_path);
  cs_buf_free(&said);
  return rc;
}
