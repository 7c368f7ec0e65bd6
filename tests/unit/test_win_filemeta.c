/* What a binding file is written back with on Windows (common/win/filemeta.c, the
 * meta of cs_plat_read_file_meta in sys.c and of cs_plat_write_recorded in replace.c).
 *
 * What runs for real under Wine: the text both ways (Wine's SDDL conversions are
 * correct) and the refusal of malformed text; the read through one handle, the refusal
 * of a file with two names, the attributes (Wine keeps read-only, hidden, archive), and
 * that a write given a meta takes its attributes from it, not from the file found at
 * the path, and writes nothing when it cannot be read. What only a real NTFS volume
 * proves: Wine keeps no ACL on a file (GetSecurityInfo answers one made up from the Unix
 * mode, SetSecurityInfo on a file returns 0 and stores nothing), so that the new file
 * gets the recorded owner and DACL, with its protection, and that setting an owner
 * other than the caller takes SeRestorePrivilege, are shown on Windows only; here, that
 * those calls go through and the owner and DACL read back are unchanged. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "platform.h"
#include "win/win.h"

/* NT SERVICE\BOARD Connector Service */
#define CONNECTOR "S-1-5-80-1875588013-3631800679-2118433554-238102967-4227175876"

static char dir[1024], state[1024];

static const char *at(const char *name) { return cs_test_join(dir, name); }

static PSECURITY_DESCRIPTOR sd_of(const wchar_t *sddl) {
  PSECURITY_DESCRIPTOR sd = NULL;
  CHECK(ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl, SDDL_REVISION_1, &sd, NULL));
  return sd;
}

/* "<control bits> <SDDL>" of sd's owner and DACL, to compare two descriptors. */
static const char *shown(PSECURITY_DESCRIPTOR sd) {
  static char out[2048];
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD rev;
  wchar_t *w = NULL;
  out[0] = '\0';
  if (sd != NULL && GetSecurityDescriptorControl(sd, &control, &rev) &&
      ConvertSecurityDescriptorToStringSecurityDescriptorW(
          sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &w, NULL))
    snprintf(out, sizeof out, "%04x %ls", (unsigned)(control & (SE_DACL_PROTECTED | SE_DACL_AUTO_INHERITED)), w);
  LocalFree(w);
  return out;
}

/* Encoded and decoded: the same owner, DACL (its entries, inherited flags included),
 * protection and auto-inheritance, and attributes. */
static void round_trip(const wchar_t *sddl, DWORD attrs, const char *want) {
  PSECURITY_DESCRIPTOR sd = sd_of(sddl), back = NULL;
  char before[2048];
  PSID o1 = NULL, o2 = NULL;
  BOOL d;
  DWORD got = 0xffffffff;
  char *meta = NULL;
  snprintf(before, sizeof before, "%s", shown(sd));
  CHECK_INT(cs__win_meta_encode(sd, attrs, &meta), ==, CS_OK);
  CHECK(meta != NULL);
  if (meta == NULL)
    goto out;
  CHECK_STR(meta, want);
  CHECK(strpbrk(meta, "\t\r\n") == NULL);
  CHECK_INT(cs__win_meta_decode(meta, &got, &back), ==, CS_OK);
  CHECK_INT(got, ==, attrs);
  CHECK_STR(shown(back), before);
  CHECK(back != NULL && GetSecurityDescriptorOwner(sd, &o1, &d) && GetSecurityDescriptorOwner(back, &o2, &d) &&
        o1 != NULL && o2 != NULL && EqualSid(o1, o2));
out:
  free(meta);
  LocalFree(back);
  LocalFree(sd);
}

CS_TEST(meta_text_round_trip) {
  /* protected, as an installer sets it: the connector's account may read */
  round_trip(L"O:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;" CONNECTOR ")",
             FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_ARCHIVE,
             "A:21;O:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;" CONNECTOR ")");
  /* inheriting from its folder: explicit entry first, inherited ones flagged */
  round_trip(L"O:BAD:AI(A;;FR;;;" CONNECTOR ")(A;ID;FA;;;SY)(A;ID;FA;;;BA)", FILE_ATTRIBUTE_HIDDEN,
             "A:2;O:BAD:AI(A;;FR;;;" CONNECTOR ")(A;ID;FA;;;SY)(A;ID;FA;;;BA)");
  /* neither flag, a deny entry, an owner given as a SID, no attribute */
  round_trip(L"O:" CONNECTOR "D:(D;;FW;;;WD)(A;;FA;;;SY)", 0, "A:0;O:" CONNECTOR "D:(D;;FW;;;WD)(A;;FA;;;SY)");
}

