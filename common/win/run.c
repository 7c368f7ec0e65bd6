/* Windows half of platform.h: running a program with a deadline, and finding our siblings.
 *
 * The child starts suspended, goes into a job object, then runs: a timeout ends the
 * job, so whatever the child started (cmd.exe's children, a hung tool) ends with it,
 * as a POSIX process group does. A child of cs_plat_run that ends normally leaves
 * what it started in the background running (no KILL_ON_JOB_CLOSE), as on POSIX.
 * Only the three handles meant for the child are inherited (PROC_THREAD_ATTRIBUTE_
 * HANDLE_LIST): the daemon runs several of these at once from libuv's threads, and a
 * pipe end inherited by the wrong child would keep the other's output from ending.
 * Standard output is read by polling (anonymous pipes have no overlapped I/O), the
 * input is written by a thread of its own, so that a child that does not read cannot
 * stall the deadline.
 * cs_plat_run_confined runs the worker, which parses untrusted files, confined
 * (confine.c): a restricted copy of this process's token, and a job of its own
 * limited to that one process and ended with the run; without either it does not run.
 * Proven under Wine: output, input, exit codes, timeouts, cmd.exe, the confined
 * child's privileges, that nothing the confined child started outlives the run. Only
 * real Windows proves that the handle list keeps other handles from being inherited
 * (Wine accepts the attribute), that a nested job object works inside a service's
 * job, and what confine.c says of the token and the job's limits. */
#include "../platform.h"
#include "../text.h"
#include "confine.h"
#include "win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHELL_MAX_OUT (64 * 1024)
#define TICK_MS 10
#define DRAIN_STEP (64 * 1024) /* per tick, so that a child that never stops writing cannot hold off the deadline */
#define DRAIN_AT_EXIT (1024 * 1024) /* what is still in the pipe once it ended */

/* What the input thread owns: a copy of the input and our end of the child's stdin. */
typedef struct feed_s {
  HANDLE pipe;
  size_t len;
  unsigned char data[];
} feed_t;

static DWORD WINAPI feed_main(void *arg) {
  feed_t *f = arg;
  size_t done = 0;
  while (done < f->len) {
    DWORD n = 0, want = f->len - done > 0x10000 ? 0x10000 : (DWORD)(f->len - done);
    if (!WriteFile(f->pipe, f->data + done, want, &n, NULL))
      break; /* it stopped reading or ended: its business */
    done += n;
  }
  CloseHandle(f->pipe);
  SecureZeroMemory(f->data, f->len); /* the input may be a password */
  free(f);
  return 0;
}

/* One run: the child, its job and what it has said so far. */
typedef struct run_s {
  const char *prog;
  const wchar_t *cwd; /* the child's working folder; NULL: this process's */
  PROCESS_INFORMATION pi;
  HANDLE job;    /* NULL when the child could not be put into one */
  HANDLE feeder; /* the thread writing the input, or NULL */
  HANDLE out;    /* our end of the child's stdout; NULL at end of file */
  cs_buf_t buf;
  size_t max_out;
  int timed_out;
} run_t;

/* Reads what is in the pipe now, at most budget bytes; never blocks. Bytes past
 * max_out are read and dropped, so that a chatty child never blocks on a full pipe. */
static void drain(run_t *r, size_t budget) {
  char chunk[4096];
  while (r->out != NULL && budget > 0) {
    DWORD avail = 0, n = 0;
    size_t keep;
    if (!PeekNamedPipe(r->out, NULL, 0, NULL, &avail, NULL) ||
        (avail > 0 && !ReadFile(r->out, chunk, avail < sizeof chunk ? avail : (DWORD)sizeof chunk, &n, NULL))) {
      CloseHandle(r->out); /* ERROR_BROKEN_PIPE: every writer closed it */
      r->out = NULL;
      return;
    }
    if (avail == 0 || n == 0)
      return;
    keep = r->max_out - r->buf.len < n ? r->max_out - r->buf.len : n;
    if (keep > 0)
      cs_buf_append(&r->buf, chunk, keep);
    budget -= n < budget ? n : budget;
  }
}

/* An inheritable duplicate of h, or of the NUL device when h is none; NULL when h
 * cannot be duplicated (never NUL in its place: the child's output would be lost). */
