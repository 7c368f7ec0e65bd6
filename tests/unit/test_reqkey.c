/* The request keys (platform.h; common/posix/reqkey.c, common/win/reqkey.c) and the pure
 * conversions of CNG's blobs and signatures (common/cngblob.c), the latter on both builds
 * with blobs made from OpenSSL keys.
 * Measured under Wine 8 (the Windows build's tests): ncrypt creates, finalizes, exports
 * and signs with RSA keys, in memory only; ECDSA P-256 keys are refused
 * (NTE_NOT_SUPPORTED); NCryptOpenKey is not supported for any name, so nothing made is
 * opened or deleted again; a second key of the same name is created where Windows answers
 * NTE_EXISTS; the export policy and the security descriptor are kept as properties of
 * the handle, read back as set, and enforced nowhere. What the tests claim there is said
 * at each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#ifdef _WIN32
#include <windows.h>
#include <wchar.h>
#include <wincrypt.h>
#include <bcrypt.h>
#include <ncrypt.h>
#include <sddl.h>
#include "win/keyacl.h"
#include "win/reqkey.h"
#else
#include <sys/stat.h>
#include <unistd.h>
#endif

#include "cngblob.h"
#include "cs_test.h"
#include "csr.h"
#include "csr_fx.h"
#include "platform.h"
#include "text.h"

/* ---- CNG's blobs and signatures ------------------------------------------------------ */

static void put_le32(unsigned char *p, unsigned long v) {
  p[0] = (unsigned char)v;
  p[1] = (unsigned char)(v >> 8);
  p[2] = (unsigned char)(v >> 16);
  p[3] = (unsigned char)(v >> 24);
}

/* A BCRYPT_RSAPUBLIC_BLOB of key, laid out as Microsoft documents it (new, free()). */
static unsigned char *rsa_blob(EVP_PKEY *key, size_t *len) {
  BIGNUM *n = NULL, *e = NULL;
  unsigned char *b;
  int nb, eb;
  CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) == 1);
  CHECK(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) == 1);
  nb = BN_num_bytes(n);
  eb = BN_num_bytes(e);
  *len = 24 + (size_t)eb + (size_t)nb;
  b = calloc(1, *len);
  put_le32(b, 0x31415352UL);
  put_le32(b + 4, (unsigned long)BN_num_bits(n));
  put_le32(b + 8, (unsigned long)eb);
  put_le32(b + 12, (unsigned long)nb);
  BN_bn2bin(e, b + 24);
  BN_bn2bin(n, b + 24 + eb);
  BN_free(n);
  BN_free(e);
  return b;
}

CS_TEST(rsa_public_blob_becomes_the_same_key) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), *pub = NULL;
  size_t len;
  unsigned char *b = rsa_blob(key, &len);
  cs_err_t err;
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_OK);
  CHECK_INT(EVP_PKEY_eq(pub, key), ==, 1);
  EVP_PKEY_free(pub);
  /* lengths that do not add up, a private blob's magic, primes announced */
  CHECK_INT(cs_cng_blob_to_pkey(b, len - 1, &pub, &err), ==, CS_EFORMAT);
  CHECK(pub == NULL);
  put_le32(b + 16, 128);
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_EFORMAT);
  put_le32(b + 16, 0);
  put_le32(b + 4, 2047);
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_EFORMAT);
  put_le32(b + 4, 2048);
  put_le32(b, 0x32415352UL); /* BCRYPT_RSAPRIVATE_MAGIC */
  CHECK_INT(cs_cng_blob_to_pkey(b, len, &pub, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "0x32415352");
  CHECK_INT(cs_cng_blob_to_pkey(b, 3, &pub, &err), ==, CS_EFORMAT);
  free(b);
  EVP_PKEY_free(key);
}

