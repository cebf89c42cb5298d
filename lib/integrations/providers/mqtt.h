/* MQTT specifics other parts of the library need. */
#ifndef SB_PROVIDER_MQTT_H
#define SB_PROVIDER_MQTT_H

struct arena;
struct integration;
struct mqtt_probe_options;

/* Probe options for a saved MQTT row (the stored password opened when the config uses
 * authentication). Returns 0, 1 when no broker_url is saved, -1 when the stored
 * password cannot be opened. */
int mqtt_saved_probe_options(struct arena *a, const struct integration *row, struct mqtt_probe_options *o);

/* Probe options from a config object (broker_url, device_id, topic_prefix) with the
 * operator's CA file and timeout; no credentials. */
struct json_object;
void mqtt_probe_defaults(struct mqtt_probe_options *o, struct json_object *config);

/* The "test" action (mqtt_test.c). */
struct provider;
struct provider_call;
struct provider_result;
int mqtt_test(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* The "ws-ticket" action (mqtt_relay.c): a ticket for the relay's WebSocket. */
int mqtt_ws_ticket(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* The test body's member besides the config fields: timeout_seconds. */
struct field;
extern const struct field mqtt_test_timeout_field[];

#endif
