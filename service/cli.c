/* Option parsing and configuration loading shared by the commands. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "error.h"
#include "events.h"
#include "platform.h"

int cs_cli_parse(int argc, char **argv, int first, cs_opt_t *opts, const char **operands, int *n_operands) {
  int i, only_operands = 0;
  *n_operands = 0;
  for (i = first; i < argc; i++) {
    const char *a = argv[i], *eq;
    cs_opt_t *o;
    size_t len;
    if (only_operands || a[0] != '-' || a[1] != '-') {
      operands[(*n_operands)++] = a;
      continue;
    }
    if (a[2] == '\0') { /* "--": the rest are files, even if they start with "--" */
      only_operands = 1;
      continue;
    }
    eq = strchr(a, '=');
    len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    for (o = opts; o->name != NULL; o++)
      if (strlen(o->name) == len && strncmp(o->name, a + 2, len) == 0)
        break;
    if (o->name == NULL) {
      fprintf(stderr, "certsteward %s: unknown option %.*s\n", argv[1], (int)len + 2, a);
      return -1;
    }
    if (!o->has_value) {
      if (eq != NULL) {
        fprintf(stderr, "certsteward %s: --%s takes no value\n", argv[1], o->name);
        return -1;
      }
      o->value = "";
    } else if (eq != NULL) {
      o->value = eq + 1;
    } else if (i + 1 < argc) {
      o->value = argv[++i];
    } else {
      fprintf(stderr, "certsteward %s: --%s needs a value\n", argv[1], o->name);
      return -1;
    }
  }
  return 0;
}

int cs_cli_config(const char *path, cs_config_t *cfg) {
  char def[1024];
  cs_err_t err;
  FILE *f;
  int rc;

  cs_err_clear(&err);
  if (path == NULL && cs_plat_default_config_path(def, sizeof def) == CS_OK && (f = fopen(def, "rb")) != NULL) {
    fclose(f);
    path = def;
  }
  rc = path ? cs_config_load(cfg, path, &err) : cs_config_defaults(cfg);
  if (rc != CS_OK) {
    fprintf(stderr, "certsteward: %s\n", err.text[0] ? err.text : cs_strerror(rc));
    return -1;
  }
  return 0;
}

int cs_cli_host(const cs_config_t *cfg, const char *override, char *buf, size_t len) {
  cs_err_t err;
  if (cs_config_host(cfg, override, buf, len, &err) != 0) {
    fprintf(stderr, "certsteward: %s\n", err.text);
    return -1;
  }
  return 0;
}

int cs_cli_open_events(const cs_config_t *cfg, int foreground) {
  cs_events_cfg_t ev;
  cs_err_t err;
  char jsonl[4096];
  if (cs_plat_mkdirs(cfg->store.state_dir, 0700, &err) != CS_OK) {
    fprintf(stderr, "certsteward: state folder: %s\n", err.text);
    return -1;
  }
  if (cfg->log.events_file != NULL)
    snprintf(jsonl, sizeof jsonl, "%s", cfg->log.events_file);
  else
    snprintf(jsonl, sizeof jsonl, "%s%sevents.jsonl", cfg->store.state_dir, cs_plat_is_windows() ? "\\" : "/");
  memset(&ev, 0, sizeof ev);
  ev.to_stderr = foreground;
  ev.to_system = 1;
  ev.jsonl_path = cs_plat_is_windows() ? NULL : jsonl;
  ev.jsonl_max = (long long)cfg->log.events_max_size;
  if (cs_events_open(&ev) != CS_OK) {
    fprintf(stderr, "certsteward: cannot open the event sinks\n");
    return -1;
  }
  return 0;
}
