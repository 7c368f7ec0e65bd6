/* Windows: a path's folders opened one component at a time, each relative to the
 * handle of the folder before it (NtCreateFile with ObjectAttributes.RootDirectory),
 * so that no component is resolved by name twice and none is followed when it is a
 * reparse point (junction, symbolic link, mount point). Every file certsteward
 * touches as LocalSystem is reached so (see win.h and pathguard.c).
 *
 * Each component is opened with FILE_OPEN_REPARSE_POINT (the name is one component,
 * so that flag covers all of it), and with OBJ_DONT_REPARSE where Windows has it
 * (Windows 10 1709, build 16299, on: the open then fails outright on a reparse point;
 * older systems reject the unknown flag, so it is not asked for there). What was
 * opened is then judged twice, both through handles: by its own attributes
 * (FILE_ATTRIBUTE_REPARSE_POINT: on Windows the link itself was opened) and by its
 * entry in the folder's listing (NtQueryDirectoryFile on a new handle of the folder).
 * On Windows the first decides; the second is what Wine shows a Unix symbolic link to
 * a folder by, which its open follows.
 *
 * 8.3 short names are accepted: a short name is a second name of the same folder or
 * file, given by the file system, not a link; it is opened and judged as any other.
 * ".." components are refused (the walk does not go up); "." is folded away as the
 * path is made absolute (refused in a \\?\ path, which is taken as it is). The drive root
 * ("C:\", "\\?\C:\"), a share root ("\\server\share\", "\\?\UNC\server\share\") and a
 * volume root ("\\?\Volume{...}\") are opened by name: the letters and shares there
 * are the administrator's. On a share, the server resolves links on its side.
 *
 * What Wine proves and what only real Windows does: Wine 8 makes no reparse point
 * (CreateSymbolicLinkW does nothing, FSCTL_SET_REPARSE_POINT fails with 50) and
 * follows a Unix symbolic link on open whatever the flags (accepting
 * OBJ_DONT_REPARSE), but lists one to a folder with FILE_ATTRIBUTE_REPARSE_POINT: the
 * refusal of such a folder in a path is proven under Wine end to end. A link to a
 * file, a junction, the open of a link itself, OBJ_DONT_REPARSE's failure are proven
 * only on NTFS; their decision is unit-tested (cs__win_link_verdict). */
#include "../platform.h"
#include "win.h"

#include <winternl.h>

#include <stdlib.h>
#include <string.h>

#define ST_NO_SUCH_FILE ((NTSTATUS)0xC000000FL)
#define ST_NO_MORE_FILES ((NTSTATUS)0x80000006L)
#define ST_REPARSE_POINT_ENCOUNTERED ((NTSTATUS)0xC000050BL)
#ifndef ERROR_REPARSE_POINT_ENCOUNTERED
#define ERROR_REPARSE_POINT_ENCOUNTERED 4395L
#endif
#define DIRECTORY_INFORMATION 1 /* FileDirectoryInformation */
#define RENAME_INFORMATION 10   /* FileRenameInformation */
#define MAX_DEPTH 4096          /* components in one path */

NTSYSAPI NTSTATUS NTAPI NtQueryDirectoryFile(HANDLE, HANDLE, PIO_APC_ROUTINE, PVOID, PIO_STATUS_BLOCK, PVOID, ULONG,
                                             FILE_INFORMATION_CLASS, BOOLEAN, PUNICODE_STRING, BOOLEAN);
NTSYSAPI NTSTATUS NTAPI RtlGetVersion(PRTL_OSVERSIONINFOW);

/* FILE_DIRECTORY_INFORMATION of the WDK (ntifs.h) */
typedef struct dir_info_s {
  ULONG NextEntryOffset, FileIndex;
  LARGE_INTEGER CreationTime, LastAccessTime, LastWriteTime, ChangeTime, EndOfFile, AllocationSize;
  ULONG FileAttributes, FileNameLength;
  WCHAR FileName[1];
} dir_info_t;

/* FILE_RENAME_INFORMATION of the WDK (ntifs.h): FileName relative to RootDirectory.
 * SetFileInformationByHandle(FileRenameInfo) is not used: its Win32 layer makes the
 * name a full NT path, which rules out a RootDirectory. */
