/* SPDX-License-Identifier: Apache-2.0 */
/* lib/sockcheck: which VM sockets and peers are trusted. Parts need root (chown, setuid). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "macro.h"
#include "sockcheck.h"

/* Users without a passwd entry: root can own files and run as any number. */
#define OTHER 4242
#define VMUSER 4243

static char dir[] = "/tmp/test-sockcheck-XXXXXX";
static char reason[512];

static int listen_at(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0)
		abort();
	return fd;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		abort();
	return fd;
}

static void path_in(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static void test_own_socket_is_trusted(void)
{
	char p[256];
	_cleanup_close_ int l = -1, c = -1;

	path_in(p, sizeof(p), "own.sock");
	l = listen_at(p);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 0);
	c = connect_to(p);
	CHECK(sockcheck_peer(c, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 0);
}

static void test_symlink_to_a_socket_is_refused(void)
{
	char p[256], link[256];
	_cleanup_close_ int l = -1;

	path_in(p, sizeof(p), "other-vm.sock");
	path_in(link, sizeof(link), "vm1.sock");
	l = listen_at(p);
	CHECK(symlink(p, link) == 0);
	CHECK(sockcheck_path(link, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "is a symlink"));
}

static void test_not_a_socket_is_refused(void)
{
	char p[256];
	FILE *f;

	path_in(p, sizeof(p), "plain");
	f = fopen(p, "w");
	CHECK(f && fclose(f) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "is not a socket"));
	path_in(p, sizeof(p), "absent.sock");
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == -ENOENT);
}

static void test_directory_writable_by_others_is_refused(void)
{
	char p[256];
	_cleanup_close_ int l = -1;

	path_in(p, sizeof(p), "open.sock");
	l = listen_at(p);
	CHECK(chmod(dir, 01777) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "writable by others"));
	CHECK(chmod(dir, 0770) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "writable by its group"));
	CHECK(chmod(dir, 0755) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 0);
}

static void test_socket_of_another_user_is_refused(void)
{
	char p[256];
	_cleanup_close_ int l = -1;

	path_in(p, sizeof(p), "theirs.sock");
	l = listen_at(p);
	CHECK(chown(p, OTHER, OTHER) == 0);
	CHECK(sockcheck_path(p, VMUSER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "socket is owned by uid 4242"));
	/* The same socket is the VM's own when the VM runs as that user. */
	CHECK(sockcheck_path(p, OTHER, reason, sizeof(reason)) == 0);
}

static void test_directory_of_another_user_is_refused(void)
{
	char sub[256], p[300];
	_cleanup_close_ int l = -1;

	path_in(sub, sizeof(sub), "foreign");
	CHECK(mkdir(sub, 0755) == 0);
	snprintf(p, sizeof(p), "%s/vm.sock", sub);
	l = listen_at(p);
	CHECK(chown(sub, OTHER, OTHER) == 0);
	CHECK(sockcheck_path(p, VMUSER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "its directory") && strstr(reason, "uid 4242"));
	CHECK(chown(sub, VMUSER, VMUSER) == 0);
	CHECK(sockcheck_path(p, VMUSER, reason, sizeof(reason)) == 0);
}

/* The attack of issue 15: the socket's directory swapped for a symlink to another VM's. */
static void test_symlinked_directory_is_refused(void)
{
	char real[256], link[256], p[300];
	_cleanup_close_ int l = -1;

	path_in(real, sizeof(real), "vm2");
	path_in(link, sizeof(link), "vm1");
	CHECK(mkdir(real, 0755) == 0);
	snprintf(p, sizeof(p), "%s/qmp.sock", real);
	l = listen_at(p);
	CHECK(symlink(real, link) == 0);
	snprintf(p, sizeof(p), "%s/qmp.sock", link);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, link) && strstr(reason, "in the socket's path is a symlink"));
}

static void test_hard_link_to_a_socket_is_refused(void)
{
	char p[256], other[256];
	_cleanup_close_ int l = -1;

	path_in(other, sizeof(other), "other-vm2.sock");
	path_in(p, sizeof(p), "linked.sock");
	l = listen_at(other);
	CHECK(link(other, p) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "has 2 names (hard links)"));
}

