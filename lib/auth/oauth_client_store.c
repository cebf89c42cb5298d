/* api_clients rows; see oauth_client_store.h. */
#include "auth/oauth_client_store.h"

#include <stdlib.h>
#include <string.h>

#include "auth/credential.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/monotime.h"
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

/* The per-process cache of verified confidential clients (oauth_client_store.h). Small
 * and fixed: a process serves few hot clients; a miss costs only the lookup it saves. */
#define CLIENT_CACHE	    8
#define CLIENT_CACHE_TTL_MS 60000.0

struct cached_client {
	char public_id[80], secret_hash[65], id[37], user_id[37], scopes[512];
	long rate_limit, rate_limit_read, rate_limit_write;
	double stored_ms; /* 0: empty */
};

static struct cached_client cache[CLIENT_CACHE];
static unsigned cache_next;

static struct cached_client *cache_find(const char *client_id, double now)
{
	for (size_t i = 0; i < CLIENT_CACHE; i++) {
		struct cached_client *e = &cache[i];
		if (e->stored_ms > 0 && !strcmp(e->public_id, client_id)) {
			if (now - e->stored_ms < CLIENT_CACHE_TTL_MS && now >= e->stored_ms)
				return e;
			e->stored_ms = 0;
		}
	}
	return NULL;
}

static bool fits(const char *s, size_t cap)
{
	return s && strlen(s) < cap;
}

/* Keeps c (confidential, verified against secret_hash) for the next requests. */
static void cache_store(const struct credential *c, const char *secret_hash, double now)
{
	if (!fits(c->client_public_id, sizeof(cache[0].public_id)) || !fits(secret_hash, sizeof(cache[0].secret_hash)) ||
	    !fits(c->client_id, sizeof(cache[0].id)) || !fits(c->user_id, sizeof(cache[0].user_id)) ||
	    !fits(c->scopes, sizeof(cache[0].scopes)))
		return;
	struct cached_client *e = cache_find(c->client_public_id, now);
	for (size_t i = 0; i < CLIENT_CACHE && !e; i++)
		if (cache[i].stored_ms <= 0)
			e = &cache[i];
	if (!e)
		e = &cache[cache_next++ % CLIENT_CACHE];
	*e = (struct cached_client){.rate_limit = c->rate_limit,
				    .rate_limit_read = c->rate_limit_read,
				    .rate_limit_write = c->rate_limit_write,
				    .stored_ms = now};
	strcpy(e->public_id, c->client_public_id);
	strcpy(e->secret_hash, secret_hash);
	strcpy(e->id, c->client_id);
	strcpy(e->user_id, c->user_id);
	strcpy(e->scopes, c->scopes);
}

/* The credential of a cached entry, in the arena, marked unconfirmed. */
static struct credential *from_cache(struct arena *a, const struct cached_client *e)
{
	struct credential *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = (struct credential){.client_id = arena_strdup(a, e->id),
				 .client_public_id = arena_strdup(a, e->public_id),
				 .user_id = arena_strdup(a, e->user_id),
				 .scopes = arena_strdup(a, e->scopes),
				 .rate_limit = e->rate_limit,
				 .rate_limit_read = e->rate_limit_read,
				 .rate_limit_write = e->rate_limit_write,
				 .unconfirmed = true};
	return c;
}

enum db_status oauth_client_verify_cached(struct arena *a, const char *client_id, const char *secret,
					  struct credential **out)
{
	*out = NULL;
	if (!client_id || !secret || !*secret)
		return oauth_client_verify(a, client_id, secret, out);
	double now = monotime_ms();
	const char *given = crypto_sha256_hex(a, secret, strlen(secret));
	struct cached_client *e = given ? cache_find(client_id, now) : NULL;
	if (e && crypto_str_equal(given, e->secret_hash)) {
		*out = from_cache(a, e);
		return *out ? DB_OK : DB_ERROR;
	}
	/* Unknown here, expired, or another secret: the database decides. */
	enum db_status s = oauth_client_verify(a, client_id, secret, out);
	if (s == DB_OK && *out && !(*out)->public_client && given)
		cache_store(*out, given, now);
	return s;
}

void oauth_client_forget(const char *client_id)
{
	for (size_t i = 0; i < CLIENT_CACHE; i++)
		if (cache[i].stored_ms > 0 && client_id && !strcmp(cache[i].public_id, client_id))
			memset(&cache[i], 0, sizeof(cache[i]));
}

void oauth_client_cache_clear(void)
{
	memset(cache, 0, sizeof(cache));
	cache_next = 0;
}