typedef struct rename_info_s {
  BOOLEAN ReplaceIfExists;
  HANDLE RootDirectory;
  ULONG FileNameLength;
  WCHAR FileName[1];
} rename_info_t;

static int is_sep(wchar_t c) { return c == L'\\' || c == L'/'; }

/* u names name (len characters); the system reads the buffer, never writes it. */
static void set_name(UNICODE_STRING *u, const wchar_t *name, size_t len) {
  u->Length = u->MaximumLength = (USHORT)(len * sizeof(wchar_t));
  memcpy(&u->Buffer, &name, sizeof name); /* const dropped without a cast */
}

/* OBJ_CASE_INSENSITIVE as CreateFileW asks, with OBJ_DONT_REPARSE where Windows knows it. */
static ULONG object_flags(void) {
  static volatile LONG known = -1; /* -1: not looked yet; else 0 or OBJ_DONT_REPARSE */
  RTL_OSVERSIONINFOW v;
  if (known < 0) {
    memset(&v, 0, sizeof v);
    v.dwOSVersionInfoSize = sizeof v;
    /* RtlGetVersion: the real version, whatever the program's manifest */
    known = RtlGetVersion(&v) >= 0 && (v.dwMajorVersion > 10 || (v.dwMajorVersion == 10 && v.dwBuildNumber >= 16299))
                ? OBJ_DONT_REPARSE
                : 0;
  }
  return OBJ_CASE_INSENSITIVE | (ULONG)known;
}

static DWORD nt_error(NTSTATUS st) {
  if (st == ST_REPARSE_POINT_ENCOUNTERED)
    return ERROR_REPARSE_POINT_ENCOUNTERED;
  return RtlNtStatusToDosError(st);
}

DWORD cs__win_open_at(HANDLE dir, const wchar_t *name, size_t len, DWORD access, DWORD share, ULONG disposition,
                      ULONG options, PSECURITY_DESCRIPTOR sd, HANDLE *h, int *created) {
  UNICODE_STRING u;
  OBJECT_ATTRIBUTES oa;
  IO_STATUS_BLOCK io;
  NTSTATUS st;
  *h = INVALID_HANDLE_VALUE;
  if (created != NULL)
    *created = 0;
  if (len > 32767)
    return ERROR_FILENAME_EXCED_RANGE;
  set_name(&u, name, len);
  InitializeObjectAttributes(&oa, &u, object_flags(), dir, sd);
  memset(&io, 0, sizeof io);
  st = NtCreateFile(h, access | SYNCHRONIZE, &oa, &io, NULL, FILE_ATTRIBUTE_NORMAL, share, disposition,
                    options | FILE_OPEN_REPARSE_POINT | FILE_SYNCHRONOUS_IO_NONALERT | FILE_OPEN_FOR_BACKUP_INTENT,
                    NULL, 0);
  if (st < 0) {
    *h = INVALID_HANDLE_VALUE;
    return nt_error(st);
  }
  if (created != NULL)
    *created = io.Information == FILE_CREATED;
  return ERROR_SUCCESS;
}

int cs__win_link_verdict(DWORD handle_attrs, DWORD entry_attrs) {
  if (handle_attrs & FILE_ATTRIBUTE_REPARSE_POINT)
    return CS__WIN_LINK;
  if (entry_attrs & FILE_ATTRIBUTE_REPARSE_POINT)
    return CS__WIN_FOLLOWED;
  return CS__WIN_PLAIN;
}

typedef struct entry_s {
  DWORD attrs;
  int found;
} entry_t;

static int first_entry(void *ctx, const wchar_t *name, size_t len, DWORD attrs, const FILETIME *written) {
  entry_t *en = ctx;
  (void)name, (void)len, (void)written;
  en->attrs = attrs;
  en->found = 1;
  return 1;
}

/* The attributes of name's entry in dir's listing into *attrs (0 when the folder may
 * not be listed: the handle's own attributes decide then, as they do on Windows). */
static DWORD entry_attrs(HANDLE dir, const wchar_t *name, size_t len, DWORD *attrs) {
  entry_t en = {0, 0};
  DWORD e = cs__win_list_at(dir, name, len, first_entry, &en);
  *attrs = en.attrs;
  if (e == ERROR_ACCESS_DENIED)
    return ERROR_SUCCESS;
  return e != ERROR_SUCCESS ? e : en.found ? ERROR_SUCCESS : ERROR_FILE_NOT_FOUND;
}