/* Only an owner and a DACL can be given back; attributes a replacement does not keep
 * are not recorded. */
CS_TEST(meta_text_refused_without_owner_or_dacl) {
  static char untouched[] = "untouched";
  PSECURITY_DESCRIPTOR sd;
  char *meta = untouched;
  sd = sd_of(L"D:(A;;FA;;;SY)");
  CHECK_INT(cs__win_meta_encode(sd, 0, &meta), ==, CS_EFORMAT);
  CHECK(meta == NULL);
  LocalFree(sd);
  sd = sd_of(L"O:SY");
  CHECK_INT(cs__win_meta_encode(sd, 0, &meta), ==, CS_EFORMAT);
  LocalFree(sd);
  sd = sd_of(L"O:SYD:(A;;FA;;;SY)");
  CHECK_INT(cs__win_meta_encode(sd, FILE_ATTRIBUTE_DIRECTORY, &meta), ==, CS_EFORMAT);
  CHECK(meta == NULL);
  LocalFree(sd);
}

/* Each of bad[0..n) is refused (CS_EFORMAT) and gives no descriptor. */
static void all_refused(const char *const *bad, size_t n) {
  PSECURITY_DESCRIPTOR sd;
  DWORD attrs;
  size_t i;
  for (i = 0; i < n; i++) {
    sd = (PSECURITY_DESCRIPTOR)&attrs;
    if (cs__win_meta_decode(bad[i], &attrs, &sd) != CS_EFORMAT)
      CHECK_STR(bad[i], "(refused)");
    CHECK(sd == NULL);
  }
}

CS_TEST(malformed_meta_refused) {
  static const char *const bad[] = {
      "",                                        /* empty */
      "-",                                       /* the manifest's "none" */
      "O:SYD:(A;;FA;;;SY)",                      /* no attributes */
      "A:;O:SYD:(A;;FA;;;SY)",                   /* no digits */
      "A:zz;O:SYD:(A;;FA;;;SY)",                 /* not hex */
      "A:2F;O:SYD:(A;;FA;;;SY)",                 /* upper case: never written so */
      "A:10;O:SYD:(A;;FA;;;SY)",                 /* FILE_ATTRIBUTE_DIRECTORY */
      "A:100000001;O:SYD:(A;;FA;;;SY)",          /* nine digits */
      "A:1O:SYD:(A;;FA;;;SY)",                   /* no ';' */
      "A:1;",                                    /* no descriptor */
      "A:1;O:SY",                                /* no DACL */
      "A:1;D:(A;;FA;;;SY)",                      /* no owner */
      "A:1;O:SYG:SYD:(A;;FA;;;SY)",              /* a group: not what is written back */
      "A:1;O:SYD:(A;;FA;;;SY)S:(AU;SA;FA;;;WD)", /* a SACL: likewise */
      "A:1;O:SYD:(A;;FA;;;SY)\t-",               /* a tab */
      "A:1;O:SYD:(A;;FA;;;SY)\n",                /* a line break */
      "A:1;O:SYD:(X;;FA;;;SY)",                  /* no such entry type */
      "A:1;garbage",
      "A:1000;O:SYD:(A;;FA;;;SY)", /* FILE_ATTRIBUTE_OFFLINE: the new file's data is online */
  };
  PSECURITY_DESCRIPTOR sd;
  DWORD attrs;
  all_refused(bad, sizeof bad / sizeof *bad);
  CHECK_INT(cs__win_meta_decode(NULL, &attrs, &sd), ==, CS_EFORMAT);
  /* and the well-formed one beside them is read */
  CHECK_INT(cs__win_meta_decode("A:1;O:SYD:(A;;FA;;;SY)", &attrs, &sd), ==, CS_OK);
  CHECK_INT(attrs, ==, FILE_ATTRIBUTE_READONLY);
  LocalFree(sd);
}

/* A text that would give more than a file can have without SeRestorePrivilege is
 * refused, whoever wrote it: a NULL DACL (everyone, every right), an owner that many
 * accounts hold (its implicit WRITE_DAC to all of them), a placeholder owner. On the
 * code before, each was read and would have been set by LocalSystem. */
