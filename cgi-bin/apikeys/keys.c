/* API keys: shown once at creation, stored as SHA-256 with a display prefix. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/scope.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "db/db.h"
#include "events/audit.h"
#include "handlers.h"
#include "http/authenticate.h"
#include "http/reply.h"
#include "http/request.h"

/* "2030-01-01T00:00:00Z", with optional fraction and a Z or ±hh:mm offset (RFC 3339). */
static const char *check_rfc3339(struct json_object *v)
{
	static const char *msg = "must be an RFC 3339 date-time such as 2030-01-01T00:00:00Z";
	const char *s = json_object_get_string(v);
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return msg;
	s += sizeof(shape) - 1;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return msg;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z' && !s[1])
		return NULL;
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) && s[3] == ':' &&
	    isdigit((unsigned char)s[4]) && isdigit((unsigned char)s[5]) && !s[6])
		return NULL;
	return msg;
}

const struct field apikey_create_fields[] = {
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"description", FIELD_STRING, false, 0, 500, NULL},
	{"scopes", FIELD_ARRAY, false, 1, 20, check_scope_array_key},
	{"expires_at", FIELD_STRING, false, 0, 40, check_rfc3339},
	{"rate_limit_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* The public view of a key row; never the key or its hash. */
#define KEY_JSON                                                                                             \
	"json_build_object('id', id, 'name', name, 'description', description, 'key_prefix', key_prefix, "   \
	"'scopes', to_json(scopes), 'rate_limit_per_hour', rate_limit_per_hour, "                            \
	"'last_used_at', " SQL_RFC3339("last_used_at") ", 'expires_at', " SQL_RFC3339(                       \
		"expires_at") ", "                                                                           \
			      "'expired', coalesce(expires_at <= now(), false), 'created_at', " SQL_RFC3339( \
				      "created_at") ")::text"

/* 201 key (with "key" once) | 401 | 403 | 422 | 500 | 503 */
int handle_apikey_create(struct request *rq)
{
	struct json_object *scopes_json = NULL;
	json_object_object_get_ex(rq->json, "scopes", &scopes_json);
	const char *scopes = scopes_json ? scope_join(rq->arena, scopes_json) : "read";
	/* A credential never mints a broader one: a key's scopes stay within the caller's. */
	if (!scope_subset(scopes, rq->scopes))
		return reply_invalid_field(rq, "scopes",
					   "must be within the scopes of the credential creating the key");
	const char *expires = jsonx_get_string(rq->json, "expires_at");
	struct json_object *rl = NULL;
	char rate[24] = "1000";
	if (json_object_object_get_ex(rq->json, "rate_limit_per_hour", &rl) && rl)
		snprintf(rate, sizeof(rate), "%lld", (long long)json_object_get_int64(rl));

	char *key = apikey_generate(rq->arena, APIKEY_PREFIX);
	if (!key)
		return reply_internal(rq);
	const char *p[] = {rq->user_id,
			   jsonx_get_string(rq->json, "name"),
			   jsonx_get_string(rq->json, "description"),
			   crypto_sha256_hex(rq->arena, key, strlen(key)),
			   apikey_display_prefix(rq->arena, key, APIKEY_PREFIX),
			   scopes,
			   rate,
			   expires};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "INSERT INTO api_keys (user_id, name, description, key_hash, key_prefix, scopes, "
			    "rate_limit_per_hour, expires_at) "
			    "SELECT $1, $2, $3, $4, $5, string_to_array($6, ' '), $7::int, $8::timestamptz "
			    "WHERE $8::timestamptz IS NULL OR $8::timestamptz > now() RETURNING id, " KEY_JSON,
			    8, p);
	if (s == DB_INVALID) {
		db_rollback(rq->arena);
		return reply_invalid_field(rq, "expires_at", "must be a valid date-time");
	}
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1) {
		db_rollback(rq->arena);
		return reply_invalid_field(rq, "expires_at", "must be in the future");
	}
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "api_key_id", json_object_new_string(PQgetvalue(res, 0, 0)));
	json_object_object_add(details, "key_prefix", json_object_new_string(p[4]));
	s = audit_record(rq->arena, request_actor(rq, rq->user_id), "api_key.created", NULL, details);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_created_with_secret(rq, PQgetvalue(res, 0, 1), "key", key,
					 "API key created; store it now: it is not shown again");
}

