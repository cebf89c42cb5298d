/* Audit events; see audit.h. */
#include "audit.h"

#include <json-c/json.h>

#include "arena.h"
#include "request.h"

enum db_status audit_record(struct request *rq, const char *user_id, const char *action, const char *provider,
			    struct json_object *details)
{
	const char *d = "{}";
	if (details) {
		d = arena_strdup(rq->arena, json_object_to_json_string_ext(details, JSON_C_TO_STRING_PLAIN));
		json_object_put(details);
	}
	const char *ua = request_header(rq, "user-agent");
	const char *p[] = {user_id, action, provider, rq->remote_addr, ua, d};
	return db_exec(rq->arena, NULL,
		       "INSERT INTO audit_events (user_id, action, provider, ip, user_agent, details) "
		       "VALUES ($1, $2, $3, $4, left($5, 512), $6::jsonb)",
		       6, p);
}
