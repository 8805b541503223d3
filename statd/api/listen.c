/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's listening sockets, one per transport, configured as the
 * original configures them (general.api): unix (path, owner, mode), tcp
 * (host, port) and vsock (any CID, port). Each non-blocking, close-on-exec.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "log.h"
#include "macro.h"
#include "server-private.h"

#define API_UNIX_DEFAULT "/var/lib/vhotplug/vhotplug.sock"
#define API_HOST_DEFAULT "127.0.0.1"

static int bind_listen(int fd, const struct sockaddr *sa, socklen_t len, const char *what)
{
	int r;

	if (bind(fd, sa, len) < 0 || listen(fd, SOMAXCONN) < 0) {
		r = -errno;
		log_err("api: %s: %s; the API goes without it", what, strerror(-r));
		close(fd);
		return r;
	}
	return fd;
}

/* As the original: an unknown user or group is a warning, the socket stays root's. */
static void set_owner(const struct api_config *api, const char *path)
{
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	if (api->unix_socket_user && !(pw = getpwnam(api->unix_socket_user)))
		log_warn("api: unixSocketUser \"%s\": no such user", api->unix_socket_user);
	if (api->unix_socket_group && !(gr = getgrnam(api->unix_socket_group)))
		log_warn("api: unixSocketGroup \"%s\": no such group", api->unix_socket_group);
	if ((pw || gr) && chown(path, pw ? pw->pw_uid : (uid_t)-1, gr ? gr->gr_gid : (gid_t)-1) < 0)
		log_warn("api: %s: chown: %m", path);
	/* Else the umask's 0700: root's alone. */
	if (api->unix_socket_mode >= 0 && chmod(path, (mode_t)api->unix_socket_mode) < 0)
		log_warn("api: %s: chmod: %m", path);
}

static int open_unix(const struct api_config *api, char **made)
{
	const char *path = api->unix_socket ? api->unix_socket : API_UNIX_DEFAULT;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		log_err("api: unix socket %s: path too long; the API goes without it", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	/* A socket left by a statd that did not exit cleanly; anything else is not ours to remove. */
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_err("api: %s exists and is not a socket; the API goes without it", path);
		return -EEXIST;
	}
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fd = -errno;
		return log_err("api: unix socket: %s", strerror(-fd)), fd;
	}
	fd = bind_listen(fd, (struct sockaddr *)&sa, sizeof(sa), path);
	if (fd < 0)
		return fd;
	*made = strdup(path);
	set_owner(api, path);
	log_info("api: listening on unix socket %s", path);
	return fd;
}

static int open_tcp(const struct api_config *api)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	const char *host = api->host ? api->host : API_HOST_DEFAULT;
	struct sockaddr_in sin;
	char port[16], addr[INET_ADDRSTRLEN], what[128];
	struct addrinfo *ai;
	int fd, r, one = 1;

	snprintf(port, sizeof(port), "%d", api->port);
	/* "" is any address, as for Python's bind(). At start only: a name may take DNS. */
	r = getaddrinfo(*host ? host : NULL, port, &hints, &ai);
	if (r != 0) {
		log_err("api: tcp host \"%s\": %s; the API goes without it", host, gai_strerror(r));
		return -EADDRNOTAVAIL;
	}
	memcpy(&sin, ai->ai_addr, sizeof(sin));
	freeaddrinfo(ai);
	inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr));
	snprintf(what, sizeof(what), "tcp %s:%d", addr, api->port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fd = -errno;
		return log_err("api: tcp socket: %s", strerror(-fd)), fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	fd = bind_listen(fd, (struct sockaddr *)&sin, sizeof(sin), what);
	if (fd < 0)
		return fd;
	/* The API has no authentication of its own over tcp. */
	if ((ntohl(sin.sin_addr.s_addr) >> 24) != 127)
		log_warn("api: %s is not a loopback address: whoever reaches it may use the API",
			 what);
	log_info("api: listening on %s", what);
	return fd;
}

static int open_vsock(const struct api_config *api)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY,
				  .svm_port = (unsigned)api->port };
	char what[64];
	int fd, one = 1;

	snprintf(what, sizeof(what), "vsock port %d", api->port);
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		fd = -errno;
		return log_err("api: vsock socket: %s; the API goes without it", strerror(-fd)), fd;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	fd = bind_listen(fd, (struct sockaddr *)&sa, sizeof(sa), what);
	if (fd >= 0)
		log_info("api: listening on %s", what);
	return fd;
}

int listen_open(const struct api_config *api, enum api_transport transport, char **unix_path)
{
	switch (transport) {
	case API_UNIX:
		return open_unix(api, unix_path);
	case API_TCP:
		return open_tcp(api);
	case API_VSOCK:
		return open_vsock(api);
	}
	return -EINVAL;
}
