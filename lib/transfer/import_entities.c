/* The import entities. webhooks: rows become webhooks through the rules of the webhooks
 * API (its bounds; the receiver URL rules of webhook_url_check; event names by
 * events_type_valid) with a fresh signing secret sealed like POST /webhooks seals it.
 * blynk_devices: rows become devices of the user's Blynk integration through the Blynk
 * provider's own validate / validate_saved / config_build, so tokens are sealed with
 * the provider's associated data. */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/events.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "transfer/entity.h"
#include "webhooks/webhook.h"
#include "webhooks/webhook_options.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

const char *import_cell_value(const struct field *f, const char *cell, struct json_object **out)
{
	*out = NULL;
	if (!cell || !*cell)
		return NULL;
	switch (f->type) {
	case FIELD_INT: {
		char *end;
		long long v = strtoll(cell, &end, 10);
		if (*end || end == cell)
			return "must be a whole number";
		*out = json_object_new_int64(v);
		return NULL;
	}
	case FIELD_BOOL:
		if (!strcasecmp(cell, "true") || !strcmp(cell, "1") || !strcasecmp(cell, "yes"))
			*out = json_object_new_boolean(1);
		else if (!strcasecmp(cell, "false") || !strcmp(cell, "0") || !strcasecmp(cell, "no"))
			*out = json_object_new_boolean(0);
		else
			return "must be true or false";
		return NULL;
	case FIELD_OBJECT:
		*out = json_tokener_parse(cell);
		if (!json_object_is_type(*out, json_type_object)) {
			json_object_put(*out);
			*out = NULL;
			return "must be a JSON object such as {\"X-Env\": \"prod\"}";
		}
		return NULL;
	case FIELD_ARRAY: {
		if (cell[strspn(cell, " ")] == '[') {
			*out = json_tokener_parse(cell);
			if (json_object_is_type(*out, json_type_array))
				return NULL;
			json_object_put(*out);
			*out = NULL;
			return "must be words separated by spaces or commas, or a JSON array";
		}
		struct json_object *arr = json_object_new_array();
		const char *p = cell;
		while (*p) {
			size_t skip = strspn(p, " ,");
			p += skip;
			size_t n = strcspn(p, " ,");
			if (n)
				json_object_array_add(arr, json_object_new_string_len(p, (int)n));
			p += n;
		}
		*out = arr;
		return NULL;
	}
	default:
		*out = json_object_new_string(cell);
		return NULL;
	}
}

/* --- webhooks ------------------------------------------------------------------------ */

static const char *check_events(struct json_object *v)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(v, i));
		size_t n = strlen(s);
		if (!strcmp(s, "*"))
			continue;
		if (n > 2 && n < 120 && !strcmp(s + n - 2, ".*")) {
			char prefix[128];
			memcpy(prefix, s, n - 2);
			prefix[n - 2] = '\0';
			if (events_type_valid(prefix))
				continue;
		} else if (events_type_valid(s)) {
			continue;
		}
		return "must hold event types like \"integration.connected\", prefix wildcards like \"integration.*\", "
		       "or \"*\"";
	}
	return NULL;
}

static const char *check_format(struct json_object *v)
{
	const char *f = json_object_get_string(v);
	return !strcmp(f, "standard") || !strcmp(f, "envelope") ? NULL : "must be standard or envelope";
}

static const char *check_not_blank_text(struct json_object *v)
{
	return check_not_blank(v);
}

