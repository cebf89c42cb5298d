/* Pending authorizations; see oauth_state.h. */
#include "oauth/oauth_state.h"

#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"

long oauth_state_ttl(void)
{
	return config_int("SB_OAUTH_STATE_TTL_SECONDS", 600, 1, 3600);
}

bool oauth_state_well_formed(const char *s)
{
	if (!s || strlen(s) != 43)
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' ||
		      *s == '_'))
			return false;
	return true;
}

const char *oauth_state_reason(enum oauth_state_check c)
{
	static const char *const names[OAUTH_STATE_CHECK__MAX] = {
		[OAUTH_STATE_OK] = "ok",
		[OAUTH_STATE_MISSING] = "state_missing",
		[OAUTH_STATE_UNKNOWN] = "state_unknown",
		[OAUTH_STATE_EXPIRED] = "state_expired",
		[OAUTH_STATE_REUSED] = "state_reused",
		[OAUTH_STATE_MISMATCH] = "state_mismatch",
		[OAUTH_STATE_BROWSER] = "state_browser_mismatch",
	};
	return c < OAUTH_STATE_CHECK__MAX ? names[c] : "state_invalid";
}

const char *oauth_state_message(enum oauth_state_check c)
{
	static const char *const msgs[OAUTH_STATE_CHECK__MAX] = {
		[OAUTH_STATE_OK] = "ok",
		[OAUTH_STATE_MISSING] = "The state parameter is missing or malformed",
		[OAUTH_STATE_UNKNOWN] = "The state is unknown: start the connection again",
		[OAUTH_STATE_EXPIRED] = "The authorization took too long: start the connection again",
		[OAUTH_STATE_REUSED] = "This authorization was already used",
		[OAUTH_STATE_MISMATCH] = "The state was issued for another provider",
		[OAUTH_STATE_BROWSER] = "This authorization was started in another browser: start it again here",
	};
	return c < OAUTH_STATE_CHECK__MAX ? msgs[c] : "Invalid state";
}

static char *verifier_aad(struct arena *a, const char *state_hash)
{
	return arena_printf(a, "oauth_states.code_verifier:%s", state_hash);
}

enum db_status oauth_state_create(struct arena *a, const char *purpose, const char *user_id, const char *provider,
				  const char *verifier, const char *redirect_uri, const char *return_to, char **state,
				  char **binding)
{
	char *s = crypto_token(a, 32), *b = crypto_token(a, 32), *sealed = NULL;
	if (!s || !b)
		return DB_ERROR;
	char *hash = crypto_sha256_hex(a, s, strlen(s));
	if (verifier && crypto_seal(a, verifier, strlen(verifier), verifier_aad(a, hash), &sealed))
		return DB_ERROR;
	char ttl[24];
	snprintf(ttl, sizeof(ttl), "%ld", oauth_state_ttl());
	enum db_status st =
		db_exec(a, NULL, "DELETE FROM oauth_states WHERE expires_at < now() - interval '1 day'", 0, NULL);
	const char *p[] = {hash,   purpose,	 user_id, provider, sealed,
			   redirect_uri, ttl, crypto_sha256_hex(a, b, strlen(b)), return_to};
	if (st == DB_OK)
		st = db_exec(a, NULL,
			     "INSERT INTO oauth_states (state_hash, purpose, user_id, provider, code_verifier, "
			     "redirect_uri, expires_at, browser_hash, return_to) VALUES ($1, $2, $3, $4, $5, $6, "
			     "now() + make_interval(secs => $7), $8, $9)",
			     9, p);
	if (st == DB_OK) {
		*state = s;
		*binding = b;
	}
	return st;
}

char *oauth_state_cookie_name(struct arena *a, const char *state)
{
	return arena_printf(a, "sb_oauth_%.16s", crypto_sha256_hex(a, state, strlen(state)));
}

enum db_status oauth_state_consume(struct arena *a, const char *state, const char *provider, const char *binding,
				   enum oauth_state_check *check, struct oauth_pending *out)
{
	memset(out, 0, sizeof(*out));
	if (!oauth_state_well_formed(state)) {
		*check = OAUTH_STATE_MISSING;
		return DB_OK;
	}
	char *hash = crypto_sha256_hex(a, state, strlen(state));
	const char *p[] = {hash};
	PGresult *res;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(a, &res,
			    "SELECT purpose, user_id, provider, code_verifier, used_at IS NOT NULL, expires_at <= "
			    "now(), redirect_uri, browser_hash, return_to "
			    "FROM oauth_states WHERE state_hash = $1 FOR UPDATE",
			    1, p);
	if (s != DB_OK) {
		db_rollback(a);
		return s;
	}
	if (PQntuples(res) != 1) {
		db_rollback(a);
		*check = OAUTH_STATE_UNKNOWN;
		return DB_OK;
	}
	if (PQgetvalue(res, 0, 4)[0] == 't') {
		db_rollback(a);
		*check = OAUTH_STATE_REUSED;
		return DB_OK;
	}
	s = db_exec(a, NULL, "UPDATE oauth_states SET used_at = now() WHERE state_hash = $1", 1, p);
	if (s == DB_OK)
		s = db_commit(a);
	if (s != DB_OK) {
		db_rollback(a);
		return s;
	}
	if (PQgetvalue(res, 0, 5)[0] == 't') {
		*check = OAUTH_STATE_EXPIRED;
		return DB_OK;
	}
	/* Equal-length names compare in constant time; they are not secret, but cheap. */
	if (!crypto_str_equal(PQgetvalue(res, 0, 2), provider)) {
		*check = OAUTH_STATE_MISMATCH;
		return DB_OK;
	}
	/* The browser that started the flow must be the one finishing it: otherwise a
	 * state handed to someone else would connect their account to ours (or sign them
	 * in to ours). States of before this check carry no hash and are refused too. */
	const char *want = db_value(res, 0, 7);
	if (!want || !binding || !crypto_str_equal(crypto_sha256_hex(a, binding, strlen(binding)), want)) {
		*check = OAUTH_STATE_BROWSER;
		return DB_OK;
	}
	out->purpose = PQgetvalue(res, 0, 0);
	out->user_id = db_value(res, 0, 1);
	out->provider = PQgetvalue(res, 0, 2);
	out->redirect_uri = PQgetvalue(res, 0, 6);
	out->return_to = db_value(res, 0, 8);
	const char *sealed = db_value(res, 0, 3);
	if (sealed) {
		char *v;
		if (crypto_open(a, sealed, verifier_aad(a, hash), &v, NULL))
			return DB_ERROR;
		out->verifier = v;
	}
	*check = OAUTH_STATE_OK;
	return DB_OK;
}
