/* cs-testpki OUTDIR: writes the test PKI (root, intermediates, leaves) and the good, bad and
 * malformed certificate files that certsteward's tests and demo use. OpenSSL 3 libcrypto
 * only, no openssl CLI. Every encrypted file uses the password "demo-pass". Times count from
 * time(NULL) at start. Exit status 0 on success, 1 with a message on stderr otherwise. */
#if defined(_MSC_VER) && !defined(_CRT_SECURE_NO_WARNINGS)
#define _CRT_SECURE_NO_WARNINGS
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef _WIN32
#include <direct.h>
#else
#include <sys/stat.h>
#include <sys/types.h>
#endif

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define DAY 86400L
#define HOST "board.example.test"
#define PASS "demo-pass"
#define ORG "certsteward test"
#define FRIENDLY "board"
#define BIG_SIZE (1024L * 1024L + 1024L)

/* Options of one certificate (make_cert). */
typedef struct {
  const char *cn;       /* subject CN; NULL: none */
  const char *org;      /* subject O; NULL: none */
  const char *ou;       /* subject OU; NULL: none */
  const char *san;      /* subjectAltName, e.g. "DNS:a,DNS:b"; NULL: none */
  X509 *issuer;         /* NULL: self-signed */
  EVP_PKEY *issuer_key; /* ignored when self-signed */
  EVP_PKEY *key;        /* subject key */
  long not_before;      /* seconds from now */
  long not_after;       /* seconds from now */
  int ca;               /* basicConstraints CA:TRUE (critical) or CA:FALSE */
  int pathlen;          /* < 0: no pathlen */
  const char *ku;       /* keyUsage value; NULL: none */
  const char *eku;      /* extendedKeyUsage value; NULL: none */
  const EVP_MD *md;     /* signature digest */
} cert_opts;

/* Keys: each generated once, then reused. */
enum { K_LEAF, K_ROOT, K_INTER, K_OTHER, K_EC, K_RSA1024, K_K256, K_N };
static const struct {
  const char *type;
  size_t bits;       /* RSA */
  const char *curve; /* EC */
} key_specs[K_N] = {
    [K_LEAF] = {"RSA", 2048, NULL},    [K_ROOT] = {"RSA", 2048, NULL}, [K_INTER] = {"RSA", 2048, NULL},
    [K_OTHER] = {"RSA", 2048, NULL},   [K_EC] = {"EC", 0, "P-256"},    [K_RSA1024] = {"RSA", 1024, NULL},
    [K_K256] = {"EC", 0, "secp256k1"},
};

/* CA certificates. The expired and SHA-1 intermediates reuse the intermediate's key. */
enum { C_ROOT, C_INTER, C_OTHER, C_XINTER, C_SINTER, C_N };
static const struct {
  const char *file; /* NULL: not written on its own */
  const char *cn;
  int issuer; /* -1: self-signed */
  int key;
  int nb_days, na_days;
  int pathlen;
  int sha1;
} ca_specs[C_N] = {
    [C_ROOT] = {"root.pem", "certsteward Test Root", -1, K_ROOT, -1, 3650, -1, 0},
    [C_INTER] = {"inter.pem", "certsteward Test Intermediate", C_ROOT, K_INTER, -1, 1825, 0, 0},
    [C_OTHER] = {"other-root.pem", "certsteward Other Root", -1, K_OTHER, -1, 3650, -1, 0},
    [C_XINTER] = {NULL, "certsteward Expired Intermediate", C_ROOT, K_INTER, -800, -1, 0, 0},
    [C_SINTER] = {NULL, "certsteward SHA1 Intermediate", C_ROOT, K_INTER, -1, 1825, 0, 1},
};

/* Leaf variants. Zero fields take the good leaf's value; "" omits the CN or SAN. */
enum { OUT_PEM, OUT_CERT, OUT_PFX }; /* bundle leaf+key+chain, cert-only PEM, AES PFX */
enum { KF_PKCS8, KF_PKCS8_ENC, KF_TRAD, KF_NONE };
typedef struct {
  const char *file;
  int out;
  int keyfmt;
  int key;              /* K_LEAF by default */
  int issuer;           /* C_INTER by default (0 = C_ROOT is never a leaf issuer) */
  int no_chain;         /* do not include the issuer */
  const char *key_file; /* the key in this file (PKCS#8 PEM), file the leaf + chain without it */
  const char *cn, *org, *ou, *san, *ku, *eku;
  int nb_days, na_days; /* both 0: -1 .. 365 */
  int ca;
  const EVP_MD *(*md)(void); /* NULL: SHA-256 */
} leaf_spec;

