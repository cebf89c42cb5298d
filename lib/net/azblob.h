/* Azure Blob Storage: blob PUT (block blob), GET, DELETE and the container's properties,
 * authorized with Shared Key (the account key signs a canonical string of the request:
 * verb, standard headers, x-ms-* headers, /account/path and query) and sent through
 * net/outbound.h with the private-address guard and certificate checks. */
#ifndef SB_NET_AZBLOB_H
#define SB_NET_AZBLOB_H

#include <stddef.h>

#include "net/outbound.h"

struct arena;

struct azblob_target {
	const char *endpoint; /* "https://ACCOUNT.blob.core.windows.net" */
	const char *account;
	const char *key; /* the account key, base64 */
	const char *container;
	long timeout_ms; /* 0: outbound's default */
};

#define AZBLOB_VERSION "2021-08-06"

/* The Shared Key signature (base64) of a request described by its parts; date is the
 * x-ms-date value, extra the other x-ms-* headers as "name:value" lines (lowercase
 * names, sorted, each ending in \n; may be ""), path the URL path, query the canonical
 * query lines ("\nrestype:container", may be ""). NULL when the key is not base64. */
char *azblob_sign(struct arena *a, const char *key, const char *verb, size_t content_length,
		  const char *content_type, const char *date, const char *extra, const char *account, const char *path,
		  const char *query);

/* One call on blob (NULL: the container itself, ?restype=container). Methods: PUT
 * (blob only), GET, DELETE, HEAD. Returns 0 when an answer arrived, -1 otherwise. */
int azblob_call(struct arena *a, const struct azblob_target *t, const char *method, const char *blob, const char *body,
		size_t len, const char *content_type, struct outbound_response *out);

/* Why a call failed, for the user ("403 AuthenticationFailed: Server failed..."). */
const char *azblob_failure(struct arena *a, const struct outbound_response *r);

const char *azblob_check_account(const char *name);
const char *azblob_check_container(const char *name);
const char *azblob_check_key(const char *key);

#endif
