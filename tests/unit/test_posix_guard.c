/* The safety checks on POSIX (common/posix/guard.c): folders, the password file and
 * the configuration file, judged with every folder above them, failing closed.
 * Real folders, real modes, owners and ACLs; the owner changes need root (CI runs
 * the tests as root; otherwise they are said and not checked). */
#include <acl/libacl.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cs_test.h"
#include "platform.h"

#define NOBODY 65534 /* uid and gid of nobody / nogroup on Debian */

static char dir_[256];
static char why[1024];

static void begin(void) { cs_test_mkdtemp("cs-guard", dir_, sizeof dir_); }

static const char *at(const char *name) { return cs_test_join(dir_, name); }

static void end(void) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", dir_, dir_);
  if (system(cmd) != 0)
    fprintf(stderr, "note: could not remove %s\n", dir_);
}

static void folder(const char *path, int mode) {
  CHECK_INT(mkdir(path, 0700), ==, 0);
  CHECK_INT(chmod(path, (mode_t)mode), ==, 0);
}

static void file(const char *path, int mode) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  CHECK(fd >= 0);
  if (fd >= 0) {
    CHECK_INT(write(fd, "x\n", 2), ==, 2);
    close(fd);
  }
  CHECK_INT(chmod(path, (mode_t)mode), ==, 0);
}

static int root(const char *what) {
  if (geteuid() == 0)
    return 1;
  fprintf(stderr, "note: not root, %s not checked\n", what);
  return 0;
}

#define SAFE(call) CHECK_INT((why[0] = '\0', call), ==, 0)
#define UNSAFE(call, text)                                                                                             \
  do {                                                                                                                 \
    why[0] = '\0';                                                                                                     \
    CHECK_INT(call, ==, 1);                                                                                            \
    CHECK_CONTAINS(why, text);                                                                                         \
  } while (0)

CS_TEST(private_folder_is_safe) {
  begin();
  folder(at("drop"), 0700);
  SAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why));
  SAFE(cs_plat_folder_unsafe(dir_, why, sizeof why)); /* under /tmp: sticky, and ours */
  folder(at("shared"), 0755);
  SAFE(cs_plat_folder_unsafe(at("shared"), why, sizeof why));
  end();
}

CS_TEST(folder_writable_by_others_is_unsafe) {
  char text[600];
  begin();
  folder(at("drop"), 0777);
  snprintf(text, sizeof text, "%s can be written by all users (mode 777)", at("drop"));
  UNSAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why), text);
  /* sticky is no help for the folder itself: others can still add files to it */
  CHECK_INT(chmod(at("drop"), 01777), ==, 0);
  UNSAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why), "can be written by all users (mode 1777)");
  if (root("group and owner")) {
    CHECK_INT(chmod(at("drop"), 0770), ==, 0);
    CHECK_INT(chown(at("drop"), 0, NOBODY), ==, 0);
    UNSAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why), "can be written by group 65534");
    CHECK_INT(chown(at("drop"), 0, 0), ==, 0);
    SAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why)); /* group root: administrators */
    CHECK_INT(chmod(at("drop"), 0700), ==, 0);
    CHECK_INT(chown(at("drop"), NOBODY, 0), ==, 0);
    UNSAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why), "is owned by user 65534");
  }
  end();
}

