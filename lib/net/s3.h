/* An S3-compatible object store (AWS S3, MinIO, Ceph, R2, ...): object PUT, GET, DELETE
 * and a bucket HEAD, signed with AWS Signature Version 4 by libcurl
 * (CURLOPT_AWS_SIGV4 "aws:amz:REGION:s3") and sent through net/outbound.h with the
 * private-address guard (the endpoint is user-supplied) and certificate checks. */
#ifndef SB_NET_S3_H
#define SB_NET_S3_H

#include <stdbool.h>
#include <stddef.h>

#include "net/outbound.h"

struct arena;

struct s3_target {
	const char *endpoint; /* "https://s3.eu-central-1.amazonaws.com" (scheme, host, optional port) */
	const char *region;   /* "eu-central-1" */
	const char *bucket;
	const char *access_key_id, *secret_access_key;
	bool virtual_host; /* bucket.host/key; false: host/bucket/key (path style) */
	long timeout_ms;   /* of each call; 0: outbound's default */
};

/* The URL of key (NULL or "": the bucket itself), or NULL when the endpoint is malformed. */
char *s3_url(struct arena *a, const struct s3_target *t, const char *key);

/* One signed call: method "PUT", "GET", "DELETE" or "HEAD" on key (NULL: the bucket).
 * Returns 0 when an answer arrived (check out->status), -1 otherwise (outbound.h). */
int s3_call(struct arena *a, const struct s3_target *t, const char *method, const char *key, const char *body,
	    size_t len, const char *content_type, struct outbound_response *out);

/* Why a call failed, for the user: "403 SignatureDoesNotMatch: The request signature..."
 * from the error document (S3's, or Azure Blob's with the same Code and Message), or
 * the transport's reason. Never a credential. */
const char *s3_failure(struct arena *a, const struct outbound_response *r);

/* Field checks (NULL when valid, else a static message). */
const char *s3_check_endpoint(const char *url, bool allow_http);
const char *s3_check_bucket(const char *bucket);
const char *s3_check_region(const char *region);
/* Key prefixes and keys: 0-900 characters of [A-Za-z0-9!-_.*'()/], no "//", no "..",
 * not starting with "/": names that need no percent-encoding in a signed path. */
const char *s3_check_key(const char *key);

#endif