CS_TEST(p256_public_blob_becomes_the_same_key) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *pub = NULL;
  unsigned char point[65], b[8 + 64];
  size_t n = 0;
  cs_err_t err;
  CHECK(EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &n) == 1);
  CHECK_INT(n, ==, 65);
  CHECK_INT(point[0], ==, 4);
  put_le32(b, 0x31534345UL);
  put_le32(b + 4, 32);
  memcpy(b + 8, point + 1, 64);
  CHECK_INT(cs_cng_blob_to_pkey(b, sizeof b, &pub, &err), ==, CS_OK);
  CHECK_INT(EVP_PKEY_eq(pub, key), ==, 1);
  EVP_PKEY_free(pub);
  pub = NULL;
  b[8 + 63] ^= 0x01; /* off the curve */
  CHECK_INT(cs_cng_blob_to_pkey(b, sizeof b, &pub, &err), ==, CS_EFORMAT);
  CHECK(pub == NULL);
  b[8 + 63] ^= 0x01;
  put_le32(b + 4, 48); /* a P-384 length in a P-256 blob */
  CHECK_INT(cs_cng_blob_to_pkey(b, sizeof b, &pub, &err), ==, CS_EFORMAT);
  EVP_PKEY_free(key);
}

/* An OpenSSL ECDSA signature taken apart into CNG's r || s, then put together again by
 * cs_cng_ecdsa_der: the result verifies, for 64 signatures (some r or s with high or
 * zero leading bytes among them). */
CS_TEST(ecdsa_r_s_becomes_der_that_verifies) {
  EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  const char msg[] = "CertificationRequestInfo";
  int i;
  cs_err_t err;
  for (i = 0; i < 64; i++) {
    unsigned char sig[80], rs[64], *der = NULL;
    const unsigned char *p = sig;
    size_t sig_len = sizeof sig, der_len = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    ECDSA_SIG *s;
    CHECK(EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1);
    CHECK(EVP_DigestSign(ctx, sig, &sig_len, (const unsigned char *)msg, sizeof msg) == 1);
    EVP_MD_CTX_free(ctx);
    s = d2i_ECDSA_SIG(NULL, &p, (long)sig_len);
    CHECK(s != NULL);
    BN_bn2binpad(ECDSA_SIG_get0_r(s), rs, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(s), rs + 32, 32);
    ECDSA_SIG_free(s);
    CHECK_INT(cs_cng_ecdsa_der(rs, sizeof rs, &der, &der_len, &err), ==, CS_OK);
    ctx = EVP_MD_CTX_new();
    CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1);
    CHECK_INT(EVP_DigestVerify(ctx, der, der_len, (const unsigned char *)msg, sizeof msg), ==, 1);
    EVP_MD_CTX_free(ctx);
    free(der);
  }
  {
    unsigned char rs[64] = {0}, *der = NULL;
    size_t der_len = 0;
    CHECK_INT(cs_cng_ecdsa_der(rs, 63, &der, &der_len, &err), ==, CS_EFORMAT);
    CHECK_INT(cs_cng_ecdsa_der(rs, 64, &der, &der_len, &err), ==, CS_EFORMAT); /* r = s = 0 */
    CHECK_INT(cs_cng_ecdsa_der(rs, 0, &der, &der_len, &err), ==, CS_EFORMAT);
    CHECK(der == NULL);
  }
  EVP_PKEY_free(key);
}

/* ---- POSIX: the key file ------------------------------------------------------------- */
#ifndef _WIN32

static const char *state(const char *name) { return cs_test_join(csr_cfg()->store.state_dir, name); }

/* 0600, owned by this user (root), a plain file in request/ of mode 0700, holding the
 * key whose public half the handle gives; an existing request/ of a wider mode is
 * tightened. */
CS_TEST(key_file_is_private_in_a_private_folder) {
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = csr_setup();
  struct stat st;
  cs_err_t err;
  EVP_PKEY *read = NULL;
  FILE *f;
  CHECK_INT(cs_test_mkdir(cfg->store.state_dir), ==, 0);
  CHECK_INT(mkdir(state("request"), 0755), ==, 0);
  CHECK_INT(chmod(state("request"), 0755), ==, 0);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_EC_P256, &k, &err), ==, CS_OK);
  CHECK_STR(cs_plat_reqkey_where(k), state("request/k1.key"));
  CHECK_INT(lstat(state("request/k1.key"), &st), ==, 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK_INT(st.st_mode & 07777, ==, 0600);
  CHECK_INT(st.st_uid, ==, geteuid());
  CHECK_INT(st.st_nlink, ==, 1);
  CHECK_INT(lstat(state("request"), &st), ==, 0);
  CHECK_INT(st.st_mode & 07777, ==, 0700);
  CHECK_INT(cs_test_count_entries(state("request")), ==, 1); /* no temp file left */
  f = fopen(state("request/k1.key"), "r");
  CHECK(f != NULL);
  if (f != NULL) {
    read = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
  }
  CHECK(read != NULL && k != NULL && EVP_PKEY_eq(read, cs_plat_reqkey_public(k)) == 1);
  EVP_PKEY_free(read);
  cs_plat_reqkey_free(k);
  csr_teardown();
}

