/* user_integrations access; see integration.h. */
#include "integrations/integration.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/validate.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "integrations/relay_store.h"

#define INTEGRATION_COLUMNS                                                                                                                                                             \
	"id, user_id, provider, enabled, config::text, metadata::text, status, last_error, " SQL_RFC3339(                                                                               \
		"last_"                                                                                                                                                                 \
		"checked_at") ", " SQL_RFC3339("connected_at") ", " SQL_RFC3339("last_used_at") ", " SQL_RFC3339("cre"                                                                  \
														 "ate"                                                                  \
														 "d_"                                                                   \
														 "at") ", " SQL_RFC3339("upd"                                           \
																	"ate"                                           \
																	"d_"                                            \
																	"at") ", " SQL_RFC3339("token_expires_at") ", " \
																						   "access_token, refresh_token"

static struct json_object *parse_owned(struct arena *a, const char *text)
{
	struct json_object *o = text ? json_tokener_parse(text) : NULL;
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	return arena_defer(a, jsonx_put, o);
}

void integration_from_row(struct arena *a, const PGresult *res, int r, struct integration *out)
{
	memset(out, 0, sizeof(*out));
	out->id = db_value(res, r, 0);
	out->user_id = db_value(res, r, 1);
	out->provider = db_value(res, r, 2);
	out->enabled = PQgetvalue(res, r, 3)[0] == 't';
	out->config = parse_owned(a, db_value(res, r, 4));
	out->metadata = parse_owned(a, db_value(res, r, 5));
	out->status = db_value(res, r, 6);
	out->last_error = db_value(res, r, 7);
	out->last_checked_at = db_value(res, r, 8);
	out->connected_at = db_value(res, r, 9);
	out->last_used_at = db_value(res, r, 10);
	out->created_at = db_value(res, r, 11);
	out->updated_at = db_value(res, r, 12);
	out->token_expires_at = db_value(res, r, 13);
	out->access_token = db_value(res, r, 14);
	out->refresh_token = db_value(res, r, 15);
}

/* The tail every single-row load shares: *found, and the row copied into out. */
static enum db_status one_row(struct arena *a, enum db_status s, const PGresult *res, struct integration *out,
			      bool *found)
{
	*found = false;
	if (s != DB_OK)
		return s;
	if (PQntuples(res) == 1) {
		integration_from_row(a, res, 0, out);
		*found = true;
	}
	return DB_OK;
}

enum db_status integration_load(struct arena *a, const char *user_id, const char *provider, bool for_update,
				struct integration *out, bool *found)
{
	PGresult *res;
	const char *p[] = {user_id, provider};
	enum db_status s =
		db_exec(a, &res,
			for_update ? "SELECT " INTEGRATION_COLUMNS
				     " FROM user_integrations WHERE user_id = $1 AND provider = $2 FOR UPDATE"
				   : "SELECT " INTEGRATION_COLUMNS
				     " FROM user_integrations WHERE user_id = $1 AND provider = $2",
			2, p);
	return one_row(a, s, res, out, found);
}

/* The mqtt row and its relay sessions in one statement (one round trip for the GET):
 * the sessions' aggregate is a derived table whose only columns are its own aliases, so
 * the integration's columns stay unambiguous. It lives here, not beside the mqtt provider,
 * because the row's column list is this file's. */
enum db_status integration_load_mqtt(struct arena *a, const char *user_id, struct integration *out,
				     struct json_object **relay, bool *found)
{
	PGresult *res;
	const char *p[] = {user_id};
	enum db_status s = db_exec(a, &res,
				   "SELECT " INTEGRATION_COLUMNS ", " RELAY_SESSIONS_COLUMNS
				   " FROM user_integrations CROSS JOIN LATERAL (" RELAY_SESSIONS_OF("$1")
				   ") AS relay WHERE user_id = $1 AND provider = 'mqtt'",
				   1, p);
	s = one_row(a, s, res, out, found);
	*relay = *found ? relay_sessions_json(res, 0, 16) : NULL;
	return s;
}

enum db_status integration_load_by_id(struct arena *a, const char *user_id, const char *id, struct integration *out,
				      bool *found)
{
	PGresult *res;
	*found = false;
	if (!text_is_uuid(id))
		return DB_OK; /* not an id: nothing of the user's has it */
	const char *p[] = {user_id, id};
	enum db_status s = db_exec(
		a, &res, "SELECT " INTEGRATION_COLUMNS " FROM user_integrations WHERE user_id = $1 AND id = $2::uuid", 2,
		p);
	return one_row(a, s, res, out, found);
}

enum db_status integration_set_name(struct arena *a, const char *user_id, const char *provider, const char *name)
{
	const char *p[] = {user_id, provider, name};
	return db_exec(a, NULL,
		       "UPDATE user_integrations SET metadata = CASE WHEN $3::text IS NULL THEN metadata - 'name' "
		       "ELSE metadata || jsonb_build_object('name', $3::text) END, updated_at = now() "
		       "WHERE user_id = $1 AND provider = $2",
		       3, p);
}

