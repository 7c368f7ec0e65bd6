/* POSIX certificate store: the files a TLS service reads ([store] cert_file,
 * key_file, chain_file, bundle_file). Replacing them is atomic per file; the set
 * is made atomic by the renewal journal: every replaced file is saved first, with
 * a manifest listing it, so the undo works from disk alone after a crash.
 *
 * The folder of these files is often writable by the service's account, which can
 * put anything at their paths at any moment. So the backup reads each file without
 * following a link and records its owner, group, mode and ACL in the manifest; the
 * install and the undo give a file exactly what was recorded, never what occupies the
 * path by then; the undo acts only on the configured files, after checking the whole
 * manifest, and does not put a file back over one whose owner changed since. */
#include "../platform.h"
#include "../statedir.h"
#include "posix.h"

#include <acl/libacl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <unistd.h>

#include "../config.h"
#include "../fault.h"
#include "../text.h"

#define FILE_MAX (16u << 20)
#define MANIFEST_MAX (1u << 20)
/* Format 2: this line first, then "name TAB existed TAB uid TAB gid TAB mode (octal)
 * TAB ACL text or - TAB target" (the target last: a path may hold a TAB); a file that
 * did not exist has "-" for uid, gid, mode and ACL. Format 1 (no first line, before
 * the owner was recorded): "name TAB existed TAB target". */
#define MANIFEST_MAGIC "certsteward-store-manifest 2"
#define MANIFEST_OTHER "certsteward-store-manifest "

typedef struct target_s {
  const char *name; /* staged file name and backup name */
  const char *key;  /* the [store] key naming it */
  size_t offset;    /* of the char * path in cs_config_t */
  int mode;         /* for a file that does not exist yet */
  int secret;       /* holds the private key */
} target_t;

