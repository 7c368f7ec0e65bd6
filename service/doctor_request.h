/* certsteward doctor's [request] check (doctor_request.c). */
#ifndef CS_DOCTOR_REQUEST_H
#define CS_DOCTOR_REQUEST_H

#include <stddef.h>

#include "config.h"
#include "platform.h"
#include "worker.h"

/* The route is configured; command: the helper's program exists and only
 * administrators can change it, and it answers certmonger's IDENTIFY; adcs: ca_config
 * is well-formed and the CA answers its name through the worker (NULL: not found).
 * Nothing is submitted. */
cs_doctor_outcome_t cs_doctor_request(const cs_config_t *cfg, const cs_worker_t *worker, const char *host, char *detail,
                                      size_t len);

#endif
