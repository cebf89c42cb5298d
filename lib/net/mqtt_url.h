/* Broker URLs: mqtt://, mqtts://, tcp://, ssl://, ws://, wss:// with a host and an
 * optional port (default per scheme) and, for websockets, a path. */
#ifndef SB_MQTT_URL_H
#define SB_MQTT_URL_H

#include <stdbool.h>

struct arena;

struct mqtt_url {
	const char *scheme; /* as written, lower-case */
	const char *host;   /* without IPv6 brackets */
	int port;
	const char *path; /* websockets: "/mqtt" when absent; else "" */
	bool tls, websocket;
};

/* Parses url into *u (strings in the arena). Returns NULL, or a message for the user. */
const char *mqtt_url_parse(struct arena *a, const char *url, struct mqtt_url *u);

#endif
