/* Export delivery (issue 16): a finished export file uploaded to the user's own object
 * storage, named by the job's destination ({"type": "s3", "prefix": "..."}) and using
 * the user's saved s3 integration. */
#ifndef SB_EXPORT_DELIVER_H
#define SB_EXPORT_DELIVER_H

#include "transfer/export_store.h"

struct arena;
struct json_object;

/* Checks a request's destination member (dest) for user_id: {field: message} added to
 * errors ("destination", "destination.type", "destination.prefix"), including a user
 * without an enabled s3 integration. Returns the clean destination as JSON text (arena),
 * or NULL when it is invalid. */
const char *export_destination_check(struct arena *a, const char *user_id, struct json_object *dest,
				     struct json_object *errors);

/* Uploads the file at path (the job's finished export) to the job's destination.
 * Returns 0 with *key the object key, or -1 with *why for the user (no secret). */
int export_deliver(struct arena *a, const struct export_job *job, const char *path, const char **key,
		   const char **why);

#endif