#define OTHER "other.example.test"
static const leaf_spec leaf_specs[] = {
    {.file = "good-ec.pem", .key = K_EC, .keyfmt = KF_TRAD},
    /* a certificate and its key as two files, the key not the one in service */
    {.file = "pair-ec.crt", .key = K_EC, .key_file = "pair-ec.key"},
    {.file = "good-wildcard.pfx", .out = OUT_PFX, .cn = "*.example.test", .san = "DNS:*.example.test"},
    {.file = "good-later-san.pem", .san = "DNS:" OTHER ",DNS:" HOST},
    {.file = "bad-nosan.pem", .san = ""},
    {.file = "bad-wronghost.pem", .cn = OTHER, .san = "DNS:" OTHER},
    {.file = "bad-cn.pem", .cn = OTHER},
    {.file = "bad-expired.pem", .nb_days = -400, .na_days = -1},
    {.file = "bad-notyet.pem", .nb_days = 2, .na_days = 400},
    {.file = "bad-shortlived.pem", .nb_days = -1, .na_days = 3},
    {.file = "bad-untrusted.pem", .issuer = C_OTHER, .no_chain = 1},
    {.file = "bad-inter-expired.pem", .issuer = C_XINTER},
    {.file = "bad-ca.pem", .ca = 1, .ku = "critical,digitalSignature,keyEncipherment,keyCertSign"},
    {.file = "bad-eku.pem", .eku = "clientAuth"},
    {.file = "bad-ku.pem", .ku = "critical,nonRepudiation"},
    {.file = "bad-ku-rsa.pem", .ku = "critical,digitalSignature"},
    {.file = "bad-rsa1024.pem", .key = K_RSA1024},
    {.file = "bad-ec-k256.pem", .key = K_K256},
    {.file = "bad-sha1.pem", .md = EVP_sha1},
    {.file = "bad-md5.pem", .md = EVP_md5},
    {.file = "bad-inter-sha1.pem", .issuer = C_SINTER},
    /* Certificates "in service": issued 335 days ago like a real one about to be renewed. */
    {.file = "current-ok.pem", .out = OUT_CERT, .nb_days = -335, .na_days = 30},
    {.file = "current-later.pem", .out = OUT_CERT, .nb_days = -335, .na_days = 800},
    {.file = "current-more-names.pem",
     .out = OUT_CERT,
     .nb_days = -335,
     .na_days = 30,
     .san = "DNS:" HOST ",DNS:extra.example.test"},
    {.file = "unicode.pem", .org = "Cert\xC3\xA9 \"quoted\" \\ back", .ou = "a\x1b[31mred\x07"},
};

static const char *g_outdir;
static time_t g_now;
static int g_count;

