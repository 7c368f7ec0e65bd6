/* What the daemon trusts, checked before each scan of the drop folder and before
 * each job, not once at start: the drop and state folders, the password file and
 * the configuration file (it names commands run as root / LocalSystem, and the
 * worker reads it again for every file). Each check is a few lstat / ACL reads.
 * A change is said once: unsafe (1004, 1007, 1009, with the reason) when it
 * becomes so, safe again (1008) when it stops being so; while a path is unsafe
 * the daemon does not use it (daemon.c holds what depends on it).
 * The folders above the files it writes elsewhere ([store] files, binding files,
 * [log] files) are judged too, at start and before each renewal: who else can change
 * one is said (1014) and said fixed (1015), each once, a warning only (the writes
 * themselves follow no link, and such folders are often the service's own). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "events.h"
#include "platform.h"
#include "statedir.h"
#include "text.h"

typedef int (*check_fn)(const char *path, char *why, size_t len);

/* The state folder and what an undo would act on (platform.h: cs_plat_state_dir_unsafe):
 * judged before recovery and before each renewal. */
static int state_unsafe(const char *dir, char *why, size_t len) { return cs_plat_state_dir_unsafe(dir, why, len); }

static const char *guard_path(const daemon_t *d, int i, check_fn *check, int *event) {
  const cs_config_t *cfg = d->cfg;
  switch (i) {
  case GUARD_DROP:
    *check = cs_plat_folder_unsafe;
    *event = CS_EV_FOLDER_UNSAFE;
    return cfg->watch.folder;
  case GUARD_STATE:
    *check = state_unsafe;
    *event = CS_EV_FOLDER_UNSAFE;
    return cfg->store.state_dir;
  case GUARD_PASSWORD:
    *check = cs_plat_secret_file_unsafe;
    *event = CS_EV_SECRET_EXPOSED;
    return cfg->watch.password_file;
  default:
    *check = cs_plat_config_file_unsafe;
    *event = CS_EV_CONFIG_UNSAFE;
    return cfg->path;
  }
}

unsigned cs__daemon_guard(daemon_t *d, unsigned which, unsigned *cleared) {
  unsigned bad = 0;
  char why[1024];
  int i;
  if (cleared != NULL)
    *cleared = 0;
  for (i = 0; i < GUARD_COUNT; i++) {
    check_fn check;
    int event, unsafe;
    const char *path;
    if (!(which & (1u << i)) || (path = guard_path(d, i, &check, &event)) == NULL)
      continue; /* not asked for, or not configured (no password file, built-in defaults) */
    why[0] = '\0';
    unsafe = check(path, why, sizeof why) != 0; /* fail closed: any answer but 0 is unsafe */
    if (unsafe && why[0] == '\0')
      snprintf(why, sizeof why, "the check gave no reason");
    if (unsafe && d->guard[i] != GUARD_SAID_UNSAFE)
      cs_event_say(event, NULL, path, why, NULL);
    else if (!unsafe && d->guard[i] == GUARD_SAID_UNSAFE) {
      cs_event_say(CS_EV_SAFE_AGAIN, NULL, path, NULL, NULL);
      if (cleared != NULL)
        *cleared |= 1u << i;
    }
    d->guard[i] = unsafe ? GUARD_SAID_UNSAFE : GUARD_SAFE;
    if (unsafe)
      bad |= 1u << i;
  }
  return bad;
}

/* ---- the folders above the files certsteward writes (event 1014) ---------------- */

#define WRITTEN_FIXED 6 /* the [store] and [log] files, before the binding files */

const char *cs_daemon_written_file(const cs_config_t *cfg, size_t i) {
  const char *fixed[WRITTEN_FIXED] = {cfg->store.cert_file,   cfg->store.key_file,  cfg->store.chain_file,
                                      cfg->store.bundle_file, cfg->log.events_file, cfg->log.metrics_file};
  if (i < WRITTEN_FIXED)
    return fixed[i];
  i -= WRITTEN_FIXED;
  return i < cfg->connector.binding_files.n ? cfg->connector.binding_files.v[i] : NULL;
}

size_t cs_daemon_written_count(const cs_config_t *cfg) { return WRITTEN_FIXED + cfg->connector.binding_files.n; }

void cs__daemon_writers(daemon_t *d) {
  size_t n = cs_daemon_written_count(d->cfg), i;
  char folder[4096], who[1024], said[sizeof folder + sizeof who + 2];
  if (d->writers == NULL && (d->writers = calloc(n, sizeof *d->writers)) == NULL)
    return; /* out of memory: a warning only, asked again before the next renewal */
  for (i = 0; i < n; i++) {
    const char *file = cs_daemon_written_file(d->cfg, i);
    char **last = &d->writers[i];
    if (file == NULL)
      continue;
    if (cs_plat_path_writers(file, folder, sizeof folder, who, sizeof who) == 0) {
      if (*last != NULL) { /* said before: now fixed, said once */
        char *nl = strchr(*last, '\n');
        if (nl != NULL)
          *nl = '\0';
        cs_event_say(CS_EV_PATH_WRITERS_FIXED, NULL, file, *last, NULL);
        free(*last);
        *last = NULL;
      }
      continue;
    }
    /* said once per folder and reason: a new folder or a new writer is said again */
    snprintf(said, sizeof said, "%s\n%s", folder, who);
    if (*last != NULL && strcmp(*last, said) == 0)
      continue;
    cs_event_say(CS_EV_PATH_WRITERS, NULL, file, folder, who);
    free(*last);
    *last = cs_strdup(said);
  }
}

void cs__daemon_writers_free(daemon_t *d) {
  size_t i, n = d->cfg != NULL ? cs_daemon_written_count(d->cfg) : 0;
  if (d->writers == NULL)
    return;
  for (i = 0; i < n; i++)
    free(d->writers[i]);
  free(d->writers);
  d->writers = NULL;
}
