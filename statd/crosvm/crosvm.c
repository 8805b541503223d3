/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The crosvm backend: crosvm has no QMP, so each USB attach or detach is a
 * run of `crosvm usb ...` against the VM's control socket (crosvm-run.c).
 * The child's pipes and pidfd are loop sources and its deadline is on the
 * scheduler's timer, so a hung crosvm holds up only its own VM.
 *
 * crosvm names an attached device by the port it gave it: that port is the
 * attachment's key (vmm_job_set_key), so identical devices detach
 * independently, across statd restarts too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "clock.h"
#include "backend.h"
#include "crosvm-run.h"
#include "log.h"
#include "loop.h"
#include "macro.h"
#include "qmp.h"
#include "sockcheck.h"

/* Without a pidfd (kernels before 5.3) the exit is looked for this often. */
#define REAP_POLL_MS 50

enum step { STEP_ATTACH, STEP_DETACH, STEP_LIST };

/* One crosvm run; its source may outlive it for the rest of an epoll batch. */
struct crosvm_run {
	struct source src;
	struct vmm_backend *b;
	struct crosvm_child c;
	enum step step;
	int64_t deadline_ms;
};

struct vmm_backend {
	struct loop *loop;
	char *name;
	struct vmm_job *job;	/* in flight */
	struct crosvm_run *run;	/* its crosvm, while one runs */
	char *bin, *socket;	/* from the config the job started with */
	int sock_fd;	/* O_PATH: the socket job_begin checked, which crosvm connects through */
	char devnode[512];	/* the attach's device node */
	int timeout_ms;
};

static void finish(struct vmm_backend *b, enum vmm_outcome o, int err, const char *detail)
{
	struct vmm_job *j = b->job;

	b->job = NULL;
	if (b->sock_fd >= 0)
		close(b->sock_fd);
	b->sock_fd = -1;
	if (j)
		vmm_job_done(j, o, err, detail);
}

/* Stop watching the run's fds and let go of it (killed and reaped if still running). */
static void run_end(struct vmm_backend *b)
{
	struct crosvm_run *r = b->run;

	if (!r)
		return;
	b->run = NULL;
	if (r->c.out_fd >= 0)
		loop_del(b->loop, r->c.out_fd);
	if (r->c.err_fd >= 0)
		loop_del(b->loop, r->c.err_fd);
	if (r->c.pidfd >= 0)
		loop_del(b->loop, r->c.pidfd);
	crosvm_child_close(&r->c);
	loop_remove(b->loop, -1, &r->src);	/* released after the batch */
}

static void on_result(struct vmm_backend *b, enum step step, const struct crosvm_result *res);

static void dispatch(struct source *s, uint32_t events)
{
	struct crosvm_run *r = container_of(s, struct crosvm_run, src);
	struct vmm_backend *b = r->b;
	struct crosvm_result res;
	int fd;

	/* One source for all three fds: read whatever is ready. */
	if ((fd = r->c.out_fd) >= 0 && crosvm_child_read(&r->c, fd) != -EAGAIN)
		loop_del(b->loop, fd);	/* closed already: a no-op unless shared */
	if ((fd = r->c.err_fd) >= 0 && crosvm_child_read(&r->c, fd) != -EAGAIN)
		loop_del(b->loop, fd);
	fd = r->c.pidfd;
	if (!r->c.exited && crosvm_child_reap(&r->c) < 0) {
		/* Reaped elsewhere: nothing more will come; say so as an exit status. */
		r->c.exited = true;
		r->c.wstatus = 255 << 8;
	}
	if (r->c.exited && fd >= 0)
		loop_del(b->loop, fd);
	if (!crosvm_child_done(&r->c))
		return;
	crosvm_child_result(&r->c, &res);
	run_end(b);
	on_result(b, r->step, &res);
}

static void release_run(struct source *s)
{
	free(container_of(s, struct crosvm_run, src));
}

