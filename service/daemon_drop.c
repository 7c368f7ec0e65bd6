/* The daemon's drop folder (see daemon.c): change notifications and the rescan
 * timer look at it, a file unchanged for settle_seconds is taken into the state
 * folder's incoming folder and queued, unless it is not to be trusted; a certificate
 * file and its key file (drop.h: cs_drop_pair) are taken together and queued as one
 * joined PEM file; old quarantine entries are removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "clock.h"
#include "daemon_int.h"
#include "drop.h"
#include "events.h"
#include "platform.h"
#include "statedir.h"
#include "text.h"

/* How much of a dropped name a stored name keeps: with the time stamp before it and
 * what the state folder adds after it (".reason", a temporary file's suffix) it stays
 * well under the 255 bytes a file name may have (ext4, NTFS), so that no rename into
 * the quarantine, waiting or processed folder fails for a long name. */
#define STORED_NAME_MAX 160
#define STORED_TAIL 24 /* a longer name keeps its start and its last bytes (the extension) */

/* A file name as it will be stored: the dropped name with anything but
 * [A-Za-z0-9._-] replaced, behind a time stamp that keeps names unique; a name
 * longer than STORED_NAME_MAX keeps its start, "~" and its last STORED_TAIL bytes. */
void cs__daemon_stored_name(char *out, size_t len, const char *name) {
  static unsigned counter;
  size_t i, n = (size_t)snprintf(out, len, "%lld-%u-", cs_clock_now(), counter++), k = strlen(name);
  for (i = 0; i < k && n + 1 < len; i++) {
    char c = name[i];
    if (k > STORED_NAME_MAX && i == STORED_NAME_MAX - STORED_TAIL - 1) {
      out[n++] = '~';
      i = k - STORED_TAIL;
      c = name[i];
    }
    out[n++] =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'
            ? c
            : '_';
  }
  out[n] = '\0';
}

/* The user this daemon runs as (libuv: -1 on Windows, where files show owner 0). */
static unsigned long self_uid(void) {
  static unsigned long uid;
  static int known;
  uv_passwd_t pw;
  if (!known && uv_os_get_passwd(&pw) == 0) {
    uid = pw.uid;
    uv_os_free_passwd(&pw);
    known = 1;
  }
  return uid;
}

/* Why the file at path the daemon is about to read is not trusted, into why (NULL: it
 * is): st (NULL: it could not be looked at) is not a regular file, is owned by someone
 * other than root or this service's account, who could rewrite it at any moment, or
 * others may write it (POSIX mode), or, judged on the file itself through one handle
 * (cs_plat_state_unsafe; on Windows the owner and DACL, which libuv's stat does not
 * show), it has a second name, an owner other than an administrator or a writer who
 * is not one. */
const char *cs__daemon_untrusted_file(const char *path, const uv_stat_t *st, char *why, size_t len) {
  char detail[1024];
  if (st == NULL || (st->st_mode & S_IFMT) != S_IFREG)
    return "not a regular file (a link, FIFO, device or folder), not read";
  if (st->st_uid != 0 && st->st_uid != self_uid()) {
    snprintf(why, len, "owned by user %lu, not by root (or this service's account): not read; copy it in as root",
             (unsigned long)st->st_uid);
    return why;
  }
  if (cs_plat_has_file_modes() && (st->st_mode & 022)) { /* whoever holds it open could change it */
    snprintf(why, len, "mode %03lo: others can change it; not read. Copy it in as root, mode 0600",
             (unsigned long)(st->st_mode & 0777));
    return why;
  }
  if (cs_plat_state_unsafe(path, detail, sizeof detail)) {
    snprintf(why, len, "%s: not read; copy it in as an administrator (root)", detail);
    return why;
  }
  return NULL;
}

/* Takes a settled file out of the drop folder (it may hold a private key) into
 * state_dir/incoming: its job, or NULL when it could not be moved (event 1007 said
 * so; it stays) or was not to be trusted (cs__daemon_untrusted_file: quarantined). */
