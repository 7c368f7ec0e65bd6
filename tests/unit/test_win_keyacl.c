/* The private-key permission on Windows: the pure part (common/win/keyacl.c: service SIDs,
 * account names, READ merged into a DACL made from SDDL, which Wine handles faithfully) and
 * what Wine can show of common/win/keyperm.c (thumbprints, the store, a certificate without
 * a key). Setting a key's DACL is proven only on real Windows (see keyperm.c). */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <sddl.h>
#include <wincrypt.h>

#include "platform.h"
#include "win/keyacl.h"

/* The public vector, and the connector's (computed the same way, docs/reference). */
#define TI_SID "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
#define BOARD_SID "S-1-5-80-1875588013-3631800679-2118433554-238102967-4227175876"
#define BOARD "NT SERVICE\\BOARD Connector Service"

/* The SID text of what cs__win_account_sid gives for account, or its CS_E* code as text. */
static const char *account_sid(const char *account, cs_err_t *err) {
  static char buf[200];
  PSID sid = NULL;
  int rc = cs__win_account_sid(account, &sid, err);
  if (rc != CS_OK)
    snprintf(buf, sizeof buf, "error %d", rc);
  else
    cs__win_sid_text(sid, buf, sizeof buf);
  free(sid);
  return buf;
}

CS_TEST(service_sid_vectors) {
  cs_err_t err;
  PSID sid = NULL;
  char text[200];

  CHECK_INT(cs__win_service_sid("TrustedInstaller", &sid, &err), ==, CS_OK);
  CHECK_STR(cs__win_sid_text(sid, text, sizeof text), TI_SID);
  free(sid);
  CHECK_STR(account_sid("NT SERVICE\\TrustedInstaller", &err), TI_SID);
  CHECK_STR(account_sid(BOARD, &err), BOARD_SID);
  /* the group of all services is a fixed SID, not a hashed name */
  CHECK_STR(account_sid("NT SERVICE\\ALL SERVICES", &err), "S-1-5-80-0");
}

CS_TEST(service_sid_ignores_case_beyond_ascii) {
  cs_err_t err;
  char upper[200];

  CHECK_STR(account_sid("nt service\\board connector service", &err), BOARD_SID);
  CHECK_STR(account_sid("Nt Service\\bOARD cONNECTOR sERVICE", &err), BOARD_SID);
  /* Windows upper-cases service names with its casing table, not ASCII alone:
   * "dienst-äöü-é" and "DIENST-ÄÖÜ-É" are one service */
  snprintf(upper, sizeof upper, "%s", account_sid("NT SERVICE\\DIENST-\xC3\x84\xC3\x96\xC3\x9C-\xC3\x89", &err));
  CHECK(strncmp(upper, "S-1-5-80-", 9) == 0);
  CHECK_STR(account_sid("NT SERVICE\\dienst-\xC3\xA4\xC3\xB6\xC3\xBC-\xC3\xA9", &err), upper);
  /* and a different name is a different SID */
  CHECK(strcmp(account_sid("NT SERVICE\\DIENST-AOU-E", &err), upper) != 0);
  CHECK(strcmp(account_sid("NT SERVICE\\BOARD Connector Service2", &err), BOARD_SID) != 0);
}

CS_TEST(service_sid_refuses_empty_name) {
  cs_err_t err;
  PSID sid = NULL;

  CHECK_INT(cs__win_service_sid("", &sid, &err), ==, CS_EINVAL);
  CHECK(sid == NULL);
  CHECK_INT(cs__win_account_sid("NT SERVICE\\", &sid, &err), ==, CS_EINVAL);
  CHECK(sid == NULL);
  CHECK_CONTAINS(err.text, "no service name");
  CHECK_INT(cs__win_account_sid("", &sid, &err), ==, CS_EINVAL);
  CHECK_INT(cs__win_account_sid("NT SERVICE\\bad-\xC3(", &sid, &err), ==, CS_EINVAL); /* not UTF-8 */
}

