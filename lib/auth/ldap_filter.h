/* LDAP search filters built from untrusted input: RFC 4515 escaping of an assertion
 * value, and an operator's filter template with the value put in. No libldap here. */
#ifndef SB_LDAP_FILTER_H
#define SB_LDAP_FILTER_H

#include <stddef.h>

struct arena;

/* The n bytes of value with every '*', '(', ')', '\' and NUL written as \hh (RFC 4515
 * section 3), so the result can only ever match as a literal value. In the arena. */
char *ldap_filter_escape(struct arena *a, const char *value, size_t n);

/* The template with every "%s" replaced by the escaped value (n bytes); NULL when the
 * template has no "%s" or is not parenthesised. In the arena. */
char *ldap_filter_build(struct arena *a, const char *tmpl, const char *value, size_t n);

#endif
