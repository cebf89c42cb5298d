/* Directory sign-in settings; see ldap_settings.h. */
#include "auth/ldap_settings.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "auth/scope.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/jsonx.h"

#define SECRET_MAX 1024

bool ldap_url_is_loopback(const char *url)
{
	const char *h = NULL;
	if (!strncasecmp(url, "ldap://", 7))
		h = url + 7;
	else if (!strncasecmp(url, "ldaps://", 8))
		h = url + 8;
	if (!h)
		return false;
	if (!strncmp(h, "[::1]", 5))
		return h[5] == '\0' || h[5] == ':' || h[5] == '/';
	size_t n = strcspn(h, ":/ ");
	if (n == 9 && !strncasecmp(h, "localhost", 9))
		return h[n] != ' ';
	if (n < 7 || strncmp(h, "127.", 4) || h[n] == ' ')
		return false;
	for (size_t i = 4; i < n; i++)
		if (!strchr("0123456789.", h[i]))
			return false;
	return true;
}

/* The first line of the file, without its newline; NULL (and *why) when unreadable. */
static const char *read_secret(struct arena *a, const char *path, const char **why)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		*why = arena_printf(a, "SB_LDAP_BIND_PASSWORD_FILE %s: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = arena_alloc(a, SECRET_MAX + 1);
	size_t n = buf ? fread(buf, 1, SECRET_MAX, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!*buf)
		*why = "SB_LDAP_BIND_PASSWORD_FILE is empty";
	return *buf ? buf : NULL;
}

/* SB_LDAP_GROUP_SCOPES: a JSON object of group DN -> known scope names. */
static int load_group_scopes(struct arena *a, struct ldap_settings *s, const char **why)
{
	const char *raw = config_str("SB_LDAP_GROUP_SCOPES", NULL);
	if (!raw || !*raw)
		return 0;
	struct json_object *o = json_tokener_parse(raw);
	if (o)
		arena_defer(a, jsonx_put, o);
	if (!o || !json_object_is_type(o, json_type_object) || !json_object_object_length(o)) {
		*why = "SB_LDAP_GROUP_SCOPES must be a JSON object {\"group DN\": \"scope ...\"}";
		return -1;
	}
	json_object_object_foreach(o, dn, v)
	{
		const char *bad = NULL;
		const char *set = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
		if (!*dn || !set || !scope_normalise(a, set, &bad)) {
			*why = arena_printf(a, "SB_LDAP_GROUP_SCOPES: group %s: %s", dn,
					    bad ? arena_printf(a, "unknown scope %s", bad) : "scopes must be a string");
			return -1;
		}
	}
	s->group_scopes = o;
	return 0;
}

static const char *check_transport(struct ldap_settings *s)
{
	bool tls_url = !strncasecmp(s->url, "ldaps://", 8), plain_url = !strncasecmp(s->url, "ldap://", 7);
	if (!tls_url && !plain_url)
		return "SB_LDAP_URL must be an ldaps:// or ldap:// URL";
	if (tls_url && s->starttls)
		return "SB_LDAP_STARTTLS is for ldap:// URLs (ldaps:// is TLS already)";
	if (plain_url && !s->starttls && !s->plain)
		return "an ldap:// URL needs SB_LDAP_STARTTLS=1 (or SB_LDAP_ALLOW_PLAIN=1 on loopback)";
	if (s->plain && (!plain_url || s->starttls || !ldap_url_is_loopback(s->url)))
		return "SB_LDAP_ALLOW_PLAIN=1 is allowed only with an ldap:// URL on a loopback address";
	return NULL;
}

int ldap_settings_load(struct arena *a, struct ldap_settings *s, const char **why)
{
	memset(s, 0, sizeof(*s));
	*why = NULL;
	s->url = config_str("SB_LDAP_URL", NULL);
	if (!s->url || !*s->url)
		return 0;
	s->base_dn = config_str("SB_LDAP_BASE_DN", NULL);
	s->user_filter = config_str("SB_LDAP_USER_FILTER", "(uid=%s)");
	s->bind_dn = config_str("SB_LDAP_BIND_DN", NULL);
	s->ca_file = config_str("SB_LDAP_CA_FILE", NULL);
	s->group_base_dn = config_str("SB_LDAP_GROUP_BASE_DN", NULL);
	s->group_filter = config_str("SB_LDAP_GROUP_FILTER", "(|(member=%s)(uniqueMember=%s))");
	s->starttls = config_bool("SB_LDAP_STARTTLS", false);
	s->plain = config_bool("SB_LDAP_ALLOW_PLAIN", false);
	s->timeout_ms = config_int("SB_LDAP_TIMEOUT_MS", 5000, 100, 60000);
	if (!s->base_dn || !*s->base_dn)
		*why = "SB_LDAP_BASE_DN is required with SB_LDAP_URL";
	else if (!strstr(s->user_filter, "%s") || s->user_filter[0] != '(')
		*why = "SB_LDAP_USER_FILTER must be a parenthesised filter with %s for the username";
	else if (!strstr(s->group_filter, "%s") || s->group_filter[0] != '(')
		*why = "SB_LDAP_GROUP_FILTER must be a parenthesised filter with %s for the user's DN";
	else
		*why = check_transport(s);
	if (*why)
		return -1;
	if (!s->group_base_dn || !*s->group_base_dn)
		s->group_base_dn = s->base_dn;
	if (s->bind_dn && *s->bind_dn) {
		const char *file = config_str("SB_LDAP_BIND_PASSWORD_FILE", NULL);
		if (!file || !*file) {
			*why = "SB_LDAP_BIND_DN needs SB_LDAP_BIND_PASSWORD_FILE";
			return -1;
		}
		if (!(s->bind_password = read_secret(a, file, why)))
			return -1;
	} else {
		s->bind_dn = NULL;
	}
	return load_group_scopes(a, s, why) ? -1 : 1;
}

const char *ldap_settings_scopes(struct arena *a, const struct ldap_settings *s, const char *const *groups,
				 int n)
{
	if (!s->group_scopes)
		return NULL;
	const char *all = "";
	json_object_object_foreach(s->group_scopes, dn, v)
	{
		for (int i = 0; i < n; i++)
			if (groups[i] && !strcasecmp(groups[i], dn))
				all = arena_printf(a, "%s %s", all, json_object_get_string(v));
	}
	const char *bad;
	const char *out = scope_normalise(a, all, &bad);
	return out ? out : "";
}
