/* An SMTP client on libcurl for user-supplied mail servers: STARTTLS (required, not
 * opportunistic) or implicit TLS with certificate and host name checks against the
 * system store or an operator CA file, plaintext only when the caller allows it, AUTH
 * with the user's credentials, and the private-address guard (netguard.h) on every
 * resolved address. Never logs the password or the message. */
#ifndef SB_SMTP_CLIENT_H
#define SB_SMTP_CLIENT_H

#include <stdbool.h>
#include <time.h>

struct arena;

enum smtp_security { SMTP_SECURITY_STARTTLS, SMTP_SECURITY_TLS, SMTP_SECURITY_NONE, SMTP_SECURITY__MAX };

struct smtp_options {
	const char *host;
	long port;
	enum smtp_security security;
	const char *username, *password; /* AUTH when username is set */
	const char *ca_file;		 /* extra trust anchors, or NULL for the system store */
	long timeout_ms;		 /* total; connect is the smaller of this and 5 s */
};

struct smtp_message {
	const char *from, *to; /* bare addresses (checked by smtp_address_ok) */
	const char *subject;   /* one line of UTF-8 */
	const char *text;      /* the plain-text body, UTF-8 */
	const char *message_id; /* "local@domain" for the Message-ID, or NULL for a random one */
};

enum smtp_error {
	SMTP_OK,
	SMTP_TIMEOUT,	/* the server did not answer in time: 504 */
	SMTP_CONNECT,	/* DNS, refused, closed: 502 */
	SMTP_TLS,	/* the TLS handshake or the certificate check failed, or no STARTTLS: 502 */
	SMTP_AUTH,	/* the server refused the credentials: 502 */
	SMTP_REJECTED,	/* the server refused the sender, a recipient or the message: 502 */
	SMTP_BLOCKED,	/* the private-address guard refused the host */
	SMTP_FAILED,	/* anything else */
	SMTP_ERROR__MAX
};

struct smtp_result {
	enum smtp_error error;
	long reply;	     /* the server's last reply code, 0 when none */
	const char *message; /* the reason, in the arena (NULL on success) */
};

/* Connects, greets (EHLO), upgrades to TLS and authenticates as configured, then NOOP:
 * the health check. Returns 0 or -1 with *r filled. */
int smtp_check(struct arena *a, const struct smtp_options *o, struct smtp_result *r);
/* Sends one message. Returns 0 or -1 with *r filled. */
int smtp_send(struct arena *a, const struct smtp_options *o, const struct smtp_message *m, struct smtp_result *r);

/* The RFC 5322 text of m (CRLF lines, a Date of now, a Message-ID, the subject encoded
 * per RFC 2047 when it is not ASCII), in the arena; NULL when a header value holds a
 * line break. */
char *smtp_format(struct arena *a, const struct smtp_message *m, time_t now);
/* True when s is a plain address local@domain (no display name, no spaces, no
 * brackets or control characters, at most 254 bytes). */
bool smtp_address_ok(const char *s);
/* "starttls", "tls", "none" and back; -1 for an unknown word. */
const char *smtp_security_name(enum smtp_security s);
int smtp_security_parse(const char *s);
/* The port a security mode uses by default: 587, 465, 25. */
long smtp_default_port(enum smtp_security s);

#endif
