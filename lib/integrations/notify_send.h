/* Sending the queued notifications (notify_store.h) through each user's email
 * (SMTP, SendGrid, SES) or SMS (Twilio, SNS) connector: the worker's part of the feature. */
#ifndef SB_NOTIFY_SEND_H
#define SB_NOTIFY_SEND_H

struct arena;
struct json_object;

/* The subject and plain text of a notification of kind about an event's data. */
void notify_compose(struct arena *a, const char *kind, struct json_object *data, const char **subject,
		    const char **text);

/* The text of an SMS notification: one short line (at most 160 characters), no details. */
const char *notify_compose_sms(struct arena *a, const char *kind, struct json_object *data);

/* Queues what is new, then sends up to max due messages, each in a fresh arena step.
 * Returns how many were sent, -1 on database trouble. */
int notify_run(int max);

#endif
