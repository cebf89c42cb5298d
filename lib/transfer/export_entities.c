/* The export entities: the caller's own rows of each table, never a secret column (no
 * key hash, no client secret hash, no sealed config field, no webhook secret). The
 * owner and filter values reach the query as session settings set with parameters
 * (COPY takes no parameters), see export_run.c. */
#include <string.h>

#include "db/db.h"
#include "transfer/entity.h"

#define OWNER	"current_setting('sb.export_user')::uuid"
#define TS(col) SQL_RFC3339(col)

static const struct export_column integration_cols[] = {
	{"id", "t.id", TT_TEXT, 38},
	{"provider", "t.provider", TT_TEXT, 16},
	{"enabled", "t.enabled", TT_BOOL, 9},
	{"status", "t.status", TT_TEXT, 12},
	{"last_error", "t.last_error", TT_TEXT, 40},
	/* Sealed fields are "<name>_encrypted" members: left out, whatever the provider. */
	{"config",
	 "(SELECT coalesce(jsonb_object_agg(k, v), '{}'::jsonb) FROM jsonb_each(t.config) AS c(k, v) "
	 "WHERE k NOT LIKE '%\\_encrypted')::text",
	 TT_TEXT, 50},
	{"connected_at", TS("t.connected_at"), TT_TIME, 20},
	{"last_used_at", TS("t.last_used_at"), TT_TIME, 20},
	{"last_checked_at", TS("t.last_checked_at"), TT_TIME, 20},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
	{"updated_at", TS("t.updated_at"), TT_TIME, 20},
};
static const char *const integration_statuses[] = {"active",  "inactive",  "error",	   "pending",
						   "expired", "connected", "disconnected", NULL};

static const struct export_column audit_cols[] = {
	{"id", "t.id", TT_TEXT, 38},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
	{"action", "t.action", TT_TEXT, 28},
	{"provider", "t.provider", TT_TEXT, 14},
	{"ip", "host(t.ip)", TT_TEXT, 16},
	{"user_agent", "t.user_agent", TT_TEXT, 30},
	{"details", "t.details::text", TT_TEXT, 50},
};

static const struct export_column webhook_cols[] = {
	{"id", "t.id", TT_TEXT, 38},
	{"name", "t.name", TT_TEXT, 24},
	{"url", "t.url", TT_TEXT, 40},
	{"events", "array_to_string(t.events, ' ')", TT_TEXT, 30},
	{"retry_count", "t.retry_count", TT_INT, 12},
	{"timeout_seconds", "t.timeout_seconds", TT_INT, 16},
	{"is_active", "t.is_active", TT_BOOL, 10},
	{"disabled_reason", "t.disabled_reason", TT_TEXT, 24},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
	{"updated_at", TS("t.updated_at"), TT_TIME, 20},
	/* The delivery options of migration 011, in the shapes the webhooks import reads. */
	{"payload_format", "t.payload_format", TT_TEXT, 14},
	{"include_fields", "t.include_fields::text", TT_TEXT, 24},
	{"exclude_fields", "t.exclude_fields::text", TT_TEXT, 24},
	{"headers", "t.custom_headers::text", TT_TEXT, 30},
	{"allowed_ips", "(SELECT string_agg(x, ' ') FROM jsonb_array_elements_text(t.allowed_ips) AS x)", TT_TEXT, 24},
	{"disable_after_failures", "t.disable_after_failures", TT_INT, 14},
	{"disable_after_days", "t.disable_after_days", TT_INT, 14},
};
static const char *const webhook_statuses[] = {"active", "inactive", NULL};

static const struct export_column delivery_cols[] = {
	{"id", "t.id", TT_TEXT, 38},
	{"webhook_id", "t.webhook_id", TT_TEXT, 38},
	{"event_type", "e.type", TT_TEXT, 26},
	{"message_id", "e.message_id", TT_TEXT, 30},
	{"status", "t.status", TT_TEXT, 10},
	{"attempt_count", "t.attempt_count", TT_INT, 14},
	{"last_status_code", "t.last_status_code", TT_INT, 16},
	{"last_error", "t.last_error", TT_TEXT, 30},
	{"next_attempt_at", "CASE WHEN t.next_attempt_at = 'infinity' THEN NULL ELSE " TS("t.next_attempt_at") " END",
	 TT_TIME, 20},
	{"delivered_at", TS("t.delivered_at"), TT_TIME, 20},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
};
static const char *const delivery_statuses[] = {"pending", "delivered", "failed", NULL};

#define KEY_STATUS                                                                                                   \
	"CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked' WHEN t.expires_at IS NOT NULL AND t.expires_at <= now() " \
	"THEN 'expired' ELSE 'active' END"
