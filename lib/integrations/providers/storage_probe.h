/* The probe of an object store's test action (s3, azure_blob): writes a small object,
 * reads it back and compares, deletes it (also after a failed read), step by step, then
 * records the outcome (status, integration.health_changed, integration.tested) and
 * answers: 200 with the steps, or the first failing step as 502/504/address_blocked. */
#ifndef SB_STORAGE_PROBE_H
#define SB_STORAGE_PROBE_H

#include <stddef.h>

struct arena;
struct integration;
struct outbound_response;
struct provider_call;
struct provider_result;

struct storage_ops {
	const char *provider; /* user_integrations.provider */
	const void *target;   /* handed to call */
	const char *where;    /* "bucket" / "container": the member of the answer naming it */
	const char *name;     /* the bucket or container */
	int (*call)(struct arena *a, const void *target, const char *method, const char *key, const char *body,
		    size_t len, const char *content_type, struct outbound_response *out);
	const char *(*failure)(struct arena *a, const struct outbound_response *r);
};

int storage_probe(const struct provider_call *c, const struct integration *row, const struct storage_ops *ops,
		  const char *prefix, const char *ok_message, struct provider_result *r);

#endif