CS_TEST(account_names) {
  cs_err_t err;
  PSID sid = NULL;

  CHECK_STR(account_sid("S-1-5-32-544", &err), "S-1-5-32-544");
  CHECK_STR(account_sid(BOARD_SID, &err), BOARD_SID);
  CHECK_STR(account_sid("LocalSystem", &err), "S-1-5-18");
  CHECK_STR(account_sid("BUILTIN\\Administrators", &err), "S-1-5-32-544");
  CHECK_INT(cs__win_account_sid("S-1-x-banana", &sid, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "not a valid SID");
  CHECK_INT(cs__win_account_sid("certsteward-no-such-account-4242", &sid, &err), ==, CS_ENOENT);
  CHECK(sid == NULL);
  CHECK_CONTAINS(err.text, "certsteward-no-such-account-4242");
  CHECK_INT(cs__win_account_sid(".\\certsteward-no-such-account-4242", &sid, &err), ==, CS_ENOENT);
}

/* ---- the DACL ---------------------------------------------------------------------- */

/* A security descriptor from SDDL in which $ME stands for the connector's SID (LocalFree). */
static PSECURITY_DESCRIPTOR sd_from(const char *text) {
  char sddl[1024];
  size_t n = 0;
  PSECURITY_DESCRIPTOR sd = NULL;
  while (*text && n + sizeof BOARD_SID < sizeof sddl) {
    if (strncmp(text, "$ME", 3) == 0) {
      memcpy(sddl + n, BOARD_SID, sizeof BOARD_SID - 1);
      n += sizeof BOARD_SID - 1;
      text += 3;
    } else {
      sddl[n++] = *text++;
    }
  }
  sddl[n] = '\0';
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorA(sddl, SDDL_REVISION_1, &sd, NULL))
    cs_test_fail(__FILE__, __LINE__, "bad SDDL %s (error %lu)", sddl, (unsigned long)GetLastError());
  return sd;
}

static PACL dacl_of(PSECURITY_DESCRIPTOR sd) {
  BOOL present = FALSE, defaulted = FALSE;
  PACL dacl = NULL;
  if (sd == NULL || !GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) || !present)
    return NULL;
  return dacl;
}

static DWORD ace_count(PSECURITY_DESCRIPTOR sd) {
  PACL dacl = dacl_of(sd);
  return dacl != NULL ? dacl->AceCount : 0;
}

static ACE_HEADER *ace_at(PSECURITY_DESCRIPTOR sd, DWORD i) {
  void *ace = NULL;
  PACL dacl = dacl_of(sd);
  return dacl != NULL && i < dacl->AceCount && GetAce(dacl, i, &ace) ? ace : NULL;
}

/* 1 if entry i of a and entry j of b are the same, byte for byte. */
static int same_ace(PSECURITY_DESCRIPTOR a, DWORD i, PSECURITY_DESCRIPTOR b, DWORD j) {
  ACE_HEADER *x = ace_at(a, i), *y = ace_at(b, j);
  return x != NULL && y != NULL && x->AceSize == y->AceSize && memcmp(x, y, x->AceSize) == 0;
}

static ACCESS_MASK mask_at(PSECURITY_DESCRIPTOR sd, DWORD i) {
  ACE_HEADER *a = ace_at(sd, i);
  ACCESS_MASK m = 0;
  if (a != NULL)
    memcpy(&m, (unsigned char *)a + sizeof(ACE_HEADER), sizeof m);
  return m;
}

/* 1 if entry i is a plain allow entry for the connector, with these flags. */
static int connector_allow_at(PSECURITY_DESCRIPTOR sd, DWORD i, BYTE flags) {
  ACE_HEADER *a = ace_at(sd, i);
  PSID board = NULL;
  int yes;
  if (a == NULL || !ConvertStringSidToSidA(BOARD_SID, &board))
    return 0;
  yes = a->AceType == ACCESS_ALLOWED_ACE_TYPE && a->AceFlags == flags &&
        EqualSid((PSID)((unsigned char *)a + sizeof(ACE_HEADER) + sizeof(ACCESS_MASK)), board);
  LocalFree(board);
  return yes;
}