int cs__win_look_at(HANDLE dir, const wchar_t *name, size_t len, HANDLE h, BY_HANDLE_FILE_INFORMATION *fi) {
  DWORD entry, e;
  if (!GetFileInformationByHandle(h, fi))
    return -1;
  if ((e = entry_attrs(dir, name, len, &entry)) != ERROR_SUCCESS) {
    SetLastError(e);
    return -1;
  }
  return cs__win_link_verdict(fi->dwFileAttributes, entry);
}

DWORD cs__win_rename_at(HANDLE h, HANDLE dir, const wchar_t *name, size_t len, int replace) {
  size_t size = sizeof(rename_info_t) + sizeof(wchar_t) * (len + 1);
  rename_info_t *ri = calloc(1, size);
  IO_STATUS_BLOCK io;
  NTSTATUS st;
  if (ri == NULL)
    return ERROR_NOT_ENOUGH_MEMORY;
  ri->ReplaceIfExists = replace ? TRUE : FALSE;
  ri->RootDirectory = dir;
  ri->FileNameLength = (ULONG)(sizeof(wchar_t) * len);
  memcpy(ri->FileName, name, sizeof(wchar_t) * len);
  st = NtSetInformationFile(h, &io, ri, (ULONG)size, (FILE_INFORMATION_CLASS)RENAME_INFORMATION);
  free(ri);
  return st >= 0 ? ERROR_SUCCESS : nt_error(st);
}

DWORD cs__win_list_at(HANDLE dir, const wchar_t *pattern, size_t plen, cs__win_entry_cb fn, void *ctx) {
  const size_t size = 65536;
  unsigned char *buf = NULL;
  UNICODE_STRING u, *pu = NULL;
  IO_STATUS_BLOCK io;
  const dir_info_t *d;
  BOOLEAN first = TRUE;
  FILETIME written;
  NTSTATUS st;
  HANDLE list;
  DWORD e;
  size_t at;

  /* a handle of its own each time: a listing keeps its place and its pattern (fixed by
   * its first query) in the handle */
  e = cs__win_open_at(dir, L"", 0, FILE_LIST_DIRECTORY, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                      FILE_OPEN, FILE_DIRECTORY_FILE, NULL, &list, NULL);
  if (e != ERROR_SUCCESS)
    return e;
  if ((buf = malloc(size)) == NULL) {
    CloseHandle(list);
    return ERROR_NOT_ENOUGH_MEMORY;
  }
  if (pattern != NULL) {
    set_name(&u, pattern, plen);
    pu = &u;
  }
  for (;;) {
    st = NtQueryDirectoryFile(list, NULL, NULL, NULL, &io, buf, (ULONG)size,
                              (FILE_INFORMATION_CLASS)DIRECTORY_INFORMATION, FALSE, pu, first);
    first = FALSE;
    if (st == ST_NO_SUCH_FILE || st == ST_NO_MORE_FILES) {
      e = ERROR_SUCCESS;
      break;
    }
    if (st < 0) {
      e = nt_error(st);
      break;
    }
    for (at = 0;; at += d->NextEntryOffset) {
      size_t n;
      d = (const dir_info_t *)(buf + at);
      n = d->FileNameLength / sizeof(wchar_t);
      written.dwLowDateTime = d->LastWriteTime.LowPart;
      written.dwHighDateTime = (DWORD)d->LastWriteTime.HighPart;
      if (!((n == 1 && d->FileName[0] == L'.') || (n == 2 && d->FileName[0] == L'.' && d->FileName[1] == L'.')) &&
          fn(ctx, d->FileName, n, d->FileAttributes, &written) != 0) {
        e = ERROR_SUCCESS;
        goto out;
      }
      if (d->NextEntryOffset == 0)
        break;
    }
  }
out:
  free(buf);
  CloseHandle(list);
  return e;
}

/* ---- the walk ------------------------------------------------------------------------- */

void cs__win_at_close(cs__win_at_t *at) {
  if (at->dir != INVALID_HANDLE_VALUE && at->dir != NULL)
    CloseHandle(at->dir);
  free(at->full);
  at->dir = INVALID_HANDLE_VALUE;
  at->full = NULL;
  at->name = L"";
  at->len = 0;
}

/* The root of full the walk starts from, by name: cs__win_root_len's, and a volume
 * GUID path's "\\?\Volume{...}\" as a whole. */
