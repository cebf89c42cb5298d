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

static const char *fill(const char *user_id, struct saved *v, struct arena *a, const struct integration *row,
			int *status, const char **code)
{
	struct mqtt_probe_options o;
	int rc = mqtt_saved_probe_options(a, row, &o);
	if (rc < 0) {
		*status = 500, *code = "secret_unavailable";
		log_msg(LOG_ERROR, "stored MQTT password of user %s could not be opened", user_id);
		return "The stored password could not be decrypted; save the configuration again";
	}
	struct mqtt_url u;
	if (rc > 0 || mqtt_url_parse(a, o.broker_url, &u)) {
		*status = 409, *code = "conflict";
		return "No usable broker_url is saved";
	}
	v->host = strdup(u.host);
	v->port = u.port;
	v->tls = u.tls;
	v->websocket = u.websocket;
	v->ws_path = u.websocket ? strdup(u.path && *u.path ? u.path : "/mqtt") : NULL;
	v->broker_url = strdup(o.broker_url);
	v->prefix = dup_or_null(o.topic_prefix);
	v->device_id = dup_or_null(o.device_id ? o.device_id : "device");
	v->username = o.username && *o.username ? strdup(o.username) : NULL;
	v->password = dup_or_null(o.password);
	if (!v->prefix || !*v->prefix) {
		*status = 409, *code = "conflict";
		return "No topic_prefix is saved";
	}
	return NULL;
}

const char *store_load_integration(const char *user_id, struct saved *v, int *status, const char **code)
{
	struct arena *a = arena_new();
	struct integration row;
	bool found = false;
	enum db_status st = a ? integration_load(a, user_id, "mqtt", false, &row, &found) : DB_ERROR;
	const char *why = NULL;
	if (st != DB_OK)
		*status = 503, *code = "service_unavailable", why = "The database is unreachable";
	else if (!found)
		*status = 404, *code = "not_found", why = "No saved MQTT configuration";
	else if (!row.enabled)
		*status = 409, *code = "integration_disabled", why = "The MQTT integration is disabled";
	else
		why = fill(user_id, v, a, &row, status, code);
	arena_free(a);
	return why;
}

void store_saved_move(struct session *s, struct saved *v)
{
	s->host = v->host, s->ws_path = v->ws_path, s->broker_url = v->broker_url, s->prefix = v->prefix;
	s->device_id = v->device_id, s->username = v->username, s->password = v->password;
	s->port = v->port, s->tls = v->tls, s->websocket = v->websocket;
	*v = (struct saved){0};
}

void store_saved_free(struct saved *v)
{
	if (v->password)
		explicit_bzero(v->password, strlen(v->password));
	char *strs[] = {v->host, v->ws_path, v->broker_url, v->prefix, v->device_id, v->username, v->password};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	*v = (struct saved){0};
}

/* Database writes go through the worker thread (offload.c), with copies of what they
 * need. FIFO on one thread: a row's refusals and its close run after its opening. */
struct write_job {
	struct job j;
	char *user_id, *ip, *user_agent; /* the actor of an audit entry */
	const char *action;		 /* an audit entry, or NULL */
	struct json_object *details;
	bool open_row;	 /* a session row opened (for j.sid): its id, in opened_id, for done() */
	char *opened_id;
	char *row_id;	 /* of a session row: refused added, then with close, closed */
	int refused;
	bool close;
	char *rows;	 /* touch: "{...}" of live rows */
};

static void write_work(struct job *j)
{
	struct write_job *w = (struct write_job *)j;
	struct arena *a = arena_new();
	if (!a)
		return;
	const char *id = NULL;
	if (w->open_row && relay_session_open(a, w->user_id, relay_conf.relay_id, &id) == DB_OK && id)
		w->opened_id = strdup(id);
	struct actor who = {w->user_id, w->ip, w->user_agent};
	if (w->action && audit_record(a, &who, w->action, "mqtt", w->details) != DB_OK)
		log_msg(LOG_WARN, "audit %s of user %s not recorded", w->action, w->user_id);
	w->details = NULL; /* audit_record took it */
	if (w->row_id && w->refused)
		relay_session_refused(a, w->row_id, w->refused);
	if (w->row_id && w->close)
		relay_session_close(a, w->row_id);
	if (w->rows)
		relay_sessions_touch(a, w->rows);
	arena_free(a);
}

static struct write_job *write_job(void);

/* The row's id goes to its session; a session gone meanwhile had nothing to close, so
 * its row is closed here. */
