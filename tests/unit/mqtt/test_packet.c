/* Unit tests of lib/mqtt: framing (the remaining length's 4-byte limit, partial input,
 * the size cap), CONNECT in 3.1.1 and 5.0 (properties, will, credentials) and its
 * rewrite with other credentials, PUBLISH (QoS, packet id, topic alias), SUBSCRIBE /
 * UNSUBSCRIBE, the packets the relay writes, and the topic scope rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mqtt/packet.h"
#include "mqtt/scope.h"

/* Test input built piece by piece: B(b, 4, 0xee, ...) bytes, T(b, "text") a length-prefixed string. */
struct buf {
	uint8_t d[512];
	size_t n;
};
static void bytes(struct buf *b, size_t n, const int *v)
{
	for (size_t i = 0; i < n; i++)
		b->d[b->n++] = (uint8_t)v[i];
}
#define B(b, ...) bytes(b, sizeof((int[]){__VA_ARGS__}) / sizeof(int), (int[]){__VA_ARGS__})
static void T(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	B(b, (int)(n >> 8), (int)(n & 0xff));
	memcpy(b->d + b->n, s, n);
	b->n += n;
}

static void test_frame(void **state)
{
	(void)state;
	struct mqtt_frame f;
	const uint8_t ping[] = {0xc0, 0x00};
	assert_int_equal(mqtt_frame_parse(ping, 2, 100, &f), MQTT_OK);
	assert_int_equal(f.type, MQTT_PINGREQ);
	assert_int_equal(f.header_len, 2);
	assert_int_equal(mqtt_frame_parse(ping, 1, 100, &f), MQTT_MORE);
	/* 321 bytes of body: two length bytes. */
	const uint8_t big[] = {0x30, 0xc1, 0x02};
	assert_int_equal(mqtt_frame_parse(big, 3, 1000, &f), MQTT_MORE);
	assert_int_equal(f.body_len, 321);
	assert_int_equal(f.header_len, 3);
	assert_int_equal(mqtt_frame_parse(big, 3, 100, &f), MQTT_TOO_LARGE);
	const uint8_t five[] = {0x30, 0xff, 0xff, 0xff, 0xff, 0x01};
	assert_int_equal(mqtt_frame_parse(five, 6, SIZE_MAX, &f), MQTT_MALFORMED);
	const uint8_t four[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
	assert_int_equal(mqtt_frame_parse(four, 5, SIZE_MAX, &f), MQTT_MORE);
	assert_int_equal(f.body_len, 268435455);
	const uint8_t zero[] = {0x00, 0x00};
	assert_int_equal(mqtt_frame_parse(zero, 2, 100, &f), MQTT_MALFORMED);
}

static void test_connect_v311(void **state)
{
	(void)state;
	struct buf body_b = {.n = 0};
	T(&body_b, "MQTT");
	B(&body_b, 4, 0xee, 0, 60);
	T(&body_b, "cid");
	T(&body_b, "lab/x/will");
	T(&body_b, "bye");
	T(&body_b, "ann");
	T(&body_b, "pw");
	const uint8_t *body = body_b.d;
	const size_t body_len = body_b.n;
	struct mqtt_connect c;
	assert_int_equal(mqtt_connect_parse(body, body_len, &c), MQTT_OK);
	assert_int_equal(c.version, MQTT_V311);
	assert_int_equal(c.keepalive, 60);
	assert_true(c.will && c.will_retain && c.has_username && c.has_password);
	assert_int_equal(c.will_qos, 1);
	assert_memory_equal(c.will_topic.p, "lab/x/will", 10);
	uint8_t out[256];
	long n = mqtt_connect_write(&c, "relay-1", "sbtest", "s3cret", out, sizeof(out));
	assert_true(n > 0);
	struct mqtt_frame f;
	assert_int_equal(mqtt_frame_parse(out, (size_t)n, sizeof(out), &f), MQTT_OK);
	struct mqtt_connect d;
	assert_int_equal(mqtt_connect_parse(out + f.header_len, f.body_len, &d), MQTT_OK);
	assert_memory_equal(d.username.p, "sbtest", 6);
	assert_memory_equal(d.password.p, "s3cret", 6);
	assert_memory_equal(d.client_id.p, "relay-1", 7);
	assert_int_equal(d.will_topic.len, 10);
	/* Anonymous: no credential flags. */
	n = mqtt_connect_write(&c, "relay-1", NULL, NULL, out, sizeof(out));
	assert_int_equal(mqtt_frame_parse(out, (size_t)n, sizeof(out), &f), MQTT_OK);
	assert_int_equal(mqtt_connect_parse(out + f.header_len, f.body_len, &d), MQTT_OK);
	assert_false(d.has_username || d.has_password);
	assert_int_equal(mqtt_connect_write(&c, "relay-1", "u", "p", out, 10), -1);
	/* Truncated, wrong name, reserved flag, 3.1 protocol level. */
	assert_int_equal(mqtt_connect_parse(body, body_len - 1, &c), MQTT_MALFORMED);
	uint8_t bad[512];
	memcpy(bad, body, body_len);
	bad[2] = 'X';
	assert_int_equal(mqtt_connect_parse(bad, body_len, &c), MQTT_MALFORMED);
	memcpy(bad, body, body_len);
	bad[7] |= 1;
	assert_int_equal(mqtt_connect_parse(bad, body_len, &c), MQTT_MALFORMED);
	memcpy(bad, body, body_len);
	bad[6] = 3;
	assert_int_equal(mqtt_connect_parse(bad, body_len, &c), MQTT_MALFORMED);
}

static void test_connect_v5(void **state)
{
	(void)state;
	/* Session expiry (4 bytes) and a user property (string pair); will properties. */
	struct buf body_b = {.n = 0};
	T(&body_b, "MQTT");
	B(&body_b, 5, 0x06, 0, 30, 12, 0x11, 0, 0, 0, 10, 0x26);
	T(&body_b, "k");
	T(&body_b, "v");
	T(&body_b, "cid");
	B(&body_b, 2, 0x01, 1);
	T(&body_b, "lab/x/w");
	T(&body_b, "x");
	const uint8_t *body = body_b.d;
	const size_t body_len = body_b.n;
	struct mqtt_connect c;
	assert_int_equal(mqtt_connect_parse(body, body_len, &c), MQTT_OK);
	assert_int_equal(c.version, MQTT_V5);
	assert_int_equal(c.props_len, 12);
	assert_int_equal(c.will_props_len, 2);
	assert_memory_equal(c.will_topic.p, "lab/x/w", 7);
	uint8_t out[256];
	long n = mqtt_connect_write(&c, "r", "u", "p", out, sizeof(out));
	struct mqtt_frame f;
	struct mqtt_connect d;
	assert_int_equal(mqtt_frame_parse(out, (size_t)n, sizeof(out), &f), MQTT_OK);
	assert_int_equal(mqtt_connect_parse(out + f.header_len, f.body_len, &d), MQTT_OK);
	assert_int_equal(d.props_len, 12);
	assert_true(d.has_username && d.has_password);
	/* An unknown property identifier, and a property running past its block. */
	uint8_t bad[512];
	memcpy(bad, body, body_len);
	bad[11] = 0x7e;
	assert_int_equal(mqtt_connect_parse(bad, body_len, &c), MQTT_MALFORMED);
	memcpy(bad, body, body_len);
	bad[10] = 3;
	assert_int_equal(mqtt_connect_parse(bad, body_len, &c), MQTT_MALFORMED);
}

static void test_publish(void **state)
{
	(void)state;
	struct mqtt_publish p;
	struct buf q1_b = {.n = 0};
	T(&q1_b, "lab/x/a");
	B(&q1_b, 0, 7, 'h', 'i');
	const uint8_t *q1 = q1_b.d;
	const size_t q1_len = q1_b.n;
	assert_int_equal(mqtt_publish_parse(0x03, q1, q1_len, MQTT_V311, &p), MQTT_OK);
	assert_int_equal(p.qos, 1);
	assert_true(p.retain);
	assert_int_equal(p.packet_id, 7);
	assert_int_equal(p.payload_len, 2);
	struct buf q0_b = {.n = 0};
	T(&q0_b, "lab/x/a");
	B(&q0_b, 'h', 'i');
	const uint8_t *q0 = q0_b.d;
	const size_t q0_len = q0_b.n;
	assert_int_equal(mqtt_publish_parse(0x00, q0, q0_len, MQTT_V311, &p), MQTT_OK);
	assert_int_equal(p.payload_len, 2);
	assert_int_equal(mqtt_publish_parse(0x06, q0, q0_len, MQTT_V311, &p), MQTT_MALFORMED); /* QoS 3 */
	struct buf zero_id_b = {.n = 0};
	T(&zero_id_b, "t");
	B(&zero_id_b, 0, 0);
	const uint8_t *zero_id = zero_id_b.d;
	const size_t zero_id_len = zero_id_b.n;
	assert_int_equal(mqtt_publish_parse(0x02, zero_id, zero_id_len, MQTT_V311, &p), MQTT_MALFORMED);
	/* v5: an empty topic needs a topic alias. */
	const uint8_t alias[] = {0, 0, 3, 0x23, 0, 4, 'x'};
	assert_int_equal(mqtt_publish_parse(0x00, alias, sizeof(alias), MQTT_V5, &p), MQTT_OK);
	assert_int_equal(p.topic_alias, 4);
	const uint8_t noalias[] = {0, 0, 0, 'x'};
	assert_int_equal(mqtt_publish_parse(0x00, noalias, sizeof(noalias), MQTT_V5, &p), MQTT_MALFORMED);
	const uint8_t nul[] = {0, 3, 'a', 0, 'b'};
	assert_int_equal(mqtt_publish_parse(0x00, nul, sizeof(nul), MQTT_V311, &p), MQTT_MALFORMED);
}

static void test_subscribe(void **state)
{
	(void)state;
	struct mqtt_subscribe s;
	struct buf sub_b = {.n = 0};
	B(&sub_b, 0, 9);
	T(&sub_b, "lab/x/#");
	B(&sub_b, 1);
	T(&sub_b, "$SYS/#");
	B(&sub_b, 0);
	const uint8_t *sub = sub_b.d;
	const size_t sub_len = sub_b.n;
	assert_int_equal(mqtt_subscribe_parse(MQTT_SUBSCRIBE, 2, sub, sub_len, MQTT_V311, &s), MQTT_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.packet_id, 9);
	assert_int_equal(s.options[0], 1);
	assert_int_equal(mqtt_subscribe_parse(MQTT_SUBSCRIBE, 0, sub, sub_len, MQTT_V311, &s), MQTT_MALFORMED);
	struct buf bad_opt_b = {.n = 0};
	B(&bad_opt_b, 0, 9);
	T(&bad_opt_b, "a");
	B(&bad_opt_b, 4);
	const uint8_t *bad_opt = bad_opt_b.d;
	const size_t bad_opt_len = bad_opt_b.n;
	assert_int_equal(mqtt_subscribe_parse(MQTT_SUBSCRIBE, 2, bad_opt, bad_opt_len, MQTT_V311, &s),
			 MQTT_MALFORMED);
	assert_int_equal(mqtt_subscribe_parse(MQTT_SUBSCRIBE, 2, bad_opt, bad_opt_len, MQTT_V5 - 0, &s),
			 MQTT_MALFORMED); /* v5 needs its property length first */
	struct buf sub5_b = {.n = 0};
	B(&sub5_b, 0, 9, 2, 0x0b, 5);
	T(&sub5_b, "lab/x/+");
	B(&sub5_b, 0x24);
	const uint8_t *sub5 = sub5_b.d;
	const size_t sub5_len = sub5_b.n;
	assert_int_equal(mqtt_subscribe_parse(MQTT_SUBSCRIBE, 2, sub5, sub5_len, MQTT_V5, &s), MQTT_OK);
	assert_int_equal(s.options[0], 0x24);
	struct buf uns_b = {.n = 0};
	B(&uns_b, 0, 3);
	T(&uns_b, "lab/x/#");
	T(&uns_b, "b");
	const uint8_t *uns = uns_b.d;
	const size_t uns_len = uns_b.n;
	assert_int_equal(mqtt_subscribe_parse(MQTT_UNSUBSCRIBE, 2, uns, uns_len, MQTT_V311, &s), MQTT_OK);
	assert_int_equal(s.n, 2);
	const uint8_t empty[] = {0, 3};
	assert_int_equal(mqtt_subscribe_parse(MQTT_UNSUBSCRIBE, 2, empty, sizeof(empty), MQTT_V311, &s),
			 MQTT_MALFORMED);
}

static void test_writers(void **state)
{
	(void)state;
	uint8_t out[64];
	const uint8_t suback5[] = {0x90, 5, 0, 9, 0, 0x87, 0x87};
	assert_int_equal(mqtt_write_suback(MQTT_V5, 9, 2, 0x87, out), sizeof(suback5));
	assert_memory_equal(out, suback5, sizeof(suback5));
	const uint8_t suback3[] = {0x90, 3, 0, 9, 0x80};
	assert_int_equal(mqtt_write_suback(MQTT_V311, 9, 1, 0x80, out), sizeof(suback3));
	assert_memory_equal(out, suback3, sizeof(suback3));
	const uint8_t puback[] = {0x40, 3, 0, 7, 0x87};
	assert_int_equal(mqtt_write_puback(MQTT_V5, 1, 7, 0x87, out), sizeof(puback));
	assert_memory_equal(out, puback, sizeof(puback));
	assert_int_equal(mqtt_write_puback(MQTT_V5, 2, 7, 0x87, out), 5);
	assert_int_equal(out[0], 0x50);
	const uint8_t connack3[] = {0x20, 2, 0, 5};
	assert_int_equal(mqtt_write_connack(MQTT_V311, 5, out), 4);
	assert_memory_equal(out, connack3, 4);
	const uint8_t disc[] = {0xe0, 2, 0x87, 0};
	assert_int_equal(mqtt_write_disconnect(0x87, out), 4);
	assert_memory_equal(out, disc, 4);
}

#define IN(p, t)  assert_true(mqtt_topic_in_scope(p, t, strlen(t)))
#define OUT(p, t) assert_false(mqtt_topic_in_scope(p, t, strlen(t)))
#define FIN(p, t)  assert_true(mqtt_filter_in_scope(p, t, strlen(t)))
#define FOUT(p, t) assert_false(mqtt_filter_in_scope(p, t, strlen(t)))

static void test_scope(void **state)
{
	(void)state;
	IN("lab/e2e", "lab/e2e");
	IN("lab/e2e", "lab/e2e/dev/1");
	IN("lab/e2e/", "lab/e2e/dev");
	OUT("lab/e2e", "lab/e2e2");
	OUT("lab/e2e", "lab");
	OUT("lab/e2e", "other/lab/e2e");
	OUT("lab/e2e", "lab/e2e/+");
	OUT("lab/e2e", "$SYS/broker");
	OUT("", "x");
	FIN("lab/e2e", "lab/e2e/#");
	FIN("lab/e2e", "lab/e2e/+/temp");
	FIN("lab/e2e", "lab/e2e");
	FOUT("lab/e2e", "#");
	FOUT("lab/e2e", "+/e2e/#");
	FOUT("lab/e2e", "lab/+");
	FOUT("lab/e2e", "lab/#");
	FOUT("lab/e2e", "lab/e2e#");
	FOUT("lab/e2e", "lab/e2e/a#");
	FOUT("lab/e2e", "lab/e2e/#/x");
	FOUT("lab/e2e", "$SYS/#");
	FOUT("lab/e2e", "$share/g/lab/e2e/#");
	FOUT("lab/+", "lab/x");
	assert_false(mqtt_topic_in_scope("lab/e2e", "lab/e2e\0/x", 10));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame),	  cmocka_unit_test(test_connect_v311), cmocka_unit_test(test_connect_v5),
		cmocka_unit_test(test_publish),	  cmocka_unit_test(test_subscribe),    cmocka_unit_test(test_writers),
		cmocka_unit_test(test_scope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
