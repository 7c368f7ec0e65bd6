/* Windows half of platform.h: change notifications of LocalMachine\My
 * (cs_plat_store_watch_start, _stop, _failed), through the registry key that holds it.
 *
 * Why the registry and not CertControlStore(CERT_STORE_CTRL_NOTIFY_CHANGE): LocalMachine\My
 * is a system store whose one predefined physical store, .Default, lives in the registry
 * at HKLM\SOFTWARE\Microsoft\SystemCertificates\MY ("System Store Locations"), under
 * Certificates\<SHA-1>\Blob (the certificate and its properties: the key link, the
 * friendly name, the renewal link), CRLs and CTLs. CERT_STORE_CTRL_NOTIFY_CHANGE reports
 * a change of the persisted store, which for LocalMachine\My is these keys, so it would
 * see no more; it needs a store handle kept open and re-armed with
 * CERT_STORE_CTRL_RESYNC (which rereads the whole store on each change), and Wine's
 * crypt32 stubs it: it returns TRUE and never signals.
 * RegNotifyChangeKeyValue on MY and its subtree (a certificate added or removed changes a
 * subkey's name, a property set changes Blob) works the same on Windows and under Wine,
 * whose crypt32 keeps LocalMachine\My at that very key (dlls/crypt32/store.c, regstore.c),
 * so the tests prove it. The key is opened with KEY_NOTIFY alone.
 *
 * What it does not see, on real Windows:
 * - keys: a private key replaced or deleted under a certificate (a file under
 *   %ProgramData%\Microsoft\Crypto, a smart card, an HSM) changes no registry value;
 * - physical stores other than .Default: LocalMachine\My has no group-policy or
 *   enterprise physical store (those exist for Root, CA, Trust), and smart-card
 *   certificates propagate to CurrentUser\My, not here; what a physical store an
 *   administrator registers in addition holds (CertRegisterPhysicalStore: a file-based
 *   store, say) is not watched.
 * Nothing is missed between two notifications: the next one is armed before cb is
 * called, so a change made before that is there for the look cb asks for, and one made
 * after it (while cb runs, say) signals again.
 * A change may also be signalled with nothing to find (a store saved unchanged, a CRL):
 * cb means "look again". */
#include "../platform.h"
#include "store.h"

#include <stdlib.h>

#define MY_PATH L"SOFTWARE\\Microsoft\\SystemCertificates\\MY"
#define MY_SHOWN "LocalMachine\\My (HKLM\\SOFTWARE\\Microsoft\\SystemCertificates\\MY)"

/* Subkeys added or removed (a certificate, CRL or CTL), values changed (Blob: a
 * certificate's properties); not the key's own security, which changes nothing in the
 * store. The registration outlives the thread that makes it (Windows 8 and later): the
 * first is made by the caller of start, the next ones by the watch's thread. */
#define FILTER (REG_NOTIFY_CHANGE_NAME | REG_NOTIFY_CHANGE_LAST_SET | REG_NOTIFY_THREAD_AGNOSTIC)

struct cs_plat_store_watch_s {
  HKEY key;
  HANDLE changed; /* auto-reset: signalled by the registry */
  HANDLE stop;    /* manual-reset: set by stop */
  HANDLE thread;
  DWORD tid;
  void (*cb)(void *arg);
  void *arg;
  const char *shown;   /* the key as errors name it */
  int detached;        /* stopped from cb: the thread frees the watch when it ends */
  volatile LONG ended; /* 1 once the thread met an error and stopped watching */
  cs_err_t why;        /* that error; written before ended is set */
};

static void watch_free(cs_plat_store_watch_t *w) {
  if (w->thread != NULL)
    CloseHandle(w->thread);
  if (w->key != NULL)
    RegCloseKey(w->key);
  if (w->changed != NULL)
    CloseHandle(w->changed);
  if (w->stop != NULL)
    CloseHandle(w->stop);
  free(w);
}

static LONG arm(cs_plat_store_watch_t *w) { return RegNotifyChangeKeyValue(w->key, TRUE, FILTER, w->changed, TRUE); }

