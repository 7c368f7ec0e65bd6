/* POSIX half of the request keys (platform.h): <state_dir>/request/<name>.key, a PEM
 * PKCS#8 file, mode 0600, owned by root, in a folder of mode 0700, reached without
 * following a link (walk.c). A key is written whole into ".<name>.key.tmp", flushed, and
 * given its name with link(), which never replaces what is there: the key of a request
 * already submitted is never overwritten, and a crash leaves no half-written key under
 * a key's name. Nothing here writes the key anywhere else; the renewal's transaction
 * installs it where the service reads it. */
#include "../platform.h"
#include "posix.h"
#include "../config.h"
#include "../csr.h"
#include "../request.h"
#include "../text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define KEY_MAX (64 * 1024)
#define TMP_SUFFIX ".tmp"

struct cs_plat_reqkey_s {
  char *path;
  EVP_PKEY *key; /* the private key */
  EVP_PKEY *pub; /* its public half alone */
  cs_keykind_t kind;
};

void cs_plat_reqkey_free(cs_plat_reqkey_t *k) {
  if (k == NULL)
    return;
  EVP_PKEY_free(k->key);
  EVP_PKEY_free(k->pub);
  free(k->path);
  free(k);
}

EVP_PKEY *cs_plat_reqkey_public(cs_plat_reqkey_t *k) { return k != NULL ? k->pub : NULL; }
cs_keykind_t cs_plat_reqkey_kind(cs_plat_reqkey_t *k) { return k->kind; }
const char *cs_plat_reqkey_where(cs_plat_reqkey_t *k) { return k != NULL ? k->path : ""; }

/* <state_dir>/request/<name>.key into *path (new). */
static int key_path(const cs_config_t *cfg, const char *name, char **path, cs_err_t *err) {
  char buf[4096];
  int rc;

  *path = NULL;
  if ((rc = cs_reqkey_name_check(name, err)) != CS_OK)
    return rc;
  if (cfg == NULL || cfg->store.state_dir == NULL || cfg->store.state_dir[0] == '\0')
    return cs_err_set(err, CS_ECONFIG, 0, "no state folder ([store] state_dir) for the request keys");
  if ((rc = cs_request_file(cfg->store.state_dir, name, CS_REQUEST_KEY, buf, sizeof buf, err)) != CS_OK)
    return rc;
  if ((*path = cs_strdup(buf)) == NULL)
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  return rc;
}

/* The request folder, open in *dfd: made 0700 when missing; one that exists must be
 * root's (this process's user's) and is kept to it (mode 0700). */
