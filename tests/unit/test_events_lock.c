/* The event sinks' lock under contention (POSIX): an emitter that waits for another
 * one, blocked in a write, sleeps rather than spins. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "cs_test.h"
#include "events.h"

static atomic_int done;
static long long waiter_cpu_ns;

static long long thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
    return -1;
  return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Blocks in its write to stderr, a full pipe, holding the sinks' lock. */
static void blocked_writer(void *arg) {
  (void)arg;
  cs_event_say(CS_EV_STATE_ERROR, NULL, "writer", "blocked on a full stderr", NULL);
  atomic_fetch_add(&done, 1);
}

/* Waits for the lock the writer holds; measures the CPU time that waiting costs. */
static void waiter(void *arg) {
  long long before = thread_cpu_ns();
  (void)arg;
  cs_event_say(CS_EV_STATE_ERROR, NULL, "waiter", "waited for the writer", NULL);
  waiter_cpu_ns = thread_cpu_ns() - before;
  atomic_fetch_add(&done, 1);
}

/* While one emitter is stuck writing (stderr a pipe nobody reads yet, as under a
 * stalled log collector), a second one waits for half a second; with a spinlock it
 * burned that half second of CPU, with a mutex it sleeps. */
CS_TEST(waiting_emitter_sleeps_while_a_sink_blocks) {
  int fds[2] = {-1, -1}, saved = -1, flags;
  char chunk[4096] = {0};
  uv_thread_t writer, waiting;
  long drained = 0;
  int i;

  CHECK_INT(pipe(fds), ==, 0);
  /* fill the pipe to the last byte: the next write to it blocks */
  flags = fcntl(fds[1], F_GETFL);
  CHECK_INT(fcntl(fds[1], F_SETFL, flags | O_NONBLOCK), ==, 0);
  while (write(fds[1], chunk, sizeof chunk) > 0)
    ;
  while (write(fds[1], chunk, 1) > 0)
    ;
  CHECK_INT(fcntl(fds[1], F_SETFL, flags), ==, 0);
  fflush(stderr);
  saved = dup(2);
  CHECK(saved >= 0);
  CHECK_INT(dup2(fds[1], 2), ==, 2);

  CHECK_INT(uv_thread_create(&writer, blocked_writer, NULL), ==, 0);
  sleep_ms(200); /* the writer holds the lock, blocked in write() */
  CHECK_INT(uv_thread_create(&waiting, waiter, NULL), ==, 0);
  sleep_ms(500); /* the waiter waits this long for the lock */
  CHECK_INT(atomic_load(&done), ==, 0);

  /* read until both have written, then put stderr back */
  CHECK_INT(fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK), ==, 0);
  for (i = 0; i < 1000 && atomic_load(&done) < 2; i++) {
    ssize_t n;
    while ((n = read(fds[0], chunk, sizeof chunk)) > 0)
      drained += (long)n;
    sleep_ms(5);
  }
  uv_thread_join(&writer);
  uv_thread_join(&waiting);
  dup2(saved, 2);
  close(saved);
  close(fds[0]);
  close(fds[1]);

  CHECK_INT(atomic_load(&done), ==, 2);
  CHECK(drained > 0);
  CHECK(waiter_cpu_ns >= 0);
  /* a spinning waiter: about 500 ms (or its share of a busy core); a sleeping one: next to nothing */
  CHECK_INT(waiter_cpu_ns, <, 100 * 1000000LL);
}
