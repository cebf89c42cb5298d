/* The recv side shared by the relay's two wslay contexts: the browser's (session.c) and
 * a ws:// broker's (broker_ws.c). */
#ifndef SB_RELAY_WSIO_H
#define SB_RELAY_WSIO_H

#include "relay.h"

/* How a context reads its socket: the count read (> 0), 0 when it would block, or -1
 * when the peer is gone or the read failed. */
typedef ssize_t (*wsio_read_fn)(struct session *s, uint8_t *buf, size_t len);

/* The body of a wslay recv callback: first the bytes pre holds (read past an HTTP head
 * with the upgrade), then rd. When nothing was read, sets wslay's error
 * (WSLAY_ERR_WOULDBLOCK, or WSLAY_ERR_CALLBACK_FAILURE) and returns -1. */
ssize_t wsio_recv(wslay_event_context_ptr ctx, struct buf *pre, uint8_t *buf, size_t len, wsio_read_fn rd,
		  struct session *s);

#endif