static SECURITY_DESCRIPTOR_CONTROL control_of(PSECURITY_DESCRIPTOR sd) {
  SECURITY_DESCRIPTOR_CONTROL c = 0;
  DWORD rev = 0;
  GetSecurityDescriptorControl(sd, &c, &rev);
  return c & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED);
}

/* What the check and a grant see in sd: the state, and the merged descriptor in *out
 * (free()), or NULL when the merge changes nothing. */
static int merge(PSECURITY_DESCRIPTOR sd, PSECURITY_DESCRIPTOR *out) {
  cs_err_t err;
  PSID board = NULL;
  DWORD len = 0;
  int state = -1, access;
  *out = NULL;
  if (!ConvertStringSidToSidA(BOARD_SID, &board))
    return -1;
  access = cs__win_key_access(dacl_of(sd), board);
  if (cs__win_key_merge(sd, board, out, &len, &state, &err) != CS_OK)
    cs_test_fail(__FILE__, __LINE__, "merge failed: %s", err.text);
  if (access != state) /* the check reads the DACL as the grant does */
    cs_test_fail(__FILE__, __LINE__, "check says %d, merge says %d", access, state);
  if (*out != NULL && (!IsValidSecurityDescriptor(*out) || len != GetSecurityDescriptorLength(*out)))
    cs_test_fail(__FILE__, __LINE__, "the merged descriptor is not valid");
  LocalFree(board);
  return state;
}

/* After a merge, a second one changes nothing and the check says READ. */
static void check_idempotent(PSECURITY_DESCRIPTOR merged) {
  PSECURITY_DESCRIPTOR again = NULL;
  CHECK(merged != NULL);
  CHECK_INT(merge(merged, &again), ==, CS_WIN_KEY_READS);
  CHECK(again == NULL);
  free(again);
}

CS_TEST(merge_adds_one_entry_and_keeps_the_rest) {
  PSECURITY_DESCRIPTOR sd =
      sd_from("D:PAI(D;;0x2;;;WD)(A;;GA;;;SY)(A;;0x1200a9;;;BU)(A;ID;GA;;;BA)(A;OICIIOID;GA;;;CO)");
  PSECURITY_DESCRIPTOR out = NULL;
  DWORD i;

  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  CHECK_INT(ace_count(out), ==, 6);
  /* explicit entries, then ours, then the inherited ones: each kept byte for byte, in order */
  for (i = 0; i < 3; i++)
    CHECK(same_ace(sd, i, out, i));
  CHECK(connector_allow_at(out, 3, 0));
  CHECK_INT(mask_at(out, 3), ==, GENERIC_READ);
  for (i = 3; i < 5; i++)
    CHECK(same_ace(sd, i, out, i + 1));
  CHECK_INT(control_of(out), ==, SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED);
  check_idempotent(out);
  free(out);
  LocalFree(sd);

  /* no inherited entries: ours goes last; not protected stays not protected */
  sd = sd_from("D:(A;;GA;;;SY)(A;;GA;;;BA)");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  CHECK_INT(ace_count(out), ==, 3);
  CHECK(same_ace(sd, 0, out, 0) && same_ace(sd, 1, out, 1));
  CHECK(connector_allow_at(out, 2, 0));
  CHECK_INT(control_of(out), ==, 0);
  check_idempotent(out);
  free(out);
  LocalFree(sd);

  /* an empty DACL (nobody may do anything) gains the one entry */
  sd = sd_from("D:P");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  CHECK_INT(ace_count(out), ==, 1);
  CHECK(connector_allow_at(out, 0, 0));
  CHECK_INT(control_of(out), ==, SE_DACL_PROTECTED);
  check_idempotent(out);
  free(out);
  LocalFree(sd);
}

