/* certsteward install's first configuration (install_config.c), portable so that it is
 * tested on every build; winsvc.c runs it. */
#ifndef CS_INSTALL_CONFIG_H
#define CS_INSTALL_CONFIG_H

#include <stddef.h>

#define CS_INSTALL_TEMPLATE "certsteward-default.ini"
#define CS_INSTALL_MAX_SETS 16

typedef struct cs_install_set_s {
  char section[32], key[64]; /* lower case; section "" when not given (keys are unique) */
  const char *value;         /* trimmed, value_len bytes; 0 = leave the template's line */
  size_t value_len;
  int line; /* the template line it went into */
} cs_install_set_t;

/* Takes every "--set [SECTION.]KEY=VALUE" (or --set=...) out of argv (from argv[2]) into
 * sets; the rest goes to rest (argc + 1 room, NULL-terminated). Prints why and returns
 * -1 on a refused one (a control character, a double quote, " ;", a bad key, twice).
 * Every "--ignored PROPERTY=VALUE" is taken out too, and said as a warning when VALUE
 * is not empty (cs_install_ignored_text): never refused, never used. */
int cs_install_take_sets(int argc, char **argv, char **rest, int *n_rest, cs_install_set_t *sets, size_t *n_sets);

/* value as the value of s when it is one line of plain text: no control character, no
 * double quote (it would end the MSI's quoting of the value on the command line), no
 * " ;" (a comment in the file); spaces around it trimmed (s->value points into value).
 * Else -1 with why printed, what naming where it comes from ("--set host"), and s as
 * it was. The one check of --set values and of the values remembered for a repair. */
int cs_install_set_value(cs_install_set_t *s, const char *value, const char *what);

/* Writes the configuration file path when it does not exist: template_path (NULL:
 * certsteward-default.ini beside this program, if there) with the sets put into its
 * "KEY =" lines, checked by the configuration loader (invalid, may be NULL, is told
 * why it is not), then written atomically. An existing file is kept (a warning when
 * sets were given). CS_EXIT_OK or CS_EXIT_USAGE, with why printed. */
int cs_install_first_config(const char *path, const char *template_path, cs_install_set_t *sets, size_t n_sets,
                            void (*invalid)(const char *path, const char *why));

/* "--ignored PROPERTY=VALUE" is what the MSI passes on a repair or other maintenance run
 * for each of HOST, BINDING_FILE and ENDPOINTS (installer/windows/certsteward.wxs): they
 * are not used then, and install says so. 1 with the warning line (no "\n") in out when
 * VALUE is not empty; 0 when there is nothing to say. The value is shown with control
 * characters as \xNN and cut at 200 bytes; a name that is not [A-Z_]+ is "a value". */
int cs_install_ignored_text(const char *arg, char *out, size_t len);

#endif
