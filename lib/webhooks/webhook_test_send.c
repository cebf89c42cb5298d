/* Test sends; see webhook_test_send.h. */
#include "webhooks/webhook_test_send.h"

#include <json-c/json.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "webhooks/delivery_store.h"
#include "webhooks/webhook_send.h"

#define TEST_SEND_MAX_SECONDS 50L

enum db_status webhook_test_send(struct arena *a, const char *user_id, const char *webhook_id,
				 struct webhook_test_result *out)
{
	memset(out, 0, sizeof(*out));
	out->message_id = arena_printf(a, "msg_%s", crypto_token(a, 18));
	const char *owner = arena_printf(a, "test:%d:%s", (int)getpid(), crypto_token(a, 6));
	struct json_object *data = json_object_new_object();
	json_object_object_add(data, "webhook_id", json_object_new_string(webhook_id));
	json_object_object_add(data, "message", json_object_new_string("This is a test event from Switchboard"));
	struct delivery_claim c;
	enum db_status s = delivery_store_create_test(a, owner, user_id, webhook_id, out->message_id,
						      json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN), &c);
	json_object_put(data);
	if (s != DB_OK || c.n != 1)
		return s;
	out->found = 1;
	struct webhook_job job;
	struct webhook_send send;
	int unopened = delivery_claim_job(&c, 0, a, &job);
	out->delivery_id = job.delivery_id;
	out->not_sent = unopened ? "the webhook's signing secret cannot be opened"
			: webhook_send_init(&send, a, &job, time(NULL)) ? "the request could not be prepared"
									: NULL;
	if (out->not_sent) {
		/* A test delivery must not sit pending. Should this fail too, the lease lapses
		 * and housekeeping hands the delivery to the worker. */
		(void)delivery_store_fail(a, job.delivery_id, out->not_sent);
		return DB_OK;
	}
	if (job.timeout_seconds > TEST_SEND_MAX_SECONDS)
		curl_easy_setopt(send.easy, CURLOPT_TIMEOUT, TEST_SEND_MAX_SECONDS);
	CURLcode rc = curl_easy_perform(send.easy);
	webhook_send_result(&send, a, rc, &out->at);
	webhook_send_free(&send);
	out->attempt = job.attempt;
	return delivery_store_finish(a, &job, &out->at, owner, &out->outcome);
}