CS_TEST(merge_extends_the_accounts_entry) {
  PSECURITY_DESCRIPTOR sd = sd_from("D:P(A;;GA;;;SY)(A;;0x2;;;$ME)(A;;GA;;;BA)"), out = NULL;

  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_PARTIAL);
  CHECK_INT(ace_count(out), ==, 3); /* extended, not duplicated */
  CHECK(same_ace(sd, 0, out, 0) && same_ace(sd, 2, out, 2));
  CHECK(connector_allow_at(out, 1, 0));
  CHECK_INT(mask_at(out, 1), ==, GENERIC_READ | 0x2); /* what it had, and READ */
  check_idempotent(out);
  free(out);
  LocalFree(sd);

  /* part of READ only (read data) is extended too */
  sd = sd_from("D:(A;;0x1;;;$ME)");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_PARTIAL);
  CHECK_INT(ace_count(out), ==, 1);
  CHECK_INT(mask_at(out, 0), ==, GENERIC_READ | 0x1);
  check_idempotent(out);
  free(out);
  LocalFree(sd);

  /* an inherited or inherit-only entry is not ours to change: a new explicit one is added */
  sd = sd_from("D:AI(A;IO;0x2;;;$ME)(A;ID;0x2;;;$ME)");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  CHECK_INT(ace_count(out), ==, 3);
  CHECK(same_ace(sd, 0, out, 0));
  CHECK(connector_allow_at(out, 1, 0));
  CHECK(same_ace(sd, 1, out, 2));
  check_idempotent(out);
  free(out);
  LocalFree(sd);
}

CS_TEST(merge_leaves_a_covered_grant_alone) {
  static const char *const covered[] = {
      "D:(A;;GR;;;$ME)",         /* what a grant writes */
      "D:(A;;0x80100000;;;$ME)", /* the same with SYNCHRONIZE, as Windows reads it back */
      "D:(A;;GA;;;$ME)",         /* Full control */
      "D:(A;;FR;;;$ME)",         /* the specific rights READ stands for */
      "D:(A;;FA;;;$ME)",
      "D:(A;;0x120089;;;$ME)(D;;GR;;;$ME)", /* an allow entry first decides, as AccessCheck does */
      "D:(D;IO;GR;;;$ME)(A;;GR;;;$ME)",     /* an inherit-only deny does not apply to the key */
      "D:P(A;;GA;;;SY)(A;;GR;;;$ME)(A;ID;GA;;;BA)",
  };
  size_t i;
  for (i = 0; i < sizeof covered / sizeof covered[0]; i++) {
    PSECURITY_DESCRIPTOR sd = sd_from(covered[i]), out = NULL;
    if (merge(sd, &out) != CS_WIN_KEY_READS || out != NULL)
      cs_test_fail(__FILE__, __LINE__, "%s: expected READ already granted", covered[i]);
    free(out);
    LocalFree(sd);
  }
}

CS_TEST(merge_reports_a_deny_entry) {
  static const char *const denied[] = {
      "D:(D;;GR;;;$ME)(A;;GA;;;$ME)",
      "D:P(A;;GA;;;SY)(D;;0x1;;;$ME)(A;;GA;;;BA)", /* read data denied: READ cannot work */
  };
  size_t i;
  for (i = 0; i < sizeof denied / sizeof denied[0]; i++) {
    PSECURITY_DESCRIPTOR sd = sd_from(denied[i]), out = NULL;
    if (merge(sd, &out) != CS_WIN_KEY_DENIED || out != NULL)
      cs_test_fail(__FILE__, __LINE__, "%s: expected the deny entry to be reported", denied[i]);
    free(out);
    LocalFree(sd);
  }
}

/* A conditional (callback) deny entry may hold: it is counted as a deny. SDDL's XD needs
 * conditional-ACE parsing, so the entry is built by hand. */
