/* SMTP: the user's own mail server (spec 002 §5, email). Config: host, port, security
 * (starttls, tls, or none when the operator allows plaintext: SB_SMTP_ALLOW_PLAINTEXT),
 * username, password (write-only, sealed), from_address. The host is user-supplied:
 * the private-address guard applies. */
#include "integrations/providers/smtp.h"

#include <json-c/json.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"
#include "core/validate.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"

static const char *check_host(struct json_object *v)
{
	const char *s = json_object_get_string(v);
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      strchr(".-:", *c)))
			return "must be a host name or an IP address (no scheme, port or path)";
	if (*s == '.' || *s == '-')
		return "must be a host name or an IP address (no scheme, port or path)";
	return NULL;
}

static const char *check_security(struct json_object *v)
{
	int s = smtp_security_parse(json_object_get_string(v));
	if (s < 0)
		return "must be one of starttls, tls, none";
	if (s == SMTP_SECURITY_NONE && !config_bool("SB_SMTP_ALLOW_PLAINTEXT", false))
		return "none (no TLS) is not allowed on this server: use starttls or tls";
	return NULL;
}

static const char *check_address(struct json_object *v)
{
	return smtp_address_ok(json_object_get_string(v)) ? NULL : "must be an email address (local@domain)";
}

static const struct field smtp_fields[] = {
	{"enabled", FIELD_BOOL, false, 0, 0, NULL},
	{"host", FIELD_STRING, true, 1, 253, check_host},
	{"port", FIELD_INT, false, 1, 65535, NULL},
	{"security", FIELD_STRING, false, 1, 16, check_security},
	{"username", FIELD_STRING, false, 0, 256, check_printable},
	{"password", FIELD_STRING, false, 0, 1024, NULL},
	{"from_address", FIELD_STRING, true, 3, 254, check_address},
	{NULL, 0, false, 0, 0, NULL},
};

static const char *const smtp_secrets[] = {"password", NULL};

static void copy_string(struct json_object *from, struct json_object *to, const char *name)
{
	const char *s = jsonx_get_string(from, name);
	if (s && *s)
		json_object_object_add(to, name, json_object_new_string(s));
}

static int smtp_config_build(struct arena *a, const char *user_id, struct json_object *body,
			     const struct integration *prev, struct json_object **out)
{
	struct json_object *c = json_object_new_object(), *v;
	copy_string(body, c, "host");
	copy_string(body, c, "username");
	copy_string(body, c, "from_address");
	const char *sec = jsonx_get_string(body, "security");
	int s = sec ? smtp_security_parse(sec) : SMTP_SECURITY_STARTTLS;
	json_object_object_add(c, "security", json_object_new_string(smtp_security_name((enum smtp_security)s)));
	long port = json_object_object_get_ex(body, "port", &v) && v ? json_object_get_int64(v)
								      : smtp_default_port((enum smtp_security)s);
	json_object_object_add(c, "port", json_object_new_int64(port));
	const char *password = jsonx_get_string(body, "password");
	if (password && *password) {
		if (integration_seal(a, c, user_id, "smtp", "password", password)) {
			json_object_put(c);
			return -1;
		}
	} else if (!password && prev) {
		/* No password in the body keeps the stored one; "" clears it. */
		const char *sealed = jsonx_get_string(prev->config, "password_encrypted");
		if (sealed)
			json_object_object_add(c, "password_encrypted", json_object_new_string(sealed));
	}
	*out = arena_defer(a, jsonx_put, c);
	return 0;
}

int smtp_saved_options(struct arena *a, const struct integration *row, struct smtp_options *o)
{
	struct json_object *c = row->config, *v;
	memset(o, 0, sizeof(*o));
	o->host = jsonx_get_string(c, "host");
	int s = smtp_security_parse(jsonx_get_string(c, "security"));
	o->security = s < 0 ? SMTP_SECURITY_STARTTLS : (enum smtp_security)s;
	o->port = json_object_object_get_ex(c, "port", &v) ? json_object_get_int64(v) : smtp_default_port(o->security);
	o->username = jsonx_get_string(c, "username");
	o->ca_file = config_str("SB_SMTP_CA_FILE", NULL);
	o->timeout_ms = config_int("SB_SMTP_TIMEOUT_MS", 10000, 500, 60000);
	if (o->username) {
		char *stored = NULL;
		if (integration_open(a, c, row->user_id, "smtp", "password", &stored) < 0)
			return -1;
		o->password = stored;
	}
	return 0;
}

