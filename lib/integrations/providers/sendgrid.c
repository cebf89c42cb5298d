/* SendGrid: email through the v3 Mail Send API (POST /v3/mail/send with a Bearer API
 * key; 202 Accepted). Config: api_key (write-only, sealed), from_address (a verified
 * sender of the account). Health: GET /v3/scopes with the key. The base URL is the
 * operator's (SENDGRID_API_URL, default https://api.sendgrid.com). */
#include "integrations/providers/sendgrid.h"

#include <json-c/json.h>
#include <string.h>

#include "auth/user_store.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"
#include "net/smtp_client.h"

static const char *check_address(struct json_object *v)
{
	return smtp_address_ok(json_object_get_string(v)) ? NULL : "must be an email address (local@domain)";
}

static const struct field sendgrid_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"api_key", FIELD_STRING, false, 1, 512, check_printable},
	{"from_address", FIELD_STRING, true, 3, 254, check_address},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const sendgrid_secrets[] = {"api_key", NULL};

static void sendgrid_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors)
{
	struct json_object *v;
	bool given = json_object_object_get_ex(body, "api_key", &v) && v;
	if (!given && !(prev && jsonx_get_string(prev->config, "api_key_encrypted")))
		json_object_object_add(errors, "api_key", json_object_new_string("is required"));
}