/* The bounds of POST /webhooks (cgi-bin/webhooks/crud.c: webhook_create_fields). */
static const struct field webhook_fields[] = {
	{"name", FIELD_STRING, true, 1, 100, check_not_blank_text},
	{"url", FIELD_STRING, true, 1, 2048, NULL},
	{"events", FIELD_ARRAY, true, 1, 50, check_events},
	{"retry_count", FIELD_INT, false, 0, 10, NULL},
	{"timeout_seconds", FIELD_INT, false, 1, 60, NULL},
	{"is_active", FIELD_BOOL, false, 0, 0, NULL},
	{"payload_format", FIELD_STRING, false, 1, 20, check_format},
	{"include_fields", FIELD_ARRAY, false, 0, WEBHOOK_MAX_POINTERS, webhook_pointers_check},
	{"exclude_fields", FIELD_ARRAY, false, 0, WEBHOOK_MAX_POINTERS, webhook_pointers_check},
	{"headers", FIELD_OBJECT, false, 0, 0, webhook_headers_check},
	{"allowed_ips", FIELD_ARRAY, false, 0, WEBHOOK_MAX_ALLOWED_IPS, webhook_allowed_ips_check},
	{"disable_after_failures", FIELD_INT, false, 0, 10000, NULL},
	{"disable_after_days", FIELD_INT, false, 0, 365, NULL},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const webhook_examples[] = {"Orders to ERP",
					       "https://erp.example.com/hooks/switchboard",
					       "integration.* webhook.test",
					       "3",
					       "30",
					       "true",
					       "standard",
					       "[\"/provider\", \"/status\"]",
					       "[]",
					       "{\"X-Env\": \"prod\"}",
					       "203.0.113.0/24 2001:db8::/32",
					       "100",
					       "3"};
/* Columns of the webhooks export that an import accepts and ignores, so an export file
 * imports as it is (a new id and secret; the state is not carried). */
static const char *const webhook_ignored[] = {"id", "disabled_reason", "created_at", "updated_at", NULL};
static const char *const webhook_rules[] = {
	"required; 1 to 100 characters",
	"required; an https:// URL (http:// where the operator allows it) of a public host, no credentials",
	("required; 1 to 50 event types separated by spaces or commas: a type (integration.connected), a prefix "
	 "wildcard (integration.*) or *"),
	"optional; retries after the first attempt, 0 to 10 (default 3)",
	"optional; seconds per attempt, 1 to 60 (default 30)",
	"optional; true or false (default true)",
	"optional; standard ({type, timestamp, data}) or envelope ({id, event, created_at, data}); default standard",
	"optional; JSON pointers kept of data, as a JSON array or separated by spaces; at most 20",
	"optional; JSON pointers removed from data, as a JSON array or separated by spaces; at most 20",
	("optional; a JSON object of static headers (at most 10; not webhook-*, content-type, host, user-agent or "
	 "hop-by-hop; no CR/LF)"),
	"optional; networks (CIDR) the receiver's address must be in, separated by spaces; at most 20",
	"optional; consecutive failed attempts that disable the webhook, 0 (never) to 10000; empty: the default",
	"optional; days of failures that disable the webhook, 0 (never) to 365; empty: the default",
};

static void webhook_row_check(struct arena *a, const char *user_id, struct json_object *row, struct json_object *errors)
{
	(void)user_id;
	struct json_object *ignored;
	const char *url = jsonx_get_string(row, "url");
	if (url && !json_object_object_get_ex(errors, "url", &ignored)) {
		const char *msg = webhook_url_check(a, url);
		if (msg)
			json_object_object_add(errors, "url", json_object_new_string(msg));
	}
}

/* Appends s to a PostgreSQL array literal element, quoted and escaped. */
static char *array_add(struct arena *a, char *lit, bool first, const char *s)
{
	if (!s)
		return arena_printf(a, "%s%sNULL", lit, first ? "" : ",");
	size_t n = strlen(s), k = 0;
	char *q = arena_alloc(a, 2 * n + 3);
	q[k++] = '"';
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\')
			q[k++] = '\\';
		q[k++] = s[i];
	}
	q[k++] = '"';
	q[k] = '\0';
	return arena_printf(a, "%s%s%s", lit, first ? "" : ",", q);
}

/* A growing array literal without quadratic copying for big batches. */
struct lit {
	char *buf;
	size_t len, cap;
};

