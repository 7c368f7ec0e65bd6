/* certsteward install on Windows: what it finds in its folders is judged before it is
 * used (install_win.h). The MSI runs install as LocalSystem, after anyone may have
 * made %ProgramData%\certsteward and put a configuration (restart_command runs as
 * LocalSystem), a journal or a manifest (an undo deletes what they name) in it. What
 * an administrator did not make is moved aside under a dated name, never deleted and
 * never adopted, and said on standard error and in the Event Log (an MSI log shows no
 * standard output). adopt.c holds the handle-based mechanics. */
#include "install_win.h"
#include "install_undo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"
#include "platform.h"
#include "statedir.h"
#include "worker.h"
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

int cs_install_program_check(void) {
  char exe[4096], worker[4096], why[4096 + 1024 + 64];
  cs_err_t err;
  if (cs_plat_sibling_path("certsteward", exe, sizeof exe, &err) != CS_OK ||
      cs_plat_sibling_path(CS_WORKER_NAME, worker, sizeof worker, &err) != CS_OK) {
    fprintf(stderr, "certsteward install: cannot tell where this program is: %s\n", err.text);
    return CS_EXIT_USAGE;
  }
  if (!cs_plat_program_unsafe(exe, worker, why, sizeof why))
    return CS_EXIT_OK;
  fprintf(stderr,
          "certsteward install: %s: whoever can change it would run code as %s once the service runs this "
          "program; nothing was installed (give only Administrators, SYSTEM and TrustedInstaller the right to "
          "change the folder, its programs and the folders above it, then install again; certsteward doctor "
          "judges it the same way)\n",
          why, cs_plat_service_account());
  return CS_EXIT_USAGE;
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
  size_t home = full != NULL ? cs_install_below(full, c->whome) : 0;
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
  size_t home = full != NULL ? cs_install_below(full, c->whome) : 0;
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

/* A set, with no value, for every value remembered whose key no set names: a repair is
 * given no --set at all (the MSI passes none on a maintenance run). */
static void add_remembered(HKEY key, cs_install_set_t *sets, size_t *n) {
  wchar_t name[128];
  DWORD len, k;
  size_t i;
  for (k = 0; *n < CS_INSTALL_MAX_SETS; k++) {
    cs_install_set_t s;
    char *dot;
    len = sizeof name / sizeof name[0];
    if (RegEnumValueW(key, k, name, &len, NULL, NULL, NULL, NULL) != ERROR_SUCCESS)
      break;
    memset(&s, 0, sizeof s);
    if (len == 0 || len >= sizeof s.key || wcsspn(name, L"abcdefghijklmnopqrstuvwxyz0123456789_.") != len)
      continue; /* no name install writes */
    snprintf(s.key, sizeof s.key, "%ls", name);
    if ((dot = strchr(s.key, '.')) != NULL) {
      *dot = '\0';
      snprintf(s.section, sizeof s.section, "%s", s.key);
      memmove(s.key, dot + 1, strlen(dot + 1) + 1);
    }
    for (i = 0; i < *n && strcmp(sets[i].key, s.key) != 0; i++)
      ;
    if (i == *n && s.key[0] != '\0')
      sets[(*n)++] = s;
  }
}

int cs_install_recall(cs_install_set_t *sets, size_t *n_sets, char (*store)[CS_INSTALL_REMEMBERED_MAX]) {
  HKEY key = NULL;
  size_t i, n;
  int rc = 0;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY, 0, KEY_QUERY_VALUE, &key) != ERROR_SUCCESS)
    return 0; /* nothing remembered */
  add_remembered(key, sets, n_sets);
  n = *n_sets;
  for (i = 0; rc == 0 && i < n; i++) {
    wchar_t name[128], w[CS_INSTALL_REMEMBERED_MAX];
    DWORD type = 0, size = sizeof w - sizeof w[0];
    char *v, what[256];
    LSTATUS e;
    if (sets[i].value_len > 0)
      continue;
    value_name(&sets[i], name, sizeof name / sizeof name[0]);
    memset(w, 0, sizeof w);
    if ((e = RegQueryValueExW(key, name, NULL, &type, (BYTE *)w, &size)) == ERROR_FILE_NOT_FOUND ||
        (e == ERROR_SUCCESS && type == REG_SZ && w[0] == L'\0'))
      continue;
    snprintf(what, sizeof what, "the %ls remembered from the installation (HKLM\\%ls)", name,
             CS_INSTALL_REMEMBERED_KEY);
    /* what install would refuse on its command line is refused here too: written by
     * install itself, a value that is not plain text was put there by other means */
    if (e != ERROR_SUCCESS || type != REG_SZ || (v = cs__win_utf8(w)) == NULL ||
        strlen(v) >= CS_INSTALL_REMEMBERED_MAX) {
      fprintf(stderr,
              "certsteward install: %s cannot be read as one line of text (Windows error %ld, type %lu): "
              "nothing was installed\n",
              what, (long)e, (unsigned long)type);
      rc = -1;
      continue;
    }
    memcpy(store[i], v, strlen(v) + 1);
    free(v);
    if (cs_install_set_value(&sets[i], store[i], what) != 0) {
      rc = -1;
      continue;
    }
    printf("  %ls: the value given at the installation, %.*s\n", name, (int)sets[i].value_len, sets[i].value);
  }
  RegCloseKey(key);
  if (rc != 0)
    fprintf(stderr, "certsteward install: give the value with --set, or delete it from HKLM\\%ls\n",
            CS_INSTALL_REMEMBERED_KEY);
  return rc;
}

void cs_install_remember(const cs_install_set_t *sets, size_t n) {
  HKEY key = NULL;
  size_t i;
  LSTATUS e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY, 0, NULL, REG_OPTION_NON_VOLATILE,
                              KEY_SET_VALUE, NULL, &key, NULL);
  for (i = 0; e == ERROR_SUCCESS && i < n; i++) {
    wchar_t name[128];
    char v[CS_INSTALL_REMEMBERED_MAX];
    if (sets[i].value_len == 0 || sets[i].value_len >= sizeof v)
      continue;
    value_name(&sets[i], name, sizeof name / sizeof name[0]);
    memcpy(v, sets[i].value, sets[i].value_len);
    v[sets[i].value_len] = '\0';
    e = cs_install_reg_set_utf8(key, name, v);
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
  LSTATUS e = cs_install_forget_keys();
  if (e != ERROR_SUCCESS)
    return cs_err_set(err, CS_EFAILED, (long)e, "cannot remove HKLM\\%ls (Windows error %ld)",
                      CS_INSTALL_REMEMBERED_KEY, (long)e);
  return CS_OK;
}