static int run_start(struct vmm_backend *b, enum step step, const char *devnode, unsigned int port)
{
	struct crosvm_run *r = calloc(1, sizeof(*r));
	char via[64];
	int e = 0;

	if (!r)
		return -ENOMEM;
	r->b = b;
	r->step = step;
	r->src.dispatch = dispatch;
	r->src.release = release_run;
	/*
	 * crosvm gets /proc/self/fd/N of the socket checked, N inherited: a path
	 * nobody can swap. Only for the spawn: statd runs no other thread.
	 */
	sockcheck_via(b->sock_fd, via, sizeof(via));
	if (fcntl(b->sock_fd, F_SETFD, 0) < 0)
		e = -errno;
	else if (step == STEP_ATTACH)
		e = crosvm_spawn_attach(&r->c, b->bin, devnode, via);
	else if (step == STEP_DETACH)
		e = crosvm_spawn_detach(&r->c, b->bin, port, via);
	else
		e = crosvm_spawn_list(&r->c, b->bin, via);
	fcntl(b->sock_fd, F_SETFD, FD_CLOEXEC);
	if (e < 0) {
		free(r);
		return e;
	}
	log_debug("%s: crosvm usb %s (pid %d)", b->name,
		  step == STEP_ATTACH ? "attach" : step == STEP_DETACH ? "detach" : "list", (int)r->c.pid);
	r->deadline_ms = clock_now_ms() + b->timeout_ms;
	b->run = r;
	if (loop_add(b->loop, r->c.out_fd, EPOLLIN, &r->src) < 0 ||
	    loop_add(b->loop, r->c.err_fd, EPOLLIN, &r->src) < 0 ||
	    (r->c.pidfd >= 0 && loop_add(b->loop, r->c.pidfd, EPOLLIN, &r->src) < 0)) {
		e = -errno;
		run_end(b);
		return e ? e : -EIO;
	}
	return 0;
}

/* Start a run for the job in flight; a failure to start ends the job. */
static void run_or_fail(struct vmm_backend *b, enum step step, const char *devnode,
			unsigned int port)
{
	char detail[512];
	int r = run_start(b, step, devnode, port);

	if (r == 0)
		return;
	snprintf(detail, sizeof(detail), "cannot run %s: %s", b->bin, strerror(-r));
	finish(b, r == -ENOMEM ? VMM_UNREACHABLE : VMM_REFUSED, r, detail);
}

/* A reconcile's list: the VM's ports are its devices' ids (the keys attaches record). */
static void inventory(struct vmm_backend *b, struct vmm_job *j, const struct crosvm_result *res)
{
	char ports[CROSVM_MAX_PORTS][16], ids_of[CROSVM_MAX_PORTS][16];
	const char *ids[CROSVM_MAX_PORTS], *models[CROSVM_MAX_PORTS];

	if (res->status != CROSVM_DEVICES) {
		finish(b, VMM_REFUSED, -EIO, res->text);
		return;
	}
	for (size_t i = 0; i < res->n_devices; i++) {
		snprintf(ports[i], sizeof(ports[i]), "%u", res->devices[i].port);
		snprintf(ids_of[i], sizeof(ids_of[i]), "%04x:%04x", res->devices[i].vendor_id,
			 res->devices[i].product_id);
		ids[i] = ports[i];
		models[i] = ids_of[i];
	}
	if (vmm_job_set_seen(j, ids, models, res->n_devices) < 0)
		finish(b, VMM_UNREACHABLE, -ENOMEM, "out of memory");
	else
		finish(b, VMM_OK, 0, NULL);
}

/*
 * A redone attach: crosvm may have the device from the first time (killed
 * at the deadline after it attached, or statd killed before it recorded the
 * port). Found by vid:pid, it is not attached twice.
 */
static void redo_attach(struct vmm_backend *b, struct vmm_job *j, const struct crosvm_result *res)
{
	char detail[64], key[16];
	int port = res->status == CROSVM_DEVICES ?
		   crosvm_find_port(res, (uint16_t)j->vendor_id, (uint16_t)j->product_id) : -EIO;

	if (port == -ENOENT) {
		run_or_fail(b, STEP_ATTACH, b->devnode, 0);
		return;
	}
	if (port < 0) {
		finish(b, VMM_REFUSED, -EIO, res->text);
		return;
	}
	snprintf(key, sizeof(key), "%d", port);
	if (vmm_job_set_key(j, key) < 0) {
		finish(b, VMM_UNREACHABLE, -ENOMEM, "out of memory");
		return;
	}
	snprintf(detail, sizeof(detail), "already attached (port %d)", port);
	finish(b, VMM_OK, 0, detail);
}