static size_t walk_root(const wchar_t *full) {
  size_t r = cs__win_root_len(full);
  if (r == 4 && wcsncmp(full, L"\\\\?\\", 4) == 0) {
    while (full[r] != L'\0' && !is_sep(full[r]))
      r++;
    if (full[r] != L'\0')
      r++;
  }
  return r;
}

/* 1 when the component c (n characters) may be walked: not ".." (nor "." in a \\?\
 * path, which nothing folds away), none of the characters a listing reads as
 * wildcards, no stream. */
static int plain_component(const wchar_t *c, size_t n, int verbatim) {
  size_t i;
  if ((n == 1 && c[0] == L'.' && verbatim) || (n == 2 && c[0] == L'.' && c[1] == L'.'))
    return 0;
  for (i = 0; i < n; i++)
    if (wcschr(L"*?<>\":", c[i]) != NULL)
      return 0;
  return 1;
}

/* New UTF-8 copy of full[0..end) for a message. */
static char *prefix_utf8(wchar_t *full, size_t end) {
  wchar_t saved = full[end];
  char *u;
  full[end] = L'\0';
  u = cs__win_utf8(full);
  full[end] = saved;
  return u;
}

static int link_error(cs_err_t *err, wchar_t *full, size_t end, const char *shown) {
  char *name = prefix_utf8(full, end);
  int rc = cs_err_set(err, CS_ENOTREG, 0,
                      "%s is a junction, symbolic link or mount point; certsteward does not follow links in the "
                      "path of %s (another account may have made it): refused, give the real path",
                      name != NULL ? name : "a folder", shown);
  free(name);
  return rc;
}

/* Opens the folder component full[start..end) relative to *cur (created when missing
 * and create is set), refused when it is a link; *cur becomes it. */
static int step(HANDLE *cur, wchar_t *full, size_t start, size_t end, int create, PSECURITY_DESCRIPTOR sd,
                const char *shown, cs_err_t *err) {
  BY_HANDLE_FILE_INFORMATION fi;
  HANDLE next;
  char *name;
  DWORD e;
  int v, rc;
  e = cs__win_open_at(*cur, full + start, end - start, FILE_TRAVERSE | FILE_READ_ATTRIBUTES,
                      FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, create ? FILE_OPEN_IF : FILE_OPEN,
                      FILE_DIRECTORY_FILE, sd, &next, NULL);
  if (e == ERROR_REPARSE_POINT_ENCOUNTERED)
    return link_error(err, full, end, shown);
  if (e != ERROR_SUCCESS) {
    name = prefix_utf8(full, end);
    if (e == ERROR_DIRECTORY)
      rc = cs_err_set(err, CS_ENOTREG, 0, "%s, in the path of %s, exists and is not a folder",
                      name != NULL ? name : "a level", shown);
    else
      rc = cs__win_failf(err, e, "cannot open folder %s, in the path of %s", name != NULL ? name : "(a level)", shown);
    free(name);
    return rc;
  }
  if ((v = cs__win_look_at(*cur, full + start, end - start, next, &fi)) != CS__WIN_PLAIN) {
    e = GetLastError();
    CloseHandle(next);
    if (v < 0) {
      name = prefix_utf8(full, end);
      rc = cs__win_failf(err, e, "cannot look at folder %s, in the path of %s", name != NULL ? name : "(a level)",
                         shown);
      free(name);
      return rc;
    }
    return link_error(err, full, end, shown);
  }
  CloseHandle(*cur);
  *cur = next;
  return CS_OK;
}

