/* Windows half of the secrets at rest (platform.h, password.h): the PFX password is
 * sealed with DPAPI in machine scope (CryptProtectData with CRYPTPROTECT_LOCAL_MACHINE)
 * and kept in a file whose protected DACL lets only SYSTEM (the service, its worker)
 * and Administrators in. Machine scope lets any process of this machine open the blob,
 * so the DACL is what keeps other local users out; DPAPI keeps the password unreadable
 * on any other machine, in a backup, or in a copy of the disk.
 *
 * What Wine proves and what only real Windows does: Wine's CryptProtectData is not
 * DPAPI. It ignores the flags (machine scope included), derives its key from the user
 * name and a constant, and writes its own blob format. Under Wine the round trip, the
 * header, and the refusal of a damaged blob or of one sealed with other entropy are
 * proven; that the blob opens on this machine only, and for SYSTEM as well as for the
 * admin who sealed it, only on real Windows. Wine keeps no security descriptor on
 * files (SetSecurityInfo and CreateFile's SECURITY_ATTRIBUTES succeed and store
 * nothing): the file's DACL is compile-only there. */
#include "../password.h"
#include "../platform.h"
#include "../text.h"
#include "win.h"

#include <aclapi.h>
#include <sddl.h>
#include <wincrypt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fixed entropy: a blob is opened only by whoever knows it, so that another program's
 * machine-scope blob is not taken for a password, nor ours opened by another program
 * without this string. Not a secret. */
static BYTE entropy[] = "certsteward PFX password v1";
#define DESCRIPTION L"certsteward PFX password"
/* Protected (no inherited entries): SYSTEM and Administrators, full control. */
#define FILE_SDDL L"D:P(A;;FA;;;SY)(A;;FA;;;BA)"
#define SEAL_MAX (64 * 1024)
#define ELEVATE_HINT "; run certsteward set-password from an elevated prompt (Run as administrator)"