static void on_result(struct vmm_backend *b, enum step step, const struct crosvm_result *res)
{
	struct vmm_job *j = b->job;
	char detail[512], key[16];
	int port;

	if (!j)
		return;
	if (res->status == CROSVM_ERROR && streq(res->text, "killed at the deadline")) {
		snprintf(detail, sizeof(detail), "crosvm did not answer for %s within %d ms (killed)",
			 b->name, b->timeout_ms);
		finish(b, VMM_UNREACHABLE, -ETIMEDOUT, detail);
		return;
	}
	switch (step) {
	case STEP_ATTACH:
		if (res->status == CROSVM_OK) {
			snprintf(key, sizeof(key), "%u", res->port);
			if (vmm_job_set_key(j, key) < 0) {
				finish(b, VMM_UNREACHABLE, -ENOMEM, "out of memory");
				return;
			}
			snprintf(detail, sizeof(detail), "port %u", res->port);
			finish(b, VMM_OK, 0, detail);
		} else if (res->status == CROSVM_NO_AVAILABLE_PORT) {
			/* The guest's xHCI is not up yet; never make room by detaching others. */
			finish(b, VMM_NOT_YET, -EAGAIN, res->text);
		} else {
			finish(b, VMM_REFUSED, -EIO, res->text);
		}
		return;
	case STEP_LIST:
		if (j->reconcile) {
			inventory(b, j, res);
			return;
		}
		if (!j->detach) {
			redo_attach(b, j, res);
			return;
		}
		port = res->status == CROSVM_DEVICES ?
			crosvm_find_port(res, (uint16_t)j->vendor_id, (uint16_t)j->product_id) : -EIO;
		if (port >= 0)
			run_or_fail(b, STEP_DETACH, NULL, (unsigned int)port);
		else if (port == -ENOENT)
			finish(b, VMM_OK, 0, "already gone from the VM (not in crosvm's list)");
		else
			finish(b, VMM_REFUSED, -EIO, res->text);
		return;
	case STEP_DETACH:
		if (res->status == CROSVM_OK)
			finish(b, VMM_OK, 0, NULL);
		else if (res->status == CROSVM_NO_SUCH_PORT)
			/* crosvm lets go of a device that left the host by itself. */
			finish(b, VMM_OK, 0, "already gone from the VM (no_such_port)");
		else
			finish(b, VMM_REFUSED, -EIO, res->text);
		return;
	}
}

/*
 * Take the job and the settings for its runs; check the socket as for QEMU:
 * crosvm would connect to whatever the path leads to. False: J is done.
 */
static bool job_begin(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
		      struct vmm_job *j)
{
	char reason[512], detail[700];
	int r;

	b->job = j;
	free(b->bin);
	free(b->socket);
	b->bin = strdup(cfg->crosvm ?: "crosvm");
	b->socket = strdup(vm->socket);
	b->timeout_ms = cfg->qmp_timeout_ms;
	if (!b->bin || !b->socket) {
		finish(b, VMM_UNREACHABLE, -ENOMEM, "out of memory");
		return false;
	}
	if (b->sock_fd >= 0)
		close(b->sock_fd);
	r = sockcheck_open(vm->socket, vm->uid, &b->sock_fd, reason, sizeof(reason));
	if (r == 1) {
		snprintf(detail, sizeof(detail), "refused to talk to %s: %s", b->name, reason);
		finish(b, VMM_REFUSED, -EPERM, detail);
	} else if (r < 0) {
		snprintf(detail, sizeof(detail), "VM %s is not running (%s: %s)", b->name, vm->socket,
			 strerror(-r));
		finish(b, VMM_UNREACHABLE, r, detail);
	}
	return r == 0;
}

