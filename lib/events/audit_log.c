/* audit_events read back; see audit_log.h. */
#include "events/audit_log.h"

#include <json-c/json.h>

static const struct row_field event_fields[] = {
	{"id", ROW_TEXT},	  {"action", ROW_TEXT},		{"provider", ROW_TEXT},	  {"ip", ROW_TEXT},
	{"user_agent", ROW_TEXT}, {"details", ROW_JSON_OBJECT}, {"created_at", ROW_TEXT}, {NULL, ROW_TEXT},
};

/* $1 the user, $2..$5 the filters (NULL: any). */
#define AUDIT_WHERE                                                                                         \
	" FROM audit_events WHERE user_id = $1 AND ($2::text IS NULL OR provider = $2) "                    \
	"AND ($3::text IS NULL OR action = $3) AND ($4::timestamptz IS NULL OR created_at >= $4::timestamptz) " \
	"AND ($5::timestamptz IS NULL OR created_at <= $5::timestamptz)"

enum db_status audit_log_page(struct arena *a, const char *user_id, const struct audit_log_filter *f,
			      struct rows_page page, struct json_object **out)
{
	const char *p[] = {user_id, f->provider, f->action, f->from, f->to};
	PGresult *res;
	long long total;
	*out = NULL;
	enum db_status s =
		rows_fetch_page(a, page, "SELECT count(*)" AUDIT_WHERE,
				"SELECT id, action, provider, host(ip), user_agent, details::text, " SQL_RFC3339(
					"created_at") AUDIT_WHERE " ORDER BY created_at DESC, id DESC LIMIT $6 OFFSET $7",
				5, p, &res, &total);
	if (s == DB_OK)
		*out = rows_page_json(rows_objects(res, 0, event_fields), page, total);
	return s;
}