CS_TEST(meta_refuses_what_grants_more) {
  static const char *const bad[] = {
      "A:0;O:SYD:NO_ACCESS_CONTROL",               /* a NULL DACL */
      "A:0;O:WDD:PAI(A;;FA;;;SY)",                 /* Everyone */
      "A:0;O:AUD:PAI(A;;FA;;;SY)",                 /* Authenticated Users */
      "A:0;O:BUD:PAI(A;;FA;;;SY)",                 /* Users */
      "A:0;O:BGD:PAI(A;;FA;;;SY)",                 /* Guests */
      "A:0;O:COD:PAI(A;;FA;;;SY)",                 /* CREATOR OWNER */
      "A:0;O:OWD:PAI(A;;FA;;;SY)",                 /* OWNER RIGHTS */
      "A:0;O:AND:PAI(A;;FA;;;SY)",                 /* Anonymous */
      "A:0;O:S-1-5-6D:PAI(A;;FA;;;SY)",            /* SERVICE: every service */
      "A:0;O:S-1-5-19D:PAI(A;;FA;;;SY)",           /* LOCAL SERVICE, shared by many */
      "A:0;O:S-1-5-21-1-2-3-513D:PAI(A;;FA;;;SY)", /* Domain Users */
      "A:0;O:S-1-5-21-1-2-3-515D:PAI(A;;FA;;;SY)", /* Domain Computers */
      "A:0;O:S-1-5-21-1-2-3-501D:PAI(A;;FA;;;SY)", /* Guest */
      "A:0;O:S-1-16-16384D:PAI(A;;FA;;;SY)",       /* an integrity label */
      "A:0;O:S-1-5-32-545D:PAI(A;;FA;;;SY)",       /* Users, by SID */
  };
  static const char *const good[] = {
      "A:0;O:SYD:PAI(A;;FA;;;SY)",
      "A:0;O:BAD:PAI(A;;FA;;;SY)",
      "A:0;O:" CONNECTOR "D:PAI(A;;FA;;;SY)",
      "A:0;O:S-1-5-21-1-2-3-1001D:AI(A;ID;FA;;;SY)(D;;FW;;;WD)",
      "A:0;O:S-1-5-21-1-2-3-512D:(A;;FA;;;SY)", /* Domain Admins */
      "A:0;O:SYD:",                             /* an empty DACL: nobody but the owner */
  };
  PSECURITY_DESCRIPTOR sd;
  DWORD attrs;
  size_t i;
  all_refused(bad, sizeof bad / sizeof *bad);
  for (i = 0; i < sizeof good / sizeof *good; i++) {
    sd = NULL;
    if (cs__win_meta_decode(good[i], &attrs, &sd) != CS_OK)
      CHECK_STR(good[i], "(read)");
    LocalFree(sd);
  }
}

/* The encoding refuses the same: a descriptor with a NULL DACL, and one with an entry
 * other than allow and deny (here a conditional one, ACCESS_ALLOWED_CALLBACK, made by
 * hand since the SDDL functions of older systems do not parse it). */
CS_TEST(meta_encode_refuses_null_dacl_and_other_entries) {
  SECURITY_DESCRIPTOR sd;
  union {
    ACL acl;
    BYTE b[256];
  } acl;
  struct {
    ACE_HEADER h;
    ACCESS_MASK mask;
    BYTE sid[SECURITY_MAX_SID_SIZE];
  } ace;
  BYTE system[SECURITY_MAX_SID_SIZE];
  DWORD n = sizeof system;
  char *meta = NULL;
  CHECK(CreateWellKnownSid(WinLocalSystemSid, NULL, system, &n));
  CHECK(InitializeSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION));
  CHECK(SetSecurityDescriptorOwner(&sd, system, FALSE));
  CHECK(SetSecurityDescriptorDacl(&sd, TRUE, NULL, FALSE));
  CHECK_INT(cs__win_meta_encode(&sd, 0, &meta), ==, CS_EFORMAT);
  CHECK(meta == NULL);
  /* the same owner with a DACL of one plain entry is kept */
  CHECK(InitializeAcl(&acl.acl, sizeof acl, ACL_REVISION));
  CHECK(AddAccessAllowedAce(&acl.acl, ACL_REVISION, FILE_ALL_ACCESS, system));
  CHECK(SetSecurityDescriptorDacl(&sd, TRUE, &acl.acl, FALSE));
  CHECK_INT(cs__win_meta_encode(&sd, 0, &meta), ==, CS_OK);
  free(meta);
  meta = NULL;
  /* and refused with a callback entry added */
  memset(&ace, 0, sizeof ace);
  ace.h.AceType = ACCESS_ALLOWED_CALLBACK_ACE_TYPE;
  ace.h.AceSize = (WORD)(sizeof ace.h + sizeof ace.mask + GetLengthSid(system));
  ace.mask = FILE_ALL_ACCESS;
  memcpy(ace.sid, system, GetLengthSid(system));
  CHECK(AddAce(&acl.acl, ACL_REVISION, MAXDWORD, &ace, ace.h.AceSize));
  CHECK_INT(cs__win_meta_encode(&sd, 0, &meta), ==, CS_EFORMAT);
  CHECK(meta == NULL);
}

