/* The parts of platform.h that are the same on every system. */
#include "platform.h"
#include "statedir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cs_run_result_free(cs_run_result_t *res) {
  if (res == NULL)
    return;
  free(res->out);
  res->out = NULL;
  res->out_len = 0;
}

void cs_plat_store_list_free(cs_plat_cert_t *certs, size_t n) {
  size_t i;
  for (i = 0; certs != NULL && i < n; i++) {
    free(certs[i].subject);
    free(certs[i].friendly);
  }
  free(certs);
}

void cs_plat_machine_chain_free(cs_machine_chain_t *c) {
  size_t i;
  if (c == NULL)
    return;
  for (i = 0; c->der != NULL && i < c->n; i++)
    free(c->der[i]);
  free(c->der);
  free(c->der_len);
  c->der = NULL;
  c->der_len = NULL;
  c->n = 0;
}

/* Both halves allocate what cs_plat_read_file returns with malloc: one way to wipe and free it. */
void cs_plat_free_file(unsigned char *data, size_t len) {
  if (data == NULL)
    return;
  cs_plat_wipe(data, len);
  free(data);
}

/* The separator is added unless dir ends with one ('/' on both platforms, '\\' too on
 * Windows), so that "C:\\" + "x" is "C:\\x" and "/" + "x" is "/x". */
static int needs_sep(const char *dir, size_t dl) { return dl > 0 && !cs_plat_is_path_sep(dir[dl - 1]); }

int cs_plat_path_join(char *out, size_t len, const char *dir, const char *name) {
  size_t dl = strlen(dir), nl = strlen(name), add = needs_sep(dir, dl) ? 1 : 0;
  if (len == 0)
    return CS_ETOOBIG;
  if (dl + add + nl >= len) {
    out[0] = '\0';
    return CS_ETOOBIG;
  }
  memcpy(out, dir, dl);
  if (add)
    out[dl] = cs_plat_path_sep();
  memcpy(out + dl + add, name, nl + 1);
  return CS_OK;
}

char *cs_plat_path_join_new(const char *dir, const char *name) {
  size_t len = strlen(dir) + 1 + strlen(name) + 1;
  char *out = malloc(len);
  if (out != NULL)
    (void)cs_plat_path_join(out, len, dir, name); /* always fits */
  return out;
}

/* The last component of path. */
static const char *base_name(const char *path) {
  const char *p = path + strlen(path);
  while (p > path && !cs_plat_is_path_sep(p[-1]))
    p--;
  return p;
}

int cs_plat_state_dir_unsafe(const char *dir, char *why, size_t len) {
  static const char *const trusted[] = {CS_STATE_JOURNAL, CS_STATE_TX, CS_STATE_REQUEST, CS_STATE_COMMITTED};
  char path[4096];
  size_t i;
  if (cs_plat_folder_unsafe(dir, why, len))
    return 1;
  for (i = 0; i < sizeof trusted / sizeof trusted[0]; i++) {
    if (cs_plat_path_join(path, sizeof path, dir, trusted[i]) != CS_OK) {
      snprintf(why, len, "the state folder's path is too long");
      return 1;
    }
    if (cs_plat_state_unsafe(path, why, len))
      return 1;
  }
  return 0;
}

int cs_plat_program_unsafe(const char *exe, const char *worker, char *why, size_t len) {
  char folder[4096], who[1024];
  if (cs_plat_path_writers(exe, folder, sizeof folder, who, sizeof who)) {
    snprintf(why, len, "%s, the folder of %s or one above it, can be changed by %s", folder, base_name(exe), who);
    return 1;
  }
  return cs_plat_config_file_unsafe(exe, why, len) || cs_plat_config_file_unsafe(worker, why, len);
}
