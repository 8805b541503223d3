/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplug-statd: drains the intent queue the helper fills, into the VMs.
 * One thread, one epoll: the wake socket, signals, inotify on the VMs'
 * socket directories, and a timer armed only while something is due
 * (a retry or a QMP deadline). Idle, it sleeps in epoll_wait.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "backlog.h"
#include "config.h"
#include "db.h"
#include "device.h"
#include "intake.h"
#include "log.h"
#include "macro.h"
#include "match.h"
#include "paths.h"
#include "qmp.h"
#include "source.h"
#include "vmm.h"

/* statd may wait this long for the helper's short transactions. */
#define STATD_BUSY_MS 250

/* After a VM socket appears, drain again at 10, 20, ... 640 ms while it refuses. */
#define REDRAIN_FIRST_MS 10
#define REDRAIN_LAST_MS 640

struct statd {
	struct paths paths;
	struct config *cfg;
	struct db *db;
	struct vmm *vmm;
	struct backlog *backlog;
	int epfd;
	int sigfd, wakefd, timerfd, inofd;
	struct source sig_src, wake_src, timer_src, ino_src;
	bool stopping;
	bool attach_connected;
	int64_t redrain_ms;	/* next drain after a socket appeared, or -1 */
	int redrain_delay;
};

/* systemd's readiness protocol is one datagram: no need for libsystemd. */
static void sd_notify_msg(const char *msg)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	_cleanup_close_ int fd = -1;
	size_t len;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0)
		sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		       offsetof(struct sockaddr_un, sun_path) + len);
}

static int watch(struct statd *s, int fd, struct source *src)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = src };

	return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

