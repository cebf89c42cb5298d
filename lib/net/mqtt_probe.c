/* MQTT connection test; see mqtt_probe.h. */
#include "net/mqtt_probe.h"

#include <MQTTClient.h>
#include <arpa/inet.h>
#include <json-c/json.h>
#include <ctype.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/arena.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/monotime.h"
#include "net/mqtt_url.h"
#include "net/netprobe.h"

#define SYS_VERSION_WAIT_MS 1500
#define ROUNDTRIP_WAIT_MS   3000

#define now_ms monotime_ms

/* The time to CONNACK on our own clock. paho's synchronous connect waits for the
 * non-blocking TCP connect with a 100 ms read poll that the broker cannot end (it
 * speaks only after CONNECT), so its wall time is quantised to ~100 ms. paho logs
 * "-> CONNECT" right after writing the packet and "<- CONNACK" right after reading the
 * answer, in the thread that called connect (the client runs no thread of its own
 * here: no callbacks are set); a trace callback stamps both with monotime_ms. The
 * watch is thread-local, so concurrent probes in other threads never mix. */
struct connack_watch {
	const char *client_id; /* NULL: not watching */
	double connect_sent, connack_received; /* < 0 until seen */
};
static _Thread_local struct connack_watch watch;

static void trace_cb(enum MQTTCLIENT_TRACE_LEVELS level, char *message)
{
	(void)level;
	if (!watch.client_id || !message || !strstr(message, watch.client_id))
		return;
	if (strstr(message, " -> CONNECT "))
		watch.connect_sent = now_ms();
	else if (strstr(message, " <- CONNACK"))
		watch.connack_received = now_ms();
}

static pthread_once_t trace_once = PTHREAD_ONCE_INIT;

static void trace_install(void)
{
	MQTTClient_setTraceCallback(trace_cb);
	MQTTClient_setTraceLevel(MQTTCLIENT_TRACE_PROTOCOL);
}

/* "mosquitto version 2.0.11" -> "mosquitto/2.0.11" (spec 001's form); "name 1.2" ->
 * "name/1.2"; a string already "name/version" unchanged; anything else NULL (the raw
 * string is reported as version_raw either way). */
char *mqtt_broker_version(struct arena *a, const char *raw)
{
	if (!raw)
		return NULL;
	size_t n = strlen(raw);
	while (n && isspace((unsigned char)raw[n - 1]))
		n--;
	const char *sp = memchr(raw, ' ', n);
	const char *slash = memchr(raw, '/', n);
	if (!sp)
		return slash && slash > raw && slash + 1 < raw + n ? arena_strndup(a, raw, n) : NULL;
	const char *name_end = sp, *ver = sp + 1;
	if ((size_t)(raw + n - ver) > 8 && !strncmp(ver, "version ", 8))
		ver += 8;
	if (name_end == raw || !isdigit((unsigned char)*ver) || memchr(ver, ' ', (size_t)(raw + n - ver)))
		return NULL;
	char *out = arena_printf(a, "%.*s/%.*s", (int)(name_end - raw), raw, (int)(raw + n - ver), ver);
	for (char *p = out; *p && *p != '/'; p++)
		*p = (char)tolower((unsigned char)*p);
	return out;
}

/* CONNACK return codes of MQTT 3.1.1 (§3.2.2.3) in plain words. */
static const char *v3_reason(int rc)
{
	switch (rc) {
	case 0:
		return "connection accepted";
	case 1:
		return "unacceptable protocol version";
	case 2:
		return "client identifier rejected";
	case 3:
		return "server unavailable";
	case 4:
		return "bad user name or password";
	case 5:
		return "not authorized";
	default:
		return "connection failed";
	}
}

struct attempt {
	int version; /* MQTTVERSION_5 or MQTTVERSION_3_1_1 */
	int rc;	     /* paho return code or CONNACK reason */
	double ms;   /* paho's wall time for the connect */
	double connack_ms; /* CONNECT written to CONNACK read; < 0 when not seen */
	struct json_object *properties; /* MQTT 5 CONNACK properties */
};

