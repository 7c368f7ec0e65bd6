/* certsteward check: is each file fit to replace the certificate in service?
 * The judging needs OpenSSL, which this executable never loads (the daemon is
 * this executable too): the command line is handed over to the worker's `check`
 * (service/worker.c), whose output and exit status are the command's. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "platform.h"
#include "worker.h"

int cs_cmd_check(int argc, char **argv) {
  cs_opt_t opts[] = CS_CHECK_OPTIONS;
  char exe[4096], **args = NULL;
  const char **files = NULL;
  cs_err_t err;
  int i, n_files = 0;

  /* a bad option is said here, with the usage; the rest is the worker's to judge */
  if ((files = malloc(sizeof *files * (size_t)argc)) == NULL) {
    fprintf(stderr, "certsteward check: out of memory\n");
    goto out;
  }
  if (cs_cli_parse(argc, argv, 2, opts, files, &n_files) != 0)
    goto out;

  if (cs_plat_sibling_path(CS_WORKER_NAME, exe, sizeof exe, &err) != CS_OK) {
    fprintf(stderr, "certsteward check: %s\n", err.text);
    goto out;
  }
  if ((args = malloc(sizeof *args * ((size_t)argc + 1))) == NULL) {
    fprintf(stderr, "certsteward check: out of memory\n");
    goto out;
  }
  args[0] = exe;
  for (i = 1; i < argc; i++) /* argv[1] is "check": the worker's command of that name */
    args[i] = argv[i];
  args[argc] = NULL;
  cs_plat_exec(exe, args, &err);
  fprintf(stderr, "certsteward check: the worker could not be started: %s\n", err.text);
out:
  free(files);
  free(args);
  return CS_EXIT_USAGE;
}