/* A named ACL entry that may write counts, though the mode's group is root. */
CS_TEST(folder_acl_writer_is_unsafe) {
  acl_t acl;
  begin();
  folder(at("drop"), 0700);
  acl = acl_from_text("u::rwx,g::r-x,o::---,u:65534:rwx,m::rwx");
  CHECK(acl != NULL);
  if (acl != NULL) {
    CHECK_INT(acl_set_file(at("drop"), ACL_TYPE_ACCESS, acl), ==, 0);
    acl_free(acl);
  }
  UNSAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why), "the users and groups its ACL names");
  /* the mask without write caps the named entry: nobody named can write */
  CHECK_INT(chmod(at("drop"), 0750), ==, 0);
  SAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why));
  /* a default ACL that lets a named user write what is created inside */
  acl = acl_from_text("u::rwx,g::r-x,o::---,u:65534:rw-,m::rwx");
  CHECK(acl != NULL);
  if (acl != NULL) {
    CHECK_INT(acl_set_file(at("drop"), ACL_TYPE_DEFAULT, acl), ==, 0);
    acl_free(acl);
  }
  UNSAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why), "gives others write access to what is created in it");
  acl = acl_from_text("u::rwx,g::---,o::---");
  CHECK(acl != NULL);
  if (acl != NULL) {
    CHECK_INT(acl_set_file(at("drop"), ACL_TYPE_DEFAULT, acl), ==, 0);
    acl_free(acl);
  }
  SAFE(cs_plat_folder_unsafe(at("drop"), why, sizeof why));
  end();
}

/* Whoever can write a folder above can rename the folder away and put theirs there. */
CS_TEST(folder_above_writable_by_others_is_unsafe) {
  char text[600];
  begin();
  folder(at("open"), 0777);
  folder(at("open/drop"), 0700);
  snprintf(text, sizeof text, "%s can be written by all users (mode 777)", at("open"));
  UNSAFE(cs_plat_folder_unsafe(at("open/drop"), why, sizeof why), text);
  UNSAFE(cs_plat_folder_unsafe(at("open/drop/../drop"), why, sizeof why), text);
  /* sticky (as /tmp): others cannot rename what they do not own */
  CHECK_INT(chmod(at("open"), 01777), ==, 0);
  SAFE(cs_plat_folder_unsafe(at("open/drop"), why, sizeof why));
  if (root("a sticky folder's entry owned by another user")) {
    CHECK_INT(chown(at("open/drop"), NOBODY, NOBODY), ==, 0);
    UNSAFE(cs_plat_folder_unsafe(at("open/drop"), why, sizeof why), "open can be written by all users (mode 1777)");
  }
  end();
}

/* The folder itself must not be a link; a link on the way is followed by hand,
 * and what it points to is judged too. */
CS_TEST(links_in_the_path) {
  char text[600];
  begin();
  folder(at("real"), 0700);
  folder(at("real/drop"), 0700);
  folder(at("open"), 0777);
  folder(at("open/drop"), 0700);
  CHECK_INT(symlink(at("real/drop"), at("link")), ==, 0);
  snprintf(text, sizeof text, "%s is a symbolic link: name the folder itself", at("link"));
  UNSAFE(cs_plat_folder_unsafe(at("link"), why, sizeof why), text);
  CHECK_INT(symlink("real", at("via")), ==, 0); /* relative target */
  SAFE(cs_plat_folder_unsafe(at("via/drop"), why, sizeof why));
  CHECK_INT(symlink(at("open"), at("via-open")), ==, 0);
  UNSAFE(cs_plat_folder_unsafe(at("via-open/drop"), why, sizeof why), "can be written by all users");
  CHECK_INT(symlink("loop", at("loop")), ==, 0);
  UNSAFE(cs_plat_folder_unsafe(at("loop/drop"), why, sizeof why), "too many symbolic links");
  end();
}

