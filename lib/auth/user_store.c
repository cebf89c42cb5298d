/* users and refresh_tokens rows; see user_store.h. */
#include "auth/user_store.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"

/* The columns user_from_row reads, in its order, of table alias t ("" or "u."). */
#define USER_COLUMNS_OF(t)                                                                              \
	t "id, " t "email, " t                                                                          \
	  "name, " SQL_RFC3339(t "created_at") ", " SQL_RFC3339(t "updated_at") ", "                    \
										"extract(epoch FROM " t \
										"updated_at)::bigint"
#define USER_COLUMNS  USER_COLUMNS_OF("")
#define USER_NCOLUMNS 6

struct json_object *user_to_json(const struct user *u)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(u->id));
	json_object_object_add(o, "email", jsonx_string_or_null(u->email));
	json_object_object_add(o, "name", json_object_new_string(u->name));
	json_object_object_add(o, "created_at", json_object_new_string(u->created_at));
	json_object_object_add(o, "updated_at", json_object_new_string(u->updated_at));
	return o;
}

/* Fills u from USER_COLUMNS at column off of row r (strings stay owned by res, which the
 * arena owns). */
static void user_from_row(struct user *u, const PGresult *res, int r, int off)
{
	u->id = PQgetvalue(res, r, off);
	u->email = db_value(res, r, off + 1);
	u->name = PQgetvalue(res, r, off + 2);
	u->created_at = PQgetvalue(res, r, off + 3);
	u->updated_at = PQgetvalue(res, r, off + 4);
	u->updated_epoch = strtoll(PQgetvalue(res, r, off + 5), NULL, 10);
	u->password_hash = NULL;
}

/* Runs a query selecting USER_COLUMNS (then, when with_hash, the password hash) and fills
 * *out from its first row, or NULL when it has none. */
static enum db_status fetch_user(struct arena *a, struct user **out, bool with_hash, const char *sql, int n,
				 const char *const *p)
{
	PGresult *res;
	*out = NULL;
	enum db_status s = db_exec(a, &res, sql, n, p);
	if (s != DB_OK || PQntuples(res) < 1)
		return s;
	struct user *u = arena_alloc(a, sizeof(*u));
	if (!u)
		return DB_ERROR;
	user_from_row(u, res, 0, 0);
	if (with_hash)
		u->password_hash = db_value(res, 0, USER_NCOLUMNS);
	*out = u;
	return DB_OK;
}

enum db_status user_store_create(struct arena *a, const char *email, const char *name, const char *password_hash,
				 struct user **out)
{
	const char *p[] = {email, name, password_hash};
	enum db_status s = fetch_user(
		a, out, false,
		"INSERT INTO users (email, name, password_hash) VALUES ($1, $2, $3) RETURNING " USER_COLUMNS, 3, p);
	/* An INSERT ... RETURNING without its row is not a state the caller can answer. */
	return s == DB_OK && !*out ? DB_ERROR : s;
}

enum db_status user_store_by_email(struct arena *a, const char *email, struct user **out)
{
	const char *p[] = {email};
	return fetch_user(a, out, true,
			  "SELECT " USER_COLUMNS ", password_hash FROM users WHERE lower(email) = lower($1)", 1, p);
}

enum db_status user_store_by_id(struct arena *a, const char *id, struct user **out)
{
	const char *p[] = {id};
	return fetch_user(a, out, false, "SELECT " USER_COLUMNS " FROM users WHERE id = $1", 1, p);
}

enum db_status user_store_for_host(struct arena *a, const char *subject, const char *email, const char *name,
				   const char **user_id)
{
	static const char sql[] = "WITH found AS (SELECT id FROM users WHERE external_subject = $1), "
				  "ins AS (INSERT INTO users (external_subject, email, name) "
				  "  SELECT $1, CASE WHEN $2::text IS NULL OR EXISTS (SELECT 1 FROM users WHERE "
				  "lower(email) = lower($2)) "
				  "  THEN NULL ELSE $2 END, coalesce(left($3, 100), '') "
				  "  WHERE NOT EXISTS (SELECT 1 FROM found) ON CONFLICT DO NOTHING RETURNING id) "
				  "SELECT id FROM found UNION ALL SELECT id FROM ins";
	const char *p[] = {subject, email, name};
	*user_id = NULL;
	for (int attempt = 0; attempt < 2; attempt++) {
		PGresult *r;
		enum db_status s = db_exec(a, &r, sql, 3, p);
		if (s != DB_OK)
			return s;
		if (PQntuples(r) > 0) {
			*user_id = PQgetvalue(r, 0, 0);
			return DB_OK;
		}
		/* Lost a race with a concurrent first sight: the row exists now. */
	}
	return DB_ERROR;
}

enum db_status refresh_token_lock(struct arena *a, const char *token, struct refresh_token **out)
{
	const char *p[] = {crypto_sha256_hex(a, token, strlen(token))};
	PGresult *res;
	*out = NULL;
	enum db_status s =
		db_exec(a, &res,
			"SELECT t.id, t.family_id, t.rotated_at IS NOT NULL, "
			"t.revoked_at IS NOT NULL OR t.expires_at <= now(), t.scopes, " USER_COLUMNS_OF(
				"u.") " "
				      "FROM refresh_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 "
				      "FOR UPDATE OF t",
			1, p);
	if (s != DB_OK || PQntuples(res) != 1)
		return s;
	struct refresh_token *t = arena_alloc(a, sizeof(*t));
	if (!t)
		return DB_ERROR;
	t->id = PQgetvalue(res, 0, 0);
	t->family_id = PQgetvalue(res, 0, 1);
	t->rotated = PQgetvalue(res, 0, 2)[0] == 't';
	t->dead = PQgetvalue(res, 0, 3)[0] == 't';
	t->scopes = db_value(res, 0, 4);
	user_from_row(&t->user, res, 0, 5);
	*out = t;
	return DB_OK;
}

enum db_status refresh_token_rotate(struct arena *a, const char *id)
{
	const char *p[] = {id};
	return db_exec(a, NULL, "UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1", 1, p);
}

enum db_status refresh_family_revoke(struct arena *a, const char *family_id)
{
	const char *p[] = {family_id};
	return db_exec(a, NULL,
		       "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL", 1,
		       p);
}

enum db_status refresh_family_logout(struct arena *a, const char *token, const char **user_id)
{
	const char *p[] = {crypto_sha256_hex(a, token, strlen(token))};
	PGresult *res;
	*user_id = NULL;
	enum db_status s =
		db_exec(a, &res,
			"UPDATE refresh_tokens SET revoked_at = coalesce(revoked_at, now()) WHERE family_id = "
			"(SELECT family_id FROM refresh_tokens WHERE token_hash = $1) RETURNING user_id",
			1, p);
	if (s == DB_OK && PQntuples(res) > 0)
		*user_id = PQgetvalue(res, 0, 0);
	return s;
}