/* The DACL a temp file is created with before its own is set: protected (nothing the
 * folder passes on), one entry, every right, for the process's user alone. */
CS_TEST(creator_only_descriptor) {
  PSECURITY_DESCRIPTOR sd = NULL;
  SECURITY_DESCRIPTOR_CONTROL control = 0;
  BOOL present = FALSE, defaulted;
  PACL dacl = NULL;
  ACCESS_ALLOWED_ACE *ace = NULL;
  HANDLE tok = NULL;
  union {
    TOKEN_USER u;
    BYTE b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  } user;
  DWORD rev, n;
  CHECK_INT(cs__win_creator_only_sd(&sd), ==, CS_OK);
  CHECK(sd != NULL);
  if (sd == NULL)
    return;
  CHECK(GetSecurityDescriptorControl(sd, &control, &rev) && (control & SE_DACL_PROTECTED));
  CHECK(GetSecurityDescriptorDacl(sd, &present, &dacl, &defaulted) && present && dacl != NULL);
  CHECK(dacl != NULL && dacl->AceCount == 1 && GetAce(dacl, 0, (LPVOID *)&ace));
  CHECK(OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) &&
        GetTokenInformation(tok, TokenUser, &user, sizeof user, &n));
  CHECK(ace != NULL && ace->Header.AceType == ACCESS_ALLOWED_ACE_TYPE && ace->Mask == FILE_ALL_ACCESS &&
        EqualSid((PSID)&ace->SidStart, user.u.User.Sid));
  CloseHandle(tok);
  LocalFree(sd);
}

/* SeRestorePrivilege is not turned on for a thread that already impersonates (the
 * RevertToSelf after would end that impersonation): it is left as it was. */
CS_TEST(restore_privilege_leaves_an_impersonation_alone) {
  HANDLE tok = NULL;
  CHECK(ImpersonateSelf(SecurityIdentification));
  CHECK_INT(cs__win_restore_privilege(), ==, 0);
  CHECK(OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok));
  if (tok != NULL)
    CloseHandle(tok);
  CHECK(RevertToSelf());
  /* not impersonating: it turns the privilege on (LocalSystem and administrators hold
   * it; Wine's user is one), and cs__win_revert ends it */
  if (cs__win_restore_privilege()) {
    cs__win_revert();
  }
  tok = NULL;
  CHECK(!OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE, &tok));
  CHECK_INT(GetLastError(), ==, ERROR_NO_TOKEN);
}

/* ---- through the files ----------------------------------------------------------- */

static void put(const char *path, const char *text) {
  cs_err_t err;
  CHECK_INT(cs_plat_write_atomic(path, text, strlen(text), 0644, &err), ==, CS_OK);
}

static DWORD attributes(const char *path) {
  wchar_t w[1200];
  MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1200);
  return GetFileAttributesW(w) & CS__WIN_KEPT_ATTRIBUTES;
}

static void set_attributes(const char *path, DWORD attrs) {
  wchar_t w[1200];
  MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1200);
  CHECK(SetFileAttributesW(w, attrs ? attrs : FILE_ATTRIBUTE_NORMAL));
}

static void fresh(void) {
  cs_test_mkdtemp("cs-winmeta", dir, sizeof dir);
  cs_test_mkdtemp("cs-winmeta-state", state, sizeof state);
}

static void done(void) {
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
  CHECK_INT(cs_plat_remove_tree(state, NULL), ==, CS_OK);
}

