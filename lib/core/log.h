/* JSON-lines logging to stderr: one object per line, never a secret. */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_LEVEL__MAX };

/* Sets the component name written in every line ("auth", "worker", ...). */
void log_init(const char *component);
/* {"ts":..,"level":..,"component":..,"msg":..}; the message is JSON-escaped. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The access line of one finished request. route is the route pattern, not the raw
 * path: paths can carry identifiers worth keeping out. Any string may be NULL. */
struct log_access {
	const char *request_id, *method, *route, *user_id, *remote_addr, *user_agent;
	int status;
	double ms;
};
void log_access(const struct log_access *e);

/* Appends s to buf (size cap) as a JSON string body (no quotes); returns bytes written. */
size_t log_json_escape(char *buf, size_t cap, const char *s);

#endif
