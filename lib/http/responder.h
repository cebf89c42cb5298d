/* The FastCGI responder: a master process that owns the listening socket and keeps
 * N children accepting on it (lib/http/prefork.c; each child runs lib/http/serve.c,
 * each request goes through lib/http/dispatch.c). SIGTERM: children finish the request
 * in flight, then everything exits. SIGHUP: the master checks the new configuration in
 * a separate process, then re-executes its binary (new code, new config) on the same
 * socket, starts fresh children and retires the old ones, so a restart never refuses a
 * connection; a bad configuration leaves the running generation serving. A child that
 * dies is replaced; a retired child that outlives SB_RETIRE_GRACE_SECONDS is killed. */
#ifndef SB_RESPONDER_H
#define SB_RESPONDER_H

#include <stddef.h>

struct route;
struct request;

struct app {
	const char *name; /* group name: logs, /healthz */
	const struct route *routes;
	size_t nroutes;
	int (*child_init)(void); /* optional, per child after fork; non-zero exits it */
};

/* Usage: <binary> --socket PATH [--workers N], or <binary> --check-config (load the
 * configuration as a child would, exit 0 or 1 saying why). Returns the exit status. */
int responder_main(int argc, char **argv, const struct app *app);

/* Handles one request already parsed into rq (body read): routing, authentication,
 * body checks and the handler. Exposed for tests; sets rq->status and the body. */
void responder_dispatch(const struct app *app, struct request *rq);

#endif
