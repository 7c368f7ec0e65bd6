/* The log of certsteward install and uninstall (install_log.h). Standard output and
 * error are each turned into a pipe for the length of the command (_dup2 onto
 * descriptors 1 and 2, so every fprintf of the command goes through it), and a thread
 * per pipe copies each line to where the stream went before (a console, or nothing
 * under an MSI) and into the log file. The Event Log is written once the command
 * ended, from the command's thread: the event functions are not made for two threads.
 *
 * The temporary folder of LocalSystem is C:\Windows\Temp, where users may create files:
 * the log is made with CREATE_NEW (a name that exists, a file or a link planted there,
 * fails it; nothing is followed or reused: FILE_FLAG_OPEN_REPARSE_POINT) and a
 * protected DACL for Administrators and SYSTEM, and its name carries the time and the
 * process ID. Only real Windows proves the DACL (Wine keeps none) and the Event Log
 * (Wine's ReportEvent stores nothing); the tests under Wine prove the file and its
 * contents. */
#include "install_log.h"

#define _CRT_RAND_S /* rand_s */
#include <fcntl.h>
#include <io.h>
#include <process.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "events.h"
#include "win/win.h"

#include <sddl.h>
#include <windows.h>

#define LOG_LINE_MAX 2048         /* a longer line is cut, in the log and the event */
#define LOG_SAID_MAX (64u * 1024) /* standard error kept for the Event Log */

typedef struct stream_s {
  cs_install_log_t *log;
  int fd;    /* 1 or 2 */
  int saved; /* where it went before (-1: nowhere) */
  int rfd;   /* the pipe's end read by the thread */
  HANDLE thread;
  char line[LOG_LINE_MAX];
  size_t n;
} stream_t;

struct cs_install_log_s {
  char command[16];
  char path[MAX_PATH * 3];
  HANDLE file;
  CRITICAL_SECTION lock;
  stream_t out, err;
  char said[LOG_SAID_MAX + 1]; /* standard error's lines, '\n' after each */
  size_t said_len;
  int abandoned; /* a copying thread outlived its wait: nothing it uses is freed */
};

/* How a line of standard error is said: 1 as an error (the command failed and the line
 * is no warning), 0 as a warning, -1 not at all (an event's own information line,
 * "certsteward[1011] info: ..."). */
static int is_error(const char *line, int rc) {
  const char *close = strncmp(line, "certsteward[", 12) == 0 ? strchr(line, ']') : NULL;
  if (close != NULL && strncmp(close, "] info:", 7) == 0)
    return -1;
  return rc != 0 && strstr(line, "warning:") == NULL;
}

static void put_file(cs_install_log_t *l, const char *tag, const char *text, size_t n) {
  char stamp[32];
  DWORD w;
  SYSTEMTIME t;
  GetSystemTime(&t);
  snprintf(stamp, sizeof stamp, "%04u-%02u-%02uT%02u:%02u:%02uZ %s", t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute,
           t.wSecond, tag);
  if (l->file == INVALID_HANDLE_VALUE)
    return;
  EnterCriticalSection(&l->lock);
  (void)WriteFile(l->file, stamp, (DWORD)strlen(stamp), &w, NULL);
  (void)WriteFile(l->file, text, (DWORD)n, &w, NULL);
  (void)WriteFile(l->file, "\r\n", 2, &w, NULL);
  LeaveCriticalSection(&l->lock);
}

/* One whole line of s (without its end): into the log, and standard error's kept. */
static void take_line(stream_t *s) {
  cs_install_log_t *l = s->log;
  size_t n = s->n;
  while (n > 0 && (s->line[n - 1] == '\r' || s->line[n - 1] == '\n'))
    n--;
  s->n = 0;
  if (n == 0)
    return;
  put_file(l, s->fd == 2 ? "stderr " : "stdout ", s->line, n);
  EnterCriticalSection(&l->lock);
  if (s->fd == 2 && l->said_len + n + 1 <= LOG_SAID_MAX) {
    memcpy(l->said + l->said_len, s->line, n);
    l->said_len += n;
    l->said[l->said_len++] = '\n';
    l->said[l->said_len] = '\0';
  }
  LeaveCriticalSection(&l->lock);
}

