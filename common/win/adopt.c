/* certsteward install's look at what it is about to use (adopt.h).
 *
 * %ProgramData% lets every user create folders (CREATOR OWNER keeps full control), so
 * %ProgramData%\certsteward, its configuration, its drop and state folders may exist
 * before the MSI runs, made by a user who wants LocalSystem to run their
 * restart_command or undo their manifest. Nothing found is adopted on its name: each
 * path is opened once, without following a reparse point (CreateFileW with
 * FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS); its attributes, link
 * count, owner and DACL are read from that handle (GetFileInformationByHandle,
 * GetSecurityInfo), judged by cs__win_found_judge (folder.c), and whatever is done
 * next (SetSecurityInfo, a rename with SetFileInformationByHandle) is done to that
 * same handle, so a junction swapped in after the look is never what is changed.
 *
 * Under Wine every file is its process's user's and DACLs are made up from the Unix
 * mode (SetSecurityInfo changes the mode, never the owner): the decisions are
 * unit-tested on security descriptors from SDDL, the moving aside on real files under
 * Wine (with no "self", so that Wine's owner counts as someone else). That a real
 * NTFS DACL is kept or set as said here is proven only on real Windows. */
#include "adopt.h"
#include "acl.h"
#include "win.h"

#include <aclapi.h>
#include <bcrypt.h>
#include <sddl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Owner Administrators; Administrators and SYSTEM full control, inherited; nothing
 * inherited from above (protected). */
#define PRIVATE_SDDL L"O:BAD:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)"
#define BASE_FLAGS (OBJECT_INHERIT_ACE | CONTAINER_INHERIT_ACE)

typedef union sid_buf_u {
  SID s;
  unsigned char b[SECURITY_MAX_SID_SIZE];
} sid_buf_t;

static int base_sid(WELL_KNOWN_SID_TYPE type, sid_buf_t *buf) {
  DWORD n = sizeof *buf;
  return CreateWellKnownSid(type, NULL, buf, &n);
}

/* 1 when dacl has an explicit, effective allow entry of full control for sid, passed
 * on to files and folders made inside. */
static int has_full(PACL dacl, PSID sid) {
  DWORD i;
  for (i = 0; i < dacl->AceCount; i++) {
    ACCESS_ALLOWED_ACE *ace = NULL;
    if (!GetAce(dacl, i, (void **)&ace) || ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE)
      continue;
    if ((ace->Header.AceFlags & BASE_FLAGS) != BASE_FLAGS || (ace->Header.AceFlags & INHERIT_ONLY_ACE))
      continue;
    if (((ace->Mask & FILE_ALL_ACCESS) == FILE_ALL_ACCESS || (ace->Mask & GENERIC_ALL)) &&
        EqualSid((PSID)&ace->SidStart, sid))
      return 1;
  }
  return 0;
}

/* 1 when an entry of dacl was inherited from the folder above. */
static int has_inherited(PACL dacl) {
  DWORD i;
  for (i = 0; dacl != NULL && i < dacl->AceCount; i++) {
    ACE_HEADER *ace = NULL;
    if (GetAce(dacl, i, (void **)&ace) && (ace->AceFlags & INHERITED_ACE))
      return 1;
  }
  return 0;
}

int cs__win_safe_folder_action(SECURITY_DESCRIPTOR_CONTROL control, PACL dacl, int foreign_with_files) {
  if (cs__win_dacl_has_base(control, dacl))
    return CS_WIN_KEEP;
  if (control & SE_DACL_PROTECTED) /* an administrator's (or an earlier install's) own rules */
    return CS_WIN_ADD_BASE;
  /* not protected, and rules flow from the folder above (for the home folder,
   * %ProgramData%, whose rules let Users create): install's own, as on a first
   * install, unless it is a folder elsewhere that holds files (the administrator's).
   * Not protected with nothing inherited (Wine makes every DACL so): safe as it is. */
  return has_inherited(dacl) && !foreign_with_files ? CS_WIN_RESET : CS_WIN_KEEP;
}

int cs__win_dacl_has_base(SECURITY_DESCRIPTOR_CONTROL control, PACL dacl) {
  sid_buf_t sy, ba;
  if (!(control & SE_DACL_PROTECTED) || dacl == NULL)
    return 0;
  return base_sid(WinLocalSystemSid, &sy) && base_sid(WinBuiltinAdministratorsSid, &ba) && has_full(dacl, &sy) &&
         has_full(dacl, &ba);
}

/* Appends a copy of dacl's entries to acl, explicit (no INHERITED_ACE); deny (1) or
 * the others (0), so that deny entries stay first as Windows orders them. */
