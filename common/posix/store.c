/* POSIX certificate store: the files a TLS service reads ([store] cert_file,
 * key_file, chain_file, bundle_file). Replacing them is atomic per file; the set
 * is made atomic by the renewal journal: every replaced file is saved first, with
 * a manifest listing it, so the undo works from disk alone after a crash. */
#include "../platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config.h"
#include "../fault.h"
#include "../text.h"

#define FILE_MAX (16u << 20)

typedef struct target_s {
  const char *name;   /* staged file name and backup name */
  size_t offset;      /* of the char * path in cs_config_t */
  int mode;           /* for a file that does not exist yet */
} target_t;

static const target_t targets[] = {
    {"cert.pem", offsetof(cs_config_t, store.cert_file), 0644},
    {"key.pem", offsetof(cs_config_t, store.key_file), 0600},
    {"chain.pem", offsetof(cs_config_t, store.chain_file), 0644},
    {"bundle.pem", offsetof(cs_config_t, store.bundle_file), 0600},
};
#define N_TARGETS (sizeof targets / sizeof targets[0])

static const char *target_path(const cs_config_t *cfg, const target_t *t) {
  return *(char *const *)(const void *)((const char *)cfg + t->offset);
}

static char *join(const char *dir, const char *name) {
  cs_buf_t b = CS_BUF_INIT;
  cs_buf_printf(&b, "%s/%s", dir, name);
  return b.oom ? (cs_buf_free(&b), NULL) : b.p;
}

/* Copies file from -> to (atomically, mode for a new file). */
static int copy_file(const char *from, const char *to, int mode, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  int rc = cs_plat_read_file(from, FILE_MAX, 0, &data, &len, err);
  if (rc == CS_OK)
    rc = cs_plat_write_atomic(to, data, len, mode, err);
  cs_plat_free_file(data, len);
  return rc;
}

