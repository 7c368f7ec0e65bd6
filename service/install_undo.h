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

#define CS_INSTALL_UNDO_MAX 8

typedef struct cs_install_made_s {
  char path[CS_INSTALL_UNDO_MAX][1024];
  int existed[CS_INSTALL_UNDO_MAX];
  int n;
  int key_existed; /* HKLM\SOFTWARE\certsteward */
} cs_install_made_t;

/* Clears the list an earlier run left and notes what exists now. */
void cs_install_made_begin(cs_install_made_t *m);

/* Notes whether path exists now, before this run may make it. */
void cs_install_made_watch(cs_install_made_t *m, const char *path);

/* Lists what was watched and exists now but did not before (a warning when it cannot). */
void cs_install_made_end(const cs_install_made_t *m);

/* install --undo: removes what the list names, in the reverse order, then the list.
 * CS_EXIT_OK, or CS_EXIT_USAGE with why printed (what could be removed is). */
int cs_install_undo(void);

#endif