#if defined(__GNUC__)
static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
/* Prints "cs-testpki: <message>" and the OpenSSL error queue to stderr. */
static void fail(const char *fmt, ...) {
  va_list ap;
  fputs("cs-testpki: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  ERR_print_errors_fp(stderr);
}

/* Writes len bytes to OUTDIR/name. */
static int write_file(const char *name, const void *data, size_t len) {
  char path[4096];
  FILE *f = NULL;
  int ok = 0;
  int n = snprintf(path, sizeof path, "%s/%s", g_outdir, name);

  if (n < 0 || (size_t)n >= sizeof path) {
    fail("output path too long: %s/%s", g_outdir, name);
    goto out;
  }
  if ((f = fopen(path, "wb")) == NULL) {
    fail("cannot create %s: %s", path, strerror(errno));
    goto out;
  }
  if (len > 0 && fwrite(data, 1, len, f) != len) {
    fail("cannot write %s: %s", path, strerror(errno));
    goto out;
  }
  n = fclose(f);
  f = NULL;
  if (n != 0) {
    fail("cannot write %s: %s", path, strerror(errno));
    goto out;
  }
  g_count++;
  ok = 1;
out:
  if (f != NULL)
    fclose(f);
  return ok;
}

/* Writes the contents of a memory BIO to OUTDIR/name. */
static int write_bio(const char *name, BIO *mem) {
  char *data = NULL;
  long len = BIO_get_mem_data(mem, &data);

  if (len < 0) {
    fail("%s: no data", name);
    return 0;
  }
  return write_file(name, data, (size_t)len);
}

static EVP_PKEY *make_key(int i) {
  EVP_PKEY *k;

  if (key_specs[i].curve != NULL)
    k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", key_specs[i].curve);
  else
    k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", key_specs[i].bits);
  if (k == NULL)
    fail("cannot generate %s key %s (%lu bits)", key_specs[i].type,
         key_specs[i].curve != NULL ? key_specs[i].curve : "", (unsigned long)key_specs[i].bits);
  return k;
}

static int add_name(X509_NAME *name, int nid, const char *value) {
  if (value == NULL)
    return 1;
  if (!X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, (const unsigned char *)value, -1, -1, 0)) {
    fail("cannot add subject entry %s=%s", OBJ_nid2sn(nid), value);
    return 0;
  }
  return 1;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
  X509_EXTENSION *ext;
  int ok;

  if (value == NULL)
    return 1;
  if ((ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL) {
    fail("cannot make extension %s = %s", OBJ_nid2sn(nid), value);
    return 0;
  }
  ok = X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  if (!ok)
    fail("cannot add extension %s", OBJ_nid2sn(nid));
  return ok;
}

/* Makes and signs one certificate; NULL (message printed) on failure. */
static X509 *make_cert(const cert_opts *o) {
  X509 *x = NULL, *ret = NULL;
  X509 *issuer;
  EVP_PKEY *ikey;
  BIGNUM *bn = NULL;
  X509_NAME *name;
  X509V3_CTX ctx;
  char bc[64];
  const char *label = o->cn != NULL ? o->cn : "(no CN)";

  if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) || (bn = BN_new()) == NULL ||
      !BN_rand(bn, 63, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) ||
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL ||
      X509_time_adj_ex(X509_getm_notBefore(x), 0, o->not_before, &g_now) == NULL ||
      X509_time_adj_ex(X509_getm_notAfter(x), 0, o->not_after, &g_now) == NULL || !X509_set_pubkey(x, o->key)) {
    fail("cannot set up certificate %s", label);
    goto out;
  }
  name = X509_get_subject_name(x);
  if (!add_name(name, NID_organizationName, o->org) || !add_name(name, NID_organizationalUnitName, o->ou) ||
      !add_name(name, NID_commonName, o->cn))
    goto out;
  issuer = o->issuer != NULL ? o->issuer : x;
  ikey = o->issuer != NULL ? o->issuer_key : o->key;
  if (!X509_set_issuer_name(x, X509_get_subject_name(issuer))) {
    fail("cannot set issuer of %s", label);
    goto out;
  }
  X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
  if (o->ca && o->pathlen >= 0)
    snprintf(bc, sizeof bc, "critical,CA:TRUE,pathlen:%d", o->pathlen);
  else
    snprintf(bc, sizeof bc, "critical,CA:%s", o->ca ? "TRUE" : "FALSE");
  /* The subject key identifier goes first: a self-signed certificate's AKI copies it. */
  if (!add_ext(x, &ctx, NID_basic_constraints, bc) || !add_ext(x, &ctx, NID_key_usage, o->ku) ||
      !add_ext(x, &ctx, NID_ext_key_usage, o->eku) || !add_ext(x, &ctx, NID_subject_alt_name, o->san) ||
      !add_ext(x, &ctx, NID_subject_key_identifier, "hash") ||
      !add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always"))
    goto out;
  if (X509_sign(x, ikey, o->md) <= 0) {
    fail("cannot sign certificate %s with %s", label, EVP_MD_get0_name(o->md));
    goto out;
  }
  ret = x;
  x = NULL;
out:
  X509_free(x);
  BN_free(bn);
  return ret;
}

/* PEM: leaf, then the key in format kf (unless KF_NONE), then chain (if any). */
static int write_pem(const char *file, X509 *leaf, EVP_PKEY *key, int kf, X509 *chain) {
  BIO *b = NULL;
  int ok = 0, r = 1;

  if ((b = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_X509(b, leaf))
    goto bad;
  if (kf == KF_PKCS8)
    r = PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
  else if (kf == KF_PKCS8_ENC)
    r = PEM_write_bio_PKCS8PrivateKey(b, key, EVP_aes_256_cbc(), PASS, (int)strlen(PASS), NULL, NULL);
  else if (kf == KF_TRAD)
    r = PEM_write_bio_PrivateKey_traditional(b, key, NULL, NULL, 0, NULL, NULL);
  if (!r || (chain != NULL && !PEM_write_bio_X509(b, chain)))
    goto bad;
  ok = write_bio(file, b);
  goto out;
bad:
  fail("cannot encode %s", file);
out:
  BIO_free(b);
  return ok;
}

/* The key alone, PKCS#8 PEM. */
static int write_pem_key(const char *file, EVP_PKEY *key) {
  BIO *b = BIO_new(BIO_s_mem());
  int ok = b != NULL && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) && write_bio(file, b);
  if (!ok)
    fail("cannot encode %s", file);
  BIO_free(b);
  return ok;
}

