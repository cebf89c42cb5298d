/* The MQTT broker URL parser (mqtt, mqtts, ws, wss; hosts, IPv6 literals, ports, paths). */
#include "fuzz.h"
#include "net/mqtt_url.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct mqtt_url u;
	if (!mqtt_url_parse(a, fuzz_text(a, data, size), &u) && (!u.host || u.port <= 0 || u.port > 65535))
		abort(); /* accepted, so it must be usable */
	return 0;
}