static int open_folder(const char *path, int *dfd, char **base, cs_err_t *err) {
  struct stat st;
  char *dir = NULL;
  int rc;

  if ((dir = cs_strdup(path)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  dir[strlen(dir) - strlen(strrchr(dir, '/'))] = '\0';
  rc = cs_plat_mkdirs(dir, 0700, err);
  if (rc == CS_OK)
    rc = cs__posix_open_parent(path, dfd, base, err);
  if (rc == CS_OK && fstat(*dfd, &st) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot look at %s: %s", dir, strerror(errno));
  else if (rc == CS_OK && st.st_uid != geteuid())
    rc = cs_err_set(err, CS_EACCES, 0, "%s is owned by user %lu, not by root: no request key goes there", dir,
                    (unsigned long)st.st_uid);
  else if (rc == CS_OK && (st.st_mode & 07777) != 0700 && fchmod(*dfd, 0700) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot set mode 0700 on %s: %s", dir, strerror(errno));
  free(dir);
  return rc;
}

/* What stands at base in dfd already: a key is never written over it. */
static int occupied(int dfd, const char *base, const char *path, cs_err_t *err) {
  struct stat st;
  if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) != 0)
    return errno == ENOENT
               ? CS_OK
               : cs_err_set(err, cs__posix_errno(errno), errno, "cannot look at %s: %s", path, strerror(errno));
  if (S_ISLNK(st.st_mode))
    return cs_err_set(err, CS_ENOTREG, ELOOP, "%s is a symbolic link: no request key is written through it", path);
  return cs_err_set(err, CS_EEXIST, EEXIST, "the request key %s already exists: it is never overwritten", path);
}

static EVP_PKEY *generate(cs_keykind_t kind) {
  switch (kind) {
  case CS_KEYKIND_RSA2048:
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
  case CS_KEYKIND_RSA3072:
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
  case CS_KEYKIND_EC_P256:
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", SN_X9_62_prime256v1);
  }
  return NULL;
}

/* The public half of key alone, so that what is handed out as public holds no secret. */
static EVP_PKEY *public_half(EVP_PKEY *key) {
  unsigned char *der = NULL;
  const unsigned char *p;
  EVP_PKEY *pub = NULL;
  int n = i2d_PUBKEY(key, &der);
  if (n > 0) {
    p = der;
    pub = d2i_PUBKEY(NULL, &p, n);
  }
  OPENSSL_free(der);
  return pub;
}

/* Writes the PEM of key into tmp (exclusively, 0600, flushed), then links it as base. */
static int write_key(int dfd, const char *tmp, const char *base, const char *path, EVP_PKEY *key, cs_err_t *err) {
  BIO *bio = BIO_new(BIO_s_secmem()); /* wiped when freed */
  char *pem = NULL;
  long len;
  size_t off = 0;
  int fd = -1, rc = CS_OK, linked = 0;

  if (bio == NULL || PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) != 1 ||
      (len = BIO_get_mem_data(bio, &pem)) <= 0) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot encode the request key %s", path);
    goto out;
  }
  /* a temp file a crash left is root's own, in root's own folder: replaced */
  if (unlinkat(dfd, tmp, 0) != 0 && errno != ENOENT) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot remove %s%s: %s", path, TMP_SUFFIX, strerror(errno));
    goto out;
  }
  if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600)) < 0 ||
      fchmod(fd, 0600) != 0) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot create the request key %s: %s", path, strerror(errno));
    goto out;
  }
  while (off < (size_t)len) {
    ssize_t w = write(fd, pem + off, (size_t)len - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot write the request key %s: %s", path, strerror(errno));
      goto out;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    fd = -1;
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot write the request key %s: %s", path, strerror(errno));
    goto out;
  }
  fd = -1;
  /* link() fails on any name already there, a link included: never a replacement */
  if (linkat(dfd, tmp, dfd, base, 0) != 0) {
    rc = errno == EEXIST ? occupied(dfd, base, path, err)
                         : cs_err_set(err, cs__posix_errno(errno), errno, "cannot name the request key %s: %s", path,
                                      strerror(errno));
    if (rc == CS_OK) /* gone again meanwhile: still not ours to take */
      rc = cs_err_set(err, CS_EEXIST, EEXIST, "the request key %s appeared while it was made", path);
    goto out;
  }
  linked = 1;
  if (fsync(dfd) != 0)
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot flush the folder of %s: %s", path, strerror(errno));
out:
  if (fd >= 0)
    close(fd);
  if (rc != CS_OK && linked)
    unlinkat(dfd, base, 0);
  unlinkat(dfd, tmp, 0);
  BIO_free(bio);
  return rc;
}