/* PKCS#12 of leaf + key + chain, AES-256-CBC/PBKDF2 with a SHA-256 MAC, or the legacy
 * 3DES (key) / RC2-40 (certs) with a SHA-1 MAC. Also writes the first half as half_file. */
static int write_pfx(const char *file, const char *half_file, X509 *leaf, EVP_PKEY *key, X509 *chain, int legacy) {
  STACK_OF(X509) *ca = NULL;
  PKCS12 *p12 = NULL;
  BIO *b = NULL;
  char *data = NULL;
  long len;
  int ok = 0;
  int nid_key = legacy ? NID_pbe_WithSHA1And3_Key_TripleDES_CBC : NID_aes_256_cbc;
  int nid_cert = legacy ? NID_pbe_WithSHA1And40BitRC2_CBC : NID_aes_256_cbc;

  if ((ca = sk_X509_new_null()) == NULL || !sk_X509_push(ca, chain) ||
      (p12 = PKCS12_create_ex(PASS, FRIENDLY, key, leaf, ca, nid_key, nid_cert, PKCS12_DEFAULT_ITER, -1, 0, NULL,
                              NULL)) == NULL ||
      !PKCS12_set_mac(p12, PASS, -1, NULL, 0, PKCS12_DEFAULT_ITER, legacy ? EVP_sha1() : EVP_sha256()) ||
      (b = BIO_new(BIO_s_mem())) == NULL || !i2d_PKCS12_bio(b, p12) || (len = BIO_get_mem_data(b, &data)) <= 0) {
    fail("cannot make PKCS#12 %s%s", file, legacy ? " (is the legacy provider installed?)" : "");
    goto out;
  }
  ok = write_file(file, data, (size_t)len) && (half_file == NULL || write_file(half_file, data, (size_t)len / 2));
out:
  BIO_free(b);
  PKCS12_free(p12);
  sk_X509_free(ca);
  return ok;
}

/* Degenerate PKCS#7 signed-data (certificates only) with leaf + chain, in PEM and DER. */
static int write_p7b(const char *pem_file, const char *der_file, X509 *leaf, X509 *chain) {
  PKCS7 *p7 = NULL;
  BIO *pem = NULL, *der = NULL;
  int ok = 0;

  if ((p7 = PKCS7_new()) == NULL || !PKCS7_set_type(p7, NID_pkcs7_signed) || !PKCS7_content_new(p7, NID_pkcs7_data) ||
      !PKCS7_set_detached(p7, 1) || !PKCS7_add_certificate(p7, leaf) || !PKCS7_add_certificate(p7, chain) ||
      (pem = BIO_new(BIO_s_mem())) == NULL || (der = BIO_new(BIO_s_mem())) == NULL || !PEM_write_bio_PKCS7(pem, p7) ||
      !i2d_PKCS7_bio(der, p7)) {
    fail("cannot make PKCS#7 %s", pem_file);
    goto out;
  }
  ok = write_bio(pem_file, pem) && write_bio(der_file, der);
out:
  BIO_free(pem);
  BIO_free(der);
  PKCS7_free(p7);
  return ok;
}

/* The good leaf's options: RSA leaf key, signed by the intermediate, -1 .. +365 days. */
static cert_opts good_opts(EVP_PKEY *const *keys, X509 *const *cas) {
  cert_opts o = {HOST,         ORG,  NULL,      "DNS:" HOST, NULL, NULL,
                 NULL,         -DAY, 365 * DAY, 0,           -1,   "critical,digitalSignature,keyEncipherment",
                 "serverAuth", NULL};
  o.issuer = cas[C_INTER];
  o.issuer_key = keys[K_INTER];
  o.key = keys[K_LEAF];
  o.md = EVP_sha256();
  return o;
}

