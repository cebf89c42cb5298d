/* The MQTT packet parser of the relay (lib/mqtt/packet.c): framing, CONNECT (rewritten
 * as the relay does), PUBLISH, SUBSCRIBE and UNSUBSCRIBE in 3.1.1 and 5.0, and the topic
 * scope checks on what they carry. The first input byte picks the protocol version. */
#include "fuzz.h"
#include "mqtt/packet.h"
#include "mqtt/scope.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static void one(uint8_t version, const struct mqtt_frame *f, const uint8_t *body)
{
	static uint8_t out[300000];
	struct mqtt_connect c;
	struct mqtt_publish p;
	struct mqtt_subscribe s;
	switch (f->type) {
	case MQTT_CONNECT:
		if (mqtt_connect_parse(body, f->body_len, &c) == MQTT_OK) {
			long n = mqtt_connect_write(&c, "client-1", "user", "secret", out, sizeof(out));
			struct mqtt_frame g;
			if (n < 0 || mqtt_frame_parse(out, (size_t)n, sizeof(out), &g) != MQTT_OK ||
			    mqtt_connect_parse(out + g.header_len, g.body_len, &c) != MQTT_OK)
				abort(); /* what we write must parse again */
			if (c.will)
				(void)mqtt_topic_in_scope("lab/x", c.will_topic.p, c.will_topic.len);
		}
		break;
	case MQTT_PUBLISH:
		if (mqtt_publish_parse(f->flags, body, f->body_len, version, &p) == MQTT_OK &&
		    p.payload + p.payload_len != body + f->body_len)
			abort();
		else
			(void)mqtt_topic_in_scope("lab/x", p.topic.p, p.topic.len);
		break;
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		if (mqtt_subscribe_parse(f->type, f->flags, body, f->body_len, version, &s) == MQTT_OK)
			for (unsigned i = 0; i < s.n; i++)
				(void)mqtt_filter_in_scope("lab/x", s.filters[i].p, s.filters[i].len);
		break;
	default:
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t version = data[0] & 1 ? MQTT_V5 : MQTT_V311;
	data++, size--;
	struct mqtt_frame f;
	while (mqtt_frame_parse(data, size, 1 << 20, &f) == MQTT_OK) {
		/* A copy of exactly the body: any read past it is caught by ASan. */
		uint8_t *body = malloc(f.body_len ? f.body_len : 1);
		memcpy(body, data + f.header_len, f.body_len);
		one(version, &f, body);
		free(body);
		data += f.header_len + f.body_len;
		size -= f.header_len + f.body_len;
	}
	return 0;
}
