/* Microsoft as an integration: the providers-file entry "microsoft" with the OneDrive
 * export action (POST .../microsoft/onedrive/export): each project goes up as
 * "<name>.json" in the root of the user's OneDrive by Microsoft Graph's simple upload
 * (PUT /me/drive/root:/{path}:/content, files up to 4 MB). */
#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "events/audit.h"
#include "integrations/integration_ops.h"
#include "integrations/oauth_token.h"
#include "integrations/projects.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"
#include "oauth/oauth_client.h"

#define ONEDRIVE_SIMPLE_MAX (4L * 1024 * 1024) /* Graph's limit for a simple upload */

/* Graph's message of an error answer ({"error": {"code", "message"}}), or its status. */
static const char *graph_error(struct arena *a, const struct outbound_response *r)
{
	struct json_object *j = outbound_json(a, r), *e;
	bool has = j && json_object_object_get_ex(j, "error", &e);
	const char *code = has ? jsonx_get_string(e, "code") : NULL, *m = has ? jsonx_get_string(e, "message") : NULL;
	return m ? arena_printf(a, "Microsoft Graph answered %ld: %s (%s)", r->status, m, code ? code : "no code")
		 : arena_printf(a, "Microsoft Graph answered %ld", r->status);
}

/* One simple upload; 0 with the DriveItem in *item, or -1 with r filled. */
static int onedrive_put(const struct provider_call *c, const struct provider *p, const char *token, const char *name,
			const char *content, struct json_object **item, struct provider_result *r)
{
	size_t len = strlen(content);
	if ((long)len > ONEDRIVE_SIMPLE_MAX)
		return provider_fail(r, PROVIDER_TOO_LARGE, "file_too_large",
				     arena_printf(c->a, "%s is %zu bytes; OneDrive's simple upload takes at most %ld", name,
						  len, ONEDRIVE_SIMPLE_MAX)),
		       -1;
	const char *base = oauth_url(c->a, p->oauth, "api");
	const char *h[] = {"Content-Type: application/json", "Accept: application/json", NULL};
	struct outbound_request rq = {
		.method = "PUT",
		.url = arena_printf(c->a, "%s/v1.0/me/drive/root:/%s:/content", base ? base : "", url_encode(c->a, name)),
		.headers = h,
		.bearer = token,
		.body = content,
		.body_len = len};
	struct outbound_response res;
	if (outbound_do(c->a, &rq, &res)) {
		if (res.error == OUTBOUND_RATE_LIMITED)
			return provider_rate_limited(r, res.retry_at, "Microsoft Graph asked us to wait"), -1;
		return provider_upstream(r, outbound_http_status(&res), arena_printf(c->a, "OneDrive: %s", res.message)),
		       -1;
	}
	struct json_object *j = outbound_json(c->a, &res);
	if ((res.status != 200 && res.status != 201) || !j || !jsonx_get_string(j, "id"))
		return provider_upstream(r, 502, graph_error(c->a, &res)), -1;
	*item = j;
	return 0;
}

static struct json_object *uploaded(const struct project *pr, const char *name, struct json_object *item)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "project_id", json_object_new_string(pr->id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "file_id", json_object_new_string(jsonx_get_string(item, "id")));
	json_object_object_add(o, "web_url", jsonx_string_or_null(jsonx_get_string(item, "webUrl")));
	json_object_object_add(o, "status", json_object_new_string("uploaded"));
	return o;
}

/* The first failure stops the export and is audited with what went up before it. */
static int onedrive_export(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct project *projects;
	size_t n;
	if (projects_requested(c, &projects, &n, r))
		return r->outcome;
	struct integration row;
	if (integration_enabled_or_fail(c, p, &row, r))
		return r->outcome; /* disabled: Graph is not called */
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(c->a, c->who, p->name, false, &use);
	if (st != OAUTH_TOKEN_OK)
		return provider_token_failure(c->a, r, st, &use);
	struct json_object *files = arena_defer(c->a, jsonx_put, json_object_new_array()), *item;
	for (size_t i = 0; i < n; i++) {
		const char *name = arena_printf(c->a, "%s.json", projects[i].name);
		if (onedrive_put(c, p, use.access_token, name, project_file(c->a, &projects[i]), &item, r)) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "uploaded", json_object_get(files));
			json_object_object_add(d, "error", json_object_new_string(r->message ? r->message : ""));
			audit_record(c->a, c->who, "integration.export_failed", "microsoft", d);
			return r->outcome;
		}
		json_object_array_add(files, uploaded(&projects[i], name, item));
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "files", json_object_get(files));
	enum db_status s = audit_record(c->a, c->who, "integration.exported", "microsoft", d);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "files", json_object_get(files));
	return provider_ok(r, out, "Exported to OneDrive");
}

static const struct provider_action microsoft_actions[] = {
	{"onedrive/export", true, project_ids_fields, onedrive_export},
	{NULL, false, NULL, NULL},
};

const struct provider provider_microsoft = {
	.name = "microsoft",
	.description = "Export projects to OneDrive (Microsoft Graph)",
	.actions = microsoft_actions,
};
