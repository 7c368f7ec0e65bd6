/* The one interface between the portable core and the operating system.
 * common/posix/ and common/win/ implement the same names; the build picks one.
 * Strings are UTF-8 everywhere (the Windows half converts at the edge). */
#ifndef CS_PLATFORM_H
#define CS_PLATFORM_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "error.h"

/* 1 when built for Windows, 0 otherwise: which OS, for tables holding both platforms'
 * defaults side by side and for messages that name the OS's own tools. A decision
 * about what the platform is asks one of the queries below instead. */
int cs_plat_is_windows(void);

/* ---- what the platform is (each a fixed answer of the build) ----------------- */

/* The separator this platform writes between folders: '\\' (Windows) or '/'. */
char cs_plat_path_sep(void);
/* 1 when c separates folders in a path here: '/' everywhere, '\\' too on Windows. */
int cs_plat_is_path_sep(int c);

/* 1 when a file's mode bits are its access rules (POSIX); 0 when an ACL is and the
 * mode the C library reports is made up from attributes (Windows). */
int cs_plat_has_file_modes(void);

/* 1 when file names differ from each other by more than ASCII case (POSIX: board.crt
 * and Board.crt are two files); 0 when they do not (Windows: one file). */
int cs_plat_names_case_sensitive(void);

/* The account certsteward runs as, and who administers the machine, by name, for
 * messages: "LocalSystem" and "Administrators and SYSTEM" (Windows), "root" and "root". */
const char *cs_plat_service_account(void);
const char *cs_plat_admins(void);

/* 1 when the certificate in service is in the system's certificate store, which
 * cs_plat_store_list and cs_plat_store_cert read (Windows: LocalMachine\\My); 0 when
 * it is the [store] files. */
int cs_plat_store_is_system(void);
/* 1 when a certificate's private key stays in that store with it (Windows: the machine
 * keys), so that a certificate without a key in a file can still be put in service. */
int cs_plat_store_holds_keys(void);

/* 1 when the machine's own chain engine decides trust when no [policy] ca_file is
 * set (cs_plat_machine_chain, Windows); 0 when OpenSSL reads the system's bundle. */
int cs_plat_machine_trust(void);

/* 1 when the service manager keeps each service's account and command line
 * (cs_plat_service_config answers, Windows); 0 when the configuration says it all. */
int cs_plat_service_config_known(void);

/* cs_plat_read_file flags */
#define CS_READ_NOFOLLOW 0x1 /* refuse a symbolic link / reparse point in any component of the path */

/* Reads a whole regular file of at most max bytes into a new buffer (NUL-terminated
 * after *len bytes, for convenience). Refuses FIFOs, devices and folders (CS_ENOTREG)
 * without blocking on them, and files over max (CS_ETOOBIG) before reading them.
 * Windows: shared for reading, writing and deletion (never in the way of the file's
 * owner nor of a replacement), long paths as the writes take them.
 * The caller frees *data with cs_plat_free_file, which wipes it. */
int cs_plat_read_file(const char *path, size_t max, unsigned flags, unsigned char **data, size_t *len, cs_err_t *err);
void cs_plat_free_file(unsigned char *data, size_t len);

/* Overwrites n bytes at p with zeros in a way the compiler cannot drop. */
void cs_plat_wipe(void *p, size_t n);

/* This machine's fully qualified DNS name (falls back to the plain host name
 * when the resolver knows no domain). */
int cs_plat_fqdn(char *buf, size_t len, cs_err_t *err);

/* Where the configuration lives when no --config is given:
 * /etc/certsteward/certsteward.ini, or %ProgramData%\certsteward\certsteward.ini. */
int cs_plat_default_config_path(char *buf, size_t len);

/* 1 if path is absolute for this platform. */
int cs_plat_path_is_absolute(const char *path);

/* New string: path when absolute or when relative_to_file is NULL, else path
 * taken relative to the folder holding relative_to_file. NULL when out of memory. */
char *cs_plat_path_resolve(const char *relative_to_file, const char *path);

/* dir, this platform's separator (none when dir ends with one) and name, into out (len
 * bytes): CS_OK, or CS_ETOOBIG when it does not fit, and out is then "" (an over-long
 * path is never used cut short: it fails where it is used, by name). */
int cs_plat_path_join(char *out, size_t len, const char *dir, const char *name);

/* cs_plat_path_join into a new string (free()); NULL when out of memory. */
char *cs_plat_path_join_new(const char *dir, const char *name);

/* ---- files (atomic replacement) ------------------------------------------ */

/* Writes data to path atomically: a temp file in the same folder, created with
 * mode from its first byte (0600 for a key), written, flushed to disk, renamed over
 * path, and the folder flushed. When path already exists, its owner, group,
 * mode and ACL are given to the new file (mode applies to a new file only); on
 * Windows also its attributes, and ReplaceFile keeps its creation time and streams.
 * Nothing is left behind on failure. mode is a POSIX mode; the Windows half
 * ignores it (files there inherit the folder's ACL). On Windows every handle others
 * hold on path must share deletion, or the write fails and path is left as it was. */
int cs_plat_write_atomic(const char *path, const void *data, size_t len, int mode, cs_err_t *err);

