/* Inside the Windows folder checks: what folder.c (the DACL decision, the folder,
 * secret-file and state checks) and writers.c (cs_plat_path_writers, the folders
 * above) share. Not for other files. */
#ifndef CS_WIN_FOLDER_INT_H
#define CS_WIN_FOLDER_INT_H

#include <windows.h>

#include "../error.h"

/* Room for this process's TOKEN_USER and its SID. */
union cs__win_self_sid_u {
  TOKEN_USER u;
  unsigned char b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
};

/* This process's user SID, copied into buf (NULL when it cannot be read). */
PSID cs__win_self_sid_into(union cs__win_self_sid_u *buf);

/* Opens path itself through the walk, following no link (CS_ENOTREG); CS_ENOENT
 * without text: path itself is missing. */
int cs__win_open_walked(const wchar_t *w, const char *shown, DWORD access, HANDLE *h, cs_err_t *err);

/* The reason cs__win_open_walked failed, into why. */
void cs__win_walked_why(int rc, cs_err_t *err, const char *path, char *why, size_t len);

/* Every folder above path (the folder or file itself not judged), from its drive's or
 * share's root down, judged as cs_plat_path_writers judges the folders above a written
 * file: 0 when only Administrators, SYSTEM, TrustedInstaller and this process's user
 * can rename or delete what they hold or change who may; else 1 with the folder and
 * who in why, failing closed (writers.c). path is made absolute as the walk makes it. */
int cs__win_above_unsafe(const char *path, char *why, size_t len);

#endif