static HANDLE child_handle(HANDLE h, int for_write) {
  HANDLE dup = NULL;
  SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
  if (h != NULL && h != INVALID_HANDLE_VALUE)
    return DuplicateHandle(GetCurrentProcess(), h, GetCurrentProcess(), &dup, 0, TRUE, DUPLICATE_SAME_ACCESS) ? dup
                                                                                                              : NULL;
  dup = CreateFileW(L"NUL", for_write ? GENERIC_WRITE : GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, &sa,
                    OPEN_EXISTING, 0, NULL);
  return dup == INVALID_HANDLE_VALUE ? NULL : dup;
}

/* ---- running ---------------------------------------------------------------------- */

/* Starts the program wprog with the command line wcmd (modified by CreateProcessW),
 * confined: as the worker (confine.c), into r: its standard output to r->out, its
 * standard error the caller's, input (may be NULL) fed by a thread of its own, in a job
 * (for a plain child: when one can be made). Suspended until it is in the job, so
 * that nothing it starts can escape the job. On failure r may hold a child already
 * made, which run_wide ends. */
static int spawn(run_t *r, const wchar_t *wprog, wchar_t *wcmd, wchar_t *envblock, int confined, const void *input,
                 size_t input_len, cs_err_t *err) {
  HANDLE in_r = NULL, in_w = NULL, out_w = NULL, err_h = NULL, token = NULL;
  HANDLE inherit[3];
  LPPROC_THREAD_ATTRIBUTE_LIST attrs = NULL;
  STARTUPINFOEXW si;
  SIZE_T attrs_size = 0;
  DWORD flags;
  feed_t *f = NULL;
  int rc;
  char what[600];

  snprintf(what, sizeof what, "cannot run %s", r->prog);
  /* our ends are not inheritable; the child's ends are made so by duplication */
  if (!CreatePipe(&r->out, &out_w, NULL, 64 * 1024) ||
      (input != NULL && input_len > 0 && !CreatePipe(&in_r, &in_w, NULL, 64 * 1024))) {
    rc = cs__win_fail(err, GetLastError(), what);
    goto out;
  }
  inherit[0] = child_handle(in_r, 0);
  inherit[1] = child_handle(out_w, 1);
  inherit[2] = child_handle(GetStdHandle(STD_ERROR_HANDLE), 1); /* stderr goes to the caller's */
  CloseHandle(out_w);
  out_w = inherit[1];
  if (in_r != NULL)
    CloseHandle(in_r);
  in_r = inherit[0];
  err_h = inherit[2];
  if (in_r == NULL || out_w == NULL || err_h == NULL) {
    rc = cs__win_fail(err, GetLastError(), what);
    goto out;
  }

  memset(&si, 0, sizeof si);
  si.StartupInfo.cb = sizeof si;
  si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  si.StartupInfo.hStdInput = in_r;
  si.StartupInfo.hStdOutput = out_w;
  si.StartupInfo.hStdError = err_h;
  (void)InitializeProcThreadAttributeList(NULL, 1, 0, &attrs_size);
  if ((attrs = malloc(attrs_size)) == NULL || !InitializeProcThreadAttributeList(attrs, 1, 0, &attrs_size)) {
    rc = cs__win_fail(err, attrs == NULL ? ERROR_NOT_ENOUGH_MEMORY : GetLastError(), what);
    free(attrs);
    attrs = NULL;
    goto out;
  }
  si.lpAttributeList = attrs;
  if (!UpdateProcThreadAttribute(attrs, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherit, sizeof inherit, NULL, NULL)) {
    rc = cs__win_fail(err, GetLastError(), what);
    goto out;
  }
  /* A child of a process without a console (the service) gets none either. */
  flags = CREATE_SUSPENDED | EXTENDED_STARTUPINFO_PRESENT | (GetConsoleWindow() == NULL ? CREATE_NO_WINDOW : 0) |
          (envblock != NULL ? CREATE_UNICODE_ENVIRONMENT : 0);
  if (confined &&
      ((rc = cs__win_confined_token(&token, err)) != CS_OK || (rc = cs__win_confined_job(&r->job, err)) != CS_OK))
    goto out;
  if (!(token != NULL
            ? CreateProcessAsUserW(token, wprog, wcmd, NULL, NULL, TRUE, flags, envblock, r->cwd, &si.StartupInfo,
                                   &r->pi)
            : CreateProcessW(wprog, wcmd, NULL, NULL, TRUE, flags, envblock, r->cwd, &si.StartupInfo, &r->pi))) {
    rc = cs__win_fail(err, GetLastError(), what);
    goto out;
  }
  if (r->job == NULL) /* a plain child: without a job (none, or assignment refused), a timeout ends it alone */
    r->job = CreateJobObjectW(NULL, NULL);
  if (r->job != NULL && !AssignProcessToJobObject(r->job, r->pi.hProcess)) {
    DWORD e = GetLastError();
    CloseHandle(r->job); /* an empty job: the suspended child is ended alone below */
    r->job = NULL;
    if (confined) {
      rc = cs__win_fail(err, e, "cannot put the worker into its job object");
      goto out;
    }
  }
  if (ResumeThread(r->pi.hThread) == (DWORD)-1) { /* it would sit suspended until the deadline */
    rc = cs__win_fail(err, GetLastError(), what);
    goto out;
  }
  /* only the child keeps these: their closing is how each side sees end of file */
  CloseHandle(in_r);
  CloseHandle(out_w);
  CloseHandle(err_h);
  in_r = out_w = err_h = NULL;
  if (in_w != NULL) {
    if ((f = malloc(sizeof *f + input_len)) != NULL) {
      f->pipe = in_w;
      f->len = input_len;
      memcpy(f->data, input, input_len);
      if ((r->feeder = CreateThread(NULL, 64 * 1024, feed_main, f, 0, NULL)) != NULL) {
        in_w = NULL; /* the thread owns both now */
        f = NULL;
      }
    }
    if (r->feeder == NULL) {
      rc = cs__win_fail(err, f == NULL ? ERROR_NOT_ENOUGH_MEMORY : GetLastError(), what);
      goto out;
    }
  }
  rc = CS_OK;
out:
  if (f != NULL) { /* the thread never started: the copy of the input is ours to wipe */
    SecureZeroMemory(f->data, f->len);
    free(f);
  }
  if (token != NULL)
    CloseHandle(token);
  if (attrs != NULL)
    DeleteProcThreadAttributeList(attrs);
  free(attrs);
  if (in_r != NULL)
    CloseHandle(in_r);
  if (in_w != NULL)
    CloseHandle(in_w);
  if (out_w != NULL)
    CloseHandle(out_w);
  if (err_h != NULL)
    CloseHandle(err_h);
  return rc;
}

