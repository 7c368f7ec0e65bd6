/* The connector's service as the renewal transaction controls it, from its
 * configuration ([connector] service, restart_command, status_command,
 * restart_timeout): whether it can be stopped and started apart (txplan.h's split
 * plan), and the stop, start and restart themselves through platform.h. The services
 * stopped with it are kept in the journal "/"-separated (a service name holds no
 * slash). Crypto-free. */
#ifndef CS_CONNECTOR_CTL_H
#define CS_CONNECTOR_CTL_H

#include "config.h"
#include "error.h"

/* 1 when certsteward stops and starts the connector itself: a service is named and
 * no restart command of the admin's (which cannot be split in two) replaces that. */
int cs_connector_can_split(const cs_config_t *cfg);

/* What events name the connector by: its service, else the restart command. */
const char *cs_connector_name(const cs_config_t *cfg);

/* The services that depend on the connector and run now, "/"-separated in a new
 * string (*dependents, free(); "" when none). */
int cs_connector_dependents(const cs_config_t *cfg, char **dependents, cs_err_t *err);

/* Stops the dependents ("/"-separated, may be NULL), then the connector, and waits
 * until its process has ended (cs_plat_service_stop), within restart_timeout. */
int cs_connector_stop(const cs_config_t *cfg, const char *dependents, cs_err_t *err);

/* Starts the connector, then the dependents (cs_plat_service_start: fresh = 1 for a new
 * process; 0 leaves one that runs as it is), within restart_timeout. */
int cs_connector_start(const cs_config_t *cfg, const char *dependents, int fresh, cs_err_t *err);

/* Restarts it in one go: the restart command, or the platform's way (cs_plat_service_restart). */
int cs_connector_restart(const cs_config_t *cfg, cs_err_t *err);

#endif