static int sendgrid_config_build(struct arena *a, const char *user_id, struct json_object *body,
				 const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object();
	json_object_object_add(c, "from_address", json_object_new_string(jsonx_get_string(body, "from_address")));
	const char *key = jsonx_get_string(body, "api_key");
	if (key) {
		if (integration_seal(a, c, user_id, "sendgrid", "api_key", key)) {
			json_object_put(c);
			return -1;
		}
	} else if (prev && jsonx_get_string(prev->config, "api_key_encrypted")) {
		json_object_object_add(c, "api_key_encrypted",
				       json_object_new_string(jsonx_get_string(prev->config, "api_key_encrypted")));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

static const char *base_url(void)
{
	return config_str("SENDGRID_API_URL", "https://api.sendgrid.com");
}

/* The first errors[].message of a SendGrid error body, or a generic reason. */
static const char *error_of(struct arena *a, const struct outbound_response *o)
{
	struct json_object *j = outbound_json(a, o), *errs, *m;
	if (j && json_object_object_get_ex(j, "errors", &errs) && json_object_is_type(errs, json_type_array) &&
	    json_object_array_length(errs) > 0 &&
	    json_object_object_get_ex(json_object_array_get_idx(errs, 0), "message", &m))
		return arena_printf(a, "SendGrid answered %ld: %.200s", o->status, json_object_get_string(m));
	return arena_printf(a, "SendGrid answered %ld", o->status);
}

static int call(struct arena *a, const char *method, const char *path, const char *key, const char *body,
		long want, const char **reason, int *http)
{
	static const char *const headers[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	struct outbound_request rq = {.method = method,
				      .url = arena_printf(a, "%s%s", base_url(), path),
				      .headers = headers,
				      .bearer = key,
				      .body = body,
				      .body_len = body ? strlen(body) : 0,
				      .idempotent = !body,
				      .max_response = 64 * 1024};
	struct outbound_response o;
	if (outbound_do(a, &rq, &o)) {
		*http = outbound_http_status(&o);
		*reason = arena_printf(a, "SendGrid: %s", o.message ? o.message : "no answer");
		return -1;
	}
	if (o.status == want)
		return 0;
	*http = 502;
	*reason = error_of(a, &o);
	return -1;
}

static const char *mail_body(struct arena *a, const char *from, const char *to, const char *subject, const char *text)
{
	struct json_object *m = json_object_new_object(), *p = json_object_new_array(), *one = json_object_new_object();
	struct json_object *tos = json_object_new_array(), *t = json_object_new_object(), *f = json_object_new_object();
	struct json_object *content = json_object_new_array(), *c = json_object_new_object();
	json_object_object_add(t, "email", json_object_new_string(to));
	json_object_array_add(tos, t);
	json_object_object_add(one, "to", tos);
	json_object_array_add(p, one);
	json_object_object_add(m, "personalizations", p);
	json_object_object_add(f, "email", json_object_new_string(from));
	json_object_object_add(m, "from", f);
	json_object_object_add(m, "subject", json_object_new_string(subject));
	json_object_object_add(c, "type", json_object_new_string("text/plain"));
	json_object_object_add(c, "value", json_object_new_string(text));
	json_object_array_add(content, c);
	json_object_object_add(m, "content", content);
	const char *s = arena_strdup(a, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
	json_object_put(m);
	return s;
}

int sendgrid_send_saved(struct arena *a, const struct integration *row, const char *to, const char *subject,
			const char *text, const char **reason, int *http, bool *secret_failed)
{
	char *key = NULL;
	*secret_failed = integration_open(a, row->config, row->user_id, "sendgrid", "api_key", &key) <= 0;
	if (*secret_failed) {
		*reason = "the stored API key could not be decrypted";
		*http = 500;
		return -1;
	}
	const char *from = jsonx_get_string(row->config, "from_address");
	return call(a, "POST", "/v3/mail/send", key, mail_body(a, from, to, subject, text), 202, reason, http);
}

static void sendgrid_health(struct arena *a, const struct actor *who, const struct provider *p,
			    const struct integration *row, struct provider_health *out)
{
	(void)who;
	(void)p;
	char *key = NULL;
	if (integration_open(a, row->config, row->user_id, "sendgrid", "api_key", &key) <= 0) {
		out->secret_failed = true;
		return;
	}
	const char *reason = NULL;
	int http;
	bool ok = call(a, "GET", "/v3/scopes", key, NULL, 200, &reason, &http) == 0;
	out->status = ok ? "connected" : "error";
	out->error = ok ? NULL : reason;
}

static const struct field sendgrid_test_fields[] = {
	{"to", FIELD_STRING, false, 3, 254, check_address},
	{NULL, 0, false, 0, 0, NULL},
};

static int sendgrid_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found, secret_failed;
	enum db_status s = integration_load(c->a, c->user_id, "sendgrid", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved SendGrid configuration to test");
	const char *to = c->body ? jsonx_get_string(c->body, "to") : NULL;
	struct user *u = NULL;
	if (!to && (s = user_store_by_id(c->a, c->user_id, &u)) != DB_OK)
		return provider_db(c->a, r, s);
	if (!to && u && u->email && smtp_address_ok(u->email))
		to = u->email;
	if (!to)
		return provider_invalid_field(r, "to", "is required: the account has no email address");
	const char *reason = NULL;
	int http = 0;
	int rc = sendgrid_send_saved(c->a, &row, to, "Switchboard test email",
				     "This is a test email from Switchboard, sent through SendGrid.\n", &reason, &http,
				     &secret_failed);
	if (secret_failed)
		return provider_secret(r, "The stored API key could not be decrypted; save the configuration again");
	s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "sendgrid", rc ? "error" : "connected", rc ? reason : NULL,
					     rc == 0);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "sent", json_object_new_boolean(rc == 0));
		s = audit_record(c->a, c->who, "integration.tested", "sendgrid", d);
	}
	if ((s = db_finish(c->a, s)) != DB_OK)
		return provider_db(c->a, r, s);
	if (rc)
		return provider_upstream(r, http, reason);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "sent", json_object_new_boolean(1));
	json_object_object_add(d, "to", json_object_new_string(to));
	return provider_ok(r, d, "Test email accepted by SendGrid");
}

static struct json_object *sendgrid_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "from_address", jsonx_string_or_null(jsonx_get_string(c, "from_address")));
	json_object_object_add(v, "has_api_key",
			       json_object_new_boolean(json_object_object_get_ex(c, "api_key_encrypted", &tmp)));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

static const struct provider_action sendgrid_actions[] = {
	{"test", false, sendgrid_test_fields, sendgrid_test, NULL, NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_sendgrid = {
	.name = "sendgrid",
	.display_name = "SendGrid",
	.description = "Email through SendGrid's v3 Mail Send API with your API key",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = sendgrid_fields,
	.validate_saved = sendgrid_validate_saved,
	.secret_fields = sendgrid_secrets,
	.config_build = sendgrid_config_build,
	.view = sendgrid_view,
	.health = sendgrid_health,
	.actions = sendgrid_actions,
};
