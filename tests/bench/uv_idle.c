/* uv-idle: the footprint floor of a libuv daemon. A default loop with one
 * repeating timer (300 s, like certsteward's rescan) and SIGTERM / SIGINT
 * handlers; nothing else. Runs until signalled. */
#define _POSIX_C_SOURCE 200809L

#include <signal.h>
#include <stdio.h>

#include <uv.h>

static void tick(uv_timer_t *t) { (void)t; }

static void stop(uv_signal_t *s, int signum) {
  (void)signum;
  uv_stop(s->loop);
}

int main(void) {
  uv_loop_t *loop = uv_default_loop();
  uv_timer_t timer;
  uv_signal_t term, intr;
  uv_timer_init(loop, &timer);
  uv_timer_start(&timer, tick, 300000, 300000);
  uv_signal_init(loop, &term);
  uv_signal_init(loop, &intr);
  uv_signal_start(&term, stop, SIGTERM);
  uv_signal_start(&intr, stop, SIGINT);
  fprintf(stderr, "uv-idle: running\n");
  return uv_run(loop, UV_RUN_DEFAULT) < 0;
}
