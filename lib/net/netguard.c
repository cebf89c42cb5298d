/* Address classification; see netguard.h. */
#include "net/netguard.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "core/config.h"

static bool v4_private(uint32_t a)
{
	return (a >> 24) == 0 ||			   /* 0.0.0.0/8 "this network" */
	       (a >> 24) == 10 ||			   /* 10/8 */
	       (a >> 24) == 127 ||			   /* loopback */
	       (a >> 22) == (100u << 2 | 1) ||		   /* 100.64/10 carrier-grade NAT */
	       (a >> 16) == (169u << 8 | 254) ||	   /* link-local (cloud metadata lives here) */
	       (a >> 20) == (172u << 4 | 1) ||		   /* 172.16/12 */
	       (a >> 16) == (192u << 8 | 168) ||	   /* 192.168/16 */
	       (a >> 8) == (192u << 16 | 0 << 8 | 0) ||	   /* 192.0.0/24 protocol assignments */
	       (a >> 8) == (192u << 16 | 0 << 8 | 2) ||	   /* 192.0.2/24 TEST-NET-1 */
	       (a >> 8) == (198u << 16 | 51 << 8 | 100) || /* 198.51.100/24 TEST-NET-2 */
	       (a >> 8) == (203u << 16 | 0 << 8 | 113) ||  /* 203.0.113/24 TEST-NET-3 */
	       (a >> 17) == (198u << 7 | 18 >> 1) ||	   /* 198.18/15 benchmarking */
	       (a >> 28) >= 14;				   /* multicast 224/4 and reserved 240/4, broadcast */
}

bool netguard_is_private(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		return v4_private(ntohl(in->sin_addr.s_addr));
	}
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		const uint8_t *b = a->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
			uint32_t v4 = (uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15];
			return v4_private(v4);
		}
		/* 6to4 (2002::/16) carries an IPv4 address in bytes 2..5: judge that one. */
		if (b[0] == 0x20 && b[1] == 0x02) {
			uint32_t v4 = (uint32_t)b[2] << 24 | (uint32_t)b[3] << 16 | (uint32_t)b[4] << 8 | b[5];
			return v4_private(v4);
		}
		/* Teredo (2001::/32), local-use NAT64 (64:ff9b:1::/48), IPv4-translated
		 * (::ffff:0:0:0/96) and discard-only (100::/64): tunnels and oddities, refused. */
		if ((b[0] == 0x20 && b[1] == 0x01 && b[2] == 0 && b[3] == 0) ||
		    (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 && b[5] == 0x01) ||
		    (!memcmp(b, "\0\0\0\0\0\0\0\0\xff\xff\0\0", 12)) ||
		    (b[0] == 0x01 && b[1] == 0x00 && !memcmp(b + 2, "\0\0\0\0\0\0", 6)))
			return true;
		return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a) ||
		       (b[0] & 0xfe) == 0xfc ||						 /* fc00::/7 ULA */
		       (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) || /* 64:ff9b::/96 NAT64 */
		       (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8);	 /* 2001:db8::/32 docs */
	}
	return true; /* anything else (unix sockets, ...) is never a valid outbound target */
}

bool netguard_private_allowed(void)
{
	return config_bool("SWITCHBOARD_ALLOW_PRIVATE_TARGETS", false);
}

bool netguard_permits(const struct sockaddr *sa)
{
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return false;
	return netguard_private_allowed() || !netguard_is_private(sa);
}
