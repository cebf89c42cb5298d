/* Amazon SES: email through the SES API v2 (POST /v2/email/outbound-emails, SigV4 with
 * the signing name "ses"; 200 {MessageId}). Config: region, access_key_id,
 * secret_access_key (write-only, sealed), from_address (a verified identity), optional
 * endpoint (default https://email.REGION.amazonaws.com; http only with
 * SB_AWS_ALLOW_HTTP). Health: GET /v2/email/account. Errors are JSON {message} with the
 * error code in the x-amzn-ErrorType header. */
#include "integrations/providers/ses.h"

#include <json-c/json.h>
#include <string.h>

#include "auth/user_store.h"
#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/providers/aws_conn.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"
#include "net/smtp_client.h"

static const char *check_address(struct json_object *v)
{
	return smtp_address_ok(json_object_get_string(v)) ? NULL : "must be an email address (local@domain)";
}

static const struct field ses_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"region", FIELD_STRING, true, 1, 40, aws_conn_check_region},
	{"access_key_id", FIELD_STRING, true, 1, 128, check_printable},
	{"secret_access_key", FIELD_STRING, false, 1, 256, check_printable},
	{"from_address", FIELD_STRING, true, 3, 254, check_address},
	{"endpoint", FIELD_STRING, false, 1, 2048, aws_conn_check_endpoint},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const ses_secrets[] = {"secret_access_key", NULL};
static const char *const ses_extra[] = {"from_address", NULL};

static int ses_config_build(struct arena *a, const char *user_id, struct json_object *body,
			    const struct integration *prev, struct json_object **out)
{
	return aws_conn_config_build(a, "ses", user_id, body, prev, ses_extra, out);
}

/* "SES answered 403 SignatureDoesNotMatch: <message>" from an error answer. */
static const char *error_of(struct arena *a, const struct outbound_response *o)
{
	struct json_object *j = outbound_json(a, o), *m = NULL;
	const char *msg = NULL;
	if (j && (json_object_object_get_ex(j, "message", &m) || json_object_object_get_ex(j, "Message", &m)))
		msg = json_object_get_string(m);
	const char *type = o->error_type ? arena_strndup(a, o->error_type, strcspn(o->error_type, ":")) : NULL;
	return arena_printf(a, "SES answered %ld%s%s%s%.200s", o->status, type ? " " : "", type ? type : "",
			    msg ? ": " : "", msg ? msg : "");
}

static int call(struct arena *a, const struct integration *row, const char *method, const char *path,
		const char *body, const char **reason, int *http)
{
	struct aws_call c = {.service = "ses", .host_prefix = "email", .method = method, .path = path,
			     .content_type = body ? "application/json" : NULL, .body = body};
	struct outbound_response o;
	int rc = aws_conn_call(a, "ses", row, &c, &o, reason, http);
	if (rc == -1)
		*reason = arena_printf(a, "SES: %s", *reason);
	if (rc)
		return rc;
	if (o.status == 200)
		return 0;
	*http = 502;
	*reason = error_of(a, &o);
	return -1;
}

