/* application/x-www-form-urlencoded bodies and HTTP Basic credentials, the two inputs
 * of the OAuth 2.0 endpoints (RFC 6749 §2.3.1, §4.4, RFC 7009, RFC 7662). */
#ifndef SB_FORM_H
#define SB_FORM_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct kv;
struct request;

#define FORM_MAX_FIELDS 32

/* Parses body[0..len) into out[0..cap): names and values percent-decoded, '+' a space.
 * Returns 0 with *n set, or -1 for a malformed escape, an encoded NUL, too many
 * fields, or a name given twice (RFC 6749 §3.2: parameters must not repeat). */
int form_parse(struct arena *a, const char *body, size_t len, struct kv *out, size_t cap, size_t *n);

/* True when the request's Content-Type media type is application/x-www-form-urlencoded. */
bool form_is_form(const struct request *rq);

/* Value of a field parsed into rq->form, or NULL. */
const char *form_value(const struct request *rq, const char *name);

/* Parses an Authorization header "Basic base64(user:pass)". RFC 6749 §2.3.1: the client
 * id and secret are form-urlencoded before base64, so both are percent-decoded here.
 * Returns 1 with *user and *pass (arena) set, 0 when the scheme is not Basic, -1 when it
 * is Basic but malformed (bad base64, no colon, bad escape, empty user). */
int basic_auth_parse(struct arena *a, const char *header, const char **user, const char **pass);

#endif
