/* What can be exported and imported, declared as data: each export entity is a FROM
 * clause that only ever reaches the caller's rows, its columns (SQL expression, type,
 * width) and the filters it understands; each import entity is the field table its
 * rows are validated with, an example row, the rules shown in the template, and one
 * store call. Adding an entity is an entry here (and, for imports, its store call). */
#ifndef SB_TRANSFER_ENTITY_H
#define SB_TRANSFER_ENTITY_H

#include <stdbool.h>
#include <stddef.h>

#include "core/validate.h"
#include "db/db.h"

struct arena;
struct actor;
struct json_object;

/* How a column is typed in an XLSX cell (and whether the CSV formula guard applies). */
enum transfer_type { TT_TEXT, TT_INT, TT_NUMBER, TT_BOOL, TT_TIME, TRANSFER_TYPE__MAX };

struct export_column {
	const char *name;
	const char *sql; /* expression over alias t (and joins), never a secret column */
	enum transfer_type type;
	unsigned width; /* XLSX column width in characters */
};

struct export_entity {
	const char *name;
	/* "FROM ... WHERE t.user_id = <the user setting>": the owner filter is part of it. */
	const char *from;
	const char *time_sql;	     /* what from/to compare: the row's creation time */
	const char *order_sql;	     /* a total order, so an export is reproducible */
	const char *provider_sql;    /* filter "provider" compares this, NULL: not offered */
	const char *webhook_sql;     /* filter "webhook_id" */
	const char *status_sql;	     /* filter "status" */
	const char *const *statuses; /* values "status" may take; NULL: any up to 32 characters */
	const struct export_column *columns;
	size_t ncolumns;
};

const struct export_entity *export_entity_find(const char *name);
/* Every export entity; *n receives the count. */
const struct export_entity *export_entities(size_t *n);
/* Index of column name in e, or -1. */
int export_column_index(const struct export_entity *e, const char *name);

/* Import: rows become JSON objects typed by the field table, validated with it (and
 * row_check), and handed to store in batches. */
struct import_entity;
struct import_batch {
	struct json_object **rows; /* validated objects */
	int *row_numbers;	   /* their row numbers in the file */
	size_t n;
};

/* Per-row failure, reported as {row, column, code, message}. */
struct import_row_error {
	const char *column, *code, *message;
};

struct import_entity {
	const char *name;
	const struct field *fields;  /* NULL-name-terminated; its order is the template's header */
	const char *const *examples; /* one example cell per field */
	const char *const *rules;    /* one human rule per field, for the XLSX template */
	/* Rules beyond the field table (URLs, provider rules). Adds {column: message} to
	 * errors. May be NULL. */
	void (*row_check)(struct arena *a, const char *user_id, struct json_object *row, struct json_object *errors);
	/* Before the first row: loads what row checks across rows need (existing names).
	 * *state is passed to the other calls. May be NULL. */
	enum db_status (*begin)(struct arena *a, const char *user_id, void **state);
	/* Checks across rows (duplicates, caps) after the row's own checks passed. */
	void (*cross_check)(struct arena *a, void *state, struct json_object *row, struct json_object *errors);
	/* Writes the batch in the caller's transaction. */
	enum db_status (*store)(struct arena *a, const char *user_id, void *state, const struct import_batch *b);
	/* After the last batch (the Blynk devices are one row of user_integrations). May be NULL. */
	enum db_status (*finish)(struct arena *a, const char *user_id, void *state);
	/* Columns accepted in a file and skipped (the export's own, such as id); NULL-
	 * terminated, may be NULL. Columns of optional fields may be left out of a file. */
	const char *const *ignored;
};

const struct import_entity *import_entity_find(const char *name);
const struct import_entity *import_entities(size_t *n);
size_t import_entity_ncolumns(const struct import_entity *e);

/* Converts one CSV cell to the JSON value of field f: an empty cell is absent (NULL
 * *out); ints and booleans are parsed (1/0, true/false, yes/no); arrays are cells of
 * space- or comma-separated words, or a JSON array; objects are JSON objects. Returns NULL, or the message when the text is not
 * of the field's type. */
const char *import_cell_value(const struct field *f, const char *cell, struct json_object **out);

#endif
