/* certsteward doctor's [request] check (doctor_request.c). */
#ifndef CS_DOCTOR_REQUEST_H
#define CS_DOCTOR_REQUEST_H

#include <stddef.h>

#include "config.h"
#include "platform.h"

/* The route is configured, the helper's program exists and only administrators can
 * change it, and it answers certmonger's IDENTIFY (nothing is submitted). */
cs_doctor_outcome_t cs_doctor_request(const cs_config_t *cfg, const char *host, char *detail, size_t len);

#endif