static struct json_object *properties_json(const MQTTProperties *props)
{
	struct json_object *o = json_object_new_object();
	for (int i = 0; props && i < props->count; i++) {
		const MQTTProperty *p = &props->array[i];
		const char *name = MQTTPropertyName(p->identifier);
		if (!name)
			continue;
		/* "MAXIMUM_QOS" -> "maximum_qos" */
		char key[64];
		size_t k = 0;
		for (; name[k] && k < sizeof(key) - 1; k++)
			key[k] = (char)(name[k] >= 'A' && name[k] <= 'Z' ? name[k] + 32 : name[k]);
		key[k] = '\0';
		switch (MQTTProperty_getType(p->identifier)) {
		case MQTTPROPERTY_TYPE_BYTE:
			json_object_object_add(o, key, json_object_new_int(p->value.byte));
			break;
		case MQTTPROPERTY_TYPE_TWO_BYTE_INTEGER:
			json_object_object_add(o, key, json_object_new_int(p->value.integer2));
			break;
		case MQTTPROPERTY_TYPE_FOUR_BYTE_INTEGER:
		case MQTTPROPERTY_TYPE_VARIABLE_BYTE_INTEGER:
			json_object_object_add(o, key, json_object_new_int64(p->value.integer4));
			break;
		case MQTTPROPERTY_TYPE_UTF_8_ENCODED_STRING:
			json_object_object_add(o, key,
					       json_object_new_string_len(p->value.data.data, p->value.data.len));
			break;
		default:
			break; /* binary data and user properties: nothing a person reads */
		}
	}
	return o;
}

static int try_connect(MQTTClient *c, const char *uri, const char *client_id, const struct mqtt_probe_options *o,
		       int version, struct attempt *at)
{
	MQTTClient_createOptions co = MQTTClient_createOptions_initializer;
	co.MQTTVersion = version;
	at->version = version;
	at->properties = NULL;
	at->ms = 0;
	int rc = MQTTClient_createWithOptions(c, uri, client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL, &co);
	if (rc != MQTTCLIENT_SUCCESS) {
		at->rc = rc;
		return rc;
	}
	MQTTClient_connectOptions opts = MQTTClient_connectOptions_initializer;
	MQTTClient_connectOptions opts5 = MQTTClient_connectOptions_initializer5;
	MQTTClient_connectOptions *cp = version == MQTTVERSION_5 ? &opts5 : &opts;
	MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
	cp->keepAliveInterval = 20;
	if (version != MQTTVERSION_5)
		cp->cleansession = 1;
	cp->connectTimeout = (o->timeout_ms + 999) / 1000;
	cp->username = o->username;
	cp->password = o->password;
	cp->MQTTVersion = version;
	if (!strncmp(uri, "ssl://", 6) || !strncmp(uri, "wss://", 6)) {
		/* Like netprobe: the system's CAs, plus the operator's file when there is one. */
		ssl.trustStore = o->ca_file;
		ssl.CApath = X509_get_default_cert_dir();
		ssl.enableServerCertAuth = 1;
		ssl.verify = 1;
		cp->ssl = &ssl;
	}
	pthread_once(&trace_once, trace_install);
	watch = (struct connack_watch){client_id, -1, -1};
	double t0 = now_ms();
	if (version == MQTTVERSION_5) {
		MQTTResponse r = MQTTClient_connect5(*c, cp, NULL, NULL);
		at->rc = r.reasonCode;
		if (r.properties)
			at->properties = properties_json(r.properties);
		MQTTResponse_free(r);
	} else {
		at->rc = MQTTClient_connect(*c, cp);
	}
	at->ms = now_ms() - t0;
	at->connack_ms = watch.connect_sent >= 0 && watch.connack_received >= watch.connect_sent
				 ? watch.connack_received - watch.connect_sent
				 : -1;
	watch.client_id = NULL;
	return at->rc;
}

