/* The pure part of cs_plat_folder_unsafe on Windows (common/win/folder.c): deciding from
 * a folder's owner and DACL, with no file system, so that tests can feed it any DACL. */
#ifndef CS_WIN_ACL_H
#define CS_WIN_ACL_H

#include <windows.h>

/* Rights that let someone change what a folder holds or who may: add files or
 * folders, delete children, delete or rename the folder, its attributes, its DACL or
 * owner, and the generic rights that include any of them. */
#define CS_WIN_FOLDER_WRITE_RIGHTS                                                                                     \
  (FILE_WRITE_DATA | FILE_APPEND_DATA | FILE_WRITE_EA | FILE_DELETE_CHILD | FILE_WRITE_ATTRIBUTES | DELETE |           \
   WRITE_DAC | WRITE_OWNER | GENERIC_WRITE | GENERIC_ALL | MAXIMUM_ALLOWED)

/* Rights that let someone read or change a secret file (the PFX password): reading its
 * data or extended attributes, the generic rights that include it, and every right that
 * lets one change the file or who may. */
#define CS_WIN_SECRET_RIGHTS                                                                                           \
  (CS_WIN_FOLDER_WRITE_RIGHTS | FILE_READ_DATA | FILE_READ_EA | GENERIC_READ | GENERIC_EXECUTE)

