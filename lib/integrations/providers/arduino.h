/* Arduino Cloud (spec 001 §3): client_id/client_secret exchanged for a token with the
 * client_credentials grant at {ARDUINO_API_URL}/iot/v1/clients/token, then devices and
 * things from the IoT API v2 with that token. Stored as provider "arduino_cloud", reached
 * at the URL segment "arduino-cloud". */
#ifndef SB_ARDUINO_H
#define SB_ARDUINO_H

#include <stdbool.h>

#include "core/validate.h"

struct arena;
struct integration;
struct json_object;

enum arduino_result {
	ARDUINO_OK,
	ARDUINO_REFUSED,     /* the credentials were refused (400/401/403 at the token endpoint) */
	ARDUINO_UNAVAILABLE, /* no answer, a timeout or a 5xx: *http_status is 502 or 504 */
	ARDUINO_SECRET,	     /* a stored secret could not be opened */
	ARDUINO_DB,	     /* database trouble */
	ARDUINO_NO_SECRET,   /* no client secret is stored */
};

struct arduino_token {
	const char *access_token; /* plaintext, in the arena */
	long expires_in;	  /* seconds */
	const char *reason;	  /* on failure */
	int http_status;	  /* 502 or 504 on ARDUINO_UNAVAILABLE */
};

/* The base URL of the Arduino IoT API: ARDUINO_API_URL, https://api2.arduino.cc by default. */
const char *arduino_api_url(void);

/* Exchanges client credentials for an access token (one POST; not retried). org, when
 * not NULL, is the organization id the token acts in (the organization_id parameter, as
 * arduino-cloud-cli sends it). */
enum arduino_result arduino_exchange(struct arena *a, const char *client_id, const char *client_secret,
				     const char *org, struct arduino_token *out);

/* The row's saved organization id (config organization_id), or NULL: the personal space. */
const char *arduino_row_org(const struct integration *row);
/* The "X-Organization: <org>" header line for calls in org, or NULL without one. */
const char *arduino_org_header(struct arena *a, const char *org);

/* The row's access token: the stored one while it is valid for another minute, else a
 * new one exchanged with the stored credentials and saved (sealed) in the row. */
enum arduino_result arduino_row_token(struct arena *a, const struct integration *row, struct arduino_token *out);

/* Marks the row's token as expired (Arduino refused it), so the next use exchanges again. */
int arduino_forget_token(struct arena *a, const char *user_id);

/* Seals token into the row's access_token with its expiry (no refresh token). */
int arduino_store_token(struct arena *a, const char *user_id, const char *token, long expires_in);

/* GET /iot/v2/devices or /iot/v2/things ("devices" / "things") in org (X-Organization;
 * NULL: personal): the list in the view's shape ({id,name,type,status,last_activity} /
 * {id,name,device_id}) into *out. */
enum arduino_result arduino_list(struct arena *a, const char *token, const char *org, const char *what,
				 struct json_object **out, const char **reason, int *http_status);

/* Operations (arduino_ops.c). */
struct provider;
struct provider_call;
struct provider_result;
int arduino_get(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int arduino_put(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int arduino_refresh(const struct provider_call *c, const struct provider *p, struct provider_result *r);

/* Over-the-air updates (arduino_ota.c). */
#include <stddef.h>
#include <stdint.h>
/* NULL when b[0..n) is an Arduino .ota file (its 20-byte header's length and CRC32 match;
 * *magic, when not NULL, receives the header's VID/PID magic number), else the message
 * saying why not. */
const char *arduino_ota_check(const unsigned char *b, size_t n, uint32_t *magic);
/* SB_ARDUINO_OTA_MAX_BYTES: the largest .ota file accepted (512 KiB by default). */
long arduino_ota_max_bytes(void);
extern const struct field arduino_ota_fields[];
int arduino_ota_upload(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int arduino_ota_status(const struct provider_call *c, const struct provider *p, struct provider_result *r);
int arduino_ota_list(const struct provider_call *c, const struct provider *p, struct provider_result *r);

#endif
