/* Directory sign-in through libldap; see ldap_directory.h. */
#include "auth/ldap_directory.h"

#include <ctype.h>
#include <ldap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "auth/ldap_filter.h"
#include "auth/ldap_settings.h"
#include "core/arena.h"

#define SYSTEM_CA_FILE "/etc/ssl/certs/ca-certificates.crt"
#define MAX_GROUPS     64
/* Bound as when the user is not found: the bind fails the way a wrong password does. */
#define NO_SUCH_USER_RDN "cn=switchboard-no-such-user"

struct conn {
	LDAP *ld;
	struct timeval timeout;
};

static enum ldap_outcome failed(struct arena *a, const char **why, const char *what, int rc)
{
	*why = arena_printf(a, "%s: %s", what, ldap_err2string(rc));
	return LDAP_SIGNIN_UNAVAILABLE;
}

/* libldap's own configuration files (ldap.conf, .ldaprc, LDAP* variables) never apply:
 * every setting comes from ours, so nothing on the host can loosen the TLS checks. */
static int set_tls(struct conn *c, const struct ldap_settings *s)
{
	int demand = LDAP_OPT_X_TLS_DEMAND, zero = 0, v3 = LDAP_VERSION3;
	const char *ca = s->ca_file && *s->ca_file ? s->ca_file : SYSTEM_CA_FILE;
	long ms = s->timeout_ms;
	c->timeout.tv_sec = ms / 1000;
	c->timeout.tv_usec = (ms % 1000) * 1000;
	if (ldap_set_option(c->ld, LDAP_OPT_PROTOCOL_VERSION, &v3) ||
	    ldap_set_option(c->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) ||
	    ldap_set_option(c->ld, LDAP_OPT_NETWORK_TIMEOUT, &c->timeout) ||
	    ldap_set_option(c->ld, LDAP_OPT_TIMEOUT, &c->timeout))
		return -1;
	if (s->plain)
		return 0;
	/* A fresh TLS context per connection: the CA file is read now, not cached. */
	if (ldap_set_option(c->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) ||
	    ldap_set_option(c->ld, LDAP_OPT_X_TLS_CACERTFILE, ca) ||
	    ldap_set_option(c->ld, LDAP_OPT_X_TLS_NEWCTX, &zero))
		return -1;
	return 0;
}

static enum ldap_outcome open_conn(struct arena *a, const struct ldap_settings *s, struct conn *c, const char **why)
{
	setenv("LDAPNOINIT", "1", 1);
	int rc = ldap_initialize(&c->ld, s->url);
	if (rc != LDAP_SUCCESS)
		return failed(a, why, "SB_LDAP_URL", rc);
	if (set_tls(c, s)) {
		*why = "cannot set the LDAP connection options";
		return LDAP_SIGNIN_UNAVAILABLE;
	}
	if (s->starttls && (rc = ldap_start_tls_s(c->ld, NULL, NULL)) != LDAP_SUCCESS)
		return failed(a, why, "StartTLS", rc);
	if (s->bind_dn) {
		struct berval cred = {strlen(s->bind_password), (char *)s->bind_password};
		rc = ldap_sasl_bind_s(c->ld, s->bind_dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
		if (rc != LDAP_SUCCESS)
			return failed(a, why, "the service bind (SB_LDAP_BIND_DN)", rc);
	}
	return LDAP_SIGNIN_OK;
}

/* The first value of attr on entry e, in the arena; binary values (objectGUID) as hex. */
static const char *first_value(struct arena *a, LDAP *ld, LDAPMessage *e, const char *attr, int hex)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	const char *out = NULL;
	if (v && v[0] && v[0]->bv_len && v[0]->bv_len < 4096) {
		if (!hex) {
			out = arena_strndup(a, v[0]->bv_val, v[0]->bv_len);
		} else {
			char *h = arena_alloc(a, v[0]->bv_len * 2 + 1);
			for (size_t i = 0; h && i < v[0]->bv_len; i++)
				snprintf(h + 2 * i, 3, "%02x", (unsigned char)v[0]->bv_val[i]);
			out = h;
		}
	}
	ldap_value_free_len(v);
	return out;
}

/* Adds the values of the user's memberOf (Active Directory, OpenLDAP's memberof overlay). */
static int member_of(struct arena *a, LDAP *ld, LDAPMessage *e, const char **groups, int n)
{
	struct berval **v = ldap_get_values_len(ld, e, "memberOf");
	for (int i = 0; v && v[i] && n < MAX_GROUPS; i++)
		groups[n++] = arena_strndup(a, v[i]->bv_val, v[i]->bv_len);
	ldap_value_free_len(v);
	return n;
}

static void fill_identity(struct arena *a, LDAP *ld, LDAPMessage *e, struct ldap_identity *id)
{
	char *dn = ldap_get_dn(ld, e);
	id->dn = dn ? arena_strdup(a, dn) : NULL;
	ldap_memfree(dn);
	id->subject = first_value(a, ld, e, "entryUUID", 0);
	if (!id->subject)
		id->subject = first_value(a, ld, e, "objectGUID", 1);
	if (!id->subject && id->dn) {
		char *lower = arena_strdup(a, id->dn);
		for (char *p = lower; p && *p; p++)
			*p = (char)tolower((unsigned char)*p);
		id->subject = lower;
	}
	id->email = first_value(a, ld, e, "mail", 0);
	id->name = first_value(a, ld, e, "displayName", 0);
	if (!id->name)
		id->name = first_value(a, ld, e, "cn", 0);
}

