/* POST /users/me/integrations/s3/test: the probe of storage_probe.h on the saved bucket. */
#include <json-c/json.h>

#include "core/arena.h"
#include "core/log.h"
#include "integrations/integration.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/s3.h"
#include "integrations/providers/storage_probe.h"
#include "net/s3.h"

static int call(struct arena *a, const void *target, const char *method, const char *key, const char *body, size_t len,
		const char *content_type, struct outbound_response *out)
{
	return s3_call(a, target, method, key, body, len, content_type, out);
}

int s3_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, "s3", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved S3 configuration to test");
	struct s3_target t;
	int rc = s3_saved_target(c->a, &row, &t);
	if (rc < 0) {
		log_msg(LOG_ERROR, "stored S3 secret of user %s could not be opened", c->user_id);
		return provider_secret(r, "The stored secret could not be decrypted; save the configuration again");
	}
	if (rc > 0)
		return provider_fail(r, PROVIDER_CONFLICT, "conflict", "The saved S3 configuration is incomplete: save it again");
	struct storage_ops ops = {.provider = "s3", .target = &t, .where = "bucket", .name = t.bucket,
				  .call = call, .failure = s3_failure};
	return storage_probe(c, &row, &ops, s3_saved_prefix(&row), "S3 storage test completed", r);
}
