/* Blynk specifics other parts of the library need: the calls to a Blynk server's
 * HTTP "external API" (isHardwareConnected, update) with a device's stored token. */
#ifndef SB_PROVIDER_BLYNK_H
#define SB_PROVIDER_BLYNK_H

#include <stdbool.h>

struct arena;
struct integration;
struct json_object;

enum blynk_outcome {
	BLYNK_OK,	     /* 2xx */
	BLYNK_INVALID_TOKEN, /* 400 {"error":{"message":"Invalid token."}} */
	BLYNK_REJECTED,	     /* another 4xx: the server refused the request */
	BLYNK_UNREACHABLE,   /* no answer (refused, DNS, TLS, guard) or a 5xx: 502 */
	BLYNK_TIMEOUT,	     /* no answer in time: 504 */
	BLYNK_OUTCOME__MAX
};

struct blynk_reply {
	enum blynk_outcome outcome;
	long status;	    /* HTTP status, 0 without an answer */
	const char *body;   /* in the arena ("" when none) */
	const char *reason; /* human text for anything but BLYNK_OK; never holds the token */
	bool blocked;	    /* the private-address guard refused the server */
};

/* The saved server URL of a row (the default when none is saved). */
const char *blynk_server_url(const struct integration *row);

/* Opens the stored token of the device called name: 1 opened into *token, 0 no such
 * device or no token stored, -1 the sealed token could not be opened. */
int blynk_device_token(struct arena *a, const struct integration *row, const char *name, char **token);

/* GET {server}/external/api/isHardwareConnected?token=... ; *online set on BLYNK_OK. */
void blynk_is_connected(struct arena *a, const char *server, const char *token, struct blynk_reply *r, bool *online);

/* GET {server}/external/api/update?token=...&V<pin>=value (retried on failure: setting
 * a pin to a value twice is the same as once). */
void blynk_update_pin(struct arena *a, const char *server, const char *token, int pin, const char *value,
		      struct blynk_reply *r);

/* Fills "online", "error" of every entry of the view's "devices" array and the view's
 * "devices_error", asking the server about each device in turn with short timeouts;
 * stops asking once the server fails to answer (the rest stay null). */
void blynk_view_live(struct arena *a, const struct integration *row, struct json_object *view);

/* Operations (blynk_ops.c): the live view, and the virtual-pin action. */
struct provider;
struct provider_call;
struct provider_result;
int blynk_get(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int blynk_virtual_pin(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* Its body's members {device, pin, value}: names only, pin_body checks the values
 * (pin is "V3" or 3, value a string, number or boolean). */
struct field;
extern const struct field *const blynk_pin_accepts[];

#endif