enum db_status integration_upsert_config(struct arena *a, const char *user_id, const char *provider, bool enabled,
					 struct json_object *config, const char *new_status, struct integration *out)
{
	PGresult *res;
	const char *p[] = {user_id, provider, enabled ? "true" : "false",
			   json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN), new_status};
	enum db_status s = db_exec(
		a, &res,
		"INSERT INTO user_integrations AS ui (user_id, provider, enabled, config, status) "
		"VALUES ($1, $2, $3, $4::jsonb, $5) "
		"ON CONFLICT (user_id, provider) DO UPDATE SET enabled = EXCLUDED.enabled, config = EXCLUDED.config, "
		"status = EXCLUDED.status, last_error = NULL, updated_at = now() "
		"RETURNING " INTEGRATION_COLUMNS,
		5, p);
	if (s == DB_OK)
		integration_from_row(a, res, 0, out);
	return s;
}

enum db_status integration_record_check(struct arena *a, const char *user_id, const char *provider, const char *status,
					const char *last_error, bool connected)
{
	const char *p[] = {user_id, provider, status, last_error, connected ? "true" : "false"};
	return db_exec(
		a, NULL,
		"UPDATE user_integrations SET status = $3, last_error = left($4, 1000), last_checked_at = now(), "
		"last_used_at = CASE WHEN $5::boolean THEN now() ELSE last_used_at END "
		"WHERE user_id = $1 AND provider = $2",
		5, p);
}

enum db_status integration_store_refreshed(struct arena *a, const char *user_id, const char *provider,
					   const char *sealed_access, const char *sealed_refresh, long expires_in,
					   struct json_object *scopes, const char **expires_at)
{
	const char *up[] = {user_id,
			    provider,
			    sealed_access,
			    sealed_refresh,
			    arena_printf(a, "%ld", expires_in),
			    scopes ? json_object_to_json_string_ext(scopes, JSON_C_TO_STRING_PLAIN) : NULL};
	PGresult *res;
	/* A refresh answer without a refresh token keeps the old one. */
	enum db_status s = db_exec(
		a, &res,
		"UPDATE user_integrations SET access_token = $3, refresh_token = coalesce($4, refresh_token), "
		"token_expires_at = CASE WHEN $5::bigint > 0 THEN now() + make_interval(secs => $5::bigint) END, "
		"metadata = CASE WHEN $6::jsonb IS NULL THEN metadata ELSE jsonb_set(metadata, '{scopes}', "
		"$6::jsonb) END, "
		"status = 'active', last_error = NULL, last_used_at = now(), updated_at = now() "
		"WHERE user_id = $1 AND provider = $2 RETURNING " SQL_RFC3339("token_expires_at"),
		6, up);
	*expires_at = s == DB_OK && PQntuples(res) == 1 ? db_value(res, 0, 0) : NULL;
	return s;
}

enum db_status integration_update_settings(struct arena *a, const char *user_id, const char *provider,
					   struct json_object *settings, bool enabled)
{
	const char *q[] = {user_id, provider, json_object_to_json_string_ext(settings, JSON_C_TO_STRING_PLAIN),
			   enabled ? "true" : "false"};
	return db_exec(a, NULL,
		       "UPDATE user_integrations SET config = config || $3::jsonb, enabled = $4, updated_at = now() "
		       "WHERE user_id = $1 AND provider = $2",
		       4, q);
}

enum db_status integration_mark_connected(struct arena *a, const char *user_id, const char *provider, bool is_new)
{
	const char *q[] = {user_id, provider, is_new ? "false" : "true"};
	return db_exec(a, NULL,
		       "UPDATE user_integrations SET last_checked_at = now(), last_used_at = now(), "
		       "connected_at = CASE WHEN $3::boolean THEN connected_at ELSE now() END "
		       "WHERE user_id = $1 AND provider = $2",
		       3, q);
}

enum db_status integration_delete(struct arena *a, const char *user_id, const char *provider, bool *deleted)
{
	PGresult *res;
	const char *p[] = {user_id, provider};
	enum db_status s = db_exec(
		a, &res, "DELETE FROM user_integrations WHERE user_id = $1 AND provider = $2 RETURNING id", 2, p);
	*deleted = s == DB_OK && PQntuples(res) > 0;
	return s;
}

enum db_status integration_list(struct arena *a, const char *user_id, PGresult **res)
{
	const char *p[] = {user_id};
	return db_exec(a, res,
		       "SELECT " INTEGRATION_COLUMNS " FROM user_integrations WHERE user_id = $1 ORDER BY provider", 1,
		       p);
}

char *integration_aad(struct arena *a, const char *user_id, const char *provider, const char *field)
{
	return arena_printf(a, "user_integrations.config.%s:%s:%s", field, provider, user_id);
}

char *integration_token_aad(struct arena *a, const char *user_id, const char *provider, const char *column)
{
	return arena_printf(a, "user_integrations.%s:%s:%s", column, provider, user_id);
}

int integration_seal(struct arena *a, struct json_object *config, const char *user_id, const char *provider,
		     const char *field, const char *value)
{
	char *sealed;
	if (crypto_seal(a, value, strlen(value), integration_aad(a, user_id, provider, field), &sealed))
		return -1;
	json_object_object_add(config, arena_printf(a, "%s_encrypted", field), json_object_new_string(sealed));
	return 0;
}

int integration_open(struct arena *a, struct json_object *config, const char *user_id, const char *provider,
		     const char *field, char **value)
{
	const char *sealed = jsonx_get_string(config, arena_printf(a, "%s_encrypted", field));
	if (!sealed)
		return 0;
	return crypto_open(a, sealed, integration_aad(a, user_id, provider, field), value, NULL) ? -1 : 1;
}
