/* The confinement of the worker on Windows, the process that parses untrusted files
 * (confine.c says what it holds back, and what a full sandbox still needs): its
 * restricted token and the job object it runs in. Used by run.c
 * (cs_plat_run_confined) and exec.c (cs_plat_exec). */
#ifndef CS_WIN_CONFINE_H
#define CS_WIN_CONFINE_H

#include <windows.h>

#include <stddef.h>

#include "../error.h"

/* A primary token for the worker: a restricted copy of this process's, every
 * privilege removed but SeChangeNotifyPrivilege, and BUILTIN\Administrators made
 * deny-only when this process runs as LocalSystem (cs__win_worker_denies_admins).
 * New handle in *token (CloseHandle), for CreateProcessAsUserW. */
int cs__win_confined_token(HANDLE *token, cs_err_t *err);

/* cs__win_confined_token from the token own (TOKEN_QUERY | TOKEN_DUPLICATE |
 * TOKEN_ASSIGN_PRIMARY), with BUILTIN\Administrators deny-only when deny_admins. */
int cs__win_confined_token_of(HANDLE own, int deny_admins, HANDLE *token, cs_err_t *err);

/* 1 when the worker of a process running as user loses BUILTIN\Administrators (made
 * deny-only): only for LocalSystem, whose own SID keeps what the worker needs. */
int cs__win_worker_denies_admins(PSID user);

/* The limits of the worker's job: KILL_ON_JOB_CLOSE, one active process,
 * DIE_ON_UNHANDLED_EXCEPTION, every basic UI restriction. */
void cs__win_confined_limits(JOBOBJECT_EXTENDED_LIMIT_INFORMATION *limits, JOBOBJECT_BASIC_UI_RESTRICTIONS *ui);

/* A new job object with cs__win_confined_limits set, into *job (CloseHandle: that
 * ends whatever still runs in it). The worker is put into it while suspended. */
int cs__win_confined_job(HANDLE *job, cs_err_t *err);

/* The names of the privileges token holds (only the enabled ones when enabled_only),
 * space-separated ("SeChangeNotifyPrivilege ..."), into buf, cut to fit; 0, or -1
 * when they cannot be read (buf ""). */
int cs__win_privilege_names(HANDLE token, int enabled_only, char *buf, size_t len);

#endif
