/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One connection to the API: connect over unix, tcp or vsock, send a
 * request line, read reply lines. The original has no bound on any of
 * these; here connect, send and each reply have the target's timeout, and
 * a line has CLI_LINE_MAX.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <linux/vm_sockets.h>

#include "cli.h"
#include "pyjson.h"

static int fail(struct cli_conn *c, int ret, const char *fmt, ...) _printf_(3, 4);
static int fail(struct cli_conn *c, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return ret;
}

/* Python's str(OSError): "[Errno N] text". */
static int fail_errno(struct cli_conn *c, int ret, const char *prefix, int err)
{
	if (err == EAGAIN || err == EINPROGRESS)	/* SO_SNDTIMEO ran out */
		return fail(c, ret, "%stimed out", prefix);
	return fail(c, ret, "%s[Errno %d] %s", prefix, err, strerror(err));
}

void conn_init(struct cli_conn *c)
{
	*c = (struct cli_conn){ .fd = -1 };
}

void conn_close(struct cli_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	/* c->err stays: it says why the connection is being closed. */
	c->fd = -1;
	c->buf = NULL;
	c->len = 0;
	c->cap = 0;
}

bool cli_running_in_vm(void)
{
	_cleanup_close_ int fd = open("/dev/vsock", O_RDONLY | O_CLOEXEC);
	unsigned cid;

	if (fd < 0 || ioctl(fd, IOCTL_VM_SOCKETS_GET_LOCAL_CID, &cid) < 0)
		return false;
	if (cli_debug)
		cli_log(CLI_DEBUG, "Local CID: %u", cid);
	/* 1 is VMADDR_CID_LOCAL, the loopback transport's. */
	return cid != VMADDR_CID_ANY && cid != VMADDR_CID_HOST && cid != 1;
}

