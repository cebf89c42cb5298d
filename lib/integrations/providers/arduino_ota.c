/* Arduino Cloud over-the-air updates (spec 001 "deploy code to a device"), as Arduino's
 * own arduino-cloud-cli does them:
 *  - POST {api}/iot/v2/devices/{id}/ota, multipart/form-data with the parts ota_file (the
 *    .ota file), async ("true": answer at once) and expire_in_mins (how long the binary
 *    stays available to the device, 10 by default, up to a week for a deferred OTA);
 *    200 ArduinoDevicev2Otaupload {file_sha, ota_id, ota_version, status}, 404 for a
 *    device the account does not have, 409 while another OTA of the device runs; errors
 *    are application/vnd.goa.error+json {id, code, status, detail};
 *  - GET {api}/ota/v1/ota/{ota_id} -> {ota: Ota, states: [State]} and
 *    GET {api}/ota/v1/ota?device_id=&limit=&order= -> {ota: [Ota]}, where Ota is {id,
 *    device_id, status (pending, in_progress, succeeded, failed, cancelled), started_at,
 *    ended_at, error_reason, firmware_size, max_retries, retry_attempt} and State is
 *    {ota_id, state, state_data, timestamp}.
 * The file must carry the OTA header (LENGTH | CRC32 | MAGIC | VERSION, 20 bytes) that
 * `arduino-cloud-cli ota encode` writes: a bare .bin is refused before Arduino is called. */
#include <json-c/json.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/urlenc.h"
#include "core/validate.h"
#include "events/audit.h"
#include "integrations/integration.h"
#include "integrations/integration_ops.h"
#include "integrations/providers/arduino.h"
#include "integrations/providers/provider.h"
#include "net/outbound.h"

#define PROVIDER     "arduino_cloud"
#define OTA_ID_MAX   64
#define OTA_HEADER   20
#define EXPIRE_MAX   10080 /* a week: arduino-cloud-cli's deferred OTA */
#define EXPIRE_DEF   10

static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
	}
	return ~c;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

const char *arduino_ota_check(const unsigned char *b, size_t n, uint32_t *magic)
{
	if (n <= OTA_HEADER)
		return "is not an Arduino OTA file (shorter than its 20-byte header)";
	if (le32(b) != n - 8)
		return "is not an Arduino OTA file (the header's length does not match the file): encode the "
		       "sketch's .bin with `arduino-cloud-cli ota encode`";
	if (le32(b + 4) != crc32_ieee(b + 8, n - 8))
		return "is not an Arduino OTA file (the header's CRC32 does not match the file)";
	if (magic)
		*magic = le32(b + 8);
	return NULL;
}

long arduino_ota_max_bytes(void)
{
	return config_int("SB_ARDUINO_OTA_MAX_BYTES", 524288, 1024, 64L << 20);
}

static const char *api_base(struct arena *a)
{
	char *b = arena_strdup(a, arduino_api_url());
	size_t n = strlen(b);
	while (n && b[n - 1] == '/')
		b[--n] = '\0';
	return b;
}

/* Arduino's reason in a goa error ({detail} or {code}), or its status. */
static const char *arduino_reason(struct arena *a, const struct outbound_response *o, const char *what)
{
	struct json_object *j = outbound_json(a, o);
	const char *d = j ? jsonx_get_string(j, "detail") : NULL;
	if (!d || !*d)
		d = j ? jsonx_get_string(j, "code") : NULL;
	return d && *d ? arena_printf(a, "Arduino Cloud answered %ld to %s: %s", o->status, what, d)
		       : arena_printf(a, "Arduino Cloud answered %ld to %s", o->status, what);
}

struct ota_call {
	const char *method; /* NULL: GET */
	const char *path;   /* after the base URL, with its query */
	const char *ctype;  /* of the body, or NULL */
	const char *body;
	size_t body_len;
	const char *what; /* "the OTA upload", for reasons */
};

static int token_failed(struct arena *a, enum arduino_result ar, const struct arduino_token *t,
			struct provider_result *r)
{
	switch (ar) {
	case ARDUINO_DB:
		return provider_db(a, r, DB_UNAVAILABLE);
	case ARDUINO_SECRET:
		return provider_secret(r, "A stored secret could not be decrypted; save the integration again");
	case ARDUINO_REFUSED:
		return provider_fail(r, PROVIDER_CONFLICT, "credentials_refused",
				     "Arduino Cloud refused the saved credentials: save new ones with PUT");
	case ARDUINO_NO_SECRET:
		return provider_not_configured(r);
	default:
		return provider_upstream(r, t->http_status ? t->http_status : 502, t->reason);
	}
}

