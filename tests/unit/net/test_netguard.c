/* Unit tests of lib/net/netguard.c (the private-address guard) and lib/net/mqtt_url.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "net/mqtt_url.h"
#include "net/netguard.h"

static bool private_ip(const char *text)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return netguard_is_private((struct sockaddr *)&ss);
}

static void test_private_ranges(void **state)
{
	(void)state;
	static const char *const refused[] = {"127.0.0.1",
					      "127.255.255.254",
					      "10.0.0.1",
					      "172.16.0.1",
					      "172.31.255.255",
					      "192.168.1.1",
					      "169.254.169.254",
					      "0.0.0.0",
					      "100.64.0.1",
					      "198.18.0.1",
					      "198.19.255.255",
					      "224.0.0.1",
					      "255.255.255.255",
					      "192.0.0.8",
					      "::1",
					      "::",
					      "fe80::1",
					      "fc00::1",
					      "fd12:3456::1",
					      "ff02::1",
					      "::ffff:127.0.0.1",
					      "::ffff:10.1.2.3",
					      "64:ff9b::7f00:1",
					      "2001:db8::1",
					      "192.0.2.1",
					      "198.51.100.7",
					      "203.0.113.9",
					      "2002:7f00:1::1" /* 6to4 of 127.0.0.1 */,
					      "2002:a00:1::1" /* 6to4 of 10.0.0.1 */,
					      "2001:0:4136:e378::1" /* Teredo */,
					      "64:ff9b:1::a00:1",
					      "::ffff:0:7f00:1",
					      "100::1"};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (!private_ip(refused[i]))
			fail_msg("%s should be private", refused[i]);
	}
	static const char *const allowed[] = {
		"8.8.8.8",	   "1.1.1.1",	     "172.15.255.255",	"172.32.0.1",
		"100.63.255.255",  "100.128.0.1",    "198.17.255.255",	"198.20.0.1",
		"2606:4700::1111", "::ffff:8.8.8.8", "223.255.255.255", "2002:808:808::1" /* 6to4 of 8.8.8.8 */};
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		if (private_ip(allowed[i]))
			fail_msg("%s should be public", allowed[i]);
	}
}

static void test_policy(void **state)
{
	(void)state;
	struct sockaddr_in lo = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.1", &lo.sin_addr);
	unsetenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS");
	assert_false(netguard_permits((struct sockaddr *)&lo));
	setenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", "1", 1);
	assert_true(netguard_permits((struct sockaddr *)&lo));
	struct sockaddr unix_sa = {.sa_family = AF_UNIX};
	assert_false(netguard_permits(&unix_sa)); /* never anything but IP */
	unsetenv("SWITCHBOARD_ALLOW_PRIVATE_TARGETS");
}

static void test_mqtt_urls(void **state)
{
	(void)state;
	struct arena *a = arena_new();
	struct mqtt_url u;
	assert_null(mqtt_url_parse(a, "mqtt://broker.example.com", &u));
	assert_string_equal(u.host, "broker.example.com");
	assert_int_equal(u.port, 1883);
	assert_false(u.tls);
	assert_null(mqtt_url_parse(a, "MQTTS://b.example:8884", &u));
	assert_int_equal(u.port, 8884);
	assert_true(u.tls);
	assert_null(mqtt_url_parse(a, "wss://b.example", &u));
	assert_int_equal(u.port, 443);
	assert_true(u.websocket);
	assert_string_equal(u.path, "/mqtt");
	assert_null(mqtt_url_parse(a, "ws://b.example:9001/ws/path", &u));
	assert_string_equal(u.path, "/ws/path");
	assert_null(mqtt_url_parse(a, "tcp://[::1]:1884", &u));
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 1884);
	assert_null(mqtt_url_parse(a, "ssl://10.0.0.1/", &u));
	static const char *const bad[] = {"http://b.example", "mqtt//b",       "mqtt://",	 "mqtt://:1883",
					  "mqtt://u:p@b",     "mqtt://b:0",    "mqtt://b:65536", "mqtt://b:12a",
					  "mqtt://b:",	      "mqtt://b/path", "mqtt://[::1",	 "mqtt://[]:1",
					  "mqtt://b c",	      "ws://b/#frag"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (!mqtt_url_parse(a, bad[i], &u))
			fail_msg("%s should be refused", bad[i]);
	}
	arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_private_ranges),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_mqtt_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
