/* Prefork FastCGI responder; see responder.h. */
#define _GNU_SOURCE
#include "http/responder.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <grp.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/log.h"
#include "core/validate.h"
#include "db/db.h"
#include "http/apilog.h"
#include "http/authenticate.h"
#include "http/form.h"
#include "http/ratelimit.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"

#define MAX_WORKERS    64
#define JSON_MAX_DEPTH 32

static volatile sig_atomic_t got_term, got_hup, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGTERM || sig == SIGINT) {
		got_term = 1;
		FCGX_ShutdownPending();
	} else if (sig == SIGHUP) {
		got_hup = 1;
	} else if (sig == SIGCHLD) {
		got_chld = 1;
	}
}

/* sa_flags = 0 (no SA_RESTART): a blocking accept() returns EINTR so the loop sees the flag. */
static void set_handler(int sig, void (*fn)(int))
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	sigaction(sig, &sa, NULL);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool method_has_body(const char *m)
{
	return !strcmp(m, "POST") || !strcmp(m, "PUT") || !strcmp(m, "PATCH");
}

static int builtin(const struct app *app, struct request *rq)
{
	if (rq->nsegments != 1 || (strcmp(rq->method, "GET") && strcmp(rq->method, "HEAD")))
		return 0;
	struct json_object *d = json_object_new_object();
	json_object_object_add(d, "group", json_object_new_string(app->name));
	if (!strcmp(rq->segments[0], "healthz")) {
		json_object_object_add(d, "status", json_object_new_string("ok"));
		return reply_ok(rq, 200, d, NULL);
	}
	if (!strcmp(rq->segments[0], "readyz")) {
		bool up = db_ping();
		json_object_object_add(d, "status", json_object_new_string(up ? "ok" : "unavailable"));
		json_object_object_add(d, "database", json_object_new_string(up ? "ok" : "unreachable"));
		return up ? reply_ok(rq, 200, d, NULL) : (json_object_put(d), reply_db_unavailable(rq));
	}
	json_object_put(d);
	return 0;
}

/* The JSON body checks of a route: media type, syntax, an object, the field table. */
static int check_json_body(struct request *rq)
{
	const struct route *r = rq->route;
	if (rq->body_len == 0) {
		if (r->body == BODY_JSON_OPTIONAL)
			return 0;
		return reply_error(rq, 400, "malformed_json", "A JSON object body is required");
	}
	if (!request_is_json(rq))
		return reply_error(rq, 415, "unsupported_media_type", "Send the body as application/json");
	struct json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	struct json_object *o = json_tokener_parse_ex(tok, rq->body, (int)rq->body_len);
	enum json_tokener_error jerr = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	arena_defer(rq->arena, jsonx_put, o);
	/* Anything but whitespace after the value is not one JSON document. */
	while (o && used < rq->body_len && rq->body[used] && strchr(" \t\r\n", rq->body[used]))
		used++;
	if (!o || jerr != json_tokener_success || used != rq->body_len)
		return reply_error(rq, 400, "malformed_json", "The body is not valid JSON");
	if (!json_object_is_type(o, json_type_object))
		return reply_error(rq, 400, "malformed_json", "The body must be a JSON object");
	rq->json = o;
	if (r->fields) {
		struct json_object *errors;
		if (validate_object(o, r->fields, &errors))
			return reply_invalid(rq, errors);
	}
	return 0;
}

/* An error in the route's format: the envelope, or RFC 6749 JSON for the OAuth routes. */
static void fail(struct request *rq, int status, const char *code, const char *oauth_error, const char *message)
{
	if (rq->route && rq->route->errors == ERRORS_OAUTH)
		reply_oauth_error(rq, status, oauth_error, message);
	else
		reply_error(rq, status, code, message);
}

/* Credentials are never accepted in a URL: URLs end up in logs, histories and Referer
 * headers. A request that carries one there is refused whatever else it sends. */
