/* Unit tests of lib/mqtt/ws_client: the accept value of RFC 6455's own example, the
 * upgrade request (IPv6 brackets, fields with CR/LF refused, the size cap) and the check
 * of a broker's answer (status, Upgrade/Connection, accept, subprotocol). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "mqtt/ws_client.h"

#define KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static void test_accept(void **state)
{
	(void)state;
	char out[29];
	assert_int_equal(ws_accept_of(KEY, out), 0);
	assert_string_equal(out, ACCEPT);
	assert_int_equal(ws_accept_of("short", out), -1);
}

static void test_request(void **state)
{
	(void)state;
	char out[512];
	long n = ws_client_request("broker.example", 8080, "/mqtt", KEY, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_non_null(strstr(out, "GET /mqtt HTTP/1.1\r\nHost: broker.example:8080\r\n"));
	assert_non_null(strstr(out, "Sec-WebSocket-Key: " KEY "\r\n"));
	assert_non_null(strstr(out, "Sec-WebSocket-Protocol: mqtt\r\n\r\n"));
	assert_true(ws_client_request("::1", 9001, "/", KEY, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "Host: [::1]:9001\r\n"));
	assert_int_equal(ws_client_request("h", 1, "/a\r\nX: y", KEY, out, sizeof(out)), -1);
	assert_int_equal(ws_client_request("h\r\n", 1, "/", KEY, out, sizeof(out)), -1);
	assert_int_equal(ws_client_request("h", 1, "mqtt", KEY, out, sizeof(out)), -1);
	assert_int_equal(ws_client_request("h", 0, "/", KEY, out, sizeof(out)), -1);
	assert_int_equal(ws_client_request("h", 1, "/", "short", out, sizeof(out)), -1);
	assert_int_equal(ws_client_request("h", 1, "/", KEY, out, 40), -1);
}

static const char *check(const char *head)
{
	return ws_client_check(head, strlen(head), KEY);
}

static void test_check(void **state)
{
	(void)state;
	assert_null(check("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			  "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n"));
	/* Case of names and tokens, a list in Connection, no subprotocol header. */
	assert_null(check("HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\n"
			  "sec-websocket-accept:" ACCEPT "\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 1010 x\r\n\r\n"));
	assert_non_null(check("HTTP/1.0 101 x\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 101 x\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " ACCEPT "\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: close\r\n"
			      "Sec-WebSocket-Accept: " ACCEPT "\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Accept: " ACCEPT "\r\nSec-WebSocket-Protocol: mqttv3.1\r\n\r\n"));
	assert_non_null(check("HTTP/1.1 101 x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			      "Sec-WebSocket-Accept: " ACCEPT "\r\n"));
	assert_non_null(check("HTTP/1.1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
