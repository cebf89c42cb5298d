/* api_clients rows; see oauth_client_store.h. */
#include "auth/oauth_client_store.h"

#include <stdlib.h>
#include <string.h>

#include "auth/credential.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "db/rows.h"

/* The public view of a client; never the secret or its hash. */
#define CLIENT_JSON                                                                                      \
	"json_build_object('id', id, 'client_id', client_id, 'name', name, 'description', description, " \
	"'client_type', client_type, 'redirect_uris', to_json(redirect_uris), 'scopes', to_json(scopes), "                           \
	"'rate_limit_per_hour', rate_limit_per_hour, "                                                   \
	"'rate_limit_read_per_hour', coalesce(rate_limit_read_per_hour, rate_limit_per_hour), "          \
	"'rate_limit_write_per_hour', coalesce(rate_limit_write_per_hour, rate_limit_per_hour), "        \
	"'created_at', " SQL_RFC3339(                                                                    \
		"created_at") ", "                                                                       \
			      "'updated_at', " SQL_RFC3339("updated_at") ")::text"

enum db_status oauth_client_store_create(struct arena *a, const struct oauth_client_new *c, struct json_object **client)
{
	const char *p[] = {
		c->client_id,	c->secret_hash,	       c->user_id, c->name,
		c->description, c->redirect_uris_json, c->scopes,  arena_printf(a, "%ld", c->rate_limit_per_hour),
		c->public_client ? "public" : "confidential",
		c->rate_limit_read_per_hour > 0 ? arena_printf(a, "%ld", c->rate_limit_read_per_hour) : NULL,
		c->rate_limit_write_per_hour > 0 ? arena_printf(a, "%ld", c->rate_limit_write_per_hour) : NULL};
	enum db_status s = rows_fetch_one(
		a, client,
		"INSERT INTO api_clients (client_id, client_secret_hash, user_id, name, description, redirect_uris, "
		"scopes, rate_limit_per_hour, client_type, rate_limit_read_per_hour, rate_limit_write_per_hour) "
		"VALUES ($1, $2, $3, $4, $5, ARRAY(SELECT jsonb_array_elements_text($6::jsonb)), "
		"string_to_array($7, ' '), $8::int, $9, $10::int, $11::int) "
		"RETURNING " CLIENT_JSON,
		11, p);
	/* An INSERT ... RETURNING without its row is not a state the caller can answer. */
	return s == DB_OK && !*client ? DB_ERROR : s;
}

enum db_status oauth_client_store_list(struct arena *a, const char *user_id, struct json_object **clients)
{
	const char *p[] = {user_id};
	return rows_fetch_list(a, clients,
			       "SELECT " CLIENT_JSON " FROM api_clients WHERE user_id = $1 AND revoked_at IS NULL "
			       "ORDER BY created_at DESC, id",
			       1, p);
}

enum db_status oauth_client_store_get(struct arena *a, const char *user_id, const char *id, struct json_object **client)
{
	const char *p[] = {id, user_id};
	return rows_fetch_one(
		a, client,
		"SELECT " CLIENT_JSON " FROM api_clients WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL", 2, p);
}

enum db_status oauth_client_store_delete(struct arena *a, const char *user_id, const char *id, const char **client_id)
{
	const char *p[] = {id, user_id};
	PGresult *res;
	*client_id = NULL;
	enum db_status s = db_exec(a, &res,
				   "UPDATE api_clients SET revoked_at = now(), updated_at = now() "
				   "WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL RETURNING client_id",
				   2, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	/* The client and every token it holds stop working at once. */
	s = db_exec(a, NULL,
		    "UPDATE oauth_access_tokens SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS NULL", 1,
		    p);
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "UPDATE oauth_refresh_tokens SET revoked_at = now() WHERE client_id = $1 AND revoked_at IS "
			    "NULL",
			    1, p);
	if (s == DB_OK)
		*client_id = PQgetvalue(res, 0, 0);
	return s;
}

enum db_status oauth_client_verify(struct arena *a, const char *client_id, const char *secret, struct credential **out)
{
	const char *p[] = {client_id};
	PGresult *res;
	*out = NULL;
	enum db_status s =
		db_exec(a, &res,
			"SELECT id, user_id, client_secret_hash, array_to_string(scopes, ' '), rate_limit_per_hour, "
			"client_type = 'public', coalesce(rate_limit_read_per_hour, rate_limit_per_hour), "
			"coalesce(rate_limit_write_per_hour, rate_limit_per_hour) "
			"FROM api_clients WHERE client_id = $1 AND revoked_at IS NULL",
			1, p);
	if (s != DB_OK)
		return s;
	bool found = PQntuples(res) == 1, public_client = found && PQgetvalue(res, 0, 5)[0] == 't';
	bool no_secret = !secret || !*secret;
	if (public_client || no_secret) {
		/* Nothing secret to compare: a public client by its id alone, nothing else. */
		if (!(public_client && no_secret))
			return DB_OK;
	} else {
		const char *stored = found && !PQgetisnull(res, 0, 2)
					     ? PQgetvalue(res, 0, 2)
					     : "0000000000000000000000000000000000000000000000000000000000000000";
		const char *given = crypto_sha256_hex(a, secret, strlen(secret));
		if (!(crypto_str_equal(given, stored) && found))
			return DB_OK;
	}
	struct credential *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return DB_ERROR;
	*c = (struct credential){.client_id = PQgetvalue(res, 0, 0),
				 .client_public_id = arena_strdup(a, client_id),
				 .user_id = PQgetvalue(res, 0, 1),
				 .scopes = PQgetvalue(res, 0, 3),
				 .rate_limit = atol(PQgetvalue(res, 0, 4)),
				 .public_client = public_client,
				 .rate_limit_read = atol(PQgetvalue(res, 0, 6)),
				 .rate_limit_write = atol(PQgetvalue(res, 0, 7))};
	*out = c;
	return DB_OK;
}