/* Reads the child's output until it ends or timeout_ms has passed (then ends its job,
 * or it alone), and gives what it said and how it ended in res. */
static int supervise(run_t *r, int timeout_ms, cs_run_result_t *res, cs_err_t *err) {
  ULONGLONG deadline = GetTickCount64() + (ULONGLONG)timeout_ms;
  DWORD code = 0;

  for (;;) {
    drain(r, DRAIN_STEP);
    if (WaitForSingleObject(r->pi.hProcess, r->out != NULL ? TICK_MS : 2 * TICK_MS) == WAIT_OBJECT_0) {
      /* Something it started in the background may hold the pipe open for long:
       * take what is there and do not wait for that end of file. */
      drain(r, DRAIN_AT_EXIT);
      break;
    }
    if (GetTickCount64() >= deadline) {
      r->timed_out = 1;
      if (r->job == NULL || !TerminateJobObject(r->job, 1))
        TerminateProcess(r->pi.hProcess, 1);
      WaitForSingleObject(r->pi.hProcess, 5000);
      drain(r, DRAIN_AT_EXIT); /* what it said before it was stopped helps to tell why */
      break;
    }
  }
  if (cs_buf_str(&r->buf) == NULL)
    return cs_err_set(err, CS_ENOMEM, 0, "out of memory keeping the output of %s", r->prog);
  (void)GetExitCodeProcess(r->pi.hProcess, &code);
  res->timed_out = r->timed_out;
  /* An NTSTATUS error (0xC0000005 access violation, ...) is a crash, not an exit. */
  res->exit_code = r->timed_out || code >= 0xC0000000u ? -1 : (int)code;
  res->signal = 0;
  res->out_len = r->buf.len;
  res->out = r->buf.p != NULL ? r->buf.p : cs_strdup("");
  r->buf.p = NULL;
  return res->out != NULL ? CS_OK : cs_err_set(err, CS_ENOMEM, 0, "out of memory keeping the output of %s", r->prog);
}