static bool credentials_in_url(const struct request *rq)
{
	static const char *const names[] = {"access_token", "refresh_token", "api_key",	      "apikey",
					    "x-api-key",    "x_api_key",     "client_secret", NULL};
	for (size_t i = 0; i < rq->nquery; i++)
		for (size_t j = 0; names[j]; j++)
			if (!strcasecmp(rq->query[i].name, names[j]))
				return true;
	return false;
}

/* The form body of a BODY_FORM route, parsed into rq->form. */
static int check_form_body(struct request *rq)
{
	if (rq->content_length < 0 && method_has_body(rq->method)) {
		fail(rq, 411, "length_required", "invalid_request", "Content-Length is required");
		return -1;
	}
	if (rq->body_len && !form_is_form(rq)) {
		fail(rq, 415, "unsupported_media_type", "invalid_request",
		     "Send the body as application/x-www-form-urlencoded");
		return -1;
	}
	if (form_parse(rq->arena, rq->body ? rq->body : "", rq->body_len, rq->form, REQUEST_MAX_FORM, &rq->nform)) {
		fail(rq, 400, "malformed_form", "invalid_request", "The form body is malformed or repeats a parameter");
		return -1;
	}
	return 0;
}

/* The one place a request is authenticated, scoped, rate limited and handed over:
 * route, credentials in the URL, form body (client credentials may be in it),
 * authentication, rate limit (keys and clients), scope, JSON body, handler. */
void responder_dispatch(const struct app *app, struct request *rq)
{
	char allow[64];
	if (builtin(app, rq))
		return;
	switch (router_match(app->routes, app->nroutes, rq, allow, sizeof(allow))) {
	case ROUTE_NOT_FOUND:
		reply_error(rq, 404, "not_found", "No such route");
		return;
	case ROUTE_BAD_METHOD:
		reply_header(rq, "Allow", allow);
		reply_error(rq, 405, "method_not_allowed", "Method not allowed on this route");
		return;
	case ROUTE_FOUND:
		break;
	}
	const struct route *r = rq->route;
	if (credentials_in_url(rq)) {
		fail(rq, 400, "credentials_in_url", "invalid_request",
		     "Credentials are not accepted in the URL; send them in a header or the body");
		return;
	}
	if (r->body == BODY_FORM && check_form_body(rq))
		return;
	if (r->auth == ROUTE_USER && auth_require_user(rq))
		return;
	if (r->auth == ROUTE_CLIENT && auth_require_client(rq))
		return;
	/* Counted before the scope check: a refused request still costs, and every answer to
	 * a keyed request, a 403 too, carries the RateLimit headers. */
	if (ratelimit_apply(rq))
		return;
	if (r->auth == ROUTE_USER && auth_require_scope(rq, r->scope))
		return;
	if (r->body == BODY_JSON && rq->content_length < 0 && method_has_body(rq->method)) {
		reply_error(rq, 411, "length_required", "Content-Length is required");
		return;
	}
	if ((r->body == BODY_JSON || r->body == BODY_JSON_OPTIONAL) && check_json_body(rq))
		return;
	int st = r->handler(rq);
	if (!rq->status || st != rq->status) {
		log_msg(LOG_ERROR, "handler for %s %s returned %d without a matching reply", r->method, r->pattern, st);
		reply_internal(rq);
	}
}

/* Reads exactly the declared body. Returns 0 or the error status it answered. */
static int read_body(FCGX_Request *fr, struct request *rq, long max_body)
{
	/* No Content-Length: no body (HTTP/1.1 §6.3). A route that needs one answers 411. */
	if (rq->content_length < 0)
		return 0;
	if (rq->content_length > max_body)
		return reply_error(rq, 413, "payload_too_large", "The body is too large");
	size_t want = (size_t)rq->content_length, got = 0;
	char *buf = arena_alloc(rq->arena, want + 1);
	while (got < want) {
		int n = FCGX_GetStr(buf + got, (int)(want - got), fr->in);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != want)
		return reply_error(rq, 400, "incomplete_body", "The body is shorter than Content-Length");
	buf[got] = '\0';
	rq->body = buf;
	rq->body_len = got;
	return 0;
}

