/* certsteward install on Windows: what it finds in its folders is judged before it is
 * used (install_win.h). The MSI runs install as LocalSystem, after anyone may have
 * made %ProgramData%\certsteward and put a configuration (restart_command runs as
 * LocalSystem), a journal or a manifest (an undo deletes what they name) in it. What
 * an administrator did not make is moved aside under a dated name, never deleted and
 * never adopted, and said on standard error and in the Event Log (an MSI log shows no
 * standard output). adopt.c holds the handle-based mechanics. */
#include "install_win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"
#include "platform.h"
#include "statedir.h"
#include "win/acl.h"
#include "win/adopt.h"
#include "win/win.h"

/* Event UNTRUSTED_MOVED (and standard error) for what was moved aside; a line for a
 * folder whose access rules were reset or left as they were. */
static void report(cs_install_ctx_t *c, const char *path, const cs_win_secured_t *s) {
  if (s->moved_to[0] != '\0') {
    c->moved++;
    fprintf(stderr, "certsteward install: %s was not made by an administrator (%s): moved aside to %s%s\n", path,
            s->why, s->moved_to, s->created ? "; a new one was made" : "");
    cs_event_say_system(CS_EV_UNTRUSTED_MOVED, path, s->why, s->moved_to);
  } else if (s->left) {
    fprintf(stderr,
            "certsteward install: warning: %s exists, holds files, and %s: its access rules are left as "
            "they are (the service does not use it while others can write to it)\n",
            path, s->why);
  } else if (s->changed && s->found == CS_WIN_FOUND_WRITER) {
    printf("%s: access limited to Administrators and SYSTEM (%s)\n", path, s->why);
  }
}

static int secure(cs_install_ctx_t *c, const char *path, unsigned flags) {
  cs_win_secured_t s;
  cs_err_t err;
  if (cs__win_secure(path, flags, c->self, &s, &err) != CS_OK) {
    fprintf(stderr, "certsteward install: %s\n", err.text);
    return CS_EXIT_USAGE;
  }
  report(c, path, &s);
  return CS_EXIT_OK;
}

/* The length of home's prefix in full when full is below it (no case, as NTFS
 * names), else 0. */
static size_t below(const wchar_t *full, const wchar_t *home) {
  size_t n = wcslen(home);
  while (n > 0 && home[n - 1] == L'\\')
    n--;
  if (n > 0 && wcslen(full) > n && CompareStringOrdinal(full, (int)n, home, (int)n, TRUE) == CSTR_EQUAL &&
      full[n] == L'\\')
    return n;
  return 0;
}

wchar_t *cs_install_full_path(const char *path) {
  wchar_t *w = cs__win_path(path), *full = NULL;
  DWORD n = w != NULL ? GetFullPathNameW(w, 0, NULL, NULL) : 0;
  if (n > 0 && (full = malloc(sizeof *full * n)) != NULL && GetFullPathNameW(w, n, full, NULL) >= n) {
    free(full);
    full = NULL;
  }
  free(w);
  return full;
}

/* Every level strictly between home and full (a path below home), made safe, in
 * order: its folder is safe before anything in it is looked at. upto: how much of
 * full (its folder's length for a file, all of it for a folder). */
static int levels(cs_install_ctx_t *c, const wchar_t *full, size_t start, size_t upto) {
  size_t i;
  int rc = CS_EXIT_OK;
  for (i = start + 1; rc == CS_EXIT_OK && i < upto; i++) {
    wchar_t *level;
    char *level8;
    if (full[i] != L'\\')
      continue;
    if ((level = _wcsdup(full)) == NULL)
      return CS_EXIT_USAGE;
    level[i] = L'\0';
    level8 = cs__win_utf8(level);
    rc = level8 != NULL ? secure(c, level8, 0) : CS_EXIT_USAGE;
    free(level8);
    free(level);
  }
  return rc;
}