static unsigned __stdcall copy_stream(void *arg) {
  stream_t *s = arg;
  char buf[1024];
  int got, i;
  while ((got = _read(s->rfd, buf, sizeof buf)) > 0) {
    if (s->saved >= 0)
      (void)_write(s->saved, buf, (unsigned)got);
    for (i = 0; i < got; i++) {
      if (s->n < sizeof s->line)
        s->line[s->n++] = buf[i];
      if (buf[i] == '\n')
        take_line(s);
    }
  }
  take_line(s); /* a last line without its end */
  return 0;
}

/* fd into a pipe read by a thread of s. */
static int divert(cs_install_log_t *l, stream_t *s, int fd) {
  int p[2];
  s->log = l;
  s->fd = fd;
  s->saved = _dup(fd);
  s->rfd = -1;
  if (_pipe(p, 65536, _O_BINARY | _O_NOINHERIT) != 0)
    return -1;
  if (_dup2(p[1], fd) != 0) {
    _close(p[0]);
    _close(p[1]);
    return -1;
  }
  _close(p[1]);
  s->rfd = p[0];
  if ((s->thread = (HANDLE)_beginthreadex(NULL, 0, copy_stream, s, 0, NULL)) == NULL) {
    s->rfd = -1; /* the pipe stays in place: its reader is gone, so fd goes back at once */
    (void)(s->saved >= 0 ? _dup2(s->saved, fd) : _close(fd));
    _close(p[0]);
    return -1;
  }
  return 0;
}

/* fd back to where it went: the pipe's last writer closes and the thread ends. */
static void restore(stream_t *s) {
  if (s->rfd < 0)
    return;
  (void)(s->saved >= 0 ? _dup2(s->saved, s->fd) : _close(s->fd));
  /* a child that inherited the pipe's write end would keep it open: the thread is not
   * waited for longer than that, and then left with its pipe (the process ends soon) */
  if (WaitForSingleObject(s->thread, 10000) != WAIT_OBJECT_0) {
    s->log->abandoned = 1; /* the thread may still write: what it uses is never freed */
    return;
  }
  CloseHandle(s->thread);
  _close(s->rfd);
  s->rfd = -1;
}

/* The temporary folder: GetTempPath2W where Windows has it (Windows 11, Server 2022, and
 * Windows 10 / Server 2016 with the 2025 updates), which gives SYSTEM its own
 * C:\Windows\SystemTemp, closed to other accounts; else GetTempPathW (C:\Windows\Temp for
 * SYSTEM). */
static DWORD temp_folder(wchar_t *dir, DWORD len) {
  typedef DWORD(WINAPI * temp2_t)(DWORD, LPWSTR);
  HMODULE k = GetModuleHandleW(L"kernel32.dll");
  temp2_t temp2 = k != NULL ? (temp2_t)(void (*)(void))GetProcAddress(k, "GetTempPath2W") : NULL;
  return temp2 != NULL ? temp2(len, dir) : GetTempPathW(len, dir);
}

/* The log file, new, for Administrators and SYSTEM only. Its name carries the time, the
 * process ID and a random part: a user who can create files in the folder cannot make
 * every name fail ahead (a name that exists is tried again with another random part). */
