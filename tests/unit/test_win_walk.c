/* A link planted in a folder another account can write (the connector's config
 * folder, a folder above a binding file) redirects none of the file operations
 * certsteward does as LocalSystem (common/win/walk.c): each is refused, and the
 * folder the link leads to is left exactly as it was (its files' bytes, nothing
 * created, nothing removed).
 *
 * The link: on Windows a junction (FSCTL_SET_REPARSE_POINT, IO_REPARSE_TAG_MOUNT_POINT,
 * which needs no privilege); under Wine 8, which makes no reparse point
 * (CreateSymbolicLinkW does nothing, the FSCTL fails with 50), a Unix symbolic link to
 * the folder, made by /bin/ln, which Wine lists as FILE_ATTRIBUTE_REPARSE_POINT and
 * follows on open. Only real Windows proves the refusal of a link as the file itself
 * and of a symbolic link to a file (Wine reports neither): that decision is the pure
 * cs__win_link_verdict, tested here. */
#include "cs_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <windows.h>
#include <winioctl.h>

#include "platform.h"

#define CS__WIN_PLAIN 0 /* common/win/win.h */
#define CS__WIN_LINK 1
#define CS__WIN_FOLLOWED 2
int cs__win_link_verdict(DWORD handle_attrs, DWORD entry_attrs);

static char dir[1024];

static const char *at(const char *name) { return cs_test_join(dir, name); }

static void widen(const char *s, wchar_t *w) { MultiByteToWideChar(CP_UTF8, 0, s, -1, w, 1200); }

/* A junction at link to the folder target (Windows). */
static int junction(const wchar_t *link, const wchar_t *target) {
  union {
    struct {
      DWORD tag;
      WORD len, reserved, sub_off, sub_len, print_off, print_len;
      WCHAR path[1100];
    } r;
    unsigned char b[4096];
  } buf;
  wchar_t sub[1200];
  size_t n;
  DWORD got;
  HANDLE h;
  BOOL ok;
  swprintf(sub, 1200, L"\\??\\%ls", target);
  n = wcslen(sub);
  if (!CreateDirectoryW(link, NULL))
    return 0;
  h = CreateFileW(link, GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                  FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
  memset(&buf, 0, sizeof buf);
  buf.r.tag = IO_REPARSE_TAG_MOUNT_POINT;
  buf.r.sub_len = (WORD)(n * 2);
  buf.r.print_off = (WORD)(n * 2 + 2);
  memcpy(buf.r.path, sub, n * 2);
  buf.r.len = (WORD)(8 + n * 2 + 2 + 2);
  ok = h != INVALID_HANDLE_VALUE &&
       DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, &buf, (DWORD)buf.r.len + 8, NULL, 0, &got, NULL);
  if (h != INVALID_HANDLE_VALUE)
    CloseHandle(h);
  if (!ok)
    RemoveDirectoryW(link);
  return ok;
}

/* Runs the Unix program prog (Z:\bin\...) with the Unix paths of the Windows paths a
 * and b (b may be NULL), Wine only; 0 when this is no Wine. */
static int unix_run(const wchar_t *prog, const char *flag, const wchar_t *a, const wchar_t *b) {
  char *(CDECL * unix_name)(LPCWSTR) = NULL;
  FARPROC f = GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "wine_get_unix_file_name");
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  wchar_t cmd[3000];
  char *ua, *ub = NULL;
  if (f == NULL)
    return 0;
  memcpy(&unix_name, &f, sizeof f);
  if ((ua = unix_name(a)) == NULL || (b != NULL && (ub = unix_name(b)) == NULL))
    return 0;
  swprintf(cmd, 3000, L"prog %hs \"%hs\" \"%hs\"", flag, ua, ub != NULL ? ub : "");
  if (b == NULL)
    swprintf(cmd, 3000, L"prog %hs \"%hs\"", flag, ua);
  HeapFree(GetProcessHeap(), 0, ua);
  HeapFree(GetProcessHeap(), 0, ub);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessW(prog, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
    return 0;
  WaitForSingleObject(pi.hProcess, 10000); /* a Unix process gives Wine no exit to wait for */
  CloseHandle(pi.hProcess);
  CloseHandle(pi.hThread);
  return 1;
}

