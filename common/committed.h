/* <state_dir>/committed: the certificate certsteward itself last put in service (a
 * renewal, an adoption or a rollback that committed) and, on POSIX, which key file it
 * wrote with it (cs_plat_key_identity).
 *
 * What names the certificate in service is often in a folder the connector's account
 * can write: the binding files (Windows: which certificate of LocalMachine\My), the
 * certificate and key files (POSIX). So what certsteward does for the certificate in
 * service beyond reading it, as root / LocalSystem, is done only for one it can vouch
 * for: one it put there itself, or the one [connector] thumbprint names. That is the
 * READ repaired on its key at start and every check_interval (else the account could
 * point the binding file at the machine's other certificates and be given their keys,
 * or move another root key to key_file) and the names a certificate request copies
 * from it (else a certificate of the account's choosing would choose what this
 * machine's rights ask the CA for). */
#ifndef CS_COMMITTED_H
#define CS_COMMITTED_H

#include <stddef.h>

#include "config.h"
#include "error.h"

/* Writes tp and key_id ("" when none) to <state_dir>/committed (atomic, 0600). */
int cs_committed_write(const char *state_dir, const char *tp, const char *key_id, cs_err_t *err);

/* Reads it: CS_OK, CS_ENOENT when certsteward has put nothing in service yet, CS_EFORMAT
 * when it is not one certsteward wrote. */
int cs_committed_read(const char *state_dir, char tp[41], char *key_id, size_t key_len, cs_err_t *err);

/* Records that the certificate tp is in service, put there by certsteward, with the
 * identity of its key (cs_plat_store_key_ref, cs_plat_key_identity); a failure in err. */
int cs_committed_record(const cs_config_t *cfg, const char *tp, cs_err_t *err);

/* 1 when the record names tp. */
int cs_committed_names(const char *state_dir, const char *tp);

/* 1 when certsteward vouches for the certificate tp as the one in service: it is the
 * one [connector] thumbprint names, or the one certsteward last put in service. key_id
 * (may be NULL) receives the recorded key identity for the latter ("" otherwise). */
int cs_committed_vouches(const cs_config_t *cfg, const char *tp, char *key_id, size_t key_len);

#endif
