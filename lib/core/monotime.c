/* The monotonic clock; see monotime.h. */
#include "core/monotime.h"

#include <time.h>

double monotime_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}
