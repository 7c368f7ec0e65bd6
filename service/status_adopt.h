/* `certsteward status`: what [store] adopt would take (status_adopt.c). Windows: each
 * certificate of LocalMachine\My and why it is or is not a candidate (the certificate in
 * service, no private key, expires first, judged before: adopted, rejected with the
 * reason, for another host; else new, checked at the service's next look). POSIX: the
 * [store] adopt_from folder and the last version judged. Read-only, crypto-free. */
#ifndef CS_STATUS_ADOPT_H
#define CS_STATUS_ADOPT_H

#include "adopted.h"
#include "config.h"
#include "platform.h"
#include "text.h"

typedef struct cs_status_adopt_s {
  const cs_config_t *cfg;
  int on;             /* [store] adopt = yes, and there is something to adopt from */
  const char *source; /* LocalMachine\My, or the adopt_from folder */
  cs_adopted_t rec;   /* what the service judged */
  cs_err_t rec_err;
  cs_plat_cert_t *certs; /* the store's certificates (Windows) */
  size_t n;
  cs_err_t list_err;
  char tp[41]; /* the certificate in service; "" unknown */
} cs_status_adopt_t;

void cs_status_adopt_gather(cs_status_adopt_t *a, const cs_config_t *cfg, const char *tp_in_service);
/* Why certs[i] is or is not a candidate, one line of text; 1 when it is one. */
int cs_status_adopt_why(const cs_status_adopt_t *a, size_t i, char *buf, size_t len);
void cs_status_adopt_text(cs_buf_t *b, const cs_status_adopt_t *a, int width);
void cs_status_adopt_json(cs_buf_t *b, const cs_status_adopt_t *a); /* an object, or null when off */
void cs_status_adopt_free(cs_status_adopt_t *a);

#endif
