/* Google Drive import (GET .../google/drive/files and .../google/drive/files/{id}/content):
 * Drive v3 files.list, files.get (metadata, then alt=media) and files.export for Google
 * Workspace documents, with the user's stored Google token (refreshed when due). */
#include "integrations/providers/google.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/oauth_token.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"
#include "oauth/oauth_client.h"

#define DRIVE_Q_MAX	  2000
#define DRIVE_TOKEN_MAX	  2000
#define DRIVE_FILE_ID_MAX 200
#define GOOGLE_APPS	  "application/vnd.google-apps."

/* Google Workspace types and the format each is exported in (files.export). */
static const char *const export_as[][2] = {
	{GOOGLE_APPS "document", "text/plain"},
	{GOOGLE_APPS "spreadsheet", "text/csv"},
	{GOOGLE_APPS "presentation", "text/plain"},
	{GOOGLE_APPS "drawing", "image/svg+xml"},
	{GOOGLE_APPS "script", "application/vnd.google-apps.script+json"},
};

static long import_max(void)
{
	return config_int("SB_DRIVE_IMPORT_MAX_BYTES", 1048576, 1024, 10485760);
}

/* Drive's own message of an error answer ({"error": {"message"}}), or its status. */
static const char *drive_error(struct arena *a, const struct outbound_response *r)
{
	struct json_object *j = outbound_json(a, r), *e;
	const char *m = j && json_object_object_get_ex(j, "error", &e) ? jsonx_get_string(e, "message") : NULL;
	return m ? arena_printf(a, "Google Drive answered %ld: %s", r->status, m)
		 : arena_printf(a, "Google Drive answered %ld", r->status);
}

/* One GET of the Drive API; 0 with *out, or -1 with r filled (404 as file_not_found). */
static int drive_get(const struct provider_call *c, const struct provider *p, const char *token, const char *path,
		     size_t max, struct outbound_response *out, struct provider_result *r)
{
	const char *base = oauth_url(c->a, p->oauth, "api");
	const char *h[] = {"Accept: application/json", NULL};
	struct outbound_request rq = {.method = "GET",
				      .url = arena_printf(c->a, "%s%s", base ? base : "", path),
				      .headers = h,
				      .bearer = token,
				      .idempotent = true,
				      .max_response = max};
	if (outbound_do(c->a, &rq, out)) {
		if (out->error == OUTBOUND_TOO_LARGE)
			return provider_fail(r, PROVIDER_TOO_LARGE, "file_too_large",
					     arena_printf(c->a, "The file passes the import limit of %ld bytes",
							  import_max())),
			       -1;
		if (out->error == OUTBOUND_RATE_LIMITED)
			return provider_rate_limited(r, out->retry_at, "Google Drive asked us to wait"), -1;
		return provider_upstream(r, outbound_http_status(out), arena_printf(c->a, "Google Drive: %s", out->message)),
		       -1;
	}
	if (out->status == 404)
		return provider_fail(r, PROVIDER_NOT_FOUND, "file_not_found", "No such file in your Google Drive"), -1;
	if (out->status != 200)
		return provider_upstream(r, 502, drive_error(c->a, out)), -1;
	return 0;
}

int google_drive_token(const struct provider_call *c, const struct provider *p, const char **token,
		       struct provider_result *r)
{
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, p->name, false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s), -1;
	/* Not connected is the 404 of every provider operation (provider_token_failure);
	 * disabled is the 409 of ThingsBoard, Blynk and Arduino Cloud: Google is not called. */
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "This integration is not connected"), -1;
	if (!row.enabled)
		return provider_fail(r, PROVIDER_CONFLICT, "integration_disabled",
				     "The Google integration is disabled: enable it with PATCH"),
		       -1;
	struct oauth_token_use use;
	enum oauth_token_status st = oauth_token_get(c->a, c->who, p->name, false, &use);
	if (st != OAUTH_TOKEN_OK)
		return provider_token_failure(c->a, r, st, &use), -1;
	*token = use.access_token;
	return 0;
}

static const char *query_string(const struct provider_call *c, const char *name)
{
	return c->query ? jsonx_get_string(c->query, name) : NULL;
}

/* The Drive v3 File members we answer with, copied from Drive's object. */
static struct json_object *file_view(struct json_object *f)
{
	static const char *const keep[] = {"id", "name", "mimeType", "modifiedTime", "size"};
	struct json_object *o = json_object_new_object(), *v;
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_object_get_ex(f, keep[i], &v))
			json_object_object_add(o, keep[i], json_object_get(v));
	return o;
}

