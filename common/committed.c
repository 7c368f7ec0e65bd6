/* <state_dir>/committed: its writer and its reader (committed.h). Two lines, "tp
 * <40 hex digits>" and "key <identity>". */
#include "committed.h"

#include <stdio.h>
#include <string.h>

#include "bindings.h"
#include "platform.h"
#include "statedir.h"
#include "text.h"

#define PATH_LEN 4096
#define COMMITTED_MAX 1024
#define KEY_ID_MAX 200

static int path_of(const char *state_dir, char *path, cs_err_t *err) {
  if (state_dir == NULL || cs_plat_path_join(path, PATH_LEN, state_dir, CS_STATE_COMMITTED) != CS_OK)
    return cs_err_set(err, CS_ETOOBIG, 0, "[store] state_dir is not set or too long");
  return CS_OK;
}

/* the same thumbprint, whatever the case of its hex digits */
static int same_tp(const char *a, const char *b) {
  char x[41], y[41];
  snprintf(x, sizeof x, "%s", a);
  snprintf(y, sizeof y, "%s", b);
  cs_thumbprint_upper(x);
  cs_thumbprint_upper(y);
  return strcmp(x, y) == 0;
}

static int key_id_ok(const char *s) {
  size_t n = strlen(s);
  return n < KEY_ID_MAX && strpbrk(s, " \t\r\n") == NULL;
}

int cs_committed_write(const char *state_dir, const char *tp, const char *key_id, cs_err_t *err) {
  char path[PATH_LEN], text[COMMITTED_MAX];
  int rc;
  if (!cs_thumbprint_valid(tp) || key_id == NULL || !key_id_ok(key_id))
    return cs_err_set(err, CS_EINVAL, 0, "no certificate thumbprint or key to record as put in service");
  if ((rc = path_of(state_dir, path, err)) != CS_OK)
    return rc;
  snprintf(text, sizeof text, "tp %s\nkey %s\n", tp, key_id);
  return cs_plat_write_atomic(path, text, strlen(text), 0600, err);
}

int cs_committed_read(const char *state_dir, char tp[41], char *key_id, size_t key_len, cs_err_t *err) {
  unsigned char *data = NULL;
  size_t len = 0;
  char path[PATH_LEN], t[41], k[KEY_ID_MAX];
  int rc;

  memset(t, 0, sizeof t);
  tp[0] = '\0';
  if (key_len > 0)
    key_id[0] = '\0';
  if ((rc = path_of(state_dir, path, err)) != CS_OK ||
      (rc = cs_plat_read_file(path, COMMITTED_MAX, CS_READ_NOFOLLOW, &data, &len, err)) != CS_OK)
    return rc;
  k[0] = '\0';
  /* the file ends at a NUL cs_plat_read_file adds after the bytes */
  if (memchr(data, '\0', len) != NULL || sscanf((const char *)data, "tp %40s\nkey %199[^\n]\n", t, k) < 1 ||
      !cs_thumbprint_valid(t) || !key_id_ok(k))
    rc = cs_err_set(err, CS_EFORMAT, 0, "%s is not a record certsteward wrote", path);
  else {
    snprintf(tp, 41, "%s", t);
    cs_thumbprint_upper(tp);
    if (key_len > 0)
      snprintf(key_id, key_len, "%s", k);
  }
  cs_plat_free_file(data, len);
  return rc;
}

int cs_committed_record(const cs_config_t *cfg, const char *tp, cs_err_t *err) {
  char ref[PATH_LEN], id[KEY_ID_MAX];
  int rc;
  id[0] = '\0';
  if (cs_plat_store_key_ref(cfg, tp, ref, sizeof ref) == CS_OK &&
      (rc = cs_plat_key_identity(ref, id, sizeof id, err)) != CS_OK)
    return rc;
  return cs_committed_write(cfg->store.state_dir, tp, id, err);
}

int cs_committed_names(const char *state_dir, const char *tp) {
  char rec[41];
  cs_err_t err;
  return tp != NULL && cs_thumbprint_valid(tp) && cs_committed_read(state_dir, rec, NULL, 0, &err) == CS_OK &&
         same_tp(rec, tp);
}

int cs_committed_vouches(const cs_config_t *cfg, const char *tp, char *key_id, size_t key_len) {
  char rec[41];
  cs_err_t err;
  if (key_len > 0)
    key_id[0] = '\0';
  if (tp == NULL || !cs_thumbprint_valid(tp))
    return 0;
  if (cs_committed_read(cfg->store.state_dir, rec, key_id, key_len, &err) == CS_OK && same_tp(rec, tp))
    return 1;
  if (key_len > 0)
    key_id[0] = '\0';
  return cfg->connector.thumbprint != NULL && cs_thumbprint_valid(cfg->connector.thumbprint) &&
         same_tp(cfg->connector.thumbprint, tp);
}
