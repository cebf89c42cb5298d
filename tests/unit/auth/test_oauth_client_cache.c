/* Unit tests of oauth_client_verify_cached (lib/auth/oauth_client_store.c) and the
 * client_credentials INSERT that confirms its client (oauth_grant_issue, confirm_client)
 * against a real PostgreSQL with the repository's schema (pg_cluster.h).
 *
 * The first verification goes to the database and keeps the client; the next one with the
 * same secret is answered from the cache, marked unconfirmed; another secret is refused
 * whatever the cache holds. Once the client is deleted, the confirming INSERT issues
 * nothing (the handler then forgets it) while a plain verification refuses it at once.
 * Public clients are never kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <string.h>

#include "../pg_cluster.h"
#include "auth/credential.h"
#include "auth/oauth_client_store.h"
#include "auth/oauth_grant_store.h"
#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "db/db.h"

#define SECRET "sbcs_the-right-secret-of-the-unit-test-client"

static struct arena *a;
static const char *user_id;

static int group_setup(void **state)
{
	(void)state;
	if (pgc_open_schema())
		return -1;
	a = arena_new();
	PGresult *res;
	if (db_exec(a, &res, "INSERT INTO users (email, name, password_hash) VALUES ('cache@example.com', 'C', 'x') "
			     "RETURNING id", 0, NULL) != DB_OK)
		return -1;
	user_id = arena_strdup(a, PQgetvalue(res, 0, 0));
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	arena_free(a);
	pgc_close_schema();
	return 0;
}

/* A new client of user_id: its row id (UUID) into *id. */
static void make_client(const char *public_id, bool public_client, const char **id)
{
	struct oauth_client_new c = {.user_id = user_id,
				     .client_id = public_id,
				     .secret_hash = public_client ? NULL : crypto_sha256_hex(a, SECRET, strlen(SECRET)),
				     .public_client = public_client,
				     .name = "unit",
				     .redirect_uris_json = "[\"https://app.example.com/cb\"]",
				     .scopes = "read",
				     .rate_limit_per_hour = 100};
	struct json_object *view = NULL;
	assert_int_equal(oauth_client_store_create(a, &c, &view), DB_OK);
	assert_non_null(view);
	*id = arena_strdup(a, jsonx_get_string(view, "id"));
	json_object_put(view);
}

/* oauth_grant_issue for c as the client_credentials grant does it. */
static const char *issue(const struct credential *c)
{
	struct oauth_issue what = {c->client_id, c->user_id, NULL, c->scopes, false, false, true, true};
	struct oauth_issued t;
	assert_int_equal(oauth_grant_issue(a, &what, &t), DB_OK);
	return t.access_token;
}

static void test_cached_then_refused_once_deleted(void **state)
{
	(void)state;
	const char *id, *gone;
	struct credential *c;
	oauth_client_cache_clear();
	make_client("sbc_cached", false, &id);
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", SECRET, &c), DB_OK);
	assert_non_null(c);
	assert_false(c->unconfirmed); /* from the database */
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", SECRET, &c), DB_OK);
	assert_non_null(c);
	assert_true(c->unconfirmed); /* from the cache */
	assert_string_equal(c->client_id, id);
	assert_string_equal(c->user_id, user_id);
	assert_string_equal(c->scopes, "read");
	assert_int_equal(c->rate_limit, 100);
	assert_non_null(issue(c));
	/* Another secret: refused, cache or not; and the right one still works after. */
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", SECRET "x", &c), DB_OK);
	assert_null(c);
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", "", &c), DB_OK);
	assert_null(c);
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", SECRET, &c), DB_OK);
	assert_true(c && c->unconfirmed);

	assert_int_equal(oauth_client_store_delete(a, user_id, id, &gone), DB_OK);
	assert_string_equal(gone, "sbc_cached");
	/* The cache still vouches for the secret, but the confirming INSERT issues nothing. */
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", SECRET, &c), DB_OK);
	assert_true(c && c->unconfirmed);
	assert_null(issue(c));
	oauth_client_forget("sbc_cached");
	assert_int_equal(oauth_client_verify_cached(a, "sbc_cached", SECRET, &c), DB_OK);
	assert_null(c);
	assert_int_equal(oauth_client_verify(a, "sbc_cached", SECRET, &c), DB_OK);
	assert_null(c);
}

static void test_public_clients_are_not_kept(void **state)
{
	(void)state;
	const char *id;
	struct credential *c;
	oauth_client_cache_clear();
	make_client("sbc_public", true, &id);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(oauth_client_verify_cached(a, "sbc_public", NULL, &c), DB_OK);
		assert_true(c && c->public_client && !c->unconfirmed);
	}
	/* A secret sent for a public client is refused. */
	assert_int_equal(oauth_client_verify_cached(a, "sbc_public", SECRET, &c), DB_OK);
	assert_null(c);
}

static void test_many_clients_evict_without_confusion(void **state)
{
	(void)state;
	oauth_client_cache_clear();
	char name[32];
	const char *ids[20];
	struct credential *c;
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "sbc_many_%d", i);
		make_client(arena_strdup(a, name), false, &ids[i]);
	}
	/* Twice round more clients than the cache holds: each answer is its own client's. */
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 20; i++) {
			snprintf(name, sizeof(name), "sbc_many_%d", i);
			assert_int_equal(oauth_client_verify_cached(a, name, SECRET, &c), DB_OK);
			assert_non_null(c);
			assert_string_equal(c->client_id, ids[i]);
			assert_string_equal(c->client_public_id, name);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cached_then_refused_once_deleted),
		cmocka_unit_test(test_public_clients_are_not_kept),
		cmocka_unit_test(test_many_clients_evict_without_confusion),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
