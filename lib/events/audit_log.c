/* audit_events read back; see audit_log.h. */
#include "events/audit_log.h"

#include <json-c/json.h>

static const struct row_field event_fields[] = {
	{"id", ROW_TEXT},	  {"action", ROW_TEXT},		{"provider", ROW_TEXT},	  {"ip", ROW_TEXT},
	{"user_agent", ROW_TEXT}, {"details", ROW_JSON_OBJECT}, {"created_at", ROW_TEXT}, {NULL, ROW_TEXT},
};

enum db_status audit_log_page(struct arena *a, const char *user_id, struct rows_page page, struct json_object **out)
{
	const char *p[] = {user_id};
	PGresult *res;
	long long total;
	*out = NULL;
	enum db_status s =
		rows_fetch_page(a, page, "SELECT count(*) FROM audit_events WHERE user_id = $1",
				"SELECT id, action, provider, host(ip), user_agent, details::text, " SQL_RFC3339(
					"created_at") " FROM audit_events WHERE user_id = $1 "
						      "ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
				1, p, &res, &total);
	if (s == DB_OK)
		*out = rows_page_json(rows_objects(res, 0, event_fields), page, total);
	return s;
}