/* cs_plat_write_atomic for a file in a folder that others than Administrators /
 * SYSTEM may write (a connector's binding file: its service account can change its
 * own config folder). Windows: refused (CS_ENOTREG, naming it) when any folder of the
 * path, from the drive root, is a junction, symbolic link or mount point, or when the
 * file or the temp file opens elsewhere than at path; the names and identities of the
 * temp file and of the backup the old file is moved to are recorded in record_dir (an
 * existing folder only Administrators / SYSTEM can write, e.g. in the state folder)
 * before the temp file gets data, so that cs_plat_recover_recorded acts on those
 * alone; an earlier replacement of path left unsettled is settled first.
 * meta (from cs_plat_read_file_meta, may be NULL) is what the new file is given, not
 * what occupies path by then (someone who can write the folder can put a file of their
 * own there, to be handed bytes they could not read); NULL: what the file at path has,
 * or, for a new file, this process's owner and mode 0644 (POSIX) / the folder's
 * inherited ACL (Windows). A meta that cannot be read: CS_EFORMAT, nothing written.
 * POSIX: cs_plat_write_atomic with meta's owner, group, mode and ACL; record_dir unused.
 * Windows: the temp file gets meta's DACL (protected or inheriting as recorded; an
 * inheriting one takes the entries the folder passes on) and owner (SeRestorePrivilege)
 * before its data, and meta's attributes once in place. */
int cs_plat_write_recorded(const char *path, const void *data, size_t len, const char *meta, const char *record_dir,
                           cs_err_t *err);

/* cs_plat_read_file(CS_READ_NOFOLLOW) of a file in a folder others may write that is
 * to be written back changed (a binding file), and *meta: what the file written back
 * must be given, read through the same handle as the bytes, from a file with one name
 * (a second name: CS_ENOTREG) (POSIX: owner, group, mode and ACL; Windows: attributes,
 * owner and DACL with its protected / auto-inherited bits, "A:<hex>;<SDDL>", see
 * common/win/filemeta.c), as one line of text without tab or line break, for a manifest
 * (a new string, free()). */
int cs_plat_read_file_meta(const char *path, size_t max, unsigned char **data, size_t *len, char **meta, cs_err_t *err);

/* Whether the file at path (reached as cs_plat_write_recorded reaches it, no link in
 * any component) still has the owner meta records (NULL, a record from before owners
 * were kept: this process's user on POSIX, SYSTEM or Administrators on Windows): CS_OK
 * when so or when nothing is there; CS_EACCES naming both owners when not. The undo of
 * a binding rewrite asks it before writing the saved bytes back: another owner means
 * someone put another file there since, and what is put back is not written over it. */
int cs_plat_recorded_owner_unchanged(const char *path, const char *meta, cs_err_t *err);

int cs_plat_recover_recorded(const char *path, const char *record_dir, cs_err_t *err);

/* fopen with a UTF-8 path (Windows: _wfopen, long paths too); NULL with errno set. */
FILE *cs_plat_fopen(const char *path, const char *mode);

/* Opens path for appending ("ab"), created 0600 when missing, as a log this
 * process owns: never through a link (last component), and only a plain file with
 * one name owned by root / this account (POSIX; Windows: not a reparse point, one
 * name). NULL with errno set (EPERM: something else sits at path). */
FILE *cs_plat_fopen_log(const char *path);

/* Creates path and its missing parents with mode (0700 for state folders). */
int cs_plat_mkdirs(const char *path, int mode, cs_err_t *err);

/* Renames from over to (atomic within one file system); 0 or CS_E*. */
int cs_plat_rename(const char *from, const char *to, cs_err_t *err);

/* Removes a file; a file already gone is not an error. */
int cs_plat_remove(const char *path, cs_err_t *err);

/* Removes path and everything below it (links are removed, not followed);
 * a path already gone is not an error. */
int cs_plat_remove_tree(const char *path, cs_err_t *err);
/* For files in folders only Administrators / SYSTEM (root) can write (on Windows it
 * lists path's folder; a file in a folder others may write is written with
 * cs_plat_write_recorded and recovered with cs_plat_recover_recorded):
 * removes the temp files a cs_plat_write_atomic of path left beside it when it was
 * stopped between creating one and renaming it over path (a crash, a kill); path
 * itself stays (Windows: when it is missing because the process died inside the
 * replacement, the old file, kept aside, is put back first). For the recovery after
 * a crash. */
int cs_plat_remove_temps(const char *path, cs_err_t *err);

/* 1 if path exists (any type, links not followed), 0 if not. */
int cs_plat_exists(const char *path);

/* ---- processes ------------------------------------------------------------- */

typedef struct cs_run_result_s {
  int exit_code; /* exit status; -1 when it did not exit normally */
  int timed_out; /* killed after timeout_ms */
  int signal;    /* POSIX: signal that ended it; 0 otherwise */
  char *out;     /* standard output, NUL-terminated (owned); stderr is not captured */
  size_t out_len;
} cs_run_result_t;

/* Runs argv[0] (a path; no PATH search) with argv, feeding input (may be NULL) to
 * its standard input, capturing at most max_out bytes of its standard output, and
 * waits at most timeout_ms (then kills it and its process group). Standard error
 * goes to the caller's. Returns 0 when it ran (see res), or CS_E* when it could not
 * be started. Free res with cs_run_result_free. */
int cs_plat_run(const char *const *argv, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                cs_run_result_t *res, cs_err_t *err);
void cs_run_result_free(cs_run_result_t *res);

/* cs_plat_run for a program that parses untrusted input (the worker). Windows: with
 * a restricted copy of this process's token, no privilege left but
 * SeChangeNotifyPrivilege and, under LocalSystem, Administrators deny-only (same
 * account: it still reads the file it is handed and writes its stage), in a job of
 * its own that allows no second process and ends all it holds when the run ends
 * (win/confine.c). POSIX: as cs_plat_run. */
int cs_plat_run_confined(const char *const *argv, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                         cs_run_result_t *res, cs_err_t *err);

