/* What the Amazon SES and AWS SNS connectors share: their saved configuration (region,
 * access key id, sealed secret access key, optional endpoint), its view, and one
 * SigV4-signed call (libcurl's CURLOPT_AWS_SIGV4) to the service's endpoint. */
#ifndef SB_PROVIDER_AWS_CONN_H
#define SB_PROVIDER_AWS_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct integration;
struct json_object;
struct outbound_response;

/* Field checks for the config tables. */
const char *aws_conn_check_region(struct json_object *v);
const char *aws_conn_check_endpoint(struct json_object *v);

/* Plain http endpoints only where the operator allows it (SB_AWS_ALLOW_HTTP). */
bool aws_conn_allow_http(void);

/* validate_saved: a first save needs the secret access key. */
void aws_conn_validate_saved(struct json_object *body, const struct integration *prev, struct json_object *errors);

/* Copies region, access_key_id, endpoint (and `extra`, NULL-terminated names) from body
 * into a new config, sealing secret_access_key for provider (or keeping prev's). */
int aws_conn_config_build(struct arena *a, const char *provider, const char *user_id, struct json_object *body,
			  const struct integration *prev, const char *const *extra, struct json_object **out);

/* The view's common members (enabled, region, access_key_id, endpoint, has_secret_access_key,
 * status, last_error, last_checked_at, updated_at). */
struct json_object *aws_conn_view(const struct integration *row);

struct aws_call {
	const char *service;	  /* signing name: "ses", "sns" */
	const char *host_prefix;  /* default endpoint https://<host_prefix>.<region>.amazonaws.com */
	const char *method, *path;
	const char *content_type; /* of body, or NULL */
	const char *body;
};

/* Performs the call with the row's credentials. Returns 0 with an answer in *out (any
 * status), -1 with *reason and *http (502/504) when none came, -2 when the stored secret
 * cannot be opened. */
int aws_conn_call(struct arena *a, const char *provider, const struct integration *row, const struct aws_call *c,
		  struct outbound_response *out, const char **reason, int *http);

#endif