/* Waits for a message on topic; returns its payload (arena) or NULL. */
static char *receive_on(struct arena *a, MQTTClient c, const char *topic, int wait_ms)
{
	double deadline = now_ms() + wait_ms;
	while (now_ms() < deadline) {
		char *name = NULL;
		int len = 0;
		MQTTClient_message *m = NULL;
		unsigned long left = (unsigned long)(deadline - now_ms());
		int rc = MQTTClient_receive(c, &name, &len, &m, left ? left : 1);
		if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED)
			return NULL;
		if (!m)
			continue; /* timed out on this wait */
		char *payload = NULL;
		if (name && !strcmp(name, topic))
			payload = arena_strndup(a, m->payload, (size_t)m->payloadlen);
		MQTTClient_freeMessage(&m);
		MQTTClient_free(name);
		if (payload)
			return payload;
	}
	return NULL;
}

static int subscribe(MQTTClient c, int version, const char *topic)
{
	if (version == MQTTVERSION_5) {
		MQTTResponse r = MQTTClient_subscribe5(c, topic, 0, NULL, NULL);
		int rc = r.reasonCode;
		MQTTResponse_free(r);
		return rc == 0 ? 0 : -1;
	}
	return MQTTClient_subscribe(c, topic, 0) == MQTTCLIENT_SUCCESS ? 0 : -1;
}

static int publish(MQTTClient c, int version, const char *topic, const char *payload)
{
	MQTTClient_message m = MQTTClient_message_initializer;
	m.payload = (void *)payload;
	m.payloadlen = (int)strlen(payload);
	m.qos = 0;
	if (version == MQTTVERSION_5) {
		MQTTResponse r = MQTTClient_publishMessage5(c, topic, &m, NULL);
		int rc = r.reasonCode;
		MQTTResponse_free(r);
		return rc == 0 ? 0 : -1;
	}
	return MQTTClient_publishMessage(c, topic, &m, NULL) == MQTTCLIENT_SUCCESS ? 0 : -1;
}

/* The result of a failed test; the diagnostics go last, after what a person reads first. */
static struct json_object *failure(struct json_object *diag, const char *code, const char *message)
{
	struct json_object *result = json_object_new_object();
	json_object_object_add(result, "connected", json_object_new_boolean(0));
	json_object_object_add(result, "latency_ms", NULL);
	json_object_object_add(result, "broker_info", NULL);
	json_object_object_add(result, "error_code", json_object_new_string(code));
	json_object_object_add(result, "error", json_object_new_string(message));
	json_object_object_add(result, "diagnostics", diag);
	return result;
}

/* Maps a failed CONNECT to a code and words. */
static void connect_error(const struct attempt *at, int timeout_ms, const char **code, const char **message,
			  struct arena *a)
{
	int rc = at->rc;
	bool v5 = at->version == MQTTVERSION_5;
	if ((v5 && rc == MQTTREASONCODE_BAD_USER_NAME_OR_PASSWORD) || (!v5 && rc == 4)) {
		*code = "bad_credentials";
		*message = "the broker refused the username or password";
	} else if ((v5 && rc == MQTTREASONCODE_NOT_AUTHORIZED) || (!v5 && rc == 5)) {
		*code = "not_authorized";
		*message = "the broker refused to authorize this client: check the username and password (many brokers "
			   "report a wrong password this way)";
	} else if (rc < 0 && at->ms >= timeout_ms - 50) {
		/* paho reports a missing CONNACK as a plain failure once connectTimeout passes. */
		*code = "timeout";
		*message = arena_printf(a, "no CONNACK from the broker within %d ms", timeout_ms);
	} else if (rc < 0) {
		*code = "connect_failed";
		*message = arena_printf(a, "the MQTT connection failed (%s)", MQTTClient_strerror(rc));
	} else {
		*code = "connect_refused";
		*message = arena_printf(a, "the broker refused the connection: %s",
					v5 ? MQTTReasonCode_toString((enum MQTTReasonCodes)rc) : v3_reason(rc));
	}
}

