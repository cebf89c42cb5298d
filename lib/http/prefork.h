/* Operating-system chores of the prefork master (lib/http/prefork_support.c): the
 * listening socket, the environment a reload starts from, and the configuration check
 * run in a separate process before a reload. Internal to the responder. */
#ifndef SB_PREFORK_H
#define SB_PREFORK_H

#include <stddef.h>

/* Binds and listens on the Unix socket path atomically (a new file renamed over the
 * old one, so clients never find the path missing). Returns the fd or -1 (logged). */
int prefork_listen_unix(const char *path);

/* Removes path only when it is still the socket fd listens on (a newer instance may
 * own the path by now). */
void prefork_unlink_if_ours(int fd, const char *path);

/* A malloc'ed copy of environ without the reload hand-over variables, or NULL. */
char **prefork_environment_snapshot(void);

/* Runs `self --check-config` with envp and waits for it (bounded). Returns 0 when the
 * configuration loads; otherwise -1 with what the check printed in why (one line). */
int prefork_check_config(const char *self, char **envp, char *why, size_t cap);

#endif