/* Runs the program wprog with the command line wcmd (modified by CreateProcessW);
 * confined: as the worker (confine.c). */
static int run_wide(const char *prog, const wchar_t *wprog, wchar_t *wcmd, const wchar_t *cwd, wchar_t *envblock,
                    int confined, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                    cs_run_result_t *res, cs_err_t *err) {
  run_t r;
  int rc;

  memset(&r, 0, sizeof r);
  r.prog = prog;
  r.cwd = cwd;
  r.max_out = max_out;
  rc = spawn(&r, wprog, wcmd, envblock, confined, input, input_len, err);
  if (rc == CS_OK)
    rc = supervise(&r, timeout_ms, res, err);
  if (r.feeder != NULL) {
    /* A child that ended without reading, or a grandchild holding its stdin: the
     * write is cancelled; a thread that still does not end is left to its own. */
    if (WaitForSingleObject(r.feeder, 0) != WAIT_OBJECT_0) {
      (void)CancelSynchronousIo(r.feeder);
      WaitForSingleObject(r.feeder, 1000);
    }
    CloseHandle(r.feeder);
  }
  if (r.pi.hProcess != NULL && rc != CS_OK && WaitForSingleObject(r.pi.hProcess, 0) != WAIT_OBJECT_0) {
    if (r.job == NULL || !TerminateJobObject(r.job, 1))
      TerminateProcess(r.pi.hProcess, 1);
  }
  if (r.pi.hThread != NULL)
    CloseHandle(r.pi.hThread);
  if (r.pi.hProcess != NULL)
    CloseHandle(r.pi.hProcess);
  if (r.job != NULL)
    CloseHandle(r.job);
  if (r.out != NULL)
    CloseHandle(r.out);
  cs_buf_free(&r.buf);
  return rc;
}

static void result_init(cs_run_result_t *res) {
  res->exit_code = -1;
  res->timed_out = 0;
  res->signal = 0;
  res->out = NULL;
  res->out_len = 0;
}

static int run_argv(const char *const *argv, int confined, const void *input, size_t input_len, int timeout_ms,
                    size_t max_out, cs_run_result_t *res, cs_err_t *err) {
  wchar_t *wprog = NULL, *wline = NULL, *p;
  int rc;

  result_init(res);
  if (argv == NULL || argv[0] == NULL || timeout_ms <= 0) {
    rc = cs_err_set(err, CS_EINVAL, 0, "nothing to run, or no time to run it in");
    goto out;
  }
  if ((rc = cs__win_command_line(argv, &wline, err)) != CS_OK)
    goto out;
  if ((wprog = cs__win_wide(argv[0])) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "cannot run %s: not valid UTF-8, or out of memory", argv[0]);
    goto out;
  }
  for (p = wprog; *p; p++)
    if (*p == L'/')
      *p = L'\\';
  rc = run_wide(argv[0], wprog, wline, NULL, NULL, confined, input, input_len, timeout_ms, max_out, res, err);
out:
  free(wprog);
  free(wline);
  return rc;
}

int cs_plat_run(const char *const *argv, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                cs_run_result_t *res, cs_err_t *err) {
  return run_argv(argv, 0, input, input_len, timeout_ms, max_out, res, err);
}

int cs_plat_run_confined(const char *const *argv, const void *input, size_t input_len, int timeout_ms, size_t max_out,
                         cs_run_result_t *res, cs_err_t *err) {
  return run_argv(argv, 1, input, input_len, timeout_ms, max_out, res, err);
}