static void arm_timer(struct statd *s)
{
	struct itimerspec its = {};
	int64_t due = vmm_next_deadline(s->vmm);

	if (s->redrain_ms >= 0 && (due < 0 || s->redrain_ms < due))
		due = s->redrain_ms;
	if (due >= 0) {
		/* 0 would disarm: a deadline already past fires in 1 ns. */
		its.it_value.tv_sec = due / 1000;
		its.it_value.tv_nsec = (due % 1000) * 1000000 ?: 1;
	}
	timerfd_settime(s->timerfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* ---- inotify: a VM's QMP socket appearing means the VM (re)started ---- */

static void watch_vm_sockets(struct statd *s)
{
	if (s->inofd >= 0) {
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->inofd, NULL);
		close(s->inofd);
	}
	s->inofd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (s->inofd < 0)
		return;
	for (size_t i = 0; i < s->cfg->n_vms; i++) {
		_cleanup_free_ char *dir = strdup(s->cfg->vms[i].socket);

		if (dir && inotify_add_watch(s->inofd, dirname(dir), IN_CREATE | IN_MOVED_TO) < 0)
			log_debug("cannot watch %s: %m", dir);
	}
	watch(s, s->inofd, &s->ino_src);
}

static const char *file_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* The last round is a plain drain: a socket still refusing is noted as such. */
static void drain_appeared(struct statd *s)
{
	s->redrain_ms = -1;
	if (s->redrain_delay > REDRAIN_LAST_MS) {
		vmm_drain(s->vmm);
		return;
	}
	if (vmm_drain_appeared(s->vmm)) {
		s->redrain_ms = qmp_now_ms() + s->redrain_delay;
		s->redrain_delay *= 2;
	}
}

static void on_inotify(struct source *src, uint32_t events)
{
	struct statd *s = container_of(src, struct statd, ino_src);
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool socket_appeared = false;
	ssize_t n;

	while ((n = read(s->inofd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			for (size_t i = 0; ev->len && i < s->cfg->n_vms; i++)
				if (streq(file_name(s->cfg->vms[i].socket), ev->name)) {
					log_info("QMP socket of %s appeared", s->cfg->vms[i].name);
					socket_appeared = true;
				}
			p += sizeof(*ev) + ev->len;
		}
	}
	if (socket_appeared) {
		s->redrain_delay = REDRAIN_FIRST_MS;
		drain_appeared(s);
	}
}

/* ---- wake socket: the helper and vhotplugctl say there is work ---- */

static int open_wake_socket(struct statd *s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int r;

	r = paths_wake_socket(&s->paths, sa.sun_path, sizeof(sa.sun_path));
	if (r < 0)
		return log_err("%s: run directory path too long", s->paths.rundir), r;
	s->wakefd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->wakefd < 0)
		return -errno;
	unlink(sa.sun_path);	/* left over from a statd that did not exit cleanly */
	if (bind(s->wakefd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		log_err("%s: %s", sa.sun_path, strerror(-r));
		return r;
	}
	chmod(sa.sun_path, 0600);	/* root's alone, even in a run dir opened up by hand */
	return watch(s, s->wakefd, &s->wake_src);
}

static void on_wake(struct source *src, uint32_t events)
{
	struct statd *s = container_of(src, struct statd, wake_src);
	char buf[256];

	/* Any number of pokes is one drain. */
	while (recv(s->wakefd, buf, sizeof(buf), 0) >= 0)
		;
	backlog_run(s->backlog, s->cfg);
	vmm_drain(s->vmm);
}

static void on_timer(struct source *src, uint32_t events)
{
	struct statd *s = container_of(src, struct statd, timer_src);
	uint64_t expirations;

	if (read(s->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_debug("timerfd: %m");
	if (s->redrain_ms >= 0 && qmp_now_ms() >= s->redrain_ms)
		drain_appeared(s);
	vmm_timer(s->vmm, qmp_now_ms());
}

/* ---- signals ---- */

static void reload(struct statd *s)
{
	struct config *cfg;

	if (paths_config_check(s->paths.config, stderr) < 0 ||
	    config_load(s->paths.config, &cfg, stderr) < 0) {
		log_err("%s: invalid, keeping the configuration in use", s->paths.config);
		return;
	}
	vmm_set_config(s->vmm, cfg);
	config_free(s->cfg);
	s->cfg = cfg;
	watch_vm_sockets(s);
	log_info("%s: reloaded", s->paths.config);
	backlog_reload(s->backlog, s->cfg);
	vmm_drain(s->vmm);
}

static void on_signal(struct source *src, uint32_t events)
{
	struct statd *s = container_of(src, struct statd, sig_src);
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(s);
		} else {
			log_info("%s: finishing the current step, then exiting",
				 strsignal((int)si.ssi_signo));
			s->stopping = true;
		}
	}
}

static int open_signals(struct statd *s)
{
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN);
	s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return s->sigfd < 0 ? -errno : watch(s, s->sigfd, &s->sig_src);
}

/* ---- --attach-connected ---- */

static void scan_one(struct statd *s, struct udev *udev, const char *syspath)
{
	struct udev_device *ud = udev_device_new_from_syspath(udev, syspath);
	struct device *dev = NULL;
	struct match_result m;

	if (ud && device_from_udev(ud, &dev) == 0 && match_device(s->cfg, dev, &m, NULL) &&
	    intake_add(s->db, s->cfg, NULL, dev, "present") < 0)
		log_err("%s: not recorded", syspath);
	device_free(dev);
	udev_device_unref(ud);
}

/* Like upstream's -a: queue whatever a rule takes among the devices already there. */
static int attach_connected(struct statd *s)
{
	static const char *const subsystems[] = { "usb", "pci", "input" };
	struct udev *udev = udev_new();
	int r = udev ? db_begin(s->db) : -ENOMEM;

	for (size_t i = 0; r == 0 && i < ARRAY_SIZE(subsystems); i++) {
		struct udev_enumerate *e = udev_enumerate_new(udev);
		struct udev_list_entry *entry;

		udev_enumerate_add_match_subsystem(e, subsystems[i]);
		udev_enumerate_scan_devices(e);
		udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e))
			scan_one(s, udev, udev_list_entry_get_name(entry));
		udev_enumerate_unref(e);
	}
	if (r == 0)
		r = db_commit(s->db);
	udev_unref(udev);
	return r;
}

/* ---- main ---- */

