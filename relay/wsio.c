/* The recv side of the relay's wslay contexts; see wsio.h. */
#include "wsio.h"

#include <string.h>

ssize_t wsio_recv(wslay_event_context_ptr ctx, struct buf *pre, uint8_t *buf, size_t len, wsio_read_fn rd,
		  struct session *s)
{
	if (pre->len) {
		size_t n = pre->len < len ? pre->len : len;
		memcpy(buf, pre->d, n);
		buf_drop(pre, n);
		return (ssize_t)n;
	}
	ssize_t n = rd(s, buf, len);
	if (n > 0)
		return n;
	wslay_event_set_error(ctx, n == 0 ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}
