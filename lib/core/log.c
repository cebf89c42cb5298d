/* JSON-lines logger; see log.h. Writes whole lines with one write(2) so lines from
 * the processes of a group never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char component[32] = "switchboard";
static const char *const level_names[LOG_LEVEL__MAX] = {"debug", "info", "warn", "error"};

void log_init(const char *name)
{
	snprintf(component, sizeof(component), "%s", name);
}

size_t log_json_escape(char *buf, size_t cap, const char *s)
{
	size_t o = 0;
	for (; s && *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(buf + o, cap - o, "\\u%04x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (cap)
		buf[o < cap ? o : cap - 1] = '\0';
	return o;
}

static size_t timestamp(char *buf, size_t cap)
{
	struct timeval tv;
	struct tm tm;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
	n += (size_t)snprintf(buf + n, cap - n, ".%03ldZ", (long)tv.tv_usec / 1000);
	return n;
}

static void emit(char *line, size_t n, size_t cap)
{
	if (n >= cap - 2)
		n = cap - 2;
	line[n++] = '\n';
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w; /* nowhere better to report a failing log */
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[1024], esc[2048], ts[40], line[2400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* libpq messages end in a newline: keep one line per record. */
	size_t m = strlen(msg);
	while (m && (msg[m - 1] == '\n' || msg[m - 1] == ' '))
		msg[--m] = '\0';
	log_json_escape(esc, sizeof(esc), msg);
	timestamp(ts, sizeof(ts));
	int n = snprintf(line, sizeof(line),
			 "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":\"%s\",\"pid\":%d,\"msg\":\"%s\"}", ts,
			 level_names[level], component, (int)getpid(), esc);
	emit(line, n < 0 ? 0 : (size_t)n, sizeof(line));
}

void log_access(const struct log_access *e)
{
	char ts[40], id[80], method[24], route[300], ua[300], line[1200];
	timestamp(ts, sizeof(ts));
	log_json_escape(id, sizeof(id), e->request_id ? e->request_id : "");
	log_json_escape(method, sizeof(method), e->method ? e->method : "");
	log_json_escape(route, sizeof(route), e->route ? e->route : "");
	log_json_escape(ua, sizeof(ua), e->user_agent);
	int n = snprintf(line, sizeof(line),
			 "{\"ts\":\"%s\",\"level\":\"info\",\"component\":\"%s\",\"pid\":%d,\"request_id\":\"%s\","
			 "\"method\":\"%s\",\"route\":\"%s\",\"status\":%d,\"ms\":%.2f,\"user_id\":%s%s%s,"
			 "\"remote_addr\":\"%s\",\"user_agent\":\"%s\"}",
			 ts, component, (int)getpid(), id, method, route, e->status, e->ms, e->user_id ? "\"" : "",
			 e->user_id ? e->user_id : "null", e->user_id ? "\"" : "", e->remote_addr ? e->remote_addr : "",
			 ua);
	emit(line, n < 0 ? 0 : (size_t)n, sizeof(line));
}