static job_t *take_in(daemon_t *d, const char *name) {
  char from[PATH_LEN], dir[PATH_LEN], stored[300], why[1200];
  const char *reason;
  job_t *job = cs__daemon_new_job(JOB_DROP);
  cs_err_t err;
  uv_fs_t st;
  if (job == NULL)
    return NULL;
  cs_buf_t clean = CS_BUF_INIT;
  cs_text_sanitize(&clean, name);
  snprintf(job->name, sizeof job->name, "%s", cs_buf_str(&clean) ? cs_buf_str(&clean) : "?");
  cs_buf_free(&clean);
  cs_plat_path_join(from, PATH_LEN, d->cfg->watch.folder, name);
  cs__daemon_state_path(d, dir, CS_STATE_INCOMING);
  cs__daemon_stored_name(stored, sizeof stored, name);
  cs_plat_path_join(job->path, PATH_LEN, dir, stored);
  int seen = uv_fs_lstat(NULL, &st, from, NULL) == 0;
  if (cs_plat_mkdirs(dir, 0700, &err) != CS_OK || cs_plat_rename(from, job->path, &err) != CS_OK) {
    cs_event_say(CS_EV_STATE_ERROR, job->name, d->cfg->store.state_dir, err.text, NULL);
    uv_fs_req_cleanup(&st);
    free(job);
    return NULL;
  }
  cs_event_say(CS_EV_DROP_DETECTED, job->name, job->name, NULL, NULL);
  reason = cs__daemon_untrusted_file(job->path, seen ? &st.statbuf : NULL, why, sizeof why);
  uv_fs_req_cleanup(&st);
  if (reason != NULL) { /* never opened: out of the way */
    cs__daemon_quarantine(d, job, reason, NULL);
    free(job);
    return NULL;
  }
  return job;
}

/* 1 when the text "-----BEGIN " (PEM armour) occurs in data[0..len). */
static int has_pem(const unsigned char *data, size_t len) {
  static const char armour[] = "-----BEGIN ";
  size_t i, k = sizeof armour - 1;
  for (i = 0; i + k <= len; i++)
    if (memcmp(data + i, armour, k) == 0)
      return 1;
  return 0;
}

/* Why the taken certificate file c and key file k could not be joined into job's file
 * (NULL: they were): both are read through the platform layer (no link followed) and
 * must be PEM text; the certificate's text, then the key's, are written atomically,
 * mode 0600, into the state folder's incoming folder, which only root / SYSTEM and
 * Administrators may open. Every copy of the texts is wiped. */
static const char *join(daemon_t *d, const job_t *c, const job_t *k, job_t *job, char *why, size_t len) {
  unsigned char *cd = NULL, *kd = NULL, *all = NULL;
  size_t cl = 0, kl = 0, n = 0, max = (size_t)d->cfg->watch.max_file_size;
  const char *ret = why;
  cs_err_t err;
  if (cs_plat_read_file(c->path, max, CS_READ_NOFOLLOW, &cd, &cl, &err) != CS_OK ||
      cs_plat_read_file(k->path, max, CS_READ_NOFOLLOW, &kd, &kl, &err) != CS_OK) {
    snprintf(why, len, "%s", err.text);
    goto out;
  }
  if (!has_pem(cd, cl) || !has_pem(kd, kl)) {
    snprintf(why, len,
             "%s is not PEM text: a certificate and its key dropped as two files must both be PEM; drop one PFX, "
             "or one PEM file holding both, instead",
             has_pem(cd, cl) ? k->name : c->name);
    goto out;
  }
  if ((all = malloc(cl + 1 + kl)) == NULL) {
    snprintf(why, len, "out of memory");
    goto out;
  }
  memcpy(all, cd, cl);
  n = cl;
  if (n > 0 && all[n - 1] != '\n')
    all[n++] = '\n';
  memcpy(all + n, kd, kl);
  n += kl;
  if (cs_plat_write_atomic(job->path, all, n, 0600, &err) != CS_OK) {
    snprintf(why, len, "cannot join them: %s", err.text);
    goto out;
  }
  ret = NULL;
out:
  if (all != NULL)
    cs_plat_wipe(all, cl + 1 + kl);
  free(all);
  if (cd != NULL)
    cs_plat_free_file(cd, cl);
  if (kd != NULL)
    cs_plat_free_file(kd, kl);
  return ret;
}

/* Takes a certificate file and its key file (cs_drop_pair) as one drop: both are taken
 * in and judged as take_in does, then joined into one PEM file in incoming, queued as
 * one job named "cert + key"; the two taken files are removed (they may hold a key).
 * When one of them was not taken or not trusted, the other is handled alone, as
 * today; when they cannot be joined (not PEM text), both are quarantined, saying why. */
