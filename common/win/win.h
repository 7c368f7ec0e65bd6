/* Shared by the Windows half only (not part of platform.h): UTF-8 <-> UTF-16 at the
 * edge, paths for the wide API, and Windows errors as CS_E* codes and text. */
#ifndef CS_WIN_H
#define CS_WIN_H

#include <windows.h>

#include <stddef.h>

#include "../error.h"

/* New UTF-16 copy of a UTF-8 string (free), NULL on invalid UTF-8 or out of memory. */
wchar_t *cs__win_wide(const char *s);

/* New UTF-8 copy of a UTF-16 string (free), NULL when out of memory. */
char *cs__win_utf8(const wchar_t *w);

/* New UTF-16 path (free) for the wide file API: '/' becomes '\', and a path too long
 * for MAX_PATH is made absolute and given the \\?\ (or \\?\UNC\) prefix, so that long
 * paths work without the process being long-path aware. NULL as cs__win_wide. */
wchar_t *cs__win_path(const char *path);

/* The CS_E* code for a GetLastError() value. */
int cs__win_code(DWORD e);

/* "The system cannot find the file specified. (Windows error 2)" into buf; returns buf. */
const char *cs__win_text(DWORD e, char *buf, size_t len);

/* Records GetLastError()-style e into err as "<what>: <system text>"; returns the code. */
int cs__win_fail(cs_err_t *err, DWORD e, const char *what);

/* cs__win_fail with the what made printf-style. */
int cs__win_failf(cs_err_t *err, DWORD e, const char *fmt, ...) CS_PRINTF(3, 4);

/* A file operation that an open handle of someone else can block for a moment
 * (antivirus, an indexer, a reader without FILE_SHARE_DELETE): 1 to try again. */
int cs__win_transient(DWORD e);

/* Appends to b (a cs_buf_t *) one argument quoted so that the Microsoft C runtime and
 * CommandLineToArgvW read it back unchanged. */
struct cs_buf_s;
void cs__win_quote_arg(struct cs_buf_s *b, const char *arg);

/* CreateProcessW's limit on a command line, in UTF-16 units with the NUL. */
#define CS__WIN_CMDLINE_MAX 32767

/* The command line CreateProcessW gets for argv (argv[0] quoted as it is: a
 * program's path may not hold a quote; the others by cs__win_quote_arg), as a new
 * UTF-16 string in *line (free()). CS_EINVAL, CS_ENOMEM or CS_ETOOBIG with err set. */
int cs__win_command_line(const char *const *argv, wchar_t **line, cs_err_t *err);

/* What a program's wmain does (linked with -municode): run(argc, argv) with wargv in
 * UTF-8, converted once here, and its exit status; nomem_code when that conversion
 * runs out of memory. Windows' own argv for main is in the ANSI code page, which
 * cannot hold every path. */
int cs__win_wmain(int argc, wchar_t **wargv, int (*run)(int argc, char **argv), int nomem_code);

/* The message ID of an event in the message table (severity << 30 | catalog ID), as
 * ReportEvent is given it and FormatMessage finds it (eventlog.c). */
struct cs_event_def_s;
DWORD cs__win_event_message_id(const struct cs_event_def_s *def);

/* ---- paths walked without following a link (walk.c, pathguard.c) --------------------
 * Every file certsteward touches as LocalSystem is reached by opening each component
 * of its path relative to the handle of the folder before it, never following a
 * reparse point (junction, symbolic link, mount point): a link planted in a folder
 * another account can write (a connector's config folder, a folder above a binding
 * file) redirects no read, write, replacement, deletion, rename or folder creation.
 * What stays open is said in walk.c and pathguard.c. */

/* Length of the part of path that is no folder of its own: "C:\", "\", "\\server\share\",
 * "\\?\C:\", "\\?\UNC\server\share\"; 0 for a relative path (fs.c). */
size_t cs__win_root_len(const wchar_t *path);

/* Index where the last component of w starts. */
size_t cs__win_base_of(const wchar_t *w);

/* 1 when a and b name the same path: compared case-insensitively (ordinal), '/' and
 * '\' alike, after dropping a \\?\ or \??\ prefix (\\?\UNC\ counts as \\). */
int cs__win_same_path(const wchar_t *a, const wchar_t *b);

/* The folder of a path's last component, reached without following a link. */
typedef struct cs__win_at_s {
  HANDLE dir;          /* that folder (INVALID_HANDLE_VALUE when not walked) */
  wchar_t *full;       /* the path, absolute (owned) */
  const wchar_t *name; /* its last component, in full ("" for a root or with CS__WIN_WALK_ALL) */
  size_t len;          /* name's length */
} cs__win_at_t;