/* One call for the caller's enabled integration with its token; a token Arduino refuses
 * (401/403: revoked before its expiry) is exchanged once more. 0 with *o (an answer
 * other than 401/403), or -1 with *r filled. */
static int ota_do(const struct provider_call *c, const struct ota_call *q, struct outbound_response *o,
		  struct provider_result *r)
{
	struct integration row;
	if (integration_load_or_fail(c, PROVIDER, &row, r))
		return -1;
	if (!row.enabled) {
		provider_fail(r, PROVIDER_CONFLICT, "integration_disabled", "The Arduino Cloud integration is disabled");
		return -1;
	}
	const char *h[4] = {"Accept: application/json", NULL, NULL, NULL};
	int nh = 1;
	if (q->ctype)
		h[nh++] = arena_printf(c->a, "Content-Type: %s", q->ctype);
	h[nh] = arduino_org_header(c->a, arduino_row_org(&row));
	for (int attempt = 0; attempt < 2; attempt++) {
		struct arduino_token t;
		enum arduino_result ar = arduino_row_token(c->a, &row, &t);
		if (ar != ARDUINO_OK)
			return token_failed(c->a, ar, &t, r), -1;
		struct outbound_request rq = {.method = q->method,
					      .url = arena_printf(c->a, "%s%s", api_base(c->a), q->path),
					      .headers = h,
					      .bearer = t.access_token,
					      .body = q->body,
					      .body_len = q->body_len,
					      .idempotent = !q->method,
					      .timeout_ms = config_int("SB_ARDUINO_OTA_TIMEOUT_MS", 30000, 1000, 300000)};
		if (outbound_do(c->a, &rq, o)) {
			if (o->error == OUTBOUND_RATE_LIMITED)
				return provider_rate_limited(r, o->retry_at, o->message), -1;
			provider_upstream(r, outbound_http_status(o),
					  arena_printf(c->a, "Arduino Cloud, %s: %s", q->what, o->message));
			return -1;
		}
		if (o->status != 401 && o->status != 403)
			return 0;
		if (arduino_forget_token(c->a, c->user_id))
			return provider_db(c->a, r, DB_UNAVAILABLE), -1;
	}
	provider_fail(r, PROVIDER_UPSTREAM, "provider_rejected",
		      arena_printf(c->a, "Arduino Cloud refused a new token for %s", q->what));
	return -1;
}

/* The multipart/form-data body of the upload (RFC 7578), in the arena. */
static char *upload_body(struct arena *a, const unsigned char *file, size_t n, long expire, const char *filename,
			 const char **ctype, size_t *len)
{
	char *rnd = crypto_token(a, 18);
	const char *boundary = arena_printf(a, "sb-ota-%s", rnd ? rnd : "boundary");
	const char *head = arena_printf(a,
					"--%s\r\nContent-Disposition: form-data; name=\"async\"\r\n\r\ntrue\r\n"
					"--%s\r\nContent-Disposition: form-data; name=\"expire_in_mins\"\r\n\r\n%ld\r\n"
					"--%s\r\nContent-Disposition: form-data; name=\"ota_file\"; filename=\"%s\"\r\n"
					"Content-Type: application/octet-stream\r\n\r\n",
					boundary, boundary, expire, boundary, filename);
	const char *tail = arena_printf(a, "\r\n--%s--\r\n", boundary);
	size_t hl = strlen(head), tl = strlen(tail);
	char *b = arena_alloc(a, hl + n + tl + 1);
	memcpy(b, head, hl);
	memcpy(b + hl, file, n);
	memcpy(b + hl + n, tail, tl + 1);
	*len = hl + n + tl;
	*ctype = arena_printf(a, "multipart/form-data; boundary=%s", boundary);
	return b;
}

static const char *check_ota_filename(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	if (check_printable(v))
		return "must be printable text";
	return strpbrk(s, "\"\\/") ? "must not contain quotes, slashes or backslashes" : NULL;
}

const struct field arduino_ota_fields[] = {
	{"firmware", FIELD_STRING, true, 1, 0, check_not_blank},
	{"expire_in_mins", FIELD_INT, false, 1, EXPIRE_MAX, NULL},
	{"filename", FIELD_STRING, false, 1, 100, check_ota_filename},
	{NULL, 0, false, 0, 0, NULL},
};