/* Headers are formatted here, not with FCGX_FPrintF: libfcgi's own printf knows no %zu. */
static void write_response(FCGX_Request *fr, struct request *rq)
{
	char head[2048];
	int n = snprintf(head, sizeof(head),
			 "Status: %d %s\r\nContent-Type: %s; charset=utf-8\r\nContent-Length: %zu\r\n"
			 "Cache-Control: no-store\r\n",
			 rq->status, reply_reason(rq->status), rq->resp_type ? rq->resp_type : "application/json",
			 rq->resp_len);
	for (size_t i = 0; i < rq->nresp_headers && n > 0 && (size_t)n < sizeof(head); i++)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s: %s\r\n", rq->resp_headers[i].name,
			      rq->resp_headers[i].value);
	if (n < 0 || (size_t)n + 2 >= sizeof(head))
		n = snprintf(head, sizeof(head), "Status: 500 Internal Server Error\r\n");
	FCGX_PutStr(head, n, fr->out);
	FCGX_PutStr("\r\n", 2, fr->out);
	if (strcmp(rq->method ? rq->method : "", "HEAD") && rq->resp_len)
		FCGX_PutStr(rq->resp_body, (int)rq->resp_len, fr->out);
}

/* Answers one request into rq; returns the milliseconds it took. */
static double handle_one(const struct app *app, FCGX_Request *fr, struct request *rq, long max_body)
{
	double t0 = now_ms();
	int st = request_parse(rq, fr->envp);
	if (st) {
		reply_error(rq, st, st == 414 ? "uri_too_long" : "bad_request", "The request could not be parsed");
	} else if (!read_body(fr, rq, max_body)) {
		responder_dispatch(app, rq);
	}
	write_response(fr, rq);
	double ms = now_ms() - t0;
	log_access(&(struct log_access){.request_id = rq->request_id,
					.method = rq->method,
					.route = rq->route ? rq->route->pattern : rq->path,
					.user_id = rq->user_id,
					.remote_addr = rq->remote_addr,
					.user_agent = request_header(rq, "user-agent"),
					.status = rq->status,
					.ms = ms});
	return ms;
}

static int child_main(const struct app *app, int listen_fd)
{
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	if (crypto_keys_load() || token_init() || (app->child_init && app->child_init()))
		return 1;
	db_init(config_str("DATABASE_URL", "postgresql:///switchboard"));
	long max_body = config_int("SB_MAX_BODY_BYTES", 1 << 20, 1024, 64L << 20);

	if (FCGX_Init())
		return 1;
	FCGX_Request fr;
	FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	struct arena *a = arena_new();
	if (!a)
		return 1;
	while (!got_term) {
		if (FCGX_Accept_r(&fr) < 0) {
			if (got_term)
				break;
			if (errno == EINTR)
				continue;
			log_msg(LOG_ERROR, "accept failed: %s", strerror(errno));
			sleep(1);
			continue;
		}
		struct request rq;
		memset(&rq, 0, sizeof(rq));
		rq.arena = a;
		double ms = handle_one(app, &fr, &rq, max_body);
		FCGX_Finish_r(&fr);
		/* The client has its answer: the request log costs it no latency. Everything
		 * in rq lives in the arena, which outlives FCGX_Finish_r until the reset. */
		api_request_log_write(&rq, ms);
		arena_reset(a);
	}
	arena_free(a);
	db_close();
	return 0;
}

/* Only nginx's group may talk FastCGI to us: a local user reaching the socket directly
 * could forge REMOTE_ADDR and step around nginx's limits. SB_SOCKET_GROUP names the
 * group (www-data); when it cannot be set (not root, no such group) the socket stays
 * open to all local users, with a warning. */
static int socket_permissions(const char *path)
{
	struct group *g = getgrnam(config_str("SB_SOCKET_GROUP", "www-data"));
	if (g && chown(path, (uid_t)-1, g->gr_gid) == 0)
		return chmod(path, 0660);
	log_msg(LOG_WARN, "socket %s: group %s not set; any local user may connect", path,
		config_str("SB_SOCKET_GROUP", "www-data"));
	return chmod(path, 0666);
}

