/* The operations of the integrations routes, dispatched through the provider's ops
 * table (a NULL op takes the default here), and the defaults themselves: what a
 * provider gets without writing anything (a config provider: its field table, view and
 * config_build; an OAuth2 provider: the providers-file entry). */
#ifndef SB_INTEGRATION_OPS_H
#define SB_INTEGRATION_OPS_H

#include <stdbool.h>

#include "integrations/integration.h"
#include "integrations/providers/provider.h"

/* The bodies of the integrations routes, for the unknown-member check (validate_unknown). */
enum integration_body { INTEGRATION_BODY_PUT, INTEGRATION_BODY_PATCH, INTEGRATION_BODY_REFRESH, INTEGRATION_BODY_ACTION };

struct arena;
/* The field tables a body of op on p may use, NULL-terminated (in a); action names the
 * action of INTEGRATION_BODY_ACTION ("drive/export"). NULL when p has no such operation
 * (PUT of an OAuth provider, an unknown action): its handler answers 404 or 405.
 * p may be NULL for INTEGRATION_BODY_REFRESH (the same for every provider). */
const struct field *const *integration_body_fields(struct arena *a, const struct provider *p,
						   enum integration_body op, const char *action);

/* Dispatch: p's op, or the default. */
int integration_get(const struct provider *p, const struct provider_call *c, struct provider_result *r);
int integration_put(const struct provider *p, const struct provider_call *c, struct provider_result *r);
int integration_delete_op(const struct provider *p, const struct provider_call *c, struct provider_result *r);
int integration_patch(const struct provider *p, const struct provider_call *c, struct provider_result *r);
int integration_refresh(const struct provider *p, const struct provider_call *c, struct provider_result *r);

/* The defaults. */
/* 200 view | not_found. */
int integration_default_get(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* Validates (field table, validate, validate_saved), builds and saves the config. */
int integration_default_put(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* Removes the row (and the provider's own rows: forget), audited and published. */
int integration_default_delete(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* enabled, and the provider's settings table. */
int integration_default_patch(const struct provider_call *c, const struct provider *p, struct provider_result *r);
/* Not an OAuth integration: nothing to refresh. */
int integration_default_refresh(const struct provider_call *c, const struct provider *p, struct provider_result *r);

/* Saving a config, shared by every provider that saves one. In the open transaction:
 * serialises saves of (user, provider), even a first one (an advisory lock: FOR UPDATE
 * locks nothing while the row does not exist), and loads the row under lock. */
enum db_status integration_lock(struct arena *a, const char *user_id, const char *provider, struct integration *prev,
				bool *found);
/* After the upsert of saved: the audit entry (integration.connected when the row is
 * new, else integration.updated; details taken, may be NULL) and the matching event. */
enum db_status integration_saved(struct arena *a, const struct actor *who, const struct integration *saved,
				 bool was_new, struct json_object *details);

/* Every integration of the user with its status (the IntegrationStatusResponse of spec
 * 000 plus status and last_error), ordered by provider: a new array owned by the caller. */
enum db_status integration_status_list(struct arena *a, const char *user_id, struct json_object **out);

/* The generic routes of spec 003/002: o gets integration_id (NULL when not configured),
 * integration_type and name (metadata.name, NULL when none). */
void integration_identify(struct json_object *o, const struct integration *row, const char *provider);
/* The status object of one provider (configured or not: "configured" says), identified. */
enum db_status integration_status_of(struct arena *a, const char *user_id, const char *provider,
				     struct json_object **out);
/* The status list, identified, of every provider or only of `only` (NULL: all). */
enum db_status integration_status_list_ids(struct arena *a, const char *user_id, const char *only,
					   struct json_object **out);

/* The caller's row, or PROVIDER_NOT_FOUND (not configured) / PROVIDER_DB in *r.
 * Returns 0 when loaded. */
int integration_load_or_fail(const struct provider_call *c, const char *provider, struct integration *row,
			     struct provider_result *r);

/* The caller's row for an operation that calls the outside service: 0 when it exists and
 * is enabled, else -1 with *r filled: 404 not_found "This integration is not connected",
 * 409 integration_disabled (the service is not called), or PROVIDER_DB. */
int integration_enabled_or_fail(const struct provider_call *c, const struct provider *p, struct integration *row,
				struct provider_result *r);

#endif