/* Whoever may write any directory on the way may swap what follows it. */
static void test_ancestor_writable_by_others_is_refused_unless_sticky(void)
{
	char w[256], sub[300], p[350];
	_cleanup_close_ int l = -1;

	path_in(w, sizeof(w), "shared");
	snprintf(sub, sizeof(sub), "%s/vm", w);
	snprintf(p, sizeof(p), "%s/qmp.sock", sub);
	CHECK(mkdir(w, 0755) == 0 && mkdir(sub, 0755) == 0);
	l = listen_at(p);
	CHECK(chmod(w, 0777) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "directory ") && strstr(reason, w) && strstr(reason, "writable by others"));
	CHECK(!strstr(reason, "its directory"));
	/* Sticky, as /tmp: only root (sub's owner) may move sub. */
	CHECK(chmod(w, 01777) == 0);
	CHECK(sockcheck_path(p, SOCKCHECK_NO_USER, reason, sizeof(reason)) == 0);
}

/* Renamed after the check, the path leads elsewhere: the descriptor does not. */
static void test_connect_through_descriptor_reaches_the_checked_socket(void)
{
	char d[256], moved[256], p[300], via[64];
	_cleanup_close_ int l1 = -1, l2 = -1, pfd = -1, c = -1, a = -1;

	path_in(d, sizeof(d), "swap");
	path_in(moved, sizeof(moved), "swap-moved");
	snprintf(p, sizeof(p), "%s/qmp.sock", d);
	CHECK(mkdir(d, 0755) == 0);
	l1 = listen_at(p);
	CHECK(sockcheck_open(p, SOCKCHECK_NO_USER, &pfd, reason, sizeof(reason)) == 0 && pfd >= 0);
	CHECK(rename(d, moved) == 0 && mkdir(d, 0755) == 0);
	l2 = listen_at(p);
	sockcheck_via(pfd, via, sizeof(via));
	c = connect_to(via);
	a = accept4(l1, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	CHECK(a >= 0);
	CHECK(fcntl(l2, F_SETFL, O_NONBLOCK) == 0);
	CHECK(accept4(l2, NULL, NULL, SOCK_CLOEXEC) < 0 && errno == EAGAIN);
}

/* A listener that really runs as UID: SO_PEERCRED reports the listener's credentials. */
static void test_peer_of_another_user_is_refused(void)
{
	char sub[256], p[300];
	int ready[2], c;
	pid_t pid;
	char b;

	path_in(sub, sizeof(sub), "peer");
	CHECK(mkdir(sub, 0755) == 0 && chown(sub, OTHER, OTHER) == 0);
	snprintf(p, sizeof(p), "%s/vm.sock", sub);
	if (pipe(ready) < 0)
		abort();
	pid = fork();
	if (pid == 0) {
		if (setgid(OTHER) < 0 || setuid(OTHER) < 0)
			_exit(1);
		listen_at(p);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	CHECK(read(ready[0], &b, 1) == 1);
	close(ready[0]);
	c = connect_to(p);
	CHECK(sockcheck_peer(c, VMUSER, reason, sizeof(reason)) == 1);
	CHECK(strstr(reason, "runs as uid 4242"));
	CHECK(sockcheck_peer(c, OTHER, reason, sizeof(reason)) == 0);
	close(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	char cmd[300];

	if (!mkdtemp(dir))
		abort();
	test_own_socket_is_trusted();
	test_symlink_to_a_socket_is_refused();
	test_not_a_socket_is_refused();
	test_directory_writable_by_others_is_refused();
	test_symlinked_directory_is_refused();
	test_hard_link_to_a_socket_is_refused();
	test_ancestor_writable_by_others_is_refused_unless_sticky();
	test_connect_through_descriptor_reaches_the_checked_socket();
	if (geteuid() == 0) {
		test_socket_of_another_user_is_refused();
		test_directory_of_another_user_is_refused();
		test_peer_of_another_user_is_refused();
	} else {
		fprintf(stderr, "skip: the other-user checks need root\n");
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CHECK(!"cleanup");
	return check_result();
}
