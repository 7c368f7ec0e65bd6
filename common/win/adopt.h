/* What certsteward install finds before it uses a folder or file (adopt.c): kept when
 * an administrator made it, else moved aside under a dated name and made again. */
#ifndef CS_WIN_ADOPT_H
#define CS_WIN_ADOPT_H

#include <windows.h>

#include "../error.h"

#define CS_WIN_SECURE_FILE 0x1 /* path is a file: judged, moved aside when not trusted, never made */
#define CS_WIN_SECURE_FOREIGN                                                                                          \
  0x2                           /* a folder outside certsteward's home: one with something in it that                  \
                                 * others may write is left as it is (a misconfigured C:\ keeps its rules) */
#define CS_WIN_SECURE_AS_IS 0x4 /* a safe folder is kept exactly as it is (no base entries added) */
#define CS_WIN_SECURE_MOVE                                                                                             \
  0x8 /* moved aside whatever it is (the caller judged what it holds), not made                                        \
       * again; a missing path is left missing */

/* What cs__win_secure found and did. */
typedef struct cs_win_secured_s {
  int found;           /* CS_WIN_FOUND_* (acl.h) of what was there; -1 when nothing was */
  int created;         /* made now: a folder, private (Administrators and SYSTEM, protected) */
  int changed;         /* an existing folder's DACL: the base entries added, or reset to private */
  int left;            /* CS_WIN_SECURE_FOREIGN: others may write it; left as it was */
  char moved_to[1200]; /* where what was there went, "" when nothing was moved */
  char why[600];       /* why it was moved, reset or left ("" when kept as it was) */
} cs_win_secured_t;

/* Makes path safe to use, through one handle opened without following a reparse point:
 * - missing: a folder is made private; a file stays missing (the caller writes it);
 * - a reparse point, a file with more than one name, the wrong kind, an owner other
 *   than Administrators, SYSTEM, TrustedInstaller or self (may be NULL), or a file
 *   others may change: renamed on that handle to
 *   "<path>.untrusted-YYYYMMDD-HHMMSS-xxxxxxxx" (nothing is deleted), and a folder is
 *   made again, private;
 * - a folder owned by an administrator that others may write: its DACL reset to
 *   private on that handle (what it holds is judged by its own owner);
 * - a folder owned by an administrator and safe, with a protected DACL (install's own,
 *   or an administrator's): kept, with every entry an administrator added; the base
 *   entries (SYSTEM and Administrators full control) added when missing;
 * - the same with a DACL that is not protected and holds inherited entries (its rules
 *   flow from the folder above): given install's private DACL, as on a first install
 *   (CS_WIN_SECURE_FOREIGN with something in it: left as it is); not protected with
 *   nothing inherited: left as it is;
 * - a safe file: untouched.
 * The folder that holds path must exist (made safe first). 0, or CS_E* with err. */
int cs__win_secure(const char *path, unsigned flags, PSID self, cs_win_secured_t *out, cs_err_t *err);

/* What is done to a safe folder an administrator owns, from its DACL's control and
 * entries (pure): kept as it is (protected with the base entries; or not protected
 * with nothing inherited; or, foreign_with_files, a folder elsewhere that holds
 * files), the base entries added to its own (protected), or install's private DACL
 * (not protected, with entries inherited from above). */
enum { CS_WIN_KEEP = 0, CS_WIN_ADD_BASE, CS_WIN_RESET };
int cs__win_safe_folder_action(SECURITY_DESCRIPTOR_CONTROL control, PACL dacl, int foreign_with_files);

/* The new name of what is moved aside from path at local time t into buf:
 * "<path>.untrusted-YYYYMMDD-HHMMSS-xxxxxxxx", the date for the administrator who
 * finds it, xxxxxxxx the random bytes rnd in hex (drawn anew for each try), so that
 * no one can create the names install will choose in advance. */
#define CS_WIN_UNTRUSTED_RANDOM 4
void cs__win_untrusted_name(const char *path, const SYSTEMTIME *t, const unsigned char rnd[CS_WIN_UNTRUSTED_RANDOM],
                            char *buf, size_t len);

#endif
