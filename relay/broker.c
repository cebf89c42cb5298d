/* The broker side of a session: resolve, the private-address guard, a non-blocking
 * TCP connect, TLS with certificate and host name checks for mqtts (the operator's
 * SB_MQTT_CA_FILE or the system store), then bytes both ways. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "net/netguard.h"
#include "relay.h"

#define BROKER_BACKLOG (4u << 20)

static SSL_CTX *ctx;

int broker_tls_init(void)
{
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return -1;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return SSL_CTX_set_default_verify_paths(ctx) == 1 ? 0 : -1;
}

static int tls_ctx_ready(void)
{
	static bool loaded;
	if (!loaded && relay_conf.ca_file && *relay_conf.ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, relay_conf.ca_file, NULL) != 1)
			log_msg(LOG_WARN, "SB_MQTT_CA_FILE %s could not be read", relay_conf.ca_file);
	}
	loaded = true;
	return 0;
}

struct addrinfo *broker_resolve(const char *host, int port)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
	char p[8];
	snprintf(p, sizeof(p), "%d", port);
	if (getaddrinfo(host, p, &hints, &res))
		return NULL;
	return res;
}

const char *broker_start(struct session *s, struct addrinfo *res)
{
	if (!res)
		return "broker_unavailable: the broker's host name does not resolve";
	const char *why = "address_blocked: the broker's address is private, loopback or link-local";
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		if (!netguard_permits(ai->ai_addr))
			continue;
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) && errno != EINPROGRESS) {
			why = "broker_unavailable: the connection was refused";
			close(fd);
			continue;
		}
		if (s->websocket && bws_init(s)) {
			close(fd);
			freeaddrinfo(res);
			return "internal error";
		}
		s->bfd = fd;
		s->bstate = B_CONNECTING;
		s->connect_deadline_ms = now_ms() + relay_conf.connect_timeout_ms;
		freeaddrinfo(res);
		session_update_interest(s);
		return NULL;
	}
	freeaddrinfo(res);
	return why;
}

void broker_drop(struct session *s)
{
	if (s->bws) {
		wslay_event_context_free(s->bws);
		s->bws = NULL;
	}
	if (s->ssl) {
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->bfd >= 0) {
		loop_forget(s->bfd);
		close(s->bfd);
		s->bfd = -1;
	}
	s->bstate = B_GONE;
	s->bev = 0;
}

/* One read or write on the broker's socket (TLS or not): n > 0, 0 when it would
 * block, -1 when the broker is gone. */
ssize_t broker_io(struct session *s, void *p, size_t n, bool write)
{
	ssize_t r;
	if (s->ssl) {
		r = write ? SSL_write(s->ssl, p, (int)n) : SSL_read(s->ssl, p, (int)n);
		if (r > 0)
			return r;
		int e = SSL_get_error(s->ssl, (int)r);
		return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
	}
	r = write ? send(s->bfd, p, n, MSG_NOSIGNAL) : read(s->bfd, p, n);
	if (r > 0)
		return r;
	return r < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

int broker_flush(struct session *s)
{
	while (s->b_out.len) {
		ssize_t n = broker_io(s, s->b_out.d, s->b_out.len, true);
		if (n <= 0)
			return (int)n;
		buf_drop(&s->b_out, (size_t)n);
	}
	return 0;
}

int broker_send(struct session *s, const void *p, size_t n)
{
	if (s->bws)
		return bws_send(s, p, n);
	if (s->bstate == B_GONE || buf_add(&s->b_out, p, n, BROKER_BACKLOG))
		return -1;
	if (s->bstate == B_UP && broker_flush(s)) {
		session_close(s, 1011, "broker_unavailable: the broker closed the connection");
		return -1;
	}
	return 0;
}

/* TCP (and TLS) up: MQTT bytes flow, or first the WebSocket upgrade of a ws broker. */
static void transport_up(struct session *s)
{
	if (s->websocket) {
		bws_begin(s);
		return;
	}
	s->bstate = B_UP;
	if (broker_flush(s))
		session_close(s, 1011, "broker_unavailable: the broker closed the connection");
}

static void tls_step(struct session *s)
{
	int rc = SSL_connect(s->ssl);
	if (rc == 1) {
		transport_up(s);
		return;
	}
	int e = SSL_get_error(s->ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return;
	long v = SSL_get_verify_result(s->ssl);
	char why[160];
	snprintf(why, sizeof(why), "tls_error: %s",
		 v != X509_V_OK ? X509_verify_cert_error_string(v) : "the TLS handshake failed");
	session_close(s, 1011, why);
}

static void tls_begin(struct session *s)
{
	tls_ctx_ready();
	s->ssl = SSL_new(ctx);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->bfd)) {
		session_close(s, 1011, "internal error");
		return;
	}
	unsigned char ip[16];
	bool literal = inet_pton(AF_INET, s->host, ip) == 1 || inet_pton(AF_INET6, s->host, ip) == 1;
	if (literal)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), s->host);
	else {
		SSL_set_tlsext_host_name(s->ssl, s->host);
		SSL_set1_host(s->ssl, s->host);
	}
	s->bstate = B_TLS;
	tls_step(s);
}

static void connected(struct session *s)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(s->bfd, SOL_SOCKET, SO_ERROR, &err, &len) || err) {
		char why[160];
		snprintf(why, sizeof(why), "broker_unavailable: %s", strerror(err ? err : errno));
		session_close(s, 1011, why);
		return;
	}
	if (s->tls)
		tls_begin(s);
	else
		transport_up(s);
}

/* Reads what the broker sent; 0, or -1 when it is gone. */
static int drain(struct session *s)
{
	uint8_t tmp[16384];
	for (;;) {
		ssize_t n = broker_io(s, tmp, sizeof(tmp), false);
		if (n <= 0)
			return (int)n;
		if (buf_add(&s->b_in, tmp, (size_t)n, (size_t)relay_conf.max_packet + sizeof(tmp)) ||
		    filter_from_broker(s))
			return -2;
		if (s->closing)
			return 0;
	}
}

void broker_event(struct session *s, uint32_t ev)
{
	if (s->bfd < 0 || s->closing)
		return;
	if (s->bstate == B_CONNECTING) {
		connected(s);
		return;
	}
	if (s->bstate == B_TLS) {
		tls_step(s);
		return;
	}
	if (s->bws) {
		bws_event(s, ev);
		return;
	}
	if (ev & EPOLLOUT && broker_flush(s)) {
		session_close(s, 1011, "broker_unavailable: the broker closed the connection");
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		int rc = drain(s);
		if (rc == -1 && s->disconnect_sent)
			session_close(s, 1000, "disconnected");
		else if (rc == -1)
			session_close(s, 1011, "broker_unavailable: the broker closed the connection");
		else if (rc == -2 && !s->closing)
			session_close(s, 1011, "the broker sent a packet that is malformed or too large");
	}
}
