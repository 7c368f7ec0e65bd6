/* The entry of certsteward.exe and certsteward-worker.exe (the cs_entry library, linked
 * with -municode): the arguments as Windows holds them, UTF-16, converted to UTF-8 once
 * here. main's would be in the ANSI code page, which cannot hold every path
 * (C:\Zertifikate\Übergang where the code page has no Ü, any CJK name on a Western
 * system); everything after works in UTF-8 and opens files through the wide API
 * (wide.c, which also sets the process's redirection guard first). */
#include "../platform.h"
#include "win.h"

int wmain(int argc, wchar_t **wargv);
int wmain(int argc, wchar_t **wargv) { return cs__win_wmain(argc, wargv, cs_main, cs_main_nomem_exit); }