static int setup(struct statd *s)
{
	_cleanup_free_ char *dbdir = strdup(s->paths.db);
	int r;

	if (paths_config_check(s->paths.config, stderr) < 0 ||
	    config_load(s->paths.config, &s->cfg, stderr) < 0)
		return -EINVAL;
	if (dbdir && mkdir(dirname(dbdir), 0700) < 0 && errno != EEXIST)
		log_warn("%s: %m", dbdir);
	r = db_open(s->paths.db, STATD_BUSY_MS, DB_RELAXED, &s->db);
	if (r < 0)
		return r;
	paths_db_private(s->paths.db);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epfd < 0 || s->timerfd < 0)
		return -errno;
	r = open_signals(s);
	if (r == 0)
		r = backlog_new(s->epfd, s->db, &s->paths, &s->backlog);
	if (r == 0)
		r = open_wake_socket(s);
	if (r == 0)
		r = watch(s, s->timerfd, &s->timer_src);
	if (r == 0)
		r = vmm_new(s->epfd, s->db, s->cfg, &s->vmm);
	if (r < 0)
		return r;
	watch_vm_sockets(s);
	if (s->attach_connected && attach_connected(s) < 0)
		log_err("could not queue the devices already connected");
	return 0;
}

static int run(struct statd *s)
{
	struct epoll_event events[16];

	/* Intents written, or spooled, while statd was down. */
	backlog_run(s->backlog, s->cfg);
	vmm_drain(s->vmm);
	sd_notify_msg("READY=1");
	log_info("ready: config %s, database %s", s->paths.config, s->paths.db);
	for (;;) {
		int n;

		arm_timer(s);
		if (s->stopping && vmm_quiesce(s->vmm))
			break;
		n = epoll_wait(s->epfd, events, ARRAY_SIZE(events), -1);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct source *src = events[i].data.ptr;

			src->dispatch(src, events[i].events);
		}
	}
	sd_notify_msg("STOPPING=1");
	return 0;
}

static void teardown(struct statd *s)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fds[] = { s->sigfd, s->wakefd, s->timerfd, s->inofd, s->epfd };

	vmm_free(s->vmm);
	backlog_free(s->backlog);
	if (s->wakefd >= 0 && paths_wake_socket(&s->paths, path, sizeof(path)) == 0)
		unlink(path);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	db_close(s->db);
	config_free(s->cfg);
}

static int check_config(const char *file)
{
	struct config *cfg;

	if (config_load(file, &cfg, stderr) < 0)
		return 1;
	config_free(cfg);
	printf("%s: ok\n", file);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: vhotplug-statd [-c CONFIG] [--db FILE] [--run-dir DIR] [-a] [-d]\n"
		   "       vhotplug-statd --check-config [-c CONFIG]\n\n"
		   "  -c, --config FILE       rules and VMs (default " VHOTPLUG_CONFIG ")\n"
		   "      --db FILE           database (default " VHOTPLUG_DB ")\n"
		   "      --run-dir DIR       wake socket directory (default " VHOTPLUG_RUNDIR ")\n"
		   "  -a, --attach-connected  at start, queue devices already plugged in\n"
		   "  -d, --debug             log debug messages\n"
		   "      --check-config      validate the config and exit\n"
		   "      --version           print the version and exit\n");
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct statd *s, bool *check)
{
	static const struct option opts[] = {
		{ "attach-connected", no_argument, NULL, 'a' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		PATHS_OPTIONS,
		{}
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "c:adh", opts, NULL)) != -1) {
		r = paths_option(&s->paths, c, optarg);
		if (r > 0)
			continue;
		if (r < 0)
			return 0;
		switch (c) {
		case 'a':
			s->attach_connected = true;
			break;
		case 'C':
			*check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument \"%s\"", argv[optind]);
		return 2;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct statd s = { .epfd = -1, .sigfd = -1, .wakefd = -1, .timerfd = -1, .inofd = -1,
			   .redrain_ms = -1,
			   .sig_src.dispatch = on_signal, .wake_src.dispatch = on_wake,
			   .timer_src.dispatch = on_timer, .ino_src.dispatch = on_inotify };
	bool check = false;
	int r;

	/* Database, run directory and socket: root's alone, whatever the umask inherited. */
	umask(077);
	log_open("vhotplug-statd", LOG_TARGET_STDERR);
	paths_init(&s.paths);
	r = parse_args(argc, argv, &s, &check);
	if (r >= 0)
		return r;
	if (check) {
		log_open("vhotplug-statd", LOG_TARGET_PLAIN);
		return check_config(s.paths.config);
	}
	r = setup(&s);
	if (r == 0)
		r = run(&s);
	if (r < 0 && r != -EINVAL)
		log_err("exiting: %s", strerror(-r));
	teardown(&s);
	return r < 0 ? 1 : 0;
}
