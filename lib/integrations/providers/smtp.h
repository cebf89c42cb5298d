/* The SMTP provider's parts other modules use: sending a message through a user's
 * saved mail server (the test action, notifications). */
#ifndef SB_PROVIDER_SMTP_H
#define SB_PROVIDER_SMTP_H

#include "core/validate.h"
#include "net/smtp_client.h"

struct arena;
struct integration;

/* Client options for a saved row (the stored password opened). Returns 0, -1 when the
 * stored password cannot be opened. */
int smtp_saved_options(struct arena *a, const struct integration *row, struct smtp_options *o);

/* Sends subject/text (Message-ID message_id, NULL: random) to `to` from the row's from_address through its server. Returns
 * 0, -1 with *r filled (r->error SMTP_FAILED and "secret" message when the stored
 * password cannot be opened: *secret_failed then says so). */
int smtp_send_saved(struct arena *a, const struct integration *row, const char *to, const char *subject,
		    const char *text, const char *message_id, struct smtp_result *r, bool *secret_failed);

/* The "test" action (smtp_test.c). */
struct provider;
struct provider_call;
struct provider_result;
int smtp_test(const struct provider_call *c, const struct provider *p, struct provider_result *r);
extern const struct field smtp_test_fields[];

#endif