/* cmd.exe from the system folder (not %ComSpec%, which any user's environment can
 * change), /d: no AutoRun commands from the registry, /v:off: no delayed expansion
 * (whatever the registry's DelayedExpansion says), /s /c "...": the outer quotes are
 * removed and the rest is run as the admin wrote it. Its working folder is the system
 * folder: cmd.exe looks for a program named without its path in the working folder
 * before PATH (NeedCurrentDirectoryForExePathW, Win32 docs), and the folder an
 * administrator started certsteward apply or doctor from may be one others can write. */
/* cmd.exe running command (as cs_plat_run_shell says), with the environment block
 * envblock (NULL: this process's). */
static int shell(const char *command, wchar_t *envblock, int timeout_ms, size_t max_out, cs_run_result_t *res,
                 cs_err_t *err) {
  wchar_t sys[MAX_PATH], prog[MAX_PATH + 16], *wcommand = NULL, *line = NULL;
  UINT n;
  size_t len;
  int rc;

  result_init(res);
  n = GetSystemDirectoryW(sys, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) {
    rc = cs__win_fail(err, GetLastError(), "cannot find the system folder for cmd.exe");
    goto out;
  }
  memcpy(prog, sys, sizeof *sys * n);
  memcpy(prog + n, L"\\cmd.exe", sizeof(L"\\cmd.exe"));
  if (command == NULL || (wcommand = cs__win_wide(command)) == NULL) {
    rc = cs_err_set(err, CS_EINVAL, 0, "the command is not valid UTF-8, or out of memory");
    goto out;
  }
  len = wcslen(wcommand);
  if (len + 48 >= CS__WIN_CMDLINE_MAX) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "the command is over %d characters", CS__WIN_CMDLINE_MAX - 49);
    goto out;
  }
  if ((line = malloc(sizeof *line * (len + 48))) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  memcpy(line, L"cmd.exe /d /v:off /s /c \"", sizeof(L"cmd.exe /d /v:off /s /c \""));
  wcscat(line, wcommand);
  wcscat(line, L"\"");
  sys[n] = L'\0';
  rc = run_wide("cmd.exe", prog, line, sys, envblock, 0, NULL, 0, timeout_ms, max_out, res, err);
out:
  free(wcommand);
  free(line);
  return rc;
}

int cs_plat_run_shell(const char *command, int timeout_ms, cs_run_result_t *res, cs_err_t *err) {
  return shell(command, NULL, timeout_ms, SHELL_MAX_OUT, res, err);
}

/* The name of a "NAME=value" entry is name's (names compare without case on Windows).
 * An entry that starts with '=' (cmd.exe's per-drive folders, "=C:=C:\...") is named
 * by what follows that '=' up to the next. */
static int env_same(const wchar_t *e, const wchar_t *name) {
  size_t n = wcscspn(name + 1, L"=") + 1, m = wcscspn(e + 1, L"=") + 1;
  return n == m && CompareStringOrdinal(e, (int)n, name, (int)n, TRUE) == CSTR_EQUAL;
}

static int env_order(const void *a, const void *b) {
  const wchar_t *x = *(const wchar_t *const *)a, *y = *(const wchar_t *const *)b;
  size_t n = wcscspn(x + 1, L"=") + 1, m = wcscspn(y + 1, L"=") + 1;
  return CompareStringOrdinal(x, (int)n, y, (int)m, TRUE) - CSTR_EQUAL;
}

/* This process's environment without the variables env names or drop_prefix starts, and
 * env's, sorted by name without case as CreateProcess documents an environment block
 * must be, in one block ending with two NULs. NULL: out of memory, or env not UTF-8. */
