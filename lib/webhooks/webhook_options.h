/* Per-webhook delivery options: the body's shape (payload_format standard or envelope,
 * a field filter of JSON pointers over data), static custom headers, and the receiver
 * addresses a delivery may connect to (allowed_ips). The checks answer the user's
 * messages (the webhooks routes and the import use them); the builders run at send
 * time in the worker and in test sends. No SQL here. */
#ifndef SB_WEBHOOK_OPTIONS_H
#define SB_WEBHOOK_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct arena;
struct json_object;

#define WEBHOOK_MAX_POINTERS 20	   /* per include/exclude list */
#define WEBHOOK_MAX_POINTER_LEN 256
#define WEBHOOK_MAX_HEADERS 10
#define WEBHOOK_MAX_HEADER_NAME 64
#define WEBHOOK_MAX_HEADER_VALUE 1024
#define WEBHOOK_MAX_ALLOWED_IPS 20

/* NULL when v is a JSON array of at most WEBHOOK_MAX_POINTERS RFC 6901 JSON pointers
 * ("/a/b", "~0" and "~1" escapes, no empty pointer), else the message. */
const char *webhook_pointers_check(struct json_object *v);

/* NULL when v is an object of at most WEBHOOK_MAX_HEADERS headers: names HTTP tokens
 * (RFC 9110) of at most 64 characters, not webhook-*, content-type, content-length,
 * host, user-agent or a hop-by-hop header (also not twice in different case); values
 * strings of at most 1024 characters with no control character (no CR/LF). */
const char *webhook_headers_check(struct json_object *v);

/* One allowed network: family AF_INET or AF_INET6, the address bytes, the prefix. */
struct webhook_cidr {
	int family;
	unsigned char addr[16];
	int prefix;
};
/* Parses "a.b.c.d[/n]" or "v6[/n]" (no prefix: a single address); host bits must be 0.
 * 0, or -1 when s is not such a network. */
int webhook_cidr_parse(const char *s, struct webhook_cidr *out);
/* True when sa (v4, v6, or v4-mapped v6) is inside c. */
bool webhook_cidr_contains(const struct webhook_cidr *c, const struct sockaddr *sa);
/* NULL when v is an array of at most WEBHOOK_MAX_ALLOWED_IPS networks webhook_cidr_parse
 * accepts, else the message. */
const char *webhook_allowed_ips_check(struct json_object *v);

/* The body delivered for an event: format "envelope" gives {id, event, created_at, data}
 * (id: the message id, as in the webhook-id header), anything else the Standard Webhooks
 * {type, timestamp, data}. include_json and exclude_json are JSON arrays of pointers
 * (NULL or "[]": no filter): a non-empty include keeps only the members it names (paths
 * through objects; intermediate objects are kept with just those members), then exclude
 * removes the members or array items it names. Data that is not valid JSON is sent as
 * is. In the arena. */
char *webhook_body_build(struct arena *a, const char *format, const char *type, const char *message_id,
			 const char *timestamp, const char *data_json, const char *include_json,
			 const char *exclude_json);

/* data filtered by include and exclude (JSON arrays of pointers, may be NULL); returns a
 * new object the caller owns (data itself is not changed). */
struct json_object *webhook_filter_data(struct json_object *data, struct json_object *include,
					struct json_object *exclude);

#endif
