/* The Windows file primitives a binding rewrite rests on (common/win/replace.c,
 * common/win/sys.c), under Wine's real sharing checks: a file the connector holds open
 * (read and write, shared for reading only) is still read, and is not replaced behind
 * its back; one held with every sharing is replaced; attributes, owner and DACL read
 * back the same after a replacement and after a rewrite and its undo; a replacement
 * cut short between its two renames is put back by the recovery's clean-up. Wine
 * keeps no file ACLs (the owner and DACL read back are what it makes up): that they
 * survive is proven on NTFS only; here, that nothing changes them. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <aclapi.h>
#include <sddl.h>

#include "bindings.h"
#include "platform.h"

#define OLD_TP "3B2C1A0F9E8D7C6B5A4938271605F4E3D2C1B0A9"
#define NEW_TP "A1B2C3D4E5F60718293A4B5C6D7E8F9001122334"

static char dir[1024];

static const char *at(const char *name) { return cs_test_join(dir, name); }

static HANDLE hold(const char *path, DWORD access, DWORD share) {
  wchar_t w[1200];
  MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1200);
  return CreateFileW(w, access, share, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
}

static void put(const char *path, const char *text) {
  cs_err_t err;
  CHECK_INT(cs_plat_write_atomic(path, text, strlen(text), 0644, &err), ==, CS_OK);
}

/* The file's bytes as a string ("" when it cannot be read: the check that follows fails). */
static const char *contents(const char *path) {
  static char buf[4096];
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  buf[0] = '\0';
  if (cs_plat_read_file(path, sizeof buf - 1, CS_READ_NOFOLLOW, &data, &len, &err) == CS_OK)
    memcpy(buf, data, len + 1);
  else
    fprintf(stderr, "read %s: %s\n", path, err.text);
  cs_plat_free_file(data, len);
  return buf;
}

/* "attributes owner DACL" as text: what a replacement must keep. */
static const char *identity(const char *path) {
  static char out[2048];
  wchar_t w[1200], *sddl = NULL;
  PSECURITY_DESCRIPTOR sd = NULL;
  DWORD e;
  MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1200);
  e = GetNamedSecurityInfoW(w, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, NULL, NULL,
                            NULL, &sd);
  if (e != ERROR_SUCCESS ||
      !ConvertSecurityDescriptorToStringSecurityDescriptorW(
          sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &sddl, NULL)) {
    snprintf(out, sizeof out, "(cannot read: %lu)", (unsigned long)e);
  } else {
    snprintf(out, sizeof out, "%08lx %ls", (unsigned long)(GetFileAttributesW(w) & ~FILE_ATTRIBUTE_NORMAL), sddl);
  }
  LocalFree(sddl);
  LocalFree(sd);
  return out;
}

/* The connector keeps its settings open for reading and writing, shared for reading
 * only: certsteward still reads them (its open shares writing and deletion too). */
