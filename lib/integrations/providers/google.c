/* Google as an integration: the providers-file entry "google" with the Drive export
 * action (POST .../google/drive/export). The registry lays this over the generic
 * OAuth2 ops. */
#include "integrations/providers/google.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "events/audit.h"
#include "integrations/oauth_token.h"
#include "integrations/projects.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"
#include "oauth/oauth_client.h"

int google_drive_upload(struct arena *a, const struct oauth_provider *p, const char *token, const char *name,
			const char *content, const char **file_id, const char **reason, int *http_status)
{
	char *boundary = arena_printf(a, "sb-%s", crypto_token(a, 18));
	struct json_object *meta = arena_defer(a, jsonx_put, json_object_new_object());
	json_object_object_add(meta, "name", json_object_new_string(name));
	json_object_object_add(meta, "mimeType", json_object_new_string("application/json"));
	char *body = arena_printf(a,
				  "--%s\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n%s\r\n"
				  "--%s\r\nContent-Type: application/json\r\n\r\n%s\r\n--%s--\r\n",
				  boundary, json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PLAIN), boundary,
				  content, boundary);
	const char *h[] = {arena_printf(a, "Content-Type: multipart/related; boundary=%s", boundary),
			   "Accept: application/json", NULL};
	const char *base = oauth_url(a, p, "api");
	struct outbound_request rq = {
		.method = "POST",
		.url = arena_printf(a, "%s/upload/drive/v3/files?uploadType=multipart&fields=id,name",
				    base ? base : ""),
		.headers = h,
		.bearer = token,
		.body = body,
		.body_len = strlen(body)};
	struct outbound_response r;
	if (outbound_do(a, &rq, &r)) {
		*reason = arena_printf(a, "Google Drive: %s", r.message);
		*http_status = outbound_http_status(&r);
		return -1;
	}
	struct json_object *j = outbound_json(a, &r);
	const char *id = j ? jsonx_get_string(j, "id") : NULL;
	if (r.status != 200 || !id) {
		*reason = arena_printf(a, "Google Drive answered %ld", r.status);
		*http_status = 502;
		return -1;
	}
	*file_id = id;
	return 0;
}

/* Each project is uploaded as "<name>.json"; the first failure stops the export and is
 * audited with what was uploaded before it. */
static int drive_export(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	struct project *projects;
	size_t n;
	if (projects_requested(c, &projects, &n, r))
		return r->outcome;
	const char *token;
	if (google_drive_token(c, p, &token, r))
		return r->outcome;
	struct json_object *files = arena_defer(c->a, jsonx_put, json_object_new_array());
	for (size_t i = 0; i < n; i++) {
		const char *name = arena_printf(c->a, "%s.json", projects[i].name), *file_id, *reason;
		int hs = 502;
		if (google_drive_upload(c->a, p->oauth, token, name, project_file(c->a, &projects[i]),
					&file_id, &reason, &hs)) {
			struct json_object *d = json_object_new_object();
			json_object_object_add(d, "uploaded", json_object_get(files));
			json_object_object_add(d, "error", json_object_new_string(reason));
			audit_record(c->a, c->who, "integration.export_failed", "google", d);
			return provider_upstream(r, hs, reason);
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "project_id", json_object_new_string(projects[i].id));
		json_object_object_add(o, "name", json_object_new_string(name));
		json_object_object_add(o, "file_id", json_object_new_string(file_id));
		json_object_object_add(o, "status", json_object_new_string("uploaded"));
		json_object_array_add(files, o);
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "files", json_object_get(files));
	enum db_status s = audit_record(c->a, c->who, "integration.exported", "google", d);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "files", json_object_get(files));
	return provider_ok(r, out, "Exported to Google Drive");
}

static const struct provider_action google_actions[] = {
	{"drive/export", true, project_ids_fields, drive_export},
	{"drive/files", false, NULL, google_drive_list, "GET"},
	{"drive/files/*/content", false, NULL, google_drive_content, "GET"},
	{NULL, false, NULL, NULL},
};

const struct provider provider_google = {
	.name = "google",
	.description = "Export projects to Google Drive, import files from it; sign in with Google",
	.actions = google_actions,
};
