/* The HTTP side of a session: the upgrade request nginx forwards (RFC 6455 §4.2), its
 * ticket consumed once, the user's saved integration loaded, then 101 with subprotocol
 * mqtt, or a JSON error envelope (401 for a wrong, used or expired ticket) before any
 * upgrade. */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"
#include "integrations/relay_store.h"
#include "mqtt/ws_client.h"
#include "relay.h"

int session_ws_init(struct session *s);
struct session *sessions_head(void);

struct request {
	char *method, *target;
	const char *upgrade, *connection, *key, *version, *protocol, *real_ip, *user_agent;
};

/* Splits the request head in place (s->http is NUL-terminated by the caller). */
static int parse(char *head, struct request *r)
{
	memset(r, 0, sizeof(*r));
	char *save = NULL, *line = strtok_r(head, "\r\n", &save);
	if (!line)
		return -1;
	char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || strncmp(sp2 + 1, "HTTP/1.1", 8))
		return -1;
	*sp1 = *sp2 = 0;
	r->method = line;
	r->target = sp1 + 1;
	static const char *const names[] = {"upgrade",		   "connection",	     "sec-websocket-key",
					    "sec-websocket-version", "sec-websocket-protocol", "x-real-ip",
					    "user-agent"};
	const char **slots[] = {&r->upgrade,  &r->connection, &r->key,	      &r->version,
				&r->protocol, &r->real_ip,    &r->user_agent};
	while ((line = strtok_r(NULL, "\r\n", &save))) {
		char *colon = strchr(line, ':');
		if (!colon)
			return -1;
		*colon = 0;
		char *v = colon + 1;
		v += strspn(v, " \t");
		for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcasecmp(line, names[i]))
				*slots[i] = v;
	}
	return 0;
}

/* True when the comma-separated list has the token (case-insensitive). */
static bool has_token(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; p && *p;) {
		p += strspn(p, " \t,");
		size_t len = strcspn(p, ",");
		size_t l = len;
		while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		if (l == n && !strncasecmp(p, token, n))
			return true;
		p += len;
	}
	return false;
}

static void answer(struct session *s, int status, const char *reason, const char *code, const char *message,
		   const char *extra)
{
	char body[512], out[1024];
	int bn = snprintf(body, sizeof(body), "{\"success\":false,\"error\":{\"code\":\"%s\",\"message\":\"%s\"}}",
			  code, message);
	int n = snprintf(out, sizeof(out),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
			 "Cache-Control: no-store\r\nConnection: close\r\n%s\r\n%s",
			 status, reason, bn, extra ? extra : "", body);
	if (n > 0 && send(s->cfd, out, (size_t)n, MSG_NOSIGNAL) < 0)
		log_msg(LOG_WARN, "could not answer %d to a relay request", status);
}

/* The ticket of ?ticket=... (a base64url text: nothing to decode). */
static const char *query_ticket(char *target)
{
	char *q = strchr(target, '?');
	if (!q)
		return NULL;
	*q++ = 0;
	for (char *save = NULL, *kv = strtok_r(q, "&", &save); kv; kv = strtok_r(NULL, "&", &save))
		if (!strncmp(kv, "ticket=", 7))
			return kv + 7;
	return NULL;
}

/* The request's form: 0, or -1 after an error answer. */
static int check_request(struct session *s, struct request *r, char accept[29])
{
	if (strcmp(r->method, "GET")) {
		answer(s, 405, "Method Not Allowed", "method_not_allowed", "Open it as a WebSocket (GET)", "Allow: GET\r\n");
		return -1;
	}
	if (strcmp(r->target, MQTT_RELAY_WS_PATH)) {
		answer(s, 404, "Not Found", "not_found", "No such route", NULL);
		return -1;
	}
	if (!r->upgrade || !has_token(r->upgrade, "websocket") || !r->connection ||
	    !has_token(r->connection, "upgrade") || !r->key || ws_accept_of(r->key, accept)) {
		answer(s, 400, "Bad Request", "bad_request", "A WebSocket upgrade request is expected", NULL);
		return -1;
	}
	if (!r->version || strcmp(r->version, "13")) {
		answer(s, 426, "Upgrade Required", "bad_request", "WebSocket version 13 is required",
		       "Sec-WebSocket-Version: 13\r\n");
		return -1;
	}
	if (!r->protocol || !has_token(r->protocol, "mqtt")) {
		answer(s, 400, "Bad Request", "bad_request", "The WebSocket subprotocol mqtt is required", NULL);
		return -1;
	}
	return 0;
}

