/* What one run of certsteward install made, so that the MSI can take it back when the
 * installation fails after it (Windows; install_undo.c). Windows Installer undoes what
 * its own tables did (the files, the service it registered, the event source's
 * registry values); what install makes besides — %ProgramData%\certsteward, the drop
 * and state folders, the first configuration, the values remembered for a repair — is
 * listed in HKLM\SOFTWARE\certsteward\InstallRun when the run ends (whether it
 * succeeded or not; cleared when the next one starts), and "certsteward install
 * --undo", the MSI's rollback custom action, removes what that list names and nothing
 * else: an upgrade or a repair, which find everything in place, list nothing. */
#ifndef CS_INSTALL_UNDO_H
#define CS_INSTALL_UNDO_H

#include <wchar.h>

#include "install_keys.h"

#define CS_INSTALL_UNDO_MAX 8

typedef struct cs_install_made_s {
  char path[CS_INSTALL_UNDO_MAX][1024];
  int existed[CS_INSTALL_UNDO_MAX];
  int n;
  int key_existed; /* HKLM\SOFTWARE\certsteward */
  char run[256];   /* the run's token, "" without one */
} cs_install_made_t;

/* cs_install_made_clear() (install_keys.h) clears the list an earlier run left: the first
 * thing install does, before anything can fail, so that no rollback ever reads a list of
 * another run. */

/* Notes what exists now; run (may be NULL) names this run (install --run TOKEN: the MSI
 * gives CS_Install and its rollback the same token, formatted as the script is made). */
void cs_install_made_begin(cs_install_made_t *m, const char *run);

/* Notes whether path exists now, before this run may make it. */
void cs_install_made_watch(cs_install_made_t *m, const char *path);

/* Lists what was watched and exists now but did not before (a warning when it cannot). */
void cs_install_made_end(const cs_install_made_t *m);

/* install --undo [--run TOKEN]: removes what the list names, in the reverse order, then
 * the list; only a list of the run named (a list without a token for none): any other
 * list is left as it is and nothing removed. Each path listed must be one install makes:
 * home (%ProgramData%\certsteward, full path) or below it, or exactly one of the n paths
 * of made (the configuration, drop and state folders of the configuration the service
 * reads, full paths); one that is not refuses the whole list and nothing is removed (the
 * list is in HKLM, which only administrators change, and is refused all the same).
 * CS_EXIT_OK, or CS_EXIT_USAGE with why printed (what could be removed is). */
int cs_install_undo(const char *run, const wchar_t *home, const wchar_t *const *made, int n);

/* The length of home's prefix in full when full is below it (no case, as NTFS names),
 * else 0. */
size_t cs_install_below(const wchar_t *full, const wchar_t *home);

/* 1 when path (a full path) is one install may make and an undo may remove: home, a path
 * below it, or one of the n paths of made (no case, as NTFS names). A path with a "."
 * or ".." level, or not full, is not. */
int cs_install_undo_allowed(const wchar_t *path, const wchar_t *home, const wchar_t *const *made, int n);

#endif
