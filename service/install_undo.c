/* install --undo and the list it goes by (install_undo.h). */
#include "install_undo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform.h"
#include "install_win.h"
#include "win/win.h"

#include <windows.h>

#define MADE_VALUE L"Made"        /* REG_MULTI_SZ: the paths, in the order they were made */
#define KEY_MADE_VALUE L"KeyMade" /* REG_DWORD 1: HKLM\SOFTWARE\certsteward was made too */
#define RUN_VALUE L"Run"          /* REG_SZ: the run's token (install --run), absent without one */
#define LIST_MAX (64u * 1024)     /* bytes */

static int key_exists(const wchar_t *name) {
  HKEY k = NULL;
  if (RegOpenKeyExW(HKEY_LOCAL_MACHINE, name, 0, KEY_QUERY_VALUE, &k) != ERROR_SUCCESS)
    return 0;
  RegCloseKey(k);
  return 1;
}

size_t cs_install_below(const wchar_t *full, const wchar_t *home) {
  size_t n = wcslen(home);
  while (n > 0 && home[n - 1] == L'\\')
    n--;
  if (n > 0 && wcslen(full) > n && CompareStringOrdinal(full, (int)n, home, (int)n, TRUE) == CSTR_EQUAL &&
      full[n] == L'\\')
    return n;
  return 0;
}

int cs_install_undo_allowed(const wchar_t *path, const wchar_t *home, const wchar_t *const *made, int n) {
  wchar_t full[1024];
  DWORD len = GetFullPathNameW(path, sizeof full / sizeof full[0], full, NULL);
  int i;
  /* a full path as GetFullPathName makes it: no ".", "..", "/" nor relative part that
   * would make a path below home name a place outside it */
  if (len == 0 || len >= sizeof full / sizeof full[0] || wcscmp(full, path) != 0 || home == NULL || home[0] == L'\0')
    return 0;
  if (CompareStringOrdinal(path, -1, home, -1, TRUE) == CSTR_EQUAL || cs_install_below(path, home) > 0)
    return 1;
  for (i = 0; i < n; i++)
    if (made[i] != NULL && made[i][0] != L'\0' && CompareStringOrdinal(path, -1, made[i], -1, TRUE) == CSTR_EQUAL)
      return 1;
  return 0;
}

void cs_install_made_begin(cs_install_made_t *m, const char *run) {
  memset(m, 0, sizeof *m);
  m->key_existed = key_exists(CS_INSTALL_SOFTWARE_KEY);
  if (run != NULL)
    snprintf(m->run, sizeof m->run, "%s", run);
  cs_install_made_clear();
}

void cs_install_made_watch(cs_install_made_t *m, const char *path) {
  if (m->n >= CS_INSTALL_UNDO_MAX || path == NULL || path[0] == '\0' || strlen(path) >= sizeof m->path[0])
    return;
  snprintf(m->path[m->n], sizeof m->path[0], "%s", path);
  m->existed[m->n++] = cs_plat_exists(path);
}

void cs_install_made_end(const cs_install_made_t *m) {
  wchar_t list[LIST_MAX / sizeof(wchar_t)], *w;
  size_t at = 0, len;
  HKEY key = NULL;
  DWORD one = 1;
  int i;
  LSTATUS e;
  for (i = 0; i < m->n; i++) {
    if (m->existed[i] || !cs_plat_exists(m->path[i]) || (w = cs_install_full_path(m->path[i])) == NULL)
      continue; /* listed as a full path: the undo checks where it is (cs_install_undo_allowed) */
    if ((len = wcslen(w) + 1) < sizeof list / sizeof list[0] - at - 1) {
      memcpy(list + at, w, len * sizeof *w);
      at += len;
    }
    free(w);
  }
  list[at++] = L'\0';
  if (at == 1 && m->key_existed)
    return; /* nothing made */
  e = RegCreateKeyExW(HKEY_LOCAL_MACHINE, CS_INSTALL_RUN_KEY, 0, NULL, REG_OPTION_NON_VOLATILE, KEY_SET_VALUE, NULL,
                      &key, NULL);
  if (e == ERROR_SUCCESS)
    e = RegSetValueExW(key, MADE_VALUE, 0, REG_MULTI_SZ, (const BYTE *)list, (DWORD)(at * sizeof *list));
  if (e == ERROR_SUCCESS && !m->key_existed)
    e = RegSetValueExW(key, KEY_MADE_VALUE, 0, REG_DWORD, (const BYTE *)&one, sizeof one);
  if (e == ERROR_SUCCESS && m->run[0] != '\0')
    e = cs_install_reg_set_utf8(key, RUN_VALUE, m->run);
  if (key != NULL)
    RegCloseKey(key);
  if (e != ERROR_SUCCESS)
    fprintf(stderr,
            "certsteward install: warning: cannot list what it made (HKLM\\%ls, Windows error %ld): a failed "
            "installation cannot take it back\n",
            CS_INSTALL_RUN_KEY, (long)e);
}

