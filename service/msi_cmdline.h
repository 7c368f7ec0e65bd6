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

#endif