CS_TEST(merge_reports_a_conditional_deny_entry) {
  union {
    ACL acl;
    unsigned char b[256];
  } buf;
  SECURITY_DESCRIPTOR sd;
  PSECURITY_DESCRIPTOR out = NULL;
  PSID board = NULL;
  void *ace = NULL;

  CHECK(ConvertStringSidToSidA(BOARD_SID, &board));
  CHECK(InitializeAcl(&buf.acl, sizeof buf, ACL_REVISION));
  CHECK(AddAccessDeniedAceEx(&buf.acl, ACL_REVISION, 0, GENERIC_READ, board));
  CHECK(AddAccessAllowedAceEx(&buf.acl, ACL_REVISION, 0, GENERIC_ALL, board));
  CHECK(GetAce(&buf.acl, 0, &ace));
  ((ACE_HEADER *)ace)->AceType = ACCESS_DENIED_CALLBACK_ACE_TYPE; /* same layout, no condition data */
  CHECK(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  CHECK(SetSecurityDescriptorDacl(&sd, TRUE, &buf.acl, FALSE));
  CHECK_INT(merge(&sd, &out), ==, CS_WIN_KEY_DENIED);
  CHECK(out == NULL);
  LocalFree(board);
}

CS_TEST(merge_ignores_other_accounts_and_other_rights) {
  PSECURITY_DESCRIPTOR sd, out = NULL;

  /* READ through Everyone is not the account's own: the grant adds an entry */
  sd = sd_from("D:(A;;GR;;;WD)");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  CHECK_INT(ace_count(out), ==, 2);
  free(out);
  LocalFree(sd);
  /* a deny of write data is not a deny of READ; it stays first */
  sd = sd_from("D:(D;;0x2;;;$ME)(A;;GA;;;SY)");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  CHECK_INT(ace_count(out), ==, 3);
  CHECK(same_ace(sd, 0, out, 0) && same_ace(sd, 1, out, 1));
  CHECK(connector_allow_at(out, 2, 0));
  check_idempotent(out);
  free(out);
  LocalFree(sd);
  /* another service's entry is another SID */
  sd = sd_from("D:(A;;GR;;;" TI_SID ")");
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_NONE);
  free(out);
  LocalFree(sd);
}

CS_TEST(merge_without_dacl) {
  SECURITY_DESCRIPTOR null_dacl;
  PSECURITY_DESCRIPTOR sd, out = NULL;
  PSID board = NULL;

  /* A NULL DACL lets everyone do everything: READ is there, and turning it into a list
   * would take access away from everyone else, so nothing is written. Built by hand:
   * Wine 8 reads SDDL's "D:NO_ACCESS_CONTROL" as an empty DACL, Windows as a NULL one. */
  CHECK(InitializeSecurityDescriptor(&null_dacl, SECURITY_DESCRIPTOR_REVISION));
  CHECK(SetSecurityDescriptorDacl(&null_dacl, TRUE, NULL, FALSE));
  CHECK_INT(merge(&null_dacl, &out), ==, CS_WIN_KEY_OPEN);
  CHECK(out == NULL);
  sd = sd_from("O:SY"); /* no DACL part at all reads the same */
  CHECK_INT(merge(sd, &out), ==, CS_WIN_KEY_OPEN);
  CHECK(out == NULL);
  LocalFree(sd);
  CHECK(ConvertStringSidToSidA(BOARD_SID, &board));
  CHECK_INT(cs__win_key_access(NULL, board), ==, CS_WIN_KEY_OPEN);
  LocalFree(board);
}

/* ---- keyperm.c: what Wine can show ------------------------------------------------- */

/* The first certificate of a PEM file of the test PKI, as DER (free()). */
static BYTE *pem_cert(const char *name, DWORD *len) {
  FILE *f = fopen(cs_test_path(name), "rb");
  char text[16384], *begin;
  size_t n;
  BYTE *der = NULL;

  *len = 0;
  if (f == NULL)
    return NULL;
  n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  if ((begin = strstr(text, "-----BEGIN CERTIFICATE-----")) == NULL ||
      !CryptStringToBinaryA(begin, 0, CRYPT_STRING_BASE64HEADER, NULL, len, NULL, NULL) ||
      (der = malloc(*len)) == NULL ||
      !CryptStringToBinaryA(begin, 0, CRYPT_STRING_BASE64HEADER, der, len, NULL, NULL)) {
    free(der);
    return NULL;
  }
  return der;
}

