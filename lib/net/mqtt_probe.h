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
	const char *topic_prefix; /* the round-trip topic lives under it */
	const char *ca_file;	  /* NULL: the system trust store */
	int timeout_ms;
};

/* Returns the test result object {"connected", "latency_ms", "broker_info", "error",
 * "error_code", "diagnostics"} (caller owns it). Never fails: every failure is
 * described inside the result. */
struct json_object *mqtt_probe(struct arena *a, const struct mqtt_probe_options *o);

#endif