static unsigned user_sessions(const char *user_id)
{
	unsigned n = 0;
	for (struct session *o = sessions_head(); o; o = o->next)
		if (o->cstate == C_WS && !o->closing && o->user_id && !strcmp(o->user_id, user_id))
			n++;
	return n;
}

/* Opening a session off the loop: the ticket consumed, the saved integration loaded and
 * opened, the broker's name resolved, on the worker thread (offload.c) with the job's own
 * copies; then, in the loop, the answer, if the session is still there (found by id). */
struct open_job {
	struct job j;
	char *ticket, *user_id;
	char accept[29];
	enum db_status ticket_st;
	int status;
	const char *code, *why;
	struct saved v;
	struct addrinfo *res;
};

static void open_work(struct job *j)
{
	struct open_job *o = (struct open_job *)j;
	struct arena *a = arena_new();
	const char *user = NULL;
	o->ticket_st = a ? relay_ticket_consume(a, o->ticket, &user) : DB_ERROR;
	if (o->ticket_st == DB_OK && user)
		o->user_id = strdup(user);
	arena_free(a);
	if (o->ticket_st != DB_OK || !o->user_id)
		return;
	o->why = store_load_integration(o->user_id, &o->v, &o->status, &o->code);
	if (!o->why)
		o->res = broker_resolve(o->v.host, o->v.port);
}

static const char *const reasons[] = {[404] = "Not Found", [409] = "Conflict",
				      [500] = "Internal Server Error", [503] = "Service Unavailable"};

/* The outcome of open_work: an error answer, or 101 and the broker connection. */
static int open_answer(struct session *s, struct open_job *o)
{
	if (o->ticket_st != DB_OK) {
		answer(s, 503, "Service Unavailable", "service_unavailable", "The database is unreachable",
		       "Retry-After: 5\r\n");
		return -1;
	}
	if (!s->user_id) {
		answer(s, 401, "Unauthorized", "unauthorized",
		       "A valid ticket is required: POST /users/me/integrations/mqtt/ws-ticket (single use, 30 s)", NULL);
		return -1;
	}
	if (o->why) {
		answer(s, o->status, reasons[o->status] ? reasons[o->status] : "Error", o->code, o->why, NULL);
		return -1;
	}
	if (user_sessions(s->user_id) >= (unsigned)relay_conf.sessions_per_user) {
		answer(s, 429, "Too Many Requests", "rate_limited", "As many relay sessions open as allowed",
		       "Retry-After: 5\r\n");
		return -1;
	}
	char out[256];
	int n = snprintf(out, sizeof(out),
			 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Accept: %s\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
			 o->accept);
	if (send(s->cfd, out, (size_t)n, MSG_NOSIGNAL) != n || session_ws_init(s))
		return -1;
	store_session_opened(s);
	const char *fail = broker_start(s, o->res);
	o->res = NULL;
	if (fail)
		session_close(s, 1011, fail);
	return 0;
}

static void open_done(struct job *j)
{
	struct open_job *o = (struct open_job *)j;
	struct session *s = session_find(j->sid);
	if (s && s->cstate == C_OPENING && !s->dead) {
		s->user_id = o->user_id;
		o->user_id = NULL;
		store_saved_move(s, &o->v);
		if (open_answer(s, o))
			s->dead = true;
		session_client_event(s, 0); /* frames that came with the request and interest, or the end */
	}
	if (o->res)
		freeaddrinfo(o->res);
	store_saved_free(&o->v);
	free(o->user_id);
	free(o->ticket);
	free(o);
}

void upgrade_unavailable(struct session *s, const char *why)
{
	answer(s, 503, "Service Unavailable", "service_unavailable", why, "Retry-After: 5\r\n");
	s->dead = true;
}

int upgrade_handle(struct session *s)
{
	if (buf_add(&s->http, "", 1, SIZE_MAX))
		return -1;
	struct request r;
	struct open_job *o = calloc(1, sizeof(*o));
	if (!o)
		return -1;
	if (parse((char *)s->http.d, &r)) {
		free(o);
		answer(s, 400, "Bad Request", "bad_request", "The request cannot be parsed", NULL);
		return -1;
	}
	const char *ticket = query_ticket(r.target);
	if (check_request(s, &r, o->accept)) {
		free(o);
		return -1;
	}
	o->ticket = ticket ? strndup(ticket, 200) : NULL;
	s->ip = r.real_ip ? strndup(r.real_ip, 64) : NULL;
	s->user_agent = r.user_agent ? strndup(r.user_agent, 256) : NULL;
	o->j = (struct job){.work = open_work, .done = open_done, .sid = s->id, .skip_at_stop = true};
	s->cstate = C_OPENING;
	offload_post(&o->j);
	return 0;
}
