/* GET and PUT /users/me/notifications: which events the user is told about, and how
 * (the worker sends them through the user's email or SMS connector: notify_send.h). */
#include <json-c/json.h>
#include <string.h>

#include "core/jsonx.h"
#include "core/validate.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/notify_store.h"
#include "net/smtp_client.h"

static const char *check_channel(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (!strcmp(s, "email") || !strcmp(s, "sms"))
		return NULL;
	return "must be email or sms";
}

static const char *check_email_to(struct json_object *v)
{
	return smtp_address_ok(json_object_get_string(v)) ? NULL : "must be an email address (local@domain)";
}

static const char *check_sms_to(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	bool ok = n >= 8 && n <= 16 && s[0] == '+' && s[1] != '0';
	for (const char *c = s + 1; ok && *c; c++)
		ok = *c >= '0' && *c <= '9';
	return ok ? NULL : "must be a phone number in E.164 form (+ and 7 to 15 digits)";
}

static const char *check_events(struct json_object *v)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string))
			return "must be an array of event names";
		bool known = false;
		for (const char *const *k = notify_kinds; *k && !known; k++)
			known = !strcmp(*k, json_object_get_string(e));
		if (!known)
			return "must name only integration.health_error, integration.health_expired, webhook.disabled, "
			       "export.completed";
	}
	return NULL;
}

const struct field notification_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"channel", FIELD_STRING, false, 1, 16, check_channel},
	{"email_to", FIELD_STRING, false, 3, 254, check_email_to},
	{"sms_to", FIELD_STRING, false, 8, 16, check_sms_to},
	{"events", FIELD_ARRAY, true, 0, 8, check_events},
	{NULL, 0, false, 0, 0, NULL},
};

static int answer(struct request *rq, enum db_status s, struct json_object *settings)
{
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *recent = NULL;
	s = notify_recent(rq->arena, rq->user_id, &recent);
	if (s != DB_OK) {
		json_object_put(settings);
		return reply_db_failure(rq, s);
	}
	json_object_object_add(settings, "recent", recent);
	return reply_ok(rq, 200, settings, "Your notification settings");
}

/* 200 settings | 401 | 503 */
int handle_notifications_get(struct request *rq)
{
	struct json_object *v = NULL;
	enum db_status s = notify_settings_get(rq->arena, rq->user_id, &v);
	return answer(rq, s, v);
}

/* 200 settings | 401 | 422 | 503 */
int handle_notifications_put(struct request *rq)
{
	const char *ch = jsonx_get_string(rq->json, "channel");
	if (ch && !strcmp(ch, "sms") && !jsonx_get_string(rq->json, "sms_to"))
		return reply_invalid_field(rq, "sms_to", "is required when channel is sms");
	struct json_object *v = NULL;
	enum db_status s = notify_settings_put(rq->arena, request_actor(rq, rq->user_id), rq->json, &v);
	return answer(rq, s, v);
}