static int copy_entries(PACL acl, PACL dacl, int deny) {
  DWORD i;
  for (i = 0; dacl != NULL && i < dacl->AceCount; i++) {
    ACE_HEADER *ace = NULL;
    unsigned char copy[65536];
    int is_deny;
    if (!GetAce(dacl, i, (void **)&ace))
      return 0;
    is_deny = ace->AceType == ACCESS_DENIED_ACE_TYPE || ace->AceType == ACCESS_DENIED_OBJECT_ACE_TYPE ||
              ace->AceType == ACCESS_DENIED_CALLBACK_ACE_TYPE || ace->AceType == ACCESS_DENIED_CALLBACK_OBJECT_ACE_TYPE;
    if (is_deny != deny)
      continue;
    memcpy(copy, ace, ace->AceSize);
    ((ACE_HEADER *)copy)->AceFlags &= (BYTE)~INHERITED_ACE;
    if (!AddAce(acl, acl->AclRevision, MAXDWORD, copy, ace->AceSize))
      return 0;
  }
  return 1;
}

PACL cs__win_dacl_with_base(PACL dacl) {
  sid_buf_t sy, ba;
  DWORD size = sizeof(ACL) + 2 * (sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE);
  BYTE rev = ACL_REVISION;
  PACL acl = NULL;
  if (dacl != NULL) {
    size += dacl->AclSize;
    if (dacl->AclRevision > rev)
      rev = dacl->AclRevision; /* object entries need ACL_REVISION_DS */
  }
  if (!base_sid(WinLocalSystemSid, &sy) || !base_sid(WinBuiltinAdministratorsSid, &ba) ||
      (acl = LocalAlloc(LMEM_FIXED | LMEM_ZEROINIT, size)) == NULL)
    return NULL;
  if (!InitializeAcl(acl, size, rev) || !copy_entries(acl, dacl, 1) || !copy_entries(acl, dacl, 0) ||
      (!has_full(acl, &sy) && !AddAccessAllowedAceEx(acl, rev, BASE_FLAGS, FILE_ALL_ACCESS, &sy)) ||
      (!has_full(acl, &ba) && !AddAccessAllowedAceEx(acl, rev, BASE_FLAGS, FILE_ALL_ACCESS, &ba))) {
    LocalFree(acl);
    return NULL;
  }
  return acl;
}

void cs__win_untrusted_name(const char *path, const SYSTEMTIME *t, const unsigned char rnd[CS_WIN_UNTRUSTED_RANDOM],
                            char *buf, size_t len) {
  snprintf(buf, len, "%s.untrusted-%04u%02u%02u-%02u%02u%02u-%02x%02x%02x%02x", path, t->wYear, t->wMonth, t->wDay,
           t->wHour, t->wMinute, t->wSecond, rnd[0], rnd[1], rnd[2], rnd[3]);
}

/* Renames what h is open on (DELETE access) to a new dated name beside path; the
 * name taken into out->moved_to. A name already there is not replaced: a new random
 * suffix is drawn, a few times. The suffix is what keeps a user who may create files
 * beside path from taking every name install could choose (a date alone, to the
 * second, can be guessed and created in advance: install would then fail). */