static int copy_out(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err) {
  *out_len = 0;
  if ((*out = cs_memdup(data, len)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  *out_len = len;
  return CS_OK;
}

int cs_plat_secret_seal(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err) {
  union {
    const void *c;
    BYTE *m;
  } in_data; /* DATA_BLOB is not const; DPAPI does not write it */
  DATA_BLOB in, ent, blob;
  int rc;

  *out = NULL;
  *out_len = 0;
  if (len > SEAL_MAX)
    return cs_err_set(err, CS_ETOOBIG, 0, "cannot seal more than %d bytes", SEAL_MAX);
  in_data.c = data;
  in.cbData = (DWORD)len;
  in.pbData = in_data.m;
  ent.cbData = (DWORD)(sizeof entropy - 1);
  ent.pbData = entropy;
  blob.cbData = 0;
  blob.pbData = NULL;
  if (!CryptProtectData(&in, DESCRIPTION, &ent, NULL, NULL, CRYPTPROTECT_LOCAL_MACHINE | CRYPTPROTECT_UI_FORBIDDEN,
                        &blob))
    return cs__win_fail(err, GetLastError(), "cannot seal the password with DPAPI (machine scope)");
  if ((*out = malloc(CS_SECRET_HEADER_LEN + blob.cbData + 1)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  } else {
    memcpy(*out, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN);
    memcpy(*out + CS_SECRET_HEADER_LEN, blob.pbData, blob.cbData);
    *out_len = CS_SECRET_HEADER_LEN + blob.cbData;
    (*out)[*out_len] = '\0';
    rc = CS_OK;
  }
  LocalFree(blob.pbData);
  return rc;
}

int cs_plat_secret_unseal(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err) {
  union {
    const unsigned char *c;
    BYTE *m;
  } blob_data;
  DATA_BLOB in, ent, plain;
  const unsigned char *p = data;
  size_t n;
  int rc;

  *out = NULL;
  *out_len = 0;
  if (len < CS_SECRET_HEADER_LEN || memcmp(p, CS_SECRET_HEADER, CS_SECRET_HEADER_LEN) != 0)
    return copy_out(data, len, out, out_len, err); /* a password file written by hand */
  p += CS_SECRET_HEADER_LEN;
  n = len - CS_SECRET_HEADER_LEN;
  /* A DPAPI blob starts with its version, 1 (Wine's imitation too). */
  if (n < 24 || n > SEAL_MAX || p[0] != 1 || p[1] != 0 || p[2] != 0 || p[3] != 0)
    return cs_err_set(err, CS_EFORMAT, 0,
                      "the sealed password is damaged (no DPAPI blob after its header); "
                      "write it again with certsteward set-password");
  blob_data.c = p;
  in.cbData = (DWORD)n;
  in.pbData = blob_data.m;
  ent.cbData = (DWORD)(sizeof entropy - 1);
  ent.pbData = entropy;
  plain.cbData = 0;
  plain.pbData = NULL;
  if (!CryptUnprotectData(&in, NULL, &ent, NULL, NULL, CRYPTPROTECT_UI_FORBIDDEN, &plain)) {
    DWORD e = GetLastError();
    char text[256];
    return cs_err_set(err, CS_EFORMAT, (long)e,
                      "the sealed password cannot be opened on this machine: it was sealed on another "
                      "machine, or it is damaged (%s); write it again with certsteward set-password",
                      e != 0 ? cs__win_text(e, text, sizeof text) : "DPAPI gave no reason");
  }
  rc = copy_out(plain.pbData, plain.cbData, out, out_len, err);
  if (plain.pbData != NULL) {
    SecureZeroMemory(plain.pbData, plain.cbData);
    LocalFree(plain.pbData);
  }
  return rc;
}

/* ---- the file ------------------------------------------------------------------ */

/* "<verb> <path><tail>: <system text>", with what to do when access was denied. */
static int fail(cs_err_t *err, DWORD e, const char *verb, const char *path, const char *tail) {
  char what[700];
  snprintf(what, sizeof what, "%s %s%s", verb, path, tail);
  if (e == ERROR_ACCESS_DENIED || e == ERROR_PRIVILEGE_NOT_HELD) {
    char text[256];
    return cs_err_set(err, CS_EACCES, (long)e, "%s: %s%s", what, cs__win_text(e, text, sizeof text), ELEVATE_HINT);
  }
  return cs__win_fail(err, e, what);
}

/* Opens the existing file at w to change its DACL; *h stays INVALID_HANDLE_VALUE when
 * there is none. The link itself is opened, and refused, rather than followed. */
static int open_existing(const wchar_t *w, const char *path, HANDLE *h, cs_err_t *err) {
  BY_HANDLE_FILE_INFORMATION info;
  DWORD e;

  *h = CreateFileW(w, READ_CONTROL | WRITE_DAC | FILE_READ_ATTRIBUTES,
                   FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                   FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
  if (*h == INVALID_HANDLE_VALUE) {
    e = GetLastError();
    return e == ERROR_FILE_NOT_FOUND ? CS_OK : fail(err, e, "cannot open", path, "");
  }
  if (!GetFileInformationByHandle(*h, &info))
    return fail(err, GetLastError(), "cannot look at", path, "");
  if (info.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT))
    return cs_err_set(err, CS_ENOTREG, 0, "%s is not a regular file (a folder, link or reparse point); not replaced",
                      path);
  return CS_OK;
}

/* Only real Windows keeps this (Wine returns success and stores nothing). */
static int protect(HANDLE h, PACL dacl, const char *path, cs_err_t *err) {
  DWORD e = SetSecurityInfo(h, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, NULL,
                            NULL, dacl, NULL);
  return e == ERROR_SUCCESS ? CS_OK : fail(err, e, "cannot restrict", path, " to SYSTEM and Administrators");
}

int cs_plat_secret_store(const char *path, const void *data, size_t len, cs_err_t *err) {
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_ATTRIBUTES sa;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  HANDLE h = INVALID_HANDLE_VALUE;
  wchar_t *w = NULL;
  int created = 0, rc;

  if ((w = cs__win_path(path)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s is not a valid UTF-8 path, or out of memory", path);
    goto out;
  }
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(FILE_SDDL, SDDL_REVISION_1, &sd, NULL) ||
      !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present || dacl == NULL) {
    rc = cs__win_fail(err, GetLastError(), "cannot make the access rules of the password file");
    goto out;
  }
  /* cs_plat_write_atomic gives the new file the DACL of the file it replaces before any
   * data goes in: so that file is made SYSTEM + Administrators only first. When there is
   * none, an empty one is created with that DACL (an interruption right after leaves
   * that empty file, which cs_password_read reports as empty; never a part of a blob). */
  if ((rc = open_existing(w, path, &h, err)) != CS_OK)
    goto out;
  if (h == INVALID_HANDLE_VALUE) {
    sa.nLength = sizeof sa;
    sa.lpSecurityDescriptor = sd;
    sa.bInheritHandle = FALSE;
    h = CreateFileW(w, GENERIC_WRITE | READ_CONTROL | WRITE_DAC, 0, &sa, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE) {
      rc = fail(err, GetLastError(), "cannot create", path, "");
      goto out;
    }
    created = 1;
  }
  rc = protect(h, dacl, path, err);
  CloseHandle(h);
  h = INVALID_HANDLE_VALUE;
  if (rc != CS_OK || (rc = cs_plat_write_atomic(path, data, len, 0600, err)) != CS_OK)
    goto out;
  created = 0;
  /* Once more on what is there now, whatever the replacement carried over. */
  if ((rc = open_existing(w, path, &h, err)) == CS_OK) {
    if (h == INVALID_HANDLE_VALUE)
      rc = cs_err_set(err, CS_EIO, 0, "%s is gone right after it was written", path);
    else
      rc = protect(h, dacl, path, err);
  }
out:
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  if (created)
    DeleteFileW(w); /* the empty file made above: nothing of ours is left behind */
  LocalFree(sd);
  free(w);
  return rc;
}