static DWORD WINAPI watch_thread(void *p) {
  cs_plat_store_watch_t *w = p;
  HANDLE wait[2];
  DWORD r;
  LONG e;
  int failed = 0, detached;

  wait[0] = w->stop; /* first: when both are set, stop wins */
  wait[1] = w->changed;
  for (;;) {
    r = WaitForMultipleObjects(2, wait, FALSE, INFINITE);
    if (r == WAIT_OBJECT_0)
      break;
    if (r != WAIT_OBJECT_0 + 1) {
      failed = 1;
      cs__win_failf(&w->why, GetLastError(), "cannot wait for changes of %s", w->shown);
      break;
    }
    /* The key deleted (ERROR_KEY_DELETED), closed or no longer watchable: the change that
     * woke us is still said, once, with the watch marked as ended. */
    if ((e = arm(w)) != ERROR_SUCCESS) {
      failed = 1;
      cs__win_failf(&w->why, (DWORD)e, "cannot watch %s for changes any longer", w->shown);
      break;
    }
    w->cb(w->arg);
  }
  if (failed) {
    InterlockedExchange(&w->ended, 1); /* a full barrier: why is written before */
    w->cb(w->arg);
  }
  detached = w->detached; /* only this thread sets it (stop called from cb) */
  if (detached)
    watch_free(w);
  return 0;
}

int cs__store_watch_key(HKEY root, const wchar_t *path, const char *shown, void (*cb)(void *arg), void *arg,
                        cs_plat_store_watch_t **out, cs_err_t *err) {
  cs_plat_store_watch_t *w;
  LONG e;
  int rc = CS_OK;

  *out = NULL;
  if (cb == NULL)
    return cs_err_set(err, CS_EINVAL, 0, "no function to call on a change of %s", shown);
  if ((w = calloc(1, sizeof *w)) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory");
  w->cb = cb;
  w->arg = arg;
  w->shown = shown;
  if ((e = RegOpenKeyExW(root, path, 0, KEY_NOTIFY, &w->key)) != ERROR_SUCCESS) {
    w->key = NULL;
    rc = cs__win_failf(err, (DWORD)e, "cannot open %s to watch it", shown);
    goto out;
  }
  if ((w->changed = CreateEventW(NULL, FALSE, FALSE, NULL)) == NULL ||
      (w->stop = CreateEventW(NULL, TRUE, FALSE, NULL)) == NULL) {
    rc = cs__win_failf(err, GetLastError(), "cannot make the events to watch %s", shown);
    goto out;
  }
  /* armed before the thread runs: a change made as soon as start returns is seen */
  if ((e = arm(w)) != ERROR_SUCCESS) {
    rc = cs__win_failf(err, (DWORD)e, "cannot watch %s for changes", shown);
    goto out;
  }
  if ((w->thread = CreateThread(NULL, 0, watch_thread, w, 0, &w->tid)) == NULL) {
    rc = cs__win_failf(err, GetLastError(), "cannot start the thread that watches %s", shown);
    goto out;
  }
  *out = w;
  w = NULL;
out:
  if (w != NULL)
    watch_free(w);
  return rc;
}

int cs_plat_store_watch_start(void (*cb)(void *arg), void *arg, cs_plat_store_watch_t **w, cs_err_t *err) {
  HCERTSTORE my = NULL;
  int rc = cs__store_watch_key(HKEY_LOCAL_MACHINE, MY_PATH, MY_SHOWN, cb, arg, w, err);
  /* Windows always has the key; a fresh Wine prefix makes it when the store is first
   * opened, as CertOpenStore does for every other use of LocalMachine\My here. */
  if (rc != CS_ENOENT || cb == NULL)
    return rc;
  if ((rc = cs__store_open(L"My", "My", &my, err)) != CS_OK)
    return rc;
  cs__store_close(my);
  return cs__store_watch_key(HKEY_LOCAL_MACHINE, MY_PATH, MY_SHOWN, cb, arg, w, err);
}

int cs_plat_store_watch_failed(const cs_plat_store_watch_t *w, cs_err_t *err) {
  if (w == NULL || w->ended == 0)
    return 0;
  MemoryBarrier(); /* why, written before ended, is read after it */
  if (err != NULL)
    *err = w->why;
  return 1;
}

void cs_plat_store_watch_stop(cs_plat_store_watch_t *w) {
  if (w == NULL)
    return;
  SetEvent(w->stop);
  if (GetCurrentThreadId() == w->tid) {
    /* From cb, on the watch's own thread: it cannot wait for itself. It ends when cb
     * returns (the stop event wins over any change) and frees the watch then. */
    w->detached = 1;
    return;
  }
  WaitForSingleObject(w->thread, INFINITE);
  watch_free(w);
}