/* The read gives the bytes and a meta that reads back; written back with it, the
 * bytes go in, nothing is left beside the file or in the record folder, and the file
 * reads back the same meta (under Wine: its attributes, and the owner and DACL Wine
 * makes up, which nothing changed). */
CS_TEST(read_meta_then_write_recorded) {
  unsigned char *data = NULL;
  size_t len = 0;
  char *meta = NULL, *again = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD attrs = 0;
  cs_err_t err;
  fresh();
  put(at("tls.json"), "{ \"thumbprint\": \"old\" }");
  CHECK_INT(cs_plat_read_file_meta(at("tls.json"), 4096, &data, &len, &meta, &err), ==, CS_OK);
  CHECK(data != NULL && len == 23 && memcmp(data, "{ \"thumbprint\": \"old\" }", 23) == 0);
  CHECK(meta != NULL && strncmp(meta, "A:", 2) == 0 && strstr(meta, ";O:") != NULL && strstr(meta, "D:") != NULL);
  CHECK(meta != NULL && strpbrk(meta, "\t\r\n") == NULL);
  CHECK_INT(cs__win_meta_decode(meta, &attrs, &sd), ==, CS_OK);
  LocalFree(sd);
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "{ \"thumbprint\": \"new\" }", 23, meta, state, &err), ==, CS_OK);
  cs_test_file_is_str(at("tls.json"), "{ \"thumbprint\": \"new\" }");
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  CHECK_INT(cs_test_count_entries(state), ==, 0);
  cs_plat_free_file(data, len);
  data = NULL;
  CHECK_INT(cs_plat_read_file_meta(at("tls.json"), 4096, &data, &len, &again, &err), ==, CS_OK);
  CHECK_STR(again != NULL ? again : "", meta != NULL ? meta : "-");
  cs_plat_free_file(data, len);
  free(again);
  free(meta);
  done();
}

/* A binding file with a second name (a hard link the folder's writer made to a file of
 * someone else's) is not read for writing back: nothing is returned. */
CS_TEST(read_meta_refuses_a_second_name) {
  static unsigned char x[] = "x";
  static char y[] = "y";
  unsigned char *data = x;
  size_t len = 1;
  char *meta = y;
  wchar_t name[1200], target[1200];
  cs_err_t err;
  fresh();
  CHECK_INT(cs_plat_mkdirs(at("system"), 0755, &err), ==, CS_OK);
  put(at("system\\secret.dat"), "system's");
  MultiByteToWideChar(CP_UTF8, 0, at("system\\secret.dat"), -1, target, 1200);
  MultiByteToWideChar(CP_UTF8, 0, at("tls.json"), -1, name, 1200);
  CHECK(CreateHardLinkW(name, target, NULL));
  CHECK_INT(cs_plat_read_file_meta(at("tls.json"), 4096, &data, &len, &meta, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "more than one name");
  CHECK(data == NULL && len == 0 && meta == NULL);
  /* with one name again, it is read */
  CHECK_INT(cs_plat_remove(at("system\\secret.dat"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_read_file_meta(at("tls.json"), 4096, &data, &len, &meta, &err), ==, CS_OK);
  CHECK(meta != NULL);
  cs_plat_free_file(data, len);
  free(meta);
  done();
}

/* What the file read had, not what the folder's writer put at the path since: the
 * file read was hidden and archived, the one found at the write is read-only and not
 * hidden; the new file is hidden and archived, not read-only. Written as a new file
 * (nothing at the path), likewise. On the code that copied from the file at the path
 * it came out read-only. (Wine shows every file archived: read-only and hidden are
 * what this proves.) */
CS_TEST(write_recorded_takes_the_attributes_recorded) {
  unsigned char *data = NULL;
  size_t len = 0;
  char *meta = NULL;
  cs_err_t err;
  DWORD kept = FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_ARCHIVE;
  fresh();
  put(at("tls.json"), "read");
  set_attributes(at("tls.json"), kept);
  CHECK_INT(cs_plat_read_file_meta(at("tls.json"), 4096, &data, &len, &meta, &err), ==, CS_OK);
  CHECK(meta != NULL && strncmp(meta, "A:22;", 5) == 0);
  set_attributes(at("tls.json"), 0);
  CHECK_INT(cs_plat_remove(at("tls.json"), &err), ==, CS_OK);
  put(at("tls.json"), "planted");
  set_attributes(at("tls.json"), FILE_ATTRIBUTE_READONLY);
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "written", 7, meta, state, &err), ==, CS_OK);
  cs_test_file_is_str(at("tls.json"), "written");
  CHECK_INT(attributes(at("tls.json")), ==, kept);
  CHECK_INT(cs_test_count_entries(dir), ==, 1);

  set_attributes(at("tls.json"), 0);
  CHECK_INT(cs_plat_remove(at("tls.json"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "again", 5, meta, state, &err), ==, CS_OK);
  cs_test_file_is_str(at("tls.json"), "again");
  CHECK_INT(attributes(at("tls.json")), ==, kept);
  /* without meta, as before: what the file at the path has */
  set_attributes(at("tls.json"), FILE_ATTRIBUTE_READONLY);
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "plain", 5, NULL, state, &err), ==, CS_OK);
  CHECK_INT(attributes(at("tls.json")) & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN), ==,
            FILE_ATTRIBUTE_READONLY);
  set_attributes(at("tls.json"), 0);
  cs_plat_free_file(data, len);
  free(meta);
  done();
}