static void lit_add(struct arena *a, struct lit *l, const char *s)
{
	const char *piece = array_add(a, "", l->len <= 1, s);
	size_t n = strlen(piece);
	if (l->len + n + 2 > l->cap) {
		size_t cap = (l->len + n + 2) * 2;
		char *b = arena_alloc(a, cap);
		memcpy(b, l->buf, l->len);
		l->buf = b;
		l->cap = cap;
	}
	memcpy(l->buf + l->len, piece, n);
	l->len += n;
	l->buf[l->len] = '\0';
}

static void lit_init(struct arena *a, struct lit *l)
{
	l->cap = 256;
	l->buf = arena_alloc(a, l->cap);
	l->buf[0] = '{';
	l->len = 1;
}

static const char *lit_end(struct arena *a, struct lit *l)
{
	return arena_printf(a, "%s}", l->buf);
}

/* The member name of row as SQL parameter text: JSON text for arrays and objects, the
 * value's text otherwise; NULL when absent (the column's default). */
static const char *row_text(struct json_object *row, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(row, name, &v) || !v)
		return NULL;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? "true" : "false";
	if (json_object_is_type(v, json_type_array) || json_object_is_type(v, json_type_object))
		return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	return json_object_get_string(v);
}

/* The row members stored as they are, in the order of the INSERT's $7.. arrays. */
static const char *const webhook_plain[] = {"retry_count",    "timeout_seconds", "is_active",
					    "payload_format", "include_fields",	 "exclude_fields",
					    "headers",	      "allowed_ips",	 "disable_after_failures",
					    "disable_after_days"};
#define WEBHOOK_PLAIN N(webhook_plain)

static enum db_status webhook_store(struct arena *a, const char *user_id, void *state, const struct import_batch *b)
{
	(void)state;
	struct lit ids, names, urls, events, secrets, plain[WEBHOOK_PLAIN];
	struct lit *all[] = {&ids, &names, &urls, &events, &secrets};
	for (size_t i = 0; i < N(all); i++)
		lit_init(a, all[i]);
	for (size_t i = 0; i < WEBHOOK_PLAIN; i++)
		lit_init(a, &plain[i]);
	for (size_t r = 0; r < b->n; r++) {
		struct json_object *row = b->rows[r], *v;
		char *id = crypto_uuid(a), *secret = webhook_secret_new(a), *sealed;
		if (!id || !secret || crypto_seal(a, secret, strlen(secret), webhook_secret_aad(a, id), &sealed))
			return DB_ERROR;
		lit_add(a, &ids, id);
		lit_add(a, &names, jsonx_get_string(row, "name"));
		lit_add(a, &urls, jsonx_get_string(row, "url"));
		char *ev = "{";
		json_object_object_get_ex(row, "events", &v);
		for (size_t i = 0; i < json_object_array_length(v); i++)
			ev = array_add(a, ev, i == 0, json_object_get_string(json_object_array_get_idx(v, i)));
		lit_add(a, &events, arena_printf(a, "%s}", ev));
		lit_add(a, &secrets, sealed);
		for (size_t i = 0; i < WEBHOOK_PLAIN; i++)
			lit_add(a, &plain[i], row_text(row, webhook_plain[i]));
	}
	const char *p[5 + WEBHOOK_PLAIN + 1] = {user_id};
	for (size_t i = 0; i < N(all); i++)
		p[1 + i] = lit_end(a, all[i]);
	for (size_t i = 0; i < WEBHOOK_PLAIN; i++)
		p[1 + N(all) + i] = lit_end(a, &plain[i]);
	return db_exec(
		a, NULL,
		"INSERT INTO webhooks (id, user_id, name, url, events, secret, retry_count, timeout_seconds, "
		"is_active, payload_format, include_fields, exclude_fields, custom_headers, allowed_ips, "
		"disable_after_failures, disable_after_days) "
		"SELECT i, $1, n, u, e::text[], s, coalesce(r, 3), coalesce(t, 30), coalesce(x, true), "
		"coalesce(pf, 'standard'), coalesce(inc, '[]'), coalesce(exc, '[]'), coalesce(hd, '{}'), "
		"coalesce(ips, '[]'), daf, dad "
		"FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::int[], "
		"$9::boolean[], $10::text[], $11::jsonb[], $12::jsonb[], $13::jsonb[], $14::jsonb[], $15::int[], "
		"$16::int[]) AS w(i, n, u, e, s, r, t, x, pf, inc, exc, hd, ips, daf, dad)",
		(int)(1 + N(all) + WEBHOOK_PLAIN), p);
}