static void write_done(struct job *j)
{
	struct write_job *w = (struct write_job *)j;
	struct session *s = w->opened_id ? session_find(j->sid) : NULL;
	if (s && !s->row_id) {
		s->row_id = w->opened_id;
		w->opened_id = NULL;
	} else if (w->opened_id) {
		struct write_job *c = write_job();
		if (c) {
			c->row_id = w->opened_id, c->close = true;
			w->opened_id = NULL;
			offload_post(&c->j);
		}
	}
	char *strs[] = {w->user_id, w->ip, w->user_agent, w->row_id, w->rows, w->opened_id};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	if (w->details)
		json_object_put(w->details);
	free(w);
}

static struct write_job *write_job(void)
{
	struct write_job *w = calloc(1, sizeof(*w));
	if (w)
		w->j = (struct job){.work = write_work, .done = write_done};
	return w;
}

static void audit(struct session *s, const char *action, struct json_object *details, bool open_row)
{
	struct write_job *w = write_job();
	if (!w) {
		json_object_put(details);
		return;
	}
	w->user_id = dup_or_null(s->user_id), w->ip = dup_or_null(s->ip), w->user_agent = dup_or_null(s->user_agent);
	w->action = action, w->details = details;
	w->open_row = open_row, w->j.sid = s->id;
	offload_post(&w->j);
}

void store_session_opened(struct session *s)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "broker_url", json_object_new_string(s->broker_url));
	json_object_object_add(d, "topic_prefix", json_object_new_string(s->prefix));
	audit(s, "integration.relay_opened", d, true); /* done() sets s->row_id */
}

/* The refusals not yet counted in the session's row; with close, the row closed. Without
 * a row id yet (its opening still on the thread) they wait for the next flush. */
static void flush_refused(struct session *s, bool close)
{
	if (!s->row_id || (!s->refused_unsaved && !close))
		return;
	struct write_job *w = write_job();
	if (!w || !(w->row_id = strdup(s->row_id))) {
		free(w);
		return;
	}
	w->refused = (int)s->refused_unsaved;
	w->close = close;
	s->refused_unsaved = 0;
	offload_post(&w->j);
}

void store_session_closed(struct session *s)
{
	flush_refused(s, true);
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
	audit(s, "integration.relay_refused", d, false);
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

/* Sessions whose user no longer has an enabled MQTT integration are closed: the query
 * on the worker thread, the closes in the loop, only for the users asked about (a session
 * opened meanwhile waits for the next check). One check in flight at a time. */
struct check_job {
	struct job j;
	struct arena *a;
	char *users;
	PGresult *res; /* NULL when the query failed */
};
static bool check_in_flight;

static void check_work(struct job *j)
{
	struct check_job *c = (struct check_job *)j;
	if (relay_users_enabled(c->a, c->users, &c->res) != DB_OK)
		c->res = NULL;
}

static void check_done(struct job *j)
{
	struct check_job *c = (struct check_job *)j;
	check_in_flight = false;
	for (struct session *s = sessions_head(), *next; c->res && s; s = next) {
		next = s->next;
		if (s->cstate != C_WS || s->closing || !s->user_id || !strstr(c->users, s->user_id))
			continue;
		bool ok = false;
		for (int r = 0; r < PQntuples(c->res) && !ok; r++)
			ok = !strcmp(PQgetvalue(c->res, r, 0), s->user_id);
		if (!ok)
			session_close(s, 1008, "the MQTT integration was deleted or disabled");
	}
	arena_free(c->a);
	free(c);
}

static void check_enabled(void)
{
	struct check_job *c = check_in_flight ? NULL : calloc(1, sizeof(*c));
	if (!c)
		return;
	c->a = arena_new();
	c->users = c->a ? array_of(c->a, false) : NULL;
	if (!c->users) {
		arena_free(c->a);
		free(c);
		return;
	}
	c->j = (struct job){.work = check_work, .done = check_done};
	check_in_flight = true;
	offload_post(&c->j);
}

void store_tick(void)
{
	static long long last_check, last_touch;
	long long now = now_ms();
	if (now - last_check < 1000)
		return;
	last_check = now;
	check_enabled();
	if (now - last_touch < 10000)
		return;
	last_touch = now;
	struct arena *a = arena_new();
	char *rows = a ? array_of(a, true) : NULL;
	struct write_job *w = rows ? write_job() : NULL;
	if (w && (w->rows = strdup(rows)))
		offload_post(&w->j);
	else
		free(w);
	arena_free(a);
	for (struct session *s = sessions_head(); s; s = s->next)
		flush_refused(s, false);
}
