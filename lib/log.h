/* JSON-lines logging to stderr: one object per line, never a secret. */
#ifndef SB_LOG_H
#define SB_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_LEVEL__MAX };

/* Sets the component name written in every line ("auth", "worker", ...). */
void log_init(const char *component);
/* {"ts":..,"level":..,"component":..,"msg":..}; the message is JSON-escaped. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct request;
/* The access line of one finished request: request id, method, route, status, time, user. */
void log_request(const struct request *rq, int status, double ms);

/* Appends s to buf (size cap) as a JSON string body (no quotes); returns bytes written. */
size_t log_json_escape(char *buf, size_t cap, const char *s);

#endif
