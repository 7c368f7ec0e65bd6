/* Which store certificates may replace the one in service (adopt_pick.h). */
#include "adopt_pick.h"

#include <string.h>

#define MAX_LINKS 8

static const cs_plat_cert_t *find(const cs_plat_cert_t *certs, size_t n, const char *tp) {
  size_t i;
  for (i = 0; tp[0] && i < n; i++)
    if (strcmp(certs[i].tp, tp) == 0)
      return &certs[i];
  return NULL;
}

const char *cs_pick_text(cs_pick_t w) {
  switch (w) {
  case CS_PICK_CANDIDATE:
    return "candidate";
  case CS_PICK_IN_SERVICE:
    return "in service";
  case CS_PICK_NO_KEY:
    return "no private key";
  case CS_PICK_ARCHIVED:
    return "archived (a renewal replaced it)";
  case CS_PICK_NO_SERVER_AUTH:
    return "its purposes in the store rule out server authentication";
  case CS_PICK_NOT_LATER:
    return "expires before the certificate in service";
  case CS_PICK_NOT_NEWER:
    return "issued before the certificate in service";
  case CS_PICK_NO_CURRENT:
    return "the certificate in service is not in the store";
  case CS_PICK_JUDGED:
    return "judged before";
  }
  return "?";
}

cs_pick_t cs_pick_one(const cs_plat_cert_t *certs, size_t n, size_t i, const char *tp_in_service,
                      int (*judged)(const char *tp, const void *arg), const void *arg) {
  const cs_plat_cert_t *c = &certs[i], *cur = find(certs, n, tp_in_service);
  if (tp_in_service[0] && strcmp(c->tp, tp_in_service) == 0)
    return CS_PICK_IN_SERVICE;
  if (!c->has_key)
    return CS_PICK_NO_KEY;
  if (c->archived)
    return CS_PICK_ARCHIVED;
  if (c->no_server_auth)
    return CS_PICK_NO_SERVER_AUTH;
  if (cur == NULL)
    return CS_PICK_NO_CURRENT;
  if (c->not_after <= cur->not_after)
    return CS_PICK_NOT_LATER;
  if (c->not_before <= cur->not_before)
    return CS_PICK_NOT_NEWER;
  if (judged != NULL && judged(c->tp, arg))
    return CS_PICK_JUDGED;
  return CS_PICK_CANDIDATE;
}

void cs_pick_renewed(const cs_plat_cert_t *certs, size_t n, const char *tp_in_service, char out[41]) {
  const cs_plat_cert_t *c = find(certs, n, tp_in_service);
  int links;
  out[0] = '\0';
  for (links = 0; c != NULL && c->renewal[0] && links < MAX_LINKS; links++) {
    if (strcmp(c->renewal, tp_in_service) == 0)
      break; /* a circle back to the one in service */
    memcpy(out, c->renewal, 41);
    if ((c = find(certs, n, c->renewal)) == NULL || !c->archived)
      break; /* not (or no longer) in the store, or the end of the chain */
  }
}

/* a before b */
static int before(const cs_plat_cert_t *a, const cs_plat_cert_t *b, const char *renewed) {
  int ra = renewed[0] && strcmp(a->tp, renewed) == 0, rb = renewed[0] && strcmp(b->tp, renewed) == 0;
  if (ra != rb)
    return ra;
  if (a->not_after != b->not_after)
    return a->not_after > b->not_after;
  return strcmp(a->tp, b->tp) < 0;
}

size_t cs_pick_order(const cs_plat_cert_t *certs, size_t n, const char *tp_in_service,
                     int (*judged)(const char *tp, const void *arg), const void *arg, size_t *order) {
  char renewed[41];
  size_t i, j, k = 0;
  cs_pick_renewed(certs, n, tp_in_service, renewed);
  for (i = 0; i < n; i++) {
    if (cs_pick_one(certs, n, i, tp_in_service, judged, arg) != CS_PICK_CANDIDATE)
      continue;
    for (j = k; j > 0 && before(&certs[i], &certs[order[j - 1]], renewed); j--)
      order[j] = order[j - 1];
    order[j] = i;
    k++;
  }
  return k;
}
