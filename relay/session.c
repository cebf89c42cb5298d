#define _GNU_SOURCE
/* Sessions: a browser's connection (HTTP upgrade, then WebSocket frames through
 * wslay) and its broker connection, their epoll interest, closing and timeouts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "relay.h"
#include "wsio.h"

#define HTTP_MAX     8192
#define HTTP_TIMEOUT 10000
#define BACKLOG_MAX  (1u << 20) /* bytes waiting on one side before the other stops reading */

static struct session *head;
static struct session *graveyard; /* destroyed, not yet freed (sessions_reap) */
static unsigned count;

unsigned sessions_count(void)
{
	return count;
}

void session_destroy(struct session *s)
{
	if (s->cstate == C_WS && s->row_id)
		store_session_closed(s);
	broker_drop(s);
	if (s->cfd >= 0) {
		loop_forget(s->cfd);
		close(s->cfd);
	}
	if (s->ws)
		wslay_event_context_free(s->ws);
	buf_free(&s->http), buf_free(&s->pre), buf_free(&s->c_in), buf_free(&s->b_in), buf_free(&s->b_out), buf_free(&s->b_pre);
	if (s->password)
		explicit_bzero(s->password, strlen(s->password));
	char *strs[] = {s->user_id, s->row_id,	 s->prefix,	s->device_id, s->username,
			s->password, s->host, s->broker_url, s->ip,	s->user_agent, s->ws_path};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	if (s->prev)
		s->prev->next = s->next;
	else
		head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	count--;
	/* One epoll_wait batch can hold events for both of a session's sockets: the second
	 * must still find the session's memory (marked destroyed) after the first freed it. */
	s->destroyed = true;
	s->next = graveyard;
	graveyard = s;
}

void sessions_reap(void)
{
	while (graveyard) {
		struct session *s = graveyard;
		graveyard = s->next;
		free(s);
	}
}

/* Offloaded jobs find their session by id (relay.h, struct job): a linear walk, once per
 * finished job that has a session (its opening, its row's id). */
struct session *session_find(uint64_t id)
{
	for (struct session *s = head; s && id; s = s->next)
		if (s->id == id)
			return s;
	return NULL;
}

void sessions_destroy_all(void)
{
	while (head)
		session_destroy(head);
}

void session_accept(int lfd)
{
	static uint64_t serial;
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct session *s = calloc(1, sizeof(*s));
		if (!s) {
			close(fd);
			return;
		}
		s->cfd = fd;
		s->bfd = -1;
		s->id = ++serial;
		s->cep = (struct ep){EP_CLIENT, s};
		s->bep = (struct ep){EP_BROKER, s};
		s->opened_ms = s->last_rx_ms = now_ms();
		s->next = head;
		if (head)
			head->prev = s;
		head = s;
		count++;
		if (loop_watch(fd, &s->cep, EPOLLIN | EPOLLRDHUP, &s->cev))
			session_destroy(s);
	}
}

/* --- wslay's callbacks ------------------------------------------------------------------- */

