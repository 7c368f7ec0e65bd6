/* Removing a folder tree (the renewal's scratch folder) without following links. */
#define _XOPEN_SOURCE 700 /* nftw */
#include "../platform.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  return (type == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int cs_plat_remove_tree(const char *path, cs_err_t *err) {
  /* FTW_DEPTH: contents before their folder; FTW_PHYS: a link is removed, never followed */
  if (nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
    return cs_err_set(err, CS_EIO, errno, "cannot remove %s: %s", path, strerror(errno));
  return CS_OK;
}
