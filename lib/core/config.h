/* Process configuration: the environment, over an optional .env file (KEY=VALUE lines)
 * named by SB_ENV_FILE. Values set in the environment win over the file. */
#ifndef SB_CONFIG_H
#define SB_CONFIG_H

#include <stdbool.h>

/* Loads the file named by SB_ENV_FILE (if set) into the environment without
 * overriding what is already set. Returns 0, or -1 when the named file is unreadable
 * or has a malformed line (the message says which). */
int config_load(void);

/* The value of name, or def when unset or empty. The pointer is owned by the environment. */
const char *config_str(const char *name, const char *def);
/* Integer value clamped to [min, max]; def when unset or not a number. */
long config_int(const char *name, long def, long min, long max);
bool config_bool(const char *name, bool def);

#endif