static void crosvm_attach(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			  struct vmm_job *j)
{
	char *devnode = b->devnode;
	size_t size = sizeof(b->devnode);
	const char *root;

	if (!job_begin(b, cfg, vm, j))
		return;
	if (j->busnum <= 0 || j->devnum <= 0 || j->busnum > 999 || j->devnum > 999) {
		finish(b, VMM_REFUSED, -EINVAL, "no USB bus and device number to give crosvm");
		return;
	}
	/*
	 * crosvm opens the node itself: the path, not a descriptor, goes on its
	 * command line. VHOTPLUG_DEV_ROOT stands for /dev in tests, as for vfio.
	 */
	root = getenv("VHOTPLUG_DEV_ROOT");
	if ((size_t)snprintf(devnode, size, "%s/bus/usb/%03d/%03d",
			     root && *root ? root : "/dev", j->busnum, j->devnum) >= size) {
		finish(b, VMM_REFUSED, -ENAMETOOLONG, "device node path too long");
		return;
	}
	if (vmm_job_attempt(j) < 0)
		finish(b, VMM_UNREACHABLE, -EAGAIN, "not recorded");
	else if (j->redo)
		run_or_fail(b, STEP_LIST, NULL, 0);	/* then attach, unless it is there */
	else
		run_or_fail(b, STEP_ATTACH, devnode, 0);
}

/* The port recorded at attach, or -1: none (an attachment another statd recorded). */
static int recorded_port(const char *key)
{
	char *end;
	long v;

	if (!key || !*key || *key < '0' || *key > '9')
		return -1;
	v = strtol(key, &end, 10);
	return *end || v < 0 || v > 255 ? -1 : (int)v;
}

static void crosvm_detach(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			  struct vmm_job *j)
{
	int port = recorded_port(j->qdev_id);

	if (!job_begin(b, cfg, vm, j))
		return;
	if (vmm_job_attempt(j) < 0)
		finish(b, VMM_UNREACHABLE, -EAGAIN, "not recorded");
	else if (port >= 0)
		run_or_fail(b, STEP_DETACH, NULL, (unsigned int)port);
	else
		/* Matched by vid:pid: of identical devices, crosvm's first goes. */
		run_or_fail(b, STEP_LIST, NULL, 0);
}

static void crosvm_list(struct vmm_backend *b, const struct config *cfg, const struct vm *vm,
			struct vmm_job *j)
{
	if (job_begin(b, cfg, vm, j))
		run_or_fail(b, STEP_LIST, NULL, 0);
}

/* ---- the ops ---- */

static int crosvm_new(struct loop *loop, const char *vm_name, struct vmm_backend **out)
{
	struct vmm_backend *b = calloc(1, sizeof(*b));

	if (!b || !(b->name = strdup(vm_name))) {
		free(b);
		return -ENOMEM;
	}
	b->loop = loop;
	b->sock_fd = -1;
	*out = b;
	return 0;
}

static void crosvm_free(struct vmm_backend *b)
{
	if (!b)
		return;
	run_end(b);
	finish(b, VMM_UNREACHABLE, -ECANCELED, "statd is stopping");
	free(b->bin);
	free(b->socket);
	free(b->name);
	free(b);
}

static int64_t crosvm_deadline(const struct vmm_backend *b)
{
	const struct crosvm_run *r = b->run;

	if (!r)
		return -1;
	if (r->c.pidfd < 0 && !r->c.exited && clock_now_ms() + REAP_POLL_MS < r->deadline_ms)
		return clock_now_ms() + REAP_POLL_MS;
	return r->deadline_ms;
}

static void crosvm_timer(struct vmm_backend *b, int64_t now_ms)
{
	struct crosvm_run *r = b->run;
	struct crosvm_result res;

	if (!r)
		return;
	if (r->c.pidfd < 0 && now_ms < r->deadline_ms) {
		r->src.dispatch(&r->src, 0);	/* no pidfd: look for the exit */
		return;
	}
	if (now_ms < r->deadline_ms)
		return;
	log_warn("%s: crosvm (pid %d) still running after %d ms: killing it", b->name,
		 (int)r->c.pid, b->timeout_ms);
	crosvm_child_kill(&r->c);
	/* SIGKILL cannot be caught: run_end()'s wait for it is short. */
	run_end(b);
	crosvm_child_result(&r->c, &res);
	on_result(b, r->step, &res);
}

const struct vmm_backend_ops crosvm_backend_ops = {
	.name = "crosvm",
	.new = crosvm_new,
	.free = crosvm_free,
	.attach = { [DEV_USB] = crosvm_attach },
	.detach = { [DEV_USB] = crosvm_detach },
	.list = crosvm_list,
	.deadline = crosvm_deadline,
	.timer = crosvm_timer,
	/* A guest still booting has no free port yet: wait for it as long as a boot takes. */
	.not_yet_first_ms = 200,
	.not_yet_max_ms = 30000,
	.not_yet_budget_ms = 300000,
};
