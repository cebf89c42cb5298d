/* Elapsed time for latencies and deadlines: a monotonic clock in milliseconds, so a
 * change of the wall clock never makes a check look slow or a deadline pass. */
#ifndef SB_MONOTIME_H
#define SB_MONOTIME_H

/* Milliseconds on CLOCK_MONOTONIC (an arbitrary origin: only differences mean anything). */
double monotime_ms(void);

#endif
