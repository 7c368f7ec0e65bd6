/* POSIX half of cs_plat_read_file_meta and cs_plat_write_recorded: a file in a folder
 * others may write (a connector's binding file), read, then replaced with the owner,
 * group, mode and ACL of the file whose bytes were read, never of what occupies the
 * path by the write.
 *
 * The binding rewrite reads the file, then writes it back changed; its undo (in this
 * process, or the recovery after a crash) writes the saved bytes back. Whoever can
 * write the file's folder can put a file of its own at the path between the two
 * (inotify tells it the moment root reads), and a replacement that kept that file's
 * owner and mode would hand it the bytes of a file it could not read. So the read
 * gives, with the bytes, what the file had (one descriptor, one name) as a line of
 * text the caller keeps in its manifest, and every write back is given that. */
#include "../platform.h"
#include "posix.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../text.h"

/* "uid:gid:mode:acl", mode in octal, acl "-" when the mode says it all (its text has
 * commas and colons but never a tab or a line break). */
static char *meta_text(const cs__posix_meta_t *m) {
  cs_buf_t b = CS_BUF_INIT;
  cs_buf_printf(&b, "%lld:%lld:%o:%s", m->uid, m->gid, (unsigned)(m->mode & 07777), m->acl != NULL ? m->acl : "-");
  return b.oom ? (cs_buf_free(&b), NULL) : b.p;
}

static int meta_parse(const char *text, cs__posix_meta_t *m) {
  char *end;
  long long uid, gid;
  unsigned long mode;

  memset(m, 0, sizeof *m);
  uid = strtoll(text, &end, 10);
  if (end == text || *end != ':' || uid < 0)
    return CS_EFORMAT;
  gid = strtoll(text = end + 1, &end, 10);
  if (end == text || *end != ':' || gid < 0)
    return CS_EFORMAT;
  mode = strtoul(text = end + 1, &end, 8);
  if (end == text || *end != ':' || mode > 07777)
    return CS_EFORMAT;
  text = end + 1;
  if (*text == '\0' || strpbrk(text, "\t\r\n") != NULL)
    return CS_EFORMAT;
  m->uid = uid;
  m->gid = gid;
  m->mode = (int)mode;
  if (strcmp(text, "-") != 0 && (m->acl = cs_strdup(text)) == NULL)
    return CS_ENOMEM;
  return CS_OK;
}

int cs_plat_read_file_meta(const char *path, size_t max, unsigned char **data, size_t *len, char **meta,
                           cs_err_t *err) {
  cs__posix_meta_t m;
  int rc;

  *meta = NULL;
  if ((rc = cs__posix_read_meta(path, max, data, len, &m, err)) != CS_OK)
    return rc;
  if ((*meta = meta_text(&m)) == NULL) {
    cs_plat_free_file(*data, *len);
    *data = NULL;
    *len = 0;
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory reading %s", path);
  }
  cs__posix_meta_free(&m);
  return rc;
}

int cs_plat_write_recorded(const char *path, const void *data, size_t len, const char *meta, const char *record_dir,
                           cs_err_t *err) {
  cs__posix_meta_t m;
  int rc;
  (void)record_dir; /* the Windows half's */
  if (meta == NULL)
    return cs_plat_write_atomic(path, data, len, 0644, err);
  if ((rc = meta_parse(meta, &m)) != CS_OK)
    rc = cs_err_set(err, rc, 0, "what %s is to be written with cannot be read (\"%.40s\"); not written", path, meta);
  else
    rc = cs__posix_write_meta(path, data, len, &m, err);
  cs__posix_meta_free(&m);
  return rc;
}

int cs_plat_recorded_owner_unchanged(const char *path, const char *meta, cs_err_t *err) {
  cs__posix_meta_t want;
  long long uid;
  int rc;

  memset(&want, 0, sizeof want);
  if (meta == NULL)
    want.uid = (long long)geteuid();
  else if ((rc = meta_parse(meta, &want)) != CS_OK) {
    cs__posix_meta_free(&want);
    return cs_err_set(err, rc, 0, "what %s was saved with cannot be read (\"%.40s\"); not put back", path, meta);
  }
  uid = want.uid; /* the owner is all that is compared */
  cs__posix_meta_free(&want);
  return cs__posix_owner_unchanged(path, uid, err);
}

/* The temp files a write stopped by a crash left beside path. */
int cs_plat_recover_recorded(const char *path, const char *record_dir, cs_err_t *err) {
  (void)record_dir;
  return cs_plat_remove_temps(path, err);
}
