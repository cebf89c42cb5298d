/* The accept-and-answer loop of one responder child (lib/http/serve.c). Internal to
 * the responder: prefork.c forks children that run it. */
#ifndef SB_SERVE_H
#define SB_SERVE_H

struct app;

/* Serves requests from listen_fd (a non-blocking listening socket) until SIGTERM or
 * SIGINT, finishing the request in flight. Returns the child's exit status. */
int serve_child(const struct app *app, int listen_fd);

#endif