int cs_install_folder(cs_install_ctx_t *c, const char *path) {
  wchar_t *full = cs_install_full_path(path);
  size_t home = full != NULL ? below(full, c->whome) : 0;
  cs_err_t err;
  int rc = CS_EXIT_USAGE;
  char *full8 = full != NULL ? cs__win_utf8(full) : NULL, *slash;
  if (full8 == NULL) {
    fprintf(stderr, "certsteward install: %s is not a valid path\n", path);
    goto out;
  }
  if (CompareStringOrdinal(full, -1, c->whome, -1, TRUE) == CSTR_EQUAL) {
    rc = secure(c, full8, 0);
    goto out;
  }
  if (home > 0) {
    if ((rc = levels(c, full, home, wcslen(full))) == CS_EXIT_OK)
      rc = secure(c, full8, 0);
    goto out;
  }
  /* elsewhere: the levels above are the administrator's choice, made private when missing */
  if ((slash = strrchr(full8, '\\')) != NULL && slash > full8 && slash[-1] != ':') {
    *slash = '\0';
    if (!cs_plat_exists(full8) && cs_plat_mkdirs(full8, 0700, &err) != CS_OK) {
      fprintf(stderr, "certsteward install: %s\n", err.text);
      goto out;
    }
    *slash = '\\';
  }
  rc = secure(c, full8, CS_WIN_SECURE_FOREIGN);
out:
  free(full8);
  free(full);
  return rc;
}

int cs_install_file(cs_install_ctx_t *c, const char *path) {
  wchar_t *full = cs_install_full_path(path), *slash;
  size_t home = full != NULL ? below(full, c->whome) : 0;
  char *full8 = full != NULL ? cs__win_utf8(full) : NULL;
  int rc = CS_EXIT_USAGE;
  if (full8 == NULL) {
    fprintf(stderr, "certsteward install: %s is not a valid path\n", path);
    goto out;
  }
  slash = wcsrchr(full, L'\\');
  if (home > 0 && slash != NULL && (rc = levels(c, full, home, (size_t)(slash - full) + 1)) != CS_EXIT_OK)
    goto out;
  rc = secure(c, full8, CS_WIN_SECURE_FILE);
out:
  free(full8);
  free(full);
  return rc;
}

int cs_install_state(cs_install_ctx_t *c, const char *state) {
  WIN32_FIND_DATAW fd;
  HANDLE find = INVALID_HANDLE_VALUE;
  wchar_t *w = cs_install_full_path(state), *pattern = NULL;
  char path[4096], why[1024];
  int rc = CS_EXIT_USAGE;
  if (w == NULL || (pattern = malloc(sizeof *pattern * (wcslen(w) + 3))) == NULL) {
    fprintf(stderr, "certsteward install: %s is not a valid path\n", state);
    goto out;
  }
  swprintf(pattern, wcslen(w) + 3, L"%ls\\*", w);
  if ((find = FindFirstFileW(pattern, &fd)) == INVALID_HANDLE_VALUE) {
    rc = CS_EXIT_OK; /* nothing in it */
    goto out;
  }
  rc = CS_EXIT_OK;
  do {
    char *name = cs__win_utf8(fd.cFileName);
    int dir = (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) && !(fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT);
    cs_win_secured_t s;
    cs_err_t err;
    if (name == NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || strstr(name, ".untrusted-") != NULL) {
      free(name); /* what an earlier install moved aside stays where it was put */
      continue;
    }
    if (cs_plat_path_join(path, sizeof path, state, name) != 0) { /* never judged as "" (not there: safe) */
      fprintf(stderr, "certsteward install: the path of %s in %s is too long to check\n", name, state);
      rc = CS_EXIT_USAGE;
    } else if (_stricmp(name, CS_STATE_QUARANTINE) == 0) {
      rc = secure(c, path, (dir ? 0 : CS_WIN_SECURE_FILE) | CS_WIN_SECURE_AS_IS);
    } else if (cs_plat_state_unsafe(path, why, sizeof why)) {
      if (cs__win_secure(path, CS_WIN_SECURE_MOVE | (dir ? 0 : CS_WIN_SECURE_FILE), c->self, &s, &err) != CS_OK) {
        fprintf(stderr, "certsteward install: %s\n", err.text);
        rc = CS_EXIT_USAGE;
      } else {
        snprintf(s.why, sizeof s.why, "%s", why);
        report(c, path, &s);
      }
    }
    free(name);
  } while (rc == CS_EXIT_OK && FindNextFileW(find, &fd));
out:
  if (find != INVALID_HANDLE_VALUE)
    FindClose(find);
  free(pattern);
  free(w);
  return rc;
}