static int tcp_address(struct cli_conn *c, const struct cli_target *t, struct sockaddr_in *sin)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res;
	int r;

	*sin = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)t->port) };
	if (inet_pton(AF_INET, t->host, &sin->sin_addr) == 1)
		return 0;
	r = getaddrinfo(t->host, NULL, &hints, &res);
	if (r != 0)
		return fail(c, -ENOTCONN, "Failed to connect: [Errno %d] %s", r, gai_strerror(r));
	sin->sin_addr = ((struct sockaddr_in *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}

int conn_open(struct cli_conn *c, const struct cli_target *t)
{
	struct timeval tv = { .tv_sec = t->timeout_s };
	union {
		struct sockaddr sa;
		struct sockaddr_un sun;
		struct sockaddr_in sin;
		struct sockaddr_vm svm;
	} addr = { 0 };
	socklen_t len;
	int family, r;

	conn_close(c);
	switch (t->transport) {
	case CLI_VSOCK:
		if (!t->cid || !t->port)
			return fail(c, -EIO, "VSOCK CID and port are required");
		if (t->cid < 0 || t->cid > UINT32_MAX || t->port < 0 || t->port > UINT32_MAX)
			return fail(c, -EIO, "VSOCK CID and port must be 0-4294967295");
		if (cli_debug)
			cli_log(CLI_DEBUG, "Connecting to vsock cid %lld on port %lld", t->cid, t->port);
		family = AF_VSOCK;
		addr.svm = (struct sockaddr_vm){ .svm_family = AF_VSOCK,
			.svm_cid = (unsigned)t->cid, .svm_port = (unsigned)t->port };
		len = sizeof(addr.svm);
		break;
	case CLI_TCP:
		if (!t->host[0] || !t->port)
			return fail(c, -EIO, "TCP host and port are required");
		if (t->port < 0 || t->port > 65535)
			return fail(c, -EIO, "connect(): port must be 0-65535.");
		if (cli_debug)
			cli_log(CLI_DEBUG, "Connecting to tcp host %s on port %lld", t->host, t->port);
		family = AF_INET;
		r = tcp_address(c, t, &addr.sin);
		if (r < 0)
			return r;
		len = sizeof(addr.sin);
		break;
	default:
		if (!t->path[0])
			return fail(c, -EIO, "Unix socket path is required");
		if (cli_debug)
			cli_log(CLI_DEBUG, "Connecting to unix socket %s", t->path);
		if (strlen(t->path) > sizeof(addr.sun.sun_path))
			return fail(c, -ENOTCONN, "Failed to connect: AF_UNIX path too long");
		family = AF_UNIX;
		addr.sun.sun_family = AF_UNIX;
		memcpy(addr.sun.sun_path, t->path, strlen(t->path));
		len = offsetof(struct sockaddr_un, sun_path) + strlen(t->path);
	}
	c->fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return fail_errno(c, -ENOTCONN, "Failed to connect: ", errno);
	/*
	 * A blocking connect and send give up after SO_SNDTIMEO (unix and tcp;
	 * vsock's connect has the kernel's own 2 s bound, as in the original).
	 */
	if (t->timeout_s && setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return fail_errno(c, -EIO, "", errno);
	if (connect(c->fd, &addr.sa, len) < 0)
		return fail_errno(c, -ENOTCONN, "Failed to connect: ", errno);
	if (cli_debug)
		cli_log(CLI_DEBUG, "Connected");
	return 0;
}

int conn_send(struct cli_conn *c, json_object *req)
{
	_cleanup_free_ char *json = NULL, *line = NULL;
	size_t len = 0, off = 0;

	/* The request as the original's json.dumps() wrote it. */
	json = pyjson_dumps(req, &len);
	if (!json || asprintf(&line, "%s\n", json) < 0) {
		line = NULL;
		return fail_errno(c, -EIO, "", ENOMEM);
	}
	len++;
	if (cli_debug)
		cli_log(CLI_DEBUG, "Sending: %s", line);
	while (off < len) {
		ssize_t n = send(c->fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail_errno(c, -EIO, "", errno);
		off += (size_t)n;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Read more into c->buf; waits until DEADLINE (ms, 0: none). */
static int fill(struct cli_conn *c, long long deadline, unsigned timeout_s, const char *what)
{
	struct pollfd p = { .fd = c->fd, .events = POLLIN };
	char *nb;
	ssize_t n;
	int r;

	if (c->len >= CLI_LINE_MAX)
		return fail(c, -EIO, "%s longer than %u bytes", what, CLI_LINE_MAX);
	for (;;) {
		long long left = deadline ? deadline - now_ms() : -1;

		if (deadline && left <= 0)
			return fail(c, -ETIMEDOUT, "No %s within %u s", what, timeout_s);
		r = poll(&p, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return fail_errno(c, -EIO, "", errno);
		if (r > 0)
			break;
	}
	if (c->cap - c->len < 65536) {
		/* doubling: a line of N bytes costs O(N) copies */
		size_t cap = c->cap ? c->cap * 2 : 131072;

		nb = realloc(c->buf, cap);
		if (!nb)
			return fail_errno(c, -EIO, "", ENOMEM);
		c->buf = nb;
		c->cap = cap;
	}
	do
		n = read(c->fd, c->buf + c->len, c->cap - c->len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return fail_errno(c, -EIO, "", errno);
	if (n == 0)
		return -ECONNRESET;
	c->len += (size_t)n;
	return 0;
}

/* json.loads(): one value, white space around it allowed, nothing else. */
static bool parse_line(const char *s, size_t n, json_object **out)
{
	struct json_tokener *tok;
	size_t end;

	*out = NULL;
	/* Python nests as deep as its recursion limit, about 1000; json-c 32. */
	tok = json_tokener_new_ex(1000);
	if (!tok)
		return false;
	/* With its NUL, as json_tokener_parse() does: a number then ends. */
	*out = json_tokener_parse_ex(tok, s, (int)n + 1);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_tokener_free(tok);
		json_object_put(*out);
		*out = NULL;
		return false;
	}
	json_tokener_free(tok);
	for (; end < n; end++)
		if (!strchr(" \t\r\n", s[end]) || !s[end])
			break;
	if (end < n) {
		json_object_put(*out);
		*out = NULL;
		return false;
	}
	return true;
}

int conn_recv(struct cli_conn *c, unsigned timeout_s, const char *what, json_object **out)
{
	long long deadline = timeout_s ? now_ms() + timeout_s * 1000LL : 0;
	size_t scanned = 0;

	for (;;) {
		char *nl = memchr(c->buf ? c->buf + scanned : "", '\n', c->len - scanned);
		json_object *o;
		size_t n;
		bool ok;
		int r;

		if (!nl) {
			scanned = c->len;
			r = fill(c, deadline, timeout_s, what);
			if (r < 0)
				return r;
			continue;
		}
		*nl = '\0';
		n = (size_t)(nl - c->buf);
		/* The original's decode() raises here: an error, not a line to skip. */
		if (!py_utf8_valid(c->buf, n))
			return fail(c, -EIO, "%s is not UTF-8", what);
		ok = parse_line(c->buf, n, &o);
		if (!ok)
			cli_log(CLI_ERROR, "Invalid JSON in %s: %s", what, c->buf);
		memmove(c->buf, nl + 1, c->len - n - 1);
		c->len -= n + 1;
		scanned = 0;
		if (ok) {
			*out = o;
			return 0;
		}
	}
}

int conn_request(struct cli_conn *c, const struct cli_target *t, json_object *req,
		 json_object **reply)
{
	int r = conn_send(c, req);

	if (r < 0)
		return r;
	r = conn_recv(c, t->timeout_s, "API response", reply);
	if (r == -ECONNRESET)
		return fail(c, -ENOTCONN, "API connection closed by remote");
	if (r < 0)
		return r;
	if (!json_object_is_type(*reply, json_type_object)) {
		json_object_put(*reply);
		*reply = NULL;
		return fail(c, -EIO, "API response is not a JSON object");
	}
	if (cli_debug) {
		char *s = py_to_str(*reply);

		cli_log(CLI_DEBUG, "Received: %s", s ? s : "");
		free(s);
	}
	return 0;
}