/* Runs a command line through the system shell (/bin/sh -c, cmd.exe /c), as
 * cs_plat_run, for admin-configured commands such as [connector] restart_command. */
int cs_plat_run_shell(const char *command, int timeout_ms, cs_run_result_t *res, cs_err_t *err);

/* cs_plat_run_shell with variables set for the command: env is a NULL-terminated list
 * of "NAME=value" (replacing a variable of that name this process has), and every
 * variable of this process whose name starts with drop_prefix (may be NULL) is left
 * out. At most max_out bytes of standard output are kept. For [request]
 * submit_command, a certmonger CA helper. */
int cs_plat_run_shell_env(const char *command, const char *const *env, const char *drop_prefix, int timeout_ms,
                          size_t max_out, cs_run_result_t *res, cs_err_t *err);

/* How the system shell reads a command line, for judging what a command would run
 * before it runs (common/cmd_judge.c). quotes: the characters that group a word and are
 * dropped (cmd.exe: "; sh: " and '); specials: those that, outside quotes, run another
 * command, substitute, redirect or escape (cmd.exe: & | < > ^; sh: ; & | < > ` $ ( ) \
 * and the glob and tilde characters); in_double: those still special inside "..." (sh:
 * $ ` \; cmd.exe: none). Line ends count as specials on both. expands: the specials
 * that make a word into another when the command runs (sh: $ and the glob and tilde
 * characters; cmd.exe: none, its %VAR% being expanded before, cs_plat_shell_expand);
 * escape: the special that makes the next character an ordinary one (sh: \; cmd.exe: ^).
 * A fixed answer. */
typedef struct cs_plat_shell_syntax_s {
  const char *quotes;
  const char *specials;
  const char *in_double;
  const char *expands;
  char escape;
} cs_plat_shell_syntax_t;
const cs_plat_shell_syntax_t *cs_plat_shell_syntax(void);

/* What the system shell does to a command line before splitting it into words, done
 * here, for the same judgement: *out (new, free()) is command with it done. Windows:
 * cmd.exe's %VAR% references expanded from this process's environment
 * (ExpandEnvironmentStringsW); a % left after it (an undefined name, cmd.exe's own
 * %VAR:~n,m% or %CD%) is CS_EINVAL: what cmd.exe would make of it cannot be judged.
 * POSIX: a copy (sh expands while it reads words; its $ is one of the specials above).
 * CS_ENOMEM; Windows CS_EINVAL for a line that is not UTF-8 or expands past 32K
 * characters. */
int cs_plat_shell_expand(const char *command, char **out, cs_err_t *err);

/* Local time of t (seconds since 1970), for maintenance windows. */
int cs_plat_localtime(long long t, struct tm *out);

/* n bytes from the system's random source (POSIX getrandom, Windows BCryptGenRandom)
 * into buf: names others must not guess. CS_EIO when it has none to give. */
int cs_plat_random(void *buf, size_t n, cs_err_t *err);

/* The safety checks on what certsteward trusts. Each answers 0 when only root /
 * Administrators / SYSTEM / this process's account can change what path names (a
 * folder: what it holds) and the folders above it (whoever can rename what one of them
 * holds can put another folder in its place: on Linux a folder others can write, unless
 * sticky; on Windows one where others hold DELETE, FILE_DELETE_CHILD, WRITE_DAC or
 * WRITE_OWNER, or own it; adding entries alone, what C:\ProgramData lets every user
 * do, takes none away), and 1 otherwise, with the reason
 * in why: "… can be written by all users (mode 777)". They fail closed: a check
 * that cannot be made (missing, unreadable permissions, a link in the way) answers 1
 * with what stopped it ("cannot look at …: …"); there is no error to mistake for safe.
 * A link is never taken for the folder or file it points to.
 * - folder_unsafe: a folder (the drop and state folders);
 * - secret_file_unsafe: a file that no one else may read or change either (the PFX
 *   password);
 * - config_file_unsafe: the configuration file, which names commands run as root /
 *   LocalSystem: no one else may change it or the folders above it. */
int cs_plat_folder_unsafe(const char *path, char *why, size_t len);
int cs_plat_secret_file_unsafe(const char *path, char *why, size_t len);
int cs_plat_config_file_unsafe(const char *path, char *why, size_t len);

/* Reads folder/name of [store] adopt_from, the output of an ACME client, whose links
 * (certbot's live/NAME/cert.pem -> ../../archive/NAME/cert3.pem) are followed only when
 * no one but root or this process's user can change a link or a folder on the way
 * (cs_plat_config_file_unsafe; secret: nor read the file, cs_plat_secret_file_unsafe):
 * what that chain reaches only they can change, so reaching it again to read it finds
 * the same file. The file read is opened without following a link (its real path) and
 * must be a regular file of at most max bytes. id (id_len bytes, at least 128) receives
 * its version: device, file number, size and change time. data NULL: only id. CS_ENOENT
 * when it is not there; CS_EACCES with the reason when it is not trusted; CS_ETOOBIG,
 * CS_ENOTREG. Free *data with cs_plat_free_file. Windows: CS_EINVAL (it adopts from its
 * certificate store). */
int cs_plat_source_read(const char *folder, const char *name, int secret, size_t max, unsigned char **data, size_t *len,
                        char *id, size_t id_len, cs_err_t *err);

