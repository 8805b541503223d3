/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A client's output: written at once while the socket takes it, the rest
 * queued up to a bound and written when the socket is writable again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "server-private.h"

static ssize_t send_some(int fd, const char *buf, size_t len)
{
	ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	return n < 0 ? -errno : n;
}

int outq_send(struct api_outq *q, int fd, const char *buf, size_t len, size_t max)
{
	size_t queued = q->len - q->head;
	ssize_t n;

	if (queued == 0) {
		n = send_some(fd, buf, len);
		if (n < 0)
			return (int)n;
		buf += n;
		len -= (size_t)n;
		if (len == 0)
			return 0;
	}
	if (queued + len > max)
		return -ENOBUFS;
	if (q->len + len > q->cap) {
		size_t cap = queued + len > 2 * q->cap ? queued + len : 2 * q->cap;
		char *p = malloc(cap);

		if (!p)
			return -ENOMEM;
		if (queued)
			memcpy(p, q->buf + q->head, queued);
		free(q->buf);
		*q = (struct api_outq){ .buf = p, .len = queued, .cap = cap };
	}
	memcpy(q->buf + q->len, buf, len);
	q->len += len;
	return 0;
}

int outq_flush(struct api_outq *q, int fd)
{
	while (q->len > q->head) {
		ssize_t n = send_some(fd, q->buf + q->head, q->len - q->head);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EAGAIN;
		q->head += (size_t)n;
	}
	/* All sent: an idle client holds no buffer. */
	outq_free(q);
	return 0;
}

void outq_free(struct api_outq *q)
{
	free(q->buf);
	*q = (struct api_outq){ 0 };
}
