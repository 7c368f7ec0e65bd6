/* The machine's trust on Windows (common/win/trust.c): the reasons an admin reads,
 * the question asked of Wine's real chain engine, and that an empty ca_file means the
 * machine decides, not OpenSSL's default paths. The stores' effect (Root, CA,
 * Disallowed) is proven by tests/integration/win_trust.sh. */
#include "cs_test.h"

#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <wincrypt.h>

#include "platform.h"
#include "policy.h"

void cs__win_trust_reasons(DWORD status, char *buf, size_t len);

static unsigned char *read_pki(const char *name, size_t *len) {
  unsigned char *data = NULL;
  cs_err_t err;
  if (cs_plat_read_file(cs_test_path(name), 1 << 20, 0, &data, len, &err) != CS_OK)
    cs_test_fail(__FILE__, __LINE__, "cannot read %s: %s", name, err.text);
  return data;
}

CS_TEST(reasons_say_each_error) {
  char buf[640];
  cs__win_trust_reasons(CERT_TRUST_IS_UNTRUSTED_ROOT | CERT_TRUST_IS_EXPLICIT_DISTRUST, buf, sizeof buf);
  CHECK_CONTAINS(buf, "root this machine does not trust");
  CHECK_CONTAINS(buf, "Disallowed");
  CHECK_CONTAINS(buf, "; ");
  cs__win_trust_reasons(CERT_TRUST_IS_PARTIAL_CHAIN, buf, sizeof buf);
  CHECK_CONTAINS(buf, "no issuer found");
  CHECK_CONTAINS(buf, "Windows Update");
  cs__win_trust_reasons(CERT_TRUST_IS_NOT_VALID_FOR_USAGE, buf, sizeof buf);
  CHECK_CONTAINS(buf, "server authentication");
  cs__win_trust_reasons(CERT_TRUST_NO_ERROR, buf, sizeof buf);
  CHECK_STR(buf, "");
}

/* A bit without a text of its own is named by its value, never dropped. */
CS_TEST(reasons_name_unknown_bits) {
  char buf[640];
  cs__win_trust_reasons(CERT_TRUST_IS_OFFLINE_REVOCATION | CERT_TRUST_IS_CYCLIC, buf, sizeof buf);
  CHECK_CONTAINS(buf, "cyclic");
  CHECK_CONTAINS(buf, "0x01000000");
}

CS_TEST(reasons_fit_a_small_buffer) {
  char buf[24];
  memset(buf, 'x', sizeof buf);
  cs__win_trust_reasons(0xffffffffu, buf, sizeof buf);
  CHECK_INT(strlen(buf), <, sizeof buf);
}

/* ca_file empty on Windows: no X509_STORE at all (the machine decides), so nothing
 * is read from OpenSSL's default paths (a folder named at build time). */
CS_TEST(no_ca_file_means_the_machine) {
  X509_STORE *s = (X509_STORE *)1;
  cs_err_t err;
  CHECK_INT(cs_policy_trust_load(NULL, &s, &err), ==, CS_OK);
  CHECK(s == NULL);
}

/* Wine's real chain engine: the test root is not the machine's, so the leaf with its
 * intermediate is not trusted, with a reason, and the chain built is leaf <- inter. */
CS_TEST(machine_chain_untrusted_root) {
  size_t leaf_len = 0, inter_len = 0;
  unsigned char *leaf = read_pki("good-leaf.der", &leaf_len), *pem = read_pki("inter.pem", &inter_len);
  DWORD der_len = 0;
  BYTE *der = NULL;
  cs_der_t l, x;
  cs_machine_chain_t mc;
  cs_err_t err;
  CHECK(
      CryptStringToBinaryA((const char *)pem, (DWORD)inter_len, CRYPT_STRING_BASE64HEADER, NULL, &der_len, NULL, NULL));
  der = malloc(der_len);
  CHECK(der != NULL && CryptStringToBinaryA((const char *)pem, (DWORD)inter_len, CRYPT_STRING_BASE64HEADER, der,
                                            &der_len, NULL, NULL));
  l.p = leaf;
  l.len = leaf_len;
  x.p = der;
  x.len = der_len;
  CHECK_INT(cs_plat_machine_chain(&l, &x, 1, time(NULL), &mc, &err), ==, CS_OK);
  CHECK_INT(mc.trusted, ==, 0);
  CHECK(mc.why[0] != '\0');
  CHECK_INT(mc.n, >=, 2);
  CHECK_INT(mc.der_len[0], ==, leaf_len);
  CHECK(memcmp(mc.der[0], leaf, leaf_len) == 0);
  CHECK_INT(mc.der_len[1], ==, der_len);
  cs_plat_machine_chain_free(&mc);
  CHECK(mc.der == NULL && mc.n == 0);
  free(der);
  cs_plat_free_file(leaf, leaf_len);
  cs_plat_free_file(pem, inter_len);
}

/* What Windows cannot read as a certificate is an error, not an untrusted verdict. */
CS_TEST(machine_chain_garbage_is_an_error) {
  static const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
  cs_der_t l = {junk, sizeof junk};
  cs_machine_chain_t mc;
  cs_err_t err;
  CHECK_INT(cs_plat_machine_chain(&l, NULL, 0, time(NULL), &mc, &err), !=, CS_OK);
  CHECK_CONTAINS(err.text, "cannot read the certificate");
  CHECK_INT(mc.trusted, ==, 0);
  cs_plat_machine_chain_free(&mc);
}
