/* Minimal test harness: each CS_TEST(name) is one CTest test (tests/CMakeLists.txt
 * reads the names from the source). A test executable runs the test named in argv[1],
 * or all of them without arguments. Checks record a failure and carry on. */
#ifndef CS_TEST_H
#define CS_TEST_H

#include <stdio.h>
#include <string.h>

#include "error.h" /* CS_PRINTF */

typedef void (*cs_test_fn)(void);
void cs_test_register(const char *name, cs_test_fn fn);
void cs_test_fail(const char *file, int line, const char *fmt, ...) CS_PRINTF(3, 4);
int cs_test_failed(void);

/* Makes a fresh, empty temporary folder whose name starts with prefix, and
 * copies its path into dir (len bytes). Ends the test run when it cannot: test
 * files are never written anywhere else. */
void cs_test_mkdtemp(const char *prefix, char *dir, size_t len);

/* dir/name in one of four rotating buffers, so that a few can be alive at once; a
 * path too long ends the test run. */
const char *cs_test_join(const char *dir, const char *name);

/* One temporary folder for a test that proves it leaves nothing behind:
 * cs_test_tmp_open makes it (cs_test_mkdtemp); cs_test_tmp_path gives name in it
 * ("/" works on both platforms) and remembers it; cs_test_tmp_close removes what was
 * remembered, newest first (files, then folders), and CHECKs that the folder, then
 * empty, is removed: a stray temp or backup file fails the test. */
void cs_test_tmp_open(const char *prefix);
const char *cs_test_tmp_path(const char *name);
const char *cs_test_tmp_dir(void);
void cs_test_tmp_close(void);

/* Entries of dir besides . and .. (a temp file left behind shows up here); -1 when
 * it cannot be listed. */
int cs_test_count_entries(const char *dir);

/* Writes len bytes of data (text: up to its NUL) to path, replacing it; a CHECK
 * fails when it cannot. */
void cs_test_put(const char *path, const void *data, size_t len);
void cs_test_put_str(const char *path, const char *text);

/* CHECKs that path holds exactly len bytes of want (want: up to its NUL). */
void cs_test_file_is(const char *path, const void *want, size_t len);
void cs_test_file_is_str(const char *path, const char *want);

/* ---- one spelling on both systems for what the tests ask of the OS --------------- */

/* The null device, for a shell redirection. */
#ifdef _WIN32
#define CS_TEST_NULL_DEVICE "NUL"
#else
#define CS_TEST_NULL_DEVICE "/dev/null"
#endif

/* Makes the folder path (mode 0700 where modes exist); removes the empty folder path.
 * 0, or -1 with errno set, as mkdir / rmdir. */
int cs_test_mkdir(const char *path);
int cs_test_rmdir(const char *path);

/* Opens path (a folder or a file) to everyone: POSIX mode 777 / 666; Windows a
 * protected DACL granting Everyone full control (Wine keeps it as the Unix mode). */
void cs_test_open_to_all(const char *path, int folder);

/* Sets the environment variable name to value for this process and the children it
 * starts; value NULL removes it (Windows: set to nothing, which is the same there). */
void cs_test_setenv(const char *name, const char *value);

/* The whole file at path as a new string (free()); NULL when it cannot be read. */
char *cs_test_read_text(const char *path);

/* Sends this process's standard error to f (flushed first) until cs_test_stderr_back
 * with what this returned (-1: not redirected). */
int cs_test_stderr_to(FILE *f);
void cs_test_stderr_back(int saved);

#ifdef _WIN32
/* Registers a demand-start service name (display name the same) running command line
 * command, depending on the service depends_on (NULL: none), as start_name with an
 * empty password (NULL: LocalSystem), with the SCM's own calls; a CHECK fails when it
 * cannot. 1 when it was created. */
int cs_test_service_create(const char *name, const char *command, const char *depends_on, const char *start_name);

/* Deletes the service name (CHECKed), with the SCM's own calls. */
void cs_test_service_delete(const char *name);
#endif

/* Folder of test data made at test time (CS_TEST_DIR), joined with name, in one of 16
 * rotating buffers, so that the paths of one command line can be alive at once. */
const char *cs_test_path(const char *name);

#if defined(_MSC_VER)
#pragma section(".CRT$XCU", read)
#define CS__CTOR(f)                                                                                                    \
  static void f(void);                                                                                                 \
  __declspec(allocate(".CRT$XCU")) void (*f##_)(void) = f;                                                             \
  static void f(void)
#else
#define CS__CTOR(f)                                                                                                    \
  static void f(void) __attribute__((constructor));                                                                    \
  static void f(void)
#endif

#define CS_TEST(name)                                                                                                  \
  static void cs_test_##name(void);                                                                                    \
  CS__CTOR(cs_test_reg_##name) { cs_test_register(#name, cs_test_##name); }                                            \
  static void cs_test_##name(void)

#define CHECK(cond)                                                                                                    \
  do {                                                                                                                 \
    if (!(cond))                                                                                                       \
      cs_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                                                            \
  } while (0)

#define CHECK_INT(a, op, b)                                                                                            \
  do {                                                                                                                 \
    long long cs__a = (long long)(a), cs__b = (long long)(b);                                                          \
    if (!(cs__a op cs__b))                                                                                             \
      cs_test_fail(__FILE__, __LINE__, "%s %s %s: %lld vs %lld", #a, #op, #b, cs__a, cs__b);                           \
  } while (0)

#define CHECK_STR(a, b)                                                                                                \
  do {                                                                                                                 \
    const char *cs__a = (a), *cs__b = (b);                                                                             \
    if (cs__a == NULL || cs__b == NULL || strcmp(cs__a, cs__b) != 0)                                                   \
      cs_test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" vs \"%s\"", #a, #b, cs__a ? cs__a : "(null)",                 \
                   cs__b ? cs__b : "(null)");                                                                          \
  } while (0)

#define CHECK_CONTAINS(hay, needle)                                                                                    \
  do {                                                                                                                 \
    const char *cs__h = (hay), *cs__n = (needle);                                                                      \
    if (cs__h == NULL || strstr(cs__h, cs__n) == NULL)                                                                 \
      cs_test_fail(__FILE__, __LINE__, "%s contains \"%s\": got \"%s\"", #hay, cs__n, cs__h ? cs__h : "(null)");       \
  } while (0)

#endif
