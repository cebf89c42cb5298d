/* DNS, TCP and TLS diagnostics; see netprobe.h. */
#include "net/netprobe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/jsonx.h"
#include "net/netguard.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *netprobe_error_code(enum netprobe_error e)
{
	static const char *const codes[NETPROBE_ERROR__MAX] = {
		[NETPROBE_OK] = "ok",
		[NETPROBE_DNS] = "dns_failed",
		[NETPROBE_BLOCKED] = "address_blocked",
		[NETPROBE_REFUSED] = "connection_refused",
		[NETPROBE_UNREACHABLE] = "unreachable",
		[NETPROBE_TIMEOUT] = "timeout",
		[NETPROBE_TLS] = "tls_failed",
		[NETPROBE_TLS_UNTRUSTED] = "tls_untrusted",
	};
	return e < NETPROBE_ERROR__MAX ? codes[e] : "error";
}

/* Waits until fd is ready for events or the deadline passes: 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, double deadline)
{
	for (;;) {
		int left = (int)(deadline - now_ms());
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, left);
		if (n < 0 && errno == EINTR)
			continue;
		return n < 0 ? -1 : n > 0;
	}
}

static enum netprobe_error tcp_connect(const struct sockaddr *sa, socklen_t len, int timeout_ms, int *fd_out)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return NETPROBE_UNREACHABLE;
	double deadline = now_ms() + timeout_ms;
	int rc = connect(fd, sa, len), err = rc ? errno : 0;
	if (rc && err == EINPROGRESS) {
		int w = wait_fd(fd, POLLOUT, deadline);
		if (w == 0) {
			close(fd);
			return NETPROBE_TIMEOUT;
		}
		socklen_t elen = sizeof(err);
		if (w < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen))
			err = EHOSTUNREACH;
	}
	if (err) {
		close(fd);
		return err == ECONNREFUSED ? NETPROBE_REFUSED
		       : err == ETIMEDOUT  ? NETPROBE_TIMEOUT
					   : NETPROBE_UNREACHABLE;
	}
	*fd_out = fd;
	return NETPROBE_OK;
}

static char *asn1_time_text(struct arena *a, const ASN1_TIME *t)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return NULL;
	char buf[32];
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return arena_strdup(a, buf);
}

static char *name_text(struct arena *a, const X509_NAME *n)
{
	char buf[512];
	if (!n || !X509_NAME_oneline(n, buf, sizeof(buf)))
		return NULL;
	return arena_strdup(a, buf);
}

static bool is_ip_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* A client context trusting the system's store plus the operator's CA file,
 * and a connection on fd naming host (SNI and the name or address the
 * certificate is checked against). NULL with *message set on failure. */
static SSL *tls_client(SSL_CTX **ctx, int fd, const char *host, const char *ca_file, const char **message)
{
	*ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = *ctx ? SSL_new(*ctx) : NULL;
	if (!ssl) {
		*message = "TLS could not be set up";
		return NULL;
	}
	SSL_CTX_set_min_proto_version(*ctx, TLS1_2_VERSION);
	if (SSL_CTX_set_default_verify_paths(*ctx) != 1 ||
	    (ca_file && *ca_file && SSL_CTX_load_verify_locations(*ctx, ca_file, NULL) != 1)) {
		*message = "the TLS trust store could not be loaded";
		SSL_free(ssl);
		return NULL;
	}
	/* Verification runs but does not stop the handshake, so an untrusted
	 * certificate is still described. */
	SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
	if (is_ip_literal(host)) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
	} else {
		SSL_set_tlsext_host_name(ssl, host);
		SSL_set1_host(ssl, host);
	}
	SSL_set_fd(ssl, fd);
	return ssl;
}

/* Drives the non-blocking handshake to its end or the deadline. */
static enum netprobe_error tls_connect(struct arena *a, SSL *ssl, int fd, double deadline, const char **message)
{
	for (;;) {
		ERR_clear_error();
		int rc = SSL_connect(ssl);
		if (rc == 1)
			return NETPROBE_OK;
		int why = SSL_get_error(ssl, rc);
		int w = why == SSL_ERROR_WANT_READ    ? wait_fd(fd, POLLIN, deadline)
			: why == SSL_ERROR_WANT_WRITE ? wait_fd(fd, POLLOUT, deadline)
						      : -1;
		if (w == 0) {
			*message = "the TLS handshake timed out";
			return NETPROBE_TIMEOUT;
		}
		if (w < 0) {
			unsigned long err = ERR_peek_error();
			*message =
				arena_printf(a, "the TLS handshake failed: %s",
					     err ? ERR_reason_error_string(err) : "the server closed the connection");
			return NETPROBE_TLS;
		}
	}
}

/* The negotiated session and the peer's certificate as p->tls; refuses a
 * certificate that is missing or not trusted. */
