/* The client side of the WebSocket opening handshake (RFC 6455 §4.1) the relay uses to
 * reach a ws:// or wss:// broker with subprotocol mqtt: the upgrade request, and the
 * check of the broker's answer (101, Upgrade/Connection, Sec-WebSocket-Accept of our
 * key, subprotocol mqtt). Framing after it is wslay's. */
#ifndef SB_MQTT_WS_CLIENT_H
#define SB_MQTT_WS_CLIENT_H

#include <stddef.h>

/* The Sec-WebSocket-Accept value of a 24-character key: 0, or -1 for a bad key. */
int ws_accept_of(const char *key, char out[29]);

/* Writes the upgrade request for host:port and path (path starts with "/"; an IPv6
 * host is bracketed) with the 24-character key. Returns its length, or -1 when it does
 * not fit in cap or a field has a CR, LF or space. */
long ws_client_request(const char *host, int port, const char *path, const char *key, char *out, size_t cap);

/* Checks the answer's head (up to and with its blank line, len bytes). Returns NULL
 * when the upgrade is accepted, or a short reason. */
const char *ws_client_check(const char *head, size_t len, const char *key);

#endif