static void take_pair(daemon_t *d, const char *cert, const char *key) {
  job_t *c = take_in(d, cert), *k = take_in(d, key), *job = NULL;
  char dir[PATH_LEN], stored[300], why[1500];
  const char *reason;
  cs_buf_t name = CS_BUF_INIT;
  if (c == NULL || k == NULL || (job = cs__daemon_new_job(JOB_DROP)) == NULL) {
    cs__daemon_enqueue(d, c);
    cs__daemon_enqueue(d, k);
    return;
  }
  cs_buf_printf(&name, "%s + %s", c->name, k->name);
  snprintf(job->name, sizeof job->name, "%s", cs_buf_str(&name) ? cs_buf_str(&name) : c->name);
  cs_buf_free(&name);
  cs__daemon_state_path(d, dir, CS_STATE_INCOMING);
  cs__daemon_stored_name(stored, sizeof stored, cert);
  cs_plat_path_join(job->path, PATH_LEN, dir, stored);
  if ((reason = join(d, c, k, job, why, sizeof why)) != NULL) {
    char told[sizeof why + sizeof job->name + 32]; /* each keeps its own name; the reason names the pair */
    (void)cs_plat_remove(job->path, NULL);         /* a write that failed late may have left the joined file */
    snprintf(told, sizeof told, "%s (dropped as a pair: %s)", reason, job->name);
    cs__daemon_quarantine(d, c, told, NULL);
    cs__daemon_quarantine(d, k, told, NULL);
    free(job);
  } else {
    job_t *part[2] = {c, k};
    cs_err_t err;
    int i;
    for (i = 0; i < 2; i++) /* both tried: the key's copy above all must not stay in incoming */
      if (cs_plat_remove(part[i]->path, &err) != CS_OK)
        cs_event_say(CS_EV_STATE_ERROR, part[i]->name, d->cfg->store.state_dir, err.text, NULL);
    cs__daemon_enqueue(d, job);
  }
  free(c);
  free(k);
}

/* Takes a settled file alone and queues it (take_in). */
static void take(daemon_t *d, const char *name) { cs__daemon_enqueue(d, take_in(d, name)); }

static void forget(daemon_t *d, size_t i) {
  free(d->drops[i].name);
  memmove(&d->drops[i], &d->drops[i + 1], (d->n_drops - i - 1) * sizeof *d->drops);
  d->n_drops--;
}

static void settle_cb(uv_timer_t *t);

/* The index of drop i's partner among the drops this scan saw (cs_drop_pair), or
 * d->n_drops when it has none. */
static size_t partner(const daemon_t *d, size_t i) {
  const char *name = d->drops[i].name;
  cs_drop_role_t role = cs_drop_pair_role(name);
  int cs = cs_plat_names_case_sensitive();
  size_t j;
  for (j = 0; role != CS_DROP_ALONE && j < d->n_drops; j++)
    if (j != i && d->drops[j].seen == d->generation &&
        (role == CS_DROP_PAIR_CERT ? cs_drop_pair(name, d->drops[j].name, cs)
                                   : cs_drop_pair(d->drops[j].name, name, cs)))
      return j;
  return d->n_drops;
}

/* Looks at the drop folder: new and changed files are tracked, files unchanged
 * for settle_seconds are taken, in the order they arrived. */
