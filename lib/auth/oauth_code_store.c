/* Consent requests, authorization codes and authorized apps; see oauth_code_store.h. */
#include "auth/oauth_code_store.h"

#include <string.h>

#include "auth/apikey.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "db/rows.h"

long oauth_consent_ttl(void)
{
	return config_int("SB_OAUTH_CONSENT_TTL", 600, 30, 3600);
}

long oauth_code_ttl(void)
{
	return config_int("SB_OAUTH_CODE_TTL", 60, 5, 600);
}

static bool is_true(const PGresult *res, int c)
{
	return PQgetvalue(res, 0, c)[0] == 't';
}

enum db_status oauth_authorize_client_find(struct arena *a, const char *client_id, const char *redirect_uri,
					   struct oauth_authorize_client **out)
{
	const char *p[] = {client_id, redirect_uri};
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res,
				   "SELECT id, client_id, name, array_to_string(scopes, ' '), client_type = 'public', "
				   "coalesce($2::text = ANY(redirect_uris), false), "
				   "CASE WHEN cardinality(redirect_uris) = 1 THEN redirect_uris[1] END "
				   "FROM api_clients WHERE client_id = $1 AND revoked_at IS NULL",
				   2, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct oauth_authorize_client *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return DB_ERROR;
	*c = (struct oauth_authorize_client){.id = PQgetvalue(res, 0, 0),
					     .client_id = PQgetvalue(res, 0, 1),
					     .name = PQgetvalue(res, 0, 2),
					     .scopes = PQgetvalue(res, 0, 3),
					     .public_client = is_true(res, 4),
					     .redirect_matches = is_true(res, 5),
					     .sole_redirect_uri = db_value(res, 0, 6)};
	*out = c;
	return DB_OK;
}

enum db_status oauth_consent_create(struct arena *a, const struct oauth_authorization *r, const char **id)
{
	const char *p[] = {r->client_id,    r->redirect_uri, r->redirect_uri_given ? "t" : "f",
			   r->scopes,	    r->state,	     r->code_challenge,
			   arena_printf(a, "%ld", oauth_consent_ttl())};
	PGresult *res;
	*id = NULL;
	enum db_status s = db_exec(a, &res,
				   "INSERT INTO oauth_consent_requests (client_id, redirect_uri, redirect_uri_given, "
				   "scopes, state, code_challenge, expires_at) VALUES ($1, $2, $3, "
				   "string_to_array($4, ' '), $5, $6, now() + make_interval(secs => $7::int)) RETURNING id",
				   7, p);
	if (s == DB_OK && PQntuples(res) == 1)
		*id = PQgetvalue(res, 0, 0);
	return s == DB_OK && !*id ? DB_ERROR : s;
}

enum db_status oauth_consent_find(struct arena *a, const char *id, const char *user_id, bool lock,
				  struct oauth_authorization **out)
{
	const char *p[] = {id, user_id};
	PGresult *res;
	*out = NULL;
	/* Remembered: the user's grant to this client already covers every scope asked. */
	static const char base[] =
		"SELECT r.id, c.id, c.client_id, c.name, r.redirect_uri, r.redirect_uri_given, "
		"array_to_string(r.scopes, ' '), r.state, r.code_challenge, "
		"coalesce((SELECT g.scopes @> r.scopes FROM oauth_user_grants g "
		"  WHERE g.user_id = $2 AND g.client_id = c.id), false) "
		"FROM oauth_consent_requests r JOIN api_clients c ON c.id = r.client_id "
		"WHERE r.id = $1 AND r.decided_at IS NULL AND r.expires_at > now() AND c.revoked_at IS NULL";
	enum db_status s = db_exec(a, &res, lock ? arena_printf(a, "%s FOR UPDATE OF r", base) : base, 2, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct oauth_authorization *r = arena_alloc(a, sizeof(*r));
	if (!r)
		return DB_ERROR;
	*r = (struct oauth_authorization){.id = PQgetvalue(res, 0, 0),
					  .client_id = PQgetvalue(res, 0, 1),
					  .client_public_id = PQgetvalue(res, 0, 2),
					  .client_name = PQgetvalue(res, 0, 3),
					  .redirect_uri = PQgetvalue(res, 0, 4),
					  .redirect_uri_given = is_true(res, 5),
					  .scopes = PQgetvalue(res, 0, 6),
					  .state = db_value(res, 0, 7),
					  .code_challenge = db_value(res, 0, 8),
					  .previously_granted = is_true(res, 9)};
	*out = r;
	return DB_OK;
}

enum db_status oauth_consent_decide(struct arena *a, const char *id)
{
	const char *p[] = {id};
	return db_exec(a, NULL, "UPDATE oauth_consent_requests SET decided_at = now() WHERE id = $1", 1, p);
}

static const char *hash_of(struct arena *a, const char *secret)
{
	return crypto_sha256_hex(a, secret, strlen(secret));
}

enum db_status oauth_code_issue(struct arena *a, const struct oauth_authorization *r, const char *user_id,
				const char **code)
{
	*code = NULL;
	char *secret = apikey_generate(a, AUTH_CODE_PREFIX);
	if (!secret)
		return DB_ERROR;
	const char *p[] = {hash_of(a, secret),
			   r->client_id,
			   user_id,
			   r->redirect_uri,
			   r->redirect_uri_given ? "t" : "f",
			   r->scopes,
			   r->code_challenge,
			   arena_printf(a, "%ld", oauth_code_ttl())};
	enum db_status s = db_exec(a, NULL,
				   "INSERT INTO oauth_authorization_codes (code_hash, client_id, user_id, redirect_uri, "
				   "redirect_uri_given, scopes, code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, "
				   "string_to_array($6, ' '), $7, now() + make_interval(secs => $8::int))",
				   8, p);
	const char *g[] = {user_id, r->client_id, r->scopes};
	/* The remembered grant: every scope the user has granted this client so far, in the
	 * order first granted. */
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "INSERT INTO oauth_user_grants (user_id, client_id, scopes) "
			    "VALUES ($1, $2, string_to_array($3, ' ')) ON CONFLICT (user_id, client_id) DO UPDATE "
			    "SET scopes = oauth_user_grants.scopes || ARRAY(SELECT x FROM unnest(EXCLUDED.scopes) x "
			    "  WHERE x <> ALL(oauth_user_grants.scopes)), updated_at = now()",
			    3, g);
	if (s == DB_OK)
		*code = secret;
	return s;
}