static const char *mail_body(struct arena *a, const char *from, const char *to, const char *subject, const char *text)
{
	struct json_object *m = json_object_new_object(), *dest = json_object_new_object();
	struct json_object *tos = json_object_new_array(), *content = json_object_new_object();
	struct json_object *simple = json_object_new_object(), *subj = json_object_new_object();
	struct json_object *body = json_object_new_object(), *txt = json_object_new_object();
	json_object_object_add(m, "FromEmailAddress", json_object_new_string(from));
	json_object_array_add(tos, json_object_new_string(to));
	json_object_object_add(dest, "ToAddresses", tos);
	json_object_object_add(m, "Destination", dest);
	json_object_object_add(subj, "Data", json_object_new_string(subject));
	json_object_object_add(txt, "Data", json_object_new_string(text));
	json_object_object_add(body, "Text", txt);
	json_object_object_add(simple, "Subject", subj);
	json_object_object_add(simple, "Body", body);
	json_object_object_add(content, "Simple", simple);
	json_object_object_add(m, "Content", content);
	const char *s = arena_strdup(a, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
	json_object_put(m);
	return s;
}

int ses_send_saved(struct arena *a, const struct integration *row, const char *to, const char *subject,
		   const char *text, const char **reason, int *http, bool *secret_failed)
{
	const char *from = jsonx_get_string(row->config, "from_address");
	int rc = call(a, row, "POST", "/v2/email/outbound-emails", mail_body(a, from, to, subject, text), reason, http);
	*secret_failed = rc == -2;
	if (rc == -2) {
		*reason = "the stored secret access key could not be decrypted";
		*http = 500;
		return -1;
	}
	return rc;
}

static void ses_health(struct arena *a, const struct actor *who, const struct provider *p,
		       const struct integration *row, struct provider_health *out)
{
	(void)who;
	(void)p;
	const char *reason = NULL;
	int http;
	int rc = call(a, row, "GET", "/v2/email/account", NULL, &reason, &http);
	if (rc == -2) {
		out->secret_failed = true;
		return;
	}
	out->status = rc == 0 ? "connected" : "error";
	out->error = rc == 0 ? NULL : reason;
}

static const struct field ses_test_fields[] = {
	{"to", FIELD_STRING, false, 3, 254, check_address},
	{NULL, 0, false, 0, 0, NULL},
};

/* The test's recipient: the body's `to`, else the account's email address. */
static int recipient(const struct provider_call *c, struct provider_result *r, const char **to)
{
	*to = c->body ? jsonx_get_string(c->body, "to") : NULL;
	if (*to)
		return 0;
	struct user *u = NULL;
	enum db_status s = user_store_by_id(c->a, c->user_id, &u);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (u && u->email && smtp_address_ok(u->email))
		*to = u->email;
	return *to ? 0 : provider_invalid_field(r, "to", "is required: the account has no email address");
}

static int ses_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found, secret_failed;
	enum db_status s = integration_load(c->a, c->user_id, "ses", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved Amazon SES configuration to test");
	const char *to = NULL, *reason = NULL;
	int http = 0, rc = recipient(c, r, &to);
	if (rc)
		return rc;
	rc = ses_send_saved(c->a, &row, to, "Switchboard test email",
			    "This is a test email from Switchboard, sent through Amazon SES.\n", &reason, &http,
			    &secret_failed);
	if (secret_failed)
		return provider_secret(r, "The stored secret access key could not be decrypted; save the configuration again");
	s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "ses", rc ? "error" : "connected", rc ? reason : NULL,
					     rc == 0);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "sent", json_object_new_boolean(rc == 0));
		s = audit_record(c->a, c->who, "integration.tested", "ses", d);
	}
	if ((s = db_finish(c->a, s)) != DB_OK)
		return provider_db(c->a, r, s);
	if (rc)
		return provider_upstream(r, http, reason);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "sent", json_object_new_boolean(1));
	json_object_object_add(d, "to", json_object_new_string(to));
	return provider_ok(r, d, "Test email accepted by Amazon SES");
}

static struct json_object *ses_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = aws_conn_view(row);
	json_object_object_add(v, "from_address", jsonx_string_or_null(jsonx_get_string(row->config, "from_address")));
	return v;
}

static void ses_catalog(struct json_object *entry)
{
	json_object_object_add(entry, "allows_http", json_object_new_boolean(aws_conn_allow_http()));
}

static const struct provider_action ses_actions[] = {
	{"test", false, ses_test_fields, ses_test, NULL, NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_ses = {
	.name = "ses",
	.display_name = "Amazon SES",
	.description = "Email through Amazon SES (API v2) with your AWS access key",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = ses_fields,
	.validate_saved = aws_conn_validate_saved,
	.secret_fields = ses_secrets,
	.config_build = ses_config_build,
	.view = ses_view,
	.catalog = ses_catalog,
	.health = ses_health,
	.actions = ses_actions,
};
