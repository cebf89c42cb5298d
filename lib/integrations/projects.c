/* Projects read by integrations; see projects.h. */
#include "integrations/projects.h"

#include <json-c/json.h>
#include <string.h>
#include <strings.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "integrations/providers/provider_result.h"

const char *projects_check_ids(struct json_object *v)
{
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		if (!json_object_is_type(e, json_type_string) || !text_is_uuid(json_object_get_string(e)))
			return "must be an array of project ids (UUIDs)";
	}
	return NULL;
}

const struct field project_ids_fields[] = {
	{"project_ids", FIELD_ARRAY, true, 1, PROJECTS_MAX, projects_check_ids},
	{NULL, 0, false, 0, 0, NULL},
};

enum db_status projects_of_user(struct arena *a, const char *user_id, struct json_object *ids, struct project **out,
				size_t *n, struct json_object **missing)
{
	PGresult *res;
	const char *q[] = {user_id, json_object_to_json_string_ext(ids, JSON_C_TO_STRING_PLAIN)};
	*out = NULL;
	*n = 0;
	*missing = NULL;
	enum db_status s =
		db_exec(a, &res,
			"SELECT p.id, p.name, p.content::text FROM projects p "
			"WHERE p.user_id = $1 AND p.id IN (SELECT jsonb_array_elements_text($2::jsonb)::uuid) "
			"ORDER BY p.name, p.id",
			2, q);
	if (s != DB_OK)
		return s;
	size_t rows = (size_t)PQntuples(res);
	struct project *list = arena_alloc(a, sizeof(*list) * (rows ? rows : 1));
	for (size_t i = 0; i < rows; i++) {
		list[i].id = PQgetvalue(res, (int)i, 0);
		list[i].name = PQgetvalue(res, (int)i, 1);
		list[i].content = PQgetvalue(res, (int)i, 2);
	}
	struct json_object *absent = arena_defer(a, jsonx_put, json_object_new_array());
	for (size_t i = 0; i < json_object_array_length(ids); i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(ids, i));
		bool have = false;
		for (size_t r = 0; r < rows; r++)
			have |= !strcasecmp(list[r].id, id);
		if (!have)
			json_object_array_add(absent, json_object_new_string(id));
	}
	*out = list;
	*n = rows;
	*missing = json_object_array_length(absent) > 0 ? absent : NULL;
	return DB_OK;
}

const char *project_file(struct arena *a, const struct project *p)
{
	struct json_object *o = arena_defer(a, jsonx_put, json_object_new_object());
	struct json_object *content = json_tokener_parse(p->content);
	json_object_object_add(o, "id", json_object_new_string(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "content", content ? content : json_object_new_object());
	return arena_printf(a, "%s\n",
			    json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								      JSON_C_TO_STRING_NOSLASHESCAPE));
}

int projects_requested(const struct provider_call *c, struct project **out, size_t *n, struct provider_result *r)
{
	struct json_object *ids, *missing;
	json_object_object_get_ex(c->body, "project_ids", &ids);
	enum db_status s = projects_of_user(c->a, c->user_id, ids, out, n, &missing);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (missing)
		return provider_fail(r, PROVIDER_NOT_FOUND, "project_not_found",
				     arena_printf(c->a, "No such project of yours: %s",
						  json_object_to_json_string_ext(missing, JSON_C_TO_STRING_PLAIN)));
	return 0;
}