#define CS__WIN_WALK_CREATE 1u /* missing folders are created (with sd), each relative to its parent */
#define CS__WIN_WALK_ALL 2u    /* the last component is a folder too, and walked: dir is it */

/* Opens path's folder from its root, one component at a time relative to the handle of
 * the one before (NtCreateFile, FILE_OPEN_REPARSE_POINT, OBJ_DONT_REPARSE where known),
 * refusing (CS_ENOTREG) the first that is a junction, symbolic link or mount point, by
 * name; "." and ".." components, wildcards and streams are refused (CS_EINVAL); a
 * missing folder is CS_ENOENT (with text). shown: path as the error text names it.
 * Close *at with cs__win_at_close (also after a failure). */
int cs__win_walk(const wchar_t *path, const char *shown, unsigned flags, PSECURITY_DESCRIPTOR sd, cs__win_at_t *at,
                 cs_err_t *err);
void cs__win_at_close(cs__win_at_t *at);

/* NtCreateFile of name (len characters, one component; "" reopens dir) relative to dir,
 * with FILE_OPEN_REPARSE_POINT, synchronous; *h INVALID_HANDLE_VALUE on failure.
 * *created (may be NULL): 1 when it was made. ERROR_SUCCESS or the Windows error
 * (ERROR_REPARSE_POINT_ENCOUNTERED when OBJ_DONT_REPARSE met a link). */
DWORD cs__win_open_at(HANDLE dir, const wchar_t *name, size_t len, DWORD access, DWORD share, ULONG disposition,
                      ULONG options, PSECURITY_DESCRIPTOR sd, HANDLE *h, int *created);

/* What was opened as name in a folder: */
#define CS__WIN_PLAIN 0 /* no reparse point */
#define CS__WIN_LINK 1  /* the handle is the reparse point itself (Windows opened the link) */
#define CS__WIN_FOLLOWED                                                                                               \
  2 /* the folder lists a reparse point the handle is not: followed (Wine's                                            \
     * Unix symbolic links), or swapped between the open and the look */

/* The decision, given the attributes of the handle and of name's entry in its folder. */
int cs__win_link_verdict(DWORD handle_attrs, DWORD entry_attrs);

/* h's information into *fi and the verdict on h as name in dir; -1 (GetLastError) when
 * it cannot be told. */
int cs__win_look_at(HANDLE dir, const wchar_t *name, size_t len, HANDLE h, BY_HANDLE_FILE_INFORMATION *fi);

/* Opens at's last component relative to its folder (access + FILE_READ_ATTRIBUTES),
 * its information into *fi: CS_ENOENT without text when it is missing, CS_ENOTREG
 * when it is a link or reparse point. */
int cs__win_open_last(const cs__win_at_t *at, DWORD access, DWORD share, ULONG disposition, ULONG options,
                      PSECURITY_DESCRIPTOR sd, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi, const char *shown,
                      cs_err_t *err);

/* Renames the file of h (opened with DELETE) to name relative to dir
 * (FileRenameInformation with RootDirectory); ERROR_SUCCESS or the Windows error. */
DWORD cs__win_rename_at(HANDLE h, HANDLE dir, const wchar_t *name, size_t len, int replace);

/* Calls fn for each entry of the folder dir (but "." and "..") whose name matches
 * pattern (plen characters; NtQueryDirectoryFile's, '*' and '?'; NULL: all), with its name (len
 * characters, not NUL-terminated), attributes and last write time, until fn returns
 * nonzero. ERROR_SUCCESS or the Windows error. */
typedef int (*cs__win_entry_cb)(void *ctx, const wchar_t *name, size_t len, DWORD attrs, const FILETIME *written);
DWORD cs__win_list_at(HANDLE dir, const wchar_t *pattern, size_t plen, cs__win_entry_cb fn, void *ctx);

/* Opens path itself through cs__win_walk, never what it links to, with access (+
 * FILE_READ_ATTRIBUTES, SYNCHRONIZE) and every sharing, and its information into *fi:
 * CS_ENOENT without text when it (or a folder above) is missing, CS_ENOTREG when it or a
 * folder above is a reparse point, or it is a folder or a file with more than one name
 * (a hard link to a file elsewhere). */
int cs__win_open_nofollow(const wchar_t *path, DWORD access, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi,
                          const char *shown, cs_err_t *err);

/* Deletes the file of h (opened with DELETE) when h closes; 0, or -1 (GetLastError). */
int cs__win_delete_handle(HANDLE h);

/* Renames the file of h (opened with DELETE) to path, not over an existing file: the
 * name relative to path's folder reached by cs__win_walk; 0, or -1 (GetLastError). */
