/* Connection diagnostics for a user-supplied host: DNS, the private-address guard,
 * TCP connect and (optionally) a TLS handshake, each timed, with what a person
 * debugging a server needs to know about its certificate. */
#ifndef SB_NETPROBE_H
#define SB_NETPROBE_H

#include <stdbool.h>
#include <sys/socket.h>

struct arena;
struct json_object;

enum netprobe_error {
	NETPROBE_OK,
	NETPROBE_DNS,		/* unknown host */
	NETPROBE_BLOCKED,	/* resolves only to addresses the guard refuses */
	NETPROBE_REFUSED,	/* connection refused */
	NETPROBE_UNREACHABLE,	/* network or host unreachable */
	NETPROBE_TIMEOUT,	/* no answer in time */
	NETPROBE_TLS,		/* handshake failed */
	NETPROBE_TLS_UNTRUSTED, /* handshake done, certificate not trusted for this host */
	NETPROBE_ERROR__MAX
};

struct netprobe {
	double dns_ms, tcp_ms, tls_ms; /* < 0 when the step did not run */
	char address[64];	       /* the address connected to */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct json_object *tls; /* details when a handshake ran (owned by the arena) */
};

/* Runs the steps against host:port within timeout_ms each. ca_file (may be NULL: the
 * system's trust store) decides which certificates are trusted. On error *message
 * says what happened in plain words. Always fills what it measured. */
enum netprobe_error netprobe_run(struct arena *a, const char *host, int port, bool tls, const char *ca_file,
				 int timeout_ms, struct netprobe *out, const char **message);

/* Stable machine name of e ("dns_failed", "connection_refused", ...). */
const char *netprobe_error_code(enum netprobe_error e);

/* Adds the probe's timings (and TLS details) to a diagnostics object. */
void netprobe_describe(const struct netprobe *p, struct json_object *diagnostics);

#endif
