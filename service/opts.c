/* Option parsing and configuration loading shared by certsteward and certsteward-worker. */
#include "opts.h"

#include <stdio.h>
#include <string.h>

#include "platform.h"

int cs_opts_parse(int argc, char **argv, int first, cs_opt_t *opts, const char **operands, int *n_operands,
                  cs_err_t *err) {
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
    if (o->name == NULL)
      return cs_err_set(err, CS_EINVAL, 0, "unknown option %.*s", (int)len + 2, a);
    if (!o->has_value) {
      if (eq != NULL)
        return cs_err_set(err, CS_EINVAL, 0, "--%s takes no value", o->name);
      o->value = "";
    } else if (eq != NULL) {
      o->value = eq + 1;
    } else if (i + 1 < argc) {
      o->value = argv[++i];
    } else {
      return cs_err_set(err, CS_EINVAL, 0, "--%s needs a value", o->name);
    }
  }
  return CS_OK;
}

int cs_opts_config(const char *path, cs_config_t *cfg, cs_err_t *err) {
  char def[1024];
  FILE *f;
  int rc;

  cs_err_clear(err);
  /* opened through the wide API: %ProgramData% may hold what the ANSI code page cannot */
  if (path == NULL && cs_plat_default_config_path(def, sizeof def) == CS_OK && (f = cs_plat_fopen(def, "rb")) != NULL) {
    fclose(f);
    path = def;
  }
  rc = path ? cs_config_load(cfg, path, err) : cs_config_defaults(cfg);
  if (rc != CS_OK && err != NULL && err->text[0] == '\0')
    cs_err_set(err, rc, 0, "%s", cs_strerror(rc));
  return rc;
}