/* The paho URI of the broker and a client id of our own. Plain TCP and plain
 * websockets go to the address netprobe just checked, so a second DNS answer
 * cannot send them elsewhere; TLS keeps the name, which its certificate must
 * match (the guard refused the host if any of its addresses is private, which
 * narrows what a second lookup could return). */
static char *broker_uri(struct arena *a, const struct mqtt_url *u, const struct netprobe *np)
{
	const char *scheme = u->websocket ? (u->tls ? "wss" : "ws") : (u->tls ? "ssl" : "tcp");
	const char *host = u->tls ? u->host : np->address;
	bool v6 = strchr(host, ':') != NULL;
	return arena_printf(a, "%s://%s%s%s:%d%s", scheme, v6 ? "[" : "", host, v6 ? "]" : "", u->port, u->path);
}

/* "sb-" + the device id cut to 40 bytes on a character boundary (paho wants
 * valid UTF-8) + a random suffix, so two tests never take each other's session. */
static char *probe_client_id(struct arena *a, const char *device_id)
{
	const char *dev = device_id && *device_id ? device_id : "test";
	size_t len = strlen(dev);
	size_t cut = len > 40 ? 40 : len;
	while (cut > 0 && cut < len && ((unsigned char)dev[cut] & 0xC0) == 0x80)
		cut--;
	return arena_printf(a, "sb-%.*s-%s", (int)cut, dev, crypto_token(a, 6));
}

/* CONNECT as MQTT 5, falling back to 3.1.1 when the broker refuses the
 * version; the CONNACK goes into diag either way. */
static int connect_any_version(MQTTClient *c, const char *uri, const char *client_id,
			       const struct mqtt_probe_options *o, struct attempt *at, struct json_object *diag)
{
	int rc = try_connect(c, uri, client_id, o, MQTTVERSION_5, at);
	struct json_object *connack = json_object_new_object();
	json_object_object_add(diag, "connack", connack);
	if (rc == MQTTREASONCODE_UNSUPPORTED_PROTOCOL_VERSION || rc == 1) {
		/* The broker speaks 3.1.1 only. */
		json_object_put(at->properties);
		MQTTClient_destroy(c);
		json_object_object_add(diag, "mqtt5_refused", json_object_new_boolean(1));
		rc = try_connect(c, uri, client_id, o, MQTTVERSION_3_1_1, at);
	}
	bool v5 = at->version == MQTTVERSION_5;
	json_object_object_add(connack, "reason_code", json_object_new_int(at->rc));
	json_object_object_add(connack, "reason",
			       json_object_new_string(at->rc < 0 ? MQTTClient_strerror(at->rc)
						      : v5	 ? MQTTReasonCode_toString((enum MQTTReasonCodes)at->rc)
								 : v3_reason(at->rc)));
	if (at->properties)
		json_object_object_add(connack, "properties", at->properties);
	json_object_object_add(diag, "mqtt_connect_ms", jsonx_ms(at->ms));
	return rc;
}

/* Protocol and, when the broker publishes $SYS (EMQX hides it from remote
 * clients), its version. */
static struct json_object *broker_info(struct arena *a, MQTTClient c, int version)
{
	struct json_object *info = json_object_new_object();
	json_object_object_add(info, "protocol",
			       json_object_new_string(version == MQTTVERSION_5 ? "mqtt/5.0" : "mqtt/3.1.1"));
	char *raw = NULL;
	if (subscribe(c, version, "$SYS/broker/version") == 0)
		raw = receive_on(a, c, "$SYS/broker/version", SYS_VERSION_WAIT_MS);
	json_object_object_add(info, "version", jsonx_string_or_null(mqtt_broker_version(a, raw)));
	json_object_object_add(info, "version_raw", jsonx_string_or_null(raw));
	return info;
}

/* A publish/subscribe round trip on a topic of our own under the user's
 * prefix, or, when the test names none, a random topic under the reserved one. */