/* A second make of the same name: CS_EEXIST, the first key byte for byte as it was. */
CS_TEST(existing_key_is_never_overwritten) {
  cs_plat_reqkey_t *k = NULL, *k2 = NULL;
  const cs_config_t *cfg = csr_setup();
  cs_err_t err;
  char *before, *after;
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  before = cs_test_read_text(state("request/k1.key"));
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_EC_P256, &k2, &err), ==, CS_EEXIST);
  CHECK(k2 == NULL);
  CHECK_CONTAINS(err.text, "never overwritten");
  after = cs_test_read_text(state("request/k1.key"));
  CHECK(before != NULL && after != NULL && strcmp(before, after) == 0);
  CHECK_INT(cs_test_count_entries(state("request")), ==, 1);
  free(before);
  free(after);
  cs_plat_reqkey_free(k);
  csr_teardown();
}

/* A link at the key's path (to a file, or dangling) is not written through, nor is its
 * target made or changed. */
CS_TEST(link_at_key_path_is_not_followed) {
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = csr_setup();
  cs_err_t err;
  CHECK_INT(cs_plat_mkdirs(state("request"), 0700, &err), ==, CS_OK);
  cs_test_put_str(cs_test_join(csr_dir(), "target"), "not a key");
  CHECK_INT(symlink(cs_test_join(csr_dir(), "target"), state("request/k1.key")), ==, 0);
  CHECK_INT(symlink(cs_test_join(csr_dir(), "made-through-link"), state("request/k2.key")), ==, 0);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(cs_plat_reqkey_make(cfg, "k2", CS_KEYKIND_RSA2048, &k, &err), ==, CS_ENOTREG);
  CHECK(k == NULL);
  cs_test_file_is_str(cs_test_join(csr_dir(), "target"), "not a key");
  CHECK(!cs_plat_exists(cs_test_join(csr_dir(), "made-through-link")));
  /* open refuses it too */
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k, &err), ==, CS_ENOTREG);
  CHECK_INT(cs_test_count_entries(state("request")), ==, 2);
  csr_teardown();
}

/* request/ itself a link to another folder: nothing made there. */
CS_TEST(link_at_request_folder_is_not_followed) {
  cs_plat_reqkey_t *k = NULL;
  const cs_config_t *cfg = csr_setup();
  cs_err_t err;
  CHECK_INT(cs_test_mkdir(cfg->store.state_dir), ==, 0);
  CHECK_INT(cs_test_mkdir(cs_test_join(csr_dir(), "elsewhere")), ==, 0);
  CHECK_INT(symlink(cs_test_join(csr_dir(), "elsewhere"), state("request")), ==, 0);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_ENOTREG);
  CHECK(k == NULL);
  CHECK_CONTAINS(err.text, "symbolic link");
  CHECK_INT(cs_test_count_entries(cs_test_join(csr_dir(), "elsewhere")), ==, 0);
  CHECK_INT(cs_plat_reqkey_delete(cfg, "k1", &err), ==, CS_ENOTREG);
  csr_teardown();
}

/* Opened again: the same key, which signs what its public half verifies; a key file
 * others can read is refused; delete removes it and the key is then gone. */
