/* The registry keys of certsteward install (install_keys.h). */
#include "install_keys.h"

#include <stdlib.h>

LSTATUS cs_install_made_clear(void) {
  LSTATUS e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_RUN_KEY);
  return e == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : e;
}

LSTATUS cs_install_forget_keys(void) {
  LSTATUS e = cs_install_made_clear();
  if (e == ERROR_SUCCESS || e == ERROR_FILE_NOT_FOUND)
    e = RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_REMEMBERED_KEY);
  if (e == ERROR_SUCCESS || e == ERROR_FILE_NOT_FOUND) {
    /* RegDeleteKey deletes no key that has subkeys (ERROR_ACCESS_DENIED): what another
     * version put there stays, with the key */
    LSTATUS p = RegDeleteKeyW(HKEY_LOCAL_MACHINE, CS_INSTALL_SOFTWARE_KEY);
    e = p == ERROR_ACCESS_DENIED ? ERROR_SUCCESS : p;
  }
  return e == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : e;
}

LSTATUS cs_install_reg_set_utf8(HKEY key, const wchar_t *name, const char *value) {
  int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, value, -1, NULL, 0);
  wchar_t *w = n > 0 ? malloc(sizeof *w * (size_t)n) : NULL;
  LSTATUS e;
  if (w == NULL)
    return n > 0 ? ERROR_NOT_ENOUGH_MEMORY : ERROR_NO_UNICODE_TRANSLATION;
  if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, value, -1, w, n) != n)
    e = ERROR_NO_UNICODE_TRANSLATION;
  else
    e = RegSetValueExW(key, name, 0, REG_SZ, (const BYTE *)w, (DWORD)((size_t)n * sizeof *w));
  free(w);
  return e;
}