static enum netprobe_error tls_describe(struct arena *a, SSL *ssl, const char *host, struct netprobe *p,
					const char **message)
{
	enum netprobe_error e = NETPROBE_OK;
	struct json_object *t = json_object_new_object();
	json_object_object_add(t, "protocol", json_object_new_string(SSL_get_version(ssl)));
	json_object_object_add(t, "cipher", json_object_new_string(SSL_get_cipher_name(ssl)));
	X509 *cert = SSL_get1_peer_certificate(ssl);
	long verify = SSL_get_verify_result(ssl);
	bool host_ok = false;
	if (cert) {
		json_object_object_add(t, "subject", jsonx_string_or_null(name_text(a, X509_get_subject_name(cert))));
		json_object_object_add(t, "issuer", jsonx_string_or_null(name_text(a, X509_get_issuer_name(cert))));
		json_object_object_add(t, "not_after",
				       jsonx_string_or_null(asn1_time_text(a, X509_get0_notAfter(cert))));
		host_ok = is_ip_literal(host) ? X509_check_ip_asc(cert, host, 0) == 1
					      : X509_check_host(cert, host, 0, 0, NULL) == 1;
		X509_free(cert);
	}
	json_object_object_add(t, "hostname_match", json_object_new_boolean(host_ok));
	json_object_object_add(t, "trusted", json_object_new_boolean(cert && verify == X509_V_OK));
	if (!cert || verify != X509_V_OK) {
		const char *why = cert ? X509_verify_cert_error_string(verify) : "the server sent no certificate";
		json_object_object_add(t, "verify_error", json_object_new_string(why));
		*message = arena_printf(a, "TLS certificate not trusted: %s", why);
		e = NETPROBE_TLS_UNTRUSTED;
	}
	p->tls = arena_defer(a, jsonx_put, t);
	return e;
}

/* Handshakes on fd, records the time in p->tls_ms and the details in p->tls. */
static enum netprobe_error tls_handshake(struct arena *a, int fd, const char *host, const char *ca_file, int timeout_ms,
					 struct netprobe *p, const char **message)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = tls_client(&ctx, fd, host, ca_file, message);
	enum netprobe_error e = ssl ? NETPROBE_OK : NETPROBE_TLS;
	double t0 = now_ms();
	if (e == NETPROBE_OK)
		e = tls_connect(a, ssl, fd, t0 + timeout_ms, message);
	if (e == NETPROBE_OK) {
		p->tls_ms = now_ms() - t0;
		e = tls_describe(a, ssl, host, p, message);
	}
	if (ssl) {
		SSL_set_quiet_shutdown(ssl, 1);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	return e;
}

enum netprobe_error netprobe_run(struct arena *a, const char *host, int port, bool tls, const char *ca_file,
				 int timeout_ms, struct netprobe *p, const char **message)
{
	memset(p, 0, sizeof(*p));
	p->dns_ms = p->tcp_ms = p->tls_ms = -1;
	*message = NULL;

	char service[8];
	snprintf(service, sizeof(service), "%d", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	double t0 = now_ms();
	int g = getaddrinfo(host, service, &hints, &res);
	p->dns_ms = now_ms() - t0;
	if (g) {
		*message = arena_printf(a, "unknown host %s (%s)", host, gai_strerror(g));
		return NETPROBE_DNS;
	}
	/* One refused address refuses the host: a name answering both a public and a
	 * private address would otherwise reach the private one through a later lookup. */
	enum netprobe_error e = NETPROBE_BLOCKED;
	int fd = -1;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
		if (!netguard_permits(ai->ai_addr)) {
			freeaddrinfo(res);
			*message = arena_printf(
				a, "%s resolves to a private, loopback or link-local address, which is not allowed",
				host);
			return NETPROBE_BLOCKED;
		}
	/* Connect to the first address that answers; the caller connects to the same one
	 * (a second lookup could answer differently). */
	/* One deadline for all of a host's addresses: several dead ones must not multiply
	 * the wait (the whole test has to fit inside the HTTP request's time). */
	double deadline = now_ms() + timeout_ms;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int left = (int)(deadline - now_ms());
		if (left <= 0) {
			e = NETPROBE_TIMEOUT;
			break;
		}
		memcpy(&p->addr, ai->ai_addr, ai->ai_addrlen);
		p->addrlen = ai->ai_addrlen;
		getnameinfo(ai->ai_addr, ai->ai_addrlen, p->address, sizeof(p->address), NULL, 0, NI_NUMERICHOST);
		t0 = now_ms();
		e = tcp_connect(ai->ai_addr, ai->ai_addrlen, left, &fd);
		p->tcp_ms = now_ms() - t0;
		if (e == NETPROBE_OK)
			break;
	}
	freeaddrinfo(res);
	switch (e) {
	case NETPROBE_OK:
		break;
	case NETPROBE_BLOCKED:
		*message = arena_printf(
			a, "%s resolves to a private, loopback or link-local address, which is not allowed", host);
		return e;
	case NETPROBE_REFUSED:
		*message = arena_printf(a, "connection refused by %s port %d", p->address, port);
		return e;
	case NETPROBE_TIMEOUT:
		*message = arena_printf(a, "no answer from %s port %d within %d ms", p->address, port, timeout_ms);
		return e;
	default:
		*message = arena_printf(a, "%s port %d is unreachable", p->address, port);
		return e;
	}
	if (tls)
		e = tls_handshake(a, fd, host, ca_file, timeout_ms, p, message);
	close(fd);
	return e;
}

void netprobe_describe(const struct netprobe *p, struct json_object *d)
{
	json_object_object_add(d, "dns_ms", jsonx_ms(p->dns_ms));
	json_object_object_add(d, "address", p->address[0] ? json_object_new_string(p->address) : NULL);
	json_object_object_add(d, "tcp_connect_ms", jsonx_ms(p->tcp_ms));
	json_object_object_add(d, "tls_handshake_ms", jsonx_ms(p->tls_ms));
	if (p->tls)
		json_object_object_add(d, "tls", json_object_get(p->tls));
}