/* The registry value name of a set: "[section.]key". */
static void value_name(const cs_install_set_t *s, wchar_t *name, size_t len) {
  swprintf(name, len, s->section[0] ? L"%hs.%hs" : L"%hs%hs", s->section, s->key);
}

void cs_install_recall(cs_install_set_t *sets, size_t n, char (*store)[CS_INSTALL_REMEMBERED_MAX]) {
  HKEY key = NULL;
  size_t i, j;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY, 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS)
    return; /* nothing remembered */
  for (i = 0; i < n; i++) {
    wchar_t name[128], w[CS_INSTALL_REMEMBERED_MAX];
    DWORD type = 0, size = sizeof w - sizeof w[0];
    char *v;
    if (sets[i].value_len > 0)
      continue;
    value_name(&sets[i], name, sizeof name / sizeof name[0]);
    memset(w, 0, sizeof w);
    if (RegQueryValueExW(key, name, NULL, &type, (BYTE *)w, &size) != ERROR_SUCCESS || type != REG_SZ || w[0] == L'\0')
      continue;
    if ((v = cs__win_utf8(w)) == NULL || strlen(v) >= CS_INSTALL_REMEMBERED_MAX) {
      free(v);
      continue;
    }
    for (j = 0; v[j] != '\0' && (unsigned char)v[j] >= 0x20 && v[j] != 0x7f && v[j] != '"'; j++)
      ;
    if (v[j] != '\0') {
      fprintf(stderr,
              "certsteward install: warning: the %ls remembered from the installation holds a control character "
              "or a double quote: not used\n",
              name);
    } else {
      memcpy(store[i], v, j + 1);
      sets[i].value = store[i];
      sets[i].value_len = j;
      printf("  %ls: the value given at the installation, %s\n", name, v);
    }
    free(v);
  }
  RegCloseKey(key);
}

void cs_install_remember(const cs_install_set_t *sets, size_t n) {
  HKEY key = NULL;
  size_t i;
  LSTATUS e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY, 0, NULL, REG_OPTION_NON_VOLATILE,
                              KEY_SET_VALUE, NULL, &key, NULL);
  for (i = 0; e == ERROR_SUCCESS && i < n; i++) {
    wchar_t name[128], *w;
    char v[CS_INSTALL_REMEMBERED_MAX];
    if (sets[i].value_len == 0 || sets[i].value_len >= sizeof v)
      continue;
    value_name(&sets[i], name, sizeof name / sizeof name[0]);
    memcpy(v, sets[i].value, sets[i].value_len);
    v[sets[i].value_len] = '\0';
    if ((w = cs__win_wide(v)) == NULL)
      e = ERROR_NOT_ENOUGH_MEMORY;
    else
      e = RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)w, (DWORD)((wcslen(w) + 1) * sizeof *w));
    free(w);
  }
  if (e != ERROR_SUCCESS)
    fprintf(stderr,
            "certsteward install: warning: cannot remember the values given (HKLM\\%ls, Windows error %ld): a "
            "repair that writes the configuration again will not know them\n",
            CS_INSTALL_REMEMBERED_KEY, (long)e);
  if (key != NULL)
    RegCloseKey(key);
}

int cs_install_forget(cs_err_t *err) {
  LSTATUS e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\certsteward\\InstallRun"); /* install_undo.h */
  if (e == ERROR_SUCCESS || e == ERROR_FILE_NOT_FOUND)
    e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY);
  if (e == ERROR_SUCCESS || e == ERROR_FILE_NOT_FOUND)
    e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, L"SOFTWARE\\certsteward");
  if (e != ERROR_SUCCESS && e != ERROR_FILE_NOT_FOUND)
    return cs_err_set(err, CS_EFAILED, (long)e, "cannot remove HKLM\\%ls (Windows error %ld)",
                      CS_INSTALL_REMEMBERED_KEY, (long)e);
  return CS_OK;
}
