/* rotate-key: re-seals every secret (user_integrations config secrets and tokens,
 * webhook signing secrets) with the current key (the
 * newest in SB_ENCRYPTION_KEYS, or SB_ENCRYPTION_KEY_VERSION). Each row is locked,
 * opened with the key it names, sealed anew and written back in its own transaction,
 * so a run can stop anywhere and be run again. Rows already on the current key are
 * left alone. Exit status: 0 when every secret is on the current key. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "db/db.h"
#include "integrations/integration.h"
#include "webhooks/webhook.h"

/* Re-seals one sealed text in place of *text. Returns 1 changed, 0 already current, -1 failed. */
static int reseal(struct arena *a, const char **text, const char *aad)
{
	if (!*text || crypto_sealed_version(*text) == crypto_current_key_version())
		return 0;
	char *plain, *sealed;
	size_t len;
	if (crypto_open(a, *text, aad, &plain, &len) || crypto_seal(a, plain, len, aad, &sealed))
		return -1;
	*text = sealed;
	return 1;
}

/* Re-seals the secrets of one row; returns the number changed, or -1. */
static int rotate_row(struct arena *a, const char *id)
{
	const char *p[] = {id};
	PGresult *res;
	if (db_begin(a) != DB_OK || db_exec(a, &res,
					    "SELECT user_id, provider, config::text, access_token, refresh_token "
					    "FROM user_integrations WHERE id = $1 FOR UPDATE",
					    1, p) != DB_OK) {
		db_rollback(a);
		return -1;
	}
	if (PQntuples(res) != 1) {
		db_rollback(a);
		return 0; /* deleted meanwhile */
	}
	const char *user = PQgetvalue(res, 0, 0), *provider = PQgetvalue(res, 0, 1);
	struct json_object *config = arena_defer(a, jsonx_put, json_tokener_parse(PQgetvalue(res, 0, 2)));
	const char *access = db_value(res, 0, 3), *refresh = db_value(res, 0, 4);
	int changed = 0, rc;
	const char *what = "config";

	if (config && json_object_is_type(config, json_type_object)) {
		json_object_object_foreach(config, key, val)
		{
			size_t n = strlen(key);
			if (n <= 10 || strcmp(key + n - 10, "_encrypted") ||
			    !json_object_is_type(val, json_type_string))
				continue;
			const char *text = json_object_get_string(val);
			char *field = arena_strndup(a, key, n - 10);
			rc = reseal(a, &text, integration_aad(a, user, provider, field));
			if (rc < 0) {
				what = field;
				goto fail;
			}
			if (rc > 0) {
				json_object_object_add(config, key, json_object_new_string(text));
				changed++;
			}
		}
	}
	what = "access_token";
	if ((rc = reseal(a, &access, integration_token_aad(a, user, provider, "access_token"))) < 0)
		goto fail;
	changed += rc;
	what = "refresh_token";
	if ((rc = reseal(a, &refresh, integration_token_aad(a, user, provider, "refresh_token"))) < 0)
		goto fail;
	changed += rc;
	if (changed) {
		const char *u[] = {id, json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN), access, refresh};
		if (db_exec(a, NULL,
			    "UPDATE user_integrations SET config = $2::jsonb, access_token = $3, refresh_token = $4 "
			    "WHERE id = $1",
			    4, u) != DB_OK)
			goto fail;
	}
	if (db_commit(a) != DB_OK)
		return -1;
	return changed;
fail:
	log_msg(LOG_ERROR, "row %s (%s, %s): a secret could not be opened with the configured keys", id,
		provider, what);
	db_rollback(a);
	return -1;
}

/* Re-seals a webhook's signing secrets; returns the number changed, or -1. */
static int rotate_webhook(struct arena *a, const char *id)
{
	const char *p[] = {id};
	PGresult *res;
	if (db_begin(a) != DB_OK ||
	    db_exec(a, &res, "SELECT secret, previous_secret FROM webhooks WHERE id = $1 FOR UPDATE", 1, p) != DB_OK) {
		db_rollback(a);
		return -1;
	}
	if (PQntuples(res) != 1) {
		db_rollback(a);
		return 0;
	}
	const char *secret = db_value(res, 0, 0), *previous = db_value(res, 0, 1);
	const char *aad = webhook_secret_aad(a, id);
	int r1 = reseal(a, &secret, aad), r2 = reseal(a, &previous, aad);
	if (r1 < 0 || r2 < 0) {
		db_rollback(a);
		log_msg(LOG_ERROR, "webhook %s: a secret could not be opened with the configured keys", id);
		return -1;
	}
	const char *u[] = {id, secret, previous};
	if ((r1 || r2) &&
	    db_exec(a, NULL, "UPDATE webhooks SET secret = $2, previous_secret = $3 WHERE id = $1", 3, u) != DB_OK) {
		db_rollback(a);
		return -1;
	}
	return db_commit(a) == DB_OK ? r1 + r2 : -1;
}

/* Runs rotate(id) over every id the query returns; adds to the counters. */
static int rotate_all(struct arena *a, const char *sql, int (*rotate)(struct arena *, const char *), int *rows,
		      int *resealed, int *failed)
{
	PGresult *ids;
	if (db_exec(a, &ids, sql, 0, NULL) != DB_OK)
		return -1;
	struct arena *row = arena_new();
	for (int i = 0; i < PQntuples(ids); i++) {
		int n = rotate(row, PQgetvalue(ids, i, 0));
		if (n < 0)
			(*failed)++;
		else
			*resealed += n;
		arena_reset(row);
	}
	*rows += PQntuples(ids);
	arena_free(row);
	return 0;
}

int main(void)
{
	log_init("rotate-key");
	if (config_load() || crypto_keys_load())
		return 1;
	db_init(config_str("DATABASE_URL", "postgresql:///switchboard"));
	struct arena *a = arena_new();
	int rows = 0, resealed = 0, failed = 0;
	if (!db_conn() ||
	    rotate_all(a, "SELECT id FROM user_integrations ORDER BY id", rotate_row, &rows, &resealed, &failed) ||
	    rotate_all(a, "SELECT id FROM webhooks ORDER BY id", rotate_webhook, &rows, &resealed, &failed)) {
		fputs("rotate-key: the database is not reachable\n", stderr);
		return 1;
	}
	printf("rotate-key: key version %u; %d rows, %d secrets re-sealed, %d rows failed\n",
	       crypto_current_key_version(), rows, resealed, failed);
	arena_free(a);
	db_close();
	return failed ? 1 : 0;
}