/* Who, besides root / Administrators, SYSTEM, TrustedInstaller and this process's
 * account, can change a folder on the path of a file certsteward writes (the [store]
 * files, the binding files, the event and metrics files): every folder from / (the
 * drive's root) down to the one that holds path, links on the way followed and judged
 * too; the file itself is not judged (it may not exist yet). 0 when no one else can;
 * 1 with the first folder others can change in folder and who can, by name, in who:
 * "user www-data (owner)", "group ssl-cert (mode 775)", "user postgres, group adm
 * (ACL)", "NT SERVICE\\X (S-1-5-80-...) (DACL)". Fails closed as the checks above:
 * what cannot be looked at answers 1, who saying "cannot be told: ..." and why. */
int cs_plat_path_writers(const char *path, char *folder, size_t folder_len, char *who, size_t who_len);

/* Whether the programs that run as root / LocalSystem can be changed by someone else:
 * whoever can change exe or worker, the folder that holds them (a DLL or a program put
 * there, one replaced) or a folder above it (renamed away, another put in its place)
 * runs code as them. The folders are judged by cs_plat_path_writers, each program as
 * the configuration file is (cs_plat_config_file_unsafe: its owner, who else may
 * change it, one name, no link). 0 when no one else can; 1 with the reason in why
 * ("FOLDER, the folder of certsteward.exe or one above it, can be changed by WHO", or
 * what is wrong with a program), failing closed as those checks do. The one judgement of certsteward
 * doctor's program_folder check and of certsteward install (platform.c). */
int cs_plat_program_unsafe(const char *exe, const char *worker, char *why, size_t len);

/* A state file the daemon trusts (the journal, a manifest, a parked file) or a state
 * folder and everything below it: 0 when each was made by root / an administrator
 * (owner root or this process's user; Windows: Administrators, SYSTEM,
 * TrustedInstaller or this process's user) and no one else can change it, none is a
 * link or reparse point and every file has one name; nothing at path is 0 too (nothing
 * to trust). Else 1 with the reason, failing closed as the checks above. The folders
 * above path are not judged here (cs_plat_folder_unsafe does that for the state folder). */
int cs_plat_state_unsafe(const char *path, char *why, size_t len);

/* The state folder and what is acted on from it (the journal, the transaction's folder:
 * its backups and manifests name what is deleted or put back; the request in flight: its
 * record, request and issued certificate are submitted to the CA and put in service; the
 * record of the certificate certsteward put in service: it keeps READ on that key), as
 * the daemon and every command that recovers or renews judge them: cs_plat_folder_unsafe
 * of dir, then cs_plat_state_unsafe of each. 1 with the reason when unsafe. A file planted
 * while the folder was open to others stays its planter's to change. */
int cs_plat_state_dir_unsafe(const char *dir, char *why, size_t len);

/* Runs path (no PATH search) with argv in place of this program: POSIX execv;
 * Windows starts it confined as cs_plat_run_confined (it is the worker), waits, and
 * exit()s with its code. Returns only on failure. */
int cs_plat_exec(const char *path, char *const argv[], cs_err_t *err);

/* Sleeps ms milliseconds (blocking: the daemon's worker threads only). */
void cs_plat_sleep_ms(int ms);

/* Milliseconds from a fixed point (boot, on both platforms) that only goes forward:
 * for deadlines, which a change of the wall clock (an admin, NTP) must not cut short
 * or stretch. POSIX: CLOCK_MONOTONIC; Windows: GetTickCount64. */
long long cs_plat_monotonic_ms(void);

/* Path of this executable's sibling named name (the worker next to certsteward). */
int cs_plat_sibling_path(const char *name, char *buf, size_t len, cs_err_t *err);

/* ---- the program's entry and standard streams ------------------------------- */

/* Each executable linking the cs_entry library (common/posix/entry.c: main;
 * common/win/entry.c: wmain, the arguments converted from UTF-16) defines both:
 * cs_main runs with the arguments in UTF-8; cs_main_nomem_exit is the exit status
 * when they cannot be converted (out of memory). */
int cs_main(int argc, char **argv);
extern const int cs_main_nomem_exit;

/* Standard output written byte for byte, "\n" never made "\r\n" (Windows: binary
 * mode; POSIX: nothing to do), for a reader that takes lines (the daemon). */
void cs_plat_stdout_binary(void);

/* Reads standard input up to the first line end, EOF, or cap bytes into buf (*len
 * bytes), for a secret. On a terminal / console the prompt goes to standard error,
 * what is typed is not echoed (a signal, Ctrl+C, puts the echo back first) and the
 * rest of a line too long for buf is dropped, not left to the shell; a Windows console
 * is read as UTF-16 and given as UTF-8 ending in "\n" (Ctrl+Z alone: nothing given).
 * 0 (also when nothing was given), -1 when it cannot be read, -2 when the first line
 * does not fit. */
int cs_plat_read_secret_line(const char *prompt, char *buf, size_t cap, size_t *len);

/* The names of the privileges enabled in this process's token, space separated
 * ("" when none): CS_OK on Windows (CS_EIO when the token cannot be read); POSIX
 * CS_EINVAL with buf "" (root's powers are no list a process holds). */
int cs_plat_privileges(char *buf, size_t len);

/* ---- private-key permission ------------------------------------------------ */

/* Grants account READ on the private key key_ref (POSIX: a key file, through an
 * ACL entry; Windows: the key of the certificate with that thumbprint), merged into
 * what is there (nothing else removed, no duplicate), then read back.
 * CS_ENOENT when the account does not exist. */
int cs_plat_key_grant(const char *key_ref, const char *account, cs_err_t *err);

/* *granted = 1 if account can READ key_ref as granted above, else 0. */
int cs_plat_key_check(const char *key_ref, const char *account, int *granted, cs_err_t *err);

