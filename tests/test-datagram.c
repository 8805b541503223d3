/* SPDX-License-Identifier: Apache-2.0 */
/* datagram_send(): to a path, to an abstract name, and to nobody. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "datagram.h"

/* Bind a datagram socket to NAME ("@..." abstract); returns the fd. */
static int listen_at(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	memcpy(sa.sun_path, name, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, offsetof(struct sockaddr_un, sun_path) + len) < 0) {
		perror(name);
		exit(1);
	}
	return fd;
}

static void check_received(int fd, const char *want)
{
	char buf[64] = "";
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	CHECK(n == (ssize_t)strlen(want));
	CHECK(strcmp(buf, want) == 0);
}

int main(void)
{
	char dir[] = "/tmp/vhotplug-test-datagram.XXXXXX";
	char path[128], abstract[64], missing[160];
	int fd;

	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof(path), "%s/sock", dir);
	snprintf(missing, sizeof(missing), "%s/none", dir);
	snprintf(abstract, sizeof(abstract), "@vhotplug-test-datagram-%d", (int)getpid());

	fd = listen_at(path);
	CHECK(datagram_send(path, "READY=1") == 0);
	check_received(fd, "READY=1");
	close(fd);
	unlink(path);

	fd = listen_at(abstract);
	CHECK(datagram_send(abstract, "intent") == 0);
	check_received(fd, "intent");
	close(fd);

	CHECK(datagram_send(missing, "x") == -ENOENT);
	CHECK(datagram_send(abstract, "x") == -ECONNREFUSED);
	CHECK(datagram_send("", "x") == -ENAMETOOLONG);
	rmdir(dir);
	return check_result();
}
