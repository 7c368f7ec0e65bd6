/* Which certificates of the system store may replace the certificate in service
 * ([store] adopt, service/daemon_adopt.c), and in which order: the pure decision, from
 * the listing (cs_plat_store_list) alone, so that tests prove it on any listing.
 * Crypto-free: whether one is for this host is the worker's to tell afterwards. */
#ifndef CS_ADOPT_PICK_H
#define CS_ADOPT_PICK_H

#include <stddef.h>

#include "platform.h"

/* Why certs[i] is not a candidate; CS_PICK_CANDIDATE when it is one. */
typedef enum cs_pick_e {
  CS_PICK_CANDIDATE = 0,
  CS_PICK_IN_SERVICE,     /* it is the certificate in service */
  CS_PICK_NO_KEY,         /* no private key linked to it */
  CS_PICK_ARCHIVED,       /* archived: a renewal replaced it */
  CS_PICK_NO_SERVER_AUTH, /* the store's own purposes for it rule TLS server use out */
  CS_PICK_NOT_LATER,      /* it does not expire after the certificate in service */
  CS_PICK_NOT_NEWER,      /* it was issued before the certificate in service: an older one
                             that expires later (a longer lifetime) is no renewal of it */
  CS_PICK_NO_CURRENT,     /* the certificate in service is not in the store: nothing to compare */
  CS_PICK_JUDGED          /* judged before (adopted.h) */
} cs_pick_t;

/* "in service", "no private key", ...: what status prints for w. */
const char *cs_pick_text(cs_pick_t w);

/* What certs[i] is (judged(tp, arg) says whether it was judged before; may be NULL),
 * against the certificate in service tp_in_service ("" unknown). */
cs_pick_t cs_pick_one(const cs_plat_cert_t *certs, size_t n, size_t i, const char *tp_in_service,
                      int (*judged)(const char *tp, const void *arg), const void *arg);

/* The thumbprint the renewal link of the certificate in service leads to, into out (""
 * none): its CERT_RENEWAL_PROP_ID, followed on through certificates that were renewed
 * in turn and archived (A renewed by B, B by C: C), at most 8 links, never in a circle. */
void cs_pick_renewed(const cs_plat_cert_t *certs, size_t n, const char *tp_in_service, char out[41]);

/* The candidates, first to last, as indexes into order (n entries at most): the one the
 * renewal link leads to, then the latest-expiring (then by thumbprint). Returns how many. */
size_t cs_pick_order(const cs_plat_cert_t *certs, size_t n, const char *tp_in_service,
                     int (*judged)(const char *tp, const void *arg), const void *arg, size_t *order);

#endif
