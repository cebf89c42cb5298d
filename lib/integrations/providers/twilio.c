/* Twilio SMS: the Messages API (POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
 * form-encoded To, From, Body, HTTP Basic auth AccountSid:AuthToken; 201 Created).
 * Config: account_sid, auth_token (write-only, sealed), from_number (E.164). Health:
 * GET /2010-04-01/Accounts/{AccountSid}.json. The base URL is the operator's
 * (TWILIO_API_URL, default https://api.twilio.com). Action: send a test message. */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/twilio.h"
#include "net/outbound.h"

static const char *check_sid(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (strlen(s) != 34 || strncmp(s, "AC", 2))
		return "must be an Account SID: AC followed by 32 hexadecimal digits";
	for (const char *c = s + 2; *c; c++)
		if (!isxdigit((unsigned char)*c))
			return "must be an Account SID: AC followed by 32 hexadecimal digits";
	return NULL;
}

static const char *check_e164(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	size_t n = strlen(s);
	if (n < 8 || n > 16 || s[0] != '+' || s[1] == '0')
		return "must be a phone number in E.164 form (+ and 7 to 15 digits)";
	for (const char *c = s + 1; *c; c++)
		if (!isdigit((unsigned char)*c))
			return "must be a phone number in E.164 form (+ and 7 to 15 digits)";
	return NULL;
}

static const struct field twilio_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"account_sid", FIELD_STRING, true, 34, 34, check_sid},
	{"auth_token", FIELD_STRING, false, 1, 256, check_printable},
	{"from_number", FIELD_STRING, true, 8, 16, check_e164},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const twilio_secrets[] = {"auth_token", NULL};

static void twilio_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *v;
	bool given = json_object_object_get_ex(body, "auth_token", &v) && v;
	if (!given && !(prev && jsonx_get_string(prev->config, "auth_token_encrypted")))
		json_object_object_add(errors, "auth_token", json_object_new_string("is required"));
}

