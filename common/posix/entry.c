/* The entry of certsteward and certsteward-worker on POSIX (the cs_entry library):
 * the arguments are already bytes, UTF-8 by the system's convention. */
#include "../platform.h"

int main(int argc, char **argv) { return cs_main(argc, argv); }
