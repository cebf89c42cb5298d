/* Integration health checks; see health.h. */
#include "integrations/health.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "db/db.h"
#include "events/events.h"
#include "http/request.h"
#include "integrations/integration.h"
#include "integrations/oauth_token.h"
#include "integrations/providers/arduino.h"
#include "integrations/providers/blynk.h"
#include "integrations/providers/mqtt.h"
#include "integrations/providers/provider.h"
#include "net/mqtt_probe.h"
#include "oauth/oauth_client.h"

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

enum db_status health_publish_change(struct arena *a, const char *user_id, const char *provider,
				     const char *previous_stored, const char *new_stored)
{
	const char *was = health_status(previous_stored, true), *now = health_status(new_stored, true);
	if (!strcmp(was, now))
		return DB_OK;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "provider", json_object_new_string(provider));
	json_object_object_add(d, "user_id", json_object_new_string(user_id));
	json_object_object_add(d, "status", json_object_new_string(now));
	json_object_object_add(d, "previous_status", json_object_new_string(was));
	struct event_published ev;
	enum db_status s = events_publish(a, user_id, "integration.health_changed", d, NULL, &ev);
	json_object_put(d);
	return s;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The outcome in the provider's own status words, and what went wrong. */
struct outcome {
	const char *status; /* stored: connected/active, error, expired */
	const char *error;
	bool secret_failed;
};

static void check_mqtt(struct request *rq, const struct integration *row, struct outcome *o)
{
	struct mqtt_probe_options opt;
	int rc = mqtt_saved_probe_options(rq->arena, row, &opt);
	if (rc < 0) {
		o->secret_failed = true;
		return;
	}
	if (rc > 0) {
		o->status = "error";
		o->error = "no broker_url is saved";
		return;
	}
	struct json_object *r = mqtt_probe(rq->arena, &opt);
	bool ok = jsonx_get_bool(r, "connected", 0);
	o->status = ok ? "connected" : "error";
	o->error = ok ? NULL : arena_strdup(rq->arena, jsonx_get_string(r, "error"));
	json_object_put(r);
}

static void check_oauth(struct request *rq, const struct integration *row, struct outcome *o)
{
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(rq, rq->user_id, row->provider, false, &use);
	if (st == OAUTH_TOKEN_SECRET) {
		o->secret_failed = true;
		return;
	}
	if (st == OAUTH_TOKEN_EXPIRED || st == OAUTH_TOKEN_NO_REFRESH) {
		o->status = "expired";
		o->error = use.reason ? use.reason : "the provider refused to renew access: reconnect";
		return;
	}
	if (st != OAUTH_TOKEN_OK) {
		o->status = "error";
		o->error = use.reason ? use.reason : "the token could not be used";
		return;
	}
	const struct oauth_provider *p = oauth_provider_find(row->provider);
	struct json_object *profile;
	const char *reason = NULL;
	int http;
	if (!p || oauth_fetch_profile(rq->arena, p, use.access_token, &profile, &reason, &http) != OAUTH_OK) {
		o->status = "error";
		o->error = reason ? reason : "the provider's profile endpoint did not answer";
		return;
	}
	o->status = "active";
}

/* Arduino Cloud: a valid token (exchanged again when due) and the device list. */
static void check_arduino(struct request *rq, const struct integration *row, struct outcome *o)
{
	struct arduino_token t;
	enum arduino_result rt = arduino_row_token(rq->arena, row, &t);
	if (rt == ARDUINO_SECRET) {
		o->secret_failed = true;
		return;
	}
	if (rt != ARDUINO_OK) {
		o->status = "error";
		o->error = rt == ARDUINO_DB ? "the stored token could not be read" : t.reason;
		return;
	}
	struct json_object *devices;
	const char *reason = NULL;
	int hs;
	enum arduino_result r = arduino_list(rq->arena, t.access_token, "devices", &devices, &reason, &hs);
	if (r == ARDUINO_REFUSED && !arduino_forget_token(rq->arena, row->user_id)) {
		/* Refused before its expiry (revoked at Arduino): exchange once more. */
		if ((r = arduino_row_token(rq->arena, row, &t)) == ARDUINO_SECRET) {
			o->secret_failed = true;
			return;
		}
		if (r != ARDUINO_OK) {
			o->status = "error";
			o->error = r == ARDUINO_DB ? "the stored token could not be read" : t.reason;
			return;
		}
		r = arduino_list(rq->arena, t.access_token, "devices", &devices, &reason, &hs);
	}
	if (r != ARDUINO_OK) {
		o->status = "error";
		o->error = reason;
		return;
	}
	json_object_put(devices);
	o->status = "active";
}