/* A Unix symbolic link at link to target, made by /bin/ln (Wine only). */
static int unix_link(const wchar_t *link, const wchar_t *target) {
  int i;
  if (!unix_run(L"Z:\\bin\\ln", "-s", target, link))
    return 0;
  for (i = 0; i < 100 && GetFileAttributesW(link) == INVALID_FILE_ATTRIBUTES; i++)
    Sleep(20);
  return 1;
}

/* Removes the link itself: a junction by RemoveDirectoryW, a Unix link by /bin/rm. */
static void unlink_link(const wchar_t *link) {
  int i;
  if (RemoveDirectoryW(link) && GetFileAttributesW(link) == INVALID_FILE_ATTRIBUTES)
    return;
  (void)unix_run(L"Z:\\bin\\rm", "-f", link, NULL);
  for (i = 0; i < 100 && GetFileAttributesW(link) != INVALID_FILE_ATTRIBUTES; i++)
    Sleep(20);
}

/* dir\outside (with secret.json "outside", sub\f "deep"), and dir\config, a link to it
 * that the system reports as a reparse point. */
static void plant(void) {
  wchar_t link[1200], target[1200];
  DWORD attrs;
  cs_err_t err;
  cs_test_mkdtemp("cs-walk", dir, sizeof dir);
  CHECK_INT(cs_plat_mkdirs(at("outside\\sub"), 0755, &err), ==, CS_OK);
  CHECK_INT(cs_plat_write_atomic(at("outside\\secret.json"), "outside", 7, 0644, &err), ==, CS_OK);
  CHECK_INT(cs_plat_write_atomic(at("outside\\sub\\f"), "deep", 4, 0644, &err), ==, CS_OK);
  widen(at("config"), link);
  widen(at("outside"), target);
  CHECK(junction(link, target) || unix_link(link, target));
  attrs = GetFileAttributesW(link);
  CHECK(attrs != INVALID_FILE_ATTRIBUTES && (attrs & FILE_ATTRIBUTE_REPARSE_POINT));
}