static HANDLE open_new(cs_install_log_t *l) {
  wchar_t dir[MAX_PATH + 1], name[128], full[MAX_PATH + 130];
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, FALSE};
  HANDLE h = INVALID_HANDLE_VALUE;
  SYSTEMTIME t;
  unsigned int rnd;
  char *path8;
  int tries;
  DWORD n = temp_folder(dir, MAX_PATH + 1), e = 0;
  if (n == 0 || n > MAX_PATH ||
      !ConvertStringSecurityDescriptorToSecurityDescriptorW(L"D:P(A;;FA;;;SY)(A;;FA;;;BA)", SDDL_REVISION_1,
                                                            &sa.lpSecurityDescriptor, NULL))
    return INVALID_HANDLE_VALUE;
  GetSystemTime(&t);
  for (tries = 0; h == INVALID_HANDLE_VALUE && tries < 8; tries++) {
    if (rand_s(&rnd) != 0) {
      e = ERROR_GEN_FAILURE;
      break;
    }
    swprintf(name, sizeof name / sizeof name[0], L"certsteward-%hs-%04u%02u%02u-%02u%02u%02uZ-%lu-%08x.log", l->command,
             t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond, (unsigned long)GetCurrentProcessId(), rnd);
    swprintf(full, sizeof full / sizeof full[0], L"%ls%ls", dir, name);
    h = CreateFileW(full, GENERIC_WRITE, FILE_SHARE_READ, &sa, CREATE_NEW,
                    FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    if (h == INVALID_HANDLE_VALUE && (e = GetLastError()) != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS)
      break;
  }
  LocalFree(sa.lpSecurityDescriptor);
  if (h != INVALID_HANDLE_VALUE && (path8 = cs__win_utf8(full)) != NULL) {
    snprintf(l->path, sizeof l->path, "%s", path8);
    free(path8);
  }
  if (h == INVALID_HANDLE_VALUE)
    SetLastError(e);
  return h;
}

cs_install_log_t *cs_install_log_begin(const char *command) {
  cs_install_log_t *l = calloc(1, sizeof *l);
  if (l == NULL)
    return NULL;
  snprintf(l->command, sizeof l->command, "%s", command);
  l->out.rfd = l->err.rfd = -1;
  InitializeCriticalSection(&l->lock);
  if ((l->file = open_new(l)) == INVALID_HANDLE_VALUE) /* still copied to the Event Log */
    snprintf(l->path, sizeof l->path, "no file (none could be made in the temporary folder: Windows error %lu)",
             (unsigned long)GetLastError());
  /* no buffer: the lines of both streams reach the log in the order they were said */
  setvbuf(stdout, NULL, _IONBF, 0);
  fflush(stderr);
  if (divert(l, &l->out, 1) != 0 || divert(l, &l->err, 2) != 0)
    put_file(l, "stderr ", "not all of the output is in this log (a stream could not be copied)", 68);
  return l;
}

/* "certsteward install: " and "warning: " off the front of a line, for the event. */
static const char *event_text(const char *line) {
  const char *p = strstr(line, ": ");
  if (strncmp(line, "certsteward ", 12) == 0 && p != NULL)
    line = p + 2;
  if (strncmp(line, "warning: ", 9) == 0)
    line += 9;
  return line;
}

void cs_install_log_end(cs_install_log_t *l, int rc) {
  char end[64], *line, *next, *said;
  int said_error = 0, kind;
  if (l == NULL)
    return;
  fflush(stdout);
  fflush(stderr);
  restore(&l->out);
  restore(&l->err);
  snprintf(end, sizeof end, "exit code %d (%s)", rc, rc == 0 ? "done" : "failed");
  put_file(l, "end    ", end, strlen(end));
  EnterCriticalSection(&l->lock);
  said = _strdup(l->said);
  if (l->file != INVALID_HANDLE_VALUE && !l->abandoned)
    CloseHandle(l->file);
  LeaveCriticalSection(&l->lock);
  for (line = said; line != NULL && *line != '\0'; line = next) {
    if ((next = strchr(line, '\n')) != NULL)
      *next++ = '\0';
    else
      next = line + strlen(line);
    if ((kind = is_error(line, rc)) < 0)
      continue;
    said_error |= kind;
    cs_event_say_system(kind ? CS_EV_INSTALL_ERROR : CS_EV_INSTALL_WARNING, l->command, event_text(line), l->path);
  }
  if (rc != 0 && !said_error) {
    snprintf(end, sizeof end, "it ended with exit code %d", rc);
    cs_event_say_system(CS_EV_INSTALL_ERROR, l->command, end, l->path);
  }
  if (l->file != INVALID_HANDLE_VALUE)
    printf("what certsteward %s said is also in %s\n", l->command, l->path);
  free(said);
  if (l->abandoned)
    return; /* a copying thread may still use l: it goes with the process */
  DeleteCriticalSection(&l->lock);
  free(l);
}