CS_TEST(key_opens_signs_and_deletes) {
  cs_plat_reqkey_t *k = NULL, *k2 = NULL;
  const cs_config_t *cfg = csr_setup();
  cs_err_t err;
  unsigned char *sig = NULL;
  size_t sig_len = 0;
  EVP_MD_CTX *ctx;
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_ENOENT);
  CHECK_INT(cs_plat_reqkey_make(cfg, "k1", CS_KEYKIND_RSA3072, &k, &err), ==, CS_OK);
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_OK);
  CHECK(k != NULL && k2 != NULL && EVP_PKEY_eq(cs_plat_reqkey_public(k), cs_plat_reqkey_public(k2)) == 1);
  CHECK_INT(cs_plat_reqkey_kind(k2), ==, CS_KEYKIND_RSA3072);
  CHECK_INT(cs_plat_reqkey_sign(k2, "data", 4, &sig, &sig_len, &err), ==, CS_OK);
  CHECK_INT(sig_len, ==, 384);
  ctx = EVP_MD_CTX_new();
  CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, cs_plat_reqkey_public(k)) == 1);
  CHECK_INT(EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)"data", 4), ==, 1);
  EVP_MD_CTX_free(ctx);
  free(sig);
  cs_plat_reqkey_free(k2);
  k2 = NULL;
  CHECK_INT(chmod(state("request/k1.key"), 0640), ==, 0);
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_EACCES);
  CHECK_INT(cs_plat_reqkey_delete(cfg, "k1", &err), ==, CS_OK);
  CHECK(!cs_plat_exists(state("request/k1.key")));
  CHECK_INT(cs_plat_reqkey_open(cfg, "k1", &k2, &err), ==, CS_ENOENT);
  CHECK_INT(cs_plat_reqkey_delete(cfg, "k1", &err), ==, CS_OK); /* gone already */
  cs_plat_reqkey_free(k);
  csr_teardown();
}

#endif

/* ---- Windows: the CNG machine key ------------------------------------------------------ */
#ifdef _WIN32

#define BOARD_SID "S-1-5-80-1875588013-3631800679-2118433554-238102967-4227175876"

/* cngblob.c's layouts are the SDK's. */
CS_TEST(cng_blob_layout_is_the_sdks) {
  CHECK_INT(CS_CNG_RSAPUBLIC_MAGIC, ==, BCRYPT_RSAPUBLIC_MAGIC);
  CHECK_INT(CS_CNG_ECDSA_P256_PUBLIC_MAGIC, ==, BCRYPT_ECDSA_PUBLIC_P256_MAGIC);
  CHECK_INT(CS_CNG_RSA_HEADER, ==, sizeof(BCRYPT_RSAKEY_BLOB));
  CHECK_INT(CS_CNG_ECC_HEADER, ==, sizeof(BCRYPT_ECCKEY_BLOB));
}

/* Who gets READ: [connector] account, else the connector's service's virtual account. */
CS_TEST(key_account_is_the_connectors) {
  const cs_config_t *cfg = csr_setup();
  PSID sid = NULL;
  char text[192];
  cs_err_t err;
  CHECK_INT(cs__win_reqkey_account(cfg, &sid, &err), ==, CS_OK);
  CHECK_STR(cs__win_sid_text(sid, text, sizeof text), BOARD_SID);
  free(sid);
  free(csr_cfg()->connector.account);
  csr_cfg()->connector.account = NULL;
  free(csr_cfg()->connector.service);
  csr_cfg()->connector.service = cs_strdup("BOARD Connector Service");
  CHECK_INT(cs__win_reqkey_account(cfg, &sid, &err), ==, CS_OK);
  CHECK_STR(cs__win_sid_text(sid, text, sizeof text), BOARD_SID);
  free(sid);
  free(csr_cfg()->connector.service);
  csr_cfg()->connector.service = NULL;
  CHECK_INT(cs__win_reqkey_account(cfg, &sid, &err), ==, CS_OK);
  CHECK(sid == NULL);
  csr_teardown();
}

/* The descriptor a key is made with: protected, SYSTEM and Administrators full control,
 * the account READ (as keyacl.c reads a key's DACL), no one else anything. */
