/* The Remote Lab relay (issue 18): browsers speak MQTT over a WebSocket (subprotocol
 * mqtt) to this process, which nginx reaches over a unix socket; each session is
 * relayed to the user's saved broker with the sealed credentials and the topic scope
 * of the saved topic_prefix. One process, one epoll loop, non-blocking sockets. */
#ifndef SB_RELAY_H
#define SB_RELAY_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <wslay/wslay.h>

/* A growable byte buffer with a cap. */
struct buf {
	uint8_t *d;
	size_t len, cap;
};
int buf_add(struct buf *b, const void *p, size_t n, size_t max); /* 0, or -1 past max / no memory */
void buf_drop(struct buf *b, size_t n);				  /* removes n bytes from the front */
void buf_free(struct buf *b);

enum ep_kind { EP_LISTEN, EP_CLIENT, EP_BROKER, EP_TIMER, EP_SIGNAL, EP_JOBS };
struct ep {
	enum ep_kind kind;
	struct session *s;
};

enum client_state { C_HTTP, C_OPENING, C_WS, C_GONE }; /* C_OPENING: ticket, integration, DNS off the loop */
enum broker_state { B_NONE, B_CONNECTING, B_TLS, B_WS, B_UP, B_GONE }; /* B_WS: the broker's upgrade */

struct session {
	struct ep cep, bep;
	int cfd, bfd;
	enum client_state cstate;
	enum broker_state bstate;
	struct buf http;  /* the upgrade request until its blank line */
	struct buf pre;	  /* bytes that came after it: the first WebSocket frames */
	struct buf c_in;  /* MQTT bytes from the browser, a packet not yet whole */
	struct buf b_in;  /* MQTT bytes from the broker */
	struct buf b_out; /* waiting to be written to the broker (ws: the upgrade request) */
	struct buf b_pre; /* ws broker: frames that came right after its upgrade answer */
	wslay_event_context_ptr ws;
	wslay_event_context_ptr bws; /* ws:// and wss:// brokers: the client side of wslay */
	char ws_key[25], *ws_path;
	const char *bws_why; /* a close the broker's WebSocket asked for, done after wslay returns */
	SSL *ssl;
	uint32_t cev, bev; /* epoll events registered */
	/* The saved integration. */
	char *user_id, *row_id, *prefix, *device_id, *username, *password, *host, *broker_url;
	char *ip, *user_agent; /* of the browser, for the audit log */
	int port;
	bool tls, websocket, connect_seen, disconnect_sent;
	uint8_t version;
	uint16_t keepalive;
	uint64_t alias_known, alias_ok; /* v5 topic aliases 1..64 the browser set */
	long long opened_ms, last_rx_ms, connect_deadline_ms, close_deadline_ms;
	unsigned refused, refused_unsaved, audits;
	unsigned long msgs_window, msgs_in_window;
	unsigned long long bytes_in_window;
	uint16_t pending_code; /* a close waiting for the queued messages to go first */
	char pending_reason[124];
	bool closing, dead; /* dead: to be destroyed once the current event is handled */
	bool destroyed;	    /* freed at sessions_reap: epoll may still hold its events */
	uint64_t id;	    /* unique in the process, never reused: what offloaded jobs hold */
	struct session *prev, *next;
};

/* offload.c: blocking work (database, DNS) on one worker thread; done() runs in the loop.
 * A job never holds a session pointer: work() runs on the thread and sees only the job's
 * own copies; done() finds its session again by id (session_find), and a session closed
 * meanwhile is simply not found (it may be freed at any time after session_destroy). */
struct job {
	void (*work)(struct job *); /* on the worker thread: the job's fields only */
	void (*done)(struct job *); /* in the loop, afterwards; frees the job */
	uint64_t sid;		    /* the session it is for, or 0 */
	bool skip_at_stop;	    /* work() not run once the relay is stopping */
	struct job *next;
};
int offload_start(void);	  /* the eventfd the loop watches, or -1 */
void offload_post(struct job *j); /* before start or after stop: run at once, in the caller */
void offload_complete(void);	  /* on the eventfd: runs the finished jobs' done() */
void offload_stop(void);	  /* finishes the queued work, joins the thread (1.5 s at most) */
bool offload_joined(void);	  /* false: the thread still runs (and holds the database) */

