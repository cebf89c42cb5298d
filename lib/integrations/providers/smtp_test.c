/* POST /users/me/integrations/smtp/test: sends a test email through the saved server
 * to `to` (default: the account's own address) and records the outcome (status, an
 * integration.health_changed event when it changed, an integration.tested audit
 * entry). No transaction is open while the server is being reached. */
#include <json-c/json.h>
#include <string.h>

#include "auth/user_store.h"
#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/smtp.h"

static const char *check_to(struct json_object *v)
{
	return smtp_address_ok(json_object_get_string(v)) ? NULL : "must be an email address (local@domain)";
}

const struct field smtp_test_fields[] = {
	{"to", FIELD_STRING, false, 3, 254, check_to},
	{NULL, 0, false, 0, 0, NULL},
};

static const char *error_code(enum smtp_error e)
{
	static const char *const names[SMTP_ERROR__MAX] = {
		[SMTP_OK] = NULL,	     [SMTP_TIMEOUT] = "timeout", [SMTP_CONNECT] = "connect_failed",
		[SMTP_TLS] = "tls_failed",   [SMTP_AUTH] = "auth_failed", [SMTP_REJECTED] = "rejected",
		[SMTP_BLOCKED] = "blocked", [SMTP_FAILED] = "failed"};
	return e < SMTP_ERROR__MAX ? names[e] : "failed";
}

static enum db_status record(const struct provider_call *c, const struct integration *row, const struct smtp_result *res)
{
	bool ok = res->error == SMTP_OK;
	const char *status = ok ? "connected" : "error";
	enum db_status s = db_begin(c->a);
	if (s == DB_OK)
		s = integration_record_check(c->a, c->user_id, "smtp", status, ok ? NULL : res->message, ok);
	if (s == DB_OK)
		s = integration_event_health_changed(c->a, c->user_id, "smtp", row->status, status);
	if (s == DB_OK) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "sent", json_object_new_boolean(ok));
		json_object_object_add(d, "error_code", jsonx_string_or_null(error_code(res->error)));
		s = audit_record(c->a, c->who, "integration.tested", "smtp", d);
	}
	return db_finish(c->a, s);
}

/* The address to send to: the body's, else the account's. NULL when there is none. */
static enum db_status recipient(const struct provider_call *c, const char **to)
{
	*to = c->body ? jsonx_get_string(c->body, "to") : NULL;
	if (*to)
		return DB_OK;
	struct user *u = NULL;
	enum db_status s = user_store_by_id(c->a, c->user_id, &u);
	if (s == DB_OK && u && u->email && smtp_address_ok(u->email))
		*to = u->email;
	return s;
}

int smtp_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found;
	const char *to;
	enum db_status s = integration_load(c->a, c->user_id, "smtp", false, &row, &found);
	if (s == DB_OK && found)
		s = recipient(c, &to);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved SMTP configuration to test");
	if (!to)
		return provider_invalid_field(r, "to", "is required: the account has no email address");
	struct smtp_result res;
	bool secret_failed;
	smtp_send_saved(c->a, &row, to, "Switchboard test email",
			"This is a test email from Switchboard.\n\nYour SMTP settings work: messages such as "
			"notifications will be sent through this server.\n",
			NULL, &res, &secret_failed);
	if (secret_failed) {
		log_msg(LOG_ERROR, "stored SMTP password of user %s could not be opened", c->user_id);
		return provider_secret(r, "The stored password could not be decrypted; save the configuration again");
	}
	if (res.error == SMTP_BLOCKED)
		return provider_invalid_field(r, "host", "resolves to a private or reserved address");
	if ((s = record(c, &row, &res)) != DB_OK)
		return provider_db(c->a, r, s);
	if (res.error != SMTP_OK)
		return provider_upstream(r, res.error == SMTP_TIMEOUT ? 504 : 502, res.message);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "sent", json_object_new_boolean(1));
	json_object_object_add(d, "to", json_object_new_string(to));
	json_object_object_add(d, "from", jsonx_string_or_null(jsonx_get_string(row.config, "from_address")));
	return provider_ok(r, d, "Test email sent");
}