static void hex(const BYTE *b, size_t n, char *out, int lower) {
  size_t i;
  for (i = 0; i < n; i++)
    snprintf(out + 2 * i, 3, lower ? "%02x" : "%02X", b[i]);
}

CS_TEST(key_errors_thumbprint_account_and_no_key) {
  HCERTSTORE store = NULL;
  PCCERT_CONTEXT cert = NULL, found = NULL;
  BYTE *der, hash[20], none[20];
  CRYPT_HASH_BLOB blob;
  DWORD len = 0, n = sizeof hash;
  char tp[41], lower[41], other[41];
  cs_err_t err;
  int granted = -1;

  /* A certificate without its key in LocalMachine\My: the test PKI's other root, which
   * no other test puts there. */
  if ((der = pem_cert("other-root.pem", &len)) == NULL) {
    cs_test_fail(__FILE__, __LINE__, "cannot read %s", cs_test_path("other-root.pem"));
    return;
  }
  store = CertOpenStore(CERT_STORE_PROV_SYSTEM_W, 0, 0, CERT_SYSTEM_STORE_LOCAL_MACHINE, L"My");
  if (store == NULL ||
      !CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der, len, CERT_STORE_ADD_REPLACE_EXISTING, &cert) ||
      !CertGetCertificateContextProperty(cert, CERT_SHA1_HASH_PROP_ID, hash, &n) || n != 20) {
    cs_test_fail(__FILE__, __LINE__, "cannot add a certificate to LocalMachine\\My (error 0x%lx)",
                 (unsigned long)GetLastError());
    goto out;
  }
  /* others see the addition once committed (Wine keeps it in the handle until then) */
  CHECK(CertControlStore(store, 0, CERT_STORE_CTRL_COMMIT, NULL));
  hex(hash, 20, tp, 0);
  hex(hash, 20, lower, 1);
  memcpy(none, hash, sizeof none);
  none[0] ^= 0xff; /* a thumbprint of no certificate in the store */
  hex(none, 20, other, 0);

  /* not a thumbprint */
  CHECK_INT(cs_plat_key_grant("1234", BOARD, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "40 hexadecimal digits");
  CHECK_INT(cs_plat_key_check("zz2233445566778899AABBCCDDEEFF0011223344", BOARD, &granted, &err), ==, CS_EINVAL);
  CHECK_INT(granted, ==, 0);

  /* no such certificate */
  CHECK_INT(cs_plat_key_grant(other, BOARD, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, other);
  CHECK_CONTAINS(err.text, "LocalMachine\\My");
  granted = -1;
  CHECK_INT(cs_plat_key_check(other, BOARD, &granted, &err), ==, CS_ENOENT);
  CHECK_INT(granted, ==, 0);

  /* no such account: said before anything is looked up in the store */
  CHECK_INT(cs_plat_key_grant(tp, "certsteward-no-such-account-4242", &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "no such account: certsteward-no-such-account-4242");
  CHECK_INT(cs_plat_key_check(tp, "certsteward-no-such-account-4242", &granted, &err), ==, CS_ENOENT);

  /* the certificate is there, its key is not; lower-case hex finds it too */
  CHECK_INT(cs_plat_key_grant(tp, BOARD, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, tp);
  CHECK_CONTAINS(err.text, "has no private key");
  granted = -1;
  CHECK_INT(cs_plat_key_check(lower, BOARD, &granted, &err), ==, CS_ENOENT);
  CHECK_CONTAINS(err.text, "has no private key");
  CHECK_INT(granted, ==, 0);

out:
  if (cert != NULL) { /* a delete is kept only once committed (Wine; harmless on Windows) */
    CHECK(CertDeleteCertificateFromStore(cert));
    CHECK(CertControlStore(store, 0, CERT_STORE_CTRL_COMMIT, NULL));
    blob.cbData = sizeof hash;
    blob.pbData = hash;
    found = CertFindCertificateInStore(store, X509_ASN_ENCODING, 0, CERT_FIND_SHA1_HASH, &blob, NULL);
    CHECK(found == NULL);
    if (found != NULL)
      CertFreeCertificateContext(found);
  }
  if (store != NULL)
    CertCloseStore(store, 0);
  free(der);
}

/* Stands for the machine's answer: the one administrator user of these tests. */
#define ALICE_SID "S-1-5-21-1111111111-2222222222-3333333333-1001"
static int alice_is_admin(PSID sid) {
  PSID alice = NULL;
  int yes = ConvertStringSidToSidA(ALICE_SID, &alice) && EqualSid(sid, alice);
  LocalFree(alice);
  return yes;
}

/* [store] adopt and the pairing with a pending request put a certificate in service only
 * when its key is kept to the administrators (cs__win_key_private): the owner an
 * administrator, no one else may read or change it, the connector's account may read it,
 * the administrator who made a CAPI key keeps the entry Windows gives them, inherit-only
 * entries (for children) are not held against it. */
CS_TEST(key_private_judges_owner_and_readers) {
  static const struct {
    const char *sddl;
    int with_account, want;
    const char *why;
  } cases[] = {
      {"O:BAD:P(A;;GA;;;SY)(A;;GA;;;BA)", 0, 1, ""},
      {"O:SYD:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;GR;;;$ME)", 1, 1, ""}, /* the connector's READ */
      {"O:BAD:(A;CIIO;GR;;;BU)(A;;KA;;;BA)", 0, 1, ""},           /* as Wine makes a machine key's */
      {"O:BAD:P(A;;FA;;;SY)(A;;FA;;;" ALICE_SID ")(A;;GA;;;CO)(A;;GR;;;OW)", 0, 1, ""}, /* a CAPI key alice made */
      {"O:" ALICE_SID "D:P(A;;FA;;;SY)(A;;FA;;;" ALICE_SID ")", 0, 1, ""},  /* "Object creator" as default owner */
      {"O:BAD:P(A;;GA;;;SY)(A;;GR;;;BU)", 0, 0, "S-1-5-32-545"},            /* Users may read it */
      {"O:BAD:P(A;;GA;;;SY)(A;;GR;;;$ME)", 0, 0, BOARD_SID},                /* an account not named */
      {"O:BAD:P(A;;GA;;;SY)(A;;WD;;;$ME)", 1, 0, "changed, or its rules,"}, /* the account may change its rules */
      {"O:BUD:P(A;;GA;;;SY)(A;;GA;;;BA)", 0, 0, "owned by"},                /* a group's key */
      {"O:" BOARD_SID "D:P(A;;GA;;;SY)", 1, 0, "owned by"},                 /* the account's own key */
      {"O:BAD:P(A;;WD;;;AU)", 0, 0, "S-1-5-11"},                            /* may change its rules */
      {"O:BAD:P(A;;FR;;;WD)", 0, 0, "S-1-1-0"},                             /* Everyone, specific rights */
  };
  char why[700];
  PSID board = NULL;
  size_t i;
  CHECK(ConvertStringSidToSidA(BOARD_SID, &board));
  for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    PSECURITY_DESCRIPTOR sd = sd_from(cases[i].sddl);
    why[0] = '\0';
    CHECK_INT(cs__win_key_private(sd, cases[i].with_account ? board : NULL, alice_is_admin, why, sizeof why), ==,
              cases[i].want);
    if (cases[i].want == 1 && why[0] != '\0')
      cs_test_fail(__FILE__, __LINE__, "case %zu: %s", i, why);
    CHECK_CONTAINS(why, cases[i].why);
    LocalFree(sd);
  }
  /* without the machine's answer, alice is no one in particular */
  {
    PSECURITY_DESCRIPTOR sd = sd_from("O:BAD:P(A;;FA;;;SY)(A;;FA;;;" ALICE_SID ")");
    CHECK_INT(cs__win_key_private(sd, NULL, NULL, why, sizeof why), ==, 0);
    CHECK_CONTAINS(why, ALICE_SID);
    LocalFree(sd);
  }
  LocalFree(board);
}
