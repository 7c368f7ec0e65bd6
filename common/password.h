/* The PFX / private-key password, read from a file (never from a command line):
 * its first line, without a UTF-8 byte-order mark and the trailing CR/LF that
 * Notepad writes. The caller owns the result and frees it with cs_password_free,
 * which wipes it. */
#ifndef CS_PASSWORD_H
#define CS_PASSWORD_H

#include "error.h"

#define CS_PASSWORD_FILE_MAX 4096

int cs_password_read(const char *path, char **password, cs_err_t *err);
void cs_password_free(char *password);

#endif