/* --- Blynk devices ------------------------------------------------------------------- */

static const struct field blynk_fields[] = {
	{"device_name", FIELD_STRING, true, 1, 100, NULL},
	{"auth_token", FIELD_STRING, true, 16, 64, NULL},
	{NULL, 0, false, 0, 0, NULL},
};
static const char *const blynk_examples[] = {"greenhouse-1", "Xy7_kdLq0Zr3bN8vTu2wQe5aPs9mHj4c"};
static const char *const blynk_rules[] = {
	("required; 1 to 100 characters, no control characters, no leading or trailing space; unique among your "
	 "Blynk devices"),
	"required; the device's auth token, 16 to 64 letters, digits, - or _ (stored encrypted, never shown)",
};

struct blynk_state {
	struct integration prev;
	bool found;
	struct json_object *names; /* existing and accepted names: {name: true} */
	struct json_object *added; /* [{name, auth_token}] */
	int count;
};

static const struct provider *blynk(void)
{
	return provider_find("blynk");
}

static void blynk_row_check(struct arena *a, const char *user_id, struct json_object *row, struct json_object *errors)
{
	(void)a;
	(void)user_id;
	const struct provider *p = blynk();
	if (!p || !p->validate)
		return;
	struct json_object *body = json_object_new_object(), *list = json_object_new_array(),
			   *d = json_object_new_object(), *e = json_object_new_object();
	json_object_object_add(d, "name", json_object_new_string(jsonx_get_string(row, "device_name")));
	json_object_object_add(d, "auth_token", json_object_new_string(jsonx_get_string(row, "auth_token")));
	json_object_array_add(list, d);
	json_object_object_add(body, "devices", list);
	p->validate(body, e);
	json_object_object_foreach(e, key, val)
	{
		const char *col = strstr(key, ".auth_token") ? "auth_token" : "device_name";
		struct json_object *ignored;
		if (!json_object_object_get_ex(errors, col, &ignored))
			json_object_object_add(errors, col, json_object_get(val));
	}
	json_object_put(e);
	json_object_put(body);
}

static enum db_status blynk_begin(struct arena *a, const char *user_id, void **state)
{
	struct blynk_state *s = arena_alloc(a, sizeof(*s));
	s->names = arena_defer(a, jsonx_put, json_object_new_object());
	s->added = arena_defer(a, jsonx_put, json_object_new_array());
	*state = s;
	enum db_status st = integration_load(a, user_id, "blynk", true, &s->prev, &s->found);
	if (st != DB_OK || !s->found)
		return st;
	struct json_object *devices;
	if (json_object_object_get_ex(s->prev.config, "devices", &devices) &&
	    json_object_is_type(devices, json_type_array))
		for (size_t i = 0; i < json_object_array_length(devices); i++) {
			const char *n = jsonx_get_string(json_object_array_get_idx(devices, i), "name");
			if (n) {
				json_object_object_add(s->names, n, json_object_new_boolean(1));
				s->count++;
			}
		}
	return DB_OK;
}

#define BLYNK_MAX_DEVICES 50 /* the provider's field table: devices 1..50 */