static struct json_object *round_trip(struct arena *a, MQTTClient c, int version, const char *topic_prefix)
{
	bool own = topic_prefix && *topic_prefix;
	char *topic = own ? arena_printf(a, "%s/_switchboard/test/%s", topic_prefix, crypto_token(a, 9))
			  : arena_printf(a, "%s/%s", MQTT_PROBE_RESERVED_PREFIX, crypto_token(a, 9));
	char *payload = crypto_token(a, 12);
	struct json_object *rt = json_object_new_object();
	json_object_object_add(rt, "topic", json_object_new_string(topic));
	json_object_object_add(rt, "topic_source", json_object_new_string(own ? "topic_prefix" : "reserved_prefix"));
	if (!own)
		json_object_object_add(
			rt, "topic_note",
			json_object_new_string(arena_printf(
				a, "no topic_prefix was given: the round trip used a random topic under the reserved "
				   "prefix %s/",
				MQTT_PROBE_RESERVED_PREFIX)));
	double t0 = now_ms();
	const char *got = NULL;
	if (subscribe(c, version, topic) == 0 && publish(c, version, topic, payload) == 0)
		got = receive_on(a, c, topic, ROUNDTRIP_WAIT_MS);
	bool ok = got && !strcmp(got, payload);
	json_object_object_add(rt, "ok", json_object_new_boolean(ok));
	json_object_object_add(rt, "rtt_ms", ok ? jsonx_ms(now_ms() - t0) : NULL);
	if (!ok)
		json_object_object_add(
			rt, "note",
			json_object_new_string(
				"the test message did not come back: the broker's ACL may deny this topic"));
	return rt;
}

struct json_object *mqtt_probe(struct arena *a, const struct mqtt_probe_options *o)
{
	struct json_object *diag = json_object_new_object();
	struct mqtt_url u;
	const char *bad = o->broker_url ? mqtt_url_parse(a, o->broker_url, &u) : "is missing";
	if (bad)
		return failure(diag, "invalid_url", arena_printf(a, "broker_url %s", bad));

	/* 1. DNS, the address guard, TCP and TLS, each timed. */
	struct netprobe np;
	const char *message;
	enum netprobe_error ne = netprobe_run(a, u.host, u.port, u.tls, o->ca_file, o->timeout_ms, &np, &message);
	netprobe_describe(&np, diag);
	if (ne != NETPROBE_OK)
		return failure(diag, netprobe_error_code(ne), message);

	/* 2. MQTT. */
	MQTTClient c = NULL;
	struct attempt at;
	int rc = connect_any_version(&c, broker_uri(a, &u, &np), probe_client_id(a, o->device_id), o, &at, diag);
	if (rc != MQTTCLIENT_SUCCESS) {
		const char *code;
		connect_error(&at, o->timeout_ms, &code, &message, a);
		MQTTClient_destroy(&c);
		return failure(diag, code, message);
	}

	struct json_object *result = json_object_new_object();
	json_object_object_add(result, "connected", json_object_new_boolean(1));
	/* The time to CONNACK: TCP connect and TLS handshake (timed by netprobe on our clock,
	 * same address, moments ago) plus the CONNECT/CONNACK exchange of this connection. */
	double latency = at.ms;
	if (at.connack_ms >= 0) {
		latency = at.connack_ms + (np.tcp_ms > 0 ? np.tcp_ms : 0) + (np.tls_ms > 0 ? np.tls_ms : 0);
		json_object_object_add(diag, "connack_ms", jsonx_ms(at.connack_ms));
	}
	json_object_object_add(result, "latency_ms", json_object_new_int64((int64_t)(latency + 0.5)));
	/* 3. and 4. */
	json_object_object_add(result, "broker_info", broker_info(a, c, at.version));
	json_object_object_add(diag, "pubsub", round_trip(a, c, at.version, o->topic_prefix));

	MQTTClient_disconnect(c, 1000);
	MQTTClient_destroy(&c);
	json_object_object_add(result, "diagnostics", diag);
	return result;
}