/* What tells the private key key_ref from another one put at its place since: POSIX
 * "<device>:<inode>" of the key file (reached without following a link, a regular file
 * with one name); Windows "" (the key is the one the certificate of that thumbprint links
 * to in LocalMachine\My, which only administrators change). */
int cs_plat_key_identity(const char *key_ref, char *out, size_t len, cs_err_t *err);

/* ---- service control --------------------------------------------------------- */

/* 1 if the service exists, 0 if not, CS_E* when that cannot be told. */
int cs_plat_service_exists(const char *service, cs_err_t *err);

/* Restarts the service and waits until it runs again, at most timeout_ms.
 * restart_command / status_command (may be NULL) replace the platform's way:
 * the restart command must exit 0, then the status command is polled until it
 * exits 0. The platform's way (Windows: the SCM) stops the running services that
 * depend on it first, waits until the old process has exited, starts a new one,
 * then starts those services again. Errors say what failed, with the exit code. */
int cs_plat_service_restart(const char *service, const char *restart_command, const char *status_command,
                            int timeout_ms, cs_err_t *err);

/* What the service manager holds for service, as new strings (free()): the account
 * it runs as (*start_name: QueryServiceConfigW's lpServiceStartName, NULL when it has
 * none) and its command line (*image_path: lpBinaryPathName, the ImagePath). Windows
 * only: POSIX answers CS_EINVAL (not known; Linux keeps its explicit configuration).
 * CS_ENOENT when there is no such service. */
int cs_plat_service_config(const char *service, char **start_name, char **image_path, cs_err_t *err);

/* The services that depend on service and run now, in the order to stop them (one
 * that depends on another comes first), as "name\n" lines in a new string (*names,
 * free(); "" when none). POSIX: always "" (systemd stops and orders a unit's
 * dependents itself). */
int cs_plat_service_dependents(const char *service, char **names, cs_err_t *err);

/* Stops the services named in dependents ("name\n" lines, may be NULL or ""), in that
 * order, then service, and waits until the service's process has exited, not only
 * until the service manager says it is stopped (an old process can hold its ports and
 * files a while longer), at most timeout_ms in all. A service already stopped is fine. */
int cs_plat_service_stop(const char *service, const char *dependents, int timeout_ms, cs_err_t *err);

/* Starts service, then the services in dependents in the reverse order, and waits
 * until it runs (then polls status_command, when set, until it exits 0), at most
 * timeout_ms in all. fresh = 1: the service must end up in a process started after
 * this call began (one found running is stopped first: it may have read its files
 * before they changed); fresh = 0: a service found running is left as it is. */
int cs_plat_service_start(const char *service, const char *dependents, const char *status_command, int fresh,
                          int timeout_ms, cs_err_t *err);

/* ---- system event log ------------------------------------------------------ */

struct cs_event_def_s;
struct cs_event_s;

/* Opens the system's event sink: syslog (LOG_DAEMON, ident "certsteward") or the
 * Windows Event Log (source "certsteward", Application log). */
int cs_plat_syslog_open(cs_err_t *err);
/* Writes one event; message is the formatted, sanitised text. */
void cs_plat_syslog_write(const struct cs_event_def_s *def, const struct cs_event_s *ev, const char *message);
void cs_plat_syslog_close(void);
/* The event sinks' lock (events.c): one process-wide mutex, usable from any thread
 * without set-up (statically initialised) and held only while one event is written. */
void cs_plat_events_lock(void);
void cs_plat_events_unlock(void);

/* ---- certificate store ------------------------------------------------------- */

struct cs_config_s;

/* Puts the staged certificate (the worker's stage folder: cert.pem, chain.pem,
 * key.pem, bundle.pem, leaf.der) in service: POSIX writes [store] cert_file,
 * key_file, chain_file, bundle_file (atomically, owner/mode/ACL kept); Windows
 * imports into LocalMachine\My (a key-less certificate bound to a key already there,
 * or joined to the key its request left in LocalMachine\REQUEST, whose entry then
 * goes, as certreq -accept). What it replaces is first saved under backup_dir,
 * with a manifest, so that cs_plat_store_undo can put it back from disk alone
 * (also after a crash). */
int cs_plat_store_install(const struct cs_config_s *cfg, const char *stage_dir, const char *backup_dir, cs_err_t *err);
/* Undoes cs_plat_store_install from backup_dir: restores what was replaced and
 * removes what did not exist before. Safe when install stopped half-way or never ran. */
int cs_plat_store_undo(const struct cs_config_s *cfg, const char *backup_dir, cs_err_t *err);
/* After COMMIT: moves what backup_dir holds to archive_dir ([store]
 * old_certificates = keep) or deletes it (delete); archive_dir is root-only. */
int cs_plat_store_archive(const struct cs_config_s *cfg, const char *backup_dir, const char *archive_dir,
                          cs_err_t *err);
/* What the certificate store is called in events and messages: "LocalMachine\\My"
 * (Windows), [store] cert_file (POSIX; NULL when not set). */
const char *cs_plat_store_name(const struct cs_config_s *cfg);
/* Where the certificate in service is, for the worker (POSIX: [store] cert_file
 * and key_file; "" when not configured or missing). */
int cs_plat_store_current(const struct cs_config_s *cfg, char *cert_path, size_t cert_len, char *key_path,
                          size_t key_len, cs_err_t *err);
/* What the private-key permission applies to for the certificate thumbprint:
 * POSIX the key file, Windows the thumbprint itself. */
int cs_plat_store_key_ref(const struct cs_config_s *cfg, const char *thumbprint, char *buf, size_t len);

