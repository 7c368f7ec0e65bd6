/* What certsteward install and uninstall say, kept where an administrator can find it
 * after an MSI ran them (Windows). Windows Installer discards the standard output and
 * error of an EXE custom action: its log only shows "returned actual error code 2". So
 * while install or uninstall runs, both streams also go, line by line, into a log file
 * of their own in the temporary folder of the account that runs them (LocalSystem's,
 * C:\Windows\SystemTemp or C:\Windows\Temp, when the MSI runs them):
 * certsteward-COMMAND-YYYYMMDD-HHMMSSZ-PID-RANDOM.log, made new (never one that exists),
 * for Administrators and SYSTEM only; and each line of standard error is said in the
 * Event Log once the command ends (1016 an error of a command that failed, 1017 a warning
 * or a problem of one that succeeded), naming the log file (or saying none could be
 * made: the events come all the same). */
#ifndef CS_INSTALL_LOG_H
#define CS_INSTALL_LOG_H

typedef struct cs_install_log_s cs_install_log_t;

/* Starts keeping the output of command ("install" or "uninstall"). NULL only when out
 * of memory (the command runs on without it). */
cs_install_log_t *cs_install_log_begin(const char *command);

/* Ends it (l may be NULL): the streams are given back, the command's exit status rc is
 * written to the log, standard error's lines are said in the Event Log, and the log's
 * path on standard output. */
void cs_install_log_end(cs_install_log_t *l, int rc);

#endif