/* A meta that cannot be read writes nothing: the file keeps its bytes, no temp file,
 * no record. */
CS_TEST(write_recorded_malformed_meta_writes_nothing) {
  cs_err_t err;
  fresh();
  put(at("tls.json"), "old");
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "new", 3, "A:0;O:SY", state, &err), ==, CS_EFORMAT);
  CHECK_CONTAINS(err.text, "not written");
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "new", 3, "0:0:600:-", state, &err), ==, CS_EFORMAT);
  CHECK_INT(cs_plat_write_recorded(at("missing.json"), "new", 3, "A:x;", state, &err), ==, CS_EFORMAT);
  cs_test_file_is_str(at("tls.json"), "old");
  CHECK(!cs_plat_exists(at("missing.json")));
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  CHECK_INT(cs_test_count_entries(state), ==, 0);
  done();
}

/* A meta naming an owner and a protected DACL other than the file's: the write goes
 * through (SetSecurityInfo for the DACL, then the owner with SeRestorePrivilege). Under
 * Wine the file's owner and DACL read back as they were, Wine storing none; on NTFS they
 * are SYSTEM and the DACL given. */
CS_TEST(write_recorded_with_another_owner_and_dacl) {
  cs_err_t err;
  fresh();
  put(at("tls.json"), "old");
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "new", 3,
                                   "A:0;O:SYD:PAI(A;;FA;;;SY)(A;;FA;;;BA)(A;;0x1200a9;;;" CONNECTOR ")", state, &err),
            ==, CS_OK);
  cs_test_file_is_str(at("tls.json"), "new");
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  CHECK_INT(cs_test_count_entries(state), ==, 0);
  done();
}

/* The undo's question before a binding file is written back (cs_plat_recorded_owner_
 * unchanged): the file's owner is the recorded one (read back here), or nothing is
 * there; a record naming another owner (the connector's account, when the file now
 * has Wine's made-up owner) is refused, naming both. Under Wine every file has the same
 * made-up owner, so that a file planted by another account is told by its owner on
 * NTFS only; here, the walk, the open and the comparison. */
CS_TEST(recorded_owner_unchanged_compares_owners) {
  unsigned char *data = NULL;
  size_t len = 0;
  char *meta = NULL, other[512];
  cs_err_t err;
  fresh();
  put(at("tls.json"), "{}");
  CHECK_INT(cs_plat_read_file_meta(at("tls.json"), 4096, &data, &len, &meta, &err), ==, CS_OK);
  cs_plat_free_file(data, len);
  CHECK_INT(cs_plat_recorded_owner_unchanged(at("tls.json"), meta, &err), ==, CS_OK);
  CHECK_INT(cs_plat_recorded_owner_unchanged(at("missing.json"), meta, &err), ==, CS_OK);
  snprintf(other, sizeof other, "A:20;O:" CONNECTOR "D:(A;;FA;;;SY)");
  CHECK_INT(cs_plat_recorded_owner_unchanged(at("tls.json"), other, &err), ==, CS_EACCES);
  CHECK_CONTAINS(err.text, "not by " CONNECTOR " as when it was saved");
  CHECK_INT(cs_plat_recorded_owner_unchanged(at("tls.json"), "A:20;garbage", &err), ==, CS_EFORMAT);
  free(meta);
  done();
}
