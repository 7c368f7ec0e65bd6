/* The Windows request keys' parts the tests reach (common/win/reqkey.c): who gets READ,
 * the security descriptor the key is made with, and the key's CNG handle. */
#ifndef CS_WIN_REQKEY_H
#define CS_WIN_REQKEY_H

#include <windows.h>
#include <ncrypt.h>

#include "../config.h"
#include "../platform.h"

/* The account a request key gives READ: [connector] account, else NT SERVICE\<[connector]
 * service> (the SID computed, keyacl.c), else none (*sid NULL). *sid new (free()). */
int cs__win_reqkey_account(const cs_config_t *cfg, PSID *sid, cs_err_t *err);

/* The self-relative security descriptor a request key is made with (*sd, LocalFree; *len
 * its size): a protected DACL of SYSTEM and Administrators full control and account
 * (may be NULL) READ, nothing inherited. Pure: SDDL and the SID alone. */
int cs__win_reqkey_sd(PSID account, PSECURITY_DESCRIPTOR *sd, DWORD *len, cs_err_t *err);

/* Removes from LocalMachine\REQUEST every placeholder whose key link names the CNG key
 * where ("certsteward-<name>"): the key is being deleted (reqkey_place.c). */
int cs__win_reqkey_unplace(const char *where, cs_err_t *err);

/* Whether a certificate in LocalMachine\My is bound to the CNG key where (*in_use 1): the
 * request's certificate was put in service with it, by certsteward or by hand. On an
 * error *in_use is 1 (reqkey_place.c). */
int cs__win_reqkey_in_use(const char *where, int *in_use, cs_err_t *err);

/* The key's CNG handle (borrowed). */
NCRYPT_KEY_HANDLE cs__win_reqkey_handle(cs_plat_reqkey_t *k);

#endif
