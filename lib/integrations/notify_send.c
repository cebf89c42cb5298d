/* Composing and sending notifications; see notify_send.h. Delivery is at least once:
 * a message is leased while it is sent and marked sent right after the server took it;
 * a worker killed in between leaves it to be sent again after the lease, with the same
 * Message-ID (<notification id@sender's domain>) so mail clients show it once. */
#include "integrations/notify_send.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "integrations/integration.h"
#include "integrations/notify_store.h"
#include "integrations/providers/sendgrid.h"
#include "integrations/providers/ses.h"
#include "integrations/providers/smtp.h"
#include "integrations/providers/sns.h"
#include "integrations/providers/twilio.h"

static const char *str_or(struct json_object *o, const char *k, const char *def)
{
	const char *s = jsonx_get_string(o, k);
	return s ? s : def;
}

void notify_compose(struct arena *a, const char *kind, struct json_object *data, const char **subject,
		    const char **text)
{
	const char *details = json_object_to_json_string_ext(data, JSON_C_TO_STRING_PRETTY);
	if (!strncmp(kind, "integration.health_", 19)) {
		const char *provider = str_or(data, "provider", "an integration");
		*subject = arena_printf(a, "Switchboard: %s integration is %s", provider, kind + 19);
		*text = arena_printf(a,
				     "Your %s integration's health changed from %s to %s.\n\n"
				     "Open Switchboard to check its settings.\n\nDetails:\n%s\n",
				     provider, str_or(data, "previous_status", "unknown"), kind + 19, details);
	} else if (!strcmp(kind, "webhook.disabled")) {
		*subject = "Switchboard: a webhook endpoint was disabled";
		*text = arena_printf(a,
				     "Switchboard disabled your webhook %s: %s.\n\nFix the receiver, then enable the "
				     "webhook again.\n\nDetails:\n%s\n",
				     str_or(data, "webhook_id", ""), str_or(data, "reason", "its deliveries kept failing"),
				     details);
	} else if (!strcmp(kind, "export.completed")) {
		*subject = "Switchboard: your export is ready";
		*text = arena_printf(a, "Your export %s has completed and can be downloaded.\n\nDetails:\n%s\n",
				     str_or(data, "id", str_or(data, "job_id", "")), details);
	} else {
		*subject = arena_printf(a, "Switchboard: %s", kind);
		*text = arena_printf(a, "Details:\n%s\n", details);
	}
}

const char *notify_compose_sms(struct arena *a, const char *kind, struct json_object *data)
{
	const char *t;
	if (!strncmp(kind, "integration.health_", 19))
		t = arena_printf(a, "Switchboard: your %.40s integration is %s. Open Switchboard to check it.",
				 str_or(data, "provider", "an"), kind + 19);
	else if (!strcmp(kind, "webhook.disabled"))
		t = arena_printf(a, "Switchboard: webhook %.36s was disabled. Fix the receiver, then enable it.",
				 str_or(data, "webhook_id", ""));
	else if (!strcmp(kind, "export.completed"))
		t = arena_printf(a, "Switchboard: your export %.36s is ready to download.",
				 str_or(data, "id", str_or(data, "job_id", "")));
	else
		t = arena_printf(a, "Switchboard: %.60s", kind);
	return t;
}

/* The backoff before attempt n+1: 30 s doubling, at most an hour. */
static long retry_after(int attempts)
{
	long d = 30;
	for (int i = 1; i < attempts && d < 3600; i++)
		d *= 2;
	return d > 3600 ? 3600 : d;
}

/* Ends a delivery attempt that failed with reason. */
static enum db_status failed(struct arena *a, const struct notification *n, bool final, const char *reason)
{
	long max = config_int("SB_NOTIFY_MAX_ATTEMPTS", 5, 1, 50);
	log_msg(LOG_WARN, "notification %s of user %s not sent (attempt %d): %s", n->id, n->user_id, n->attempts,
		reason ? reason : "unknown");
	return notify_settle(a, n->id, final || n->attempts >= max ? NOTIFY_FAILED : NOTIFY_RETRY, reason,
			     retry_after(n->attempts));
}