CS_TEST(read_while_the_connector_holds_it) {
  HANDLE h;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  put(at("tls.json"), "{ \"thumbprint\": \"" OLD_TP "\" }");
  h = hold(at("tls.json"), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ);
  CHECK(h != INVALID_HANDLE_VALUE);
  CHECK_STR(contents(at("tls.json")), "{ \"thumbprint\": \"" OLD_TP "\" }");
  CloseHandle(h);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

/* While it holds them so, no replacement goes through (ReplaceFile needs
 * FILE_SHARE_DELETE from every handle): the write fails within its retries, the old
 * file is whole and nothing is left beside it. Held with every sharing, it goes. */
CS_TEST(replace_refused_while_held_unshared_then_done) {
  cs_err_t err;
  long long t0;
  HANDLE h;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  put(at("tls.json"), "old");
  h = hold(at("tls.json"), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ);
  CHECK(h != INVALID_HANDLE_VALUE);
  t0 = (long long)GetTickCount64();
  CHECK_INT(cs_plat_write_atomic(at("tls.json"), "new", 3, 0644, &err), ==, CS_EACCES);
  CHECK_INT((long long)GetTickCount64() - t0, <, 5000);
  CHECK_CONTAINS(err.text, "sharing it for deletion");
  CloseHandle(h);
  CHECK_STR(contents(at("tls.json")), "old");
  CHECK_INT(cs_test_count_entries(dir), ==, 1);

  h = hold(at("tls.json"), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE);
  CHECK(h != INVALID_HANDLE_VALUE);
  CHECK_INT(cs_plat_write_atomic(at("tls.json"), "new", 3, 0644, &err), ==, CS_OK);
  CloseHandle(h);
  CHECK_STR(contents(at("tls.json")), "new");
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

/* Attributes (read-only, hidden, archive), owner and DACL read back the same after a
 * replacement, and after a binding rewrite and its undo, which gives back the very bytes. */
CS_TEST(replace_keeps_attributes_owner_and_dacl) {
  static const char json[] = "{\r\n  \"thumbprint\": \"" OLD_TP "\"\r\n}\r\n";
  const char *files[1];
  char before[2048];
  wchar_t w[1200];
  cs_bindings_backup_t backup;
  cs_err_t err;
  DWORD want = FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_ARCHIVE;

  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  files[0] = at("tls.json");
  put(files[0], json);
  MultiByteToWideChar(CP_UTF8, 0, files[0], -1, w, 1200);
  CHECK(SetFileAttributesW(w, want));
  snprintf(before, sizeof before, "%s", identity(files[0]));
  CHECK_INT(strtoul(before, NULL, 16) & want, ==, want);

  put(files[0], "{ }");
  CHECK_STR(contents(files[0]), "{ }");
  CHECK_STR(identity(files[0]), before);
  put(files[0], json);

  CHECK_INT(cs_bindings_rewrite(files, 1, OLD_TP, NEW_TP, at("bk"), &backup, &err), ==, CS_OK);
  CHECK_CONTAINS(contents(files[0]), NEW_TP);
  CHECK_STR(identity(files[0]), before);
  CHECK_INT(cs_bindings_restore(&backup, &err), ==, CS_OK);
  CHECK_STR(contents(files[0]), json);
  CHECK_STR(identity(files[0]), before);
  CHECK_INT(cs_bindings_backup_remove(&backup, &err), ==, CS_OK);
  cs_bindings_backup_free(&backup);
  CHECK(SetFileAttributesW(w, FILE_ATTRIBUTE_NORMAL));
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

/* Killed between ReplaceFile's two renames: the old file at its backup name, the new
 * contents at the temp name, nothing at the path. The recovery's clean-up puts the
 * old one back and removes the rest. */
CS_TEST(replacement_cut_short_is_put_back) {
  cs_err_t err;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  put(at(".journal.AbC123.bak"), "step 3");
  put(at(".journal.XyZ789.tmp"), "step 4");
  put(at(".journal.old000.bak"), "step 2"); /* an older one, removed */
  {
    HANDLE h = hold(at(".journal.old000.bak"), FILE_WRITE_ATTRIBUTES, FILE_SHARE_READ | FILE_SHARE_WRITE);
    FILETIME old = {1, 1}; /* 1601 */
    CHECK(h != INVALID_HANDLE_VALUE && SetFileTime(h, NULL, NULL, &old));
    CloseHandle(h);
  }
  CHECK_INT(cs_plat_remove_temps(at("journal"), &err), ==, CS_OK);
  CHECK_STR(contents(at("journal")), "step 3");
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  /* with the file in place, every copy beside it goes */
  put(at(".journal.AbC124.bak"), "step 3");
  CHECK_INT(cs_plat_remove_temps(at("journal"), &err), ==, CS_OK);
  CHECK_STR(contents(at("journal")), "step 3");
  CHECK_INT(cs_test_count_entries(dir), ==, 1);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

/* ---- binding files in a folder the connector's account may write ---------------- */

extern int cs__win_test_cut_replace; /* common/win/replace.c, test builds */
int cs__win_same_path(const wchar_t *a, const wchar_t *b);

static char state[1024];

/* A recorded replacement leaves nothing beside the file, and no record once done. */
CS_TEST(recorded_write_leaves_nothing) {
  cs_err_t err;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  cs_test_mkdtemp("cs-winfs-state", state, sizeof state);
  put(at("tls.json"), "old");
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "new", 3, NULL, state, &err), ==, CS_OK);
  CHECK_STR(contents(at("tls.json")), "new");
  CHECK_INT(cs_plat_write_recorded(at("new.json"), "fresh", 5, NULL, state, &err), ==, CS_OK);
  CHECK_STR(contents(at("new.json")), "fresh");
  CHECK_INT(cs_test_count_entries(dir), ==, 2);
  CHECK_INT(cs_test_count_entries(state), ==, 0);
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "x", 1, NULL, "", &err), ==, CS_EINVAL);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
  CHECK_INT(cs_plat_remove_tree(state, NULL), ==, CS_OK);
}