int cs_install_undo(const char *run, const wchar_t *home, const wchar_t *const *made, int n_made) {
  wchar_t list[LIST_MAX / sizeof(wchar_t) + 2], token[256];
  DWORD tsize = (DWORD)(sizeof token - sizeof token[0]);
  char *token8 = NULL;
  int same;
  DWORD size = (DWORD)(sizeof list - 2 * sizeof list[0]), type = 0, key_made = 0, dsize = sizeof key_made;
  const wchar_t *p, *paths[CS_INSTALL_UNDO_MAX];
  HKEY key = NULL;
  int n = 0, i, rc = CS_EXIT_OK;
  LSTATUS e;

  memset(list, 0, sizeof list);
  if ((e = RegOpenKeyExW(HKEY_LOCAL_MACHINE, CS_INSTALL_RUN_KEY, 0, KEY_QUERY_VALUE, &key)) == ERROR_FILE_NOT_FOUND) {
    printf("nothing to take back: the last install made nothing\n");
    return CS_EXIT_OK;
  }
  if (e == ERROR_SUCCESS &&
      (e = RegQueryValueExW(key, MADE_VALUE, NULL, &type, (BYTE *)list, &size)) == ERROR_SUCCESS &&
      type != REG_MULTI_SZ)
    e = ERROR_INVALID_DATA;
  if (e == ERROR_SUCCESS &&
      RegQueryValueExW(key, KEY_MADE_VALUE, NULL, &type, (BYTE *)&key_made, &dsize) != ERROR_SUCCESS)
    key_made = 0;
  memset(token, 0, sizeof token);
  if (e == ERROR_SUCCESS &&
      (RegQueryValueExW(key, RUN_VALUE, NULL, &type, (BYTE *)token, &tsize) != ERROR_SUCCESS || type != REG_SZ))
    token[0] = L'\0';
  if (key != NULL)
    RegCloseKey(key);
  if (e != ERROR_SUCCESS) {
    fprintf(stderr, "certsteward install --undo: cannot read HKLM\\%ls (Windows error %ld): nothing was removed\n",
            CS_INSTALL_RUN_KEY, (long)e);
    return CS_EXIT_USAGE;
  }
  token8 = cs__win_utf8(token);
  same = token8 != NULL && strcmp(token8, run != NULL ? run : "") == 0;
  free(token8);
  if (!same) {
    printf("nothing to take back: the list of what install made is another run's\n");
    return CS_EXIT_OK;
  }
  for (p = list; *p != L'\0' && n < CS_INSTALL_UNDO_MAX; p += wcslen(p) + 1)
    paths[n++] = p;
  for (i = 0; i < n; i++) /* all checked before anything is removed */
    if (!cs_install_undo_allowed(paths[i], home, made, n_made)) {
      char *path = cs__win_utf8(paths[i]);
      fprintf(stderr,
              "certsteward install --undo: the list of what install made (HKLM\\%ls) names %s, which is not a "
              "path install makes (%%ProgramData%%\\certsteward and what is below it, or the configuration, drop "
              "or state folder of the configuration the service reads): nothing was removed\n",
              CS_INSTALL_RUN_KEY, path != NULL ? path : "a path that cannot be shown");
      free(path);
      return CS_EXIT_USAGE;
    }
  while (n-- > 0) { /* the reverse order: a file before the folder it is in */
    char *path = cs__win_utf8(paths[n]);
    cs_err_t err;
    if (path == NULL) {
      rc = CS_EXIT_USAGE;
      continue;
    }
    if (cs_plat_remove_tree(path, &err) != CS_OK) {
      fprintf(stderr, "certsteward install --undo: %s\n", err.text);
      rc = CS_EXIT_USAGE;
    } else {
      printf("removed %s (made by the installation that failed)\n", path);
    }
    free(path);
  }
  if (rc == CS_EXIT_OK) {
    (void)RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_RUN_KEY);
    if (key_made) {
      (void)RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY);
      if ((e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_SOFTWARE_KEY)) == ERROR_SUCCESS)
        printf("removed HKLM\\%ls (made by the installation that failed)\n", CS_INSTALL_SOFTWARE_KEY);
    }
  }
  return rc;
}