/* One certificate of the platform's store (cs_plat_store_list). */
typedef struct cs_plat_cert_s {
  char tp[41];          /* SHA-1 thumbprint, upper-case hex */
  char *subject;        /* subject, one line (owned; may be NULL) */
  char *friendly;       /* friendly name (owned; may be NULL) */
  long long not_after;  /* seconds since 1970 */
  int has_key;          /* a private key is linked to it */
  char renewal[41];     /* the certificate that renewed it, as the store links them (Windows:
                         * CERT_RENEWAL_PROP_ID, set by autoenrollment and certreq); "" none */
  long long not_before; /* seconds since 1970 */
  int archived;         /* Windows: archived (CERT_ARCHIVED_PROP_ID), as a renewal leaves the one
                         * it renewed; listed all the same, so that the certificate in service
                         * is found when autoenrollment archived it */
  int no_server_auth;   /* Windows: the store's own purposes for it (CERT_ENHKEY_USAGE_PROP_ID,
                         * the MMC's "Disable all purposes" or a list without server
                         * authentication) rule TLS server use out */
} cs_plat_cert_t;

/* Every certificate of the platform's store with its expiry, read without OpenSSL
 * (Windows: LocalMachine\My through crypt32), for the metrics and status. POSIX has
 * no such store: CS_EINVAL with err saying so. Free with cs_plat_store_list_free. */
int cs_plat_store_list(const struct cs_config_s *cfg, cs_plat_cert_t **certs, size_t *n, cs_err_t *err);
void cs_plat_store_list_free(cs_plat_cert_t *certs, size_t n);

/* Whether the private key the store links to its certificate tp is there and is that
 * certificate's own: its public half equals the certificate's (Windows: the key is
 * opened as LocalSystem would use it, never exported). 1 yes; 0 no, with why said in
 * why (no key linked, a key that cannot be opened, another certificate's key);
 * CS_E* with err when it cannot be told (tp not in the store: CS_ENOENT; store
 * unreadable). It may block as long as the key's provider does (a smart card or a
 * networked HSM on Windows): call it off the daemon's loop. POSIX: CS_EINVAL (its
 * store is files). */
int cs_plat_store_key_matches(const char *tp, char *why, size_t why_len, cs_err_t *err);

/* Whether the private key of the store's certificate tp (Windows: in LocalMachine\\My, else
 * the entry tp a request left in LocalMachine\\REQUEST) is kept to the machine's
 * administrators: owned by Administrators or SYSTEM (or TrustedInstaller), and no one
 * else, but account ([connector] account, which the grant gives READ; NULL or "": none),
 * may read it or change it or its access rules (the key judged as a secret file). 1 yes;
 * 0 no, why naming who else may; CS_E* with err when it cannot be told (not in the store,
 * no key, the rules unreadable). Used before a certificate an admin's tool left in the
 * store is adopted: any user may create a machine key (MachineKeys lets everyone create
 * files) that a certificate gets linked to, and keep reading it. Blocks as long as the
 * key's provider does. POSIX: CS_EINVAL. */
int cs_plat_store_key_private(const char *tp, const char *account, char *why, size_t why_len, cs_err_t *err);
/* Whether the private key of the certificate der (DER, len bytes) waits in the store
 * from a certificate request made on this machine (Windows: LocalMachine\REQUEST, the
 * placeholder certificate that certreq -new or the MMC's "Create Custom Request" leave
 * there with the public key of the request and a link to its private key, until
 * certreq -accept joins the issued certificate to that key). 1 yes: tp is that entry's
 * thumbprint (the entry's key opens and is the certificate's, as cs_plat_store_key_matches
 * tells); 0 no: why is "" when no entry has its public key, else says why the one there
 * cannot serve (no key linked, a key that cannot be opened or is another's); CS_E* with
 * err when it cannot be told (der is no certificate, the store cannot be read). It may
 * block as long as the key's provider does: not on the daemon's loop. POSIX: 0, why ""
 * (no such store). */
int cs_plat_store_pending(const unsigned char *der, size_t len, char tp[41], char *why, size_t why_len, cs_err_t *err);
/* After cs_plat_store_install into backup_dir: 1 when it joined the certificate to the
 * private key a request left in the store (cs_plat_store_pending), where naming that
 * store (Windows: "LocalMachine\\REQUEST"); 0 otherwise, and always on POSIX. Read
 * from what install recorded in backup_dir. */
int cs_plat_store_paired(const char *backup_dir, char *where, size_t len);

/* Change notifications of the platform's store (Windows: LocalMachine\My), without
 * polling: cb(arg) runs on a thread of the watch's own after each change (a burst of
 * changes may come as one call or as several; a change may also come with none made,
 * so cb only says "look again"). cb runs on that thread, never on the caller's: it
 * must be quick and thread-safe (uv_async_send), and while it runs the next change
 * is already being watched. A change made once start has returned is seen.
 * Stopped and freed by cs_plat_store_watch_stop, which waits for a cb in progress to
 * return, after which cb runs no more; stop may be called from cb (it then returns at
 * once and the watch ends when cb returns). POSIX: CS_EINVAL (its store is files:
 * [store] adopt_from is watched as a folder). */
typedef struct cs_plat_store_watch_s cs_plat_store_watch_t;
int cs_plat_store_watch_start(void (*cb)(void *arg), void *arg, cs_plat_store_watch_t **w, cs_err_t *err);
void cs_plat_store_watch_stop(cs_plat_store_watch_t *w); /* NULL: nothing */
/* 1 with err set when the watch has stopped watching by itself (the store's key
 * deleted, a notification that could not be renewed): cb was called one last time
 * after that was recorded, and will not be called again; stop it, then start a new
 * one or look at the store on a timer. 0 while it watches (and for NULL). */