int cs__win_rename_in_place(HANDLE h, const wchar_t *path);

/* ---- the record of a replacement in progress (pending.c) ----------------------------- */

/* 1 when name is ".<base>.XXXXXX<suffix>" (base: len characters), a temp name replace.c makes. */
int cs__win_is_temp_of(const wchar_t *name, const wchar_t *base, size_t len, const wchar_t *suffix);

/* Records in record_dir (admin-only) that the replacement of wpath made the temp file
 * tmp (identity *tmp_fi) and will move the old file (identity *old_fi) to bak (NULL:
 * wpath is new). Written before the temp file gets any data. */
int cs__win_pending_write(const char *record_dir, const wchar_t *wpath, const wchar_t *tmp,
                          const BY_HANDLE_FILE_INFORMATION *tmp_fi, const wchar_t *bak,
                          const BY_HANDLE_FILE_INFORMATION *old_fi, cs_err_t *err);

/* The replacement of wpath is over and left nothing: its record goes. */
void cs__win_pending_drop(const char *record_dir, const wchar_t *wpath);

/* What a replacement of wpath recorded in record_dir left: the old file put back when
 * wpath is missing, else removed, and the temp file removed, each only when it is the
 * very file recorded, opened without following a link; then the record goes. 0 when
 * there was no record. path: wpath as the error text names it. */
int cs__win_pending_recover(const char *record_dir, const wchar_t *wpath, const char *path, cs_err_t *err);

/* ---- what a file is written back with (filemeta.c) -----------------------------------
 * "A:<hex attributes>;<SDDL of owner and DACL>", a line for the backup manifest
 * (cs_plat_read_file_meta, cs_plat_write_recorded). */

/* The attributes a replacement keeps (SetFileAttributes takes these): none that grants
 * access, nor encryption, compression, sparseness or a reparse point, which
 * FileBasicInfo does not set. Not FILE_ATTRIBUTE_OFFLINE: it says the data was moved to
 * offline storage, which the new file's is not ("applications should not arbitrarily
 * change this attribute", File Attribute Constants, Win32 docs). */
#define CS__WIN_KEPT_ATTRIBUTES                                                                                        \
  (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM | FILE_ATTRIBUTE_ARCHIVE |                  \
   FILE_ATTRIBUTE_NOT_CONTENT_INDEXED | FILE_ATTRIBUTE_TEMPORARY)

/* The text of sd's owner and DACL (both must be there) and attrs (within
 * CS__WIN_KEPT_ATTRIBUTES) into *meta (free()); CS_EFORMAT, CS_ENOMEM. */
int cs__win_meta_encode(PSECURITY_DESCRIPTOR sd, DWORD attrs, char **meta);

/* meta's attributes and a security descriptor with its owner and DACL (LocalFree);
 * CS_EFORMAT for anything the encoding does not make (no owner, no DACL, a group or a
 * SACL, other attributes, a tab or a line break) and for what it refuses (a NULL DACL,
 * an owner many accounts share, an entry other than allow and deny), CS_ENOMEM. */
int cs__win_meta_decode(const char *meta, DWORD *attrs, PSECURITY_DESCRIPTOR *sd);

/* The text of the owner and DACL of the file of h (opened with READ_CONTROL) and of
 * attrs; err names path. */
int cs__win_meta_of(HANDLE h, DWORD attrs, char **meta, const char *path, cs_err_t *err);

/* SeRestorePrivilege on for this thread alone (ImpersonateSelf, enabled in the thread
 * token): 1 when the thread now impersonates (cs__win_revert ends it and drops the
 * privilege), 0 when it could not or the thread already impersonates. */
int cs__win_restore_privilege(void);

/* RevertToSelf; the process ends (abort) when it fails, as its documentation asks. */
void cs__win_revert(void);

/* A descriptor (LocalFree) whose DACL is protected and lets the process's user alone in:
 * what a file gets at its creation when its DACL is set right after, so that nobody the
 * folder's inheritable entries let in can open it (for WRITE_DAC, which sharing does not
 * stop) before then. CS_OK, CS_ENOMEM, CS_EFAILED. */
int cs__win_creator_only_sd(PSECURITY_DESCRIPTOR *sd);

/* Gives the file of h (opened with WRITE_DAC, WRITE_OWNER, READ_CONTROL) sd's DACL,
 * protected or not as sd's control says, then sd's owner when it is not already the
 * file's (with SeRestorePrivilege). */
int cs__win_sd_apply(HANDLE h, PSECURITY_DESCRIPTOR sd, const char *path, cs_err_t *err);

#endif