static wchar_t *env_block(const char *const *env, const char *drop_prefix) {
  wchar_t *own = GetEnvironmentStringsW(), *block = NULL, *p, *wprefix = NULL, **add = NULL;
  const wchar_t **v = NULL;
  size_t n_own = 0, n_add = 0, n = 0, i, j, len = 1;
  int ok = own != NULL && (drop_prefix == NULL || (wprefix = cs__win_wide(drop_prefix)) != NULL);

  while (env != NULL && env[n_add] != NULL)
    n_add++;
  for (p = own; ok && *p; p += wcslen(p) + 1)
    n_own++;
  ok = ok && (add = calloc(n_add + 1, sizeof *add)) != NULL && (v = malloc(sizeof *v * (n_own + n_add + 1))) != NULL;
  for (j = 0; ok && j < n_add; j++)
    ok = (add[j] = cs__win_wide(env[j])) != NULL;
  for (p = own; ok && *p; p += wcslen(p) + 1) {
    int keep = wprefix == NULL ||
               !(wcslen(p) >= wcslen(wprefix) &&
                 CompareStringOrdinal(p, (int)wcslen(wprefix), wprefix, (int)wcslen(wprefix), TRUE) == CSTR_EQUAL);
    for (j = 0; keep && j < n_add; j++)
      keep = !env_same(p, add[j]);
    if (keep)
      v[n++] = p;
  }
  for (j = 0; ok && j < n_add; j++)
    v[n++] = add[j];
  if (ok) {
    qsort(v, n, sizeof *v, env_order);
    for (i = 0; i < n; i++)
      len += wcslen(v[i]) + 1;
    ok = (block = malloc(sizeof *block * (len + 1))) != NULL;
  }
  if (ok) {
    for (p = block, i = 0; i < n; i++) {
      size_t l = wcslen(v[i]) + 1;
      memcpy(p, v[i], sizeof *p * l);
      p += l;
    }
    *p++ = L'\0';
    *p = L'\0'; /* an empty block needs its two */
  }
  for (j = 0; add != NULL && j < n_add; j++)
    free(add[j]);
  free(add);
  free(v);
  free(wprefix);
  if (own != NULL)
    FreeEnvironmentStringsW(own);
  return block;
}

int cs_plat_run_shell_env(const char *command, const char *const *env, const char *drop_prefix, int timeout_ms,
                          size_t max_out, cs_run_result_t *res, cs_err_t *err) {
  wchar_t *block = env_block(env, drop_prefix);
  int rc;
  if (block == NULL) {
    result_init(res);
    return cs_err_set(err, CS_ENOMEM, 0, "cannot make the environment for the command: out of memory, or not UTF-8");
  }
  rc = shell(command, block, timeout_ms, max_out, res, err);
  free(block);
  return rc;
}

/* The executable next to this one; on Windows a name without an extension gets ".exe"
 * (CreateProcessW's application name must carry it). */
int cs_plat_sibling_path(const char *name, char *buf, size_t len, cs_err_t *err) {
  wchar_t *exe = NULL;
  char *utf8 = NULL;
  DWORD size = MAX_PATH, n = 0;
  const char *ext;
  size_t dir_len, name_len;
  char *sep;
  int rc;

  for (;;) {
    free(exe);
    if ((exe = malloc(sizeof *exe * size)) == NULL) {
      rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
      goto out;
    }
    n = GetModuleFileNameW(NULL, exe, size);
    if (n == 0) {
      rc = cs__win_fail(err, GetLastError(), "cannot tell where this program is");
      goto out;
    }
    if (n < size)
      break;
    if (size >= 32768) {
      rc = cs_err_set(err, CS_ETOOBIG, 0, "the path of this program is too long");
      goto out;
    }
    size *= 2;
  }
  if ((utf8 = cs__win_utf8(exe)) == NULL) {
    rc = cs_err_set(err, CS_ENOMEM, 0, "out of memory");
    goto out;
  }
  sep = strrchr(utf8, '\\');
  if (sep == NULL && (sep = strrchr(utf8, '/')) == NULL) {
    rc = cs_err_set(err, CS_EIO, 0, "this program's path %s has no folder", utf8);
    goto out;
  }
  dir_len = (size_t)(sep - utf8) + 1;
  name_len = strlen(name);
  ext = strrchr(name, '.');
  if (ext != NULL && (strchr(ext, '\\') != NULL || strchr(ext, '/') != NULL))
    ext = NULL;
  if (dir_len + name_len + (ext == NULL ? 4 : 0) + 1 > len) {
    rc = cs_err_set(err, CS_ETOOBIG, 0, "the path of %s next to %s does not fit in %zu bytes", name, utf8, len);
    goto out;
  }
  memcpy(buf, utf8, dir_len);
  memcpy(buf + dir_len, name, name_len + 1);
  if (ext == NULL)
    memcpy(buf + dir_len + name_len, ".exe", 5);
  rc = CS_OK;
out:
  free(exe);
  free(utf8);
  return rc;
}
