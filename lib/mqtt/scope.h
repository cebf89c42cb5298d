/* Topic scoping of the relay: what a browser may publish to and subscribe to under the
 * saved topic_prefix. A prefix is compared level by level ("lab/e2e" admits "lab/e2e"
 * and "lab/e2e/..." but not "lab/e2e2"); wildcards are admitted only below the prefix
 * (they cannot climb out: "+" is one level, "#" the levels beneath); "$" topics ($SYS,
 * $share) are never admitted. */
#ifndef SB_MQTT_SCOPE_H
#define SB_MQTT_SCOPE_H

#include <stdbool.h>
#include <stddef.h>

/* prefix: the saved topic_prefix (trailing "/" ignored). A PUBLISH topic (no wildcards). */
bool mqtt_topic_in_scope(const char *prefix, const void *topic, size_t len);
/* A SUBSCRIBE filter: "+" and "#" only below the prefix, each a whole level, "#" last. */
bool mqtt_filter_in_scope(const char *prefix, const void *filter, size_t len);

#endif
