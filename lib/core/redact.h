/* Redaction of what the request log keeps of a request: its query parameters and its
 * body, with every secret-looking member (passwords, secrets, tokens, keys, codes,
 * credentials, cookies, authorization) replaced by "[REDACTED]", and the body capped. */
#ifndef SB_REDACT_H
#define SB_REDACT_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;

#define REDACTED	 "[REDACTED]"
#define REDACT_BODY_MAX	 4096 /* bytes of a body the request log keeps */
#define REDACT_VALUE_MAX 256  /* characters of one query parameter value kept */

/* True when a member or parameter called name holds a secret: it contains (case and
 * '-'/'_' ignored) password, passwd, secret, token, apikey, authorization, credential,
 * privatekey, cookie, session or signature, or is code, codeverifier, key, otp, pin or
 * assertion/clientassertion. Over-redacting is the safe side. */
bool redact_is_secret_name(const char *name);

/* Replaces, in place and at any depth, the value of every member of v whose name is a
 * secret by the string "[REDACTED]" (whatever its type: objects and arrays too). */
void redact_json(struct json_object *v);

/* What the log keeps of a body of len bytes, in the arena, at most cap bytes (cut at a
 * UTF-8 boundary, *truncated set): a JSON body (json true) re-serialised compactly after
 * redact_json; a form body with the value of every secret field replaced; NULL for an
 * empty body. A JSON body that does not parse, or a form that is not text, is kept as a
 * note "[N bytes not logged: ...]" since nothing in it can be told apart. */
char *redact_body(struct arena *a, const char *body, size_t len, bool json, size_t cap, bool *truncated);

/* The note kept instead of a body of another media type: "[N bytes of TYPE not logged]". */
char *redact_body_note(struct arena *a, size_t len, const char *type);

#endif
