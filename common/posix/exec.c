/* POSIX: a command hands itself over to another program (certsteward check ->
 * certsteward-worker check), which then owns the process: its output, its exit
 * status, its signals. */
#include "../platform.h"
#include "posix.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cs_plat_exec(const char *path, char *const argv[], cs_err_t *err) {
  int e;
  fflush(NULL); /* what this process printed must come before what the program prints */
  execv(path, argv);
  e = errno;
  return cs_err_set(err, cs__posix_errno(e), e, "cannot run %s: %s", path, strerror(e));
}
