/* api_request_logs: writing after the response, pruning; see apilog.h. */
#include "http/apilog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/redact.h"
#include "core/validate.h"
#include "db/db.h"
#include "http/form.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/router.h"

/* The query parameters as compact JSON text {name: value} (a name given more than once:
 * [values]), secrets redacted, values capped; NULL when there are none. */
static const char *query_json(struct request *rq)
{
	if (rq->nquery == 0)
		return NULL;
	struct json_object *o = json_object_new_object();
	for (size_t i = 0; i < rq->nquery; i++) {
		const char *name = rq->query[i].name, *v = rq->query[i].value ? rq->query[i].value : "";
		if (!name || strlen(name) > REDACT_VALUE_MAX)
			continue;
		/* jsonb takes only UTF-8: a decoded %FF would lose the whole row. */
		name = utf8_sanitize(rq->arena, name, strlen(name));
		size_t vlen = strnlen(v, REDACT_VALUE_MAX);
		struct json_object *val = json_object_new_string(
			redact_is_secret_name(name) ? REDACTED : utf8_sanitize(rq->arena, v, vlen));
		struct json_object *prev = NULL;
		if (!json_object_object_get_ex(o, name, &prev)) {
			json_object_object_add(o, name, val);
			continue;
		}
		if (!json_object_is_type(prev, json_type_array)) {
			struct json_object *arr = json_object_new_array();
			json_object_array_add(arr, json_object_get(prev));
			json_object_object_add(o, name, arr);
			prev = arr;
		}
		json_object_array_add(prev, val);
	}
	const char *text = arena_strdup(rq->arena, json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

/* What is kept of the body (see redact_body): JSON and form bodies redacted and capped,
 * a note for other media types. */
static const char *body_text(struct request *rq, bool *truncated)
{
	*truncated = false;
	if (!rq->body || rq->body_len == 0)
		return NULL;
	if (request_is_json(rq) || form_is_form(rq))
		return redact_body(rq->arena, rq->body, rq->body_len, request_is_json(rq), REDACT_BODY_MAX, truncated);
	const char *type = request_header(rq, "content-type");
	char *media = arena_strndup(rq->arena, type ? type : "an unnamed type", 64);
	media[strcspn(media, "; \t")] = '\0';
	for (char *c = media; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
	return redact_body_note(rq->arena, rq->body_len, media);
}

/* Now, as timestamptz text with microseconds: the row's created_at. */
static const char *answered_at(struct arena *a)
{
	struct timespec ts;
	struct tm tm;
	char day[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	return arena_printf(a, "%s.%06ldZ", day, ts.tv_nsec / 1000);
}

void api_request_log_write(struct request *rq, double ms)
{
	if (rq->auth_kind != AUTH_API_KEY && rq->auth_kind != AUTH_OAUTH_TOKEN && rq->auth_kind != AUTH_OAUTH_CLIENT)
		return;
	char status[16], msbuf[32];
	snprintf(status, sizeof(status), "%d", rq->status);
	snprintf(msbuf, sizeof(msbuf), "%.3f", ms);
	const char *ua = request_header(rq, "user-agent");
	/* An address that is not one (a unix-socket peer) is stored as NULL, not refused. */
	const char *p[APILOG_COLS] = {
		rq->auth_kind == AUTH_API_KEY ? rq->api_key_id : NULL,
		rq->auth_kind == AUTH_API_KEY ? NULL : rq->client_id,
		rq->user_id,
		rq->method,
		rq->path ? arena_strndup(rq->arena, rq->path, 2048) : "",
		status,
		msbuf,
		rq->remote_addr,
		ua ? arena_strndup(rq->arena, ua, 512) : NULL,
		rq->route ? rq->route->pattern : NULL,
		query_json(rq),
		NULL,
		NULL,
		NULL,
	};
	bool truncated;
	p[11] = body_text(rq, &truncated);
	p[12] = truncated ? "true" : "false";
	p[13] = answered_at(rq->arena);
	api_request_log_add(p);
}

int api_request_logs_prune(struct arena *a, long retention_days)
{
	if (retention_days < 1)
		retention_days = 1;
	char days[24], window[24];
	snprintf(days, sizeof(days), "%ld", retention_days);
	snprintf(window, sizeof(window), "%ld", ratelimit_window());
	const char *p[] = {days};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res,
		"WITH d AS (DELETE FROM api_request_logs WHERE created_at < now() - make_interval(days => $1::int) "
		"RETURNING 1) SELECT count(*) FROM d",
		1, p);
	if (s != DB_OK)
		return -1;
	int deleted = atoi(PQgetvalue(res, 0, 0));
	const char *wp[] = {window};
	s = db_exec(a, NULL,
		    "DELETE FROM rate_limit_counters WHERE window_start < now() - make_interval(secs => 2 * $1::int)",
		    1, wp);
	return s == DB_OK ? deleted : -1;
}
