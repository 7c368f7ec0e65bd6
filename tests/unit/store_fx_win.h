/* The fixture of the tests of the Windows certificate store (test_win_store.c,
 * test_win_pending.c), against Wine's real crypt32 LocalMachine stores in the test
 * run's private prefix: a temporary folder and configuration, crypt32 looked at
 * directly (not through the code under test), the test PKI staged as the worker stages
 * it, the worker itself. */
#ifndef CS_TEST_STORE_FX_WIN_H
#define CS_TEST_STORE_FX_WIN_H

#include <stddef.h>

#include <windows.h>
#include <wincrypt.h>

#include "config.h"
#include "load.h"
#include "platform.h"

#define ENC (X509_ASN_ENCODING | PKCS_7_ASN_ENCODING)
#define PASS "demo-pass"

/* These tests share one prefix's LocalMachine stores (with test_renewal and the e2e
 * tests) and ctest runs them side by side: one at a time (released when the process
 * ends). fx_open takes it. */
void lock_store(void);

typedef struct fx_s {
  char dir[MAX_PATH], stage[MAX_PATH], backup[MAX_PATH], state[MAX_PATH], archive[MAX_PATH];
  cs_config_t cfg;
} fx_t;

/* A temporary folder and a configuration: thumbprint in service (NULL = none), old
 * certificates keep/delete, key provider; no binding files. */
void fx_open(fx_t *f, const char *tp, const char *old, const char *provider);
void fx_close(fx_t *f);

/* crypt32, directly: tp in an open store s, in LocalMachine\<store> opened anew (free
 * the context; NULL when not there), whether it is there, the key c links to (free();
 * NULL none), tp removed from LocalMachine\<store> (committed). */
PCCERT_CONTEXT find_in(HCERTSTORE s, const char *tp);
PCCERT_CONTEXT find(const wchar_t *store, const char *tp);
int in_store(const wchar_t *store, const char *tp);
CRYPT_KEY_PROV_INFO *key_of(PCCERT_CONTEXT c);
void purge(const wchar_t *store, const char *tp);

/* The test PKI: a file loaded (password demo-pass), its leaf's thumbprint; dir\name
 * written; leaf.der and chain.pem of b, as the worker stages them. */
int load(const char *name, cs_bundle_t *b);
void thumbprint_of(const char *name, char tp[41]);
void put(const char *dir, const char *name, const void *data, size_t len);
void put_certs(const char *dir, const cs_bundle_t *b);
/* Stages a test PKI file as the worker does on Windows (cs_pfx_stage); bound_tp
 * not NULL: key-less, sharing that certificate's key. tp: the leaf's thumbprint. */
void stage(const fx_t *f, const char *file, const char *bound_tp, char tp[41]);
/* Stages a PKCS#12 file of the test PKI as it is (password demo-pass). */
void stage_pfx_as_is(const fx_t *f, const char *file, char tp[41]);
/* cs_plat_store_install of f's stage into backup (its error printed). */
int install(const fx_t *f, const char *backup, cs_err_t *err);
/* The listing's entry for tp (copied into *out: free subject and friendly); 0 when not listed. */
int listed(const char *tp, cs_plat_cert_t *out);
/* "certsteward YYYY-MM-DD", today. */
void today(char *buf, size_t len);

/* certsteward-worker validate FILE --stage f->stage [--current current]; 1 when staged;
 * why (not NULL): the key_match check's text. FILE: of the test PKI, or a path. */
#define CS_FX_WHY 1024
int worker_judge(const fx_t *f, const char *file, const char *current, char why[CS_FX_WHY]);
int worker_stage(const fx_t *f, const char *file, const char *current);
/* f's stage holds name. */
int staged(const fx_t *f, const char *name);
/* The store's manifest of backup holds line (e.g. "had_key 1\n"). */
int manifest_says(const char *backup, const char *line);
/* How many certificates LocalMachine\My holds. */
size_t count_my(void);

#endif
