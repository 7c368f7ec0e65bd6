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

/* MoveFileExW(REPLACE_EXISTING | WRITE_THROUGH), tried again for a second while
 * someone else's handle blocks it; FALSE with the error in *e (common/win/replace.c). */
BOOL cs__win_move_replace(const wchar_t *from, const wchar_t *to, DWORD *e);

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

/* ---- files in folders others may write (pathguard.c) ------------------------------- */

/* Length of the part of path that is no folder of its own: "C:\", "\", "\\server\share\",
 * "\\?\C:\", "\\?\UNC\server\share\"; 0 for a relative path (fs.c). */
size_t cs__win_root_len(const wchar_t *path);

/* Index where the last component of w starts. */
size_t cs__win_base_of(const wchar_t *w);

/* Where each component of path after its root ends: path[0..ends[i]) is the i-th
 * prefix ("C:\a", "C:\a\b", ...). Returns how many there are (only max are stored). */
size_t cs__win_component_ends(const wchar_t *path, size_t *ends, size_t max);

/* The decision on a path's components, given their attributes in order from the root:
 * the index of the first reparse point (junction, symbolic link, mount point), or n. */
size_t cs__win_first_link(const DWORD *attrs, size_t n);

/* 1 when a and b name the same path: compared case-insensitively (ordinal), '/' and
 * '\' alike, after dropping a \\?\ or \??\ prefix (\\?\UNC\ counts as \\). */
int cs__win_same_path(const wchar_t *a, const wchar_t *b);

/* Walks every component of path from the drive root (each opened with
 * FILE_FLAG_OPEN_REPARSE_POINT): CS_ENOTREG naming the first that is a reparse point;
 * a missing one ends the walk (0). shown: path as the error text names it. */
int cs__win_no_link_in_path(const wchar_t *path, const char *shown, cs_err_t *err);

/* 0 when h's final path (GetFinalPathNameByHandleW, VOLUME_NAME_DOS) is path, made
 * absolute; CS_ENOTREG naming where it leads when not (a folder swapped for a link). */
int cs__win_handle_is_at(HANDLE h, const wchar_t *path, const char *shown, cs_err_t *err);

/* Opens path itself, never what it links to, with access (+ FILE_READ_ATTRIBUTES,
 * SYNCHRONIZE) and every sharing, and its information into *fi: CS_ENOENT without text
 * when it is missing, CS_ENOTREG when it is a reparse point, a folder or a file with
 * more than one name (a hard link to a file elsewhere). */
int cs__win_open_nofollow(const wchar_t *path, DWORD access, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi,
                          const char *shown, cs_err_t *err);

/* Deletes the file of h (opened with DELETE) when h closes; 0, or -1 (GetLastError). */
int cs__win_delete_handle(HANDLE h);

/* Renames the file of h (opened with DELETE) to path, not over an existing file: the
 * name relative to a handle of path's folder, which must be no link and have path's
 * folder as its final path; 0, or -1 (GetLastError). */
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

#endif
