/* The private-address guard for outbound connections to user-supplied hosts (brokers,
 * webhook receivers, Blynk servers): loopback, private, link-local, unspecified,
 * multicast and other reserved ranges are refused unless the operator sets
 * SWITCHBOARD_ALLOW_PRIVATE_TARGETS=1. Checked on resolved addresses, every time. */
#ifndef SB_NETGUARD_H
#define SB_NETGUARD_H

#include <stdbool.h>
#include <sys/socket.h>

/* True when the address is one a user-supplied target must not reach. */
bool netguard_is_private(const struct sockaddr *sa);
/* True when the operator allows private targets (SWITCHBOARD_ALLOW_PRIVATE_TARGETS). */
bool netguard_private_allowed(void);
/* True when sa may be connected to under the current policy. */
bool netguard_permits(const struct sockaddr *sa);

#endif