/* Binds path atomically: a new socket file is renamed over the old one, so clients
 * never find the path missing. Returns the fd or -1. */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa;
	char tmp[sizeof(sa.sun_path)];
	memset(&sa, 0, sizeof(sa));
	if (snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		fprintf(stderr, "socket path too long: %s\n", path);
		return -1;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, tmp, strlen(tmp) + 1);
	unlink(tmp);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || socket_permissions(tmp) || listen(fd, 1024) ||
	    rename(tmp, path)) {
		fprintf(stderr, "cannot listen on %s: %s\n", path, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}

struct master {
	const struct app *app;
	char **envp; /* the environment as started, before the .env file was merged in */
	int listen_fd;
	int workers;
	pid_t kids[MAX_WORKERS];
	time_t started[MAX_WORKERS];
	char self[PATH_MAX];
	char **argv;
	const char *socket_path;
};

static pid_t spawn(struct master *m)
{
	pid_t pid = fork();
	if (pid == 0) {
		_exit(child_main(m->app, m->listen_fd));
	}
	return pid;
}

static void reexec(struct master *m)
{
	char fdbuf[16], kids[MAX_WORKERS * 12 + 1] = "";
	snprintf(fdbuf, sizeof(fdbuf), "%d", m->listen_fd);
	for (int i = 0; i < m->workers; i++) {
		if (m->kids[i] > 0) {
			size_t n = strlen(kids);
			snprintf(kids + n, sizeof(kids) - n, "%s%d", n ? "," : "", (int)m->kids[i]);
		}
	}
	/* The listening socket must survive exec. */
	int flags = fcntl(m->listen_fd, F_GETFD);
	fcntl(m->listen_fd, F_SETFD, flags & ~FD_CLOEXEC);
	/* The original environment, so the new image reads the .env file afresh (values
	 * merged from the old file would otherwise win over the new file). */
	size_t n = 0;
	while (m->envp[n])
		n++;
	char **env = calloc(n + 3, sizeof(*env));
	if (!env)
		return;
	memcpy(env, m->envp, n * sizeof(*env));
	char fdvar[40], pidvar[sizeof(kids) + 20];
	snprintf(fdvar, sizeof(fdvar), "SB_INHERIT_FD=%s", fdbuf);
	snprintf(pidvar, sizeof(pidvar), "SB_RETIRE_PIDS=%s", kids);
	env[n] = fdvar;
	env[n + 1] = pidvar;
	log_msg(LOG_INFO, "reloading: re-executing %s", m->self);
	execve(m->self, m->argv, env);
	log_msg(LOG_ERROR, "re-exec failed (%s): keeping the running code", strerror(errno));
	free(env);
	fcntl(m->listen_fd, F_SETFD, flags | FD_CLOEXEC);
}

/* A copy of environ without our own hand-over variables. */
static char **environment_snapshot(void)
{
	extern char **environ;
	size_t n = 0;
	while (environ[n])
		n++;
	char **copy = calloc(n + 1, sizeof(*copy));
	size_t k = 0;
	for (size_t i = 0; copy && i < n; i++)
		if (strncmp(environ[i], "SB_INHERIT_FD=", 14) && strncmp(environ[i], "SB_RETIRE_PIDS=", 15))
			copy[k++] = strdup(environ[i]);
	return copy;
}

static void retire_inherited(void)
{
	const char *pids = getenv("SB_RETIRE_PIDS");
	if (!pids)
		return;
	char *copy = strdup(pids), *save = NULL;
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		pid_t pid = (pid_t)atoi(p);
		if (pid > 1)
			kill(pid, SIGTERM);
	}
	free(copy);
	unsetenv("SB_RETIRE_PIDS");
}

