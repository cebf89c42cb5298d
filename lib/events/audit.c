/* Audit events; see audit.h. */
#include "events/audit.h"

#include <json-c/json.h>

#include "core/arena.h"

enum db_status audit_record(struct arena *a, const struct actor *who, const char *action, const char *provider,
			    struct json_object *details)
{
	const char *d = "{}";
	if (details) {
		d = arena_strdup(a, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN));
		json_object_put(details);
	}
	const char *p[] = {who->user_id, action, provider, who->ip, who->user_agent, d};
	return db_exec(a, NULL,
		       "INSERT INTO audit_events (user_id, action, provider, ip, user_agent, details) "
		       "VALUES ($1, $2, $3, $4, left($5, 512), $6::jsonb)",
		       6, p);
}
