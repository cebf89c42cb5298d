/* Rows of user_integrations: one per (user, provider). Loading, upserting, deleting,
 * and sealing the secrets inside them, bound to their row by associated data. */
#ifndef SB_INTEGRATION_H
#define SB_INTEGRATION_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

struct integration {
	const char *id, *user_id, *provider;
	bool enabled;
	struct json_object *config;   /* owned by the arena; secrets still sealed */
	struct json_object *metadata; /* owned by the arena */
	const char *status, *last_error;
	const char *last_checked_at, *connected_at, *last_used_at, *created_at, *updated_at, *token_expires_at;
	const char *access_token, *refresh_token; /* sealed */
};

/* Loads the caller's row for provider into *out. *found tells whether it exists.
 * for_update locks the row (inside a transaction). */
enum db_status integration_load(struct arena *a, const char *user_id, const char *provider, bool for_update,
				struct integration *out, bool *found);

/* The caller's mqtt row as integration_load finds it, with *relay the view of its
 * relay sessions (relay_sessions_view), in one round trip. */
enum db_status integration_load_mqtt(struct arena *a, const char *user_id, struct integration *out,
				     struct json_object **relay, bool *found);

/* The caller's row with this id (a text that is not a UUID finds nothing). */
enum db_status integration_load_by_id(struct arena *a, const char *user_id, const char *id, struct integration *out,
				      bool *found);

/* Sets (or, with NULL, removes) the display name of the row, kept in metadata.name. */
enum db_status integration_set_name(struct arena *a, const char *user_id, const char *provider, const char *name);

/* Inserts or replaces config/enabled of (user, provider) in one statement, so two
 * concurrent saves leave one row; status becomes new_status and last_error is cleared.
 * Fills *out with the saved row. */
enum db_status integration_upsert_config(struct arena *a, const char *user_id, const char *provider, bool enabled,
					 struct json_object *config, const char *new_status, struct integration *out);

/* Records the outcome of a check: status, last_error (NULL clears), last_checked_at,
 * and last_used_at when it connected. */
enum db_status integration_record_check(struct arena *a, const char *user_id, const char *provider, const char *status,
					const char *last_error, bool connected);

/* Stores a refreshed token pair (sealed; a NULL refresh token keeps the old one), its
 * expiry (expires_in seconds, 0: none), the granted scopes when given, and status
 * active. *expires_at receives the new expiry (RFC 3339 or NULL). */
enum db_status integration_store_refreshed(struct arena *a, const char *user_id, const char *provider,
					   const char *sealed_access, const char *sealed_refresh, long expires_in,
					   struct json_object *scopes, const char **expires_at);

/* Merges settings (a JSON object) into the row's config and sets enabled. */
enum db_status integration_update_settings(struct arena *a, const char *user_id, const char *provider,
					   struct json_object *settings, bool enabled);

/* A check just succeeded at a save: last_checked_at and last_used_at now, and
 * connected_at now when the row is new. */
enum db_status integration_mark_connected(struct arena *a, const char *user_id, const char *provider, bool is_new);

/* Deletes the row; *deleted tells whether there was one. */
enum db_status integration_delete(struct arena *a, const char *user_id, const char *provider, bool *deleted);

/* All of the user's rows, ordered by provider: columns as integration_from_row reads. */
enum db_status integration_list(struct arena *a, const char *user_id, PGresult **res);
/* Fills *out from row r of a result selected with INTEGRATION_COLUMNS. */
void integration_from_row(struct arena *a, const PGresult *res, int r, struct integration *out);

/* Associated data binding a sealed secret to its place: table, column, field, owner. */
char *integration_aad(struct arena *a, const char *user_id, const char *provider, const char *field);
/* Associated data of the sealed token columns (access_token, refresh_token). */
char *integration_token_aad(struct arena *a, const char *user_id, const char *provider, const char *column);
/* Seals value into config[field + "_encrypted"]. Returns 0 or -1. */
int integration_seal(struct arena *a, struct json_object *config, const char *user_id, const char *provider,
		     const char *field, const char *value);
/* Opens config[field + "_encrypted"]: 1 when opened into *value, 0 when absent, -1 on failure. */
int integration_open(struct arena *a, struct json_object *config, const char *user_id, const char *provider,
		     const char *field, char **value);

#endif