static int move_aside(HANDLE h, const char *path, cs_win_secured_t *out, cs_err_t *err) {
  union {
    FILE_RENAME_INFO r;
    unsigned char b[sizeof(FILE_RENAME_INFO) + 33000 * sizeof(wchar_t)];
  } *info = NULL;
  unsigned char rnd[CS_WIN_UNTRUSTED_RANDOM];
  SYSTEMTIME now;
  DWORD e = ERROR_ALREADY_EXISTS;
  NTSTATUS st;
  int n, rc;
  GetLocalTime(&now);
  if ((info = calloc(1, sizeof *info)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  for (n = 0; n < 4 && (e == ERROR_ALREADY_EXISTS || e == ERROR_FILE_EXISTS); n++) {
    wchar_t *w;
    size_t wn;
    if (!BCRYPT_SUCCESS(st = BCryptGenRandom(NULL, rnd, sizeof rnd, BCRYPT_USE_SYSTEM_PREFERRED_RNG))) {
      free(info);
      out->moved_to[0] = '\0';
      return cs_err_set(err, CS_EIO, (long)st, "cannot name %s.untrusted-...: no random number (status 0x%08lx)", path,
                        (unsigned long)st);
    }
    cs__win_untrusted_name(path, &now, rnd, out->moved_to, sizeof out->moved_to);
    if ((w = cs__win_path(out->moved_to)) == NULL || (wn = wcslen(w)) >= 33000) {
      free(w);
      free(info);
      rc = cs_err_set(err, CS_EINVAL, 0, "cannot name %s: the path is too long or not valid", out->moved_to);
      out->moved_to[0] = '\0';
      return rc;
    }
    memset(info, 0, sizeof *info);
    info->r.ReplaceIfExists = FALSE;
    info->r.RootDirectory = NULL;
    info->r.FileNameLength = (DWORD)(wn * sizeof(wchar_t));
    memcpy(info->r.FileName, w, (wn + 1) * sizeof(wchar_t));
    free(w);
    e = SetFileInformationByHandle(h, FileRenameInfo, &info->r,
                                   (DWORD)(sizeof(FILE_RENAME_INFO) + wn * sizeof(wchar_t)))
            ? ERROR_SUCCESS
            : GetLastError();
  }
  free(info);
  if (e == ERROR_SUCCESS)
    return CS_OK;
  rc = cs__win_failf(err, e, "cannot move %s aside to %s", path, out->moved_to);
  out->moved_to[0] = '\0';
  return rc;
}

/* A new folder at w with PRIVATE_SDDL, set as it is made (no moment without it). */
static DWORD make_private(const wchar_t *w) {
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
  DWORD e = ERROR_SUCCESS;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(PRIVATE_SDDL, SDDL_REVISION_1, &sa.lpSecurityDescriptor,
                                                            NULL))
    return GetLastError();
  if (!CreateDirectoryW(w, &sa))
    e = GetLastError();
  LocalFree(sa.lpSecurityDescriptor);
  return e;
}

/* Sets dacl, protected, on the handle h (WRITE_DAC), and owner unless NULL (WRITE_OWNER). */
static DWORD set_dacl(HANDLE h, PSID owner, PACL dacl) {
  SECURITY_INFORMATION what = DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION;
  return SetSecurityInfo(h, SE_FILE_OBJECT, owner != NULL ? what | OWNER_SECURITY_INFORMATION : what, owner, NULL, dacl,
                         NULL);
}

static int empty_folder(const wchar_t *path) {
  WIN32_FIND_DATAW fd;
  size_t n = wcslen(path);
  wchar_t *pattern = malloc(sizeof *pattern * (n + 3));
  HANDLE h;
  int empty = 1;
  if (pattern == NULL)
    return 0;
  swprintf(pattern, n + 3, L"%ls\\*", path);
  if ((h = FindFirstFileW(pattern, &fd)) != INVALID_HANDLE_VALUE) {
    do
      empty = wcscmp(fd.cFileName, L".") == 0 || wcscmp(fd.cFileName, L"..") == 0;
    while (empty && FindNextFileW(h, &fd));
    FindClose(h);
  }
  free(pattern);
  return empty;
}

static const char *found_text(int found) {
  switch (found) {
  case CS_WIN_FOUND_REPARSE:
    return "it is a link or junction";
  case CS_WIN_FOUND_KIND:
    return "it is a file where a folder belongs, or a folder where a file belongs";
  case CS_WIN_FOUND_LINKS:
    return "it has more than one name (a hard link)";
  case CS_WIN_FOUND_OWNER:
    return "it is owned by";
  default:
    return "someone other than the administrators may change it:";
  }
}

/* The reason for out->why: what found says, with the account at fault. */
static void say_why(cs_win_secured_t *out, PSID who) {
  char account[400] = "";
  if (who != NULL)
    cs__win_describe_sid(who, account, sizeof account);
  else if (out->found == CS_WIN_FOUND_OWNER)
    snprintf(account, sizeof account, "an account that cannot be read");
  else if (out->found == CS_WIN_FOUND_WRITER)
    snprintf(account, sizeof account, "no DACL, or a rule certsteward cannot read");
  snprintf(out->why, sizeof out->why, "%s%s%s", found_text(out->found), account[0] ? " " : "", account);
}

int cs__win_secure(const char *path, unsigned flags, PSID self, cs_win_secured_t *out, cs_err_t *err) {
  const int file = (flags & CS_WIN_SECURE_FILE) != 0;
  const DWORD access = READ_CONTROL | WRITE_DAC | WRITE_OWNER | DELETE | FILE_READ_ATTRIBUTES;
  PSECURITY_DESCRIPTOR sd = NULL, priv = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  PACL dacl = NULL, kept = NULL, priv_dacl = NULL;
  PSID who = NULL, priv_owner = NULL;
  HANDLE h = INVALID_HANDLE_VALUE;
  BOOL present = FALSE, defaulted = FALSE;
  DWORD e, revision = 0;
  wchar_t *w = NULL;
  int rc = CS_OK;

  memset(out, 0, sizeof *out);
  out->found = -1;
  if ((w = cs__win_path(path)) == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path, or out of memory", path);
  if (!file && !(flags & CS_WIN_SECURE_MOVE) && (e = make_private(w)) != ERROR_ALREADY_EXISTS) {
    out->created = e == ERROR_SUCCESS;
    rc = e == ERROR_SUCCESS ? CS_OK : cs__win_failf(err, e, "cannot create the folder %s", path);
    goto out;
  }
  if ((h = cs__win_open_self(w, access)) == INVALID_HANDLE_VALUE) {
    e = GetLastError();
    if ((file || (flags & CS_WIN_SECURE_MOVE)) && (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND))
      goto out; /* nothing there */
    if (e != ERROR_ACCESS_DENIED) {
      rc = cs__win_failf(err, e, "cannot open %s", path);
      goto out;
    }
    /* its DACL keeps us out: not an administrator's; moved aside, which the folder
     * above (Administrators: full control, so delete child) allows */
    if ((h = cs__win_open_self(w, DELETE | FILE_READ_ATTRIBUTES)) == INVALID_HANDLE_VALUE) {
      rc = cs__win_failf(err, GetLastError(), "cannot open %s", path);
      goto out;
    }
    out->found = CS_WIN_FOUND_OWNER;
  } else {
    out->found = cs__win_found_handle(h, !file, self, CS_WIN_FOLDER_WRITE_RIGHTS, &who, &sd);
  }
  if (flags & CS_WIN_SECURE_MOVE)
    goto move;
  if (out->found == CS_WIN_FOUND_OK && (file || (flags & CS_WIN_SECURE_AS_IS)))
    goto out; /* an administrator's, as it is */
  if (out->found == CS_WIN_FOUND_OK) {
    if (!GetSecurityDescriptorControl(sd, &control, &revision) ||
        !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted)) {
      rc = cs__win_failf(err, GetLastError(), "cannot read the permissions of %s", path);
      goto out;
    }
    switch (cs__win_safe_folder_action(control, present ? dacl : NULL,
                                       (flags & CS_WIN_SECURE_FOREIGN) && !empty_folder(w))) {
    case CS_WIN_KEEP:
      goto out; /* kept as it is, every entry an administrator added included */
    case CS_WIN_ADD_BASE:
      if ((kept = cs__win_dacl_with_base(present ? dacl : NULL)) == NULL) {
        rc = cs_err_set(err, CS_ENOMEM, 0, "cannot make the access rules of %s: out of memory", path);
        goto out;
      }
      if ((e = set_dacl(h, NULL, kept)) != ERROR_SUCCESS) {
        rc = cs__win_failf(err, e, "cannot set the access rules of %s", path);
        goto out;
      }
      out->changed = 1;
      goto out;
    default:
      break;
    }
    goto reset;
  }
  say_why(out, who);
  if (out->found == CS_WIN_FOUND_WRITER && !file) {
    /* an administrator's folder others may write: closed; what it holds is judged on its own */
    if ((flags & CS_WIN_SECURE_FOREIGN) && !empty_folder(w)) {
      out->left = 1;
      goto out;
    }
  reset:
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(PRIVATE_SDDL, SDDL_REVISION_1, &priv, NULL) ||
        !GetSecurityDescriptorDacl(priv, &present, &priv_dacl, &defaulted) ||
        !GetSecurityDescriptorOwner(priv, &priv_owner, &defaulted)) {
      rc = cs__win_failf(err, GetLastError(), "cannot make the access rules of %s", path);
      goto out;
    }
    /* owner Administrators too, as a new folder (Wine maps the DACL to a mode by it) */
    if ((e = set_dacl(h, priv_owner, priv_dacl)) != ERROR_SUCCESS) {
      rc = cs__win_failf(err, e, "cannot limit %s to Administrators and SYSTEM", path);
      goto out;
    }
    out->changed = 1;
    goto out;
  }
move:
  if ((rc = move_aside(h, path, out, err)) != CS_OK)
    goto out;
  CloseHandle(h);
  h = INVALID_HANDLE_VALUE;
  if (file || (flags & CS_WIN_SECURE_MOVE))
    goto out;
  if ((e = make_private(w)) != ERROR_SUCCESS) {
    rc = cs__win_failf(err, e, "cannot create the folder %s again (something was put there meanwhile?)", path);
    goto out;
  }
  out->created = 1;
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  LocalFree(sd);
  LocalFree(priv);
  LocalFree(kept);
  free(w);
  return rc;
}