/* The browser's socket in wsio's convention: 0 would block; end of stream is -1, gone. */
static ssize_t client_read(struct session *s, uint8_t *buf, size_t len)
{
	ssize_t n = read(s->cfd, buf, len);
	if (n > 0)
		return n;
	return n < 0 && (errno == EAGAIN || errno == EINTR) ? 0 : -1;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *user)
{
	(void)flags;
	struct session *s = user;
	return wsio_recv(ctx, &s->pre, buf, len, client_read, s);
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags, void *user)
{
	(void)flags;
	struct session *s = user;
	ssize_t n = send(s->cfd, data, len, MSG_NOSIGNAL);
	if (n >= 0)
		return n;
	wslay_event_set_error(ctx, errno == EAGAIN || errno == EINTR ? WSLAY_ERR_WOULDBLOCK
								      : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static void ws_message(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *m, void *user)
{
	(void)ctx;
	struct session *s = user;
	if (s->closing)
		return;
	s->last_rx_ms = now_ms();
	if (m->opcode == WSLAY_BINARY_FRAME)
		filter_from_browser(s, m->msg, m->msg_length);
	else if (m->opcode == WSLAY_TEXT_FRAME)
		session_close(s, 1003, "MQTT over WebSocket needs binary frames");
	else if (m->opcode == WSLAY_CONNECTION_CLOSE)
		s->closing = true, broker_drop(s); /* wslay answers the close itself */
}

int session_ws_init(struct session *s);
int session_ws_init(struct session *s)
{
	static const struct wslay_event_callbacks cb = {ws_recv, ws_send, NULL, NULL, NULL, NULL, ws_message};
	if (wslay_event_context_server_init(&s->ws, &cb, s))
		return -1;
	wslay_event_config_set_max_recv_msg_length(s->ws, (uint64_t)relay_conf.max_packet);
	s->cstate = C_WS;
	return 0;
}

int ws_send_packet(struct session *s, const uint8_t *p, size_t n)
{
	struct wslay_event_msg m = {WSLAY_BINARY_FRAME, p, n};
	return s->ws && !s->closing && wslay_event_queue_msg(s->ws, &m) == 0 ? 0 : -1;
}

/* --- closing, interest, events ------------------------------------------------------------ */

static void close_when_flushed(struct session *s)
{
	if (!s->pending_code || !s->ws || wslay_event_get_queued_msg_count(s->ws))
		return;
	wslay_event_queue_close(s->ws, s->pending_code, (const uint8_t *)s->pending_reason, strlen(s->pending_reason));
	s->pending_code = 0;
}

void session_close(struct session *s, uint16_t code, const char *reason)
{
	if (s->closing || s->dead)
		return;
	if (s->cstate == C_OPENING)
		upgrade_unavailable(s, reason);
	s->closing = true;
	broker_drop(s);
	if (s->cstate != C_WS || !s->ws) {
		s->dead = true;
		return;
	}
	log_msg(LOG_INFO, "session of user %s closed: %u %s", s->user_id ? s->user_id : "-", code, reason);
	/* wslay sends control frames before queued messages: the close waits for them. */
	s->pending_code = code;
	snprintf(s->pending_reason, sizeof(s->pending_reason), "%s", reason);
	s->close_deadline_ms = now_ms() + 2000;
	close_when_flushed(s);
	session_update_interest(s);
}

void session_update_interest(struct session *s)
{
	if (s->dead || s->cfd < 0)
		return;
	uint32_t c = EPOLLRDHUP;
	if (s->cstate == C_HTTP)
		c |= EPOLLIN;
	else if (s->ws) {
		if (wslay_event_want_read(s->ws) && s->b_out.len < BACKLOG_MAX)
			c |= EPOLLIN;
		if (wslay_event_want_write(s->ws))
			c |= EPOLLOUT;
	}
	if (loop_watch(s->cfd, &s->cep, c, &s->cev))
		s->dead = true;
	if (s->bfd >= 0) {
		uint32_t b = 0;
		if (s->bstate == B_CONNECTING)
			b = EPOLLOUT;
		else if (s->bstate == B_TLS)
			b = EPOLLIN | EPOLLOUT;
		else if (s->bstate == B_WS)
			b = EPOLLIN | (s->b_out.len ? EPOLLOUT : 0);
		else if (s->bstate == B_UP) {
			bool room = !s->ws || wslay_event_get_queued_msg_length(s->ws) < BACKLOG_MAX;
			if (room && (!s->bws || wslay_event_want_read(s->bws)))
				b |= EPOLLIN;
			if (s->bws ? wslay_event_want_write(s->bws) : s->b_out.len > 0)
				b |= EPOLLOUT;
		}
		if (loop_watch(s->bfd, &s->bep, b, &s->bev))
			session_close(s, 1011, "internal error");
	}
}

/* Destroys s when it is done: dead, or its close frame sent (or nothing left to do). */
static void settle(struct session *s)
{
	if (!s->dead && s->ws && s->pending_code) {
		close_when_flushed(s);
		if (wslay_event_send(s->ws))
			s->dead = true;
	}
	/* After our close frame the browser's frames are still read (and dropped) until its
	 * close answers ours or close_deadline_ms passes: closing a socket with unread bytes
	 * would reset it, and the reset can overtake our last frames on the way to the browser. */
	if (!s->dead && s->ws && !wslay_event_want_read(s->ws) && !wslay_event_want_write(s->ws))
		s->dead = true;
	if (s->dead)
		session_destroy(s);
	else
		session_update_interest(s);
}

static void http_read(struct session *s)
{
	uint8_t tmp[4096];
	ssize_t n = read(s->cfd, tmp, sizeof(tmp));
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			s->dead = true;
		return;
	}
	if (buf_add(&s->http, tmp, (size_t)n, HTTP_MAX + sizeof(tmp))) {
		s->dead = true;
		return;
	}
	uint8_t *end = memmem(s->http.d, s->http.len, "\r\n\r\n", 4);
	if (!end) {
		if (s->http.len > HTTP_MAX)
			s->dead = true;
		return;
	}
	size_t head_len = (size_t)(end - s->http.d) + 4;
	if (buf_add(&s->pre, s->http.d + head_len, s->http.len - head_len, HTTP_MAX + sizeof(tmp))) {
		s->dead = true;
		return;
	}
	s->http.len = head_len;
	if (upgrade_handle(s))
		s->dead = true;
	buf_free(&s->http);
}

void session_client_event(struct session *s, uint32_t ev)
{
	if (s->cstate == C_HTTP) {
		if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
			http_read(s);
	} else if (s->cstate == C_OPENING && (ev & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
		s->dead = true; /* gone while its ticket was checked */
	if (!s->dead && s->ws) {
		if ((ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) || s->pre.len)
			if (wslay_event_recv(s->ws))
				s->dead = true;
		if (!s->dead && wslay_event_send(s->ws))
			s->dead = true;
		if ((ev & (EPOLLHUP | EPOLLERR)) && !(ev & EPOLLIN))
			s->dead = true;
	}
	settle(s);
}

void session_broker_event(struct session *s, uint32_t ev)
{
	broker_event(s, ev);
	if (!s->dead && s->ws && wslay_event_send(s->ws))
		s->dead = true;
	settle(s);
}

void sessions_close_all(uint16_t code, const char *reason)
{
	for (struct session *s = head, *next; s; s = next) {
		next = s->next;
		session_close(s, code, reason);
		if (!s->dead && s->ws && wslay_event_send(s->ws))
			s->dead = true;
		settle(s);
	}
}

struct session *sessions_head(void);
struct session *sessions_head(void)
{
	return head;
}

void sessions_tick(void)
{
	long long now = now_ms();
	for (struct session *s = head, *next; s; s = next) {
		next = s->next;
		if (s->cstate == C_HTTP && now - s->opened_ms > HTTP_TIMEOUT)
			s->dead = true;
		else if (s->cstate == C_OPENING && now - s->opened_ms > HTTP_TIMEOUT)
			upgrade_unavailable(s, "The database did not answer in time");
		else if (s->closing && s->close_deadline_ms && now > s->close_deadline_ms)
			s->dead = true;
		else if (s->bstate != B_UP && s->bstate != B_NONE && s->connect_deadline_ms &&
			 now > s->connect_deadline_ms)
			session_close(s, 1011, "broker_timeout: the broker did not answer in time");
		else if (s->cstate == C_WS && !s->connect_seen && !s->closing &&
			 now - s->opened_ms > relay_conf.connect_timeout_ms + HTTP_TIMEOUT)
			session_close(s, 1002, "no CONNECT: the first packet must come within seconds");
		else if (s->keepalive && now - s->last_rx_ms > (long long)s->keepalive * 1500)
			session_close(s, 1000, "keep-alive expired: nothing from the client for 1.5 keep-alive periods");
		if (!s->dead && s->ws && wslay_event_send(s->ws))
			s->dead = true;
		settle(s);
	}
	store_tick();
}
