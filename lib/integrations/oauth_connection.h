/* Storing an OAuth connection: the (user, provider) row with the tokens the provider
 * granted (sealed) and the profile, with its audit entry and integration.connected, in
 * the caller's transaction. Used by the connect callback, for a connection and for a
 * sign-in. */
#ifndef SB_OAUTH_CONNECTION_H
#define SB_OAUTH_CONNECTION_H

#include <stdbool.h>

#include "core/actor.h"
#include "db/db.h"

struct arena;
struct json_object;
struct oauth_provider;
struct oauth_tokens;

/* Inserts or replaces who->user_id's row for p; *reconnected tells whether one existed.
 * A reconnect keeps the provider settings in config (GitHub's auto_sync, ...). */
enum db_status oauth_connection_store(struct arena *a, const struct actor *who, const struct oauth_provider *p,
				      const struct oauth_tokens *t, struct json_object *profile, bool *reconnected);

#endif
