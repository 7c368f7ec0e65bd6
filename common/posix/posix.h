/* Shared by the POSIX half only (not part of platform.h). */
#ifndef CS_POSIX_H
#define CS_POSIX_H

/* The CS_E* code for an errno value. */
int cs__posix_errno(int e);

#endif