static int twilio_config_build(struct arena *a, const char *user_id, struct json_object *body,
			       const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	json_object_object_add(c, "account_sid", json_object_new_string(jsonx_get_string(body, "account_sid")));
	json_object_object_add(c, "from_number", json_object_new_string(jsonx_get_string(body, "from_number")));
	const char *token = jsonx_get_string(body, "auth_token");
	if (token) {
		if (integration_seal(a, c, user_id, "twilio", "auth_token", token)) {
			json_object_put(c);
			return -1;
		}
	} else if (prev && jsonx_get_string(prev->config, "auth_token_encrypted")) {
		json_object_object_add(c, "auth_token_encrypted",
				       json_object_new_string(jsonx_get_string(prev->config, "auth_token_encrypted")));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

/* One call; 0 when the answer is want, else -1 with *reason and *http. */
static int call(struct arena *a, const struct integration *row, const char *path, const char *form, long want,
		const char **reason, int *http, bool *secret_failed, struct json_object **answer)
{
	char *token = NULL;
	*secret_failed = integration_open(a, row->config, row->user_id, "twilio", "auth_token", &token) <= 0;
	if (*secret_failed)
		return -1;
	static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
					      "Accept: application/json", NULL};
	const char *sid = jsonx_get_string(row->config, "account_sid");
	struct outbound_request rq = {
		.method = form ? "POST" : "GET",
		.url = arena_printf(a, "%s/2010-04-01/Accounts/%s%s", config_str("TWILIO_API_URL", "https://api.twilio.com"),
				    sid, path),
		.headers = headers, .basic_user = sid, .basic_password = token, .body = form,
		.body_len = form ? strlen(form) : 0, .idempotent = !form, .max_response = 64 * 1024};
	struct outbound_response o;
	if (outbound_do(a, &rq, &o)) {
		*http = outbound_http_status(&o);
		*reason = arena_printf(a, "Twilio: %s", o.message ? o.message : "no answer");
		return -1;
	}
	struct json_object *j = outbound_json(a, &o);
	*answer = j;
	if (o.status == want)
		return 0;
	*http = 502;
	const char *m = j ? jsonx_get_string(j, "message") : NULL;
	struct json_object *code = NULL;
	if (j)
		json_object_object_get_ex(j, "code", &code);
	*reason = arena_printf(a, "Twilio answered %ld (error %s): %.200s", o.status,
			       code ? json_object_get_string(code) : "?", m ? m : "no message");
	return -1;
}

int twilio_send_saved(struct arena *a, const struct integration *row, const char *to, const char *text,
		      const char **reason, bool *secret_failed)
{
	struct form f;
	form_init(&f, a);
	form_add(&f, "To", to);
	form_add(&f, "From", jsonx_get_string(row->config, "from_number"));
	form_add(&f, "Body", text);
	int http = 0;
	struct json_object *j = NULL;
	return call(a, row, "/Messages.json", f.text, 201, reason, &http, secret_failed, &j);
}

static void twilio_health(struct arena *a, const struct actor *who, const struct provider *p,
			  const struct integration *row, struct provider_health *out)
{
	(void)who;
	(void)p;
	const char *reason = NULL;
	int http;
	bool secret_failed;
	struct json_object *j = NULL;
	int rc = call(a, row, ".json", NULL, 200, &reason, &http, &secret_failed, &j);
	if (secret_failed) {
		out->secret_failed = true;
		return;
	}
	out->status = rc ? "error" : "connected";
	out->error = rc ? reason : NULL;
}

static const struct field twilio_test_fields[] = {
	{"to", FIELD_STRING, true, 8, 16, check_e164},
	{NULL, 0, false, 0, 0, NULL},
};

static int twilio_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found, secret_failed;
	enum db_status s = integration_load(c->a, c->user_id, "twilio", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved Twilio configuration to test");
	struct form f;
	form_init(&f, c->a);
	form_add(&f, "To", jsonx_get_string(c->body, "to"));
	form_add(&f, "From", jsonx_get_string(row.config, "from_number"));
	form_add(&f, "Body", "Switchboard test message: your Twilio settings work.");
	const char *reason = NULL;
	int http = 0;
	struct json_object *j = NULL;
	int rc = call(c->a, &row, "/Messages.json", f.text, 201, &reason, &http, &secret_failed, &j);
	if (secret_failed)
		return provider_secret(r, "The stored auth token could not be decrypted; save the configuration again");
	s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "twilio", rc ? "error" : "connected", rc ? reason : NULL,
					     rc == 0);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "sent", json_object_new_boolean(rc == 0));
		s = audit_record(c->a, c->who, "integration.tested", "twilio", d);
	}
	if ((s = db_finish(c->a, s)) != DB_OK)
		return provider_db(c->a, r, s);
	if (rc)
		return provider_upstream(r, http, reason);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "sent", json_object_new_boolean(1));
	json_object_object_add(d, "to", json_object_new_string(jsonx_get_string(c->body, "to")));
	json_object_object_add(d, "sid", jsonx_string_or_null(jsonx_get_string(j, "sid")));
	json_object_object_add(d, "status", jsonx_string_or_null(jsonx_get_string(j, "status")));
	return provider_ok(r, d, "Test message accepted by Twilio");
}

static struct json_object *twilio_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "account_sid", jsonx_string_or_null(jsonx_get_string(c, "account_sid")));
	json_object_object_add(v, "from_number", jsonx_string_or_null(jsonx_get_string(c, "from_number")));
	json_object_object_add(v, "has_auth_token",
			       json_object_new_boolean(json_object_object_get_ex(c, "auth_token_encrypted", &tmp)));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

static const struct provider_action twilio_actions[] = {
	{"test", true, twilio_test_fields, twilio_test, NULL, NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_twilio = {
	.name = "twilio",
	.display_name = "Twilio SMS",
	.description = "Text messages through Twilio's Messages API with your Account SID and auth token",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = twilio_fields,
	.validate_saved = twilio_validate_saved,
	.secret_fields = twilio_secrets,
	.config_build = twilio_config_build,
	.view = twilio_view,
	.health = twilio_health,
	.actions = twilio_actions,
};