enum db_status oauth_code_lock(struct arena *a, const char *code, struct oauth_authorization **out)
{
	const char *p[] = {hash_of(a, code)};
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res,
				   "SELECT k.id, k.client_id, k.user_id, k.redirect_uri, k.redirect_uri_given, "
				   "array_to_string(k.scopes, ' '), k.code_challenge, k.used_at IS NOT NULL, "
				   "k.expires_at <= now(), k.grant_id "
				   "FROM oauth_authorization_codes k WHERE k.code_hash = $1 FOR UPDATE",
				   1, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct oauth_authorization *k = arena_alloc(a, sizeof(*k));
	if (!k)
		return DB_ERROR;
	*k = (struct oauth_authorization){.id = PQgetvalue(res, 0, 0),
					  .client_id = PQgetvalue(res, 0, 1),
					  .user_id = PQgetvalue(res, 0, 2),
					  .redirect_uri = PQgetvalue(res, 0, 3),
					  .redirect_uri_given = is_true(res, 4),
					  .scopes = PQgetvalue(res, 0, 5),
					  .code_challenge = db_value(res, 0, 6),
					  .used = is_true(res, 7),
					  .expired = is_true(res, 8),
					  .grant_id = db_value(res, 0, 9)};
	*out = k;
	return DB_OK;
}

enum db_status oauth_code_redeem(struct arena *a, const char *id, const char *grant_id)
{
	const char *p[] = {id, grant_id};
	return db_exec(a, NULL, "UPDATE oauth_authorization_codes SET used_at = now(), grant_id = $2 WHERE id = $1",
		       2, p);
}

enum db_status oauth_authorized_apps(struct arena *a, const char *user_id, struct json_object **apps)
{
	const char *p[] = {user_id};
	return rows_fetch_list(
		a, apps,
		"SELECT json_build_object('client_id', c.client_id, 'name', c.name, 'description', c.description, "
		"'scopes', to_json(g.scopes), 'created_at', " SQL_RFC3339("g.created_at") ", 'updated_at', " SQL_RFC3339(
			"g.updated_at") ")::text "
					"FROM oauth_user_grants g JOIN api_clients c ON c.id = g.client_id "
					"WHERE g.user_id = $1 AND c.revoked_at IS NULL ORDER BY g.updated_at DESC, c.id",
		1, p);
}

enum db_status oauth_authorized_app_revoke(struct arena *a, const char *user_id, const char *client_id, bool *found)
{
	const char *p[] = {user_id, client_id};
	PGresult *res;
	*found = false;
	enum db_status s = db_exec(a, &res,
				   "DELETE FROM oauth_user_grants g USING api_clients c WHERE g.client_id = c.id "
				   "AND g.user_id = $1 AND c.client_id = $2 RETURNING c.id",
				   2, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	const char *q[] = {user_id, PQgetvalue(res, 0, 0)};
	s = db_exec(a, NULL,
		    "UPDATE oauth_access_tokens SET revoked_at = now() WHERE user_id = $1 AND client_id = $2 "
		    "AND delegated AND revoked_at IS NULL",
		    2, q);
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "UPDATE oauth_refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND client_id = $2 "
			    "AND delegated AND revoked_at IS NULL",
			    2, q);
	/* Codes approved but not yet redeemed die too. */
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "UPDATE oauth_authorization_codes SET expires_at = least(expires_at, now()) "
			    "WHERE user_id = $1 AND client_id = $2 AND used_at IS NULL",
			    2, q);
	*found = s == DB_OK;
	return s;
}

enum db_status oauth_code_prune(struct arena *a)
{
	enum db_status s = db_exec(
		a, NULL, "DELETE FROM oauth_consent_requests WHERE expires_at < now() - interval '1 hour'", 0, NULL);
	if (s == DB_OK)
		s = db_exec(a, NULL, "DELETE FROM oauth_authorization_codes WHERE expires_at < now() - interval '1 day'",
			    0, NULL);
	return s;
}

bool oauth_pkce_well_formed(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 43 || n > 128)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") == n;
}

bool oauth_pkce_s256_matches(struct arena *a, const char *verifier, const char *challenge)
{
	if (!oauth_pkce_well_formed(verifier) || !challenge)
		return false;
	unsigned char digest[32];
	crypto_sha256(verifier, strlen(verifier), digest);
	const char *mine = base64url_encode(a, digest, sizeof(digest));
	return mine && crypto_str_equal(mine, challenge);
}
