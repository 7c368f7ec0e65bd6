/* The wall clock the daemon's decisions use (expiry thresholds, maintenance
 * windows). Builds with CS_TEST_HOOKS read CERTSTEWARD_TEST_CLOCK_OFFSET (seconds
 * added to the real time) so tests move days ahead without sleeping; release
 * builds have no such hook. */
#ifndef CS_CLOCK_H
#define CS_CLOCK_H

long long cs_clock_now(void);

#endif
