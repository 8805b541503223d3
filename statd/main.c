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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>

#include "api-server.h"
#include "clock.h"
#include "backlog.h"
#include "authorize.h"
#include "config.h"
#include "connected.h"
#include "datagram.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "macro.h"
#include "paths.h"
#include "qmp.h"
#include "loop.h"
#include "timer.h"
#include "vmm.h"
#include "watch.h"

/* statd may wait this long for the helper's short transactions. */
#define STATD_BUSY_MS 250
/*
 * A wait in the writers' queue (DB.lock) holds up the whole loop: helpers
 * each hold it for one short transaction, and at most one of them is ahead
 * of statd. Past this, the write is redone later (a rescan).
 */
#define STATD_LOCK_MS 10
/* SIGTERM: a command in flight gets this long to finish; it is redone at the next start. */
#define STOP_GRACE_MS 500

struct statd {
	struct paths paths;
	struct config *cfg;
	struct db *db;
	struct vmm *vmm;
	struct loop *loop;
	struct vmwatch *watch;
	struct backlog *backlog;
	struct api_server *api;
	int sigfd, wakefd, timerfd, lockfd, dblockfd;
	struct source sig_src, wake_src, timer_src;
	bool stopping;
	int64_t stop_ms;	/* stopping: exit by then, whatever is in flight */
	bool attach_connected;
};

static int watch(struct statd *s, int fd, struct source *src)
{
	return loop_add(s->loop, fd, EPOLLIN, src);
}

static void arm_timer(struct statd *s)
{
	int64_t due = vmm_next_deadline(s->vmm);

	if (s->stopping && (due < 0 || s->stop_ms < due))
		due = s->stop_ms;
	timer_arm(s->timerfd, due, true);	/* a failure is logged; the next batch arms it again */
}

/* A VM's QMP socket appearing means the VM (re)started. */
static void on_appeared(void *userdata, const char *vm_name, bool appeared)
{
	struct statd *s = userdata;

	if (appeared)
		vmm_vm_appeared(s->vmm, vm_name);
	else
		vmm_vm_gone(s->vmm, vm_name);
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
	vmm_poke(s->vmm);
}

/* After each batch of events: the scheduler does what the handlers noted. */
static void on_post(void *userdata)
{
	struct statd *s = userdata;

	vmm_dispatch(s->vmm);
	api_server_post(s->api);
	/* What the last burst allocated may go back, at once when nothing is due. */
	daemon_memory_idle(clock_now_ms(), vmm_next_deadline(s->vmm) < 0);
}