static const target_t targets[] = {
    {CS_STAGE_CERT, "cert_file", offsetof(cs_config_t, store.cert_file), 0644, 0},
    {CS_STAGE_KEY, "key_file", offsetof(cs_config_t, store.key_file), 0600, 1},
    {CS_STAGE_CHAIN, "chain_file", offsetof(cs_config_t, store.chain_file), 0644, 0},
    {CS_STAGE_BUNDLE, "bundle_file", offsetof(cs_config_t, store.bundle_file), 0600, 1},
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

/* One manifest line, checked. */
typedef struct saved_s {
  const target_t *t;
  int existed;
  cs__posix_meta_t meta; /* what the file had when saved; format 1: the rule in restore_meta */
  const char *target;    /* the configured path (the line's, once checked equal) */
} saved_t;

typedef struct manifest_s {
  int version; /* 1 or 2 */
  saved_t e[N_TARGETS];
  size_t n;
} manifest_t;

static const char *target_path(const cs_config_t *cfg, const target_t *t) {
  return *(char *const *)(const void *)((const char *)cfg + t->offset);
}

static int oom(cs_err_t *err) { return cs_err_set(err, CS_ENOMEM, 0, "out of memory"); }

/* What a new file is given: this process's owner and group (root), t's mode, no ACL. */
static void meta_new(cs__posix_meta_t *m, int mode) {
  memset(m, 0, sizeof *m);
  m->uid = (long long)geteuid();
  m->gid = (long long)getegid();
  m->mode = mode;
}

/* Reads target (no link in any component, a regular file with one name) and what it
 * is written with, both through one descriptor, so that the bytes saved and the owner,
 * mode and ACL recorded belong to the same file. CS_ENOENT when nothing is there. */
static int read_target(const char *target, unsigned char **data, size_t *len, cs__posix_meta_t *m, cs_err_t *err) {
  cs_err_t why;
  int rc;

  cs_err_clear(&why);
  if ((rc = cs__posix_read_meta(target, FILE_MAX, data, len, m, &why)) == CS_OK || rc == CS_ENOENT)
    return rc;
  return cs_err_set(err, rc, why.raw, "cannot save %s before replacing it, so nothing was replaced: %s", target,
                    why.text);
}

/* A file that holds the private key passes on its owner, group and ACL to the new key.
 * Its folder is often the connector's account's, and whoever can write that folder can
 * put a file of their own at the path before a renewal: the new key would be theirs.
 * So its owner must be root, this process's user or the connector's account (which
 * reads the key anyway), else nothing is replaced. */
static int secret_owner_ok(const cs_config_t *cfg, const target_t *t, const char *target, const cs__posix_meta_t *m,
                           cs_err_t *err) {
  const char *account = cfg->connector.account;
  cs_err_t ignored;
  uid_t uid;
  if (m->uid == 0 || m->uid == (long long)geteuid())
    return CS_OK;
  cs_err_clear(&ignored);
  if (account != NULL && cs__posix_account_uid(account, &uid, &ignored) == CS_OK && m->uid == (long long)uid)
    return CS_OK;
  return cs_err_set(err, CS_EACCES, 0,
                    "%s ([store] %s) is owned by uid %lld, neither root nor the connector's account%s%s: another "
                    "account may have put it there, and the new private key would be written as its file; nothing "
                    "was replaced. Check the file and give it to root (chown root:root)",
                    target, t->key, m->uid, account != NULL ? " " : "", account != NULL ? account : "");
}

/* One manifest line, format 2. */
static void manifest_line(cs_buf_t *b, const target_t *t, int existed, const cs__posix_meta_t *m, const char *target) {
  if (existed)
    cs_buf_printf(b, "%s\t1\t%lld\t%lld\t%o\t%s\t%s\n", t->name, m->uid, m->gid, (unsigned)(m->mode & 07777),
                  m->acl != NULL ? m->acl : "-", target);
  else
    cs_buf_printf(b, "%s\t0\t-\t-\t-\t-\t%s\n", t->name, target);
}

int cs_plat_store_install(const cs_config_t *cfg, const char *stage_dir, const char *backup_dir, cs_err_t *err) {
  cs__posix_meta_t meta[N_TARGETS];
  int existed[N_TARGETS];
  cs_buf_t manifest = CS_BUF_INIT;
  unsigned char *data = NULL;
  size_t len = 0, i;
  char *path = NULL;
  int rc;

  memset(meta, 0, sizeof meta);
  if (cfg->store.cert_file == NULL || cfg->store.key_file == NULL)
    return cs_err_set(err, CS_ECONFIG, 0, "[store] cert_file and key_file must be set");
  for (i = 0; i < N_TARGETS; i++) {
    const char *target = target_path(cfg, &targets[i]);
    if (target != NULL && strpbrk(target, "\r\n") != NULL) /* a manifest line could not hold it */
      return cs_err_set(err, CS_ECONFIG, 0, "[store] %s holds a line break", targets[i].key);
  }
  if ((rc = cs_plat_mkdirs(backup_dir, 0700, err)) != CS_OK)
    return rc;
  cs_buf_puts(&manifest, MANIFEST_MAGIC "\n");
  /* 1. save what is replaced, with its owner, mode and ACL, and say so in the
   * manifest, before touching anything */
  for (i = 0; i < N_TARGETS; i++) {
    const char *target = target_path(cfg, &targets[i]);
    existed[i] = 0;
    if (target == NULL)
      continue;
    rc = read_target(target, &data, &len, &meta[i], err);
    if (rc != CS_OK && rc != CS_ENOENT)
      goto out;
    existed[i] = rc == CS_OK;
    if (existed[i] && targets[i].secret && (rc = secret_owner_ok(cfg, &targets[i], target, &meta[i], err)) != CS_OK) {
      cs_plat_free_file(data, len);
      data = NULL;
      goto out;
    }
    if (existed[i]) {
      free(path);
      if ((path = cs_plat_path_join_new(backup_dir, targets[i].name)) == NULL) {
        rc = oom(err);
        goto out;
      }
      rc = cs_plat_write_atomic(path, data, len, 0600, err);
      cs_plat_free_file(data, len);
      data = NULL;
      if (rc != CS_OK)
        goto out;
      cs_fault_point2("store_backup:", targets[i].name); /* test builds: crash.sh */
    } else {
      meta_new(&meta[i], targets[i].mode);
    }
    manifest_line(&manifest, &targets[i], existed[i], &meta[i], target);
  }
  free(path);
  if ((path = cs_plat_path_join_new(backup_dir, "manifest")) == NULL || manifest.oom) {
    rc = oom(err);
    goto out;
  }
  if ((rc = cs_plat_write_atomic(path, manifest.p, manifest.len, 0600, err)) != CS_OK)
    goto out;
  cs_fault_point("store_manifest"); /* test builds: crash.sh */
  /* 2. put the new files in place, each with what was recorded for it (a new one:
   * root's, its own mode), whatever was put at its path since; a new private key
   * readable by no one beyond its owner, group and named entries */
  for (i = 0; i < N_TARGETS; i++) {
    const char *target = target_path(cfg, &targets[i]);
    if (target == NULL)
      continue;
    if (targets[i].secret && (rc = cs__posix_meta_private(&meta[i], err)) != CS_OK)
      goto out;
    free(path);
    if ((path = cs_plat_path_join_new(stage_dir, targets[i].name)) == NULL) {
      rc = oom(err);
      goto out;
    }
    if ((rc = cs_plat_read_file(path, FILE_MAX, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
      goto out;
    rc = cs__posix_write_meta(target, data, len, &meta[i], err);
    cs_plat_free_file(data, len);
    data = NULL;
    if (rc != CS_OK)
      goto out;
    cs_fault_point2("store_install:", targets[i].name); /* test builds: crash.sh */
  }
  rc = CS_OK;
out:
  cs_plat_free_file(data, len);
  for (i = 0; i < N_TARGETS; i++)
    cs__posix_meta_free(&meta[i]);
  free(path);
  cs_buf_free(&manifest);
  return rc;
}

/* ---- reading the manifest back ------------------------------------------------- */

static void manifest_free(manifest_t *m) {
  size_t i;
  for (i = 0; i < m->n; i++)
    cs__posix_meta_free(&m->e[i].meta);
  memset(m, 0, sizeof *m);
}

static int parse_id(const char *s, long long *out) {
  char *end;
  long long v;
  if (*s < '0' || *s > '9')
    return -1;
  v = strtoll(s, &end, 10);
  if (*end != '\0' || v < 0 || v > 0xFFFFFFFFLL)
    return -1;
  *out = v;
  return 0;
}

/* The recorded owner, group, mode and ACL of a format 2 line (f: uid, gid, mode, acl). */
static int parse_meta(char *const f[4], cs__posix_meta_t *m) {
  char *end;
  long mode;
  if (parse_id(f[0], &m->uid) != 0 || parse_id(f[1], &m->gid) != 0 || *f[2] < '0' || *f[2] > '7')
    return -1;
  mode = strtol(f[2], &end, 8);
  if (*end != '\0' || mode < 0 || mode > 07777)
    return -1;
  m->mode = (int)mode;
  if (strcmp(f[3], "-") != 0) {
    acl_t acl = acl_from_text(f[3]); /* checked here: the whole manifest before any file */
    if (acl == NULL)
      return -1;
    acl_free(acl);
    if ((m->acl = cs_strdup(f[3])) == NULL)
      return -1;
  }
  return 0;
}

/* Splits line at its first n TABs into f[0..n]; -1 when it has fewer. */
static int split(char *line, char **f, int n) {
  int i;
  f[0] = line;
  for (i = 1; i <= n; i++) {
    char *tab = strchr(f[i - 1], '\t');
    if (tab == NULL)
      return -1;
    *tab = '\0';
    f[i] = tab + 1;
  }
  return 0;
}

/* Checks one line (fields f: name, existed, [uid, gid, mode, acl,] target) into e.
 * check_targets: its target must be the configured file of that name, exactly. */
static int check_line(const cs_config_t *cfg, const char *mpath, size_t lineno, int version, char **f,
                      int check_targets, const manifest_t *m, saved_t *e, cs_err_t *err) {
  const char *target = f[version == 2 ? 6 : 2], *want;
  size_t i;

  memset(e, 0, sizeof *e);
  for (i = 0; i < N_TARGETS && strcmp(f[0], targets[i].name) != 0; i++)
    ;
  if (i == N_TARGETS || (strcmp(f[1], "0") != 0 && strcmp(f[1], "1") != 0))
    return cs_err_set(err, CS_EFORMAT, 0,
                      "the store backup manifest %s is damaged at line %zu: nothing was "
                      "restored from it",
                      mpath, lineno);
  e->t = &targets[i];
  e->existed = f[1][0] == '1';
  for (i = 0; i < m->n; i++)
    if (m->e[i].t == e->t)
      return cs_err_set(err, CS_EFORMAT, 0,
                        "the store backup manifest %s names %s twice: nothing was restored "
                        "from it",
                        mpath, e->t->name);
  if (version == 2 && e->existed && parse_meta(f + 2, &e->meta) != 0) {
    cs__posix_meta_free(&e->meta);
    return cs_err_set(err, CS_EFORMAT, 0,
                      "the store backup manifest %s is damaged at line %zu (owner, mode or "
                      "ACL): nothing was restored from it",
                      mpath, lineno);
  }
  want = target_path(cfg, e->t);
  e->target = want;
  if (check_targets && (want == NULL || strcmp(target, want) != 0)) {
    cs__posix_meta_free(&e->meta);
    /* the configured path first: a long planted one may be cut off */
    return cs_err_set(err, CS_ECONFIG, 0,
                      "the store backup %s is not of the configured files ([store] %s is %s), "
                      "it names %s: nothing was restored or removed from it",
                      mpath, e->t->key, want != NULL ? want : "not set", target);
  }
  return CS_OK;
}

/* Reads and checks the whole manifest of backup_dir into *m before anything is done
 * with it: every line known, no name twice, and with check_targets every target the
 * configured file of its name. CS_ENOENT when there is none (install never got as far
 * as its manifest: nothing was replaced). */
static int manifest_load(const cs_config_t *cfg, const char *backup_dir, int check_targets, manifest_t *m,
                         cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0, lineno = 0;
  char *path = cs_plat_path_join_new(backup_dir, "manifest"), *line, *next, *f[7];
  int rc = CS_OK;

  memset(m, 0, sizeof *m);
  if (path == NULL)
    return oom(err);
  if ((rc = cs_plat_read_file(path, MANIFEST_MAX, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
    goto out;
  m->version = 1;
  for (line = (char *)data; rc == CS_OK && line != NULL && *line; line = next) {
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (++lineno == 1 && strcmp(line, MANIFEST_MAGIC) == 0) {
      m->version = 2;
      continue;
    }
    if (lineno == 1 && strncmp(line, MANIFEST_OTHER, strlen(MANIFEST_OTHER)) == 0)
      rc = cs_err_set(err, CS_EFORMAT, 0,
                      "the store backup manifest %s was written by another version of "
                      "certsteward: undo that renewal with the version that started it",
                      path);
    else if (m->n == N_TARGETS || split(line, f, m->version == 2 ? 6 : 2) != 0)
      rc = cs_err_set(err, CS_EFORMAT, 0,
                      "the store backup manifest %s is damaged at line %zu: nothing was "
                      "restored from it",
                      path, lineno);
    else if ((rc = check_line(cfg, path, lineno, m->version, f, check_targets, m, &m->e[m->n], err)) == CS_OK)
      m->n++;
  }
out:
  if (rc != CS_OK)
    manifest_free(m);
  cs_plat_free_file(data, len);
  free(path);
  return rc;
}

/* ---- undo and archive ------------------------------------------------------------- */

/* What the undo gives a file put back: what was recorded when it was saved. A format 1
 * manifest (written before owners were recorded, read after an upgrade that found a
 * renewal unfinished) has no record: the file goes back root's, mode 0600, no ACL, so
 * that no one but root can read it whatever occupies the path now. The service's
 * account gets its READ on the key again from the daemon's key check (key_permission);
 * any other access the admin gave is to be given again by hand. */
static void restore_meta(const manifest_t *m, const saved_t *e, cs__posix_meta_t *out) {
  if (m->version == 2) {
    *out = e->meta;
  } else {
    meta_new(out, 0600);
  }
}

/* The file at e->target must be missing, or a regular file with one name owned by the
 * recorded owner (the install gave the new file that owner): otherwise someone put
 * another file there since, and what is restored is not written over it. */
static int owner_unchanged(const manifest_t *m, const saved_t *e, cs_err_t *err) {
  cs_err_t why;
  int rc;
  if (m->version != 2)
    return CS_OK; /* no owner recorded: restore_meta's rule makes it root's, 0600 */
  cs_err_clear(&why);
  if ((rc = cs__posix_owner_unchanged(e->target, e->meta.uid, &why)) != CS_OK)
    rc = cs_err_set(err, rc, why.raw, "the saved file was not put back from its backup: %s", why.text);
  return rc;
}

static int undo_one(const char *backup_dir, const manifest_t *m, const saved_t *e, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs__posix_meta_t meta;
  char *saved;
  int rc;

  if (!e->existed) /* unlinkat in its folder: a link there is removed, not followed */
    return cs_plat_remove(e->target, err);
  if ((rc = owner_unchanged(m, e, err)) != CS_OK)
    return rc;
  if ((saved = cs_plat_path_join_new(backup_dir, e->t->name)) == NULL)
    return oom(err);
  restore_meta(m, e, &meta);
  if ((rc = cs_plat_read_file(saved, FILE_MAX, CS_READ_NOFOLLOW, &data, &len, err)) == CS_OK)
    rc = cs__posix_write_meta(e->target, data, len, &meta, err);
  cs_plat_free_file(data, len);
  free(saved);
  cs_fault_point2("store_undo:", e->t->name); /* test builds: crash.sh */
  return rc;
}

int cs_plat_store_undo(const cs_config_t *cfg, const char *backup_dir, cs_err_t *err) {
  manifest_t m;
  cs_err_t e;
  size_t i;
  int rc, first = CS_OK;

  rc = manifest_load(cfg, backup_dir, 1, &m, err);
  if (rc == CS_ENOENT) /* install never got as far as its manifest: nothing was replaced */
    return CS_OK;
  if (rc != CS_OK)
    return rc;
  for (i = 0; i < m.n; i++) {
    cs_err_clear(&e);
    rc = undo_one(backup_dir, &m, &m.e[i], &e);
    if (rc != CS_OK && first == CS_OK) /* an undo carries on past a failure and reports the first */
      first = cs_err_set(err, rc, e.raw, "%s", e.text);
  }
  manifest_free(&m);
  return first;
}

/* archive_dir NULL: delete */
static int archive_one(const char *dir, const saved_t *e, const char *archive_dir, cs_err_t *err) {
  char *saved, *kept = NULL;
  int rc = CS_OK;
  if (!e->existed)
    return CS_OK;
  if ((saved = cs_plat_path_join_new(dir, e->t->name)) == NULL)
    return oom(err);
  if (archive_dir != NULL) {
    if ((kept = cs_plat_path_join_new(archive_dir, e->t->name)) == NULL)
      rc = oom(err);
    else if ((rc = cs_plat_rename(saved, kept, err)) != CS_OK && !cs_plat_exists(saved) && cs_plat_exists(kept))
      rc = CS_OK; /* archived before a crash cut the clean-up short: the recovery's second pass */
  } else {
    rc = cs_plat_remove(saved, err);
  }
  cs_fault_point2("store_archive:", e->t->name); /* test builds: crash.sh */
  free(saved);
  free(kept);
  return rc;
}

/* The archive touches the backup folder only (by the names of the table above), so its
 * manifest's targets are not held to the configuration: one changed since still
 * archives what was saved. */
int cs_plat_store_archive(const cs_config_t *cfg, const char *backup_dir, const char *archive_dir, cs_err_t *err) {
  int keep = cfg->store.old_certificates == NULL || strcmp(cfg->store.old_certificates, "delete") != 0;
  manifest_t m;
  cs_err_t e;
  size_t i;
  int rc, first = CS_OK;

  if (keep && (rc = cs_plat_mkdirs(archive_dir, 0700, err)) != CS_OK)
    return rc;
  rc = manifest_load(cfg, backup_dir, 0, &m, err);
  if (rc == CS_ENOENT)
    return CS_OK;
  if (rc != CS_OK)
    return rc;
  for (i = 0; i < m.n; i++) {
    cs_err_clear(&e);
    rc = archive_one(backup_dir, &m.e[i], keep ? archive_dir : NULL, &e);
    if (rc != CS_OK && first == CS_OK)
      first = cs_err_set(err, rc, e.raw, "%s", e.text);
  }
  manifest_free(&m);
  return first;
}

int cs_plat_store_current(const cs_config_t *cfg, char *cert_path, size_t cert_len, char *key_path, size_t key_len,
                          cs_err_t *err) {
  const char *c = cfg->store.cert_file, *k = cfg->store.key_file;
  (void)err;
  snprintf(cert_path, cert_len, "%s", c != NULL && cs_plat_exists(c) ? c : "");
  snprintf(key_path, key_len, "%s", k != NULL && cs_plat_exists(k) ? k : "");
  return CS_OK;
}

const char *cs_plat_store_name(const cs_config_t *cfg) { return cfg->store.cert_file; }

int cs_plat_store_key_ref(const cs_config_t *cfg, const char *thumbprint, char *buf, size_t len) {
  (void)thumbprint;
  if (cfg->store.key_file == NULL)
    return CS_ECONFIG;
  return snprintf(buf, len, "%s", cfg->store.key_file) < (int)len ? CS_OK : CS_ETOOBIG;
}

int cs_plat_store_list(const cs_config_t *cfg, cs_plat_cert_t **certs, size_t *n, cs_err_t *err) {
  (void)cfg;
  *certs = NULL;
  *n = 0;
  return cs_err_set(err, CS_EINVAL, 0,
                    "this system has no certificate store to list: the certificate in service is [store] cert_file");
}

int cs_plat_store_key_matches(const char *tp, char *why, size_t why_len, cs_err_t *err) {
  (void)tp;
  if (why_len > 0)
    why[0] = '\0';
  return cs_err_set(err, CS_EINVAL, 0, "this system keeps no private keys in a certificate store");
}

int cs_plat_store_pending(const unsigned char *der, size_t len, char tp[41], char *why, size_t why_len, cs_err_t *err) {
  (void)der;
  (void)len;
  (void)err;
  tp[0] = '\0';
  if (why_len > 0)
    why[0] = '\0';
  return 0; /* no store of pending requests: a key is a file here */
}

int cs_plat_store_paired(const char *backup_dir, char *where, size_t len) {
  (void)backup_dir;
  if (len > 0)
    where[0] = '\0';
  return 0;
}

int cs_plat_store_watch_start(void (*cb)(void *arg), void *arg, cs_plat_store_watch_t **w, cs_err_t *err) {
  (void)cb;
  (void)arg;
  *w = NULL;
  return cs_err_set(err, CS_EINVAL, 0, "this system has no certificate store to watch: [store] adopt_from is a folder");
}

void cs_plat_store_watch_stop(cs_plat_store_watch_t *w) { (void)w; }

int cs_plat_store_watch_failed(const cs_plat_store_watch_t *w, cs_err_t *err) {
  (void)w;
  (void)err;
  return 0;
}

int cs_plat_store_key_private(const char *tp, const char *account, char *why, size_t why_len, cs_err_t *err) {
  (void)tp;
  (void)account;
  if (why_len > 0)
    why[0] = '\0';
  return cs_err_set(err, CS_EINVAL, 0, "this system keeps no private keys in a certificate store");
}
