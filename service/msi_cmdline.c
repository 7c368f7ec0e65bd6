/* The command line after the program name (msi_cmdline.h). */
#include "msi_cmdline.h"

const wchar_t *cs_msi_after_program(const wchar_t *cl) {
  int quoted = 0;
  /* CommandLineToArgvW's documentation says only that the program name may be quoted
   * or not (and that a command line starting with a blank has an empty program name,
   * as here); the C runtime documents its rule: parts of argv[0] in double quotes keep
   * their blanks, the quotes are dropped, no other rule applies. certsteward.exe's C
   * runtime reads the rest with the later rules; this one decides where it starts,
   * for a quoted path with blanks ("C:\Program Files\...\certsteward-msi.exe" ...), as
   * Windows Installer starts a custom action, and for a quote inside the name. */
  for (; *cl != L'\0' && (quoted || (*cl != L' ' && *cl != L'\t')); cl++)
    if (*cl == L'"')
      quoted = !quoted;
  while (*cl == L' ' || *cl == L'\t')
    cl++;
  return cl;
}

int cs_msi_is_forget(const wchar_t *args) {
  static const wchar_t forget[] = L"--forget";
  size_t n = sizeof forget / sizeof forget[0] - 1;
  if (wcsncmp(args, forget, n) != 0)
    return 0;
  for (args += n; *args == L' ' || *args == L'\t'; args++)
    ;
  return *args == L'\0';
}