int cs_plat_store_watch_failed(const cs_plat_store_watch_t *w, cs_err_t *err);

/* ---- the machine's trust ------------------------------------------------------ */

/* A certificate as DER bytes. */
typedef struct cs_der_s {
  const unsigned char *p;
  size_t len;
} cs_der_t;

/* What the machine's own chain engine says of a certificate (see common/win/trust.c). */
typedef struct cs_machine_chain_s {
  int trusted;         /* 1: chains to a root this machine trusts, for server authentication */
  char why[640];       /* trusted == 0: every reason the engine gave, for the report */
  char root_from[96];  /* trusted == 1: where the root was found ("LocalMachine\\Root", ...) */
  unsigned char **der; /* the chain the engine built, the leaf first (n entries, owned) */
  size_t *der_len;
  size_t n;
} cs_machine_chain_t;

/* Asks the machine whether leaf (with the file's other certificates, extra[n_extra],
 * as candidate intermediates) is trusted at time at. CS_OK with *out filled (trusted
 * or not, with the reasons); an error only when the question could not be asked.
 * Windows: its chain engine for the machine (LocalMachine's Root, AuthRoot, CA and
 * Disallowed stores, group policy and enterprise roots included). POSIX: CS_ENOTSUP
 * (a Linux machine's trust is a file OpenSSL reads: cs_policy_trust_load). Free *out
 * with cs_plat_machine_chain_free (also after an error). */
int cs_plat_machine_chain(const cs_der_t *leaf, const cs_der_t *extra, size_t n_extra, time_t at,
                          cs_machine_chain_t *out, cs_err_t *err);
void cs_plat_machine_chain_free(cs_machine_chain_t *c);

/* ---- readiness (certsteward doctor) ------------------------------------------ */
/* Each only looks: nothing is created, started, granted or written. */

/* What a readiness check found (cs_plat_doctor_*'s answer). */
typedef enum cs_doctor_outcome_e {
  CS_DOCTOR_OK = 0,
  CS_DOCTOR_WARN, /* works, but something is not as it should be, or cannot be told here */
  CS_DOCTOR_FAIL
} cs_doctor_outcome_t;

/* The state of service as the service manager says it ("running", "stopped", ...;
 * systemd: its ActiveState, "active", "inactive", "failed", ...) into state, and
 * *running = 1 when it runs. CS_ENOENT when there is no such service. */
int cs_plat_service_state(const char *service, char *state, size_t len, int *running, cs_err_t *err);

/* Whether account can READ the private key key_ref (as cs_plat_key_grant names it)
 * by every rule that decides it, not only an entry of its own: Windows, an access
 * check for the account's SID (Authz, no logon) against the key's security
 * descriptor; POSIX, the kernel's own answer for a process of that account (a child
 * that takes on the account's user and groups and opens the file; the file's own
 * entries when this process cannot become another user). *readable 1 or 0, why says
 * what decided it. An error when it could not be told. */
int cs_plat_key_readable(const char *key_ref, const char *account, int *readable, char *why, size_t len, cs_err_t *err);

/* The DER bytes of the certificate with SHA-1 thumbprint tp in the platform's store
 * (Windows: LocalMachine\\My, opened read only), new (free()). CS_ENOENT when it is
 * not there; POSIX: CS_EINVAL (its store is files: [store] cert_file). */
int cs_plat_store_cert(const char *tp, unsigned char **der, size_t *len, cs_err_t *err);

/* Windows: the Event Log source certsteward is registered and its message file
 * renders event 1000, detail saying what was found; POSIX: CS_DOCTOR_OK with detail
 * empty (nothing to register: syslog takes any ident), which is no check at all. */
cs_doctor_outcome_t cs_plat_doctor_event_source(char *detail, size_t len);

/* Windows: certsteward's own service exists, starts automatically (delayed) and is
 * restarted after a failure; POSIX: CS_DOCTOR_OK, detail empty (nothing to check:
 * the unit file is the package's). */
cs_doctor_outcome_t cs_plat_doctor_own_service(char *detail, size_t len);

/* ---- secrets at rest (the PFX password) ------------------------------------ */

/* Protects data for storing on this machine: Windows DPAPI in machine scope (a
 * blob only this machine can open; the file holding it is readable by SYSTEM and
 * Administrators only); POSIX returns a copy (the file is 0600 root). *out is new
 * (free with cs_plat_free_file). */
int cs_plat_secret_seal(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err);
/* Opens what cs_plat_secret_seal made; data that is not a sealed blob (a password
 * file an admin wrote by hand) is returned as it is. */
int cs_plat_secret_unseal(const void *data, size_t len, unsigned char **out, size_t *out_len, cs_err_t *err);
/* Writes sealed data to path with cs_plat_write_atomic, readable by the service only:
 * POSIX mode 0600, owner the caller (root), no extended ACL entries; Windows a protected
 * DACL, SYSTEM and Administrators full control, set before the data goes in. An
 * existing file is restricted first, then replaced. */
int cs_plat_secret_store(const char *path, const void *data, size_t len, cs_err_t *err);

/* ---- mutual exclusion ------------------------------------------------------- */

typedef struct cs_plat_lock_s cs_plat_lock_t;

/* Takes an exclusive lock on the file at path (created 0600 if missing) without
 * waiting: CS_EBUSY when another process holds it. Released by cs_plat_unlock or
 * when the process ends, however it ends. */
