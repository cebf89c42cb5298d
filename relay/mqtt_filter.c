/* What the browser sends, packet by packet (lib/mqtt/packet.h): the CONNECT rewritten
 * with the saved credentials, PUBLISH and SUBSCRIBE held to the saved topic_prefix
 * (lib/mqtt/scope.h) and refused with the protocol's own answer, anything malformed
 * ending the session. What the broker sends goes to the browser one packet per
 * WebSocket message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crypto.h"
#include "mqtt/packet.h"
#include "mqtt/scope.h"
#include "relay.h"

#define NOT_AUTHORIZED_V5   0x87
#define CONNACK_REFUSED_311 0x05 /* not authorized */
#define SUBACK_FAILURE_311  0x80
#define MESSAGE_RATE_TOO_HIGH_V5 0x96

static uint16_t close_for(int rc)
{
	return rc == MQTT_TOO_LARGE ? 1009 : 1002;
}

/* 3.1.1 has no refusal for a PUBLISH: the connection ends (MQTT-3.3.5-2 lets the server
 * close it); v5 answers PUBACK/PUBREC 0x87 (QoS 1/2) or drops a QoS 0 message. */
static int refuse_publish(struct session *s, const struct mqtt_publish *p)
{
	store_refused(s, "publish", (const char *)p->topic.p, p->topic.len);
	if (s->version != MQTT_V5) {
		session_close(s, 1008, "publish outside the topic prefix refused");
		return -1;
	}
	if (!p->qos)
		return 0;
	uint8_t out[8];
	size_t n = mqtt_write_puback(s->version, p->qos, p->packet_id, NOT_AUTHORIZED_V5, out);
	return ws_send_packet(s, out, n);
}

/* A v5 topic alias set with a topic stands for it after; unknown ones (or above 64) are refused. */
static bool publish_in_scope(struct session *s, const struct mqtt_publish *p)
{
	bool ok = p->topic.len ? mqtt_topic_in_scope(s->prefix, p->topic.p, p->topic.len) : false;
	if (p->topic_alias) {
		if (p->topic_alias > 64)
			return false;
		uint64_t bit = 1ull << (p->topic_alias - 1);
		if (!p->topic.len)
			return (s->alias_known & bit) && (s->alias_ok & bit);
		s->alias_known |= bit;
		s->alias_ok = ok ? s->alias_ok | bit : s->alias_ok & ~bit;
	}
	return ok;
}

static int on_publish(struct session *s, const struct mqtt_frame *f, const uint8_t *pkt)
{
	struct mqtt_publish p;
	int rc = mqtt_publish_parse(f->flags, pkt + f->header_len, f->body_len, s->version, &p);
	if (rc) {
		session_close(s, 1002, "malformed PUBLISH");
		return -1;
	}
	if (!publish_in_scope(s, &p))
		return refuse_publish(s, &p);
	return broker_send(s, pkt, f->header_len + f->body_len);
}

static int on_subscribe(struct session *s, const struct mqtt_frame *f, const uint8_t *pkt)
{
	struct mqtt_subscribe sub;
	if (mqtt_subscribe_parse(f->type, f->flags, pkt + f->header_len, f->body_len, s->version, &sub)) {
		session_close(s, 1002, "malformed SUBSCRIBE or UNSUBSCRIBE");
		return -1;
	}
	if (f->type == MQTT_SUBSCRIBE)
		for (unsigned i = 0; i < sub.n; i++)
			if (!mqtt_filter_in_scope(s->prefix, sub.filters[i].p, sub.filters[i].len)) {
				/* The whole SUBSCRIBE is refused: every filter gets the failure code. */
				store_refused(s, "subscribe", (const char *)sub.filters[i].p, sub.filters[i].len);
				uint8_t out[8 + MQTT_MAX_FILTERS];
				size_t n = mqtt_write_suback(s->version, sub.packet_id, sub.n,
							     s->version == MQTT_V5 ? NOT_AUTHORIZED_V5 : SUBACK_FAILURE_311, out);
				return ws_send_packet(s, out, n);
			}
	return broker_send(s, pkt, f->header_len + f->body_len);
}

static int refuse_connect(struct session *s, uint8_t v5_code, const char *why)
{
	uint8_t out[8];
	size_t n = mqtt_write_connack(s->version, s->version == MQTT_V5 ? v5_code : CONNACK_REFUSED_311, out);
	ws_send_packet(s, out, n);
	session_close(s, 1008, why);
	return -1;
}

