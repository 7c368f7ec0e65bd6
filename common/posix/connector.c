/* POSIX half of the connector's service settings (platform.h): a systemd unit or an
 * init script names no account or install folder the way the Windows service manager
 * does, so nothing is known here and Linux keeps its explicit configuration. */
#include "../platform.h"

#include <stddef.h>

int cs_plat_service_config(const char *service, char **start_name, char **image_path, cs_err_t *err) {
  (void)service;
  *start_name = NULL;
  *image_path = NULL;
  return cs_err_set(err, CS_EINVAL, 0, "a service's account and install folder are not known on this platform");
}
