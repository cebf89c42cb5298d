#define _GNU_SOURCE
/* Brokers reached over ws:// and wss:// (subprotocol mqtt): after TCP (and TLS, with
 * the checks of broker.c) the relay sends the upgrade request of lib/mqtt/ws_client,
 * checks the answer, then MQTT packets travel in binary WebSocket messages through
 * wslay's client side (masked, pings answered), over broker_io. */
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "core/crypto.h"
#include "mqtt/ws_client.h"
#include "relay.h"
#include "wsio.h"

#define WS_HEAD_MAX	  8192
#define WS_BROKER_BACKLOG (4u << 20)

static ssize_t broker_read(struct session *s, uint8_t *buf, size_t len)
{
	return broker_io(s, buf, len, false); /* > 0, 0 would block, < 0 gone: wsio's convention */
}

static ssize_t bws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	(void)flags;
	struct session *s = user;
	return wsio_recv(ctx, &s->b_pre, buf, len, broker_read, s);
}

static ssize_t bws_sendcb(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	(void)flags;
	ssize_t n = broker_io(user, (void *)data, len, true);
	if (n > 0)
		return n;
	wslay_event_set_error(ctx, n == 0 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static int bws_mask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx, (void)user;
	return crypto_random(buf, len) ? -1 : 0;
}

/* A closing decision is only noted here: the context cannot be freed inside its callback. */
static void bws_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m, void *user)
{
	(void)ctx;
	struct session *s = user;
	if (s->bws_why || s->closing)
		return;
	if (m->opcode == WSLAY_BINARY_FRAME) {
		if (buf_add(&s->b_in, m->msg, m->msg_length, (size_t)relay_conf.max_packet + 16) || filter_from_broker(s))
			s->bws_why = "the broker sent a packet that is malformed or too large";
	} else if (m->opcode == WSLAY_TEXT_FRAME)
		s->bws_why = "the broker sent a text WebSocket message";
	else if (m->opcode == WSLAY_CONNECTION_CLOSE)
		s->bws_why = s->disconnect_sent ? "disconnected" : "broker_unavailable: the broker closed the WebSocket";
}

int bws_init(struct session *s)
{
	static const struct wslay_event_callbacks cb = {bws_recv, bws_sendcb, bws_mask, NULL, NULL, NULL, bws_message};
	if (wslay_event_context_client_init(&s->bws, &cb, s))
		return -1;
	wslay_event_config_set_max_recv_msg_length(s->bws, (uint64_t)relay_conf.max_packet + 16);
	return 0;
}

void bws_begin(struct session *s)
{
	unsigned char nonce[16];
	char req[1024];
	crypto_random(nonce, sizeof(nonce));
	EVP_EncodeBlock((unsigned char *)s->ws_key, nonce, sizeof(nonce));
	long n = ws_client_request(s->host, s->port, s->ws_path, s->ws_key, req, sizeof(req));
	if (n < 0 || buf_add(&s->b_out, req, (size_t)n, sizeof(req))) {
		session_close(s, 1011, "broker_unavailable: the broker's WebSocket path cannot be requested");
		return;
	}
	s->bstate = B_WS;
	if (broker_flush(s))
		session_close(s, 1011, "broker_unavailable: the broker closed the connection");
}

/* Sends what wslay holds and settles a close it noted. */
static void bws_pump(struct session *s, int rc)
{
	if (!rc && !s->bws_why && wslay_event_send(s->bws))
		rc = -1;
	const char *why = s->bws_why;
	if (why)
		session_close(s, strcmp(why, "disconnected") ? 1011 : 1000, why);
	else if (rc)
		session_close(s, s->disconnect_sent ? 1000 : 1011,
			      s->disconnect_sent ? "disconnected" : "broker_unavailable: the broker closed the connection");
}

/* The upgrade answer: read until its blank line, checked; what follows is frames. */
static void handshake(struct session *s)
{
	uint8_t tmp[4096];
	ssize_t n;
	while ((n = broker_io(s, tmp, sizeof(tmp), false)) > 0)
		if (buf_add(&s->b_pre, tmp, (size_t)n, WS_HEAD_MAX + sizeof(tmp)))
			break;
	uint8_t *end = s->b_pre.len ? memmem(s->b_pre.d, s->b_pre.len, "\r\n\r\n", 4) : NULL;
	if (!end) {
		if (n < 0 || s->b_pre.len > WS_HEAD_MAX)
			session_close(s, 1011, "broker_unavailable: the broker did not answer the WebSocket upgrade");
		return;
	}
	size_t head = (size_t)(end - s->b_pre.d) + 4;
	const char *why = ws_client_check((const char *)s->b_pre.d, head, s->ws_key);
	if (why) {
		char r[120];
		snprintf(r, sizeof(r), "broker_unavailable: %s", why);
		session_close(s, 1011, r);
		return;
	}
	buf_drop(&s->b_pre, head);
	s->bstate = B_UP;
	bws_pump(s, s->b_pre.len ? wslay_event_recv(s->bws) : 0);
}

void bws_event(struct session *s, uint32_t ev)
{
	if (s->bstate == B_WS) {
		if (ev & EPOLLOUT && broker_flush(s))
			session_close(s, 1011, "broker_unavailable: the broker closed the connection");
		else if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
			handshake(s);
		return;
	}
	int rc = 0;
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		rc = wslay_event_recv(s->bws);
	bws_pump(s, rc);
}

int bws_send(struct session *s, const void *p, size_t n)
{
	struct wslay_event_msg m = {WSLAY_BINARY_FRAME, p, n};
	if (s->bstate == B_GONE || wslay_event_get_queued_msg_length(s->bws) + n > WS_BROKER_BACKLOG ||
	    wslay_event_queue_msg(s->bws, &m))
		return -1;
	if (s->bstate == B_UP) {
		bws_pump(s, 0);
		if (s->closing)
			return -1;
	}
	return 0;
}
