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
 * log file and the Event Log (service/install_log.h). */
#include <windows.h>

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

/* The command line after the program's own name (the first argument, as
 * CommandLineToArgvW reads it: quoted, or up to the first blank). */
static const wchar_t *after_program(const wchar_t *cl) {
  if (*cl == L'"') {
    for (cl++; *cl != L'\0' && *cl != L'"'; cl++)
      ;
    if (*cl == L'"')
      cl++;
  } else {
    while (*cl != L'\0' && *cl != L' ' && *cl != L'\t')
      cl++;
  }
  while (*cl == L' ' || *cl == L'\t')
    cl++;
  return cl;
}

int WINAPI wWinMain(HINSTANCE inst, HINSTANCE prev, PWSTR unused, int show) {
  wchar_t self[32768], *slash, *exe = NULL, *cmd = NULL;
  const wchar_t *args = after_program(GetCommandLineW());
  STARTUPINFOW si;
  PROCESS_INFORMATION pi;
  DWORD n, code = 1;
  size_t len;
  (void)inst;
  (void)prev;
  (void)unused;
  (void)show;
  n = GetModuleFileNameW(NULL, self, sizeof self / sizeof self[0]);
  if (n == 0 || n >= sizeof self / sizeof self[0] || (slash = wcsrchr(self, L'\\')) == NULL)
    return 1;
  slash[1] = L'\0';
  len = wcslen(self) + wcslen(L"certsteward.exe") + 1;
  if ((exe = malloc(len * sizeof *exe)) == NULL || (cmd = malloc((len + wcslen(args) + 3) * sizeof *cmd)) == NULL)
    goto out;
  swprintf(exe, len, L"%lscertsteward.exe", self);
  swprintf(cmd, len + wcslen(args) + 3, L"\"%ls\" %ls", exe, args);
  memset(&si, 0, sizeof si);
  si.cb = sizeof si;
  if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi))
    goto out;
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
