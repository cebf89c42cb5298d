/* MQTT packets with bounds; see packet.h. */
#include "mqtt/packet.h"

#include <string.h>

/* A read cursor: every get checks what is left first. */
struct cur {
	const uint8_t *p;
	size_t left;
};

static int get_u8(struct cur *c, uint8_t *v)
{
	if (c->left < 1)
		return MQTT_MALFORMED;
	*v = *c->p++;
	c->left--;
	return MQTT_OK;
}

static int get_u16(struct cur *c, uint16_t *v)
{
	if (c->left < 2)
		return MQTT_MALFORMED;
	*v = (uint16_t)(c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return MQTT_OK;
}

static int skip(struct cur *c, size_t n)
{
	if (c->left < n)
		return MQTT_MALFORMED;
	c->p += n;
	c->left -= n;
	return MQTT_OK;
}

/* A variable byte integer of at most 4 bytes. */
static int get_varint(struct cur *c, uint32_t *v)
{
	uint32_t value = 0;
	for (int i = 0; i < 4; i++) {
		uint8_t b;
		if (get_u8(c, &b))
			return MQTT_MALFORMED;
		value |= (uint32_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			*v = value;
			return MQTT_OK;
		}
	}
	return MQTT_MALFORMED;
}

/* Well-formed UTF-8 without U+0000 or surrogates (MQTT-1.5.3). */
static bool utf8_ok(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint8_t b = s[i];
		size_t len = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 : (b & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || i + len > n || b == 0)
			return false;
		uint32_t cp = len == 1 ? b : (uint32_t)(b & (0x7f >> len));
		for (size_t k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += len;
	}
	return true;
}

static int get_bin(struct cur *c, struct mqtt_str *s)
{
	uint16_t n;
	if (get_u16(c, &n) || c->left < n)
		return MQTT_MALFORMED;
	s->p = c->p;
	s->len = n;
	return skip(c, n);
}

static int get_str(struct cur *c, struct mqtt_str *s)
{
	if (get_bin(c, s) || !utf8_ok(s->p, s->len))
		return MQTT_MALFORMED;
	return MQTT_OK;
}

int mqtt_frame_parse(const uint8_t *buf, size_t len, size_t max, struct mqtt_frame *f)
{
	if (len < 2)
		return MQTT_MORE;
	size_t body = 0;
	for (size_t i = 1; i <= 4; i++) {
		if (i >= len)
			return MQTT_MORE;
		body |= (size_t)(buf[i] & 0x7f) << (7 * (i - 1));
		if (!(buf[i] & 0x80)) {
			f->type = buf[0] >> 4;
			f->flags = buf[0] & 0x0f;
			f->header_len = i + 1;
			f->body_len = body;
			if (f->type == 0 || f->header_len + body > max)
				return f->type == 0 ? MQTT_MALFORMED : MQTT_TOO_LARGE;
			return len >= f->header_len + body ? MQTT_OK : MQTT_MORE;
		}
	}
	return MQTT_MALFORMED;
}

/* The value type of each v5 property identifier (0: unknown). */
enum { P_BYTE = 1, P_U16, P_U32, P_VARINT, P_STR, P_BIN, P_PAIR };
static int prop_type(uint8_t id)
{
	switch (id) {
	case 0x01: case 0x17: case 0x19: case 0x24: case 0x25: case 0x28: case 0x29: case 0x2a:
		return P_BYTE;
	case 0x13: case 0x21: case 0x22: case 0x23:
		return P_U16;
	case 0x02: case 0x11: case 0x18: case 0x27:
		return P_U32;
	case 0x0b:
		return P_VARINT;
	case 0x03: case 0x08: case 0x12: case 0x15: case 0x1a: case 0x1c: case 0x1f:
		return P_STR;
	case 0x09: case 0x16:
		return P_BIN;
	case 0x26:
		return P_PAIR;
	default:
		return 0;
	}
}

/* Reads one property: its identifier, and for 2-byte and string values the value. */
static int prop_next(struct cur *c, uint8_t *id, uint16_t *u16, struct mqtt_str *str)
{
	uint32_t v;
	struct mqtt_str s;
	if (get_varint(c, &v) || v > 0x7f)
		return MQTT_MALFORMED;
	*id = (uint8_t)v;
	switch (prop_type(*id)) {
	case P_BYTE:
		return skip(c, 1);
	case P_U16:
		return get_u16(c, u16);
	case P_U32:
		return skip(c, 4);
	case P_VARINT:
		return get_varint(c, &v);
	case P_STR:
		return get_str(c, str);
	case P_BIN:
		return get_bin(c, &s);
	case P_PAIR:
		return get_str(c, &s) || get_str(c, &s) ? MQTT_MALFORMED : MQTT_OK;
	default:
		return MQTT_MALFORMED;
	}
}

int mqtt_props_check(const uint8_t *p, size_t len)
{
	struct cur c = {p, len};
	while (c.left) {
		uint8_t id;
		uint16_t u16;
		struct mqtt_str s;
		if (prop_next(&c, &id, &u16, &s))
			return MQTT_MALFORMED;
	}
	return MQTT_OK;
}

int mqtt_props_find_str(const uint8_t *p, size_t len, uint8_t want, struct mqtt_str *out)
{
	struct cur c = {p, len};
	while (c.left) {
		uint8_t id;
		uint16_t u16;
		struct mqtt_str s = {NULL, 0};
		if (prop_next(&c, &id, &u16, &s))
			return MQTT_MALFORMED;
		if (id == want) {
			*out = s;
			return MQTT_OK;
		}
	}
	return MQTT_MORE; /* absent */
}

/* The v5 property block at the cursor: length, then checked contents. */
static int get_props(struct cur *c, const uint8_t **p, size_t *len)
{
	uint32_t n;
	if (get_varint(c, &n) || c->left < n || mqtt_props_check(c->p, n))
		return MQTT_MALFORMED;
	*p = c->p;
	*len = n;
	return skip(c, n);
}

static int connect_payload(struct cur *c, struct mqtt_connect *m)
{
	if (get_str(c, &m->client_id))
		return MQTT_MALFORMED;
	if (m->will) {
		if (m->version == MQTT_V5 && get_props(c, &m->will_props, &m->will_props_len))
			return MQTT_MALFORMED;
		if (get_str(c, &m->will_topic) || get_bin(c, &m->will_payload))
			return MQTT_MALFORMED;
	}
	if (m->has_username && get_str(c, &m->username))
		return MQTT_MALFORMED;
	if (m->has_password && get_bin(c, &m->password))
		return MQTT_MALFORMED;
	return c->left ? MQTT_MALFORMED : MQTT_OK;
}

int mqtt_connect_parse(const uint8_t *body, size_t len, struct mqtt_connect *m)
{
	struct cur c = {body, len};
	struct mqtt_str name;
	memset(m, 0, sizeof(*m));
	if (get_str(&c, &name) || name.len != 4 || memcmp(name.p, "MQTT", 4))
		return MQTT_MALFORMED;
	if (get_u8(&c, &m->version) || (m->version != MQTT_V311 && m->version != MQTT_V5))
		return MQTT_MALFORMED;
	if (get_u8(&c, &m->flags) || (m->flags & 0x01) || get_u16(&c, &m->keepalive))
		return MQTT_MALFORMED;
	m->will = m->flags & 0x04;
	m->will_qos = (m->flags >> 3) & 3;
	m->will_retain = m->flags & 0x20;
	m->has_password = m->flags & 0x40;
	m->has_username = m->flags & 0x80;
	if (m->will_qos == 3 || (!m->will && (m->will_qos || m->will_retain)))
		return MQTT_MALFORMED;
	if (m->version == MQTT_V311 && m->has_password && !m->has_username)
		return MQTT_MALFORMED;
	if (m->version == MQTT_V5 && get_props(&c, &m->props, &m->props_len))
		return MQTT_MALFORMED;
	return connect_payload(&c, m);
}

int mqtt_publish_parse(uint8_t flags, const uint8_t *body, size_t len, uint8_t version, struct mqtt_publish *p)
{
	struct cur c = {body, len};
	memset(p, 0, sizeof(*p));
	p->dup = flags & 0x08;
	p->qos = (flags >> 1) & 3;
	p->retain = flags & 0x01;
	if (p->qos == 3 || get_str(&c, &p->topic))
		return MQTT_MALFORMED;
	if (p->qos && (get_u16(&c, &p->packet_id) || !p->packet_id))
		return MQTT_MALFORMED;
	if (version == MQTT_V5) {
		const uint8_t *props;
		size_t plen;
		if (get_props(&c, &props, &plen))
			return MQTT_MALFORMED;
		struct cur pc = {props, plen};
		while (pc.left) {
			uint8_t id;
			uint16_t u16 = 0;
			struct mqtt_str s;
			if (prop_next(&pc, &id, &u16, &s))
				return MQTT_MALFORMED;
			if (id == 0x23 && !(p->topic_alias = u16))
				return MQTT_MALFORMED;
		}
	}
	if (!p->topic.len && !p->topic_alias)
		return MQTT_MALFORMED;
	p->payload = c.p;
	p->payload_len = c.left;
	return MQTT_OK;
}

int mqtt_subscribe_parse(uint8_t type, uint8_t flags, const uint8_t *body, size_t len, uint8_t version,
			 struct mqtt_subscribe *s)
{
	struct cur c = {body, len};
	s->n = 0;
	if (flags != 0x02 || get_u16(&c, &s->packet_id) || !s->packet_id)
		return MQTT_MALFORMED;
	if (version == MQTT_V5) {
		const uint8_t *props;
		size_t plen;
		if (get_props(&c, &props, &plen))
			return MQTT_MALFORMED;
	}
	while (c.left) {
		if (s->n == MQTT_MAX_FILTERS || get_str(&c, &s->filters[s->n]) || !s->filters[s->n].len)
			return MQTT_MALFORMED;
		s->options[s->n] = 0;
		if (type == MQTT_SUBSCRIBE) {
			uint8_t o;
			/* 3.1.1: QoS only; v5: retain handling 3 and reserved bits are malformed. */
			if (get_u8(&c, &o) || (o & 3) == 3 || (version == MQTT_V5 ? (o & 0xc0) || (o >> 4 & 3) == 3 : o & 0xfc))
				return MQTT_MALFORMED;
			s->options[s->n] = o;
		}
		s->n++;
	}
	return s->n ? MQTT_OK : MQTT_MALFORMED;
}

/* --- writers -------------------------------------------------------------------------- */

/* The remaining length as a variable byte integer; returns its size. */
static size_t put_varint(uint8_t *out, size_t v)
{
	size_t n = 0;
	do {
		uint8_t b = v & 0x7f;
		v >>= 7;
		out[n++] = b | (v ? 0x80 : 0);
	} while (v && n < 4);
	return n;
}

static void put_str(uint8_t **w, const void *s, size_t n)
{
	(*w)[0] = (uint8_t)(n >> 8);
	(*w)[1] = (uint8_t)n;
	memcpy(*w + 2, s, n);
	*w += 2 + n;
}

long mqtt_connect_write(const struct mqtt_connect *c, const char *client_id, const char *username,
			const char *password, uint8_t *out, size_t cap)
{
	size_t cid = strlen(client_id), ul = username ? strlen(username) : 0, pl = password ? strlen(password) : 0;
	if (cid > 0xffff || ul > 0xffff || pl > 0xffff)
		return -1;
	uint8_t pv[4];
	size_t pvn = c->version == MQTT_V5 ? put_varint(pv, c->props_len) : 0;
	uint8_t wv[4];
	size_t wvn = c->will && c->version == MQTT_V5 ? put_varint(wv, c->will_props_len) : 0;
	size_t body = 10 + pvn + (c->version == MQTT_V5 ? c->props_len : 0) + 2 + cid;
	if (c->will)
		body += wvn + c->will_props_len + 2 + c->will_topic.len + 2 + c->will_payload.len;
	body += (username ? 2 + ul : 0) + (password ? 2 + pl : 0);
	if (body > 268435455 || 5 + body > cap)
		return -1;
	uint8_t *w = out;
	*w++ = MQTT_CONNECT << 4;
	w += put_varint(w, body);
	put_str(&w, "MQTT", 4);
	*w++ = c->version;
	*w++ = (uint8_t)((c->flags & 0x3e) | (username ? 0x80 : 0) | (password ? 0x40 : 0));
	*w++ = (uint8_t)(c->keepalive >> 8);
	*w++ = (uint8_t)c->keepalive;
	if (c->version == MQTT_V5) {
		memcpy(w, pv, pvn), w += pvn;
		if (c->props_len)
			memcpy(w, c->props, c->props_len), w += c->props_len;
	}
	put_str(&w, client_id, cid);
	if (c->will) {
		if (c->version == MQTT_V5) {
			memcpy(w, wv, wvn), w += wvn;
			if (c->will_props_len)
				memcpy(w, c->will_props, c->will_props_len), w += c->will_props_len;
		}
		put_str(&w, c->will_topic.p, c->will_topic.len);
		put_str(&w, c->will_payload.p, c->will_payload.len);
	}
	if (username)
		put_str(&w, username, ul);
	if (password)
		put_str(&w, password, pl);
	return (long)(w - out);
}

size_t mqtt_write_suback(uint8_t version, uint16_t packet_id, unsigned n, uint8_t code, uint8_t *out)
{
	if (n > MQTT_MAX_FILTERS)
		n = MQTT_MAX_FILTERS;
	size_t body = 2 + (version == MQTT_V5) + n;
	out[0] = MQTT_SUBACK << 4;
	out[1] = (uint8_t)body;
	out[2] = (uint8_t)(packet_id >> 8);
	out[3] = (uint8_t)packet_id;
	size_t i = 4;
	if (version == MQTT_V5)
		out[i++] = 0; /* no properties */
	memset(out + i, code, n);
	return i + n;
}

size_t mqtt_write_puback(uint8_t version, uint8_t qos, uint16_t packet_id, uint8_t code, uint8_t *out)
{
	out[0] = (uint8_t)((qos == 2 ? MQTT_PUBREC : MQTT_PUBACK) << 4);
	out[1] = version == MQTT_V5 ? 3 : 2;
	out[2] = (uint8_t)(packet_id >> 8);
	out[3] = (uint8_t)packet_id;
	if (version != MQTT_V5)
		return 4;
	out[4] = code;
	return 5;
}

size_t mqtt_write_connack(uint8_t version, uint8_t code, uint8_t *out)
{
	out[0] = MQTT_CONNACK << 4;
	out[1] = version == MQTT_V5 ? 3 : 2;
	out[2] = 0;
	out[3] = code;
	if (version != MQTT_V5)
		return 4;
	out[4] = 0; /* no properties */
	return 5;
}

size_t mqtt_write_disconnect(uint8_t code, uint8_t *out)
{
	out[0] = MQTT_DISCONNECT << 4;
	out[1] = 2;
	out[2] = code;
	out[3] = 0;
	return 4;
}