/* Cut short between ReplaceFile's renames (the old file at its backup name, the new
 * contents at the temp name, nothing at the path): the recovery puts back the old
 * file and removes the temp file it recorded, and leaves alone the look-alikes it did
 * not make (the old clean-up listed the folder and removed them, or put a planted
 * ".bak" in place of the file). */
CS_TEST(recovery_acts_only_on_what_was_recorded) {
  cs_err_t err;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  cs_test_mkdtemp("cs-winfs-state", state, sizeof state);
  put(at("tls.json"), "old");
  put(at(".tls.json.Decoy1.tmp"), "planted tmp");
  put(at(".tls.json.Decoy2.bak"), "planted bak");
  cs__win_test_cut_replace = 1;
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "new", 3, NULL, state, &err), ==, CS_EFAILED);
  CHECK(!cs_plat_exists(at("tls.json")));
  CHECK_INT(cs_test_count_entries(dir), ==, 4); /* the recorded .bak and .tmp, the two planted */
  CHECK_INT(cs_test_count_entries(state), ==, 1);
  if (cs_plat_recover_recorded(at("tls.json"), state, &err) != CS_OK)
    CHECK_STR(err.text, "");
  CHECK_STR(contents(at("tls.json")), "old");
  CHECK_STR(contents(at(".tls.json.Decoy1.tmp")), "planted tmp");
  CHECK_STR(contents(at(".tls.json.Decoy2.bak")), "planted bak");
  CHECK_INT(cs_test_count_entries(dir), ==, 3);
  CHECK_INT(cs_test_count_entries(state), ==, 0);
  /* nothing recorded any more: a second recovery changes nothing */
  CHECK_INT(cs_plat_remove(at("tls.json"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_recover_recorded(at("tls.json"), state, &err), ==, CS_OK);
  CHECK(!cs_plat_exists(at("tls.json")));
  CHECK_INT(cs_test_count_entries(dir), ==, 2);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
  CHECK_INT(cs_plat_remove_tree(state, NULL), ==, CS_OK);
}

/* A file put at a recorded name after the crash is not the one recorded (another
 * file index): it is neither moved into place nor deleted, and the record stays. */
CS_TEST(recovery_leaves_a_file_swapped_in_at_a_recorded_name) {
  char bak[1024] = "";
  WIN32_FIND_DATAA fd;
  HANDLE find;
  cs_err_t err;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  cs_test_mkdtemp("cs-winfs-state", state, sizeof state);
  put(at("tls.json"), "old");
  cs__win_test_cut_replace = 1;
  CHECK_INT(cs_plat_write_recorded(at("tls.json"), "new", 3, NULL, state, &err), ==, CS_EFAILED);
  find = FindFirstFileA(at(".tls.json.*.bak"), &fd);
  CHECK(find != INVALID_HANDLE_VALUE);
  if (find != INVALID_HANDLE_VALUE) {
    snprintf(bak, sizeof bak, "%s", at(fd.cFileName));
    FindClose(find);
  }
  put(at("other"), "someone else's"); /* made while the backup exists: another file index */
  CHECK_INT(cs_plat_remove(bak, &err), ==, CS_OK);
  CHECK_INT(cs_plat_rename(at("other"), bak, &err), ==, CS_OK);
  CHECK_INT(cs_plat_recover_recorded(at("tls.json"), state, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "not the file certsteward made");
  CHECK(!cs_plat_exists(at("tls.json")));
  CHECK_STR(contents(bak), "someone else's");
  CHECK_INT(cs_test_count_entries(state), ==, 1);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
  CHECK_INT(cs_plat_remove_tree(state, NULL), ==, CS_OK);
}

/* A record's path against the path meant: one file, whatever the form. */
CS_TEST(final_path_comparison) {
  CHECK(cs__win_same_path(L"C:\\Program Files\\BOARD\\config\\servers\\tls.json",
                          L"\\\\?\\c:\\program files\\board\\CONFIG\\servers\\TLS.JSON"));
  CHECK(cs__win_same_path(L"C:/x/y.json", L"\\\\?\\C:\\x\\y.json"));
  CHECK(cs__win_same_path(L"\\\\srv\\share\\f", L"\\\\?\\UNC\\srv\\share\\f"));
  CHECK(!cs__win_same_path(L"C:\\x\\servers\\tls.json", L"\\\\?\\C:\\attacker\\tls.json"));
  CHECK(!cs__win_same_path(L"C:\\a\\b", L"C:\\a\\bb"));
  CHECK(!cs__win_same_path(L"C:\\a\\bb", L"C:\\a\\b"));
  CHECK(!cs__win_same_path(L"\\\\srv\\c\\x", L"C:\\x"));
  CHECK(!cs__win_same_path(L"C:\\PROGRA~1\\x", L"\\\\?\\C:\\Program Files\\x")); /* short names: refused */
}

/* A hard link planted at a binding file's name (or at the lock file's), to a file of
 * someone else's: the replacement and the lock refuse it and leave that file as it
 * was, its bytes and its read-only mode; a removal takes away the planted name at
 * most, never the mode of the file it shares (attributes are the file's, every name
 * of it). Wine keeps hard links and the mode as the host does: this runs for real. */
CS_TEST(hard_link_planted_at_the_name) {
  cs_plat_lock_t *lock = NULL;
  wchar_t secret[1200], other[1200], name[1200];
  cs_err_t err;
  int rc;
  cs_test_mkdtemp("cs-winfs", dir, sizeof dir);
  CHECK_INT(cs_plat_mkdirs(at("config"), 0755, &err), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(at("system"), 0755, &err), ==, CS_OK);
  put(at("system\\secret.dat"), "system's");
  put(at("system\\other.dat"), "other");
  MultiByteToWideChar(CP_UTF8, 0, at("system\\secret.dat"), -1, secret, 1200);
  MultiByteToWideChar(CP_UTF8, 0, at("system\\other.dat"), -1, other, 1200);
  CHECK(SetFileAttributesW(secret, FILE_ATTRIBUTE_READONLY));
  MultiByteToWideChar(CP_UTF8, 0, at("config\\tls.json"), -1, name, 1200);
  CHECK(CreateHardLinkW(name, secret, NULL));
  CHECK_INT(cs_plat_write_atomic(at("config\\tls.json"), "new", 3, 0644, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "more than one name");
  CHECK_INT(cs_plat_write_recorded(at("config\\tls.json"), "new", 3, NULL, at("state"), &err), ==, CS_ENOTREG);
  CHECK_STR(contents(at("config\\tls.json")), "system's");
  CHECK_STR(contents(at("system\\secret.dat")), "system's");
  CHECK((GetFileAttributesW(secret) & FILE_ATTRIBUTE_READONLY) != 0);
  CHECK_INT(cs_test_count_entries(at("config")), ==, 1); /* no temp file, no backup left */

  MultiByteToWideChar(CP_UTF8, 0, at("config\\certsteward.lock"), -1, name, 1200);
  CHECK(CreateHardLinkW(name, other, NULL));
  CHECK_INT(cs_plat_lock(at("config\\certsteward.lock"), &lock, &err), ==, CS_ENOTREG);
  CHECK(lock == NULL);
  CHECK_STR(contents(at("system\\other.dat")), "other");

  rc = cs_plat_remove(at("config\\tls.json"), &err);
  CHECK((GetFileAttributesW(secret) & FILE_ATTRIBUTE_READONLY) != 0);
  CHECK_STR(contents(at("system\\secret.dat")), "system's");
  CHECK(rc == CS_OK ? !cs_plat_exists(at("config\\tls.json")) : cs_plat_exists(at("config\\tls.json")));
  (void)SetFileAttributesW(secret, FILE_ATTRIBUTE_NORMAL);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}
