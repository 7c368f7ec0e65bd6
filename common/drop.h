/* Which names in the drop folder are files to take, and which in the waiting folder
 * are parked files: one rule for the daemon that takes them and for status that
 * lists them. */
#ifndef CS_DROP_H
#define CS_DROP_H

/* 1 when name (an entry of the drop folder) is a candidate; 0 for what a writer is
 * still working on or hides: a name starting with "." (hidden, and editors' and
 * copy tools' temporaries), "~$" (an Office lock file), or ending in ".tmp" or ".part"
 * (a download or copy in progress). */
int cs_drop_candidate(const char *name);

/* 1 when name (an entry of <state_dir>/waiting) is a parked file; 0 for the reason
 * file beside one (statedir.h: CS_STATE_REASON_SUFFIX). */
int cs_parked_candidate(const char *name);

/* A certificate and its private key dropped as two files with one base name
 * ("board.crt" + "board.key") are handled as one drop. A member whose partner is not
 * in the drop folder waits for it settle_seconds (since its last change) plus this
 * grace, then is handled alone; a partner that appears meanwhile is waited for until
 * it has settled too. */
#define CS_DROP_PAIR_GRACE_MS 2000

/* What a drop folder name is to that pairing: CS_DROP_PAIR_CERT for a name ending in
 * .crt, .cer or .pem, CS_DROP_PAIR_KEY for one ending in .key (extensions in any ASCII
 * case: tools on Windows write BOARD.CRT), CS_DROP_ALONE for any other name and for
 * an extension with nothing before it. */
typedef enum { CS_DROP_ALONE, CS_DROP_PAIR_CERT, CS_DROP_PAIR_KEY } cs_drop_role_t;
cs_drop_role_t cs_drop_pair_role(const char *name);

/* 1 when cert (a CS_DROP_PAIR_CERT name) and key (a CS_DROP_PAIR_KEY name) have the
 * same base name (the name without its last extension): compared exactly when
 * case_sensitive (POSIX, where board.crt and Board.key are unrelated files), ignoring
 * ASCII case otherwise (Windows, cs_plat_names_case_sensitive() == 0). 0 otherwise. */
int cs_drop_pair(const char *cert, const char *key, int case_sensitive);

#endif
