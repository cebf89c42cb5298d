/* Integration health checks and their record; see health.h. */
#include "integrations/health.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/monotime.h"
#include "integrations/integration.h"
#include "integrations/integration_events.h"
#include "integrations/providers/provider.h"

/* Checks kept per integration in the answers (the table keeps more). */
#define HISTORY "10"

const char *health_status(const char *stored, bool enabled)
{
	if (!enabled)
		return "inactive";
	if (!stored || !strcmp(stored, "pending") || !strcmp(stored, "disconnected"))
		return "pending";
	if (!strcmp(stored, "connected") || !strcmp(stored, "active"))
		return "active";
	if (!strcmp(stored, "expired"))
		return "expired";
	return "error";
}

/* Records a check of an enabled row: status, last_error, a history row and the
 * health_changed event, in one transaction. */
static enum db_status record(struct arena *a, const char *user_id, const char *provider, const char *fallback_before,
			     const struct provider_health *o, double ms)
{
	char latency[32];
	snprintf(latency, sizeof(latency), "%.2f", ms);
	bool ok = !strcmp(o->status, "connected") || !strcmp(o->status, "active");
	const char *hp[] = {user_id, provider, health_status(o->status, true), o->error, latency};
	/* The status as stored now, under lock: the check itself may have changed it (a
	 * refused refresh marks the row expired and publishes that change already). */
	PGresult *cur;
	enum db_status s = db_begin(a);
	if (s == DB_OK)
		s = db_exec(a, &cur,
			    "SELECT status FROM user_integrations WHERE user_id = $1 AND provider = $2 FOR UPDATE", 2,
			    hp);
	const char *before = s == DB_OK && PQntuples(cur) == 1 ? PQgetvalue(cur, 0, 0) : fallback_before;
	if (s == DB_OK)
		s = integration_record_check(a, user_id, provider, o->status, o->error, ok);
	if (s == DB_OK)
		s = db_exec(a, NULL,
			    "INSERT INTO integration_health_checks (user_id, provider, status, error, latency_ms) "
			    "VALUES ($1, $2, $3, left($4, 1000), $5)",
			    5, hp);
	if (s == DB_OK)
		s = integration_event_health_changed(a, user_id, provider, before, o->status);
	return db_finish(a, s);
}

enum health_result health_check(struct arena *a, const struct actor *who, const char *provider_name,
				struct json_object **out)
{
	*out = NULL;
	const struct provider *p = provider_find(provider_name);
	struct integration row;
	bool found;
	if (!p)
		return HEALTH_NOT_CONFIGURED;
	if (integration_load(a, who->user_id, p->name, false, &row, &found) != DB_OK)
		return HEALTH_DB;
	if (!found)
		return HEALTH_NOT_CONFIGURED;

	struct provider_health o = {0};
	double t0 = monotime_ms();
	if (!row.enabled || !p->health)
		o.status = row.status; /* a disabled integration is not contacted */
	else
		p->health(a, who, p, &row, &o);
	double ms = monotime_ms() - t0;
	if (o.secret_failed) {
		log_msg(LOG_ERROR, "health of %s for user %s: a stored secret could not be opened", p->name,
			who->user_id);
		return HEALTH_SECRET;
	}
	/* Recorded after the check: no transaction is open while the service is reached. */
	bool checked = row.enabled && p->health;
	if (checked && record(a, who->user_id, p->name, row.status, &o, ms) != DB_OK)
		return HEALTH_DB;
	PGresult *res;
	const char *cp[] = {who->user_id, p->name};
	if (db_exec(a, &res,
		    "SELECT " SQL_RFC3339("coalesce(last_checked_at, now())") " FROM user_integrations "
									      "WHERE user_id = $1 AND provider = $2",
		    2, cp) != DB_OK ||
	    PQntuples(res) != 1)
		return HEALTH_DB;

	struct json_object *r = json_object_new_object();
	const char *word = health_status(o.status, row.enabled);
	json_object_object_add(r, "provider", json_object_new_string(p->name));
	json_object_object_add(r, "status", json_object_new_string(word));
	json_object_object_add(r, "healthy", json_object_new_boolean(!strcmp(word, "active")));
	json_object_object_add(r, "error", jsonx_string_or_null(checked ? o.error : NULL));
	json_object_object_add(r, "latency_ms", checked ? jsonx_ms(ms) : NULL);
	json_object_object_add(r, "checked_at", json_object_new_string(PQgetvalue(res, 0, 0)));
	*out = r;
	return HEALTH_CHECKED;
}

/* The last HISTORY checks of each of the user's integrations (or of one). */
static enum db_status history_rows(struct arena *a, const char *user_id, const char *provider, PGresult **res)
{
	const char *p[] = {user_id, provider};
	return db_exec(a, res,
		       "SELECT provider, status, error, latency_ms, " SQL_RFC3339(
			       "checked_at") " FROM ("
					     "  SELECT *, row_number() OVER (PARTITION BY provider ORDER BY checked_at "
					     "DESC, id) AS rn "
					     "  FROM integration_health_checks WHERE user_id = $1 AND ($2::text IS "
					     "NULL OR provider = $2)) h "
					     "WHERE rn <= " HISTORY " ORDER BY provider, checked_at DESC, id",
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

enum db_status health_history(struct arena *a, const char *user_id, const char *provider, struct json_object **out)
{
	PGresult *h;
	enum db_status s = history_rows(a, user_id, provider, &h);
	*out = s == DB_OK ? history_of(h, provider) : NULL;
	return s;
}

enum db_status health_list(struct arena *a, const char *user_id, struct json_object **out)
{
	const char *p[] = {user_id};
	PGresult *res, *h;
	*out = NULL;
	enum db_status s =
		db_exec(a, &res,
			"SELECT provider, enabled, status, last_error, " SQL_RFC3339(
				"last_checked_at") " FROM user_integrations WHERE user_id = $1 ORDER BY provider",
			1, p);
	if (s == DB_OK)
		s = history_rows(a, user_id, NULL, &h);
	if (s != DB_OK)
		return s;
	struct json_object *list = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		const char *provider = PQgetvalue(res, i, 0);
		bool enabled = PQgetvalue(res, i, 1)[0] == 't';
		const char *word = health_status(db_value(res, i, 2), enabled);
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "provider", json_object_new_string(provider));
		json_object_object_add(o, "status", json_object_new_string(word));
		json_object_object_add(o, "healthy", json_object_new_boolean(!strcmp(word, "active")));
		json_object_object_add(o, "enabled", json_object_new_boolean(enabled));
		json_object_object_add(o, "last_error", jsonx_string_or_null(db_value(res, i, 3)));
		json_object_object_add(o, "last_checked_at", jsonx_string_or_null(db_value(res, i, 4)));
		json_object_object_add(o, "history", history_of(h, provider));
		json_object_array_add(list, o);
	}
	*out = list;
	return DB_OK;
}
