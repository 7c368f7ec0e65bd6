/* Binding rewrite: the connector names the certificate it serves by its SHA-1
 * thumbprint (40 hex digits) in one or more text files (BOARD Connector's
 * config\servers\tls.json). This module finds that thumbprint, compared
 * case-insensitively as the connector's own renewal script does, swaps it for the new
 * one byte-exactly (each occurrence's case, CRLF, BOM and encoding kept: one byte per
 * character, or UTF-16 in either byte order, told by its byte order mark or by a first
 * character whose other byte is zero), keeps a backup on disk that a later process can
 * undo from, and undoes. Crypto-free; file I/O through platform.h.
 * A token is exactly 40 hex digits with no hex digit just before or after it, so a
 * SHA-256 thumbprint or a longer hex blob never yields a match inside it.
 * Binding files are read without following a symbolic link as the last component:
 * the atomic rewrite would replace the link by a file. */
#ifndef CS_BINDINGS_H
#define CS_BINDINGS_H

#include <stddef.h>

#include "error.h"

#define CS_THUMBPRINT_LEN 40                      /* hex digits of a SHA-1 thumbprint */
#define CS_BINDINGS_MAX_FILE (4u * 1024u * 1024u) /* size limit of a binding file */
#define CS_BINDINGS_MAX_FOUND 256                 /* distinct tokens a scan lists (a binding file names a few) */
#define CS_BINDINGS_MANIFEST "manifest"           /* in backup_dir: "name TAB original path" lines */

/* 1 if s is exactly 40 hex digits (either case), else 0; NULL gives 0. */
int cs_thumbprint_valid(const char *s);
/* Upper-cases the ASCII letters a-f of s in place (locale-independent). */
void cs_thumbprint_upper(char *s);

/* ---- scan -------------------------------------------------------------------- */

typedef struct cs_bindings_found_s {
  char tp[CS_THUMBPRINT_LEN + 1]; /* upper case */
  size_t count;                   /* occurrences in all files */
  size_t *files;                  /* indexes into cs_bindings_scan_t.files, ascending, no repeats */
  size_t n_files;
} cs_bindings_found_t;

typedef struct cs_bindings_scan_s {
  char **files; /* copies of the scanned paths */
  size_t n_files;
  cs_bindings_found_t *found; /* distinct thumbprints in order of first occurrence */
  size_t n_found;
} cs_bindings_scan_t;

/* Reads every file (at most CS_BINDINGS_MAX_FILE each) and lists every distinct
 * thumbprint token, compared case-insensitively. Fails (CS_E*, *out empty) if a file
 * cannot be read, or CS_ETOOBIG past CS_BINDINGS_MAX_FOUND distinct tokens.
 * *out is owned by the caller: free with cs_bindings_scan_free. */
int cs_bindings_scan(const char *const *files, size_t n, cs_bindings_scan_t *out, cs_err_t *err);
void cs_bindings_scan_free(cs_bindings_scan_t *s);

/* The one thumbprint the scanned files name, upper case, into out. None: CS_ENOENT;
 * several different ones: CS_ECONFIG naming them and their files (the admin must
 * set [connector] thumbprint). */
int cs_bindings_current(const cs_bindings_scan_t *s, char out[CS_THUMBPRINT_LEN + 1], cs_err_t *err);

/* The rewrite of one file's contents, in place: each token equal to old_tp
 * (case-insensitively) becomes new_tp, all lower case where the token was, else
 * upper; every other byte is kept. Returns how many tokens were replaced. */
size_t cs_bindings_swap(unsigned char *p, size_t len, const char *old_tp, const char *new_tp);

/* ---- rewrite, backup, undo ------------------------------------------------- */

typedef struct cs_bindings_entry_s {
  char *original;  /* path of the binding file */
  char *backup;    /* path of its copy in the backup folder */
  char *meta;      /* what it is written back with (cs_plat_read_file_meta), NULL: what is at its path */
  size_t replaced; /* occurrences cs_bindings_rewrite replaced (0 after cs_bindings_backup_load) */
} cs_bindings_entry_t;

typedef struct cs_bindings_backup_s {
  char *dir;                    /* the backup folder */
  cs_bindings_entry_t *entries; /* one per file, in the order given to cs_bindings_rewrite */
  size_t n;
} cs_bindings_backup_t;

/* In every file, replaces each token equal to old_tp (case-insensitively) by new_tp
 * in the case that occurrence used (all lower stays lower, otherwise upper); every
 * other byte is kept. Before anything changes, every file must be readable and name
 * old_tp (else CS_ENOENT or the read error, and nothing is written). backup_dir is
 * made 0700 if missing and must not hold a manifest already (CS_EINVAL: restore or
 * cs_bindings_backup_remove it first); it receives a copy of each original (named
 * "<index>-<base name>") and then the manifest, then each file is replaced atomically
 * (an existing file keeps its owner, mode and ACL). If replacing file k fails, files
 * 0..k-1 are put back and the backup removed; should putting back fail, the
 * backup stays and the error says so (undo with backup_load + restore).
 * On success *backup (owned by the caller, free with cs_bindings_backup_free) lists
 * original -> backup and the count replaced per file; on error it is empty.
 * The manifest keeps the paths as given: give absolute ones for an undo after restart. */
int cs_bindings_rewrite(const char *const *files, size_t n, const char *old_tp, const char *new_tp,
                        const char *backup_dir, cs_bindings_backup_t *backup, cs_err_t *err);

/* The undo: writes every backup back over its original, atomically. Goes on past a
 * failure and returns the first error. Restoring twice is harmless. */
int cs_bindings_restore(const cs_bindings_backup_t *backup, cs_err_t *err);

/* Rebuilds *backup from backup_dir's manifest alone (after a crash). CS_ENOENT when
 * there is no manifest: the rewrite never started changing files, nothing to undo.
 * Free *backup with cs_bindings_backup_free. */
int cs_bindings_backup_load(const char *backup_dir, cs_bindings_backup_t *backup, cs_err_t *err);

/* Before an undo from a loaded backup: every file it names must be one of files (the
 * configured binding files), exactly as written there, and none named twice. Otherwise
 * the manifest is not this configuration's (CS_ECONFIG, naming the file) and nothing
 * may be restored from it: the whole manifest is checked before any file is written. */
int cs_bindings_backup_check(const cs_bindings_backup_t *backup, const char *const *files, size_t n, cs_err_t *err);

/* Removes the manifest, then the backup copies (not the folder): after COMMIT, or
 * after a restore, so the folder can take the next rewrite. Files already gone are fine. */
int cs_bindings_backup_remove(const cs_bindings_backup_t *backup, cs_err_t *err);

/* Frees what *backup owns and empties it; an empty or freed one is fine. */
void cs_bindings_backup_free(cs_bindings_backup_t *backup);

#endif
