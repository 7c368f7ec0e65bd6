/* What certsteward-msi.exe passes on to certsteward.exe (service/msi_cmdline.c) and what
 * install --undo may remove (service/install_undo.c): pure decisions on strings. */
#include "cs_test.h"

#include <stdlib.h>
#include <wchar.h>

#include <windows.h>
#include <shellapi.h>

#include "install_undo.h"
#include "msi_cmdline.h"

static void rest_is(const wchar_t *cl, const wchar_t *want) {
  const wchar_t *got = cs_msi_after_program(cl);
  CHECK(wcscmp(got, want) == 0);
  if (wcscmp(got, want) != 0)
    fprintf(stderr, "  after the program of [%ls]: [%ls], expected [%ls]\n", cl, got, want);
}

/* The C runtime's argv[0] rule: quoted parts keep blanks, a quote only toggles. */
CS_TEST(shim_skips_the_program_name_as_the_c_runtime_does) {
  rest_is(L"\"C:\\Program Files\\certsteward\\certsteward-msi.exe\" install --set \"host=a b\"",
          L"install --set \"host=a b\"");
  rest_is(L"C:\\cs\\certsteward-msi.exe install", L"install");
  rest_is(L"C:\\Program\" \"Files\\certsteward\\certsteward-msi.exe install", L"install");
  rest_is(L"\"C:\\Program Files\\x.exe\"\t \tuninstall --finish-renewal", L"uninstall --finish-renewal");
  rest_is(L"\"C:\\a b\"c.exe --forget", L"--forget");
  rest_is(L"\"C:\\Program Files\\x.exe\"", L"");
  rest_is(L"\"C:\\no end quote install", L"");
  rest_is(L"", L"");
}

/* The commit action's "--forget", as Windows Installer or Wine may pass it: blanks after
 * it are allowed (the old exact comparison refused "--forget " and the values stayed);
 * anything else is not it. */
CS_TEST(shim_takes_forget_with_blanks_after_it) {
  CHECK_INT(cs_msi_is_forget(L"--forget"), ==, 1);
  CHECK_INT(cs_msi_is_forget(L"--forget "), ==, 1);
  CHECK_INT(cs_msi_is_forget(L"--forget \t  "), ==, 1);
  CHECK_INT(cs_msi_is_forget(cs_msi_after_program(L"\"C:\\Windows\\Installer\\MSI1A2B.tmp\" --forget ")), ==, 1);
  CHECK_INT(cs_msi_is_forget(L"--forgetx"), ==, 0);
  CHECK_INT(cs_msi_is_forget(L"--forget x"), ==, 0);
  CHECK_INT(cs_msi_is_forget(L"--forget\n"), ==, 0);
  CHECK_INT(cs_msi_is_forget(L" --forget"), ==, 0);
  CHECK_INT(cs_msi_is_forget(L"--forge"), ==, 0);
  CHECK_INT(cs_msi_is_forget(L""), ==, 0);
  CHECK_INT(cs_msi_is_forget(L"install --forget"), ==, 0);
}

/* What certsteward.exe's runtime reads from "\"exe\" REST" is what the original command
 * line held after its program name, for the quoted paths Windows Installer writes
 * (CommandLineToArgvW and the C runtime agree after argv[0]). */
CS_TEST(shim_passes_the_arguments_unchanged) {
  static const wchar_t *lines[] = {
      L"\"C:\\Program Files\\certsteward\\certsteward-msi.exe\" install --config-template \"C:\\Program "
      L"Files\\certsteward\\certsteward-default.ini\" --set \"host=board.example.test\" --run \"{A-B} 1/2/2026 "
      L"10:11:12\"",
      L"\"C:\\Program Files\\x.exe\" a\\\\\\\"b \"c d\" e\\\\\"f g\"",
      L"C:\\x.exe  install   --undo",
  };
  size_t i;
  for (i = 0; i < sizeof lines / sizeof lines[0]; i++) {
    wchar_t *again = malloc(sizeof(wchar_t) * (wcslen(lines[i]) + 16));
    int n1 = 0, n2 = 0, j;
    LPWSTR *a1, *a2;
    swprintf(again, wcslen(lines[i]) + 16, L"\"C:\\y.exe\" %ls", cs_msi_after_program(lines[i]));
    a1 = CommandLineToArgvW(lines[i], &n1);
    a2 = CommandLineToArgvW(again, &n2);
    CHECK(a1 != NULL && a2 != NULL);
    CHECK_INT(n1, ==, n2);
    for (j = 1; a1 != NULL && a2 != NULL && j < n1 && j < n2; j++)
      CHECK(wcscmp(a1[j], a2[j]) == 0);
    LocalFree(a1);
    LocalFree(a2);
    free(again);
  }
}

/* install --undo removes home, what is below it, and the configuration's own paths only. */
CS_TEST(undo_allows_only_what_install_makes) {
  const wchar_t *home = L"C:\\ProgramData\\certsteward";
  const wchar_t *made[] = {L"D:\\cs\\certsteward.ini", L"D:\\drop", NULL};
  CHECK(cs_install_undo_allowed(L"C:\\ProgramData\\certsteward", home, made, 3));
  CHECK(cs_install_undo_allowed(L"c:\\programdata\\CERTSTEWARD\\drop", home, made, 3));
  CHECK(cs_install_undo_allowed(L"C:\\ProgramData\\certsteward\\state\\x", home, made, 3));
  CHECK(cs_install_undo_allowed(L"D:\\drop", home, made, 3));
  CHECK(cs_install_undo_allowed(L"d:\\CS\\certsteward.ini", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"D:\\drop\\x", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"D:\\", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:\\ProgramData", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:\\ProgramData\\certsteward-other", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:\\ProgramData\\certsteward\\..\\x", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:\\ProgramData\\certsteward\\.\\x", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:/ProgramData/certsteward/x", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"certsteward\\x", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:\\Windows", home, made, 3));
  CHECK(!cs_install_undo_allowed(L"C:\\ProgramData\\certsteward\\x", L"", made, 0));
}
