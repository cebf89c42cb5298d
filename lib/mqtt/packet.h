/* MQTT 3.1.1 and 5.0 control packets, parsed with bounds: the fixed header (remaining
 * length a variable byte integer of at most 4 bytes), CONNECT, PUBLISH, SUBSCRIBE and
 * UNSUBSCRIBE, with v5 properties walked property by property (each identifier's type
 * known, lengths checked) and skipped; and the few packets the relay writes itself.
 * Parsers never read outside [buf, buf + len) and point into it (no copies). */
#ifndef SB_MQTT_PACKET_H
#define SB_MQTT_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK,
	MQTT_PUBLISH,
	MQTT_PUBACK,
	MQTT_PUBREC,
	MQTT_PUBREL,
	MQTT_PUBCOMP,
	MQTT_SUBSCRIBE,
	MQTT_SUBACK,
	MQTT_UNSUBSCRIBE,
	MQTT_UNSUBACK,
	MQTT_PINGREQ,
	MQTT_PINGRESP,
	MQTT_DISCONNECT,
	MQTT_AUTH
};

/* Outcomes of the parsers. */
enum { MQTT_OK = 0, MQTT_MORE = 1, MQTT_MALFORMED = -1, MQTT_TOO_LARGE = -2 };

#define MQTT_V311 4
#define MQTT_V5	  5
/* Filters one SUBSCRIBE / UNSUBSCRIBE may carry here. */
#define MQTT_MAX_FILTERS 32

struct mqtt_str {
	const uint8_t *p; /* not NUL-terminated */
	uint16_t len;
};

/* The fixed header of the packet at the start of a buffer. */
struct mqtt_frame {
	uint8_t type, flags;
	size_t header_len; /* 2..5 */
	size_t body_len;   /* the remaining length */
};

/* MQTT_OK with *f when a whole packet of at most max bytes (header included) starts
 * buf; MQTT_MORE when more bytes are needed; MQTT_MALFORMED (a 5th length byte);
 * MQTT_TOO_LARGE. */
int mqtt_frame_parse(const uint8_t *buf, size_t len, size_t max, struct mqtt_frame *f);

/* Walks v5 properties [p, p + len): every identifier known, every value inside. */
int mqtt_props_check(const uint8_t *p, size_t len);
/* The string property want (0x08 response topic, ...) of a checked block: MQTT_OK with
 * *out, MQTT_MORE when absent, MQTT_MALFORMED. */
int mqtt_props_find_str(const uint8_t *p, size_t len, uint8_t want, struct mqtt_str *out);

struct mqtt_connect {
	uint8_t version; /* MQTT_V311 or MQTT_V5 (3 = 3.1 is refused as malformed) */
	uint8_t flags;
	uint16_t keepalive;
	const uint8_t *props; /* v5 CONNECT properties (without their length) */
	size_t props_len;
	struct mqtt_str client_id;
	bool will;
	uint8_t will_qos;
	bool will_retain;
	const uint8_t *will_props; /* v5 */
	size_t will_props_len;
	struct mqtt_str will_topic, will_payload;
	bool has_username, has_password;
	struct mqtt_str username, password;
};
/* The body (after the fixed header) of a CONNECT. */
int mqtt_connect_parse(const uint8_t *body, size_t len, struct mqtt_connect *c);
/* Writes c as a CONNECT to out (cap bytes) with the given client id and credentials
 * (NULL: none) in place of its own. Returns the length, or -1 when cap is too small. */
long mqtt_connect_write(const struct mqtt_connect *c, const char *client_id, const char *username,
			const char *password, uint8_t *out, size_t cap);

struct mqtt_publish {
	uint8_t qos;
	bool retain, dup;
	struct mqtt_str topic;
	uint16_t packet_id; /* 0 at QoS 0 */
	uint16_t topic_alias; /* v5 property 0x23, 0 when absent */
	const uint8_t *payload;
	size_t payload_len;
};
int mqtt_publish_parse(uint8_t flags, const uint8_t *body, size_t len, uint8_t version, struct mqtt_publish *p);

/* SUBSCRIBE (options: the byte after each filter) or UNSUBSCRIBE (options 0). */
struct mqtt_subscribe {
	uint16_t packet_id;
	unsigned n;
	struct mqtt_str filters[MQTT_MAX_FILTERS];
	uint8_t options[MQTT_MAX_FILTERS];
};
int mqtt_subscribe_parse(uint8_t type, uint8_t flags, const uint8_t *body, size_t len, uint8_t version,
			 struct mqtt_subscribe *s);

/* Packets the relay answers with itself; each returns its length (out holds at least
 * 4 + MQTT_MAX_FILTERS bytes). */
size_t mqtt_write_suback(uint8_t version, uint16_t packet_id, unsigned n, uint8_t code, uint8_t *out);
/* PUBACK (qos 1) or PUBREC (qos 2) with a reason code (v5 only: 3.1.1 has none). */
size_t mqtt_write_puback(uint8_t version, uint8_t qos, uint16_t packet_id, uint8_t code, uint8_t *out);
/* CONNACK with a return code (3.1.1) / reason code (v5), session present 0. */
size_t mqtt_write_connack(uint8_t version, uint8_t code, uint8_t *out);
/* v5 DISCONNECT with a reason code (3.1.1: none; the socket is closed instead). */
size_t mqtt_write_disconnect(uint8_t code, uint8_t *out);

#endif