/* GET .../google/drive/files?q=&page_token=&page_size=: one page of files.list. */
int google_drive_list(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	const char *q = query_string(c, "q"), *pt = query_string(c, "page_token"), *token;
	long size;
	struct json_object *errors = json_object_new_object();
	if (q && (strlen(q) > DRIVE_Q_MAX || !text_printable(q, false)))
		json_object_object_add(errors, "q", json_object_new_string("must be at most 2000 printable characters"));
	if (pt && (!*pt || strlen(pt) > DRIVE_TOKEN_MAX || !text_printable(pt, false)))
		json_object_object_add(errors, "page_token", json_object_new_string("must be a page token Drive gave"));
	if (validate_query_int(query_string(c, "page_size"), 100, 1, 1000, &size))
		json_object_object_add(errors, "page_size", json_object_new_string("must be an integer 1..1000"));
	if (json_object_object_length(errors))
		return provider_invalid(r, errors);
	json_object_put(errors);
	if (google_drive_token(c, p, &token, r))
		return r->outcome;
	const char *path = arena_printf(c->a,
					"/drive/v3/files?pageSize=%ld&fields=%s%s%s%s%s", size,
					url_encode(c->a, "nextPageToken,files(id,name,mimeType,modifiedTime,size)"),
					q ? "&q=" : "", q ? url_encode(c->a, q) : "", pt ? "&pageToken=" : "",
					pt ? url_encode(c->a, pt) : "");
	struct outbound_response res;
	if (drive_get(c, p, token, path, 0, &res, r)) {
		if (res.error == OUTBOUND_OK && res.status == 400) /* Drive refused q or the token */
			return provider_invalid_field(r, pt ? "page_token" : "q", drive_error(c->a, &res));
		return r->outcome;
	}
	struct json_object *j = outbound_json(c->a, &res), *files, *out = json_object_new_object();
	if (!j || !json_object_object_get_ex(j, "files", &files) || !json_object_is_type(files, json_type_array)) {
		json_object_put(out);
		return provider_upstream(r, 502, "Google Drive answered a file list without files");
	}
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(files); i++)
		json_object_array_add(list, file_view(json_object_array_get_idx(files, i)));
	json_object_object_add(out, "files", list);
	json_object_object_add(out, "nextPageToken", jsonx_string_or_null(jsonx_get_string(j, "nextPageToken")));
	return provider_ok(r, out, NULL);
}

static const char *export_mime(const char *mime)
{
	for (size_t i = 0; i < sizeof(export_as) / sizeof(export_as[0]); i++)
		if (!strcmp(mime, export_as[i][0]))
			return export_as[i][1];
	return NULL;
}

/* The answer of a content read: the file's metadata and its bytes, as text when they
 * are UTF-8 without NUL, else base64. */
static int content_answer(const struct provider_call *c, struct json_object *meta, const char *exported,
			  const struct outbound_response *res, struct provider_result *r)
{
	struct json_object *out = json_object_new_object();
	json_object_object_add(out, "file", file_view(meta));
	json_object_object_add(out, "exported_as", jsonx_string_or_null(exported));
	bool text = utf8_length(res->body, res->len) >= 0 && strlen(res->body) == res->len;
	json_object_object_add(out, "encoding", json_object_new_string(text ? "utf-8" : "base64"));
	json_object_object_add(out, "content", json_object_new_string(
						       text ? res->body : base64_encode(c->a, res->body, res->len)));
	json_object_object_add(out, "size", json_object_new_int64((int64_t)res->len));
	return provider_ok(r, out, NULL);
}

/* GET .../google/drive/files/{id}/content: files.get for the type and size, then the
 * bytes (alt=media), or files.export for Google Workspace types (415 for the others). */
int google_drive_content(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	const char *id = c->param, *token;
	if (!id || !*id || strlen(id) > DRIVE_FILE_ID_MAX || strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != strlen(id))
		return provider_fail(r, PROVIDER_NOT_FOUND, "file_not_found", "No such file in your Google Drive");
	if (google_drive_token(c, p, &token, r))
		return r->outcome;
	struct outbound_response res;
	if (drive_get(c, p, token, arena_printf(c->a, "/drive/v3/files/%s?fields=id,name,mimeType,modifiedTime,size", id),
		      0, &res, r))
		return r->outcome;
	struct json_object *meta = outbound_json(c->a, &res);
	const char *mime = meta ? jsonx_get_string(meta, "mimeType") : NULL, *size = meta ? jsonx_get_string(meta, "size") : NULL;
	if (!mime)
		return provider_upstream(r, 502, "Google Drive answered a file without a mimeType");
	const char *exported = NULL, *path;
	if (!strncmp(mime, GOOGLE_APPS, strlen(GOOGLE_APPS))) {
		if (!(exported = export_mime(mime)))
			return provider_fail(r, PROVIDER_UNSUPPORTED, "unsupported_file_type",
					     arena_printf(c->a, "Google Drive cannot export a %s as a file", mime));
		path = arena_printf(c->a, "/drive/v3/files/%s/export?mimeType=%s", id, url_encode(c->a, exported));
	} else {
		if (size && strtoll(size, NULL, 10) > import_max())
			return provider_fail(r, PROVIDER_TOO_LARGE, "file_too_large",
					     arena_printf(c->a, "The file (%s bytes) passes the import limit of %ld bytes",
							  size, import_max()));
		path = arena_printf(c->a, "/drive/v3/files/%s?alt=media", id);
	}
	if (drive_get(c, p, token, path, (size_t)import_max(), &res, r))
		return r->outcome;
	return content_answer(c, meta, exported, &res, r);
}