/* The good leaf in every container, leaf.key, bad-keymismatch, big.pem, truncated.pfx. */
static int write_good(EVP_PKEY *const *keys, X509 *const *cas) {
  cert_opts o = good_opts(keys, cas);
  X509 *leaf = NULL, *inter = cas[C_INTER];
  EVP_PKEY *key = keys[K_LEAF];
  BIO *b = NULL;
  char *data = NULL, *big = NULL;
  long len = 0, i, n;
  int ok = 0;

  if ((leaf = make_cert(&o)) == NULL || !write_pfx("good-aes.pfx", "truncated.pfx", leaf, key, inter, 0) ||
      !write_pfx("good-legacy.pfx", NULL, leaf, key, inter, 1) ||
      !write_pem("good-bundle.pem", leaf, key, KF_PKCS8, inter) ||
      !write_pem("good-enc.pem", leaf, key, KF_PKCS8_ENC, inter) ||
      !write_pem("good-trad-rsa.pem", leaf, key, KF_TRAD, inter) ||
      !write_p7b("good-chain.p7b", "good-chain-der.p7b", leaf, inter) ||
      !write_pem("bad-keymismatch.pem", leaf, keys[K_OTHER], KF_PKCS8, inter))
    goto out;
  if ((b = BIO_new(BIO_s_mem())) == NULL || !i2d_X509_bio(b, leaf) || !write_bio("good-leaf.der", b) ||
      BIO_reset(b) != 1 || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) || !write_bio("leaf.key", b) ||
      BIO_reset(b) != 1) {
    fail("cannot write good-leaf.der / leaf.key");
    goto out;
  }
  /* big.pem: good-bundle.pem, then 64-byte "#" comment lines up to 1 MiB + 1 KiB. */
  if (!PEM_write_bio_X509(b, leaf) || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) ||
      !PEM_write_bio_X509(b, inter) || (len = BIO_get_mem_data(b, &data)) <= 0 || len >= BIG_SIZE ||
      (big = malloc((size_t)BIG_SIZE)) == NULL) {
    fail("cannot make big.pem");
    goto out;
  }
  memcpy(big, data, (size_t)len);
  for (i = len; i < BIG_SIZE; i += n) {
    n = BIG_SIZE - i < 64 ? BIG_SIZE - i : 64;
    memset(big + i, '#', (size_t)n - 1);
    big[i + n - 1] = '\n';
  }
  ok = write_file("big.pem", big, (size_t)BIG_SIZE);
out:
  free(big);
  BIO_free(b);
  X509_free(leaf);
  return ok;
}

/* The variants in leaf_specs. */
static int write_variants(EVP_PKEY *const *keys, X509 *const *cas) {
  size_t i;
  int ok = 1;

  for (i = 0; ok && i < sizeof leaf_specs / sizeof leaf_specs[0]; i++) {
    const leaf_spec *s = &leaf_specs[i];
    cert_opts o = good_opts(keys, cas);
    int issuer = s->issuer != 0 ? s->issuer : C_INTER;
    X509 *leaf;

    o.key = keys[s->key];
    o.issuer = cas[issuer];
    o.issuer_key = keys[ca_specs[issuer].key];
    if (s->cn != NULL)
      o.cn = s->cn[0] != '\0' ? s->cn : NULL;
    if (s->org != NULL)
      o.org = s->org;
    o.ou = s->ou;
    if (s->san != NULL)
      o.san = s->san[0] != '\0' ? s->san : NULL;
    if (EVP_PKEY_get_base_id(o.key) == EVP_PKEY_EC)
      o.ku = "critical,digitalSignature";
    if (s->ku != NULL)
      o.ku = s->ku;
    if (s->eku != NULL)
      o.eku = s->eku;
    if (s->nb_days != 0 || s->na_days != 0) {
      o.not_before = s->nb_days * DAY;
      o.not_after = s->na_days * DAY;
    }
    o.ca = s->ca;
    if (s->md != NULL)
      o.md = s->md();
    if ((leaf = make_cert(&o)) == NULL)
      return 0;
    if (s->out == OUT_PFX)
      ok = write_pfx(s->file, NULL, leaf, o.key, o.issuer, 0);
    else if (s->key_file != NULL)
      ok = write_pem(s->file, leaf, NULL, KF_NONE, o.issuer) && write_pem_key(s->key_file, o.key);
    else
      ok = write_pem(s->file, leaf, o.key, s->out == OUT_CERT ? KF_NONE : s->keyfmt,
                     s->no_chain || s->out == OUT_CERT ? NULL : o.issuer);
    X509_free(leaf);
  }
  return ok;
}

/* A password file is for root's eyes only: certsteward run refuses one that others can
 * read (event 1007). Windows: the folder's ACL applies. */