/* Fail closed: a check that cannot be made is an unsafe answer, with the reason. */
CS_TEST(a_check_that_fails_is_unsafe) {
  char text[600];
  begin();
  snprintf(text, sizeof text, "cannot look at %s: No such file or directory", at("missing"));
  UNSAFE(cs_plat_folder_unsafe(at("missing"), why, sizeof why), text);
  UNSAFE(cs_plat_secret_file_unsafe(at("missing"), why, sizeof why), text);
  UNSAFE(cs_plat_config_file_unsafe(at("missing"), why, sizeof why), text);
  file(at("file"), 0600);
  UNSAFE(cs_plat_folder_unsafe(at("file/sub"), why, sizeof why), "is not a folder");
  UNSAFE(cs_plat_folder_unsafe(at("file"), why, sizeof why), "is not a folder");
  UNSAFE(cs_plat_folder_unsafe("", why, sizeof why), "no path");
  if (root("a path through a folder this process cannot search")) {
    /* as nobody, the root-owned folder under a 0700 folder cannot be looked at */
    pid_t pid;
    int status = -1;
    folder(at("private"), 0700);
    folder(at("private/drop"), 0700);
    CHECK_INT(chmod(dir_, 0711), ==, 0); /* nobody may pass through the test folder */
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
      char w[1024] = "";
      int r;
      if (setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
        _exit(3);
      r = cs_plat_folder_unsafe(at("private/drop"), w, sizeof w);
      _exit(r == 1 && strstr(w, "Permission denied") != NULL ? 0 : 1);
    }
    CHECK(pid > 0);
    if (pid > 0)
      CHECK_INT(waitpid(pid, &status, 0), ==, pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  end();
}

CS_TEST(relative_paths_are_judged_from_the_root) {
  char cwd[1024];
  begin();
  folder(at("a"), 0700);
  folder(at("a/b"), 0700);
  CHECK(getcwd(cwd, sizeof cwd) != NULL);
  CHECK_INT(chdir(at("a")), ==, 0);
  SAFE(cs_plat_folder_unsafe("b", why, sizeof why));
  SAFE(cs_plat_folder_unsafe("./b/../b", why, sizeof why));
  CHECK_INT(chmod(at("a"), 0777), ==, 0);
  UNSAFE(cs_plat_folder_unsafe("b", why, sizeof why), "can be written by all users");
  CHECK_INT(chdir(cwd), ==, 0);
  end();
}

CS_TEST(secret_file) {
  acl_t acl;
  begin();
  file(at("pass"), 0600);
  SAFE(cs_plat_secret_file_unsafe(at("pass"), why, sizeof why));
  CHECK_INT(chmod(at("pass"), 0644), ==, 0);
  UNSAFE(cs_plat_secret_file_unsafe(at("pass"), why, sizeof why), "it can be read or changed by all users (mode 644)");
  CHECK_INT(chmod(at("pass"), 0600), ==, 0);
  acl = acl_from_text("u::rw-,g::---,o::---,u:65534:r--,m::r--");
  CHECK(acl != NULL);
  if (acl != NULL) {
    CHECK_INT(acl_set_file(at("pass"), ACL_TYPE_ACCESS, acl), ==, 0);
    acl_free(acl);
  }
  UNSAFE(cs_plat_secret_file_unsafe(at("pass"), why, sizeof why), "its ACL names");
  CHECK_INT(symlink(at("pass"), at("link")), ==, 0);
  UNSAFE(cs_plat_secret_file_unsafe(at("link"), why, sizeof why), "is a symbolic link: name the file itself");
  folder(at("open"), 0777);
  file(at("open/pass"), 0600);
  UNSAFE(cs_plat_secret_file_unsafe(at("open/pass"), why, sizeof why), "can be written by all users");
  end();
}

/* The configuration names commands run as root: nobody else may change it, its
 * folder or any folder above. Others may read it. */
CS_TEST(config_file) {
  char text[600];
  begin();
  file(at("cs.ini"), 0644);
  SAFE(cs_plat_config_file_unsafe(at("cs.ini"), why, sizeof why));
  CHECK_INT(chmod(at("cs.ini"), 0666), ==, 0);
  snprintf(text, sizeof text, "%s can be changed by all users (mode 666)", at("cs.ini"));
  UNSAFE(cs_plat_config_file_unsafe(at("cs.ini"), why, sizeof why), text);
  CHECK_INT(chmod(at("cs.ini"), 0644), ==, 0);
  folder(at("etc"), 0757);
  file(at("etc/cs.ini"), 0644);
  UNSAFE(cs_plat_config_file_unsafe(at("etc/cs.ini"), why, sizeof why), "can be written by all users (mode 757)");
  if (root("a configuration file owned or writable by another user")) {
    CHECK_INT(chown(at("cs.ini"), NOBODY, NOBODY), ==, 0);
    UNSAFE(cs_plat_config_file_unsafe(at("cs.ini"), why, sizeof why), "is owned by user 65534");
    CHECK_INT(chown(at("cs.ini"), 0, NOBODY), ==, 0);
    CHECK_INT(chmod(at("cs.ini"), 0664), ==, 0);
    UNSAFE(cs_plat_config_file_unsafe(at("cs.ini"), why, sizeof why), "can be changed by group 65534");
  }
  CHECK_INT(symlink(at("cs.ini"), at("link.ini")), ==, 0);
  UNSAFE(cs_plat_config_file_unsafe(at("link.ini"), why, sizeof why), "is a symbolic link");
  end();
}

/* The state files the daemon trusts (the journal, the transaction's manifests, a
 * parked file): each, and all a folder holds, root's and writable by no one else, no
 * link, one name per file; nothing there is nothing to trust. */
CS_TEST(state_files) {
  begin();
  SAFE(cs_plat_state_unsafe(at("journal"), why, sizeof why));
  file(at("journal"), 0600);
  folder(at("tx"), 0700);
  folder(at("tx/store"), 0700);
  file(at("tx/store/manifest"), 0600);
  SAFE(cs_plat_state_unsafe(at("journal"), why, sizeof why));
  SAFE(cs_plat_state_unsafe(at("tx"), why, sizeof why));
  CHECK_INT(link(at("tx/store/manifest"), at("elsewhere")), ==, 0);
  UNSAFE(cs_plat_state_unsafe(at("tx"), why, sizeof why), "manifest has more than one name");
  CHECK_INT(unlink(at("elsewhere")), ==, 0);
  CHECK_INT(chmod(at("tx/store/manifest"), 0620), ==, 0);
  UNSAFE(cs_plat_state_unsafe(at("tx"), why, sizeof why), "can be changed by others (mode 620)");
  CHECK_INT(chmod(at("tx/store/manifest"), 0600), ==, 0);
  CHECK_INT(symlink(at("journal"), at("tx/link")), ==, 0);
  UNSAFE(cs_plat_state_unsafe(at("tx"), why, sizeof why), "is a symbolic link");
  CHECK_INT(unlink(at("tx/link")), ==, 0);
  SAFE(cs_plat_state_unsafe(at("tx"), why, sizeof why));
  if (root("a state file owned by another user")) {
    CHECK_INT(chown(at("journal"), NOBODY, NOBODY), ==, 0);
    UNSAFE(cs_plat_state_unsafe(at("journal"), why, sizeof why), "is owned by user 65534");
  }
  end();
}

/* ---- cs_plat_path_writers: who can change a folder on the path of a written file -- */

static char wfolder[1024], wwho[512];

#define NO_WRITERS(path)                                                                                               \
  CHECK_INT((wwho[0] = '\0', cs_plat_path_writers(path, wfolder, sizeof wfolder, wwho, sizeof wwho)), ==, 0)
#define WRITERS(path, at_folder, by)                                                                                   \
  do {                                                                                                                 \
    CHECK_INT(cs_plat_path_writers(path, wfolder, sizeof wfolder, wwho, sizeof wwho), ==, 1);                          \
    CHECK_STR(wfolder, at_folder);                                                                                     \
    CHECK_CONTAINS(wwho, by);                                                                                          \
  } while (0)

/* The file itself is not judged (it may not exist yet, or be the service's own), its
 * folder and every folder above are, each named with who can write it. */
CS_TEST(path_writers_name_the_folder_and_who) {
  char above[600], text[64];
  begin();
  folder(at("tls"), 0755);
  file(at("tls/cert.pem"), 0666); /* the file's own mode is not this check's */
  NO_WRITERS(at("tls/cert.pem"));
  NO_WRITERS(at("tls/missing.pem"));
  CHECK_INT(chmod(at("tls"), 0777), ==, 0);
  WRITERS(at("tls/cert.pem"), at("tls"), "all users (mode 777)");
  WRITERS(at("tls/missing.pem"), at("tls"), "all users (mode 777)");
  /* sticky: others cannot replace root's file, but could create a missing one */
  CHECK_INT(chmod(at("tls"), 01777), ==, 0);
  NO_WRITERS(at("tls/cert.pem"));
  WRITERS(at("tls/missing.pem"), at("tls"), "all users (mode 1777)");
  CHECK_INT(chmod(at("tls"), 0755), ==, 0);
  /* a folder further up */
  snprintf(above, sizeof above, "%s", at("tls"));
  folder(at("tls/deep"), 0700);
  CHECK_INT(chmod(above, 0777), ==, 0);
  WRITERS(at("tls/deep/cert.pem"), above, "all users");
  CHECK_INT(chmod(above, 0755), ==, 0);
  if (root("owners and groups by name")) {
    CHECK_INT(chown(at("tls"), 33, 0), ==, 0);
    snprintf(text, sizeof text, "user %s (owner)", getpwuid(33) ? getpwuid(33)->pw_name : "33");
    WRITERS(at("tls/cert.pem"), at("tls"), text);
    CHECK_INT(chown(at("tls"), 0, 33), ==, 0);
    CHECK_INT(chmod(at("tls"), 0775), ==, 0);
    snprintf(text, sizeof text, "group %s (mode 775)", getgrgid(33) ? getgrgid(33)->gr_name : "33");
    WRITERS(at("tls/cert.pem"), at("tls"), text);
    CHECK_INT(chown(at("tls"), 0, 0), ==, 0);
    NO_WRITERS(at("tls/cert.pem"));
  }
  end();
}

/* Entries of an ACL that may write are named; a mask without write caps them. */
CS_TEST(path_writers_name_acl_entries) {
  acl_t acl;
  char text[64];
  begin();
  folder(at("tls"), 0700);
  acl = acl_from_text("u::rwx,g::r-x,o::---,u:65534:rwx,g:65534:rwx,m::rwx");
  CHECK(acl != NULL);
  if (acl != NULL) {
    CHECK_INT(acl_set_file(at("tls"), ACL_TYPE_ACCESS, acl), ==, 0);
    acl_free(acl);
  }
  snprintf(text, sizeof text, "user %s, group %s (ACL)", getpwuid(NOBODY) ? getpwuid(NOBODY)->pw_name : "65534",
           getgrgid(NOBODY) ? getgrgid(NOBODY)->gr_name : "65534");
  WRITERS(at("tls/cert.pem"), at("tls"), text);
  CHECK_INT(chmod(at("tls"), 0750), ==, 0);
  NO_WRITERS(at("tls/cert.pem"));
  end();
}

/* A link on the way is followed and its target's folders judged too; the last
 * component, a link, is not followed (the writes replace it). What cannot be looked at
 * counts as open, with the reason. */
CS_TEST(path_writers_follow_links_and_fail_closed) {
  char target[600];
  begin();
  folder(at("real"), 0777);
  folder(at("real/tls"), 0700);
  CHECK_INT(symlink(at("real/tls"), at("tls")), ==, 0);
  WRITERS(at("tls/cert.pem"), at("real"), "all users (mode 777)");
  CHECK_INT(chmod(at("real"), 0755), ==, 0);
  NO_WRITERS(at("tls/cert.pem"));
  folder(at("open"), 0777);
  snprintf(target, sizeof target, "%s", at("open/cert.pem"));
  CHECK_INT(symlink(target, at("real/tls/cert.pem")), ==, 0);
  NO_WRITERS(at("tls/cert.pem"));
  WRITERS(at("gone/cert.pem"), dir_, "cannot be told: cannot look at");
  CHECK_CONTAINS(wwho, "No such file or directory");
  CHECK_INT(cs_plat_path_writers("", wfolder, sizeof wfolder, wwho, sizeof wwho), ==, 1);
  CHECK_CONTAINS(wwho, "cannot be told");
  end();
}