static void blynk_cross_check(struct arena *a, void *state, struct json_object *row, struct json_object *errors)
{
	(void)a;
	struct blynk_state *s = state;
	const char *name = jsonx_get_string(row, "device_name");
	struct json_object *ignored;
	if (json_object_object_get_ex(s->names, name, &ignored)) {
		json_object_object_add(errors, "device_name",
				       json_object_new_string("is the name of another of your Blynk devices"));
		return;
	}
	if (s->count >= BLYNK_MAX_DEVICES) {
		json_object_object_add(errors, "device_name",
				       json_object_new_string("is one device too many: a Blynk integration holds at "
							      "most 50 devices"));
		return;
	}
	json_object_object_add(s->names, name, json_object_new_boolean(1));
	s->count++;
}

static enum db_status blynk_store(struct arena *a, const char *user_id, void *state, const struct import_batch *b)
{
	(void)a;
	(void)user_id;
	struct blynk_state *s = state;
	for (size_t r = 0; r < b->n; r++) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "name", json_object_new_string(jsonx_get_string(b->rows[r], "device_name")));
		json_object_object_add(d, "auth_token",
				       json_object_new_string(jsonx_get_string(b->rows[r], "auth_token")));
		json_object_array_add(s->added, d);
	}
	return DB_OK;
}

/* One save of the integration with every device, through the provider's own rules. */
static enum db_status blynk_finish(struct arena *a, const char *user_id, void *state)
{
	struct blynk_state *s = state;
	const struct provider *p = blynk();
	if (!p || json_object_array_length(s->added) == 0)
		return p ? DB_OK : DB_ERROR;
	struct json_object *body = arena_defer(a, jsonx_put, json_object_new_object()), *list = json_object_new_array(),
			   *devices;
	if (s->found && jsonx_get_string(s->prev.config, "server_url"))
		json_object_object_add(body, "server_url",
				       json_object_new_string(jsonx_get_string(s->prev.config, "server_url")));
	if (s->found && json_object_object_get_ex(s->prev.config, "devices", &devices))
		for (size_t i = 0; i < json_object_array_length(devices); i++) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "name",
					       json_object_new_string(jsonx_get_string(
						       json_object_array_get_idx(devices, i), "name")));
			json_object_array_add(list, d); /* no token: the stored one is kept */
		}
	for (size_t i = 0; i < json_object_array_length(s->added); i++)
		json_object_array_add(list, json_object_get(json_object_array_get_idx(s->added, i)));
	json_object_object_add(body, "devices", list);
	struct json_object *errors = NULL;
	if (validate_object(body, p->config_fields, &errors)) {
		json_object_put(errors);
		return DB_INVALID;
	}
	errors = arena_defer(a, jsonx_put, json_object_new_object());
	if (p->validate)
		p->validate(body, errors);
	if (p->validate_saved)
		p->validate_saved(body, s->found ? &s->prev : NULL, errors);
	if (json_object_object_length(errors))
		return DB_INVALID;
	struct json_object *config;
	if (p->config_build(a, user_id, body, s->found ? &s->prev : NULL, &config))
		return DB_ERROR;
	struct integration out;
	return integration_upsert_config(a, user_id, "blynk", s->found ? s->prev.enabled : true, config,
					 s->found && s->prev.status ? s->prev.status : "pending", &out);
}

static const struct import_entity entities[] = {
	{"webhooks", webhook_fields, webhook_examples, webhook_rules, webhook_row_check, NULL, NULL, webhook_store, NULL,
	 webhook_ignored},
	{"blynk_devices", blynk_fields, blynk_examples, blynk_rules, blynk_row_check, blynk_begin, blynk_cross_check,
	 blynk_store, blynk_finish},
};

const struct import_entity *import_entity_find(const char *name)
{
	for (size_t i = 0; name && i < N(entities); i++)
		if (!strcmp(entities[i].name, name))
			return &entities[i];
	return NULL;
}

const struct import_entity *import_entities(size_t *n)
{
	*n = N(entities);
	return entities;
}

size_t import_entity_ncolumns(const struct import_entity *e)
{
	size_t n = 0;
	while (e->fields[n].name)
		n++;
	return n;
}
