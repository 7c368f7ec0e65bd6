/* The PFX / private-key password, kept in a file (never on a command line).
 * Reading: the file is unsealed first (Windows: a DPAPI blob written by
 * `certsteward set-password`); a plain file an admin wrote by hand works as well.
 * The password is the first line, without a UTF-8 byte-order mark and the trailing
 * CR/LF that Notepad writes. The caller owns the result and frees it with
 * cs_password_free, which wipes it. */
#ifndef CS_PASSWORD_H
#define CS_PASSWORD_H

#include <stddef.h>

#include "error.h"

#define CS_PASSWORD_FILE_MAX 4096
#define CS_PASSWORD_MAX 1024 /* bytes of UTF-8: the longest password cs_password_write stores */

/* The first bytes of a sealed password file: what follows is a DPAPI blob (machine
 * scope). Shared by both platforms' secret.c, so that Linux can say what such a file is. */
#define CS_SECRET_HEADER "certsteward sealed password (Windows DPAPI)\r\n"
#define CS_SECRET_HEADER_LEN (sizeof CS_SECRET_HEADER - 1)

int cs_password_read(const char *path, char **password, cs_err_t *err);
void cs_password_free(char *password);

/* Stores password (UTF-8, not empty, no CR, LF or NUL, at most CS_PASSWORD_MAX bytes)
 * in path as one line: sealed (cs_plat_secret_seal), written atomically by
 * cs_plat_secret_store, then read back with cs_password_read and compared. Missing
 * parent folders are made private (0700). Nothing is written when the password is
 * refused; every copy of it is wiped. */
int cs_password_write(const char *path, const char *password, cs_err_t *err);

#endif
