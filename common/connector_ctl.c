/* The connector's service control for the renewal transaction (see connector_ctl.h). */
#include "connector_ctl.h"

#include <stdlib.h>

#include "platform.h"
#include "text.h"

int cs_connector_can_split(const cs_config_t *cfg) {
  return cfg->connector.service != NULL && *cfg->connector.service != '\0' &&
         (cfg->connector.restart_command == NULL || *cfg->connector.restart_command == '\0');
}

const char *cs_connector_name(const cs_config_t *cfg) {
  return cfg->connector.service ? cfg->connector.service : cfg->connector.restart_command;
}

static int timeout_ms(const cs_config_t *cfg) { return cfg->connector.restart_timeout * 1000; }

/* A new copy of s (NULL: "") with every from turned into to: "\n" lines for
 * platform.h, "/" in the journal. NULL when out of memory. */
static char *swap_char(const char *s, char from, char to) {
  char *c = cs_strdup(s != NULL ? s : ""), *p;
  for (p = c; p != NULL && *p != '\0'; p++)
    if (*p == from)
      *p = to;
  return c;
}

int cs_connector_dependents(const cs_config_t *cfg, char **dependents, cs_err_t *err) {
  char *names = NULL;
  int rc;
  *dependents = NULL;
  if ((rc = cs_plat_service_dependents(cfg->connector.service, &names, err)) != CS_OK)
    return rc;
  *dependents = swap_char(names, '\n', '/');
  free(names);
  return *dependents != NULL ? CS_OK : cs_err_set(err, CS_ENOMEM, 0, "out of memory");
}

int cs_connector_stop(const cs_config_t *cfg, const char *dependents, cs_err_t *err) {
  char *deps = swap_char(dependents, '/', '\n');
  int rc = deps == NULL ? cs_err_set(err, CS_ENOMEM, 0, "out of memory")
                        : cs_plat_service_stop(cfg->connector.service, deps, timeout_ms(cfg), err);
  free(deps);
  return rc;
}

int cs_connector_start(const cs_config_t *cfg, const char *dependents, int fresh, cs_err_t *err) {
  char *deps = swap_char(dependents, '/', '\n');
  int rc = deps == NULL ? cs_err_set(err, CS_ENOMEM, 0, "out of memory")
                        : cs_plat_service_start(cfg->connector.service, deps, cfg->connector.status_command, fresh,
                                                timeout_ms(cfg), err);
  free(deps);
  return rc;
}

int cs_connector_restart(const cs_config_t *cfg, cs_err_t *err) {
  return cs_plat_service_restart(cfg->connector.service, cfg->connector.restart_command, cfg->connector.status_command,
                                 timeout_ms(cfg), err);
}
