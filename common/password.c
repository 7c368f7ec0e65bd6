#include "password.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"
#include "text.h"

int cs_password_read(const char *path, char **password, cs_err_t *err) {
  unsigned char *data = NULL, *plain = NULL;
  size_t len = 0, plain_len = 0, start = 0, end;
  char *pw;
  int rc;

  *password = NULL;
  rc = cs_plat_read_file(path, CS_PASSWORD_FILE_MAX, 0, &data, &len, err);
  if (rc != CS_OK) {
    if (rc == CS_ETOOBIG)
      cs_err_set(err, rc, 0, "password file %s is over %d bytes; it must hold the password on its first line", path,
                 CS_PASSWORD_FILE_MAX);
    goto out;
  }
  if (len == 0) {
    /* also what a set-password interrupted on Windows leaves (an empty, protected file) */
    rc = cs_err_set(err, CS_EEMPTY, 0, "password file %s is empty; write the password with certsteward set-password",
                    path);
    goto out;
  }
  if ((rc = cs_plat_secret_unseal(data, len, &plain, &plain_len, err)) != CS_OK) {
    if (err != NULL) {
      char why[CS_ERR_TEXT_MAX];
      memcpy(why, err->text, sizeof why);
      cs_err_set(err, rc, err->raw, "password file %s: %s", path, why);
    }
    goto out;
  }
  if (plain_len >= 3 && plain[0] == 0xEF && plain[1] == 0xBB && plain[2] == 0xBF)
    start = 3;
  for (end = start; end < plain_len && plain[end] != '\n' && plain[end] != '\r'; end++) {
    if (plain[end] == '\0') {
      rc = cs_err_set(err, CS_EFORMAT, 0, "password file %s holds a NUL byte", path);
      goto out;
    }
  }
  pw = malloc(end - start + 1);
  if (pw == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  memcpy(pw, plain + start, end - start);
  pw[end - start] = '\0';
  *password = pw;
  rc = CS_OK;
out:
  cs_plat_free_file(plain, plain_len);
  cs_plat_free_file(data, len);
  return rc;
}

void cs_password_free(char *password) {
  if (password == NULL)
    return;
  cs_plat_wipe(password, strlen(password));
  free(password);
}

/* The folder part of path ("" when there is none), into buf. */
static void parent_of(const char *path, char *buf, size_t len) {
  const char *p, *sep = NULL;
  size_t n;
  for (p = path; *p; p++)
    if (cs_plat_is_path_sep(*p))
      sep = p;
  n = sep == NULL ? 0 : (size_t)(sep - path);
  if (n == 0 && sep != NULL)
    n = 1; /* "/file" */
  if (n >= len)
    n = 0;
  memcpy(buf, path, n);
  buf[n] = '\0';
}

/* Whether the password is one storable line of valid UTF-8; the reason says which
 * rule it breaks, never what it holds. */
static int check_password(const char *pw, size_t n, cs_err_t *err) {
  size_t i, step;
  unsigned long cp;
  if (n == 0)
    return cs_err_set(err, CS_EEMPTY, 0, "the password is empty");
  if (n > CS_PASSWORD_MAX)
    return cs_err_set(err, CS_ETOOBIG, 0, "the password is longer than %d bytes", CS_PASSWORD_MAX);
  for (i = 0; i < n; i += step) {
    if (pw[i] == '\r' || pw[i] == '\n')
      return cs_err_set(err, CS_EINVAL, 0, "the password holds a line break; it must be one line");
    if ((step = cs_utf8_decode((const unsigned char *)pw + i, n - i, &cp)) == 0)
      return cs_err_set(err, CS_EINVAL, 0, "the password is not valid UTF-8 (byte %zu); give it as UTF-8 text", i + 1);
  }
  return CS_OK;
}

int cs_password_write(const char *path, const char *password, cs_err_t *err) {
  size_t n = password != NULL ? strlen(password) : 0, sealed_len = 0;
  unsigned char *line = NULL, *sealed = NULL;
  char *back = NULL, dir[4096];
  int rc;

  if (path == NULL || *path == '\0')
    return cs_err_set(err, CS_EINVAL, 0, "no password file named");
  if ((rc = check_password(password, n, err)) != CS_OK)
    goto out;
  /* One line with its LF, as an admin would write it: the reader takes the first line. */
  if ((line = malloc(n + 1)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  memcpy(line, password, n);
  line[n] = '\n';
  if ((rc = cs_plat_secret_seal(line, n + 1, &sealed, &sealed_len, err)) != CS_OK)
    goto out;
  parent_of(path, dir, sizeof dir);
  if (dir[0] != '\0' && (rc = cs_plat_mkdirs(dir, 0700, err)) != CS_OK)
    goto out;
  if ((rc = cs_plat_secret_store(path, sealed, sealed_len, err)) != CS_OK)
    goto out;
  /* What the worker will do: proves the file opens (DPAPI included) and says the same. */
  if ((rc = cs_password_read(path, &back, err)) != CS_OK)
    goto out;
  if (strlen(back) != n || memcmp(back, password, n) != 0)
    rc = cs_err_set(err, CS_EIO, 0, "password file %s was written but reads back differently", path);
out:
  cs_password_free(back);
  cs_plat_free_file(sealed, sealed_len);
  cs_plat_free_file(line, n + 1);
  return rc;
}
