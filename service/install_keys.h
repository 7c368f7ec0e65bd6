/* The registry keys of certsteward install (Windows; install_keys.c): what one run made,
 * for the MSI's rollback (install_undo.h), and the values a first configuration was
 * written with, for a repair (install_win.h). Both are under HKLM\SOFTWARE\certsteward,
 * which only administrators can change. install_keys.c needs nothing but Windows, so that
 * certsteward-msi.exe (msi_shim.c) forgets them with the same code as certsteward.exe. */
#ifndef CS_INSTALL_KEYS_H
#define CS_INSTALL_KEYS_H

#include <windows.h>

#define CS_INSTALL_SOFTWARE_KEY L"SOFTWARE\\certsteward"
#define CS_INSTALL_RUN_KEY CS_INSTALL_SOFTWARE_KEY L"\\InstallRun"
#define CS_INSTALL_REMEMBERED_KEY CS_INSTALL_SOFTWARE_KEY L"\\Install"

/* Clears the list an earlier run left (install_undo.h): ERROR_SUCCESS when it is gone
 * (or was not there), else the Windows error. */
LSTATUS cs_install_made_clear(void);

/* Forgets what install keeps in the registry: the run's list, the remembered values,
 * and HKLM\SOFTWARE\certsteward once it is empty (a key something else put there keeps
 * it). ERROR_SUCCESS (nothing there counts), or the Windows error of the first step
 * that failed. */
LSTATUS cs_install_forget_keys(void);

/* The REG_SZ value name of key, from the UTF-8 text value (a NUL-terminated string). */
LSTATUS cs_install_reg_set_utf8(HKEY key, const wchar_t *name, const char *value);

#endif
