/* The api_keys table: creating, listing, revoking a user's keys and counting what a key
 * did (from api_request_logs). Keys are stored as SHA-256 with a display prefix; no
 * function here sees or returns the key itself or its hash. Writes run in the caller's
 * transaction; the caller audits and commits. */
#ifndef SB_APIKEY_STORE_H
#define SB_APIKEY_STORE_H

#include "db/db.h"

struct arena;
struct credential;
struct json_object;

/* What a new key is made of (strings; NULL for the optional ones). */
struct apikey_new {
	const char *user_id;
	const char *name;
	const char *description; /* NULL: none */
	const char *key_hash;	 /* crypto_sha256_hex of the key */
	const char *key_prefix;	 /* apikey_display_prefix of the key */
	const char *scopes;	 /* space-separated, already checked */
	long rate_limit_per_hour;
	const char *expires_at; /* RFC 3339 text, NULL: never (or expires_in_days) */
	long expires_in_days;	/* 1..APIKEY_MAX_DAYS from now, 0: expires_at */
	long rate_limit_read_per_hour, rate_limit_write_per_hour; /* 0: rate_limit_per_hour */
};

/* The furthest a key's expiry may be: about ten years. */
#define APIKEY_MAX_DAYS	     3650
#define APIKEY_MAX_DAYS_TEXT "3650"

/* Inserts k and fills *key with its public view (caller owns), or NULL when expires_at
 * is not in the future or more than APIKEY_MAX_DAYS away (nothing inserted). DB_INVALID when the database refuses
 * expires_at as a date-time. */
enum db_status apikey_store_create(struct arena *a, const struct apikey_new *k, struct json_object **key);

/* The public views of user_id's keys that are not revoked (expired ones too), newest first. */
enum db_status apikey_store_list(struct arena *a, const char *user_id, struct json_object **keys);

/* Revokes key id of user_id and points *prefix at its display prefix (in the arena), or
 * sets it NULL when the key is unknown, another user's or already revoked. */
enum db_status apikey_store_revoke(struct arena *a, const char *user_id, const char *id, const char **prefix);

/* Requests made with key id of user_id over the last hours hours, counted per hour and
 * per status: {api_key_id, hours, from, to, total, by_hour, by_status} (caller owns), or
 * NULL when the key is not user_id's. Revoked keys keep their history. */
enum db_status apikey_store_usage(struct arena *a, const char *user_id, const char *id, long hours,
				  struct json_object **usage);

/* The live (not revoked) key key, as presented, into *out (in the arena; expired keys are
 * found with expired set), or NULL when there is none. */
enum db_status apikey_store_find(struct arena *a, const char *key, struct credential **out);

#endif
