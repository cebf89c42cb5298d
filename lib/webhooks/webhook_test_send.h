/* POST /webhooks/{id}/test without HTTP: a webhook.test event for one webhook alone,
 * sent at once from the calling process and settled like any delivery (a failed test
 * is retried on the schedule by the worker). */
#ifndef SB_WEBHOOK_TEST_SEND_H
#define SB_WEBHOOK_TEST_SEND_H

#include "db/db.h"
#include "webhooks/webhook.h"

struct arena;

struct webhook_test_result {
	int found;			      /* 0: no such webhook of the user (nothing else is set) */
	const char *delivery_id, *message_id; /* the delivery and the event it carries */
	const char *not_sent;		      /* why the request could not be made (settled as failed), or NULL */
	enum webhook_outcome outcome;	      /* when sent */
	int attempt;			      /* its attempt number */
	struct webhook_attempt at;	      /* what the receiver answered */
};

/* Sends the test event to webhook_id of user_id and records the attempt. The delivery
 * is created already leased to this process, out of the worker's reach, and no
 * transaction is open while the request is on the wire; the wait is capped at 50 s
 * whatever the webhook's timeout, so a caller behind a 60 s proxy gets its answer. */
enum db_status webhook_test_send(struct arena *a, const char *user_id, const char *webhook_id,
				 struct webhook_test_result *out);

#endif