int smtp_send_saved(struct arena *a, const struct integration *row, const char *to, const char *subject,
		    const char *text, const char *message_id, struct smtp_result *r, bool *secret_failed)
{
	struct smtp_options o;
	*secret_failed = false;
	if (smtp_saved_options(a, row, &o)) {
		*secret_failed = true;
		memset(r, 0, sizeof(*r));
		r->error = SMTP_FAILED;
		r->message = "the stored password could not be decrypted";
		return -1;
	}
	/* A config saved while plaintext was allowed is not used once it no longer is. */
	if (o.security == SMTP_SECURITY_NONE && !config_bool("SB_SMTP_ALLOW_PLAINTEXT", false)) {
		memset(r, 0, sizeof(*r));
		r->error = SMTP_TLS;
		r->message = "security none (no TLS) is not allowed on this server";
		return -1;
	}
	struct smtp_message m = {.from = jsonx_get_string(row->config, "from_address"),
				 .to = to,
				 .subject = subject,
				 .text = text,
				 .message_id = message_id};
	return smtp_send(a, &o, &m, r);
}

/* Connect, EHLO, STARTTLS or TLS, AUTH, NOOP. */
static void smtp_health(struct arena *a, const struct actor *who, const struct provider *p,
			const struct integration *row, struct provider_health *out)
{
	(void)who;
	(void)p;
	struct smtp_options o;
	if (smtp_saved_options(a, row, &o)) {
		out->secret_failed = true;
		return;
	}
	if (!o.host) {
		out->status = "error";
		out->error = "no host is saved";
		return;
	}
	struct smtp_result res;
	bool ok = smtp_check(a, &o, &res) == 0;
	out->status = ok ? "connected" : "error";
	out->error = ok ? NULL : res.message;
}

static struct json_object *smtp_view(struct arena *a, const struct integration *row)
{
	(void)a;
	struct json_object *v = json_object_new_object(), *c = row->config, *tmp;
	json_object_object_add(v, "enabled", json_object_new_boolean(row->enabled));
	json_object_object_add(v, "host", jsonx_string_or_null(jsonx_get_string(c, "host")));
	json_object_object_add(v, "port", json_object_object_get_ex(c, "port", &tmp) ? json_object_get(tmp) : NULL);
	json_object_object_add(v, "security", jsonx_string_or_null(jsonx_get_string(c, "security")));
	json_object_object_add(v, "username", jsonx_string_or_null(jsonx_get_string(c, "username")));
	json_object_object_add(v, "has_password",
			       json_object_new_boolean(json_object_object_get_ex(c, "password_encrypted", &tmp)));
	json_object_object_add(v, "from_address", jsonx_string_or_null(jsonx_get_string(c, "from_address")));
	json_object_object_add(v, "status", jsonx_string_or_null(row->status));
	json_object_object_add(v, "last_error", jsonx_string_or_null(row->last_error));
	json_object_object_add(v, "last_checked_at", jsonx_string_or_null(row->last_checked_at));
	json_object_object_add(v, "updated_at", jsonx_string_or_null(row->updated_at));
	return v;
}

static void smtp_catalog(struct json_object *entry)
{
	struct json_object *modes = json_object_new_array();
	json_object_array_add(modes, json_object_new_string("starttls"));
	json_object_array_add(modes, json_object_new_string("tls"));
	if (config_bool("SB_SMTP_ALLOW_PLAINTEXT", false))
		json_object_array_add(modes, json_object_new_string("none"));
	json_object_object_add(entry, "security_modes", modes);
}

static const struct provider_action smtp_actions[] = {
	{"test", false, smtp_test_fields, smtp_test, NULL, NULL},
	{NULL, false, NULL, NULL, NULL, NULL},
};

const struct provider provider_smtp = {
	.name = "smtp",
	.display_name = "Email (SMTP)",
	.description = "Your own mail server: Switchboard sends test messages and your notifications through it",
	.auth = PROVIDER_AUTH_CONFIG,
	.config_fields = smtp_fields,
	.secret_fields = smtp_secrets,
	.config_build = smtp_config_build,
	.view = smtp_view,
	.catalog = smtp_catalog,
	.health = smtp_health,
	.actions = smtp_actions,
};