static int on_connect(struct session *s, const struct mqtt_frame *f, const uint8_t *pkt)
{
	struct mqtt_connect c;
	if (s->connect_seen || mqtt_connect_parse(pkt + f->header_len, f->body_len, &c)) {
		session_close(s, 1002, s->connect_seen ? "a second CONNECT" : "malformed CONNECT");
		return -1;
	}
	s->connect_seen = true;
	s->version = c.version;
	s->keepalive = c.keepalive;
	struct mqtt_str auth;
	if (c.version == MQTT_V5 && mqtt_props_find_str(c.props, c.props_len, 0x15, &auth) == MQTT_OK)
		return refuse_connect(s, 0x8c, "enhanced authentication is not relayed");
	if (c.will && !mqtt_topic_in_scope(s->prefix, c.will_topic.p, c.will_topic.len)) {
		store_refused(s, "will", (const char *)c.will_topic.p, c.will_topic.len);
		return refuse_connect(s, NOT_AUTHORIZED_V5, "will topic outside the topic prefix refused");
	}
	/* The browser's client id, or <device_id>-web-<random> when it gives none. */
	char id[200], rnd[4];
	if (c.client_id.len)
		snprintf(id, sizeof(id), "%.*s", (int)c.client_id.len, (const char *)c.client_id.p);
	else {
		crypto_random(rnd, sizeof(rnd));
		snprintf(id, sizeof(id), "%.128s-web-%02x%02x%02x%02x", s->device_id, (uint8_t)rnd[0], (uint8_t)rnd[1],
			 (uint8_t)rnd[2], (uint8_t)rnd[3]);
	}
	size_t cap = f->header_len + f->body_len + 4096;
	uint8_t *out = malloc(cap);
	long n = out ? mqtt_connect_write(&c, id, s->username, s->username ? s->password : NULL, out, cap) : -1;
	int rc = n < 0 ? -1 : broker_send(s, out, (size_t)n);
	free(out);
	if (rc && !s->closing)
		session_close(s, 1011, "internal error");
	return rc;
}

static int one_packet(struct session *s, const struct mqtt_frame *f, const uint8_t *pkt)
{
	if (!s->connect_seen && f->type != MQTT_CONNECT) {
		session_close(s, 1002, "the first packet must be CONNECT");
		return -1;
	}
	switch (f->type) {
	case MQTT_CONNECT:
		return on_connect(s, f, pkt);
	case MQTT_PUBLISH:
		return on_publish(s, f, pkt);
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		return on_subscribe(s, f, pkt);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_DISCONNECT:
		s->disconnect_sent = true;
		return broker_send(s, pkt, f->header_len + f->body_len);
	case MQTT_PINGREQ:
		return broker_send(s, pkt, f->header_len + f->body_len);
	default:
		session_close(s, 1002, "a packet type a client does not send");
		return -1;
	}
}

/* The browser's MQTT packets and bytes per second (SB_RELAY_MESSAGES_PER_SECOND,
 * SB_RELAY_BYTES_PER_SECOND) in one-second windows: packets, not WebSocket messages (a
 * client may split a packet over several messages or put several in one).
 * Beyond either: a v5 session gets DISCONNECT 0x96 (message rate too high), 3.1.1 has
 * no server DISCONNECT; then close 1008. Counted and audited as a refusal. */
static bool over_rate(struct session *s, size_t bytes, unsigned packets)
{
	unsigned long sec = (unsigned long)(now_ms() / 1000);
	if (sec != s->msgs_window)
		s->msgs_window = sec, s->msgs_in_window = 0, s->bytes_in_window = 0;
	s->bytes_in_window += bytes;
	s->msgs_in_window += packets;
	const char *what = NULL;
	if (s->msgs_in_window > (unsigned long)relay_conf.msgs_per_second)
		what = "messages_per_second";
	else if (s->bytes_in_window > (unsigned long long)relay_conf.bytes_per_second)
		what = "bytes_per_second";
	if (!what)
		return false;
	store_refused(s, what, NULL, 0);
	if (s->connect_seen && s->version == MQTT_V5) {
		uint8_t out[8];
		ws_send_packet(s, out, mqtt_write_disconnect(MESSAGE_RATE_TOO_HIGH_V5, out));
	}
	session_close(s, 1008, *what == 'm' ? "too many messages per second" : "too many bytes per second");
	return true;
}

int filter_from_browser(struct session *s, const uint8_t *p, size_t n)
{
	if (over_rate(s, n, 0))
		return -1;
	if (buf_add(&s->c_in, p, n, (size_t)relay_conf.max_packet + 5)) {
		session_close(s, 1009, "packet too large");
		return -1;
	}
	size_t off = 0;
	int rc;
	struct mqtt_frame f;
	while (!s->closing && (rc = mqtt_frame_parse(s->c_in.d + off, s->c_in.len - off, (size_t)relay_conf.max_packet,
						     &f)) == MQTT_OK) {
		if (over_rate(s, 0, 1) || one_packet(s, &f, s->c_in.d + off))
			return -1;
		off += f.header_len + f.body_len;
	}
	if (s->closing)
		return -1;
	buf_drop(&s->c_in, off);
	if (rc != MQTT_MORE) {
		session_close(s, close_for(rc), rc == MQTT_TOO_LARGE ? "packet too large" : "malformed packet");
		return -1;
	}
	return 0;
}

int filter_from_broker(struct session *s)
{
	size_t off = 0;
	int rc;
	struct mqtt_frame f;
	while ((rc = mqtt_frame_parse(s->b_in.d + off, s->b_in.len - off, (size_t)relay_conf.max_packet, &f)) ==
	       MQTT_OK) {
		if (ws_send_packet(s, s->b_in.d + off, f.header_len + f.body_len))
			return -1;
		off += f.header_len + f.body_len;
	}
	buf_drop(&s->b_in, off);
	return rc == MQTT_MORE ? 0 : -1;
}