CS_TEST(key_descriptor_gives_admins_full_control_and_the_account_read) {
  PSID account = NULL, users = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD len = 0, rev = 0;
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  LPSTR sddl = NULL;
  cs_err_t err;
  CHECK_INT(cs__win_account_sid("NT SERVICE\\BOARD Connector Service", &account, &err), ==, CS_OK);
  CHECK_INT(cs__win_account_sid("S-1-5-32-545", &users, &err), ==, CS_OK);
  CHECK_INT(cs__win_reqkey_sd(account, &sd, &len, &err), ==, CS_OK);
  CHECK_INT(GetSecurityDescriptorLength(sd), ==, len);
  CHECK(GetSecurityDescriptorControl(sd, &control, &rev));
  CHECK(control & SE_DACL_PROTECTED);
  CHECK(control & SE_SELF_RELATIVE);
  CHECK(GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) && present && dacl != NULL);
  CHECK_INT(dacl != NULL ? dacl->AceCount : 0, ==, 3);
  CHECK_INT(cs__win_key_access(dacl, account), ==, CS_WIN_KEY_READS);
  CHECK_INT(cs__win_key_access(dacl, users), ==, CS_WIN_KEY_NONE);
  CHECK(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl,
                                                             NULL));
  CHECK_STR(sddl, "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;" BOARD_SID ")");
  LocalFree(sddl);
  LocalFree(sd);
  /* no account: SYSTEM and Administrators alone */
  CHECK_INT(cs__win_reqkey_sd(NULL, &sd, &len, &err), ==, CS_OK);
  CHECK(ConvertSecurityDescriptorToStringSecurityDescriptorA(sd, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl,
                                                             NULL));
  CHECK_STR(sddl, "D:P(A;;GA;;;SY)(A;;GA;;;BA)");
  LocalFree(sddl);
  LocalFree(sd);
  free(account);
  free(users);
}

/* The key is made with that descriptor and export policy 0 set before it is finalized:
 * read back from the key's handle (Wine keeps both on the handle, as set; only real
 * Windows holds them in the key store and enforces them), named certsteward-<name>. On
 * real Windows the private key does not export, opens again by name, a second make of
 * the name is CS_EEXIST and delete removes it (Wine opens no key: NTE_NOT_SUPPORTED,
 * which is no "gone", CS_ENOENT). */
CS_TEST(machine_key_made_with_its_rules_before_finalize) {
  const cs_config_t *cfg = csr_setup();
  cs_plat_reqkey_t *k = NULL, *k2 = NULL;
  unsigned char buf[4096];
  DWORD n = 0, policy = 99;
  LPSTR sddl = NULL;
  cs_err_t err;
  CHECK_INT(cs_plat_reqkey_make(cfg, "win-1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  if (k == NULL) {
    fprintf(stderr, "%s\n", err.text);
    csr_teardown();
    return;
  }
  CHECK_STR(cs_plat_reqkey_where(k), "certsteward-win-1");
  CHECK_INT(NCryptGetProperty(cs__win_reqkey_handle(k), NCRYPT_SECURITY_DESCR_PROPERTY, buf, sizeof buf, &n,
                              DACL_SECURITY_INFORMATION),
            ==, ERROR_SUCCESS);
  CHECK(ConvertSecurityDescriptorToStringSecurityDescriptorA(buf, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, &sddl,
                                                             NULL));
  CHECK_STR(sddl, "D:P(A;;GA;;;SY)(A;;GA;;;BA)(A;;GR;;;" BOARD_SID ")");
  LocalFree(sddl);
  CHECK_INT(
      NCryptGetProperty(cs__win_reqkey_handle(k), NCRYPT_EXPORT_POLICY_PROPERTY, (PBYTE)&policy, sizeof policy, &n, 0),
      ==, ERROR_SUCCESS);
  CHECK_INT(policy, ==, 0);
  if (csr_under_wine()) {
    CHECK_INT(cs_plat_reqkey_open(cfg, "win-1", &k2, &err), ==, CS_EIO);
    CHECK_INT(err.raw, ==, (long)NTE_NOT_SUPPORTED);
    CHECK_INT(cs_plat_reqkey_delete(cfg, "win-1", &err), ==, CS_EIO);
  } else {
    CHECK_INT(NCryptExportKey(cs__win_reqkey_handle(k), 0, BCRYPT_RSAPRIVATE_BLOB, NULL, buf, sizeof buf, &n, 0), !=,
              ERROR_SUCCESS);
    CHECK_INT(cs_plat_reqkey_make(cfg, "win-1", CS_KEYKIND_RSA2048, &k2, &err), ==, CS_EEXIST);
    CHECK_INT(cs_plat_reqkey_open(cfg, "win-1", &k2, &err), ==, CS_OK);
    CHECK(k2 != NULL && EVP_PKEY_eq(cs_plat_reqkey_public(k), cs_plat_reqkey_public(k2)) == 1);
    cs_plat_reqkey_free(k2);
    k2 = NULL;
    CHECK_INT(cs_plat_reqkey_delete(cfg, "win-1", &err), ==, CS_OK);
    CHECK_INT(cs_plat_reqkey_open(cfg, "win-1", &k2, &err), ==, CS_ENOENT);
    CHECK_INT(cs_plat_reqkey_delete(cfg, "win-1", &err), ==, CS_OK);
  }
  cs_plat_reqkey_free(k);
  csr_teardown();
}

/* The request's placeholder in LocalMachine\REQUEST (reqkey_place.c): a certificate with
 * the key's public half whose key link names the CNG machine key of the Software KSP,
 * where the pending-request pairing (store_pending.c) finds it; removed with the key.
 * Wine keeps the entry and the property set on the added context (its CNG key lives in
 * memory only: that the link opens the key is real Windows' to prove). */
static PCCERT_CONTEXT find_linked(HCERTSTORE s, const wchar_t *container, CRYPT_KEY_PROV_INFO **kp_out) {
  PCCERT_CONTEXT c = NULL;
  while ((c = CertEnumCertificatesInStore(s, c)) != NULL) {
    DWORD n = 0;
    CRYPT_KEY_PROV_INFO *kp;
    if (!CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, NULL, &n) || (kp = malloc(n)) == NULL)
      continue;
    if (CertGetCertificateContextProperty(c, CERT_KEY_PROV_INFO_PROP_ID, kp, &n) && kp->pwszContainerName != NULL &&
        wcscmp(kp->pwszContainerName, container) == 0) {
      *kp_out = kp;
      return c;
    }
    free(kp);
  }
  return NULL;
}