int cs_plat_store_install(const cs_config_t *cfg, const char *stage_dir, const char *backup_dir, cs_err_t *err) {
  cs_buf_t manifest = CS_BUF_INIT;
  char *path = NULL, *src = NULL;
  size_t i;
  int rc;

  if (cfg->store.cert_file == NULL || cfg->store.key_file == NULL)
    return cs_err_set(err, CS_ECONFIG, 0, "[store] cert_file and key_file must be set");
  if ((rc = cs_plat_mkdirs(backup_dir, 0700, err)) != CS_OK)
    return rc;
  /* 1. save what is replaced, and say so in the manifest, before touching anything */
  for (i = 0; i < N_TARGETS; i++) {
    const char *target = target_path(cfg, &targets[i]);
    int existed;
    if (target == NULL)
      continue;
    existed = cs_plat_exists(target);
    if (existed) {
      free(path);
      if ((path = join(backup_dir, targets[i].name)) == NULL) {
        rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
        goto out;
      }
      if ((rc = copy_file(target, path, 0600, err)) != CS_OK)
        goto out;
      cs_fault_point2("store_backup:", targets[i].name); /* test builds: crash.sh */
    }
    cs_buf_printf(&manifest, "%s\t%d\t%s\n", targets[i].name, existed, target);
  }
  free(path);
  if ((path = join(backup_dir, "manifest")) == NULL || manifest.oom) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  if ((rc = cs_plat_write_atomic(path, manifest.p, manifest.len, 0600, err)) != CS_OK)
    goto out;
  cs_fault_point("store_manifest"); /* test builds: crash.sh */
  /* 2. put the new files in place */
  for (i = 0; i < N_TARGETS; i++) {
    const char *target = target_path(cfg, &targets[i]);
    if (target == NULL)
      continue;
    free(src);
    if ((src = join(stage_dir, targets[i].name)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    if ((rc = copy_file(src, target, targets[i].mode, err)) != CS_OK)
      goto out;
    cs_fault_point2("store_install:", targets[i].name); /* test builds: crash.sh */
  }
  rc = CS_OK;
out:
  free(path);
  free(src);
  cs_buf_free(&manifest);
  return rc;
}

typedef int (*saved_fn)(const char *dir, const char *name, int existed, const char *target, const char *user,
                        cs_err_t *err);

/* Calls fn for each manifest line (name, existed, target), carrying on past a
 * failure (an undo does as much as it can) and returning the first error. */
static int each_saved(const char *backup_dir, saved_fn fn, const char *user, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  char *path = join(backup_dir, "manifest"), *line, *next;
  int rc, first = CS_OK;

  if (path == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  rc = cs_plat_read_file(path, 1u << 20, 0, &data, &len, err);
  free(path);
  if (rc == CS_ENOENT) /* install never got as far as its manifest: nothing was replaced */
    return CS_OK;
  if (rc != CS_OK)
    return rc;
  for (line = (char *)data; line != NULL && *line; line = next) {
    char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
    next = strchr(line, '\n');
    if (next != NULL)
      *next++ = '\0';
    if (t1 == NULL || t2 == NULL) {
      first = cs_err_set(err, CS_EFORMAT, 0, "malformed store manifest in %s", backup_dir);
      break;
    }
    *t1 = *t2 = '\0';
    rc = fn(backup_dir, line, t1[1] == '1', t2 + 1, user, err);
    if (rc != CS_OK && first == CS_OK)
      first = rc; /* an undo carries on past a failure and reports the first */
  }
  cs_plat_free_file(data, len);
  return first;
}

static int undo_one(const char *dir, const char *name, int existed, const char *target, const char *user,
                    cs_err_t *err) {
  char *saved;
  (void)user;
  int rc;
  if (!existed)
    return cs_plat_remove(target, err);
  if ((saved = join(dir, name)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  rc = copy_file(saved, target, 0600, err);
  free(saved);
  cs_fault_point2("store_undo:", name); /* test builds: crash.sh */
  return rc;
}

int cs_plat_store_undo(const cs_config_t *cfg, const char *backup_dir, cs_err_t *err) {
  (void)cfg;
  return each_saved(backup_dir, undo_one, NULL, err);
}

/* archive_dir NULL: delete */
static int archive_one(const char *dir, const char *name, int existed, const char *target, const char *archive_dir,
                       cs_err_t *err) {
  char *saved, *kept = NULL;
  int rc = CS_OK;
  (void)target;
  if (!existed)
    return CS_OK;
  if ((saved = join(dir, name)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if (archive_dir != NULL) {
    if ((kept = join(archive_dir, name)) == NULL)
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    else if ((rc = cs_plat_rename(saved, kept, err)) != CS_OK && !cs_plat_exists(saved) && cs_plat_exists(kept))
      rc = CS_OK; /* archived before a crash cut the clean-up short: the recovery's second pass */
  } else {
    rc = cs_plat_remove(saved, err);
  }
  cs_fault_point2("store_archive:", name); /* test builds: crash.sh */
  free(saved);
  free(kept);
  return rc;
}

int cs_plat_store_archive(const cs_config_t *cfg, const char *backup_dir, const char *archive_dir, cs_err_t *err) {
  int keep = cfg->store.old_certificates == NULL || strcmp(cfg->store.old_certificates, "delete") != 0;
  int rc;
  if (keep && (rc = cs_plat_mkdirs(archive_dir, 0700, err)) != CS_OK)
    return rc;

  return each_saved(backup_dir, archive_one, keep ? archive_dir : NULL, err);
}

int cs_plat_store_current(const cs_config_t *cfg, char *cert_path, size_t cert_len, char *key_path, size_t key_len,
                          cs_err_t *err) {
  const char *c = cfg->store.cert_file, *k = cfg->store.key_file;
  (void)err;
  snprintf(cert_path, cert_len, "%s", c != NULL && cs_plat_exists(c) ? c : "");
  snprintf(key_path, key_len, "%s", k != NULL && cs_plat_exists(k) ? k : "");
  return CS_OK;
}

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

