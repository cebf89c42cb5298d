/* The users and refresh_tokens tables: accounts, and the refresh tokens of our own login
 * sessions (stored as SHA-256, rotated on use, grouped in families so that a reused token
 * ends the whole login). Writes run in the caller's transaction; the caller audits and
 * commits. The access-token half of a session is session.h. */
#ifndef SB_USER_STORE_H
#define SB_USER_STORE_H

#include <stdbool.h>

#include "db/db.h"

struct arena;
struct json_object;

/* One account; strings in the arena. */
struct user {
	const char *id;
	const char *email; /* NULL: none (an account from a provider without one) */
	const char *name;
	const char *created_at; /* RFC 3339 UTC */
	const char *updated_at; /* RFC 3339 UTC */
	long long updated_epoch;
	const char *password_hash; /* set by user_store_by_email only; NULL: no password */
};

/* The public view of u: {id, email, name, created_at, updated_at} (a new object). */
struct json_object *user_to_json(const struct user *u);

/* Creates an account; *out is the new row. DB_CONFLICT: the email is taken. */
enum db_status user_store_create(struct arena *a, const char *email, const char *name, const char *password_hash,
				 struct user **out);

/* The account with this email, compared case-insensitively, with its password hash; *out
 * is NULL when there is none. */
enum db_status user_store_by_email(struct arena *a, const char *email, struct user **out);

/* The account id (a UUID); *out is NULL when there is none. */
enum db_status user_store_by_id(struct arena *a, const char *id, struct user **out);

/* The account of a host-platform identity (its token's sub), created on first sight with
 * email (when no other account uses it: a host token never takes over an account) and
 * name; *user_id is its id, in the arena. Safe against a concurrent first sight. */
enum db_status user_store_for_host(struct arena *a, const char *subject, const char *email, const char *name,
				   const char **user_id);

/* A refresh token as found under its row lock. */
struct refresh_token {
	const char *id;
	const char *family_id;
	bool rotated; /* already exchanged: presenting it again is a reuse */
	bool dead;    /* revoked or expired */
	const char *scopes; /* the login's scopes (space-separated); NULL: every scope */
	struct user user;
};

/* Finds the refresh token token (the secret as presented) and locks its row until the
 * transaction ends, so two concurrent uses cannot both rotate it; *out is NULL when no
 * such token exists. Must run in a transaction. */
enum db_status refresh_token_lock(struct arena *a, const char *token, struct refresh_token **out);

/* Marks token id as exchanged (its successor is issued by session_create). */
enum db_status refresh_token_rotate(struct arena *a, const char *id);

/* Revokes every live token of family_id: the whole login ends. */
enum db_status refresh_family_revoke(struct arena *a, const char *family_id);

/* Logout: revokes the family of token (the secret as presented) and points *user_id at
 * its owner, or sets it NULL when the token is unknown. */
enum db_status refresh_family_logout(struct arena *a, const char *token, const char **user_id);

#endif