CS_TEST(placeholder_in_request_store_links_the_key) {
  const cs_config_t *cfg = csr_setup();
  cs_plat_reqkey_t *k = NULL;
  CRYPT_KEY_PROV_INFO *kp = NULL;
  HCERTSTORE req;
  PCCERT_CONTEXT c;
  cs_err_t err;
  CHECK_INT(cs__win_reqkey_unplace("certsteward-placed-1", &err), ==, CS_OK); /* an earlier run's, in this prefix */
  CHECK_INT(cs_plat_reqkey_make(cfg, "placed-1", CS_KEYKIND_RSA2048, &k, &err), ==, CS_OK);
  if (k == NULL) {
    csr_teardown();
    return;
  }
  CHECK_INT(cs_plat_reqkey_place(cfg, k, "board.example.test", &err), ==, CS_OK);
  req = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"REQUEST");
  CHECK(req != NULL);
  c = req != NULL ? find_linked(req, L"certsteward-placed-1", &kp) : NULL;
  CHECK(c != NULL);
  if (c != NULL && kp != NULL) {
    EVP_PKEY *pub = NULL;
    const unsigned char *p = c->pbCertEncoded;
    X509 *x = d2i_X509(NULL, &p, (long)c->cbCertEncoded);
    CHECK(kp->pwszProvName != NULL && wcscmp(kp->pwszProvName, MS_KEY_STORAGE_PROVIDER) == 0);
    CHECK_INT(kp->dwProvType, ==, 0);
    CHECK_INT(kp->dwFlags & NCRYPT_MACHINE_KEY_FLAG, ==, NCRYPT_MACHINE_KEY_FLAG);
    pub = x != NULL ? X509_get0_pubkey(x) : NULL;
    CHECK(pub != NULL && EVP_PKEY_eq(pub, cs_plat_reqkey_public(k)) == 1);
    X509_free(x);
    CertFreeCertificateContext(c);
  }
  free(kp);
  kp = NULL;
  /* the key's deletion takes its placeholder out first */
  CHECK_INT(cs__win_reqkey_unplace("certsteward-placed-1", &err), ==, CS_OK);
  if (req != NULL) {
    CertCloseStore(req, 0);
    req = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"REQUEST");
    c = req != NULL ? find_linked(req, L"certsteward-placed-1", &kp) : NULL;
    CHECK(c == NULL);
    if (c != NULL)
      CertFreeCertificateContext(c);
    free(kp);
    if (req != NULL)
      CertCloseStore(req, 0);
  }
  cs_plat_reqkey_free(k);
  csr_teardown();
}

#endif