int cs_plat_lock(const char *path, cs_plat_lock_t **lock, cs_err_t *err);
void cs_plat_unlock(cs_plat_lock_t *lock);

/* ---- request keys ------------------------------------------------------------ */
/* The key a certificate request (PKCS#10, common/csr.h) is made for, made where it
 * will live: POSIX <state_dir>/request/<name>.key (PEM PKCS#8, mode 0600, owner root,
 * folder 0700); Windows the machine key "certsteward-<name>" of the Microsoft Software
 * Key Storage Provider, not exportable, its DACL (SYSTEM and Administrators full
 * control, the connector's account READ) set before the key is finalized. Made in the
 * OpenSSL part of the build (cs_crypto), never in the daemon. */

/* The kinds of key a request is made for ([request] key). */
typedef enum { CS_KEYKIND_RSA2048, CS_KEYKIND_RSA3072, CS_KEYKIND_EC_P256 } cs_keykind_t;

#define CS_REQKEY_DIR "request"             /* <state_dir>/request: the POSIX key files */
#define CS_REQKEY_NAME_MAX 64               /* a key's name: [A-Za-z0-9._-], 1 to 64 characters */
#define CS_REQKEY_CNG_PREFIX "certsteward-" /* Windows: the CNG key's name before <name> */

typedef struct cs_plat_reqkey_s cs_plat_reqkey_t;
typedef struct evp_pkey_st EVP_PKEY; /* OpenSSL's, as <openssl/types.h> declares it */

/* Makes a new key named name for a request. An existing key of that name is never
 * overwritten: CS_EEXIST (POSIX: a link at its path, or at request/, is refused,
 * CS_ENOTREG). name not of [A-Za-z0-9._-] (1 to 64, not "." nor ".."): CS_EINVAL. Windows:
 * the account READ is given to is [connector] account, else NT SERVICE\<[connector]
 * service> (its SID computed, keyacl.c), else none. Free *out with cs_plat_reqkey_free. */
int cs_plat_reqkey_make(const struct cs_config_s *cfg, const char *name, cs_keykind_t kind, cs_plat_reqkey_t **out,
                        cs_err_t *err);
/* Opens the key name made: CS_ENOENT when it is gone; POSIX: a key file others may
 * read or change, or not of one name, is refused (CS_EACCES / CS_ENOTREG). */
int cs_plat_reqkey_open(const struct cs_config_s *cfg, const char *name, cs_plat_reqkey_t **out, cs_err_t *err);
/* The key's public half as an OpenSSL object (borrowed: lives as long as k). */
EVP_PKEY *cs_plat_reqkey_public(cs_plat_reqkey_t *k);
cs_keykind_t cs_plat_reqkey_kind(cs_plat_reqkey_t *k);
/* Signs the SHA-256 digest of data (len bytes) with the key: RSA PKCS#1 v1.5, ECDSA as
 * a DER Ecdsa-Sig-Value. *sig is new (free()). */
int cs_plat_reqkey_sign(cs_plat_reqkey_t *k, const void *data, size_t len, unsigned char **sig, size_t *sig_len,
                        cs_err_t *err);
/* What names the key where it lives, for events and status: POSIX the file's path,
 * Windows the CNG key's name. */
const char *cs_plat_reqkey_where(cs_plat_reqkey_t *k);
/* Leaves a placeholder of key k for the certificate the CA will issue for host, where
 * the system joins a returned certificate with its pending key. Windows: a self-signed
 * certificate linked to the key in LocalMachine\REQUEST, as certreq -new does, so that
 * the issued certificate (from the CA helper, or dropped by an admin) is paired with the
 * key as any pending request's is. POSIX: nothing; the key file is what is paired. */
int cs_plat_reqkey_place(const struct cs_config_s *cfg, cs_plat_reqkey_t *k, const char *host, cs_err_t *err);
/* Deletes the key name (a request given up or rejected); one already gone: CS_OK.
 * Windows: its placeholder in LocalMachine\REQUEST goes first, and a key a certificate
 * in LocalMachine\My is bound to is kept (it is that certificate's now): CS_OK. */
int cs_plat_reqkey_delete(const struct cs_config_s *cfg, const char *name, cs_err_t *err);
void cs_plat_reqkey_free(cs_plat_reqkey_t *k); /* NULL: nothing */

/* ---- the CA enrollment API ([request] route = adcs) --------------------------- */

struct cs_ca_answer_s; /* ca_command.h */

/* One question to Active Directory Certificate Services through Windows' own CA
 * enrollment API (certcli's CCertRequest; common/win/adcs.c), in the calling process.
 * op (ca_command.h's cs_ca_op_t): CS_CA_OP_SUBMIT csr_pem (PKCS#10, PEM) with
 * attributes (adcs.h: cs_adcs_attributes, may be ""); CS_CA_OP_POLL the CA's
 * request_id; CS_CA_OP_IDENTIFY the CA's name (doctor; nothing submitted). The CA is
 * the one ca_config names (adcs.h: cs_adcs_config_check). ans is filled as a CA
 * helper's answer (adcs.h: cs_adcs_answer) whatever the CA answered, the enrollment
 * API missing here too: CS_OK. CS_E* only when the question could not be asked
 * (ca_config malformed: CS_ECONFIG; COM could not be initialised; out of memory).
 * POSIX: CS_EINVAL, "route adcs is Windows' own". */
int cs_plat_adcs_call(int op, const char *ca_config, const char *csr_pem, const char *attributes, long request_id,
                      struct cs_ca_answer_s *ans, cs_err_t *err);

#endif