void cs__daemon_scan(daemon_t *d) {
  uint64_t now = uv_now(d->loop), settle = (uint64_t)d->cfg->watch.settle_seconds * 1000, next = 0;
  uv_fs_t req, st;
  uv_dirent_t ent;
  char path[PATH_LEN];
  size_t i;

  if (d->stopping)
    return;
  if (!cs__daemon_trusted(d, GUARD_ALL)) { /* an unsafe drop or state folder is not looked into; files wait */
    if (d->once)
      cs__daemon_once_cut_short(d);
    return;
  }
  d->generation++;
  if (uv_fs_scandir(NULL, &req, d->cfg->watch.folder, 0, NULL) < 0) {
    uv_fs_req_cleanup(&req);
    return;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    if (!cs_drop_candidate(ent.name))
      continue;
    cs_plat_path_join(path, PATH_LEN, d->cfg->watch.folder, ent.name);
    if (uv_fs_lstat(NULL, &st, path, NULL) != 0) {
      uv_fs_req_cleanup(&st);
      continue; /* gone meanwhile */
    }
    for (i = 0; i < d->n_drops && strcmp(d->drops[i].name, ent.name) != 0; i++)
      ;
    if (i == d->n_drops) {
      drop_t *nd = realloc(d->drops, (d->n_drops + 1) * sizeof *nd);
      if (nd == NULL || (nd[d->n_drops].name = cs_strdup(ent.name)) == NULL) {
        d->drops = nd ? nd : d->drops;
        uv_fs_req_cleanup(&st);
        continue;
      }
      d->drops = nd;
      d->n_drops++;
      d->drops[i].size = -1;
    }
    if (d->drops[i].size != (long long)st.statbuf.st_size ||
        d->drops[i].mtime != st.statbuf.st_mtim.tv_sec + st.statbuf.st_mtim.tv_nsec / 1e9) {
      d->drops[i].size = (long long)st.statbuf.st_size;
      d->drops[i].mtime = st.statbuf.st_mtim.tv_sec + st.statbuf.st_mtim.tv_nsec / 1e9;
      d->drops[i].stable_since = now;
    }
    d->drops[i].seen = d->generation;
    if ((st.statbuf.st_mode & S_IFMT) != S_IFREG)
      d->drops[i].stable_since = 0; /* nothing to wait for */
    uv_fs_req_cleanup(&st);
  }
  uv_fs_req_cleanup(&req);
  for (i = 0; i < d->n_drops;) {
    drop_t *p = &d->drops[i];
    size_t j = partner(d, i);
    uint64_t due = p->stable_since + settle;
    if (p->seen != d->generation) {
      forget(d, i); /* removed by the admin before it settled */
      continue;
    }
    if (j < d->n_drops && d->drops[j].stable_since + settle > due)
      due = d->drops[j].stable_since + settle; /* a pair is taken when both have settled */
    else if (j == d->n_drops && p->stable_since != 0 && cs_drop_pair_role(p->name) != CS_DROP_ALONE)
      due += CS_DROP_PAIR_GRACE_MS; /* a member alone waits for its partner */
    if (due > now) {
      if (next == 0 || due < next)
        next = due;
      i++;
      continue;
    }
    {
      char *name = p->name, *other = j < d->n_drops ? d->drops[j].name : NULL;
      p->name = NULL;
      if (other != NULL)
        d->drops[j].name = NULL;
      forget(d, j < d->n_drops && j > i ? j : i); /* the later one first: the earlier index stays */
      if (other != NULL)
        forget(d, j > i ? i : j);
      if (other == NULL)
        take(d, name);
      else if (cs_drop_pair_role(name) == CS_DROP_PAIR_CERT)
        take_pair(d, name, other);
      else
        take_pair(d, other, name);
      free(name);
      free(other);
      if (other != NULL && j < i)
        i--; /* two entries went, one of them before i: the next one is now at i - 1 */
    }
  }
  if (next != 0)
    uv_timer_start(&d->settle, settle_cb, next - now, 0);
  cs__daemon_pump(d);
}

static void settle_cb(uv_timer_t *t) { cs__daemon_scan(t->data); }

static void fs_cb(uv_fs_event_t *h, const char *name, int events, int status) {
  (void)name;
  (void)events;
  (void)status;
  cs__daemon_scan(h->data);
}

/* Removes quarantine entries older than quarantine_days. */
void cs__daemon_quarantine_gc(daemon_t *d) {
  char dir[PATH_LEN], path[PATH_LEN];
  long long limit = cs_clock_now() - (long long)d->cfg->watch.quarantine_days * 86400;
  uv_fs_t req, st;
  uv_dirent_t ent;
  cs__daemon_state_path(d, dir, CS_STATE_QUARANTINE);
  if (uv_fs_scandir(NULL, &req, dir, 0, NULL) < 0) {
    uv_fs_req_cleanup(&req);
    return;
  }
  while (uv_fs_scandir_next(&req, &ent) != UV_EOF) {
    cs_plat_path_join(path, PATH_LEN, dir, ent.name);
    if (uv_fs_lstat(NULL, &st, path, NULL) == 0 && st.statbuf.st_mtim.tv_sec < limit)
      (void)((st.statbuf.st_mode & S_IFMT) == S_IFDIR ? cs_plat_remove_tree(path, NULL) : cs_plat_remove(path, NULL));
    uv_fs_req_cleanup(&st);
  }
  uv_fs_req_cleanup(&req);
}

/* A failed rollback is not tried again before the next start (event 5002 says so):
 * each try restarts the connector, which an admin may be repairing by hand. */
void cs__daemon_rescan_cb(uv_timer_t *t) {
  daemon_t *d = t->data;
  cs__daemon_scan(d); /* checks what it trusts first, and so notices what is safe again */
  cs__daemon_adopt_look(d, 0);
  if (d->guard[GUARD_STATE] == GUARD_SAFE)
    cs__daemon_quarantine_gc(d);
  cs__daemon_pump(d); /* a job that waited for a path to be safe again */
}

int cs__daemon_watch(daemon_t *d) {
  if (d->watching)
    uv_fs_event_stop(&d->watch);
  d->watching = uv_fs_event_start(&d->watch, fs_cb, d->cfg->watch.folder, 0) == 0;
  return d->watching;
}

void cs__daemon_drops_free(daemon_t *d) {
  while (d->n_drops > 0)
    forget(d, d->n_drops - 1);
  free(d->drops);
  d->drops = NULL;
}
