/* Provider results; see provider_result.h. */
#include "integrations/providers/provider_result.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"

int provider_ok(struct provider_result *r, struct json_object *data, const char *message)
{
	memset(r, 0, sizeof(*r));
	r->outcome = PROVIDER_OK;
	r->data = data;
	r->message = message;
	return PROVIDER_OK;
}

int provider_fail(struct provider_result *r, enum provider_outcome o, const char *code, const char *message)
{
	memset(r, 0, sizeof(*r));
	r->outcome = o;
	r->code = code;
	r->message = message;
	return o;
}

int provider_invalid(struct provider_result *r, struct json_object *fields)
{
	provider_fail(r, PROVIDER_INVALID, "validation_failed", "Some fields are invalid");
	r->data = fields;
	return PROVIDER_INVALID;
}

int provider_invalid_field(struct provider_result *r, const char *field, const char *message)
{
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, field, json_object_new_string(message));
	return provider_invalid(r, f);
}

int provider_db(struct arena *a, struct provider_result *r, enum db_status s)
{
	db_rollback(a);
	provider_fail(r, PROVIDER_DB, NULL, NULL);
	r->db = s == DB_OK ? DB_ERROR : s;
	return PROVIDER_DB;
}

int provider_accepted(struct provider_result *r, struct json_object *data, const char *message)
{
	provider_ok(r, data, message);
	r->outcome = PROVIDER_ACCEPTED;
	return r->outcome;
}

int provider_rate_limited(struct provider_result *r, long retry_at, const char *reason)
{
	provider_fail(r, PROVIDER_RATE_LIMITED, "rate_limited", reason);
	r->retry_at = retry_at;
	return r->outcome;
}

int provider_upstream(struct provider_result *r, int http_status, const char *reason)
{
	if (http_status == 429)
		return provider_rate_limited(r, 0, reason);
	return http_status == 504 ? provider_fail(r, PROVIDER_UPSTREAM_TIMEOUT, "provider_timeout", reason)
				  : provider_fail(r, PROVIDER_UPSTREAM, "provider_unavailable", reason);
}

int provider_secret(struct provider_result *r, const char *message)
{
	return provider_fail(r, PROVIDER_SECRET, "secret_unavailable", message);
}

int provider_not_configured(struct provider_result *r)
{
	return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration is not configured");
}

int provider_token_failure(struct arena *a, struct provider_result *r, enum oauth_token_status st,
			   const struct oauth_token_use *u)
{
	switch (st) {
	case OAUTH_TOKEN_NOT_CONNECTED:
	case OAUTH_TOKEN_UNKNOWN_PROVIDER:
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration is not connected");
	case OAUTH_TOKEN_EXPIRED:
		return provider_fail(
			r, PROVIDER_CONFLICT, "integration_expired",
			arena_printf(a, "The provider refused to renew access (%s): reconnect", u->reason));
	case OAUTH_TOKEN_NO_REFRESH:
		return provider_fail(r, PROVIDER_CONFLICT, "refresh_unsupported", u->reason);
	case OAUTH_TOKEN_UNAVAILABLE:
		return provider_upstream(r, u->http_status, u->reason);
	case OAUTH_TOKEN_DB:
		return provider_db(a, r, u->db);
	case OAUTH_TOKEN_SECRET:
		return provider_secret(r, u->reason);
	default:
		return provider_fail(r, PROVIDER_INTERNAL, "internal_error", "Internal error");
	}
}
