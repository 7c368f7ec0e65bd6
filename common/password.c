#include "password.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"

int cs_password_read(const char *path, char **password, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0, start = 0, end;
  char *pw;
  int rc;

  *password = NULL;
  rc = cs_plat_read_file(path, CS_PASSWORD_FILE_MAX, 0, &data, &len, err);
  if (rc != CS_OK) {
    if (rc == CS_ETOOBIG)
      cs_err_set(err, rc, 0, "password file %s is over %d bytes; it must hold the password on its first line",
                 path, CS_PASSWORD_FILE_MAX);
    goto out;
  }
  if (len == 0) {
    rc = cs_err_set(err, CS_EEMPTY, 0, "password file %s is empty", path);
    goto out;
  }
  if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
    start = 3;
  for (end = start; end < len && data[end] != '\n' && data[end] != '\r'; end++) {
    if (data[end] == '\0') {
      rc = cs_err_set(err, CS_EFORMAT, 0, "password file %s holds a NUL byte", path);
      goto out;
    }
  }
  pw = malloc(end - start + 1);
  if (pw == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  memcpy(pw, data + start, end - start);
  pw[end - start] = '\0';
  *password = pw;
  rc = CS_OK;
out:
  cs_plat_free_file(data, len);
  return rc;
}

void cs_password_free(char *password) {
  if (password == NULL)
    return;
  cs_plat_wipe(password, strlen(password));
  free(password);
}
