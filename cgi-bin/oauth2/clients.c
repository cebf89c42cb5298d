/* OAuth client registration: a user's own clients; the secret is shown once and kept
 * as SHA-256. A fast hash is enough here: the secret is 32 random bytes (256 bits), so
 * no dictionary or brute force applies, and the token endpoint stays fast; slow hashes
 * (argon2id) exist for low-entropy, human-chosen passwords. */
#include <json-c/json.h>
#include <stdbool.h>
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

/* Absolute https URLs, or http on loopback (development), without a fragment. */
static const char *check_redirect_uris(struct json_object *v)
{
	static const char *msg = "must be https:// URLs (http:// only for localhost), without a fragment";
	size_t n = json_object_array_length(v);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(v, i);
		if (!json_object_is_type(it, json_type_string))
			return msg;
		const char *s = json_object_get_string(it);
		size_t len = strlen(s);
		if (len > 2048 || strchr(s, '#') || strpbrk(s, " \t\r\n"))
			return msg;
		if (!strncmp(s, "https://", 8) && len > 8)
			continue;
		/* Plain http only to this machine: the host must be exactly a loopback name, not a
		 * prefix of one ("http://localhost.evil.example" is not). */
		static const char *const loopback[] = {"http://localhost", "http://127.0.0.1", "http://[::1]"};
		bool local = false;
		for (size_t k = 0; k < sizeof(loopback) / sizeof(loopback[0]) && !local; k++) {
			size_t lb = strlen(loopback[k]);
			local = !strncmp(s, loopback[k], lb) && (s[lb] == '\0' || s[lb] == ':' || s[lb] == '/');
		}
		if (local)
			continue;
		return msg;
	}
	return NULL;
}

const struct field client_create_fields[] = {
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"description", FIELD_STRING, false, 0, 500, NULL},
	{"redirect_uris", FIELD_ARRAY, false, 0, 10, check_redirect_uris},
	{"scopes", FIELD_ARRAY, false, 1, 20, check_scope_array},
	{"rate_limit_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

/* The public view of a client; never the secret or its hash. */
#define CLIENT_JSON                                                                                      \
	"json_build_object('id', id, 'client_id', client_id, 'name', name, 'description', description, " \
	"'redirect_uris', to_json(redirect_uris), 'scopes', to_json(scopes), "                           \
	"'rate_limit_per_hour', rate_limit_per_hour, 'created_at', " SQL_RFC3339(                        \
		"created_at") ", "                                                                       \
			      "'updated_at', " SQL_RFC3339("updated_at") ")::text"

/* The redirect URIs as a PostgreSQL array parameter (JSON text, expanded in SQL). */
static const char *json_text(struct request *rq, const char *name, const char *def)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(rq->json, name, &v) || !v)
		return def;
	return arena_strdup(rq->arena, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

/* 201 client (with client_secret once) | 401 | 403 | 422 | 500 | 503 */
int handle_client_create(struct request *rq)
{
	struct json_object *scopes_json = NULL;
	json_object_object_get_ex(rq->json, "scopes", &scopes_json);
	const char *scopes = scopes_json ? scope_join(rq->arena, scopes_json) : "read";
	if (!scope_subset(scopes, rq->scopes))
		return reply_invalid_field(rq, "scopes",
					   "must be within the scopes of the credential creating the client");
	struct json_object *rl = NULL;
	char rate[24] = "1000";
	if (json_object_object_get_ex(rq->json, "rate_limit_per_hour", &rl) && rl)
		snprintf(rate, sizeof(rate), "%lld", (long long)json_object_get_int64(rl));
	char *client_id = apikey_generate(rq->arena, CLIENT_ID_PREFIX);
	char *secret = apikey_generate(rq->arena, CLIENT_SECRET_PREFIX);
	if (!client_id || !secret)
		return reply_internal(rq);
	const char *p[] = {client_id,
			   crypto_sha256_hex(rq->arena, secret, strlen(secret)),
			   rq->user_id,
			   jsonx_get_string(rq->json, "name"),
			   jsonx_get_string(rq->json, "description"),
			   json_text(rq, "redirect_uris", "[]"),
			   scopes,
			   rate};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "INSERT INTO api_clients (client_id, client_secret_hash, user_id, name, description, "
			    "redirect_uris, "
			    "scopes, rate_limit_per_hour) VALUES ($1, $2, $3, $4, $5, "
			    "ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), string_to_array($7, ' '), $8::int) "
			    "RETURNING id, " CLIENT_JSON,
			    8, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "client_id", json_object_new_string(client_id));
	s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth_client.created", NULL, details);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_created_with_secret(rq, PQgetvalue(res, 0, 1), "client_secret", secret,
					 "OAuth client created; store the secret now: it is not shown again");
}

/* 200 [client] | 401 | 403 | 500 | 503 */
int handle_client_list(struct request *rq)
{
	const char *p[] = {rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(rq->arena, &res,
				   "SELECT " CLIENT_JSON " FROM api_clients WHERE user_id = $1 AND revoked_at IS NULL "
				   "ORDER BY created_at DESC, id",
				   1, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_json_rows(rq, res, 0);
}

/* 200 client | 401 | 403 | 404 (unknown, deleted or another user's) | 500 | 503 */
int handle_client_get(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return reply_error(rq, 404, "not_found", "No such OAuth client");
	const char *p[] = {id, rq->user_id};
	PGresult *res;
	enum db_status s = db_exec(
		rq->arena, &res,
		"SELECT " CLIENT_JSON " FROM api_clients WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", 2, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1)
		return reply_error(rq, 404, "not_found", "No such OAuth client");
	struct json_object *c = json_tokener_parse(PQgetvalue(res, 0, 0));
	return c ? reply_ok(rq, 200, c, NULL) : reply_internal(rq);
}

/* 200 | 401 | 403 | 404 | 500 | 503. The client and every token it holds stop working at once. */
int handle_client_delete(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return reply_error(rq, 404, "not_found", "No such OAuth client");
	const char *p[] = {id, rq->user_id};
	PGresult *res;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = db_exec(rq->arena, &res,
			    "UPDATE api_clients SET revoked_at = now(), updated_at = now() "
			    "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING client_id",
			    2, p);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (PQntuples(res) != 1) {
		db_rollback(rq->arena);
		return reply_error(rq, 404, "not_found", "No such OAuth client");
	}
	const char *ip[] = {id};
	s = db_exec(rq->arena, NULL,
		    "UPDATE oauth_access_tokens SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL", 1,
		    ip);
	if (s == DB_OK)
		s = db_exec(rq->arena, NULL,
			    "UPDATE oauth_refresh_tokens SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS "
			    "NULL",
			    1, ip);
	struct json_object *details = json_object_new_object();
	json_object_object_add(details, "client_id", json_object_new_string(PQgetvalue(res, 0, 0)));
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth_client.deleted", NULL, details);
	else
		json_object_put(details);
	if (s == DB_OK)
		s = db_commit(rq->arena);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, NULL, "OAuth client deleted");
}