int cs__win_walk(const wchar_t *path, const char *shown, unsigned flags, PSECURITY_DESCRIPTOR sd, cs__win_at_t *at,
                 cs_err_t *err) {
  size_t root, i, n, start, end;
  HANDLE cur = INVALID_HANDLE_VALUE;
  wchar_t saved;
  DWORD e;
  int rc = CS_OK, last;

  at->dir = INVALID_HANDLE_VALUE;
  at->full = NULL;
  at->name = L"";
  at->len = 0;
  /* ".." is refused before the path is made absolute, which would fold it away */
  for (i = cs__win_root_len(path); path[i] != L'\0'; i = end) {
    while (is_sep(path[i]))
      i++;
    for (end = i; path[end] != L'\0' && !is_sep(path[end]); end++)
      ;
    if (end > i && !plain_component(path + i, end - i, wcsncmp(path, L"\\\\?\\", 4) == 0)) {
      rc = cs_err_set(err, CS_EINVAL, 0,
                      "%s has a \".\" or \"..\" component, a wildcard or a stream: refused, give "
                      "the full path",
                      shown);
      goto out;
    }
  }
  if (wcsncmp(path, L"\\\\?\\", 4) == 0) {
    at->full = _wcsdup(path); /* taken as it is, as the system does */
  } else {
    n = GetFullPathNameW(path, 0, NULL, NULL); /* a string operation: no file is touched */
    if (n > 0 && (at->full = malloc(sizeof(wchar_t) * n)) != NULL &&
        GetFullPathNameW(path, (DWORD)n, at->full, NULL) >= n) {
      free(at->full);
      at->full = NULL;
    }
  }
  if (at->full == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "cannot make %s absolute, or out of memory", shown);
    goto out;
  }
  n = wcslen(at->full);
  if ((root = walk_root(at->full)) == 0 || root > n) {
    rc = cs_err_set(err, CS_EINVAL, 0, "%s has no drive or share to start from", shown);
    goto out;
  }
  saved = at->full[root];
  at->full[root] = L'\0';
  cur = CreateFileW(at->full, FILE_TRAVERSE | FILE_READ_ATTRIBUTES | SYNCHRONIZE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS, NULL);
  e = GetLastError();
  at->full[root] = saved;
  if (cur == INVALID_HANDLE_VALUE) {
    char *r = prefix_utf8(at->full, root);
    rc = cs__win_failf(err, e, "cannot open %s, the root of %s", r != NULL ? r : "the root", shown);
    free(r);
    goto out;
  }
  for (i = root, n = 0; at->full[i] != L'\0'; i = end) {
    while (is_sep(at->full[i]))
      i++;
    start = i;
    for (end = i; at->full[end] != L'\0' && !is_sep(at->full[end]); end++)
      ;
    if (end == start)
      break;
    if (++n > MAX_DEPTH) {
      rc = cs_err_set(err, CS_ETOOBIG, 0, "%s has too many folders", shown);
      goto out;
    }
    for (last = 1, i = end; at->full[i] != L'\0'; i++)
      if (!is_sep(at->full[i])) {
        last = 0;
        break;
      }
    i = end;
    if (last && !(flags & CS__WIN_WALK_ALL)) {
      at->name = at->full + start;
      at->len = end - start;
      break;
    }
    if ((rc = step(&cur, at->full, start, end, (flags & CS__WIN_WALK_CREATE) != 0, sd, shown, err)) != CS_OK)
      goto out;
  }
  at->dir = cur;
  cur = INVALID_HANDLE_VALUE;
out:
  if (cur != INVALID_HANDLE_VALUE)
    CloseHandle(cur);
  if (rc != CS_OK)
    cs__win_at_close(at);
  return rc;
}

int cs__win_open_last(const cs__win_at_t *at, DWORD access, DWORD share, ULONG disposition, ULONG options,
                      PSECURITY_DESCRIPTOR sd, HANDLE *h, BY_HANDLE_FILE_INFORMATION *fi, const char *shown,
                      cs_err_t *err) {
  DWORD e;
  int v;
  e = cs__win_open_at(at->dir, at->name, at->len, access | FILE_READ_ATTRIBUTES, share, disposition, options, sd, h,
                      NULL);
  if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
    return CS_ENOENT; /* no text: the caller says what a missing file means */
  if (e == ERROR_REPARSE_POINT_ENCOUNTERED)
    return cs_err_set(err, CS_ENOTREG, 0, "%s is a link or reparse point: not followed, not touched", shown);
  if (e != ERROR_SUCCESS)
    return cs__win_failf(err, e, "cannot open %s", shown);
  if ((v = cs__win_look_at(at->dir, at->name, at->len, *h, fi)) == CS__WIN_PLAIN)
    return CS_OK;
  e = GetLastError();
  CloseHandle(*h);
  *h = INVALID_HANDLE_VALUE;
  if (v < 0)
    return cs__win_failf(err, e, "cannot look at %s", shown);
  return cs_err_set(err, CS_ENOTREG, 0, "%s is a link or reparse point: not followed, not touched", shown);
}
