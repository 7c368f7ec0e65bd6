/* The command line certsteward-msi.exe (msi_shim.c) passes on: what follows its own
 * program name. Pure, so that it is tested on its own (tests/unit/test_win_msi_shim.c). */
#ifndef CS_MSI_CMDLINE_H
#define CS_MSI_CMDLINE_H

#include <wchar.h>

/* The command line cl after its first argument, the program name, and the blanks after
 * it, as the C runtime reads argv[0] ("Parsing C command-line arguments", Microsoft's
 * C documentation): up to the first space or tab outside double quotes, each double
 * quote only switching quoting on or off (no backslash escapes in argv[0]); the rest
 * is left to certsteward.exe's own C runtime, character for character. */
const wchar_t *cs_msi_after_program(const wchar_t *cl);

/* 1 when args (what follows the program name) is the commit action's "--forget", with
 * any blanks after it: the command line of a custom action of type 2 (an EXE from the
 * Binary table) is made from the Target column (Microsoft's "Custom Action Type 2":
 * it "contains the command line string for the executable named in the Source column");
 * how it joins the program's temporary name and that string (a blank added, one kept
 * at the end) is not documented, and Wine's msiexec need not do as Windows does.
 * Anything else after it ("--forget x", "--forgetx") is not it. */
int cs_msi_is_forget(const wchar_t *args);

#endif
