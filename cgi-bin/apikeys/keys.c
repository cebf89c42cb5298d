/* API keys: shown once at creation, stored as SHA-256 with a display prefix. */
#include <json-c/json.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/apikey_store.h"
#include "auth/scope.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"

static const char *check_rfc3339(struct json_object *v)
{
	return validate_rfc3339(json_object_get_string(v));
}

const struct field apikey_create_fields[] = {
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"description", FIELD_STRING, false, 0, 500, NULL},
	{"scopes", FIELD_ARRAY, false, 1, 20, check_scope_array_key},
	{"expires_at", FIELD_STRING, false, 0, 40, check_rfc3339},
	{"expires_in_days", FIELD_INT, false, 1, APIKEY_MAX_DAYS, NULL},
	{"rate_limit_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{"rate_limit_read_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{"rate_limit_write_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

static int no_such_key(struct request *rq)
{
	return reply_error(rq, 404, "not_found", "No such API key");
}

/* The audit details of a key: its id and display prefix, never the key. */
static struct json_object *key_details(const char *id, const char *prefix)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "api_key_id", json_object_new_string(id));
	json_object_object_add(d, "key_prefix", json_object_new_string(prefix));
	return d;
}

/* Both ways of saying when a key expires at once is a 422 naming both. */
static int both_expiries(struct request *rq)
{
	struct json_object *at = NULL, *days = NULL;
	if (!json_object_object_get_ex(rq->json, "expires_at", &at) || !at ||
	    !json_object_object_get_ex(rq->json, "expires_in_days", &days) || !days)
		return 0;
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "expires_at", json_object_new_string("give expires_at or expires_in_days, not both"));
	json_object_object_add(f, "expires_in_days",
			       json_object_new_string("give expires_at or expires_in_days, not both"));
	return reply_invalid(rq, f);
}

/* 201 key (with "key" once) | 401 | 403 | 422 | 500 | 503 */
int handle_apikey_create(struct request *rq)
{
	if (both_expiries(rq))
		return rq->status;
	struct json_object *scopes_json = NULL, *rl = NULL;
	json_object_object_get_ex(rq->json, "scopes", &scopes_json);
	const char *scopes = scopes_json ? scope_join(rq->arena, scopes_json) : "read";
	/* A credential never mints a broader one: a key's scopes stay within the caller's. */
	if (!scope_subset(scopes, rq->scopes))
		return reply_invalid_field(rq, "scopes",
					   "must be within the scopes of the credential creating the key");
	char *key = apikey_generate(rq->arena, APIKEY_PREFIX);
	if (!key)
		return reply_internal(rq);
	struct apikey_new k = {
		.user_id = rq->user_id,
		.name = jsonx_get_string(rq->json, "name"),
		.description = jsonx_get_string(rq->json, "description"),
		.key_hash = crypto_sha256_hex(rq->arena, key, strlen(key)),
		.key_prefix = apikey_display_prefix(rq->arena, key, APIKEY_PREFIX),
		.scopes = scopes,
		.rate_limit_per_hour = 1000,
		.expires_at = jsonx_get_string(rq->json, "expires_at"),
	};
	if (json_object_object_get_ex(rq->json, "expires_in_days", &rl) && rl)
		k.expires_in_days = (long)json_object_get_int64(rl);
	if (json_object_object_get_ex(rq->json, "rate_limit_per_hour", &rl) && rl)
		k.rate_limit_per_hour = (long)json_object_get_int64(rl);
	if (json_object_object_get_ex(rq->json, "rate_limit_read_per_hour", &rl) && rl)
		k.rate_limit_read_per_hour = (long)json_object_get_int64(rl);
	if (json_object_object_get_ex(rq->json, "rate_limit_write_per_hour", &rl) && rl)
		k.rate_limit_write_per_hour = (long)json_object_get_int64(rl);

	struct json_object *view = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = apikey_store_create(rq->arena, &k, &view);
	if (s == DB_OK && view)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "api_key.created", NULL,
				 key_details(jsonx_get_string(view, "id"), k.key_prefix));
	s = db_finish(rq->arena, s);
	if (s == DB_INVALID)
		return reply_invalid_field(rq, "expires_at", "must be a valid date-time");
	if (s != DB_OK) {
		json_object_put(view);
		return reply_db_failure(rq, s);
	}
	if (!view)
		return reply_invalid_field(rq, "expires_at",
					   "must be in the future and at most " APIKEY_MAX_DAYS_TEXT " days away");
	json_object_object_add(view, "key", json_object_new_string(key));
	return reply_ok(rq, 201, view, "API key created; store it now: it is not shown again");
}

/* 200 [key] (active and expired, not revoked) | 401 | 403 | 500 | 503 */
int handle_apikey_list(struct request *rq)
{
	struct json_object *keys;
	enum db_status s = apikey_store_list(rq->arena, rq->user_id, &keys);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, keys, NULL);
}

/* 200 | 401 | 403 | 404 (not the caller's, unknown or already revoked) | 500 | 503 */
int handle_apikey_revoke(struct request *rq)
{
	const char *id = request_param(rq, "id"), *prefix = NULL;
	if (!auth_is_uuid(id))
		return no_such_key(rq);
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = apikey_store_revoke(rq->arena, rq->user_id, id, &prefix);
	if (s == DB_OK && prefix)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "api_key.revoked", NULL,
				 key_details(id, prefix));
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!prefix)
		return no_such_key(rq);
	return reply_ok(rq, 200, NULL, "API key revoked");
}

/* 200 {api_key_id, hours, from, to, total, by_hour, by_status} | 401 | 403 | 404 | 422 (hours) | 500 | 503 */
int handle_apikey_usage(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return no_such_key(rq);
	long hours;
	if (validate_query_int(request_query(rq, "hours"), 24, 1, 24 * 90, &hours))
		return reply_invalid_field(rq, "hours", "must be an integer between 1 and 2160");
	struct json_object *usage;
	enum db_status s = apikey_store_usage(rq->arena, rq->user_id, id, hours, &usage);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!usage)
		return no_such_key(rq);
	return reply_ok(rq, 200, usage, NULL);
}
