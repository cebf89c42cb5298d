/* AWS SNS SMS: the Query API's Publish to a phone number (POST / form-encoded
 * Action=Publish&PhoneNumber=+E164&Message=...&Version=2010-03-31, SigV4 with the
 * signing name "sns"; 200 <PublishResponse><PublishResult><MessageId>). Config: region,
 * access_key_id, secret_access_key (write-only, sealed), optional endpoint (default
 * https://sns.REGION.amazonaws.com; http only with SB_AWS_ALLOW_HTTP). Health: the
 * Action GetSMSAttributes. Errors are <ErrorResponse><Error><Code>, <Message>. */
#include <ctype.h>
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/providers/aws_conn.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/sns.h"
#include "net/outbound.h"

static const struct field sns_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"region", FIELD_STRING, true, 1, 40, aws_conn_check_region},
	{"access_key_id", FIELD_STRING, true, 1, 128, check_printable},
	{"secret_access_key", FIELD_STRING, false, 1, 256, check_printable},
	{"endpoint", FIELD_STRING, false, 1, 2048, aws_conn_check_endpoint},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const sns_secrets[] = {"secret_access_key", NULL};

static int sns_config_build(struct arena *a, const char *user_id, struct json_object *body,
			    const struct integration *prev, struct json_object **out)
{
	return aws_conn_config_build(a, "sns", user_id, body, prev, NULL, out);
}

/* The text of the first <tag>...</tag> in an SNS answer, control characters blanked. */
static const char *xml_text(struct arena *a, const char *doc, const char *tag)
{
	const char *open = arena_printf(a, "<%s>", tag), *close = arena_printf(a, "</%s>", tag);
	const char *p = doc ? strstr(doc, open) : NULL;
	if (!p)
		return NULL;
	p += strlen(open);
	const char *e = strstr(p, close);
	if (!e || e - p > 300)
		return NULL;
	char *s = arena_strndup(a, p, (size_t)(e - p));
	for (char *c = s; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return s;
}

/* Performs one Query API action; 0 with the answer's body in *doc, -1 with *reason and *http,
 * -2 when the stored secret cannot be opened. */
static int call(struct arena *a, const struct integration *row, const char *form, const char **doc,
		const char **reason, int *http)
{
	struct aws_call c = {.service = "sns", .host_prefix = "sns", .method = "POST", .path = "/",
			     .content_type = "application/x-www-form-urlencoded", .body = form};
	struct outbound_response o;
	int rc = aws_conn_call(a, "sns", row, &c, &o, reason, http);
	if (rc == -1)
		*reason = arena_printf(a, "SNS: %s", *reason);
	if (rc)
		return rc;
	*doc = o.body;
	if (o.status == 200)
		return 0;
	const char *code = xml_text(a, o.body, "Code"), *msg = xml_text(a, o.body, "Message");
	*http = 502;
	*reason = arena_printf(a, "SNS answered %ld%s%s%s%s", o.status, code ? " " : "", code ? code : "",
			       msg ? ": " : "", msg ? msg : "");
	return -1;
}

int sns_send_saved(struct arena *a, const struct integration *row, const char *to, const char *text,
		   const char **reason, bool *secret_failed)
{
	struct form f;
	form_init(&f, a);
	form_add(&f, "Action", "Publish");
	form_add(&f, "PhoneNumber", to);
	form_add(&f, "Message", text);
	form_add(&f, "Version", "2010-03-31");
	const char *doc = NULL;
	int http = 0, rc = call(a, row, f.text, &doc, reason, &http);
	*secret_failed = rc == -2;
	if (rc == -2)
		*reason = "the stored secret access key could not be decrypted";
	return rc ? -1 : 0;
}

static void sns_health(struct arena *a, const struct actor *who, const struct provider *p,
		       const struct integration *row, struct provider_health *out)
{
	(void)who;
	(void)p;
	const char *reason = NULL, *doc = NULL;
	int http;
	int rc = call(a, row, "Action=GetSMSAttributes&Version=2010-03-31", &doc, &reason, &http);
	if (rc == -2) {
		out->secret_failed = true;
		return;
	}
	out->status = rc == 0 ? "connected" : "error";
	out->error = rc == 0 ? NULL : reason;
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

static const struct field sns_test_fields[] = {
	{"to", FIELD_STRING, true, 8, 16, check_e164},
	{NULL, 0, false, 0, 0, NULL},
};

static int sns_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, "sns", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved AWS SNS configuration to test");
	const char *to = jsonx_get_string(c->body, "to");
	struct form f;
	form_init(&f, c->a);
	form_add(&f, "Action", "Publish");
	form_add(&f, "PhoneNumber", to);
	form_add(&f, "Message", "Switchboard test message: your AWS SNS settings work.");
	form_add(&f, "Version", "2010-03-31");
	const char *reason = NULL, *doc = NULL;
	int http = 0, rc = call(c->a, &row, f.text, &doc, &reason, &http);
	if (rc == -2)
		return provider_secret(r, "The stored secret access key could not be decrypted; save the configuration again");
	s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "sns", rc ? "error" : "connected", rc ? reason : NULL,
					     rc == 0);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "sent", json_object_new_boolean(rc == 0));
		s = audit_record(c->a, c->who, "integration.tested", "sns", d);
	}
	if ((s = db_finish(c->a, s)) != DB_OK)
		return provider_db(c->a, r, s);
	if (rc)
		return provider_upstream(r, http, reason);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "sent", json_object_new_boolean(1));
	json_object_object_add(d, "to", json_object_new_string(to));
	json_object_object_add(d, "message_id", jsonx_string_or_null(xml_text(c->a, doc, "MessageId")));
	return provider_ok(r, d, "Test message accepted by AWS SNS");
}

static struct json_object *sns_view(struct arena *a, const struct integration *row)
{
	(void)a;
	return aws_conn_view(row);
}

static void sns_catalog(struct json_object *entry)
{
	json_object_object_add(entry, "allows_http", json_object_new_boolean(aws_conn_allow_http()));
}

static const struct provider_action sns_actions[] = {
	{"test", true, sns_test_fields, sns_test, NULL, NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_sns = {
	.name = "sns",
	.display_name = "AWS SNS (SMS)",
	.description = "Text messages through AWS SNS Publish with your AWS access key",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = sns_fields,
	.validate_saved = aws_conn_validate_saved,
	.secret_fields = sns_secrets,
	.config_build = sns_config_build,
	.view = sns_view,
	.catalog = sns_catalog,
	.health = sns_health,
	.actions = sns_actions,
};
