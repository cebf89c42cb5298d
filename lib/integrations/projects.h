/* The user's projects (the platform's own rows) as integrations read them: the files
 * GitHub sync pushes and Google Drive export uploads. */
#ifndef SB_PROJECTS_H
#define SB_PROJECTS_H

#include <stddef.h>

#include "core/validate.h"
#include "db/db.h"

struct arena;
struct json_object;

/* Projects one request may name. */
#define PROJECTS_MAX 100

/* A field check: an array of project ids (UUIDs). */
const char *projects_check_ids(struct json_object *v);
/* The body {project_ids: [...]} of an action on projects (1 to PROJECTS_MAX). */
extern const struct field project_ids_fields[];

struct project {
	const char *id, *name;
	const char *content; /* JSON text */
};

/* The projects of user_id among ids (a JSON array of UUID strings), ordered by name and
 * id, into *out (*n of them, in the arena). *missing receives the ids that are not the
 * user's (unknown or another user's: the same), a JSON array owned by the arena, or NULL
 * when every one was found. */
enum db_status projects_of_user(struct arena *a, const char *user_id, struct json_object *ids, struct project **out,
				size_t *n, struct json_object **missing);

/* The file written for a project: its id, name and content, pretty-printed so diffs
 * read well, with a final newline. */
const char *project_file(struct arena *a, const struct project *p);

/* The projects named in c->body's project_ids, or 0 after filling *r with
 * PROVIDER_NOT_FOUND project_not_found (naming the missing ids: they are the caller's
 * own input) or PROVIDER_DB. Returns 0 when loaded. */
struct provider_call;
struct provider_result;
int projects_requested(const struct provider_call *c, struct project **out, size_t *n, struct provider_result *r);

#endif
