/* Amazon SES (API v2 SendEmail, SigV4): sending a message through a user's saved keys. */
#ifndef SB_PROVIDER_SES_H
#define SB_PROVIDER_SES_H

#include <stdbool.h>

struct arena;
struct integration;

/* Sends subject/text to `to` from the row's from_address. Returns 0, or -1 with *reason
 * (arena) and *http (502 or 504); *secret_failed when the stored secret cannot be opened. */
int ses_send_saved(struct arena *a, const struct integration *row, const char *to, const char *subject,
		   const char *text, const char **reason, int *http, bool *secret_failed);

#endif