static int new_handle(char **path, EVP_PKEY **key, cs_plat_reqkey_t **out, cs_err_t *err) {
  cs_plat_reqkey_t *k = calloc(1, sizeof *k);
  int rc;
  if (k == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  if ((rc = cs_keykind_of(*key, &k->kind, err)) != CS_OK) {
    free(k);
    return rc;
  }
  if ((k->pub = public_half(*key)) == NULL) {
    free(k);
    return cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot read the public half of %s", *path);
  }
  k->path = *path;
  k->key = *key;
  *path = NULL;
  *key = NULL;
  *out = k;
  return CS_OK;
}

int cs_plat_reqkey_make(const cs_config_t *cfg, const char *name, cs_keykind_t kind, cs_plat_reqkey_t **out,
                        cs_err_t *err) {
  char *path = NULL, *base = NULL, *tmp = NULL;
  EVP_PKEY *key = NULL;
  int dfd = -1, rc;

  *out = NULL;
  if ((unsigned)kind > CS_KEYKIND_EC_P256)
    return cs_err_set(err, CS_EINVAL, 0, "no such kind of request key (%d)", (int)kind);
  if ((rc = key_path(cfg, name, &path, err)) != CS_OK || (rc = open_folder(path, &dfd, &base, err)) != CS_OK ||
      (rc = occupied(dfd, base, path, err)) != CS_OK)
    goto out;
  if ((tmp = malloc(strlen(base) + 2 + sizeof TMP_SUFFIX)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  sprintf(tmp, ".%s%s", base, TMP_SUFFIX);
  if ((key = generate(kind)) == NULL) {
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot make a %s key", cs_keykind_name(kind));
    goto out;
  }
  if ((rc = write_key(dfd, tmp, base, path, key, err)) != CS_OK)
    goto out;
  if ((rc = new_handle(&path, &key, out, err)) != CS_OK) {
    unlinkat(dfd, base, 0);
    goto out;
  }
out:
  ERR_clear_error();
  if (dfd >= 0)
    close(dfd);
  EVP_PKEY_free(key);
  free(tmp);
  free(base);
  free(path);
  return rc;
}

int cs_plat_reqkey_open(const cs_config_t *cfg, const char *name, cs_plat_reqkey_t **out, cs_err_t *err) {
  char *path = NULL;
  unsigned char *data = NULL;
  size_t len = 0;
  struct stat st;
  BIO *bio = NULL;
  EVP_PKEY *key = NULL;
  int fd = -1, rc;

  *out = NULL;
  if ((rc = key_path(cfg, name, &path, err)) != CS_OK ||
      (rc = cs__posix_open_file(path, O_RDONLY | O_NONBLOCK, 0, &fd, err)) != CS_OK)
    goto out;
  if (fstat(fd, &st) != 0) {
    rc = cs_err_set(err, cs__posix_errno(errno), errno, "cannot look at %s: %s", path, strerror(errno));
    goto out;
  }
  if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
    rc = cs_err_set(err, CS_ENOTREG, 0, "the request key %s is not a plain file of one name", path);
    goto out;
  }
  if (st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
    rc = cs_err_set(err, CS_EACCES, 0, "the request key %s can be read or changed by others (owner %lu, mode %04o)",
                    path, (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777));
    goto out;
  }
  if ((rc = cs__posix_read_fd(fd, path, KEY_MAX, &data, &len, err)) != CS_OK)
    goto out;
  if ((bio = BIO_new_mem_buf(data, (int)len)) == NULL ||
      (key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)) == NULL) {
    rc = cs_err_set(err, CS_EFORMAT, (long)ERR_peek_last_error(), "the request key %s cannot be read as a key", path);
    goto out;
  }
  rc = new_handle(&path, &key, out, err);
out:
  ERR_clear_error();
  if (fd >= 0)
    close(fd);
  BIO_free(bio);
  cs_plat_free_file(data, len);
  EVP_PKEY_free(key);
  free(path);
  return rc;
}

int cs_plat_reqkey_sign(cs_plat_reqkey_t *k, const void *data, size_t len, unsigned char **sig, size_t *sig_len,
                        cs_err_t *err) {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = 0;
  int rc = CS_OK;

  *sig = NULL;
  *sig_len = 0;
  /* RSA's default padding is PKCS#1 v1.5; ECDSA's answer is the DER Ecdsa-Sig-Value */
  if (ctx == NULL || EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k->key) != 1 ||
      EVP_DigestSign(ctx, NULL, &n, data, len) != 1 || (*sig = malloc(n)) == NULL ||
      EVP_DigestSign(ctx, *sig, &n, data, len) != 1) {
    free(*sig);
    *sig = NULL;
    rc = cs_err_set(err, CS_ECRYPTO, (long)ERR_peek_last_error(), "cannot sign with the request key %s", k->path);
  } else
    *sig_len = n;
  ERR_clear_error();
  EVP_MD_CTX_free(ctx);
  return rc;
}

int cs_plat_reqkey_place(const cs_config_t *cfg, cs_plat_reqkey_t *k, const char *host, cs_err_t *err) {
  (void)cfg;
  (void)k;
  (void)host;
  (void)err;
  return CS_OK; /* the key file under the state folder is the pending key itself */
}

int cs_plat_reqkey_delete(const cs_config_t *cfg, const char *name, cs_err_t *err) {
  char *path = NULL, *tmp = NULL;
  int rc;

  if ((rc = key_path(cfg, name, &path, err)) != CS_OK)
    return rc;
  if ((tmp = malloc(strlen(path) + 2 + sizeof TMP_SUFFIX)) == NULL) {
    free(path);
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  }
  /* ".<name>.key.tmp" beside it: what a make stopped half-way left */
  sprintf(tmp, "%.*s/.%s%s", (int)(strrchr(path, '/') - path), path, strrchr(path, '/') + 1, TMP_SUFFIX);
  if ((rc = cs_plat_remove(path, err)) == CS_OK)
    rc = cs_plat_remove(tmp, err);
  free(tmp);
  free(path);
  return rc;
}
