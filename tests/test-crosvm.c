/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statd/crosvm-run: the parser of what crosvm prints, and the runner against
 * tests/fake-crosvm with a real listening SOCK_SEQPACKET socket, driven by a
 * small epoll loop as statd's would (pipes and pidfd as sources, a timerfd
 * for the deadline).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "crosvm-run.h"
#include "macro.h"

static struct crosvm_result r;

static void test_parse_ok(void)
{
	CHECK(crosvm_parse("ok 3\n", &r) == 0);
	CHECK(r.status == CROSVM_OK && r.port == 3);
	CHECK(crosvm_parse("ok 255", &r) == 0 && r.port == 255);
	CHECK(crosvm_parse("ok 256\n", &r) == -EBADMSG && r.status == CROSVM_ERROR);
	CHECK(crosvm_parse("ok\n", &r) == -EBADMSG);
	CHECK(crosvm_parse("ok 1 2\n", &r) == -EBADMSG);
	CHECK(crosvm_parse("ok x\n", &r) == -EBADMSG);
}

static void test_parse_words(void)
{
	static const struct {
		const char *line;
		enum crosvm_status s;
	} words[] = {
		{ "no_available_port\n", CROSVM_NO_AVAILABLE_PORT },
		{ "no_such_device\n", CROSVM_NO_SUCH_DEVICE },
		{ "no_such_port\n", CROSVM_NO_SUCH_PORT },
		{ "failed_to_open_device\n", CROSVM_FAILED_TO_OPEN_DEVICE },
		{ "failed_to_init_host_device\n", CROSVM_FAILED_TO_INIT_HOST_DEVICE },
	};

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		CHECK(crosvm_parse(words[i].line, &r) == 0);
		CHECK(r.status == words[i].s);
		CHECK(strncmp(crosvm_status_name(r.status), words[i].line,
			      strlen(words[i].line) - 1) == 0);
	}
	CHECK(crosvm_parse("no_available_ports\n", &r) == -EBADMSG);
}

static void test_parse_devices(void)
{
	CHECK(crosvm_parse("devices 1 046d c52b 4 1D6B 0002\n", &r) == 0);
	CHECK(r.status == CROSVM_DEVICES && r.n_devices == 2);
	CHECK(r.devices[0].port == 1 && r.devices[0].vendor_id == 0x046d &&
	      r.devices[0].product_id == 0xc52b);
	CHECK(r.devices[1].port == 4 && r.devices[1].vendor_id == 0x1d6b);
	CHECK(crosvm_find_port(&r, 0x1d6b, 0x0002) == 4);
	CHECK(crosvm_find_port(&r, 0x1d6b, 0x0003) == -ENOENT);
	CHECK(crosvm_parse("devices\n", &r) == 0 && r.n_devices == 0);
	CHECK(crosvm_parse("devices 1 46d c52b\n", &r) == -EBADMSG && r.n_devices == 0);
	CHECK(crosvm_parse("devices 1 046d\n", &r) == -EBADMSG);
	CHECK(crosvm_parse("devices 1 046d c52bb\n", &r) == -EBADMSG);
	CHECK(crosvm_parse("devicesx\n", &r) == -EBADMSG);
	CHECK(crosvm_find_port(&r, 0x046d, 0xc52b) == -ENOENT);
}

static void test_parse_anything_else(void)
{
	CHECK(crosvm_parse("error socket failed\n", &r) == -EBADMSG);
	CHECK(r.status == CROSVM_ERROR && streq(r.text, "error socket failed"));
	CHECK(crosvm_parse("", &r) == -EBADMSG && streq(r.text, "no output"));
	CHECK(crosvm_parse(NULL, &r) == -EBADMSG);
	CHECK(crosvm_parse("\n\nok 2\n", &r) == 0 && r.port == 2);
	CHECK(crosvm_parse("weird\x1b[31m text\n", &r) == -EBADMSG);
	CHECK(streq(r.text, "weird\\x1b[31m text"));
	/* C1 controls, bidi overrides, ill-formed bytes: escaped as device strings are. */
	CHECK(crosvm_parse("x\xc2\x9b" "2J \xe2\x80\xae" "y \xff z\r\n", &r) == -EBADMSG);
	CHECK(streq(r.text, "x\\xc2\\x9b" "2J \\xe2\\x80\\xae" "y \\xff z"));
	CHECK(streq(crosvm_status_name(CROSVM_ERROR), "error"));
}