static int master_loop(struct master *m)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	set_handler(SIGTERM, on_signal);
	set_handler(SIGINT, on_signal);
	set_handler(SIGHUP, on_signal);
	set_handler(SIGCHLD, on_signal);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < m->workers; i++) {
		m->kids[i] = spawn(m);
		m->started[i] = time(NULL);
	}
	/* New children are accepting: the previous generation may go. */
	retire_inherited();
	log_msg(LOG_INFO, "serving %s with %d workers", m->socket_path, m->workers);

	sigset_t waitmask = old;
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGHUP);
	sigdelset(&waitmask, SIGCHLD);
	while (!got_term) {
		if (got_hup) {
			got_hup = 0;
			reexec(m);
		}
		got_chld = 0;
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (int i = 0; i < m->workers; i++) {
				if (m->kids[i] != pid)
					continue;
				log_msg(LOG_WARN, "worker %d exited (%s %d); replacing it", (int)pid,
					WIFSIGNALED(status) ? "signal" : "status",
					WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
				/* A child that dies at once would spin: pace its replacement. */
				if (time(NULL) - m->started[i] < 1)
					sleep(1);
				m->kids[i] = spawn(m);
				m->started[i] = time(NULL);
			}
		}
		if (!got_term && !got_hup && !got_chld)
			sigsuspend(&waitmask);
	}

	/* Shutdown: stop accepting new children, let the current ones finish. */
	for (int i = 0; i < m->workers; i++)
		if (m->kids[i] > 0)
			kill(m->kids[i], SIGTERM);
	long grace = config_int("SB_SHUTDOWN_GRACE_SECONDS", 10, 1, 300);
	time_t deadline = time(NULL) + grace;
	sigprocmask(SIG_SETMASK, &old, NULL);
	for (;;) {
		pid_t pid = waitpid(-1, NULL, WNOHANG);
		if (pid < 0 && errno == ECHILD)
			break;
		if (time(NULL) >= deadline) {
			for (int i = 0; i < m->workers; i++)
				if (m->kids[i] > 0)
					kill(m->kids[i], SIGKILL);
			deadline = time(NULL) + 2;
			continue;
		}
		if (pid <= 0)
			usleep(20000);
	}
	/* Remove the socket only when it is still ours (a newer instance may own the path). */
	struct stat st_path, st_fd;
	struct sockaddr_un sa;
	socklen_t len = sizeof(sa);
	if (!getsockname(m->listen_fd, (struct sockaddr *)&sa, &len) && !stat(m->socket_path, &st_path) &&
	    !fstat(m->listen_fd, &st_fd) && st_path.st_ino == st_fd.st_ino)
		unlink(m->socket_path);
	log_msg(LOG_INFO, "stopped");
	return 0;
}

int responder_main(int argc, char **argv, const struct app *app)
{
	static struct master m;
	m.app = app;
	m.argv = argv;
	m.workers = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			m.socket_path = argv[++i];
		else if (!strcmp(argv[i], "--workers") && i + 1 < argc)
			m.workers = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: %s --socket PATH [--workers N]\n", argv[0]);
			return 2;
		}
	}
	log_init(app->name);
	m.envp = environment_snapshot();
	if (!m.envp)
		return 1;
	if (!m.socket_path) {
		fprintf(stderr, "usage: %s --socket PATH [--workers N]\n", argv[0]);
		return 2;
	}
	if (config_load())
		return 1;
	if (m.workers <= 0)
		m.workers = (int)config_int("SB_WORKERS", 4, 1, MAX_WORKERS);
	if (m.workers > MAX_WORKERS)
		m.workers = MAX_WORKERS;
	/* Fail fast on configuration a child would refuse, before taking the socket. */
	if (crypto_keys_load() || token_init())
		return 1;
	/* The path, not /proc/self/exe: a reload must run the binary installed there now. */
	if (!realpath(argv[0], m.self) && !realpath("/proc/self/exe", m.self))
		snprintf(m.self, sizeof(m.self), "%s", argv[0]);

	const char *inherit = getenv("SB_INHERIT_FD");
	if (inherit) {
		m.listen_fd = atoi(inherit);
		unsetenv("SB_INHERIT_FD");
		fcntl(m.listen_fd, F_SETFD, FD_CLOEXEC);
	} else {
		m.listen_fd = listen_unix(m.socket_path);
		if (m.listen_fd < 0)
			return 1;
	}
	return master_loop(&m);
}