static struct json_object *num_or_null(struct json_object *o, const char *name)
{
	struct json_object *v;
	return json_object_object_get_ex(o, name, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_new_int64(json_object_get_int64(v))
		       : NULL;
}

/* Our view of an Ota object. */
static struct json_object *ota_view(struct json_object *o)
{
	struct json_object *v = json_object_new_object();
	static const char *const names[][2] = {{"ota_id", "id"},	     {"device_id", "device_id"},
					       {"status", "status"},	     {"started_at", "started_at"},
					       {"ended_at", "ended_at"},     {"error_reason", "error_reason"}};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		json_object_object_add(v, names[i][0], jsonx_string_or_null(jsonx_get_string(o, names[i][1])));
	json_object_object_add(v, "firmware_size", num_or_null(o, "firmware_size"));
	json_object_object_add(v, "retry_attempt", num_or_null(o, "retry_attempt"));
	json_object_object_add(v, "max_retries", num_or_null(o, "max_retries"));
	return v;
}

/* The upload's result: the firmware and Arduino's answer. */
static struct json_object *upload_view(const char *device_id, struct json_object *j, size_t size, long expire)
{
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "device_id", json_object_new_string(device_id));
	json_object_object_add(d, "ota_id", jsonx_string_or_null(j ? jsonx_get_string(j, "ota_id") : NULL));
	json_object_object_add(d, "status", jsonx_string_or_null(j ? jsonx_get_string(j, "status") : NULL));
	json_object_object_add(d, "ota_version", j ? num_or_null(j, "ota_version") : NULL);
	json_object_object_add(d, "file_sha", jsonx_string_or_null(j ? jsonx_get_string(j, "file_sha") : NULL));
	json_object_object_add(d, "firmware_size", json_object_new_int64((int64_t)size));
	json_object_object_add(d, "expire_in_mins", json_object_new_int64(expire));
	return d;
}

/* Arduino's answer to a call about a device or an OTA, as our failure. */
static int answer_failed(const struct provider_call *c, const struct outbound_response *o, const char *what,
			 const char *not_found_code, const char *not_found, struct provider_result *r)
{
	if (o->status == 404)
		return provider_fail(r, PROVIDER_NOT_FOUND, not_found_code, not_found);
	const char *why = arduino_reason(c->a, o, what);
	if (o->status == 409)
		return provider_fail(r, PROVIDER_CONFLICT, "ota_in_progress", why);
	return provider_fail(r, PROVIDER_UPSTREAM, o->status >= 500 ? "provider_unavailable" : "provider_rejected",
			     why);
}

#define NO_DEVICE "Arduino Cloud has no such device for this account"

/* POST .../arduino-cloud/devices/{device_id}/ota {firmware (base64 of the .ota file),
 * expire_in_mins?, filename?}: 202 with Arduino's OTA id and status | 404 (not
 * configured, no such device) | 409 (disabled, refused credentials, an OTA running) |
 * 413 | 422 | 429 | 502 | 503 | 504. */
int arduino_ota_upload(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	const char *device_id = c->param;
	if (!device_id || !text_is_uuid(device_id))
		return provider_fail(r, PROVIDER_NOT_FOUND, "device_not_found", NO_DEVICE);
	unsigned char *file;
	size_t n;
	if (base64_decode(c->a, jsonx_get_string(c->body, "firmware"), &file, &n))
		return provider_invalid_field(r, "firmware", "must be the .ota file in base64 (RFC 4648)");
	if ((long)n > arduino_ota_max_bytes())
		return provider_fail(r, PROVIDER_TOO_LARGE, "payload_too_large",
				     arena_printf(c->a, "The firmware is %zu bytes; the limit is %ld", n,
						  arduino_ota_max_bytes()));
	const char *bad = arduino_ota_check(file, n, NULL);
	if (bad)
		return provider_invalid_field(r, "firmware", bad);
	struct json_object *e;
	long expire = json_object_object_get_ex(c->body, "expire_in_mins", &e) ? (long)json_object_get_int64(e)
										: EXPIRE_DEF;
	const char *filename = jsonx_get_string(c->body, "filename");
	struct ota_call q = {.method = "POST",
			     .path = arena_printf(c->a, "/iot/v2/devices/%s/ota", device_id),
			     .what = "the OTA upload"};
	q.body = upload_body(c->a, file, n, expire, filename ? filename : "firmware.ota", &q.ctype, &q.body_len);
	struct outbound_response o;
	if (ota_do(c, &q, &o, r))
		return r->outcome;
	if (o.status != 200 && o.status != 201)
		return answer_failed(c, &o, q.what, "device_not_found", NO_DEVICE, r);
	struct json_object *j = outbound_json(c->a, &o);
	if (!j || !json_object_is_type(j, json_type_object))
		return provider_fail(r, PROVIDER_UPSTREAM, "provider_unavailable",
				     "Arduino Cloud's answer to the OTA upload is not JSON");
	struct json_object *d = upload_view(device_id, j, n, expire);
	enum db_status st = audit_record(c->a, c->who, "integration.arduino_ota_uploaded", PROVIDER, json_object_get(d));
	if (st != DB_OK) {
		json_object_put(d);
		return provider_db(c->a, r, st);
	}
	return provider_accepted(r, d, "Firmware uploaded: the device fetches it when it is online");
}

