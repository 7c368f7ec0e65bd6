/* certsteward set-password: reads the PFX / key password from standard input (its first
 * line) and stores it where [watch] password_file says, through cs_password_write:
 * Windows seals it with DPAPI for this machine in a file only SYSTEM and Administrators
 * can open; Linux writes a 0600 file. On a terminal / console the typing is not echoed.
 * The password never reaches a command line, an output or an event, and every buffer
 * that held it is wiped. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "password.h"
#include "platform.h"

/* Room for the longest password in UTF-8 (console input converted from UTF-16 may take
 * 3 bytes a unit), its line end, and one byte more to tell "too long". */
#define LINE_CAP (3 * (CS_PASSWORD_MAX + 2) + 1)
#define PROMPT "PFX password (not shown): "

/* Length of the first line in buf[0..len) (up to CR or LF); *ended = 1 if one ended. */
static size_t first_line(const char *buf, size_t len, int *ended) {
  size_t i;
  for (i = 0; i < len; i++)
    if (buf[i] == '\n' || buf[i] == '\r') {
      *ended = 1;
      return i;
    }
  *ended = 0;
  return len;
}

int cs_cmd_set_password(int argc, char **argv) {
  cs_opt_t opts[] = {{"config", 1, NULL}, {NULL, 0, NULL}};
  const char **operands = malloc(sizeof *operands * (size_t)argc);
  char *line = malloc(LINE_CAP);
  size_t len = 0, n, start = 0;
  int n_operands = 0, have_cfg = 0, ended = 0, got, rc = CS_EXIT_USAGE;
  const char *path;
  cs_config_t cfg;
  cs_err_t err;

  if (operands == NULL || line == NULL) {
    fprintf(stderr, "certsteward set-password: out of memory\n");
    goto out;
  }
  if (cs_cli_parse(argc, argv, 2, opts, operands, &n_operands) != 0)
    goto out;
  if (n_operands > 0) {
    /* not echoed: it may be the password itself, given where it does not belong */
    fprintf(stderr, "certsteward set-password: takes no arguments; the password is read from standard input, "
                    "never from the command line\n");
    goto out;
  }
  if (cs_cli_config(opts[0].value, &cfg) != 0)
    goto out;
  have_cfg = 1;
  if ((path = cfg.watch.password_file) == NULL) {
    /* no default file: the service reads the password from password_file only */
    char where[1100], def[1024];
    if (cfg.path != NULL)
      snprintf(where, sizeof where, "%s", cfg.path);
    else if (cs_plat_default_config_path(def, sizeof def) == CS_OK)
      snprintf(where, sizeof where, "the configuration (there is no %s)", def);
    else
      snprintf(where, sizeof where, "the configuration");
    fprintf(stderr,
            "certsteward set-password: [watch] password_file is not set in %s; set it to the file that is to hold "
            "the password (for example password_file = %s) and run set-password again\n",
            where, cs_plat_is_windows() ? "C:\\ProgramData\\certsteward\\pfx.pass" : "/etc/certsteward/pfx.pass");
    goto out;
  }
  if ((got = cs_plat_read_secret_line(PROMPT, line, LINE_CAP, &len)) != 0) {
    if (got == -2)
      fprintf(stderr, "certsteward set-password: the password is longer than %d bytes; nothing written\n",
              CS_PASSWORD_MAX);
    else
      fprintf(stderr, "certsteward set-password: cannot read standard input; nothing written\n");
    goto out;
  }
  if (len >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF)
    start = 3; /* a UTF-8 byte-order mark (PowerShell, Notepad) is not part of it */
  n = first_line(line + start, len - start, &ended);
  if (n == 0) {
    fprintf(stderr, "certsteward set-password: no password on standard input (its first line is empty); "
                    "nothing written\n");
    goto out;
  }
  if (memchr(line + start, '\0', n) != NULL) {
    fprintf(stderr, "certsteward set-password: the password holds a NUL byte; nothing written\n");
    goto out;
  }
  line[start + n] = '\0';
  if (cs_password_write(path, line + start, &err) != CS_OK) {
    fprintf(stderr, "certsteward set-password: %s\n", err.text);
    goto out;
  }
  printf("certsteward: the PFX password is stored in %s (%s)\n", path,
         cs_plat_is_windows() ? "sealed with DPAPI for this machine; readable by SYSTEM and Administrators only"
                              : "mode 0600, readable by its owner only");
  rc = CS_EXIT_OK;
out:
  if (line != NULL) {
    cs_plat_wipe(line, LINE_CAP);
    free(line);
  }
  if (have_cfg)
    cs_config_free(&cfg);
  free(operands);
  return rc;
}