enum health_result health_check(struct request *rq, const char *provider_name, struct json_object **out)
{
	*out = NULL;
	const struct provider *p = provider_find(provider_name);
	struct integration row;
	bool found;
	if (!p)
		return HEALTH_NOT_CONFIGURED;
	if (integration_load(rq->arena, rq->user_id, p->name, false, &row, &found) != DB_OK)
		return HEALTH_DB;
	if (!found)
		return HEALTH_NOT_CONFIGURED;

	struct outcome o = {0};
	double t0 = now_ms();
	if (!row.enabled)
		o.status = row.status; /* a disabled integration is not contacted */
	else if (p->auth == PROVIDER_AUTH_OAUTH2)
		check_oauth(rq, &row, &o);
	else if (!strcmp(p->name, "arduino_cloud"))
		check_arduino(rq, &row, &o);
	else if (!strcmp(p->name, "blynk"))
		blynk_health(rq->arena, &row, &o.status, &o.error, &o.secret_failed);
	else
		check_mqtt(rq, &row, &o);
	double ms = now_ms() - t0;
	if (o.secret_failed) {
		log_msg(LOG_ERROR, "health of %s for user %s: a stored secret could not be opened", p->name,
			rq->user_id);
		return HEALTH_SECRET;
	}

	/* Recorded after the check: no transaction is open while the service is reached. */
	PGresult *res = NULL;
	char latency[32];
	snprintf(latency, sizeof(latency), "%.2f", ms);
	enum db_status s = DB_OK;
	if (row.enabled) {
		bool ok = !strcmp(o.status, "connected") || !strcmp(o.status, "active");
		const char *hp[] = {rq->user_id, p->name, health_status(o.status, true), o.error, latency};
		/* The status as stored now, under lock: the check itself may have changed it (a
		 * refused refresh marks the row expired and publishes that change already). */
		PGresult *cur;
		const char *lp[] = {rq->user_id, p->name};
		s = db_begin(rq->arena);
		if (s == DB_OK)
			s = db_exec(
				rq->arena, &cur,
				"SELECT status FROM user_integrations WHERE user_id = $1 AND provider = $2 FOR UPDATE",
				2, lp);
		const char *before = s == DB_OK && PQntuples(cur) == 1 ? PQgetvalue(cur, 0, 0) : row.status;
		if (s == DB_OK)
			s = integration_record_check(rq->arena, rq->user_id, p->name, o.status, o.error, ok);
		if (s == DB_OK)
			s = db_exec(
				rq->arena, NULL,
				"INSERT INTO integration_health_checks (user_id, provider, status, error, latency_ms) "
				"VALUES ($1, $2, $3, left($4, 1000), $5)",
				5, hp);
		if (s == DB_OK)
			s = health_publish_change(rq->arena, rq->user_id, p->name, before, o.status);
		s = db_finish(rq->arena, s);
		if (s != DB_OK)
			return HEALTH_DB;
	}
	const char *cp[] = {rq->user_id, p->name};
	if (db_exec(rq->arena, &res,
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
	json_object_object_add(r, "error", jsonx_string_or_null(row.enabled ? o.error : NULL));
	json_object_object_add(r, "latency_ms", row.enabled ? jsonx_ms(ms) : NULL);
	json_object_object_add(r, "checked_at", json_object_new_string(PQgetvalue(res, 0, 0)));
	*out = r;
	return HEALTH_CHECKED;
}
