/* Published events and the catalog; see event_store.h. */
#include "webhooks/event_store.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"

static const struct {
	const char *name, *description;
} builtin[] = {
	{"integration.connected", "An integration was connected or first configured"},
	{"integration.updated", "An integration's configuration or settings changed"},
	{"integration.disconnected", "An integration was removed"},
	{"integration.token_refreshed", "An integration's access token was refreshed"},
	{"integration.health_changed", "An integration's health status changed"},
	{"webhook.test", "A test event sent with POST /webhooks/{id}/test"},
	{"webhook.disabled", "Switchboard disabled a webhook whose deliveries kept failing (or that answered 410)"},
	{"export.completed", "An export job finished; its file can be downloaded"},
	{"export.failed", "An export job failed"},
	{"import.completed", "A CSV import finished (see its success and error counts)"},
	{"import.failed", "A CSV import wrote nothing because rows failed validation (all_or_nothing)"},
};

static struct json_object *type_view(const char *name, const char *description, const char *source)
{
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "name", json_object_new_string(name));
	json_object_object_add(t, "description", description ? json_object_new_string(description) : NULL);
	json_object_object_add(t, "source", json_object_new_string(source));
	return t;
}

enum db_status event_store_catalog(struct arena *a, const char *user_id, struct json_object **catalog)
{
	*catalog = NULL;
	const char *p[] = {user_id};
	PGresult *res;
	enum db_status s = db_exec(
		a, &res, "SELECT name, " SQL_RFC3339("first_seen") " FROM event_types WHERE user_id = $1 ORDER BY name",
		1, p);
	if (s != DB_OK)
		return s;
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		json_object_array_add(list, type_view(builtin[i].name, builtin[i].description, "builtin"));
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *t = type_view(PQgetvalue(res, i, 0), NULL, "published");
		json_object_object_add(t, "first_seen", json_object_new_string(PQgetvalue(res, i, 1)));
		json_object_array_add(list, t);
	}
	struct json_object *wild = json_object_new_array();
	json_object_array_add(wild, json_object_new_string("*"));
	json_object_array_add(wild, json_object_new_string("<prefix>.*"));
	*catalog = json_object_new_object();
	json_object_object_add(*catalog, "event_types", list);
	json_object_object_add(*catalog, "wildcards", wild);
	return DB_OK;
}

const char *event_store_type_check(const char *type)
{
	if (!events_type_valid(type))
		return "must be 1-100 characters of a-z, 0-9, '_', '-' in dot-separated words, like \"ticket.created\"";
	if (!strncmp(type, "integration.", 12) || !strncmp(type, "webhook.", 8))
		return "uses a reserved prefix (integration., webhook.)";
	return NULL;
}

enum db_status event_store_publish(struct arena *a, const char *user_id, const char *type, struct json_object *data,
				   const char *idempotency_key, struct event_published *out)
{
	return events_publish_cataloged(a, user_id, type, data, idempotency_key, out);
}
