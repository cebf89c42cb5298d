/* sns: sending a text message through a user's saved connector (notifications). */
#ifndef SB_PROVIDER_SNS_H
#define SB_PROVIDER_SNS_H

#include <stdbool.h>

struct arena;
struct integration;

/* Sends text to the E.164 number to. Returns 0, or -1 with *reason (arena, no secret);
 * *secret_failed when the stored secret cannot be opened. */
int sns_send_saved(struct arena *a, const struct integration *row, const char *to, const char *text,
		    const char **reason, bool *secret_failed);

#endif
