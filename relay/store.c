/* The relay's database work, through the library's stores (no SQL here): the saved
 * integration with its opened password, the session rows, audit entries, and the
 * once-a-second check that closes sessions whose integration was deleted or disabled. */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/actor.h"
#include "core/arena.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/providers/mqtt.h"
#include "integrations/relay_store.h"
#include "net/mqtt_probe.h"
#include "net/mqtt_url.h"
#include "relay.h"

#define AUDITS_PER_SESSION 20

struct session *sessions_head(void);

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static const char *fill(struct session *s, struct arena *a, const struct integration *row, int *status,
			const char **code)
{
	struct mqtt_probe_options o;
	int rc = mqtt_saved_probe_options(a, row, &o);
	if (rc < 0) {
		*status = 500, *code = "secret_unavailable";
		log_msg(LOG_ERROR, "stored MQTT password of user %s could not be opened", s->user_id);
		return "The stored password could not be decrypted; save the configuration again";
	}
	struct mqtt_url u;
	if (rc > 0 || mqtt_url_parse(a, o.broker_url, &u)) {
		*status = 409, *code = "conflict";
		return "No usable broker_url is saved";
	}
	s->host = strdup(u.host);
	s->port = u.port;
	s->tls = u.tls;
	s->websocket = u.websocket;
	s->ws_path = u.websocket ? strdup(u.path && *u.path ? u.path : "/mqtt") : NULL;
	s->broker_url = strdup(o.broker_url);
	s->prefix = dup_or_null(o.topic_prefix);
	s->device_id = dup_or_null(o.device_id ? o.device_id : "device");
	s->username = o.username && *o.username ? strdup(o.username) : NULL;
	s->password = dup_or_null(o.password);
	if (!s->prefix || !*s->prefix) {
		*status = 409, *code = "conflict";
		return "No topic_prefix is saved";
	}
	return NULL;
}

const char *store_load_integration(struct session *s, int *status, const char **code)
{
	struct arena *a = arena_new();
	struct integration row;
	bool found = false;
	enum db_status st = a ? integration_load(a, s->user_id, "mqtt", false, &row, &found) : DB_ERROR;
	const char *why = NULL;
	if (st != DB_OK)
		*status = 503, *code = "service_unavailable", why = "The database is unreachable";
	else if (!found)
		*status = 404, *code = "not_found", why = "No saved MQTT configuration";
	else if (!row.enabled)
		*status = 409, *code = "integration_disabled", why = "The MQTT integration is disabled";
	else
		why = fill(s, a, &row, status, code);
	arena_free(a);
	return why;
}

static void audit(struct session *s, const char *action, struct json_object *details)
{
	struct arena *a = arena_new();
	struct actor who = {s->user_id, s->ip, s->user_agent};
	if (!a || audit_record(a, &who, action, "mqtt", details) != DB_OK)
		log_msg(LOG_WARN, "audit %s of user %s not recorded", action, s->user_id);
	arena_free(a);
}

void store_session_opened(struct session *s)
{
	struct arena *a = arena_new();
	const char *id = NULL;
	if (a && relay_session_open(a, s->user_id, relay_conf.relay_id, &id) == DB_OK && id)
		s->row_id = strdup(id);
	arena_free(a);
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "broker_url", json_object_new_string(s->broker_url));
	json_object_object_add(d, "topic_prefix", json_object_new_string(s->prefix));
	audit(s, "integration.relay_opened", d);
}

static void flush_refused(struct arena *a, struct session *s)
{
	if (s->row_id && s->refused_unsaved &&
	    relay_session_refused(a, s->row_id, (int)s->refused_unsaved) == DB_OK)
		s->refused_unsaved = 0;
}

void store_session_closed(struct session *s)
{
	struct arena *a = arena_new();
	if (a) {
		flush_refused(a, s);
		relay_session_close(a, s->row_id);
	}
	arena_free(a);
}

void store_refused(struct session *s, const char *what, const char *topic, size_t len)
{
	s->refused++;
	s->refused_unsaved++;
	if (s->audits >= AUDITS_PER_SESSION)
		return;
	s->audits++;
	char t[256];
	snprintf(t, sizeof(t), "%.*s", (int)(len > 200 ? 200 : len), topic ? topic : "");
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "packet", json_object_new_string(what));
	json_object_object_add(d, "topic", json_object_new_string(t));
	json_object_object_add(d, "topic_prefix", json_object_new_string(s->prefix));
	audit(s, "integration.relay_refused", d);
}

void store_clear(void)
{
	struct arena *a = arena_new();
	if (a && relay_sessions_clear(a, relay_conf.relay_id) != DB_OK)
		log_msg(LOG_WARN, "could not close the session rows of relay %s", relay_conf.relay_id);
	arena_free(a);
}

/* "{a,b,...}" of the live sessions' user ids (or row ids); NULL when there are none. */
static char *array_of(struct arena *a, bool rows)
{
	size_t cap = 2, n = 0;
	for (struct session *s = sessions_head(); s; s = s->next)
		if (s->cstate == C_WS && !s->closing && (rows ? s->row_id : s->user_id))
			cap += 37, n++;
	if (!n)
		return NULL;
	char *out = arena_alloc(a, cap + 1), *w = out;
	*w++ = '{';
	for (struct session *s = sessions_head(); s; s = s->next) {
		const char *id = rows ? s->row_id : s->user_id;
		if (s->cstate != C_WS || s->closing || !id)
			continue;
		w += sprintf(w, "%s%.36s", w == out + 1 ? "" : ",", id);
	}
	*w++ = '}';
	*w = 0;
	return out;
}

/* Sessions whose user no longer has an enabled MQTT integration are closed. */
static void check_enabled(struct arena *a)
{
	char *users = array_of(a, false);
	PGresult *res;
	if (!users || relay_users_enabled(a, users, &res) != DB_OK)
		return;
	for (struct session *s = sessions_head(), *next; s; s = next) {
		next = s->next;
		if (s->cstate != C_WS || s->closing || !s->user_id)
			continue;
		bool ok = false;
		for (int r = 0; r < PQntuples(res) && !ok; r++)
			ok = !strcmp(PQgetvalue(res, r, 0), s->user_id);
		if (!ok)
			session_close(s, 1008, "the MQTT integration was deleted or disabled");
	}
}

void store_tick(void)
{
	static long long last_check, last_touch;
	long long now = now_ms();
	if (now - last_check < 1000)
		return;
	last_check = now;
	struct arena *a = arena_new();
	if (!a)
		return;
	check_enabled(a);
	if (now - last_touch >= 10000) {
		last_touch = now;
		char *rows = array_of(a, true);
		if (rows)
			relay_sessions_touch(a, rows);
		for (struct session *s = sessions_head(); s; s = s->next)
			flush_refused(a, s);
	}
	arena_free(a);
}