static int private_file(const char *name) {
#ifndef _WIN32
  char path[4096];
  if (snprintf(path, sizeof path, "%s/%s", g_outdir, name) >= (int)sizeof path || chmod(path, 0600) != 0) {
    fail("cannot make %s/%s private: %s", g_outdir, name, strerror(errno));
    return 0;
  }
#else
  (void)name;
#endif
  return 1;
}

/* pass.txt, pass-bom-crlf.txt (both 0600), empty.pfx, garbage.bin. */
static int write_misc(void) {
  static const char bom_pass[] = "\xEF\xBB\xBF" PASS "\r\n";
  unsigned char garbage[4096];
  unsigned long s = 0x2545F491UL; /* xorshift32, fixed seed: same bytes on every run */
  size_t i;

  for (i = 0; i < sizeof garbage; i++) {
    s ^= (s << 13) & 0xFFFFFFFFUL;
    s ^= s >> 17;
    s ^= (s << 5) & 0xFFFFFFFFUL;
    garbage[i] = (unsigned char)(s >> 24);
  }
  return write_file("pass.txt", PASS "\n", strlen(PASS "\n")) && private_file("pass.txt") &&
         write_file("pass-bom-crlf.txt", bom_pass, sizeof bom_pass - 1) && private_file("pass-bom-crlf.txt") &&
         write_file("empty.pfx", "", 0) && write_file("garbage.bin", garbage, sizeof garbage);
}

int main(int argc, char **argv) {
  OSSL_PROVIDER *prov_default = NULL, *prov_legacy = NULL;
  EVP_PKEY *keys[K_N] = {NULL};
  X509 *cas[C_N] = {NULL};
  int rc = 1, i, r;

  if (argc != 2 || argv[1][0] == '\0') {
    fputs("usage: cs-testpki OUTDIR\n", stderr);
    goto out;
  }
  g_outdir = argv[1];
  g_now = time(NULL);
#ifdef _WIN32
  r = _mkdir(g_outdir);
#else
  r = mkdir(g_outdir, 0755);
#endif
  if (r != 0 && errno != EEXIST) {
    fail("cannot create %s: %s", g_outdir, strerror(errno));
    goto out;
  }
  /* Loading "legacy" (RC2 for good-legacy.pfx) stops the implicit default, so load both. */
  if ((prov_default = OSSL_PROVIDER_load(NULL, "default")) == NULL ||
      (prov_legacy = OSSL_PROVIDER_load(NULL, "legacy")) == NULL) {
    fail("cannot load the OpenSSL %s provider", prov_default == NULL ? "default" : "legacy");
    goto out;
  }
  for (i = 0; i < K_N; i++)
    if ((keys[i] = make_key(i)) == NULL)
      goto out;
  for (i = 0; i < C_N; i++) {
    int is = ca_specs[i].issuer;
    cert_opts o = {
        ca_specs[i].cn, ORG, NULL, NULL, NULL, NULL, NULL, 0, 0, 1, ca_specs[i].pathlen, "critical,keyCertSign,cRLSign",
        NULL,           NULL};
    o.issuer = is >= 0 ? cas[is] : NULL;
    o.issuer_key = is >= 0 ? keys[ca_specs[is].key] : NULL;
    o.key = keys[ca_specs[i].key];
    o.not_before = ca_specs[i].nb_days * DAY;
    o.not_after = ca_specs[i].na_days * DAY;
    o.md = ca_specs[i].sha1 ? EVP_sha1() : EVP_sha256();
    if ((cas[i] = make_cert(&o)) == NULL ||
        (ca_specs[i].file != NULL && !write_pem(ca_specs[i].file, cas[i], NULL, KF_NONE, NULL)))
      goto out;
  }
  /* trust anchors for key-less files that carry no intermediate: root + intermediate */
  if (!write_pem("ca-chain.pem", cas[C_ROOT], NULL, KF_NONE, cas[C_INTER]) || !write_good(keys, cas) ||
      !write_variants(keys, cas) || !write_misc())
    goto out;
  printf("cs-testpki: wrote %d files to %s\n", g_count, g_outdir);
  rc = 0;
out:
  for (i = 0; i < C_N; i++)
    X509_free(cas[i]);
  for (i = 0; i < K_N; i++)
    EVP_PKEY_free(keys[i]);
  if (prov_legacy != NULL)
    OSSL_PROVIDER_unload(prov_legacy);
  if (prov_default != NULL)
    OSSL_PROVIDER_unload(prov_default);
  return rc;
}