/* A saved integration as the worker thread loads it, moved into the session in the loop. */
struct saved {
	char *host, *ws_path, *broker_url, *prefix, *device_id, *username, *password;
	int port;
	bool tls, websocket;
};

/* Settings, read once at start. */
struct relay_conf {
	const char *socket_path, *relay_id, *ca_file;
	long max_packet, sessions_per_user, connect_timeout_ms, msgs_per_second, bytes_per_second;
};
extern struct relay_conf relay_conf;

/* main.c: the loop's pieces the sessions use. */
long long now_ms(void);
int loop_watch(int fd, struct ep *e, uint32_t events, uint32_t *registered);
void loop_forget(int fd);

/* session.c */
void session_accept(int listen_fd);
void session_client_event(struct session *s, uint32_t ev);
void session_broker_event(struct session *s, uint32_t ev);
/* Starts closing: a WebSocket close frame with code and reason (or an HTTP answer before
 * the upgrade), the broker dropped. */
void session_close(struct session *s, uint16_t code, const char *reason);
void sessions_tick(void);
void sessions_close_all(uint16_t code, const char *reason);
void sessions_reap(void);
void sessions_destroy_all(void); /* at exit */
struct session *session_find(uint64_t id); /* a live (not destroyed) session, or NULL */
unsigned sessions_count(void);
void session_update_interest(struct session *s);
void session_destroy(struct session *s);

/* upgrade.c: the HTTP side before the WebSocket exists. */
/* Handles a complete request in s->http: 0 when upgraded (s->ws set), -1 when answered
 * with an error (the session is to be destroyed once written). */
int upgrade_handle(struct session *s);
/* A session still opening (its ticket and integration on the worker thread) answered 503
 * with why (a slow database, a restart), then destroyed. */
void upgrade_unavailable(struct session *s, const char *why);

/* broker.c */
struct addrinfo;
/* getaddrinfo (blocking: on the worker thread); NULL when the name does not resolve. */
struct addrinfo *broker_resolve(const char *host, int port);
/* Starts the connection to the first of res the address guard permits (non-blocking);
 * frees res. Returns NULL, or a reason for the browser. */
const char *broker_start(struct session *s, struct addrinfo *res);
/* Progress on the broker socket: connect, handshake, read, write. */
void broker_event(struct session *s, uint32_t ev);
/* Queues bytes for the broker. Returns 0 or -1 (too much pending). */
int broker_send(struct session *s, const void *p, size_t n);
void broker_drop(struct session *s);
int broker_tls_init(void);
/* One read or write on the broker's socket: n > 0, 0 would block, -1 gone. */
ssize_t broker_io(struct session *s, void *p, size_t n, bool write);
int broker_flush(struct session *s); /* writes b_out: 0, or -1 gone */

/* broker_ws.c: ws:// and wss:// brokers, the client side of RFC 6455 over broker_io. */
int bws_init(struct session *s);	/* the wslay client context: 0 or -1 */
void bws_begin(struct session *s);	/* sends the upgrade request (state B_WS) */
void bws_event(struct session *s, uint32_t ev);
int bws_send(struct session *s, const void *p, size_t n); /* one MQTT packet (or part) */

/* mqtt_filter.c: packets of the browser, checked, rewritten or refused. */
/* Takes the bytes of one WebSocket message; returns 0, or -1 after closing. */
int filter_from_browser(struct session *s, const uint8_t *p, size_t n);
/* Whole packets of the broker are sent to the browser one WebSocket message each. */
int filter_from_broker(struct session *s);
/* Sends one MQTT packet to the browser. */
int ws_send_packet(struct session *s, const uint8_t *p, size_t n);

/* store.c: what the relay reads and writes in the database. */
/* Loads user_id's saved row into *v (on the worker thread): NULL, or an HTTP-ish reason
 * with *status set (404 nothing saved, 409 disabled, 500 secret, 503 db). */
const char *store_load_integration(const char *user_id, struct saved *v, int *status, const char **code);
void store_saved_move(struct session *s, struct saved *v); /* v's strings now belong to s */
void store_saved_free(struct saved *v);
void store_session_opened(struct session *s);
void store_session_closed(struct session *s);
void store_refused(struct session *s, const char *what, const char *topic, size_t topic_len);
/* Each second: closes the sessions of users whose integration went; marks sessions seen. */
void store_tick(void);
/* Closes this relay's rows (at start and stop). */
void store_clear(void);

#endif
