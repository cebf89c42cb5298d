/* One responder child: accept a connection, answer it, repeat, until told to retire.
 *
 * Signals and libfcgi: libfcgi's accept (OS_Accept) drops an accepted connection when
 * its readiness wait is interrupted, and once FCGX_ShutdownPending() has been called it
 * loops forever on the stale descriptor (poll -> POLLNVAL, close -> EBADF) and fails
 * every later read and write. So SIGTERM is blocked except while this loop waits in
 * epoll_pwait() for the listening socket, libfcgi never hears of the shutdown, and a child
 * retires only between requests: the request it accepted is always answered. */
#define _GNU_SOURCE
#include "http/serve.h"

#include <errno.h>
#include <fcgiapp.h>
#include <sys/epoll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/token.h"
#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/log.h"
#include "db/db.h"
#include "http/apilog.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/responder.h"
#include "http/router.h"

static volatile sig_atomic_t retire;

static void on_term(int sig)
{
	(void)sig;
	retire = 1;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
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
		if (st == 414)
			reply_error(rq, 414, "uri_too_long", "The request could not be parsed");
		else
			reply_error(rq, 400, "bad_request", "The request could not be parsed");
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

/* Signal dispositions of a child: SIGTERM/SIGINT set a flag and stay blocked outside
 * the wait; SIGUSR1 ignored before FCGX_Init, or libfcgi installs its own handler that
 * sets its shutdown flag. Returns the mask to wait with. */
static sigset_t child_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	sigset_t block, wait;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_SETMASK, &block, NULL);
	sigemptyset(&wait);
	return wait;
}

/* The children's wait on the shared listening socket. With poll() every idle child
 * wakes for each connection and all but one find EAGAIN (measured: 2.5 failed accepts
 * and 3.5 wake-ups per request with 4 children); EPOLLEXCLUSIVE wakes one. Each child
 * opens its own epoll instance after the fork, so siblings share no wait state. */
static int listen_epoll(int listen_fd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.fd = listen_fd};
	if (ep >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, listen_fd, &ev) < 0) {
		close(ep);
		return -1;
	}
	return ep;
}

/* Waits until the listening socket has a connection or a signal asks us to retire.
 * Returns 1 to accept, 0 to look at the flags again, -1 when the socket is unusable. */
static int wait_for_connection(int ep, const sigset_t *wait)
{
	struct epoll_event ev;
	/* Request-log rows waiting in this process go out once it has been idle a moment. */
	bool pending = api_request_log_pending();
	int n = epoll_pwait(ep, &ev, 1, pending ? APILOG_IDLE_FLUSH_MS : -1, wait);
	if (n == 0 && pending)
		api_request_log_flush();
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	if (n == 0)
		return 0;
	if (ev.events & (EPOLLERR | EPOLLHUP))
		return -1;
	return (ev.events & EPOLLIN) ? 1 : 0;
}

int serve_child(const struct app *app, int listen_fd)
{
	sigset_t wait = child_signals();
	if (crypto_keys_load() || token_init() || (app->child_init && app->child_init()))
		return 1;
	db_init(config_str("DATABASE_URL", "postgresql:///switchboard"));
	long max_body = config_int("SB_MAX_BODY_BYTES", 1 << 20, 1024, 64L << 20);
	if (FCGX_Init())
		return 1;
	FCGX_Request fr;
	FCGX_InitRequest(&fr, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	struct arena *a = arena_new();
	int ep = listen_epoll(listen_fd);
	if (!a || ep < 0) {
		log_msg(LOG_ERROR, "cannot wait on the listening socket: %s", strerror(errno));
		arena_free(a);
		return 1;
	}
	while (!retire) {
		int w = wait_for_connection(ep, &wait);
		if (w < 0) {
			log_msg(LOG_ERROR, "listening socket unusable: %s", strerror(errno));
			break;
		}
		/* The socket is non-blocking: a sibling that took the connection first leaves
		 * us EAGAIN here, and we go back to waiting. */
		if (w == 0 || FCGX_Accept_r(&fr) < 0)
			continue;
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
	api_request_log_flush();
	close(ep);
	arena_free(a);
	db_close();
	return 0;
}