/* 200 [key] (active and expired, not revoked) | 401 | 403 | 500 | 503 */
int handle_apikey_list(struct request *rq)
{
	const char *p[] = {rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(rq->arena, &res,
				   "SELECT " KEY_JSON " FROM api_keys WHERE user_id = $1 AND revoked_at IS NULL "
				   "ORDER BY created_at DESC, id",
				   1, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_json_rows(rq, res, 0);
}

/* 200 | 401 | 403 | 404 (not the caller's, unknown or already revoked) | 500 | 503 */
int handle_apikey_revoke(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return reply_error(rq, 404, "not_found", "No such API key");
	const char *p[] = {id, rq->user_id};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(
			rq->arena, &res,
			"UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL "
			"RETURNING key_prefix",
			2, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1) {
		db_rollback(rq->arena);
		return reply_error(rq, 404, "not_found", "No such API key");
	}
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "api_key_id", json_object_new_string(id));
	json_object_object_add(details, "key_prefix", json_object_new_string(PQgetvalue(res, 0, 0)));
	s = audit_record(rq->arena, request_actor(rq, rq->user_id), "api_key.revoked", NULL, details);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, NULL, "API key revoked");
}

/* 200 {api_key_id, hours, from, to, total, by_hour, by_status} | 401 | 403 | 404 | 422 (hours) | 500 | 503 */
int handle_apikey_usage(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return reply_error(rq, 404, "not_found", "No such API key");
	long hours;
	if (validate_query_int(request_query(rq, "hours"), 24, 1, 24 * 90, &hours))
		return reply_invalid_field(rq, "hours", "must be an integer between 1 and 2160");
	char hbuf[24];
	snprintf(hbuf, sizeof(hbuf), "%ld", hours);
	const char *p[] = {id, rq->user_id, hbuf};
	PGresult *own, *by_hour, *by_status, *range;
	enum db_status s = db_exec(rq->arena, &own, "SELECT 1 FROM api_keys WHERE id = $1 AND user_id = $2", 2, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(own) != 1)
		return reply_error(rq, 404, "not_found", "No such API key");
	const char *q[] = {id, hbuf};
	s = db_exec(
		rq->arena, &range,
		"SELECT " SQL_RFC3339(
			"(date_trunc('hour', now()) - make_interval(hours => $1::int - 1))") ", " SQL_RFC3339("now()"),
		1, q + 1);
	if (s == DB_OK)
		s = db_exec(
			rq->arena, &by_hour,
			"SELECT " SQL_RFC3339(
				"date_trunc('hour', created_at)") ", count(*), "
								  "count(*) FILTER (WHERE response_status >= 400) FROM "
								  "api_request_logs "
								  "WHERE api_key_id = $1 AND created_at >= "
								  "date_trunc('hour', now()) - make_interval(hours => "
								  "$2::int - 1) "
								  "GROUP BY date_trunc('hour', created_at) ORDER BY 1",
			2, q);
	if (s == DB_OK)
		s = db_exec(rq->arena, &by_status,
			    "SELECT response_status, count(*) FROM api_request_logs "
			    "WHERE api_key_id = $1 AND created_at >= date_trunc('hour', now()) - make_interval(hours "
			    "=> $2::int - 1) "
			    "GROUP BY response_status ORDER BY 1",
			    2, q);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	long long total = 0;
	struct json_object *hours_list = json_object_new_array(), *status_list = json_object_new_array();
	for (int i = 0; i < PQntuples(by_hour); i++) {
		struct json_object *h = json_object_new_object();
		long long n = atoll(PQgetvalue(by_hour, i, 1));
		total += n;
		json_object_object_add(h, "hour", json_object_new_string(PQgetvalue(by_hour, i, 0)));
		json_object_object_add(h, "requests", json_object_new_int64(n));
		json_object_object_add(h, "errors", json_object_new_int64(atoll(PQgetvalue(by_hour, i, 2))));
		json_object_array_add(hours_list, h);
	}
	for (int i = 0; i < PQntuples(by_status); i++) {
		struct json_object *st = json_object_new_object();
		json_object_object_add(st, "status", json_object_new_int(atoi(PQgetvalue(by_status, i, 0))));
		json_object_object_add(st, "requests", json_object_new_int64(atoll(PQgetvalue(by_status, i, 1))));
		json_object_array_add(status_list, st);
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "api_key_id", json_object_new_string(id));
	json_object_object_add(d, "hours", json_object_new_int64(hours));
	json_object_object_add(d, "from", json_object_new_string(PQgetvalue(range, 0, 0)));
	json_object_object_add(d, "to", json_object_new_string(PQgetvalue(range, 0, 1)));
	json_object_object_add(d, "total", json_object_new_int64(total));
	json_object_object_add(d, "by_hour", hours_list);
	json_object_object_add(d, "by_status", status_list);
	return reply_ok(rq, 200, d, NULL);
}