/* The folder the link leads to, as plant() left it, give or take what a test adds. */
static void outside_untouched(int entries) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  CHECK_INT(cs_plat_read_file(at("outside\\secret.json"), 100, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_OK);
  CHECK(len == 7 && data != NULL && memcmp(data, "outside", 7) == 0);
  cs_plat_free_file(data, len);
  data = NULL;
  CHECK_INT(cs_plat_read_file(at("outside\\sub\\f"), 100, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_OK);
  CHECK(len == 4 && data != NULL && memcmp(data, "deep", 4) == 0);
  cs_plat_free_file(data, len);
  CHECK_INT(cs_test_count_entries(at("outside")), ==, entries);
}

/* Removes the link itself (never through it), then the rest. */
static void unplant(void) {
  wchar_t link[1200];
  widen(at("config"), link);
  unlink_link(link);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

static void refused(int rc, const cs_err_t *err) {
  CHECK_INT(rc, ==, CS_ENOTREG);
  CHECK_CONTAINS(err->text, "config is a junction, symbolic link or mount point");
  CHECK_CONTAINS(err->text, "does not follow links");
}

CS_TEST(read_through_a_linked_folder_refused) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  plant();
  refused(cs_plat_read_file(at("config\\secret.json"), 100, CS_READ_NOFOLLOW, &data, &len, &err), &err);
  CHECK(data == NULL);
  outside_untouched(2);
  unplant();
}

CS_TEST(write_atomic_through_a_linked_folder_refused) {
  cs_err_t err;
  plant();
  refused(cs_plat_write_atomic(at("config\\secret.json"), "planted", 7, 0644, &err), &err);
  refused(cs_plat_write_atomic(at("config\\new.json"), "planted", 7, 0644, &err), &err);
  outside_untouched(2); /* no temp file, no new file */
  unplant();
}

CS_TEST(write_recorded_through_a_linked_folder_refused) {
  char state[1024];
  cs_err_t err;
  plant();
  snprintf(state, sizeof state, "%s", at("state"));
  CHECK_INT(cs_plat_mkdirs(state, 0700, &err), ==, CS_OK);
  refused(cs_plat_write_recorded(at("config\\secret.json"), "planted", 7, NULL, state, &err), &err);
  refused(cs_plat_write_recorded(at("config\\sub\\f"), "planted", 7, NULL, state, &err), &err);
  outside_untouched(2);
  CHECK_INT(cs_test_count_entries(state), ==, 0);
  unplant();
}

CS_TEST(remove_and_remove_tree_through_a_linked_folder_refused) {
  cs_err_t err;
  plant();
  refused(cs_plat_remove(at("config\\secret.json"), &err), &err);
  refused(cs_plat_remove_tree(at("config\\sub"), &err), &err);
  refused(cs_plat_remove_temps(at("config\\secret.json"), &err), &err);
  outside_untouched(2);
  unplant();
}

/* A temp file's look-alike in the folder the link leads to is not swept through it. */
CS_TEST(remove_temps_through_a_linked_folder_leaves_the_files_there) {
  cs_err_t err;
  plant();
  CHECK_INT(cs_plat_write_atomic(at("outside\\.secret.json.AbC123.tmp"), "x", 1, 0644, &err), ==, CS_OK);
  CHECK_INT(cs_plat_remove_temps(at("config\\secret.json"), &err), ==, CS_ENOTREG);
  CHECK(cs_plat_exists(at("outside\\.secret.json.AbC123.tmp")));
  outside_untouched(3);
  unplant();
}

CS_TEST(rename_through_a_linked_folder_refused) {
  cs_err_t err;
  plant();
  CHECK_INT(cs_plat_write_atomic(at("mine.json"), "mine", 4, 0644, &err), ==, CS_OK);
  refused(cs_plat_rename(at("mine.json"), at("config\\secret.json"), &err), &err);
  refused(cs_plat_rename(at("config\\secret.json"), at("taken.json"), &err), &err);
  CHECK(cs_plat_exists(at("mine.json")));
  CHECK(!cs_plat_exists(at("taken.json")));
  outside_untouched(2);
  unplant();
}

CS_TEST(mkdirs_through_a_linked_folder_refused) {
  cs_err_t err;
  plant();
  refused(cs_plat_mkdirs(at("config\\made\\deeper"), 0700, &err), &err);
  refused(cs_plat_mkdirs(at("config"), 0700, &err), &err); /* an existing level that is a link */
  outside_untouched(2);
  unplant();
}

CS_TEST(exists_lock_and_log_through_a_linked_folder) {
  cs_plat_lock_t *lock = NULL;
  cs_err_t err;
  FILE *f;
  plant();
  CHECK(!cs_plat_exists(at("config\\secret.json")));
  refused(cs_plat_lock(at("config\\certsteward.lock"), &lock, &err), &err);
  CHECK(lock == NULL);
  f = cs_plat_fopen_log(at("config\\certsteward.log"));
  CHECK(f == NULL);
  if (f != NULL)
    fclose(f);
  outside_untouched(2);
  unplant();
}

/* The safety checks judge what the path names, reached without a link: a folder
 * or file behind a planted link is not judged (and found safe) in its place, and the
 * folders on the path of a written file are not walked through the link either. */
CS_TEST(checks_through_a_linked_folder_refused) {
  char why[600], folder[1024];
  plant();
  CHECK_INT(cs_plat_folder_unsafe(at("outside\\sub"), why, sizeof why), ==, 0); /* the real path is judged */
  CHECK_INT(cs_plat_folder_unsafe(at("config\\sub"), why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "config is a junction, symbolic link or mount point");
  CHECK_INT(cs_plat_folder_unsafe(at("config"), why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "config is a link or reparse point: not followed");
  CHECK_INT(cs_plat_state_unsafe(at("config\\secret.json"), why, sizeof why), ==, 1);
  CHECK_CONTAINS(why, "config is a junction, symbolic link or mount point");
  CHECK_INT(cs_plat_path_writers(at("config\\sub\\f"), folder, sizeof folder, why, sizeof why), ==, 1);
  CHECK_CONTAINS(folder, "config");
  CHECK_CONTAINS(why, "cannot be told");
  CHECK_CONTAINS(why, "config is a link or reparse point: not followed");
  outside_untouched(2);
  unplant();
}

/* A link inside a tree is never descended into: what it leads to stays. (Under Wine
 * the old RemoveDirectoryW did not follow the Unix link either: this guards the new
 * removal through handles, which would empty the folder if it followed.) */
CS_TEST(remove_tree_does_not_descend_into_a_link) {
  wchar_t link[1200], target[1200];
  cs_err_t err;
  plant();
  CHECK_INT(cs_plat_mkdirs(at("tree\\a"), 0755, &err), ==, CS_OK);
  widen(at("tree\\a\\in"), link);
  widen(at("outside"), target);
  CHECK(junction(link, target) || unix_link(link, target));
  (void)cs_plat_remove_tree(at("tree"), &err); /* Windows: the junction goes as a link; Wine: refused */
  outside_untouched(2);
  unlink_link(link);
  CHECK_INT(cs_plat_remove_tree(at("tree"), &err), ==, CS_OK);
  CHECK(!cs_plat_exists(at("tree")));
  unplant();
}

/* ".." is refused, not folded away: a path goes down from its root only. */
CS_TEST(dot_dot_refused) {
  unsigned char *data = NULL;
  size_t len = 0;
  cs_err_t err;
  cs_test_mkdtemp("cs-walk", dir, sizeof dir);
  CHECK_INT(cs_plat_write_atomic(at("a.json"), "a", 1, 0644, &err), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(at("sub"), 0755, &err), ==, CS_OK);
  CHECK_INT(cs_plat_read_file(at("sub\\..\\a.json"), 100, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_EINVAL);
  CHECK_CONTAINS(err.text, "\"..\"");
  CHECK_INT(cs_plat_write_atomic(at("sub\\..\\b.json"), "b", 1, 0644, &err), ==, CS_EINVAL);
  CHECK(!cs_plat_exists(at("b.json")));
  /* "." folds away as the path is made absolute */
  CHECK_INT(cs_plat_read_file(at("sub\\.\\..\\a.json"), 100, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_EINVAL);
  CHECK_INT(cs_plat_read_file(at(".\\a.json"), 100, CS_READ_NOFOLLOW, &data, &len, &err), ==, CS_OK);
  cs_plat_free_file(data, len);
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

/* The plain path still works end to end (a guard, not new behaviour): folders made level by level, a file
 * written, replaced, renamed, removed, a tree removed. */
CS_TEST(plain_paths_work) {
  cs_err_t err;
  cs_test_mkdtemp("cs-walk", dir, sizeof dir);
  CHECK_INT(cs_plat_mkdirs(at("a\\b\\c"), 0700, &err), ==, CS_OK);
  CHECK_INT(cs_plat_mkdirs(at("a\\b\\c"), 0700, &err), ==, CS_OK); /* there already */
  CHECK_INT(cs_plat_write_atomic(at("a\\b\\c\\f.json"), "1", 1, 0644, &err), ==, CS_OK);
  CHECK_INT(cs_plat_write_atomic(at("a\\b\\c\\f.json"), "22", 2, 0644, &err), ==, CS_OK);
  CHECK_INT(cs_test_count_entries(at("a\\b\\c")), ==, 1);
  CHECK_INT(cs_plat_mkdirs(at("a\\b\\c\\f.json\\x"), 0700, &err), ==, CS_ENOTREG);
  CHECK_CONTAINS(err.text, "not a folder");
  CHECK_INT(cs_plat_rename(at("a\\b\\c\\f.json"), at("a\\g.json"), &err), ==, CS_OK);
  CHECK(cs_plat_exists(at("a\\g.json")) && !cs_plat_exists(at("a\\b\\c\\f.json")));
  CHECK_INT(cs_plat_remove(at("a\\b"), &err), ==, CS_ENOTREG); /* a folder */
  CHECK_INT(cs_plat_remove(at("a\\g.json"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_remove(at("a\\g.json"), &err), ==, CS_OK); /* gone already */
  CHECK_INT(cs_plat_remove(at("no\\such\\file"), &err), ==, CS_OK);
  CHECK_INT(cs_plat_remove_tree(at("a"), &err), ==, CS_OK);
  CHECK(!cs_plat_exists(at("a")));
  CHECK_INT(cs_plat_remove_tree(dir, NULL), ==, CS_OK);
}

/* The decision a walk takes on what it opened, for what only Windows shows: the handle
 * of a link itself (a junction, a symbolic link to a folder or to a file) is refused as
 * a link; a handle that is not one while the folder lists a link at that name (Wine's
 * Unix link, followed on open, or an entry swapped between the open and the look) is
 * refused as followed; only both plain passes. */
CS_TEST(link_verdict_decides) {
  const DWORD d = FILE_ATTRIBUTE_DIRECTORY, r = FILE_ATTRIBUTE_REPARSE_POINT, f = FILE_ATTRIBUTE_ARCHIVE;
  CHECK_INT(cs__win_link_verdict(d, d), ==, CS__WIN_PLAIN);
  CHECK_INT(cs__win_link_verdict(f, f), ==, CS__WIN_PLAIN);
  CHECK_INT(cs__win_link_verdict(d, 0), ==, CS__WIN_PLAIN); /* a folder that may not be listed */
  CHECK_INT(cs__win_link_verdict(d | r, d | r), ==, CS__WIN_LINK);
  CHECK_INT(cs__win_link_verdict(f | r, f | r), ==, CS__WIN_LINK);
  CHECK_INT(cs__win_link_verdict(d | r, 0), ==, CS__WIN_LINK);
  CHECK_INT(cs__win_link_verdict(d, d | r), ==, CS__WIN_FOLLOWED);
  CHECK_INT(cs__win_link_verdict(f, f | r), ==, CS__WIN_FOLLOWED);
}

/* Paths from the configuration, taken relative to its folder, are folded by name
 * ("C:\ProgramData\certsteward\..\x" is "C:\ProgramData\x"): the walk refuses "..". */
CS_TEST(path_resolve_folds_dots) {
  char *got = cs_plat_path_resolve("C:\\ProgramData\\certsteward\\certsteward.ini", "..\\ssl\\.\\cert.pem");
  CHECK(got != NULL);
  if (got != NULL)
    CHECK_STR(got, "C:\\ProgramData\\ssl\\cert.pem");
  free(got);
  got = cs_plat_path_resolve(NULL, "C:\\a\\b\\..\\c");
  CHECK(got != NULL);
  if (got != NULL)
    CHECK_STR(got, "C:\\a\\c");
  free(got);
  /* a relative result stays as written (refused later by the walk, naming "..") */
  got = cs_plat_path_resolve("conf\\a.ini", "..\\x");
  CHECK(got != NULL);
  if (got != NULL)
    CHECK_STR(got, "conf\\..\\x");
  free(got);
}

/* One way to join a folder and a name: the Windows separator, none added after a
 * drive root; a path that does not fit is refused whole. */
CS_TEST(path_join_one_rule) {
  char out[32];
  CHECK_INT(cs_plat_path_join(out, sizeof out, "C:\\ProgramData", "x"), ==, CS_OK);
  CHECK_STR(out, "C:\\ProgramData\\x");
  CHECK_INT(cs_plat_path_join(out, sizeof out, "C:\\", "x"), ==, CS_OK);
  CHECK_STR(out, "C:\\x");
  CHECK_INT(cs_plat_path_join(out, 8, "C:\\ProgramData", "x"), ==, CS_ETOOBIG);
  CHECK_STR(out, "");
}
