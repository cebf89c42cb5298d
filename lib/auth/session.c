/* Token pairs; see session.h. */
#include "auth/session.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"

#define REFRESH_TOKEN_BYTES 32

long session_access_ttl(void)
{
	return config_int("SB_ACCESS_TOKEN_TTL", 900, 30, 86400);
}

long session_refresh_ttl(void)
{
	return config_int("SB_REFRESH_TOKEN_TTL", 30L * 86400, 60, 365L * 86400);
}

enum db_status session_create(struct arena *a, const char *user_id, const char *family_id, struct json_object **pair)
{
	return session_create_scoped(a, user_id, family_id, NULL, pair);
}

enum db_status session_create_scoped(struct arena *a, const char *user_id, const char *family_id,
				     const char *scopes, struct json_object **pair)
{
	*pair = NULL;
	char *refresh = crypto_token(a, REFRESH_TOKEN_BYTES), *access = NULL;
	if (!refresh || token_issue_scoped(a, user_id, scopes, session_access_ttl(), time(NULL), &access))
		return DB_ERROR;
	char ttl[24];
	snprintf(ttl, sizeof(ttl), "%ld", session_refresh_ttl());
	const char *p[] = {user_id, family_id, crypto_sha256_hex(a, refresh, strlen(refresh)), ttl, scopes};
	enum db_status s =
		db_exec(a, NULL,
			"INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, scopes) "
			"VALUES ($1, coalesce($2::uuid, gen_random_uuid()), $3, now() + make_interval(secs => $4), $5)",
			5, p);
	if (s != DB_OK)
		return s;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "access_token", json_object_new_string(access));
	json_object_object_add(d, "token_type", json_object_new_string("Bearer"));
	json_object_object_add(d, "expires_in", json_object_new_int64(session_access_ttl()));
	json_object_object_add(d, "refresh_token", json_object_new_string(refresh));
	json_object_object_add(d, "refresh_expires_in", json_object_new_int64(session_refresh_ttl()));
	if (scopes)
		json_object_object_add(d, "scope", json_object_new_string(scopes));
	*pair = d;
	return DB_OK;
}
