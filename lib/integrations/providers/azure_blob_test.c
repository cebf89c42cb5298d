/* POST /users/me/integrations/azure-blob/test: the probe of storage_probe.h on the
 * saved container. */
#include <json-c/json.h>

#include "core/arena.h"
#include "core/log.h"
#include "integrations/integration.h"
#include "integrations/providers/azure_blob.h"
#include "integrations/providers/provider.h"
#include "integrations/providers/storage_probe.h"
#include "net/azblob.h"

static int call(struct arena *a, const void *target, const char *method, const char *key, const char *body, size_t len,
		const char *content_type, struct outbound_response *out)
{
	return azblob_call(a, target, method, key, body, len, content_type, out);
}

int azure_test(const struct provider_call *c, const struct provider *p, struct provider_result *r)
{
	(void)p;
	struct integration row;
	bool found;
	enum db_status s = integration_load(c->a, c->user_id, "azure_blob", false, &row, &found);
	if (s != DB_OK)
		return provider_db(c->a, r, s);
	if (!found)
		return provider_fail(r, PROVIDER_NOT_FOUND, "not_found", "No saved Azure Blob configuration to test");
	struct azblob_target t;
	int rc = azure_saved_target(c->a, &row, &t);
	if (rc < 0) {
		log_msg(LOG_ERROR, "stored Azure account key of user %s could not be opened", c->user_id);
		return provider_secret(r, "The stored account key could not be decrypted; save the configuration again");
	}
	if (rc > 0)
		return provider_fail(r, PROVIDER_CONFLICT, "conflict", "The saved configuration is incomplete: save it again");
	struct storage_ops ops = {.provider = "azure_blob", .target = &t, .where = "container", .name = t.container,
				  .call = call, .failure = azblob_failure};
	return storage_probe(c, &row, &ops, azure_saved_prefix(&row), "Azure Blob storage test completed", r);
}
