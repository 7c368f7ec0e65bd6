/* certsteward-msi.exe: what the MSI's custom actions run (installer/windows/certsteward.wxs),
 * a Windows-subsystem program that runs certsteward.exe, from its own folder, with the
 * arguments it was given, without a window (CREATE_NO_WINDOW), waits for it and ends
 * with its exit code.
 *
 * Why: Windows Installer runs a deferred custom action as LocalSystem, on any repair too,
 * which a standard user may start (msiexec /fa). A console program run there gets a
 * console window on the user's desktop, owned by SYSTEM; such a window can be held open
 * and used to reach a SYSTEM shell (CVE-2024-38014). A Windows-subsystem program gets
 * no console, and the console program it starts with CREATE_NO_WINDOW gets one without
 * a window. Only real Windows proves that no window shows (Wine shows none either way).
 * It inherits no handle (bInheritHandles FALSE): certsteward.exe's own output goes to its
 * log file and the Event Log (service/install_log.h). Its own standard error goes
 * nowhere under msiexec: when it cannot start certsteward.exe it says why in the Event
 * Log (source certsteward, event 1016 INSTALL_ERROR, as certsteward install says its
 * failures) and ends with exit code 1, which fails the custom action.
 *
 * "certsteward-msi.exe --forget" starts nothing: it forgets what certsteward install
 * keeps in the registry (install_keys.h), as the MSI's commit action CS_Forget, which
 * runs once a removal can no longer be rolled back, when certsteward.exe is gone; the
 * MSI carries a copy of this program in its Binary table for it. */
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "events.h"
#include "install_keys.h"
#include "msi_cmdline.h"

/* Event 1016 (INSTALL_ERROR: "certsteward %1 failed: %2. All it said is in the log file
 * %3."), with the four strings every certsteward event carries after its own
 * (common/win/eventlog.c), and the message ID the message compiler gives an error
 * (severity 3 in bits 30-31). Wine's ReportEvent stores nothing: real Windows only. */
static void say(const wchar_t *command, const wchar_t *what, DWORD e) {
  wchar_t why[1024], text[512];
  const wchar_t *strings[7];
  HANDLE source = RegisterEventSourceW(NULL, L"certsteward");
  DWORD n = FormatMessageW(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0, text,
                           sizeof text / sizeof text[0], NULL);
  while (n > 0 && (text[n - 1] == L'\r' || text[n - 1] == L'\n' || text[n - 1] == L' ' || text[n - 1] == L'.'))
    text[--n] = L'\0';
  swprintf(why, sizeof why / sizeof why[0], L"certsteward-msi.exe %ls: %ls (Windows error %lu)", what,
           n > 0 ? text : L"no text", (unsigned long)e);
  strings[0] = command;
  strings[1] = why;
  strings[2] = L"none (certsteward-msi.exe keeps no log)";
  strings[3] = L"thumbprint=-";
  strings[4] = L"old=-";
  strings[5] = L"subject=-";
  strings[6] = L"file=-";
  if (source != NULL) {
    (void)ReportEventW(source, EVENTLOG_ERROR_TYPE, 0, (3u << 30) | (DWORD)CS_EV_INSTALL_ERROR, NULL, 7, 0, strings,
                       NULL);
    DeregisterEventSource(source);
  }
  fwprintf(stderr, L"%ls\n", why);
}

/* The first word of args (the certsteward command: install, uninstall), for the event. */
static void command_of(const wchar_t *args, wchar_t *out, size_t len) {
  size_t i;
  for (i = 0; i + 1 < len && args[i] != L'\0' && args[i] != L' ' && args[i] != L'\t'; i++)
    out[i] = args[i];
  out[i] = L'\0';
}

int WINAPI wWinMain(HINSTANCE inst, HINSTANCE prev, PWSTR unused, int show) {
  wchar_t self[32768], command[32], *slash, *exe = NULL, *cmd = NULL;
  const wchar_t *args = cs_msi_after_program(GetCommandLineW());
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  DWORD n, code = 1, e;
  size_t len;
  (void)inst;
  (void)prev;
  (void)unused;
  (void)show;
  command_of(args, command, sizeof command / sizeof command[0]);
  if (cs_msi_is_forget(args)) {
    if ((e = cs_install_forget_keys()) != ERROR_SUCCESS) {
      say(L"uninstall", L"cannot forget the values remembered in HKLM\\" CS_INSTALL_SOFTWARE_KEY, e);
      return 1;
    }
    return 0;
  }
  n = GetModuleFileNameW(NULL, self, sizeof self / sizeof self[0]);
  if (n == 0 || n >= sizeof self / sizeof self[0] || (slash = wcsrchr(self, L'\\')) == NULL) {
    say(command, L"cannot find its own folder", n == 0 ? GetLastError() : ERROR_INSUFFICIENT_BUFFER);
    return 1;
  }
  slash[1] = L'\0';
  len = wcslen(self) + wcslen(L"certsteward.exe") + 1;
  if ((exe = malloc(len * sizeof *exe)) == NULL || (cmd = malloc((len + wcslen(args) + 3) * sizeof *cmd)) == NULL) {
    say(command, L"cannot start certsteward.exe", ERROR_NOT_ENOUGH_MEMORY);
    goto out;
  }
  swprintf(exe, len, L"%lscertsteward.exe", self);
  swprintf(cmd, len + wcslen(args) + 3, L"\"%ls\" %ls", exe, args);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi)) {
    wchar_t what[MAX_PATH + 64];
    e = GetLastError();
    swprintf(what, sizeof what / sizeof what[0], L"cannot start %.*ls", MAX_PATH, exe);
    say(command, what, e);
    goto out;
  }
  WaitForSingleObject(pi.hProcess, INFINITE);
  if (!GetExitCodeProcess(pi.hProcess, &code))
    code = 1;
  CloseHandle(pi.hThread);
  CloseHandle(pi.hProcess);
out:
  free(exe);
  free(cmd);
  return (int)code;
}