static void on_timer(struct source *src, uint32_t events)
{
	struct statd *s = container_of(src, struct statd, timer_src);
	uint64_t expirations;

	if (read(s->timerfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		log_debug("timerfd: %m");
	vmm_timer(s->vmm, clock_now_ms());
}

/* ---- signals ---- */

/* The config's errors, one message: each of its lines keeps the error's priority in the journal. */
static int load_config(const char *file, struct config **cfg)
{
	_cleanup_free_ char *errs = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&errs, &len);
	int r = config_load(file, cfg, f ?: stderr);

	if (f)
		fclose(f);
	if (errs && len)
		log_err("%.*s", (int)(len - (errs[len - 1] == '\n')), errs);
	return r;
}

static void reload(struct statd *s)
{
	struct config *cfg;

	if (load_config(s->paths.config, &cfg) < 0) {
		log_err("%s: invalid, keeping the configuration in use", s->paths.config);
		return;
	}
	vmm_set_config(s->vmm, cfg);
	api_server_set_config(s->api, cfg);
	statd_usbauth_apply(s->db, s->cfg, cfg);
	config_free(s->cfg);
	s->cfg = cfg;
	vmwatch_set_config(s->watch, cfg);
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
			if (!s->stopping)
				s->stop_ms = clock_now_ms() + STOP_GRACE_MS;
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

/* ---- main ---- */

static int setup(struct statd *s)
{
	_cleanup_free_ char *dbdir = strdup(s->paths.db);
	int r;

	if (load_config(s->paths.config, &s->cfg) < 0) {
		daemon_fail_status("%s: invalid configuration", s->paths.config);
		return -EINVAL;
	}
	/* One statd per run directory: the lock comes before anything else is touched. */
	if (mkdir(s->paths.rundir, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		daemon_fail_status("%s: %s", s->paths.rundir, strerror(-r));
		return r;
	}
	r = daemon_lock(s->paths.rundir, "/statd.lock", &s->lockfd);
	if (r < 0)
		return -EINVAL;	/* said */
	if (dbdir && mkdir(dirname(dbdir), 0700) < 0 && errno != EEXIST)
		log_warn("%s: %m", dbdir);
	/*
	 * And one statd per database, whatever its run directory: a second one
	 * would take over the claims of the first, in flight (a device_add
	 * twice, a PCI function bound to vfio-pci twice).
	 */
	r = daemon_lock(s->paths.db, ".lock", &s->dblockfd);
	if (r < 0)
		return -EINVAL;	/* said */
	r = db_open(s->paths.db, STATD_BUSY_MS, DB_RELAXED, &s->db);
	if (r == 0)
		r = db_check_writable(s->db);
	if (r == 0)
		db_set_lock_wait(s->db, STATD_LOCK_MS);
	if (r < 0) {
		/* Attaching devices it cannot record would leave no trace of them. */
		daemon_fail_status("%s: database not usable for writing (%s), refusing to run",
				   s->paths.db, strerror(-r));
		return -EINVAL;
	}
	r = loop_new(&s->loop);
	if (r < 0)
		return r;
	paths_db_private(s->paths.db);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->timerfd < 0)
		return -errno;
	r = open_signals(s);
	if (r == 0)
		r = backlog_new(s->loop, s->db, &s->paths, &s->backlog);
	if (r == 0)
		r = open_wake_socket(s);
	if (r == 0)
		r = watch(s, s->timerfd, &s->timer_src);
	if (r == 0)
		r = vmm_new(s->loop, s->db, s->cfg, &s->vmm);
	if (r == 0)
		r = vmwatch_new(s->loop, on_appeared, s, &s->watch);
	if (r == 0)
		r = api_server_new(s->loop, &s->paths, s->cfg, s->db, s->vmm, &s->api);
	if (r < 0)
		return r;
	loop_set_post(s->loop, on_post, s);
	vmwatch_set_config(s->watch, s->cfg);
	statd_usbauth_apply(s->db, NULL, s->cfg);
	if (s->attach_connected && statd_attach_connected(s->cfg, s->db) < 0)
		log_err("could not queue the devices already connected");
	return 0;
}

static int run(struct statd *s)
{
	/* Intents written, or spooled, while statd was down. */
	backlog_run(s->backlog, s->cfg);
	/* After them, in each VM's queue: whatever happened meanwhile, set right. */
	vmm_reconcile_all(s->vmm, "statd started");
	vmm_drain(s->vmm);
	vmm_dispatch(s->vmm);
	daemon_notify("READY=1");
	log_info("ready: config %s, database %s", s->paths.config, s->paths.db);
	for (;;) {
		int r;

		/* Retention: at start, then at most hourly (it keeps its own clock). */
		db_retention(s->db, s->cfg->history_days, clock_now_ms());
		arm_timer(s);
		if (s->stopping && vmm_quiesce(s->vmm))
			break;
		if (s->stopping && clock_now_ms() >= s->stop_ms) {
			log_notice("exiting with a command in flight: it is redone at the next start");
			break;
		}
		r = loop_dispatch(s->loop, -1);
		if (r < 0)
			return r;
	}
	daemon_notify("STOPPING=1");
	return 0;
}

static void teardown(struct statd *s)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fds[] = { s->sigfd, s->wakefd, s->timerfd, s->lockfd };

	api_server_free(s->api);
	vmwatch_free(s->watch);
	vmm_free(s->vmm);
	backlog_free(s->backlog);
	if (s->wakefd >= 0 && paths_wake_socket(&s->paths, path, sizeof(path)) == 0)
		unlink(path);
	for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	loop_free(s->loop);
	db_close(s->db);
	/* After the database's last checkpoint: the next statd may come. */
	if (s->dblockfd >= 0)
		close(s->dblockfd);
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
	struct statd s = { .sigfd = -1, .wakefd = -1, .timerfd = -1, .lockfd = -1, .dblockfd = -1,
			   .sig_src.dispatch = on_signal, .wake_src.dispatch = on_wake,
			   .timer_src.dispatch = on_timer };
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
	daemon_memory_setup();
	r = setup(&s);
	if (r == 0)
		r = run(&s);
	if (r < 0 && r != -EINVAL)
		log_err("exiting: %s", strerror(-r));
	teardown(&s);
	return r < 0 ? 1 : 0;
}
