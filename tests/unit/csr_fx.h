/* What the request tests share (test_csr.c, test_reqkey.c): a configuration whose state
 * folder is a new temp folder, and whether the Windows build runs under Wine. */
#ifndef CS_CSR_FX_H
#define CS_CSR_FX_H

#include "config.h"

/* cs_config_defaults with [store] state_dir a new temp folder's "state" (not made) and
 * [connector] account the connector's virtual account (Windows: READ on the key). */
const cs_config_t *csr_setup(void);
/* The configuration csr_setup made, to change in a test. */
cs_config_t *csr_cfg(void);
/* The temp folder csr_setup made (state_dir's parent). */
const char *csr_dir(void);
/* Removes the temp folder (CHECKed) and frees the configuration. */
void csr_teardown(void);
/* 1 when the Windows build runs under Wine (ntdll exports wine_get_version). */
int csr_under_wine(void);

#endif
