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

#endif
