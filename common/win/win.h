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

#endif
