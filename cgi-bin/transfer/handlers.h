/* The transfer group: export jobs and their files, scheduled exports, CSV imports and
 * their templates. */
#ifndef SB_TRANSFER_HANDLERS_H
#define SB_TRANSFER_HANDLERS_H

#include "core/validate.h"

struct request;

extern const struct field export_create_fields[], schedule_create_fields[];

int handle_export_create(struct request *rq);
int handle_export_list(struct request *rq);
int handle_export_get(struct request *rq);
int handle_export_delete(struct request *rq);
int handle_export_download(struct request *rq);
int handle_schedule_create(struct request *rq);
int handle_schedule_list(struct request *rq);
int handle_schedule_delete(struct request *rq);
int handle_import_create(struct request *rq);
int handle_import_list(struct request *rq);
int handle_import_get(struct request *rq);
int handle_import_errors(struct request *rq);
int handle_import_template(struct request *rq);

/* The {name} path parameter when it is a UUID; otherwise answers 404 (what) and returns NULL. */
const char *transfer_path_uuid(struct request *rq, const char *name, const char *what);

/* Checks an export body (entity, format, filters, columns) shared by one-off and
 * scheduled exports; adds {field: message} to errors. Fills the request parts. */
struct json_object;
struct export_request;
void export_body_check(struct request *rq, struct json_object *body, bool with_window, struct json_object *errors,
		       struct export_request *er);

#endif
