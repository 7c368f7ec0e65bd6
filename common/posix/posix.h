/* Shared by the POSIX half only (not part of platform.h). */
#ifndef CS_POSIX_H
#define CS_POSIX_H

#include "../error.h"

#include <sys/types.h>

/* The CS_E* code for an errno value. */
int cs__posix_errno(int e);

/* ---- reaching files without following links (walk.c) ------------------------- */

/* Opens the folder that holds path's last component, walking from / (or the current
 * folder, for a relative path) one component at a time without following a link: a
 * component that is a symbolic link, or "..", is refused (CS_ENOTREG / CS_EINVAL,
 * naming it). *dfd is that folder (close it), *base the last component (a new
 * string, free it); a path ending in "/" names no file (CS_EINVAL). */
int cs__posix_open_parent(const char *path, int *dfd, char **base, cs_err_t *err);

/* Opens the file path through cs__posix_open_parent with openat(flags | O_NOFOLLOW |
 * O_CLOEXEC | O_NOCTTY, mode): a link at the last component is refused too. */
int cs__posix_open_file(const char *path, int flags, int mode, int *fd, cs_err_t *err);

/* The owner, group, mode and ACL a file is written with (fs.c). */
typedef struct cs__posix_meta_s {
  long long uid, gid;
  int mode;  /* permission bits, & 07777 */
  char *acl; /* its access ACL as text (numeric ids) when it has entries beyond the
                mode; NULL when the mode says it all */
} cs__posix_meta_t;

/* What path (reached by cs__posix_open_parent) has: a regular file with one name,
 * else refused (CS_ENOTREG, saying what it is); CS_ENOENT when nothing is there.
 * Free with cs__posix_meta_free. */
int cs__posix_meta_read(const char *path, cs__posix_meta_t *m, cs_err_t *err);
void cs__posix_meta_free(cs__posix_meta_t *m);

/* Reads path's bytes (at most max, as cs_plat_read_file) and its owner, group, mode and
 * ACL through one descriptor, so that the two belong to the same file: what a backup
 * records. Errors as cs__posix_meta_read's. */
int cs__posix_read_meta(const char *path, size_t max, unsigned char **data, size_t *len, cs__posix_meta_t *m,
                        cs_err_t *err);

/* cs_plat_read_file once the file is open at fd (opened with O_NONBLOCK). */
int cs__posix_read_fd(int fd, const char *path, size_t max, unsigned char **data, size_t *len, cs_err_t *err);

/* cs_plat_write_atomic giving the new file exactly m's owner, group, mode and ACL,
 * whatever occupies path now (the undo of a replacement restores what was recorded,
 * not what someone may have put there since). */
int cs__posix_write_meta(const char *path, const void *data, size_t len, const cs__posix_meta_t *m, cs_err_t *err);

/* CS_OK when nothing is at path (reached as cs__posix_meta_read reaches it) or what is
 * there is owned by uid, the owner recorded when it was saved; else CS_EACCES naming
 * both (another file was put in its place since), or the read's error. What an undo
 * asks before it writes a saved file back. */
int cs__posix_owner_unchanged(const char *path, long long uid, cs_err_t *err);

/* Takes away every access of others (the mode's and the ACL's other entry): what a
 * file holding a private key is written with, whatever the file it replaces allowed. */
int cs__posix_meta_private(cs__posix_meta_t *m, cs_err_t *err);

/* The uid of the local account named account (keyperm.c); CS_ENOENT when none. */
int cs__posix_account_uid(const char *account, uid_t *uid, cs_err_t *err);

/* cs_plat_config_file_unsafe (CS__SOURCE_SECRET: cs_plat_secret_file_unsafe,
 * CS__SOURCE_FOLDER: cs_plat_folder_unsafe) of a path whose last component may be a link
 * too, followed as the folders above are (source.c). */
enum { CS__SOURCE_FILE, CS__SOURCE_SECRET, CS__SOURCE_FOLDER };
int cs__posix_source_unsafe(const char *path, int kind, char *why, size_t len);

#endif
