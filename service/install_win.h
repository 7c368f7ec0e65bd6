/* certsteward install on Windows: the folders and files it uses, judged before they are
 * used (install_win.c; winsvc.c runs it). Windows only: the build compiles neither
 * elsewhere. */
#ifndef CS_INSTALL_WIN_H
#define CS_INSTALL_WIN_H

#include <windows.h>

#include "install_config.h"
#include "install_keys.h"
#include "error.h"

/* What install_win.c needs to know: home is the full UTF-16 path of
 * %ProgramData%\certsteward; self is the SID of the account install runs as (the MSI:
 * SYSTEM), whose own files are its own (may be NULL). */
typedef struct cs_install_ctx_s {
  const char *home;
  const wchar_t *whome;
  PSID self;
  int moved; /* how many paths were moved aside */
} cs_install_ctx_t;

/* The folder of the running certsteward.exe, the folders above it, certsteward.exe and
 * certsteward-worker.exe judged as certsteward doctor's program_folder check judges
 * them (cs_plat_program_unsafe): the service runs that program as LocalSystem, so when
 * anyone but the administrators can change one of them, install refuses (the MSI's
 * repair or upgrade fails and is rolled back) rather than register a service that
 * runs what they put there. CS_EXIT_OK, or CS_EXIT_USAGE with why on standard error
 * (the install log and event 1016). */
int cs_install_program_check(void);

/* New full UTF-16 path of path (free), NULL when not valid or out of memory. */
wchar_t *cs_install_full_path(const char *path);

/* The folder path made safe (adopt.h: cs__win_secure), and every level between home
 * and it when it is below home; elsewhere the missing levels above are made private
 * and the folder itself, when it holds something others may write, is left as it is
 * with a warning. Each path moved aside is said on standard error and to the Event
 * Log. CS_EXIT_OK or CS_EXIT_USAGE with why printed. */
int cs_install_folder(cs_install_ctx_t *c, const char *path);

/* The file path judged (the configuration, the password file): moved aside when an
 * administrator did not make it, untouched when one did; a missing file stays missing.
 * The levels between home and its folder first, when it is below home. */
int cs_install_file(cs_install_ctx_t *c, const char *path);

/* What the state folder holds: every entry the daemon may trust (all but quarantine,
 * whose files are there because they were refused) that is not, with all it holds,
 * an administrator's (cs_plat_state_unsafe) is moved aside as a whole; the quarantine
 * folder is judged itself. */
int cs_install_state(cs_install_ctx_t *c, const char *state);

/* The values a first configuration was written with (HKLM\SOFTWARE\certsteward\Install,
 * one REG_SZ per "[section.]key", Administrators' to change as all of HKLM\SOFTWARE), so
 * that a repair that must write a deleted configuration again, given no value (an MSI
 * repair passes no HOST), writes the one given at the installation. */
#define CS_INSTALL_REMEMBERED_MAX 1024

/* A set is added for each remembered value whose key no set names (*n_sets grows, up to
 * CS_INSTALL_MAX_SETS); then each set given no value takes the remembered one, if any, into store[i] (said on
 * standard output), checked as a --set value is (cs_install_set_value: trimmed; a control
 * character, a double quote or " ;" refused). 0, or -1 with why printed when a remembered
 * value is refused or cannot be read: then no configuration may be written with it. */
int cs_install_recall(cs_install_set_t *sets, size_t *n_sets, char (*store)[CS_INSTALL_REMEMBERED_MAX]);

/* Remembers each set given a value (a warning when it cannot). */
void cs_install_remember(const cs_install_set_t *sets, size_t n);

/* Forgets them all (uninstall). CS_OK, or CS_EFAILED with why in err. */
int cs_install_forget(cs_err_t *err);

#endif
