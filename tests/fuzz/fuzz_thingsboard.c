/* libFuzzer target: the readers of ThingsBoard's answers (thingsboard_ops.c) on any JSON a
 * server could send: the telemetry map, the device entry and the server attributes. The
 * telemetry is always an object of {value, ts} objects, every time is null or RFC 3339
 * UTC ending in Z, and the device entry always carries exactly its eight members. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "integrations/providers/thingsboard.h"

static void check_time(struct json_object *t)
{
	if (!t)
		return;
	const char *s = json_object_get_string(t);
	size_t n = strlen(s);
	if (!json_object_is_type(t, json_type_string) || n < 24 || s[n - 1] != 'Z')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena *a = fuzz_arena();
	struct json_object *j = json_tokener_parse(fuzz_text(a, data, size)), *ts, *m;
	struct json_object *tel = tb_telemetry(a, j);
	if (!tel || !json_object_is_type(tel, json_type_object))
		abort();
	json_object_object_foreach(tel, key, v)
	{
		(void)key;
		if (!json_object_is_type(v, json_type_object) || json_object_object_length(v) != 2 ||
		    !json_object_object_get_ex(v, "value", &m) || !json_object_object_get_ex(v, "ts", &ts))
			abort();
		check_time(ts);
	}
	struct json_object *d = tb_device_entry(j);
	tb_server_attributes(a, j, d);
	if (json_object_object_length(d) != 8 || !json_object_object_get_ex(d, "last_activity_at", &ts))
		abort();
	check_time(ts);
	json_object_put(d);
	json_object_put(tel);
	json_object_put(j);
	return 0;
}