/* ---- the runner ---------------------------------------------------------- */

static char dir[] = "/tmp/test-crosvm-XXXXXX";
static char sock[100], state[128], fake[512], devnode[128];

static int listen_seqpacket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0)
		abort();
	return fd;
}

static void script(const char *lines)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/script", state);
	f = fopen(p, "w");
	if (!f || fputs(lines, f) < 0 || fclose(f) != 0)
		abort();
}

/* Run C to the end as statd would: epoll on stdout, stderr and the pidfd,
 * a timerfd for the deadline. Returns how many times the deadline fired. */
static int run_loop(struct crosvm_child *c, int deadline_ms)
{
	_cleanup_close_ int ep = epoll_create1(EPOLL_CLOEXEC);
	_cleanup_close_ int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	struct itimerspec its = { .it_value = { deadline_ms / 1000, (deadline_ms % 1000) * 1000000L } };
	struct epoll_event ev = { .events = EPOLLIN };
	int fired = 0;

	CHECK(c->pidfd >= 0);
	timerfd_settime(tfd, 0, &its, NULL);
	int fds[] = { c->out_fd, c->err_fd, c->pidfd, tfd };
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++) {
		ev.data.fd = fds[i];
		epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
	}
	while (!crosvm_child_done(c)) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, 60000);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == tfd) {
				uint64_t x;

				(void)!read(tfd, &x, sizeof(x));
				fired++;
				crosvm_child_kill(c);
			} else if (fd == c->out_fd || fd == c->err_fd) {
				crosvm_child_read(c, fd);	/* closes at EOF, leaving epoll too */
			} else if (fd == c->pidfd) {
				epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
				crosvm_child_reap(c);
			}
		}
	}
	return fired;
}

static void run(struct crosvm_child *c, int spawned, int deadline_ms)
{
	CHECK(spawned == 0);
	if (spawned == 0) {
		run_loop(c, deadline_ms);
		crosvm_child_result(c, &r);
	}
	crosvm_child_close(c);
}

static void test_attach_list_detach(void)
{
	struct crosvm_child c;

	run(&c, crosvm_spawn_attach(&c, fake, devnode, sock), 30000);
	CHECK(r.status == CROSVM_OK && r.port == 1);
	run(&c, crosvm_spawn_attach(&c, fake, devnode, sock), 30000);
	CHECK(r.status == CROSVM_OK && r.port == 2);
	run(&c, crosvm_spawn_list(&c, fake, sock), 30000);
	CHECK(r.status == CROSVM_DEVICES && r.n_devices == 2);
	CHECK(crosvm_find_port(&r, 0x046d, 0xc52b) == 1);
	run(&c, crosvm_spawn_detach(&c, fake, 1, sock), 30000);
	CHECK(r.status == CROSVM_OK && r.port == 1);
	run(&c, crosvm_spawn_detach(&c, fake, 1, sock), 30000);
	CHECK(r.status == CROSVM_NO_SUCH_PORT);
	run(&c, crosvm_spawn_detach(&c, fake, 2, sock), 30000);
	CHECK(r.status == CROSVM_OK);
}

static void test_scripted_words(void)
{
	struct crosvm_child c;

	script("no_available_port\nno_available_port\nfailed_to_init_host_device\n");
	run(&c, crosvm_spawn_attach(&c, fake, devnode, sock), 30000);
	CHECK(r.status == CROSVM_NO_AVAILABLE_PORT);
	run(&c, crosvm_spawn_attach(&c, fake, devnode, sock), 30000);
	CHECK(r.status == CROSVM_NO_AVAILABLE_PORT);
	run(&c, crosvm_spawn_attach(&c, fake, devnode, sock), 30000);
	CHECK(r.status == CROSVM_FAILED_TO_INIT_HOST_DEVICE);
	run(&c, crosvm_spawn_attach(&c, fake, devnode, sock), 30000);
	CHECK(r.status == CROSVM_OK);
	run(&c, crosvm_spawn_detach(&c, fake, r.port, sock), 30000);
}

