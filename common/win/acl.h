/* The pure part of cs_plat_folder_unsafe on Windows (common/win/folder.c): deciding from
 * a folder's owner and DACL, with no file system, so that tests can feed it any DACL. */
#ifndef CS_WIN_ACL_H
#define CS_WIN_ACL_H

#include <windows.h>

/* Rights that let someone change what a folder holds or who may: add files or
 * folders, delete children, delete or rename the folder, its attributes, its DACL or
 * owner, and the generic rights that include any of them. */
#define CS_WIN_FOLDER_WRITE_RIGHTS                                                              \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_DELETE_CHILD | FILE_WRITE_ATTRIBUTES | \
   DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL | MAXIMUM_ALLOWED)

/* Rights that let someone read or change a secret file (the PFX password): reading its
 * data or extended attributes, the generic rights that include it, and every right that
 * lets one change the file or who may. */
#define CS_WIN_SECRET_RIGHTS \
  (CS_WIN_FOLDER_WRITE_RIGHTS | FILE_READ_DATA | FILE_READ_EA | GENERIC_READ | GENERIC_EXECUTE)

/* What makes a folder unsafe (cs__win_dacl_unsafe's answer). */
enum {
  CS_WIN_SAFE = 0,
  CS_WIN_NO_DACL,       /* a NULL DACL grants everyone everything */
  CS_WIN_OWNER,         /* owned by someone untrusted, who can always rewrite the DACL */
  CS_WIN_WRITER,        /* an allow entry gives write-type rights to someone untrusted */
  CS_WIN_UNKNOWN_ENTRY  /* an allow entry of a kind this check cannot read */
};

/* 1 if sid is one that may write to a protected folder: Administrators, SYSTEM,
 * TrustedInstaller, CREATOR OWNER (replaced by the creator, who could already write),
 * OWNER RIGHTS, self (this process's user; may be NULL) or owner (may be NULL). */
int cs__win_sid_trusted(PSID sid, PSID owner, PSID self);

/* Looks at owner and dacl of a folder (rights: CS_WIN_FOLDER_WRITE_RIGHTS) or of a secret
 * file (CS_WIN_SECRET_RIGHTS) (dacl NULL: none, which grants everyone
 * everything; owner NULL: not known, not held against it): CS_WIN_SAFE or why not
 * (CS_WIN_WRITER: an allow entry gives some of rights to someone untrusted);
 * *who (may be NULL) receives the SID at fault (pointing into owner or dacl) or NULL.
 * Entries that apply only to what is created inside (inherit-only) count too: they
 * say who may write to the files an admin drops there. Deny entries are not weighed
 * (the check may say unsafe where a deny entry makes it safe, never the reverse). */
int cs__win_dacl_unsafe(PACL dacl, PSID owner, PSID self, ACCESS_MASK rights, PSID *who);

/* cs__win_dacl_unsafe on the owner and DACL of the open file or folder h (opened
 * with READ_CONTROL), this process's user as self; an owner or DACL that cannot be
 * read answers unsafe (CS_WIN_OWNER, CS_WIN_UNKNOWN_ENTRY). */
int cs__win_handle_unsafe(HANDLE h, ACCESS_MASK rights);

#endif