/* GET .../arduino-cloud/ota/{ota_id}: the OTA with its states | 404 (not configured, no
 * such OTA) | 409 | 429 | 502 | 503 | 504. */
int arduino_ota_status(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	const char *id = c->param;
	size_t len = id ? strlen(id) : 0;
	if (!len || len > OTA_ID_MAX || strspn(id, "0123456789abcdefABCDEF-") != len)
		return provider_fail(r, PROVIDER_NOT_FOUND, "ota_not_found", "Arduino Cloud has no such OTA");
	struct ota_call q = {.path = arena_printf(c->a, "/ota/v1/ota/%s", id), .what = "the OTA status"};
	struct outbound_response o;
	if (ota_do(c, &q, &o, r))
		return r->outcome;
	/* arduino-cloud-cli reads 400 as "not found" too. */
	if (o.status == 400 || o.status == 404)
		return provider_fail(r, PROVIDER_NOT_FOUND, "ota_not_found", "Arduino Cloud has no such OTA");
	struct json_object *j = o.status == 200 ? outbound_json(c->a, &o) : NULL, *ota, *states;
	if (!j || !json_object_object_get_ex(j, "ota", &ota) || !json_object_is_type(ota, json_type_object))
		return o.status == 200 ? provider_fail(r, PROVIDER_UPSTREAM, "provider_unavailable",
						       "Arduino Cloud's OTA status carries no ota object")
				       : answer_failed(c, &o, q.what, "ota_not_found", "Arduino Cloud has no such OTA", r);
	struct json_object *v = ota_view(ota), *list = json_object_new_array();
	if (json_object_object_get_ex(j, "states", &states) && json_object_is_type(states, json_type_array))
		for (size_t i = 0; i < json_object_array_length(states); i++) {
			struct json_object *s = json_object_array_get_idx(states, i), *x = json_object_new_object();
			json_object_object_add(x, "state", jsonx_string_or_null(jsonx_get_string(s, "state")));
			json_object_object_add(x, "state_data", jsonx_string_or_null(jsonx_get_string(s, "state_data")));
			json_object_object_add(x, "timestamp", jsonx_string_or_null(jsonx_get_string(s, "timestamp")));
			json_object_array_add(list, x);
		}
	json_object_object_add(v, "states", list);
	return provider_ok(r, v, NULL);
}

/* GET .../arduino-cloud/devices/{device_id}/ota?limit=&order=: the device's OTAs, newest
 * first by default | 404 | 409 | 422 (limit, order) | 429 | 502 | 503 | 504. */
int arduino_ota_list(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	const char *device_id = c->param;
	if (!device_id || !text_is_uuid(device_id))
		return provider_fail(r, PROVIDER_NOT_FOUND, "device_not_found", NO_DEVICE);
	long limit;
	const char *order = c->query ? jsonx_get_string(c->query, "order") : NULL;
	struct json_object *errors = json_object_new_object();
	if (validate_query_int(c->query ? jsonx_get_string(c->query, "limit") : NULL, 10, 1, 100, &limit))
		json_object_object_add(errors, "limit", json_object_new_string("must be an integer from 1 to 100"));
	if (order && strcmp(order, "asc") && strcmp(order, "desc"))
		json_object_object_add(errors, "order", json_object_new_string("must be asc or desc"));
	if (json_object_object_length(errors))
		return provider_invalid(r, errors);
	json_object_put(errors);
	struct ota_call q = {.path = arena_printf(c->a, "/ota/v1/ota?device_id=%s&limit=%ld&order=%s", device_id,
						  limit, order ? order : "desc"),
			     .what = "the OTA list"};
	struct outbound_response o;
	if (ota_do(c, &q, &o, r))
		return r->outcome;
	if (o.status == 400 || o.status == 404)
		return provider_fail(r, PROVIDER_NOT_FOUND, "device_not_found", NO_DEVICE);
	struct json_object *j = o.status == 200 ? outbound_json(c->a, &o) : NULL, *otas;
	if (!j || !json_object_object_get_ex(j, "ota", &otas) || !json_object_is_type(otas, json_type_array))
		return o.status == 200 ? provider_fail(r, PROVIDER_UPSTREAM, "provider_unavailable",
						       "Arduino Cloud's OTA list carries no ota array")
				       : answer_failed(c, &o, q.what, "device_not_found", NO_DEVICE, r);
	struct json_object *list = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(otas); i++) {
		struct json_object *e = json_object_array_get_idx(otas, i);
		if (json_object_is_type(e, json_type_object))
			json_object_array_add(list, ota_view(e));
	}
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "device_id", json_object_new_string(device_id));
	json_object_object_add(d, "otas", list);
	return provider_ok(r, d, NULL);
}