/* Searches the user; id->dn stays NULL when there is not exactly one. Groups from
 * memberOf go to groups (*n). */
static enum ldap_outcome find_user(struct arena *a, const struct ldap_settings *s, struct conn *c,
				   const char *filter, struct ldap_identity *id, const char **groups, int *n,
				   const char **why)
{
	static char *attrs[] = {"entryUUID", "objectGUID", "mail", "displayName", "cn", "memberOf", NULL};
	LDAPMessage *res = NULL;
	int rc = ldap_search_ext_s(c->ld, s->base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL, &c->timeout,
				   2, &res);
	enum ldap_outcome out = LDAP_SIGNIN_OK;
	if (rc == LDAP_SUCCESS && ldap_count_entries(c->ld, res) == 1) {
		LDAPMessage *e = ldap_first_entry(c->ld, res);
		fill_identity(a, c->ld, e, id);
		*n = member_of(a, c->ld, e, groups, *n);
	} else if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
		out = failed(a, why, "the user search", rc);
	}
	ldap_msgfree(res);
	return out;
}

/* Adds the DNs of the groups whose members include dn (SB_LDAP_GROUP_FILTER). */
static enum ldap_outcome find_groups(struct arena *a, const struct ldap_settings *s, struct conn *c,
				     const char *dn, const char **groups, int *n, const char **why)
{
	static char *attrs[] = {LDAP_NO_ATTRS, NULL};
	const char *filter = ldap_filter_build(a, s->group_filter, dn, strlen(dn));
	LDAPMessage *res = NULL;
	if (!filter)
		return LDAP_SIGNIN_UNAVAILABLE;
	int rc = ldap_search_ext_s(c->ld, s->group_base_dn, LDAP_SCOPE_SUBTREE, filter, attrs, 0, NULL, NULL,
				   &c->timeout, MAX_GROUPS, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED && rc != LDAP_NO_SUCH_OBJECT) {
		ldap_msgfree(res);
		return failed(a, why, "the group search", rc);
	}
	for (LDAPMessage *e = ldap_first_entry(c->ld, res); e && *n < MAX_GROUPS; e = ldap_next_entry(c->ld, e)) {
		char *g = ldap_get_dn(c->ld, e);
		if (g)
			groups[(*n)++] = arena_strdup(a, g);
		ldap_memfree(g);
	}
	ldap_msgfree(res);
	return LDAP_SIGNIN_OK;
}

/* Looks the user and their groups up, then binds as them (or as a DN that does not exist
 * when they were not found: the same work either way). */
static enum ldap_outcome verify(struct arena *a, const struct ldap_settings *s, struct conn *c, const char *filter,
				const char *password, struct ldap_identity *id, const char **why)
{
	const char *groups[MAX_GROUPS];
	int n = 0;
	enum ldap_outcome out = find_user(a, s, c, filter, id, groups, &n, why);
	const char *dn = id->dn ? id->dn : arena_printf(a, NO_SUCH_USER_RDN ",%s", s->base_dn);
	if (out == LDAP_SIGNIN_OK && s->group_scopes)
		out = find_groups(a, s, c, dn, groups, &n, why);
	if (out != LDAP_SIGNIN_OK)
		return out;
	struct berval cred = {strlen(password), (char *)password};
	int rc = ldap_sasl_bind_s(c->ld, dn, LDAP_SASL_SIMPLE, &cred, NULL, NULL, NULL);
	if (rc == LDAP_SERVER_DOWN || rc == LDAP_TIMEOUT || rc == LDAP_UNAVAILABLE || rc == LDAP_BUSY)
		return failed(a, why, "the user bind", rc);
	if (rc != LDAP_SUCCESS || !id->dn) {
		*why = id->dn ? "wrong password" : "no such user";
		return LDAP_SIGNIN_DENIED;
	}
	id->scopes = ldap_settings_scopes(a, s, groups, n);
	if (id->scopes && !*id->scopes) {
		*why = "the user is in no group of SB_LDAP_GROUP_SCOPES";
		return LDAP_SIGNIN_DENIED;
	}
	return LDAP_SIGNIN_OK;
}

enum ldap_outcome ldap_sign_in(struct arena *a, const struct ldap_settings *s, const char *username, size_t n,
			       const char *password, struct ldap_identity *id, const char **why)
{
	memset(id, 0, sizeof(*id));
	*why = NULL;
	if (!password || !*password || !n) {
		*why = "empty username or password";
		return LDAP_SIGNIN_DENIED;
	}
	const char *filter = ldap_filter_build(a, s->user_filter, username, n);
	if (!filter) {
		*why = "SB_LDAP_USER_FILTER has no %s";
		return LDAP_SIGNIN_UNAVAILABLE;
	}
	struct conn c = {0};
	enum ldap_outcome out = open_conn(a, s, &c, why);
	if (out == LDAP_SIGNIN_OK)
		out = verify(a, s, &c, filter, password, id, why);
	if (c.ld)
		ldap_unbind_ext_s(c.ld, NULL, NULL);
	if (out == LDAP_SIGNIN_OK && !id->name)
		id->name = arena_strndup(a, username, n);
	return out;
}
