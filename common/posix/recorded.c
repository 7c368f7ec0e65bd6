/* POSIX half of cs_plat_write_recorded: a file in a folder others may write (a
 * connector's binding file), replaced with the owner, group, mode and ACL of the
 * file whose bytes were read, never of what occupies the path by the write.
 *
 * The binding rewrite reads the file, then writes it back changed; its undo writes
 * the saved bytes back. Whoever can write the file's folder can put a file of its own
 * at the path between the two (inotify tells it the moment root reads), and a
 * replacement that kept that file's owner and mode would hand it the bytes of a file
 * it could not read. So a read with CS_READ_KEEP_META keeps, in this process, the
 * owner, group, mode and ACL of the very file read (one descriptor, one name), and
 * every cs_plat_write_recorded of that path gives them to the new file: the rewrite,
 * putting the old file back after a failure, the rollback's undo. The next such read
 * of the path replaces them. A recovery after a crash (another process) has nothing
 * kept and takes what is at the path, as cs_plat_write_atomic does. */
#include "../platform.h"
#include "posix.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../text.h"

/* ---- what a read kept, until the write of its path ---------------------------- */

typedef struct kept_s {
  char *path;
  cs__posix_meta_t meta;
  struct kept_s *next;
} kept_t;

static pthread_mutex_t kept_lock = PTHREAD_MUTEX_INITIALIZER;
static kept_t *kept_list;

/* Takes the entry of path off the list: *m its meta (free it), 1; 0 when none. */
static int kept_take(const char *path, cs__posix_meta_t *m) {
  kept_t **pp, *k = NULL;
  pthread_mutex_lock(&kept_lock);
  for (pp = &kept_list; *pp != NULL; pp = &(*pp)->next)
    if (strcmp((*pp)->path, path) == 0) {
      k = *pp;
      *pp = k->next;
      break;
    }
  pthread_mutex_unlock(&kept_lock);
  if (k == NULL)
    return 0;
  *m = k->meta;
  free(k->path);
  free(k);
  return 1;
}

/* A copy of what was kept for path into *m: 1, 0 when nothing was, -1 out of memory. */
static int kept_copy(const char *path, cs__posix_meta_t *m) {
  kept_t *k;
  int found = 0;
  memset(m, 0, sizeof *m);
  pthread_mutex_lock(&kept_lock);
  for (k = kept_list; k != NULL && strcmp(k->path, path) != 0; k = k->next)
    ;
  if (k != NULL) {
    *m = k->meta;
    m->acl = NULL;
    found = k->meta.acl == NULL || (m->acl = cs_strdup(k->meta.acl)) != NULL ? 1 : -1;
  }
  pthread_mutex_unlock(&kept_lock);
  return found;
}

int cs__posix_keep_meta(const char *path, const cs__posix_meta_t *m) {
  kept_t *k = calloc(1, sizeof *k);
  cs__posix_meta_t old;
  if (k == NULL || (k->path = cs_strdup(path)) == NULL ||
      (m->acl != NULL && (k->meta.acl = cs_strdup(m->acl)) == NULL)) {
    if (k != NULL)
      free(k->path);
    free(k);
    return CS_ENOMEM;
  }
  k->meta.uid = m->uid;
  k->meta.gid = m->gid;
  k->meta.mode = m->mode;
  if (kept_take(path, &old)) /* the newest read of path is what is written back */
    cs__posix_meta_free(&old);
  pthread_mutex_lock(&kept_lock);
  k->next = kept_list;
  kept_list = k;
  pthread_mutex_unlock(&kept_lock);
  return CS_OK;
}

/* What the file written at path gets: what the last read of path kept, else what is
 * at path now (a new file: this process's owner, group and mode). */
static int meta_for(const char *path, int mode, cs__posix_meta_t *m, cs_err_t *err) {
  cs_err_t why;
  int rc;
  switch (kept_copy(path, m)) {
  case 1:
    return CS_OK;
  case -1:
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory writing %s", path);
  default:
    break;
  }
  cs_err_clear(&why);
  if ((rc = cs__posix_meta_read(path, m, &why)) == CS_ENOENT) {
    m->uid = (long long)geteuid();
    m->gid = (long long)getegid();
    m->mode = mode & 07777;
    return CS_OK;
  }
  return rc == CS_OK ? CS_OK : cs_err_set(err, rc, why.raw, "%s", why.text);
}

int cs_plat_write_recorded(const char *path, const void *data, size_t len, int mode, const char *record_dir,
                           cs_err_t *err) {
  cs__posix_meta_t m;
  int rc;
  (void)record_dir; /* the Windows half's */
  if ((rc = meta_for(path, mode, &m, err)) != CS_OK)
    return rc;
  rc = cs__posix_write_meta(path, data, len, &m, err);
  cs__posix_meta_free(&m);
  return rc;
}

/* The temp files a write stopped by a crash left beside path. */
int cs_plat_recover_recorded(const char *path, const char *record_dir, cs_err_t *err) {
  (void)record_dir;
  return cs_plat_remove_temps(path, err);
}
