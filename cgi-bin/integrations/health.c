/* Health of the caller's integrations: the recorded state of all of them, and a check
 * of one now. */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "db/db.h"
#include "handlers.h"
#include "http/reply.h"
#include "http/request.h"
#include "integrations/health.h"
#include "integrations/providers/provider.h"

#define HISTORY 10

/* The last HISTORY checks of each of the caller's integrations (or of one). */
static enum db_status history(struct request *rq, const char *provider, PGresult **res)
{
	const char *p[] = {rq->user_id, provider};
	return db_exec(rq->arena, res,
		       "SELECT provider, status, error, latency_ms, " SQL_RFC3339(
			       "checked_at") " FROM ("
					     "  SELECT *, row_number() OVER (PARTITION BY provider ORDER BY checked_at "
					     "DESC, id) AS rn "
					     "  FROM integration_health_checks WHERE user_id = $1 AND ($2::text IS "
					     "NULL OR provider = $2)) h "
					     "WHERE rn <= 10 ORDER BY provider, checked_at DESC, id",
		       2, p);
}

static struct json_object *history_of(const PGresult *h, const char *provider)
{
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(h); i++) {
		if (strcmp(PQgetvalue(h, i, 0), provider))
			continue;
		struct json_object *c = json_object_new_object();
		json_object_object_add(c, "status", json_object_new_string(PQgetvalue(h, i, 1)));
		json_object_object_add(c, "error", jsonx_string_or_null(db_value(h, i, 2)));
		const char *ms = db_value(h, i, 3);
		json_object_object_add(c, "latency_ms", ms ? jsonx_ms(atof(ms)) : NULL);
		json_object_object_add(c, "checked_at", json_object_new_string(PQgetvalue(h, i, 4)));
		json_object_array_add(list, c);
	}
	return list;
}

/* 200 [{provider, status, healthy, enabled, last_error, last_checked_at, history}] | 401 | 403 | 503
 * What the last checks found; nothing is contacted. */
int handle_health_list(struct request *rq)
{
	const char *p[] = {rq->user_id};
	PGresult *res, *h;
	enum db_status s =
		db_exec(rq->arena, &res,
			"SELECT provider, enabled, status, last_error, " SQL_RFC3339(
				"last_checked_at") " FROM user_integrations WHERE user_id = $1 ORDER BY provider",
			1, p);
	if (s == DB_OK)
		s = history(rq, NULL, &h);
	if (s != DB_OK)
		return reply_db_failure(rq, s);
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *provider = PQgetvalue(res, i, 0);
		const char *word = health_status(db_value(res, i, 2), PQgetvalue(res, i, 1)[0] == 't');
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "provider", json_object_new_string(provider));
		json_object_object_add(o, "status", json_object_new_string(word));
		json_object_object_add(o, "healthy", json_object_new_boolean(!strcmp(word, "active")));
		json_object_object_add(o, "enabled", json_object_new_boolean(PQgetvalue(res, i, 1)[0] == 't'));
		json_object_object_add(o, "last_error", jsonx_string_or_null(db_value(res, i, 3)));
		json_object_object_add(o, "last_checked_at", jsonx_string_or_null(db_value(res, i, 4)));
		json_object_object_add(o, "history", history_of(h, provider));
		json_object_array_add(list, o);
	}
	return reply_ok(rq, 200, list, NULL);
}

/* 200 {provider, status, healthy, error, latency_ms, checked_at, history} | 401 | 403 |
 * 404 (unknown provider, not configured) | 500 (stored secret unreadable) | 503
 * Checks now; an outside service that fails is the result (status error), not an HTTP error. */
int handle_health_check(struct request *rq)
{
	/* The stored name: "arduino-cloud" in the URL is "arduino_cloud" in the rows. */
	const struct provider *p = provider_find(request_param(rq, "provider"));
	const char *provider = p ? p->name : request_param(rq, "provider");
	struct json_object *out;
	PGresult *h;
	switch (health_check(rq, provider, &out)) {
	case HEALTH_NOT_CONFIGURED:
		return reply_error(rq, 404, "not_found", "This integration is not configured");
	case HEALTH_SECRET:
		return reply_error(rq, 500, "secret_unavailable",
				   "A stored secret could not be decrypted; connect or save the integration again");
	case HEALTH_DB:
		return reply_db_failure(rq, DB_UNAVAILABLE);
	default:
		break;
	}
	enum db_status s = history(rq, provider, &h);
	if (s != DB_OK) {
		json_object_put(out);
		return reply_db_failure(rq, s);
	}
	json_object_object_add(out, "history", history_of(h, provider));
	return reply_ok(rq, 200, out, NULL);
}