static const struct export_column key_cols[] = {
	{"id", "t.id", TT_TEXT, 38},
	{"name", "t.name", TT_TEXT, 24},
	{"description", "t.description", TT_TEXT, 30},
	{"key_prefix", "t.key_prefix", TT_TEXT, 14},
	{"scopes", "array_to_string(t.scopes, ' ')", TT_TEXT, 24},
	{"rate_limit_per_hour", "t.rate_limit_per_hour", TT_INT, 18},
	{"status", KEY_STATUS, TT_TEXT, 10},
	{"last_used_at", TS("t.last_used_at"), TT_TIME, 20},
	{"expires_at", TS("t.expires_at"), TT_TIME, 20},
	{"revoked_at", TS("t.revoked_at"), TT_TIME, 20},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
};
static const char *const key_statuses[] = {"active", "revoked", "expired", NULL};

static const struct export_column request_log_cols[] = {
	{"id", "t.id", TT_INT, 12},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
	{"api_key_id", "t.api_key_id", TT_TEXT, 38},
	{"client_id", "t.client_id", TT_TEXT, 38},
	{"method", "t.method", TT_TEXT, 8},
	{"path", "t.path", TT_TEXT, 36},
	{"route", "t.route", TT_TEXT, 30},
	{"response_status", "t.response_status", TT_INT, 15},
	{"response_time_ms", "round(t.response_time_ms::numeric, 3)", TT_NUMBER, 16},
	{"ip_address", "host(t.ip_address)", TT_TEXT, 16},
	{"user_agent", "t.user_agent", TT_TEXT, 30},
};

#define CLIENT_STATUS "CASE WHEN t.revoked_at IS NOT NULL THEN 'revoked' ELSE 'active' END"
static const struct export_column client_cols[] = {
	{"id", "t.id", TT_TEXT, 38},
	{"client_id", "t.client_id", TT_TEXT, 30},
	{"name", "t.name", TT_TEXT, 24},
	{"description", "t.description", TT_TEXT, 30},
	{"redirect_uris", "array_to_string(t.redirect_uris, ' ')", TT_TEXT, 40},
	{"scopes", "array_to_string(t.scopes, ' ')", TT_TEXT, 24},
	{"rate_limit_per_hour", "t.rate_limit_per_hour", TT_INT, 18},
	{"status", CLIENT_STATUS, TT_TEXT, 10},
	{"revoked_at", TS("t.revoked_at"), TT_TIME, 20},
	{"created_at", TS("t.created_at"), TT_TIME, 20},
	{"updated_at", TS("t.updated_at"), TT_TIME, 20},
};
static const char *const client_statuses[] = {"active", "revoked", NULL};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct export_entity entities[] = {
	{"integrations", "FROM user_integrations t WHERE t.user_id = " OWNER, "t.created_at", "t.provider, t.id",
	 "t.provider", NULL, "t.status", integration_statuses, integration_cols, N(integration_cols)},
	{"audit_log", "FROM audit_events t WHERE t.user_id = " OWNER, "t.created_at", "t.created_at, t.id",
	 "t.provider", NULL, NULL, NULL, audit_cols, N(audit_cols)},
	{"webhooks", "FROM webhooks t WHERE t.user_id = " OWNER, "t.created_at", "t.created_at, t.id", NULL,
	 "t.id::text", "CASE WHEN t.is_active THEN 'active' ELSE 'inactive' END", webhook_statuses, webhook_cols,
	 N(webhook_cols)},
	{"webhook_deliveries", "FROM webhook_deliveries t JOIN events e ON e.id = t.event_id WHERE t.user_id = " OWNER,
	 "t.created_at", "t.created_at, t.id", NULL, "t.webhook_id::text", "t.status", delivery_statuses, delivery_cols,
	 N(delivery_cols)},
	{"api_keys", "FROM api_keys t WHERE t.user_id = " OWNER, "t.created_at", "t.created_at, t.id", NULL, NULL,
	 KEY_STATUS, key_statuses, key_cols, N(key_cols)},
	{"api_request_logs", "FROM api_request_logs t WHERE t.user_id = " OWNER, "t.created_at", "t.created_at, t.id",
	 NULL, NULL, "t.response_status::text", NULL, request_log_cols, N(request_log_cols)},
	{"oauth_clients", "FROM api_clients t WHERE t.user_id = " OWNER, "t.created_at", "t.created_at, t.id", NULL,
	 NULL, CLIENT_STATUS, client_statuses, client_cols, N(client_cols)},
};

const struct export_entity *export_entity_find(const char *name)
{
	for (size_t i = 0; name && i < N(entities); i++)
		if (!strcmp(entities[i].name, name))
			return &entities[i];
	return NULL;
}

const struct export_entity *export_entities(size_t *n)
{
	*n = N(entities);
	return entities;
}

int export_column_index(const struct export_entity *e, const char *name)
{
	for (size_t i = 0; i < e->ncolumns; i++)
		if (!strcmp(e->columns[i].name, name))
			return (int)i;
	return -1;
}
