/* ThingsBoard specifics shared by thingsboard.c (config, view, health, the REST calls)
 * and thingsboard_ops.c (the live view and the rpc and attributes actions).
 *
 * The REST API as ThingsBoard documents it (thingsboard.io/docs/reference/rest-api/):
 * POST /api/auth/login {username, password} -> {token, refreshToken}; every other call
 * carries "X-Authorization: Bearer <token>"; errors are {status, message, errorCode,
 * timestamp} (401 {"status":401,"message":"Authentication failed","errorCode":10,...}). */
#ifndef SB_PROVIDER_THINGSBOARD_H
#define SB_PROVIDER_THINGSBOARD_H

#include <stdbool.h>

#include "core/validate.h"

struct arena;
struct integration;
struct json_object;
struct provider;
struct provider_call;
struct provider_result;

enum tb_outcome {
	TB_OK,		/* 2xx */
	TB_AUTH,	/* 401: the username or password (or the session) was refused */
	TB_REJECTED,	/* another 4xx */
	TB_UNREACHABLE, /* no answer (refused, DNS, TLS, guard), a 5xx or an unreadable answer */
	TB_TIMEOUT,	/* no answer in time */
	TB_LIMITED,	/* the server asked us to wait (429), retry_at set */
	TB_SECRET,	/* the stored password could not be opened */
};

struct tb_reply {
	enum tb_outcome outcome;
	long status;		 /* HTTP status, 0 without an answer */
	struct json_object *json; /* the answer's JSON (arena-owned) or NULL */
	const char *reason;	 /* for anything but TB_OK; never holds a credential */
	bool blocked;		 /* the private-address guard refused the server */
	long retry_at;
};

/* A logged-in session: the JWT lives only in the request's memory, never stored. */
struct tb_session {
	const char *server;
	const char *token;
	const char *caller; /* "thingsboard:<user id>": the outbound limit's caller (outbound.h) */
};

/* POST /api/auth/login with the row's username and sealed password. 0 or -1 with *r. */
int tb_login(struct arena *a, const struct integration *row, struct tb_session *s, struct tb_reply *r);
/* One authorised call: method NULL is GET; body JSON text or NULL. */
void tb_call(struct arena *a, const struct tb_session *s, const char *method, const char *path, const char *body,
	     struct tb_reply *r);
/* The failed reply as the operation's result (502/504/429, the reason in the message). */
int tb_fail(const struct tb_reply *b, struct provider_result *r);

/* thingsboard_ops.c */
/* Readers of ThingsBoard's answers (any JSON, NULL included; tests/fuzz/fuzz_thingsboard.c):
 * {key: {value, ts}} of a .../values/timeseries answer (a new object, never NULL); a
 * device entry {id, name, type, label, active, last_activity_at, telemetry, error} of a
 * DeviceInfo (a new object); active and last_activity_at set on d from an
 * .../values/attributes answer [{key, value, lastUpdateTs}]. */
struct json_object *tb_telemetry(struct arena *a, struct json_object *j);
struct json_object *tb_device_entry(struct json_object *info);
void tb_server_attributes(struct arena *a, struct json_object *list, struct json_object *d);
int tb_get(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int tb_rpc(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int tb_attributes(const struct provider_call *c, const struct provider *p, struct provider_result *r);
extern const struct field tb_rpc_fields[];
extern const struct field tb_attr_fields[];

#endif
