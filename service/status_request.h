/* `certsteward status`: the certificate request in flight (status_request.c). */
#ifndef CS_STATUS_REQUEST_H
#define CS_STATUS_REQUEST_H

#include "config.h"
#include "text.h"

void cs_status_request_text(cs_buf_t *b, const cs_config_t *cfg, int width);
/* {"renew_days":N,"in_flight":null|{...},"error":null|"..."} */
void cs_status_request_json(cs_buf_t *b, const cs_config_t *cfg);

#endif
