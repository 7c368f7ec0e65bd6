/* The one interface between the portable core and the operating system.
 * common/posix/ and common/win/ implement the same names; the build picks one.
 * Strings are UTF-8 everywhere (the Windows half converts at the edge). */
#ifndef CS_PLATFORM_H
#define CS_PLATFORM_H

#include <stddef.h>

#include "error.h"

/* 1 when built for Windows, 0 otherwise: lets tables hold both platforms'
 * defaults side by side without #ifdef in the core. */
int cs_plat_is_windows(void);

/* cs_plat_read_file flags */
#define CS_READ_NOFOLLOW 0x1 /* refuse a symbolic link / reparse point as the last component */

/* Reads a whole regular file of at most max bytes into a new buffer (NUL-terminated
 * after *len bytes, for convenience). Refuses FIFOs, devices and folders (CS_ENOTREG)
 * without blocking on them, and files over max (CS_ETOOBIG) before reading them.
 * The caller frees *data with cs_plat_free_file, which wipes it. */
int cs_plat_read_file(const char *path, size_t max, unsigned flags, unsigned char **data,
                      size_t *len, cs_err_t *err);
void cs_plat_free_file(unsigned char *data, size_t len);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop. */
void cs_plat_wipe(void *p, size_t n);

/* This machine's fully qualified DNS name (falls back to the plain host name
 * when the resolver knows no domain). */
int cs_plat_fqdn(char *buf, size_t len, cs_err_t *err);

/* Where the configuration lives when no --config is given:
 * /etc/certsteward/certsteward.ini, or %ProgramData%\certsteward\certsteward.ini. */
int cs_plat_default_config_path(char *buf, size_t len);

/* 1 if path is absolute for this platform. */
int cs_plat_path_is_absolute(const char *path);

/* New string: path when absolute or when relative_to_file is NULL, else path
 * taken relative to the folder holding relative_to_file. NULL when out of memory. */
char *cs_plat_path_resolve(const char *relative_to_file, const char *path);

#endif
