/* OAuth client registration: a user's own clients; the secret is shown once and kept
 * as SHA-256. A fast hash is enough here: the secret is 32 random bytes (256 bits), so
 * no dictionary or brute force applies, and the token endpoint stays fast; slow hashes
 * (argon2id) exist for low-entropy, human-chosen passwords. */
#include <json-c/json.h>
#include <stdbool.h>
#include <string.h>

#include "auth/apikey.h"
#include "auth/oauth_client_store.h"
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

static const char *check_client_type(struct json_object *v)
{
	const char *t = json_object_get_string(v);
	return strcmp(t, "public") && strcmp(t, "confidential") ? "must be \"public\" or \"confidential\"" : NULL;
}

const struct field client_create_fields[] = {
	{"client_type", FIELD_STRING, false, 1, 16, check_client_type},
	{"name", FIELD_STRING, true, 1, 100, check_not_blank},
	{"description", FIELD_STRING, false, 0, 500, NULL},
	{"redirect_uris", FIELD_ARRAY, false, 0, 10, check_redirect_uris},
	{"scopes", FIELD_ARRAY, false, 1, 20, check_scope_array},
	{"rate_limit_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{"rate_limit_read_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{"rate_limit_write_per_hour", FIELD_INT, false, 1, 1000000, NULL},
	{NULL, 0, false, 0, 0, NULL},
};

static int no_such_client(struct request *rq)
{
	return reply_error(rq, 404, "not_found", "No such OAuth client");
}

/* The member name of the body as compact JSON text, or def when absent. */
static const char *json_text(struct request *rq, const char *name, const char *def)
{
	struct json_object *v = NULL;
	if (!json_object_object_get_ex(rq->json, name, &v) || !v)
		return def;
	return arena_strdup(rq->arena, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
}

static struct json_object *client_details(const char *client_id)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "client_id", json_object_new_string(client_id));
	return d;
}

/* 201 client (with client_secret once; a public client has none) | 401 | 403 | 422 | 500 | 503
 * A public client (a browser or native app that cannot keep a secret) has no secret and
 * must use PKCE at /oauth/authorize; it cannot use client_credentials. */
int handle_client_create(struct request *rq)
{
	struct json_object *scopes_json = NULL, *rl = NULL;
	json_object_object_get_ex(rq->json, "scopes", &scopes_json);
	const char *scopes = scopes_json ? scope_join(rq->arena, scopes_json) : "read";
	if (!scope_subset(scopes, rq->scopes))
		return reply_invalid_field(rq, "scopes",
					   "must be within the scopes of the credential creating the client");
	const char *type = jsonx_get_string(rq->json, "client_type");
	bool public_client = type && !strcmp(type, "public");
	char *client_id = apikey_generate(rq->arena, CLIENT_ID_PREFIX);
	char *secret = public_client ? NULL : apikey_generate(rq->arena, CLIENT_SECRET_PREFIX);
	if (!client_id || (!public_client && !secret))
		return reply_internal(rq);
	struct oauth_client_new c = {
		.user_id = rq->user_id,
		.client_id = client_id,
		.secret_hash = secret ? crypto_sha256_hex(rq->arena, secret, strlen(secret)) : NULL,
		.public_client = public_client,
		.name = jsonx_get_string(rq->json, "name"),
		.description = jsonx_get_string(rq->json, "description"),
		.redirect_uris_json = json_text(rq, "redirect_uris", "[]"),
		.scopes = scopes,
		.rate_limit_per_hour = 1000,
	};
	if (json_object_object_get_ex(rq->json, "rate_limit_per_hour", &rl) && rl)
		c.rate_limit_per_hour = (long)json_object_get_int64(rl);
	if (json_object_object_get_ex(rq->json, "rate_limit_read_per_hour", &rl) && rl)
		c.rate_limit_read_per_hour = (long)json_object_get_int64(rl);
	if (json_object_object_get_ex(rq->json, "rate_limit_write_per_hour", &rl) && rl)
		c.rate_limit_write_per_hour = (long)json_object_get_int64(rl);

	struct json_object *view = NULL;
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_client_store_create(rq->arena, &c, &view);
	if (s == DB_OK)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth_client.created", NULL,
				 client_details(client_id));
	s = db_finish(rq->arena, s);
	if (s != DB_OK) {
		json_object_put(view);
		return reply_db_failure(rq, s);
	}
	if (!secret)
		return reply_ok(rq, 201, view, "Public OAuth client created (no secret: use PKCE)");
	json_object_object_add(view, "client_secret", json_object_new_string(secret));
	return reply_ok(rq, 201, view, "OAuth client created; store the secret now: it is not shown again");
}

/* 200 [client] | 401 | 403 | 500 | 503 */
int handle_client_list(struct request *rq)
{
	struct json_object *clients;
	enum db_status s = oauth_client_store_list(rq->arena, rq->user_id, &clients);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	return reply_ok(rq, 200, clients, NULL);
}

/* 200 client | 401 | 403 | 404 (unknown, deleted or another user's) | 500 | 503 */
int handle_client_get(struct request *rq)
{
	const char *id = request_param(rq, "id");
	if (!auth_is_uuid(id))
		return no_such_client(rq);
	struct json_object *client;
	enum db_status s = oauth_client_store_get(rq->arena, rq->user_id, id, &client);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!client)
		return no_such_client(rq);
	return reply_ok(rq, 200, client, NULL);
}

/* 200 | 401 | 403 | 404 | 500 | 503. The client and every token it holds stop working at once. */
int handle_client_delete(struct request *rq)
{
	const char *id = request_param(rq, "id"), *client_id = NULL;
	if (!auth_is_uuid(id))
		return no_such_client(rq);
	enum db_status s = db_begin(rq->arena);
	if (s == DB_OK)
		s = oauth_client_store_delete(rq->arena, rq->user_id, id, &client_id);
	if (s == DB_OK && client_id)
		s = audit_record(rq->arena, request_actor(rq, rq->user_id), "oauth_client.deleted", NULL,
				 client_details(client_id));
	s = db_finish(rq->arena, s);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	if (!client_id)
		return no_such_client(rq);
	return reply_ok(rq, 200, NULL, "OAuth client deleted");
}
