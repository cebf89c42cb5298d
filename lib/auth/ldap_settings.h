/* The operator's directory sign-in settings (LDAP / Active Directory), from the
 * environment; see docs/deploy.md "Directory sign-in". Enabled by SB_LDAP_URL. */
#ifndef SB_LDAP_SETTINGS_H
#define SB_LDAP_SETTINGS_H

#include <stdbool.h>

struct arena;
struct json_object;

struct ldap_settings {
	const char *url;	   /* SB_LDAP_URL: ldaps://host[:port], or ldap:// with STARTTLS */
	const char *base_dn;	   /* SB_LDAP_BASE_DN: where users are searched (subtree) */
	const char *user_filter;   /* SB_LDAP_USER_FILTER, "%s" = the escaped username; (uid=%s) */
	const char *bind_dn;	   /* SB_LDAP_BIND_DN: service account for the searches; NULL: anonymous */
	const char *bind_password; /* read from SB_LDAP_BIND_PASSWORD_FILE (never the environment) */
	const char *ca_file;	   /* SB_LDAP_CA_FILE; else the system's CA bundle */
	const char *group_base_dn; /* SB_LDAP_GROUP_BASE_DN; else base_dn */
	const char *group_filter;  /* SB_LDAP_GROUP_FILTER, "%s" = the escaped user DN */
	struct json_object *group_scopes; /* SB_LDAP_GROUP_SCOPES {"group DN": "scopes"}; NULL: none */
	bool starttls;			  /* SB_LDAP_STARTTLS=1 (ldap:// URLs) */
	bool plain;			  /* SB_LDAP_ALLOW_PLAIN=1 on a loopback ldap:// URL: no TLS */
	long timeout_ms;		  /* SB_LDAP_TIMEOUT_MS: network and operation timeout */
};

/* 1 and *s filled when SB_LDAP_URL is set and the settings hold together; 0 when directory
 * sign-in is not configured; -1 with *why (for the log) when misconfigured. */
int ldap_settings_load(struct arena *a, struct ldap_settings *s, const char **why);

/* The scopes (normalised, space-separated, in the arena) the group DNs given grant under
 * s->group_scopes, compared case-insensitively; "" when none matches. NULL when there is
 * no mapping (every scope). */
const char *ldap_settings_scopes(struct arena *a, const struct ldap_settings *s, const char *const *groups,
				 int n);

/* True when the host of an ldap:// or ldaps:// URL is a loopback address or localhost. */
bool ldap_url_is_loopback(const char *url);

#endif