static void test_failure_exit_carries_its_words(void)
{
	struct crosvm_child c;
	char p[256];

	script("exit 2 crosvm: the VM is shutting down\n");
	run(&c, crosvm_spawn_list(&c, fake, sock), 30000);
	CHECK(r.status == CROSVM_ERROR);
	CHECK(streq(r.text, "exit status 2: crosvm: the VM is shutting down"));

	/* No listener: crosvm's own "error socket failed", exit 1. */
	snprintf(p, sizeof(p), "%s/nobody.sock", dir);
	run(&c, crosvm_spawn_list(&c, fake, p), 30000);
	CHECK(r.status == CROSVM_ERROR && streq(r.text, "exit status 1: socket failed"));

	run(&c, crosvm_spawn_attach(&c, fake, "/nonexistent/bus/usb/001/002", sock), 30000);
	CHECK(r.status == CROSVM_ERROR);
	CHECK(strstr(r.text, "exit status 1: failed to open device /nonexistent/bus/usb/001/002"));
}

static void test_hang_is_killed_at_the_deadline(void)
{
	struct crosvm_child c;

	script("hang\n");
	CHECK(crosvm_spawn_attach(&c, fake, devnode, sock) == 0);
	CHECK(run_loop(&c, 1000) == 1);
	crosvm_child_result(&c, &r);
	CHECK(r.status == CROSVM_ERROR && streq(r.text, "killed at the deadline"));
	crosvm_child_close(&c);
}

static void test_spawn_errors(void)
{
	struct crosvm_child c;

	CHECK(crosvm_spawn_list(&c, "/nonexistent/crosvm", sock) == -ENOENT);
	CHECK(crosvm_spawn_list(&c, "no-such-crosvm-on-path", sock) == -ENOENT);
	CHECK(c.out_fd == -1 && c.err_fd == -1 && c.pidfd == -1);
	CHECK(crosvm_spawn_list(&c, fake, "relative.sock") == -EINVAL);
	CHECK(crosvm_spawn_attach(&c, fake, "-h", sock) == -EINVAL);
	CHECK(crosvm_spawn_detach(&c, fake, 256, sock) == -EINVAL);
}

/* The child starts with no blocked and no ignored signals, whatever ours are. */
static void test_child_signals_are_reset(void)
{
	struct crosvm_child c;
	char p[256];
	FILE *f;
	sigset_t block;
	const char *ign;

	snprintf(p, sizeof(p), "%s/show-signals", dir);
	f = fopen(p, "w");
	CHECK(f && fputs("#!/bin/sh\nexec grep -E '^Sig(Blk|Ign):' /proc/self/status\n", f) >= 0);
	CHECK(f && fclose(f) == 0);
	CHECK(chmod(p, 0755) == 0);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, NULL);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	CHECK(crosvm_spawn_list(&c, p, sock) == 0);
	run_loop(&c, 30000);
	CHECK(strstr(c.out, "SigBlk:\t0000000000000000"));
	/* Standard signals only: glibc's posix_spawn leaves its own internal
	 * signals (32, 33) ignored, and sigaddset cannot name them. */
	ign = strstr(c.out, "SigIgn:\t");
	CHECK(ign && (strtoull(ign + 8, NULL, 16) & 0x7fffffffULL) == 0);
	crosvm_child_close(&c);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
}

int main(void)
{
	const char *src = getenv("top_srcdir");
	_cleanup_close_ int l = -1;
	char cmd[300];
	FILE *f;

	test_parse_ok();
	test_parse_words();
	test_parse_devices();
	test_parse_anything_else();

	if (!mkdtemp(dir))
		abort();
	snprintf(fake, sizeof(fake), "%s/tests/fake-crosvm", src && *src ? src : ".");
	snprintf(sock, sizeof(sock), "%s/vm.sock", dir);
	snprintf(state, sizeof(state), "%s/state", dir);
	snprintf(devnode, sizeof(devnode), "%s/002", dir);
	setenv("FAKE_CROSVM_STATE", state, 1);
	/* A device descriptor, as /dev/bus/usb/BBB/DDD starts: 046d:c52b. */
	f = fopen(devnode, "w");
	CHECK(f && fwrite("\x12\x01\x00\x02\x00\x00\x00\x08\x6d\x04\x2b\xc5", 1, 12, f) == 12);
	CHECK(f && fclose(f) == 0);
	l = listen_seqpacket(sock);

	test_attach_list_detach();
	test_scripted_words();
	test_failure_exit_carries_its_words();
	test_hang_is_killed_at_the_deadline();
	test_spawn_errors();
	test_child_signals_are_reset();

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		CHECK(!"cleanup");
	return check_result();
}