/* Through Amazon SES when the user has neither an SMTP nor a SendGrid connector. */
static enum db_status via_ses(struct arena *a, const struct notification *n, const char *subject, const char *text)
{
	struct integration row;
	bool found, secret_failed;
	enum db_status s = integration_load(a, n->user_id, "ses", false, &row, &found);
	if (s != DB_OK)
		return s;
	if (!found || !row.enabled)
		return notify_settle(a, n->id, NOTIFY_SKIPPED,
				     "no enabled email connector (smtp, sendgrid or ses) is configured", 0);
	const char *reason = NULL;
	int http = 0;
	if (ses_send_saved(a, &row, n->to, subject, text, &reason, &http, &secret_failed) == 0)
		return notify_settle(a, n->id, NOTIFY_SENT, NULL, 0);
	return failed(a, n, secret_failed, reason);
}

/* Through SendGrid when the user has no SMTP connector but a SendGrid one. */
static enum db_status via_sendgrid(struct arena *a, const struct notification *n, const char *subject,
				   const char *text)
{
	struct integration row;
	bool found, secret_failed;
	enum db_status s = integration_load(a, n->user_id, "sendgrid", false, &row, &found);
	if (s != DB_OK)
		return s;
	if (!found || !row.enabled)
		return via_ses(a, n, subject, text);
	const char *reason = NULL;
	int http = 0;
	if (sendgrid_send_saved(a, &row, n->to, subject, text, &reason, &http, &secret_failed) == 0)
		return notify_settle(a, n->id, NOTIFY_SENT, NULL, 0);
	return failed(a, n, secret_failed, reason);
}

/* By SMS through Twilio, else AWS SNS. */
static enum db_status via_sms(struct arena *a, const struct notification *n)
{
	static const char *const providers[] = {"twilio", "sns"};
	if (!n->to)
		return notify_settle(a, n->id, NOTIFY_SKIPPED, "no phone number (sms_to) is set", 0);
	const char *text = notify_compose_sms(a, n->kind, n->data);
	for (int i = 0; i < 2; i++) {
		struct integration row;
		bool found, secret_failed = false;
		enum db_status s = integration_load(a, n->user_id, providers[i], false, &row, &found);
		if (s != DB_OK)
			return s;
		if (!found || !row.enabled)
			continue;
		const char *reason = NULL;
		int rc = i == 0 ? twilio_send_saved(a, &row, n->to, text, &reason, &secret_failed)
				: sns_send_saved(a, &row, n->to, text, &reason, &secret_failed);
		if (rc == 0)
			return notify_settle(a, n->id, NOTIFY_SENT, NULL, 0);
		return failed(a, n, secret_failed, reason);
	}
	return notify_settle(a, n->id, NOTIFY_SKIPPED, "no enabled SMS connector (twilio or sns) is configured", 0);
}

static enum db_status deliver(struct arena *a, const struct notification *n)
{
	if (n->sms)
		return via_sms(a, n);
	struct integration row;
	bool found;
	enum db_status s = integration_load(a, n->user_id, "smtp", false, &row, &found);
	if (s != DB_OK)
		return s;
	if (!n->to)
		return notify_settle(a, n->id, NOTIFY_SKIPPED, "the account has no email address", 0);
	const char *subject, *text;
	notify_compose(a, n->kind, n->data, &subject, &text);
	if (!found || !row.enabled)
		return via_sendgrid(a, n, subject, text);
	struct smtp_result r;
	bool secret_failed;
	const char *from = jsonx_get_string(row.config, "from_address");
	const char *at = from ? strrchr(from, '@') : NULL;
	const char *msgid = arena_printf(a, "%s@%s", n->id, at ? at + 1 : "switchboard.invalid");
	if (smtp_send_saved(a, &row, n->to, subject, text, msgid, &r, &secret_failed) == 0)
		return notify_settle(a, n->id, NOTIFY_SENT, NULL, 0);
	return failed(a, n, secret_failed, r.message);
}

int notify_run(int max)
{
	struct arena *a = arena_new();
	int added, sent = 0;
	if (notify_enqueue(a, &added) != DB_OK) {
		arena_free(a);
		return -1;
	}
	long lease = config_int("SB_NOTIFY_LEASE_SECONDS", 120, 5, 3600);
	for (int i = 0; i < max; i++) {
		arena_reset(a);
		struct notification n;
		bool found;
		if (notify_claim(a, lease, &n, &found) != DB_OK || !found)
			break;
		if (deliver(a, &n) != DB_OK)
			break;
		sent++;
	}
	arena_free(a);
	return sent;
}
