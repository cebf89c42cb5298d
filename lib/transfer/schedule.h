/* Scheduled exports: an entity, format, filters, a window relative to the run time
 * ("the last 24 hours"), and when to run: daily or weekly at a time of day, or a
 * five-field cron expression, in a time zone. Each run is an ordinary export job. */
#ifndef SB_TRANSFER_SCHEDULE_H
#define SB_TRANSFER_SCHEDULE_H

#include <stdbool.h>
#include <time.h>

#include "db/db.h"

struct arena;
struct json_object;

/* True when tz names a zone of the system's tz database ("Europe/Berlin", "UTC"). */
bool schedule_tz_valid(const char *tz);
/* The next time after `after` that the five-field cron expression (minute hour
 * day-of-month month day-of-week; '*', numbers, lists, ranges, steps) matches in
 * zone tz. Returns 0 with *next set, or -1 when the expression is malformed or never
 * matches within a year (*why says why, for the user). */
int schedule_next(const char *cron, const char *tz, time_t after, time_t *next, const char **why);

#define EXPORT_SCHEDULE_COLUMNS                                                                             \
	"id, name, entity_type, format, filters::text, array_to_json(columns)::text, bom, window_seconds, " \
	"interval_kind, cron, time_zone, " SQL_RFC3339("next_run_at") ", " SQL_RFC3339(                     \
		"last_run_at") ", "                                                                         \
			       "last_job_id, " SQL_RFC3339("created_at") ", destination::text"
struct json_object *export_schedule_json(const PGresult *res, int r);

struct export_schedule_new {
	const char *name, *entity, *format, *filters_json, *columns;
	bool bom;
	const char *window_seconds; /* NULL: no time window */
	const char *interval_kind, *cron, *time_zone;
	time_t next_run;
	const char *destination_json; /* each run's export destination, or NULL */
};
/* *schedule: the new schedule's view; *list: the caller's schedules (newest 100). The
 * caller owns both. */
enum db_status export_schedule_create(struct arena *a, const char *user_id, const struct export_schedule_new *s,
				      struct json_object **schedule);
enum db_status export_schedule_list(struct arena *a, const char *user_id, struct json_object **list);
enum db_status export_schedule_delete(struct arena *a, const char *user_id, const char *id, bool *deleted);

/* Creates the export job of every schedule that is due (locked with SKIP LOCKED, so two
 * workers never run one twice) and moves it to its next run. *ran: how many. */
enum db_status export_schedules_run_due(struct arena *a, int *ran);

#endif
