/* The parts of platform.h that are the same on every system. */
#include "platform.h"

#include <stdlib.h>

void cs_run_result_free(cs_run_result_t *res) {
  if (res == NULL)
    return;
  free(res->out);
  res->out = NULL;
  res->out_len = 0;
}

void cs_plat_store_list_free(cs_plat_cert_t *certs, size_t n) {
  size_t i;
  for (i = 0; certs != NULL && i < n; i++) {
    free(certs[i].subject);
    free(certs[i].friendly);
  }
  free(certs);
}

void cs_plat_machine_chain_free(cs_machine_chain_t *c) {
  size_t i;
  if (c == NULL)
    return;
  for (i = 0; c->der != NULL && i < c->n; i++)
    free(c->der[i]);
  free(c->der);
  free(c->der_len);
  c->der = NULL;
  c->der_len = NULL;
  c->n = 0;
}
