/* A real connection test of an MQTT broker with paho.mqtt.c: MQTT 5 first, 3.1.1 when
 * the broker refuses 5; the broker's version from $SYS when it publishes it; a
 * publish/subscribe round trip; and the diagnostics of netprobe.h before all that. */
#ifndef SB_MQTT_PROBE_H
#define SB_MQTT_PROBE_H

struct arena;
struct json_object;

struct mqtt_probe_options {
	const char *broker_url;
	const char *username; /* NULL: anonymous */
	const char *password;
	const char *device_id;	  /* part of the client id */
	const char *topic_prefix; /* the round-trip topic lives under it; NULL: under
				   * MQTT_PROBE_RESERVED_PREFIX */
	const char *ca_file;	  /* NULL: the system trust store */
	int timeout_ms;
};

/* Where a test without a topic_prefix puts its random round-trip topic. */
#define MQTT_PROBE_RESERVED_PREFIX "_switchboard/test"

/* The $SYS/broker/version string in spec 001's form: "mosquitto version 2.0.11" ->
 * "mosquitto/2.0.11"; NULL when raw is NULL or has no recognisable name and version. */
char *mqtt_broker_version(struct arena *a, const char *raw);

/* latency_ms is the time to CONNACK on our own clock: TCP connect and TLS handshake
 * (netprobe's) plus the CONNECT/CONNACK exchange; diagnostics.mqtt_connect_ms is the
 * client library's wall time, which its polling quantises to ~100 ms.
 * Returns the test result object {"connected", "latency_ms", "broker_info", "error",
 * "error_code", "diagnostics"} (caller owns it). Never fails: every failure is
 * described inside the result. */
struct json_object *mqtt_probe(struct arena *a, const struct mqtt_probe_options *o);

#endif