/* What makes a folder unsafe (cs__win_dacl_unsafe's answer). */
enum {
  CS_WIN_SAFE = 0,
  CS_WIN_NO_DACL,       /* a NULL DACL grants everyone everything */
  CS_WIN_OWNER,         /* owned by someone untrusted, who can always rewrite the DACL */
  CS_WIN_WRITER,        /* an allow entry gives write-type rights to someone untrusted */
  CS_WIN_UNKNOWN_ENTRY, /* an allow entry of a kind this check cannot read */
  CS_WIN_UNREAD         /* the owner or the DACL could not be read (cs__win_sd_judge) */
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
/* The same; above 1: inherit-only entries not counted (a folder above, a key: they say
 * only who may do what with entries made inside it). */
int cs__win_dacl_judge(PACL dacl, PSID owner, PSID self, ACCESS_MASK rights, int above, PSID *who);

/* cs__win_dacl_unsafe on the owner and DACL of the open file or folder h (opened
 * with READ_CONTROL), this process's user as self; an owner or DACL that cannot be
 * read answers unsafe (CS_WIN_OWNER, CS_WIN_UNKNOWN_ENTRY). */
int cs__win_handle_unsafe(HANDLE h, ACCESS_MASK rights);

/* ---- the folders on the path of a file certsteward writes (writers.c) ----------- */

/* Rights on a folder above that let someone replace an entry it holds: delete or
 * rename a child (FILE_DELETE_CHILD), the folder itself (DELETE), change who may
 * (WRITE_DAC, WRITE_OWNER), and the generic rights that include them. Adding a file
 * or folder, what C:\ lets every user do, replaces nothing that exists. */
#define CS_WIN_REPLACE_RIGHTS (FILE_DELETE_CHILD | DELETE | WRITE_DAC | WRITE_OWNER | GENERIC_ALL | MAXIMUM_ALLOWED)

/* Who other than Administrators, SYSTEM, TrustedInstaller and self (may be NULL) can
 * change a folder on the path of a written file, from its owner and DACL: own 1 for
 * the folder that holds the file (every write-type right, CS_WIN_FOLDER_WRITE_RIGHTS,
 * entries for what is created inside included: adding a file there plants one), 0 for
 * one above (CS_WIN_REPLACE_RIGHTS, entries that apply only inside not counted: what
 * is inside is judged on its own). CS_WIN_SAFE or CS_WIN_OWNER / CS_WIN_WRITER with
 * *who (may be NULL) the SID at fault, CS_WIN_NO_DACL, CS_WIN_UNKNOWN_ENTRY. Pure. */
int cs__win_writers_judge(PACL dacl, PSID owner, PSID self, int own, PSID *who);

/* cs__win_writers_judge on a security descriptor as GetSecurityInfo returns it (owner
 * and DACL): sd NULL (it could not be read) or without an owner answers CS_WIN_UNREAD,
 * one without a DACL CS_WIN_NO_DACL (everyone may do anything). Pure. Used for every
 * folder of cs_plat_path_writers and for the folders above the state and drop folders,
 * the configuration and the password file (own 0). */
int cs__win_sd_judge(PSECURITY_DESCRIPTOR sd, PSID self, int own, PSID *who);

/* Says a cs__win_writers_judge answer as platform.h's who: "NT SERVICE\\X (S-1-5-80-...)
 * (DACL)", "BUILTIN\\Users (S-1-5-32-545) (owner)", "everyone (no DACL)". */
void cs__win_writers_say(int judged, PSID at_fault, char *who, size_t len);

/* ---- what was found at a path, before it is trusted (folder.c) ------------------ */

/* The answer of cs__win_found_judge. */
enum {
  CS_WIN_FOUND_OK = 0,  /* made by an administrator and writable by no one else */
  CS_WIN_FOUND_REPARSE, /* a link, junction or other reparse point */
  CS_WIN_FOUND_KIND,    /* a file where a folder belongs, or the reverse */
  CS_WIN_FOUND_LINKS,   /* a file with more than one name (a hard link someone made) */
  CS_WIN_FOUND_OWNER,   /* owned by someone else, or the owner cannot be read */
  CS_WIN_FOUND_WRITER   /* owned by an administrator, but others may change it (or the DACL cannot be read) */
};

/* 1 when owner may own what certsteward trusts: BUILTIN\Administrators, SYSTEM,
 * NT SERVICE\TrustedInstaller or self (this process's user, may be NULL). Stricter
 * than cs__win_sid_trusted: the owner of a planted file is never "CREATOR OWNER". */
int cs__win_owner_trusted(PSID owner, PSID self);

/* Judges what was found at a path from its attributes, link count, owner (NULL: not
 * read) and DACL (dacl_read 0: not read; dacl NULL: none, everyone may do anything):
 * want 1 a folder, 0 a file, -1 either; rights as cs__win_dacl_unsafe. Pure. *who
 * (may be NULL) receives the SID at fault or NULL. */
int cs__win_found_judge(DWORD attrs, DWORD links, int want, PSID owner, int dacl_read, PACL dacl, PSID self,
                        ACCESS_MASK rights, PSID *who);

/* Opens path itself, never what a reparse point names (FILE_FLAG_OPEN_REPARSE_POINT),
 * a folder too (FILE_FLAG_BACKUP_SEMANTICS), shared for read, write and delete. */
HANDLE cs__win_open_self(const wchar_t *path, DWORD access);

/* The owner and DACL of the open handle h into *sd (LocalFree), judged as
 * cs__win_found_judge does; a security descriptor that cannot be read answers
 * CS_WIN_FOUND_OWNER. links and attrs from GetFileInformationByHandle. */
int cs__win_found_handle(HANDLE h, int want, PSID self, ACCESS_MASK rights, PSID *who, PSECURITY_DESCRIPTOR *sd);

/* This process's user SID as a new LocalAlloc copy (LocalFree), NULL when it cannot be read. */
PSID cs__win_self_sid(void);

/* "DOMAIN\name (S-1-...)", or the SID alone when it has no name here. */
void cs__win_describe_sid(PSID sid, char *buf, size_t len);

/* ---- the protected base entries of a private folder (adopt.c) ------------------- */

/* 1 when dacl is protected from inheritance (control from the security descriptor)
 * and gives SYSTEM and Administrators full control on the folder and what it holds. */
int cs__win_dacl_has_base(SECURITY_DESCRIPTOR_CONTROL control, PACL dacl);

/* A new DACL (LocalFree) of every entry of dacl (NULL: none), inherited ones made
 * explicit, in their order, then the base entries that are missing: what a folder
 * that is already safe keeps, protected, across a repair or upgrade. NULL when out
 * of memory or dacl cannot be read. */
PACL cs__win_dacl_with_base(PACL dacl);

#endif
