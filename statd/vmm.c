/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "log.h"
#include "macro.h"
#include "qmp.h"
#include "source.h"
#include "vmm.h"

/*
 * QEMU's usb-host looks the device up in libusb's list, which learns of a new
 * device only after udev has finished with it (RUN programs included): the
 * first device_add may come too early. Retry that one error, briefly.
 */
#define RETRY_FIRST_MS 20
#define RETRY_BUDGET_MS 3000
#define NOT_FOUND_ERROR "failed to find host usb device"

enum job_kind {
	JOB_ATTACH,
	JOB_DETACH,
};

struct worker;

struct job {
	struct job *next;
	struct worker *w;
	enum job_kind kind;
	int64_t intent_id;
	int64_t device_id;
	char *vm;		/* attach: the target; detach: where it is attached */
	char *kind_name;	/* "usb", "pci", "evdev" */
	char *label;
	char *sysname;
	char *qdev_id;
	int busnum, devnum, vendor_id, product_id;
	int delay_ms;		/* next retry's delay */
	int64_t first_ms;	/* first device_add, for the retry budget */
	int64_t due_ms;		/* when waiting for a retry */
};

struct worker {
	struct source src;
	struct vmm *m;
	char *name;
	struct qmp *q;
	struct job *cur;	/* the job with a command in flight */
	struct job *head, *tail;
};

struct vmm {
	int epfd;
	struct db *db;
	const struct config *cfg;
	struct worker **workers;
	size_t n_workers;
	struct job *retry;	/* jobs waiting for their due_ms, any order */
	bool quiescing;
	bool appeared;		/* in vmm_drain_appeared() */
	bool refused;		/* ...and a connection was refused */
};

static void pump(struct worker *w);

static void job_free(struct job *j)
{
	if (!j)
		return;
	free(j->vm);
	free(j->kind_name);
	free(j->label);
	free(j->sysname);
	free(j->qdev_id);
	free(j);
}

/* A qdev id that stays the same across replugs into the same port. */
static char *qdev_id_for(const char *kind, const char *sysname)
{
	char *id = NULL;

	if (asprintf(&id, "vhp-%s-%s", kind, sysname) < 0)
		return NULL;
	for (char *p = id; *p; p++)
		if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') ||
		      ('0' <= *p && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			*p = '_';
	return id;
}

static struct job *job_from_pending(const struct db_pending *p)
{
	struct job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->kind = streq(p->action, "detach") ? JOB_DETACH : JOB_ATTACH;
	j->intent_id = p->intent_id;
	j->device_id = p->device_id;
	j->vm = p->vm ? strdup(p->vm) : NULL;
	j->kind_name = strdup(p->kind ?: "usb");
	j->label = strdup(p->label ?: "");
	j->sysname = strdup(p->sysname ?: "");
	j->busnum = p->busnum;
	j->devnum = p->devnum;
	j->vendor_id = p->vendor_id;
	j->product_id = p->product_id;
	j->delay_ms = RETRY_FIRST_MS;
	j->qdev_id = j->kind_name && j->sysname ? qdev_id_for(j->kind_name, j->sysname) : NULL;
	if (!j->kind_name || !j->label || !j->sysname || !j->qdev_id || (p->vm && !j->vm)) {
		job_free(j);
		return NULL;
	}
	return j;
}

/* ---- outcomes: each one transaction, history and intent together ---- */

static void record(struct vmm *m, struct job *j, const char *event, const char *state,
		   const char *detail, int attach)
{
	struct db *db = m->db;
	int r = db_begin(db);

	if (r == 0 && attach > 0)
		r = db_attachment_set(db, j->device_id, j->vm, j->qdev_id);
	if (r == 0 && attach < 0)
		r = db_attachment_del(db, j->device_id);
	if (r == 0 && event)
		r = db_history_add(db, j->device_id, j->label, event, j->vm, detail);
	if (r == 0)
		r = db_intent_finish(db, j->intent_id, state, detail);
	if (r == 0)
		r = db_commit(db);
	if (r < 0) {
		/* It stays pending: the next drain redoes it, and both steps are idempotent. */
		db_rollback(db);
		log_err("%s: could not record %s: %s", j->label, event ?: state, strerror(-r));
	}
}

/* Keep the intent pending, say why once, and forget the job until the next drain. */
static void defer(struct vmm *m, struct job *j, const char *note)
{
	bool first = false;
	int r = db_begin(m->db);

	if (r == 0)
		r = db_intent_defer(m->db, j->intent_id, note, &first);
	if (r == 0 && first)
		r = db_history_add(m->db, j->device_id, j->label, "waiting", j->vm, note);
	if (r == 0)
		r = db_commit(m->db);
	if (r < 0)
		db_rollback(m->db);
	if (first)
		log_notice("%s: waiting: %s", j->label, note);
	job_free(j);
}

static void finish(struct job *j)
{
	if (j->w && j->w->cur == j)
		j->w->cur = NULL;
	job_free(j);
}

/* ---- workers ---- */

static void worker_dispatch(struct source *s, uint32_t events);

static struct worker *worker_get(struct vmm *m, const char *name)
{
	struct worker **v, *w;

	for (size_t i = 0; i < m->n_workers; i++)
		if (streq(m->workers[i]->name, name))
			return m->workers[i];
	v = realloc(m->workers, (m->n_workers + 1) * sizeof(*v));
	if (!v)
		return NULL;
	m->workers = v;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->name = strdup(name))) {
		free(w);
		return NULL;
	}
	w->src.dispatch = worker_dispatch;
	w->m = m;
	m->workers[m->n_workers++] = w;
	return w;
}

static void enqueue(struct worker *w, struct job *j, bool front)
{
	j->w = w;
	if (front) {
		j->next = w->head;
		w->head = j;
		if (!w->tail)
			w->tail = j;
		return;
	}
	j->next = NULL;
	if (w->tail)
		w->tail->next = j;
	else
		w->head = j;
	w->tail = j;
}

static struct job *dequeue(struct worker *w)
{
	struct job *j = w->head;

	if (j) {
		w->head = j->next;
		if (!w->head)
			w->tail = NULL;
		j->next = NULL;
	}
	return j;
}

static void defer_queue(struct worker *w, const char *note)
{
	struct job *j;

	while ((j = dequeue(w)))
		defer(w->m, j, note);
}

static void disconnect(struct worker *w)
{
	if (!w->q)
		return;
	epoll_ctl(w->m->epfd, EPOLL_CTL_DEL, qmp_fd(w->q), NULL);
	qmp_close(w->q);
	w->q = NULL;
}

static void on_event(struct qmp *q, void *userdata, const char *event, struct json_object *data)
{
	struct worker *w = userdata;

	log_debug("%s: QMP event %s %s", w->name, event,
		  data ? json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN) : "");
}

static int connect_vm(struct worker *w)
{
	const struct vm *vm = config_find_vm(w->m->cfg, w->name);
	struct qmp_options opts = { .on_event = on_event, .event_userdata = w };
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &w->src };
	char note[512];
	int r;

	if (!vm) {
		snprintf(note, sizeof(note), "no VM named \"%s\" in the config", w->name);
		defer_queue(w, note);
		return -ENOENT;
	}
	opts.timeout_ms = w->m->cfg->qmp_timeout_ms;
	r = qmp_open(vm->socket, &opts, &w->q);
	if (r == -ECONNREFUSED && w->m->appeared) {
		struct job *j;

		/* Maybe bound but not listening yet: not worth a note, statd drains again. */
		w->m->refused = true;
		while ((j = dequeue(w)))
			job_free(j);
		return r;
	}
	if (r < 0) {
		snprintf(note, sizeof(note), "VM %s is not running (%s: %s)", w->name, vm->socket,
			 strerror(-r));
		defer_queue(w, note);
		return r;
	}
	ev.events = qmp_wanted_events(w->q) | EPOLLIN;
	if (epoll_ctl(w->m->epfd, EPOLL_CTL_ADD, qmp_fd(w->q), &ev) < 0) {
		r = -errno;
		qmp_close(w->q);
		w->q = NULL;
		return r;
	}
	return 0;
}

/* A QMP failure that is not QEMU's answer: the job waits for the VM to be reachable. */
static void lost(struct job *j, const char *err)
{
	struct worker *w = j->w;
	char note[512];

	snprintf(note, sizeof(note), "QMP to %s failed: %s", w->name, err ?: "unknown error");
	w->cur = NULL;
	defer(w->m, j, note);
}

/* ---- attach ---- */

static struct json_object *usb_host_args(const struct vm *vm, const struct job *j)
{
	struct json_object *a = json_object_new_object();
	const char *ports = strchr(j->sysname, '-');

	if (!a)
		return NULL;
	json_object_object_add(a, "driver", json_object_new_string("usb-host"));
	json_object_object_add(a, "id", json_object_new_string(j->qdev_id));
	switch (vm->usb_attach_by) {
	case USB_ATTACH_VIDPID:
		json_object_object_add(a, "vendorid", json_object_new_int(j->vendor_id));
		json_object_object_add(a, "productid", json_object_new_int(j->product_id));
		break;
	case USB_ATTACH_PORT:
		json_object_object_add(a, "hostbus", json_object_new_int(j->busnum));
		json_object_object_add(a, "hostport", json_object_new_string(ports ? ports + 1 : ""));
		break;
	default:
		json_object_object_add(a, "hostbus", json_object_new_int(j->busnum));
		json_object_object_add(a, "hostaddr", json_object_new_int(j->devnum));
		break;
	}
	return a;
}

static void on_device_add(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr);

static void device_add(struct job *j)
{
	struct worker *w = j->w;
	const struct vm *vm = config_find_vm(w->m->cfg, w->name);
	struct json_object *args = vm ? usb_host_args(vm, j) : NULL;

	if (!j->first_ms)
		j->first_ms = qmp_now_ms();
	db_intent_attempted(w->m->db, j->intent_id);
	log_debug("%s: device_add %s to %s", j->label,
		  args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "?", w->name);
	if (!args || qmp_command(w->q, "device_add", args, on_device_add, j) < 0)
		lost(j, "cannot queue device_add");
}

static bool retry_later(struct job *j)
{
	struct vmm *m = j->w->m;
	int64_t now = qmp_now_ms();

	if (now + j->delay_ms - j->first_ms > RETRY_BUDGET_MS)
		return false;
	j->due_ms = now + j->delay_ms;
	j->delay_ms *= 2;
	j->w->cur = NULL;
	j->next = m->retry;
	m->retry = j;
	return true;
}

static void on_device_add(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr)
{
	struct job *j = userdata;
	struct vmm *m = j->w->m;

	if (err == 0) {
		log_info("%s: attached to %s as %s", j->label, j->vm, j->qdev_id);
		record(m, j, "attached", "done", j->qdev_id, 1);
	} else if (err == -EIO && strstr(errstr, NOT_FOUND_ERROR) && retry_later(j)) {
		log_debug("%s: %s; retrying in %d ms", j->label, errstr, j->delay_ms / 2);
		return;
	} else if (err == -EIO) {
		log_warn("%s: attach to %s failed: %s", j->label, j->vm, errstr);
		record(m, j, "attach_failed", "failed", errstr, 0);
	} else {
		lost(j, errstr);
		return;
	}
	finish(j);
}

static bool peripheral_has(struct json_object *list, const char *id)
{
	size_t n = json_object_is_type(list, json_type_array) ? json_object_array_length(list) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *name;

		if (json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &name) &&
		    streq(json_object_get_string(name), id))
			return true;
	}
	return false;
}

static void on_qom_list(struct qmp *q, void *userdata, struct json_object *ret, int err,
			const char *errstr)
{
	struct job *j = userdata;

	if (err < 0) {
		lost(j, errstr);
		return;
	}
	if (!peripheral_has(ret, j->qdev_id)) {
		device_add(j);
		return;
	}
	/* Attached already (a repeated event, or statd restarted mid-way): say so, add nothing. */
	record(j->w->m, j, "attached", "done", "already attached", 1);
	finish(j);
}

static void start_attach(struct job *j)
{
	struct json_object *args = json_object_new_object();

	json_object_object_add(args, "path", json_object_new_string("/machine/peripheral"));
	if (qmp_command(j->w->q, "qom-list", args, on_qom_list, j) < 0)
		lost(j, "cannot queue qom-list");
}

/* ---- detach ---- */

static void on_device_del(struct qmp *q, void *userdata, struct json_object *ret, int err,
			  const char *errstr)
{
	struct job *j = userdata;
	struct vmm *m = j->w->m;

	if (err == 0 || (err == -EIO && strstr(errstr, "not found"))) {
		log_info("%s: detached from %s", j->label, j->vm);
		record(m, j, "detached", "done", err ? "already gone from the VM" : NULL, -1);
	} else if (err == -EIO) {
		log_warn("%s: detach from %s failed: %s", j->label, j->vm, errstr);
		record(m, j, "detach_failed", "failed", errstr, 0);
	} else {
		lost(j, errstr);
		return;
	}
	finish(j);
}

static void start_detach(struct job *j)
{
	struct json_object *args;
	char *vm = NULL, *qdev = NULL;

	/* Queued behind an attach that may have failed: check again. */
	if (db_attachment_get(j->w->m->db, j->device_id, &vm, &qdev) < 0) {
		record(j->w->m, j, NULL, "done", "not attached", 0);
		finish(j);
		return;
	}
	free(vm);
	free(j->qdev_id);
	j->qdev_id = qdev;
	args = json_object_new_object();

	json_object_object_add(args, "id", json_object_new_string(j->qdev_id));
	if (qmp_command(j->w->q, "device_del", args, on_device_del, j) < 0)
		lost(j, "cannot queue device_del");
}

/* ---- scheduling ---- */

static void update_epoll(struct worker *w)
{
	struct epoll_event ev = { .data.ptr = &w->src };

	if (!w->q)
		return;
	ev.events = qmp_wanted_events(w->q) | EPOLLIN;
	epoll_ctl(w->m->epfd, EPOLL_CTL_MOD, qmp_fd(w->q), &ev);
}

/* Start the next job if none is in flight; hang up when there is no work left. */
static void pump(struct worker *w)
{
	while (!w->cur && w->head && !w->m->quiescing) {
		if (!w->q && connect_vm(w) < 0)
			return;
		w->cur = dequeue(w);
		if (w->cur->kind == JOB_ATTACH)
			start_attach(w->cur);
		else
			start_detach(w->cur);
	}
	if (!w->cur && !w->head)
		disconnect(w);	/* the socket is shared with other tools: do not sit on it */
	update_epoll(w);
}

static void worker_dispatch(struct source *s, uint32_t events)
{
	struct worker *w = container_of(s, struct worker, src);
	int r = qmp_dispatch(w->q, events);

	if (r < 0) {
		disconnect(w);
		defer_queue(w, "QMP connection lost");
	}
	pump(w);
}

static bool known(const struct vmm *m, int64_t intent_id)
{
	for (const struct job *j = m->retry; j; j = j->next)
		if (j->intent_id == intent_id)
			return true;
	for (size_t i = 0; i < m->n_workers; i++) {
		const struct worker *w = m->workers[i];

		if (w->cur && w->cur->intent_id == intent_id)
			return true;
		for (const struct job *j = w->head; j; j = j->next)
			if (j->intent_id == intent_id)
				return true;
	}
	return false;
}

static struct job *unlink_attach(struct job **list, int64_t device_id)
{
	for (struct job **p = list; *p; p = &(*p)->next) {
		if ((*p)->device_id == device_id && (*p)->kind == JOB_ATTACH) {
			struct job *j = *p;

			*p = j->next;
			return j;
		}
	}
	return NULL;
}

/* An attach job for DEVICE_ID waiting for a retry or queued (not in flight), unlinked, or NULL. */
static struct job *take_waiting(struct vmm *m, int64_t device_id)
{
	struct job *j = unlink_attach(&m->retry, device_id);

	for (size_t i = 0; !j && i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		j = unlink_attach(&w->head, device_id);
		if (j && w->tail == j) {
			w->tail = w->head;
			while (w->tail && w->tail->next)
				w->tail = w->tail->next;
		}
	}
	return j;
}

static struct worker *in_flight(struct vmm *m, int64_t device_id)
{
	for (size_t i = 0; i < m->n_workers; i++)
		if (m->workers[i]->cur && m->workers[i]->cur->device_id == device_id)
			return m->workers[i];
	return NULL;
}

/* Attaches still to come for a device that is gone are pointless: cancel them. */
static void cancel_attaches(struct vmm *m, const struct job *detach, const struct worker *busy)
{
	struct job *j;
	int n = 0, r;

	while ((j = take_waiting(m, detach->device_id)))
		job_free(j);	/* the UPDATE below closes their intents too */
	r = db_begin(m->db);
	if (r == 0)
		r = db_intents_cancel(m->db, detach->device_id, detach->intent_id,
				      busy ? busy->cur->intent_id : 0, &n);
	if (r == 0 && n > 0)
		r = db_history_add(m->db, detach->device_id, detach->label, "attach_cancelled", NULL,
				   "device unplugged before it was attached");
	if (r == 0)
		r = db_commit(m->db);
	if (r < 0)
		db_rollback(m->db);
}

/*
 * Detach from wherever the device is attached. An attach in flight goes
 * first: the detach queues behind it on the same worker.
 */
static void submit_detach(struct vmm *m, struct job *j)
{
	struct worker *w = in_flight(m, j->device_id);
	char *vm = NULL, *qdev = NULL;

	cancel_attaches(m, j, w);
	if (db_attachment_get(m->db, j->device_id, &vm, &qdev) == 0) {
		free(j->vm);
		free(j->qdev_id);
		j->vm = vm;
		j->qdev_id = qdev;
		w = worker_get(m, vm);
	} else if (!w) {
		record(m, j, NULL, "done", "not attached", 0);
		job_free(j);
		return;
	}
	if (!w) {
		job_free(j);
		return;
	}
	if (!j->vm)
		j->vm = strdup(w->name);
	enqueue(w, j, false);
	pump(w);
}

static void submit(struct vmm *m, struct job *j)
{
	const struct vm *vm;
	struct worker *w;

	if (j->kind == JOB_DETACH) {
		submit_detach(m, j);
		return;
	}
	vm = j->vm ? config_find_vm(m->cfg, j->vm) : NULL;
	if (!vm) {
		defer(m, j, "its VM is not in the config");
		return;
	}
	if (vm->type != VM_QEMU || !streq(j->kind_name, "usb")) {
		defer(m, j, "vhotplug cannot attach this kind of device to this kind of VM yet");
		return;
	}
	w = worker_get(m, j->vm);
	if (!w) {
		job_free(j);
		return;
	}
	enqueue(w, j, false);
	pump(w);
}

struct collect {
	struct vmm *m;
	struct job *head, **tail;
	int err;
};

static int collect_one(void *userdata, const struct db_pending *p)
{
	struct collect *c = userdata;
	struct job *j;

	if (known(c->m, p->intent_id))
		return 0;
	j = job_from_pending(p);
	if (!j)
		return -ENOMEM;
	*c->tail = j;
	c->tail = &j->next;
	return 0;
}

int vmm_drain(struct vmm *m)
{
	struct collect c = { .m = m, .tail = &c.head };
	int r;

	if (m->quiescing)
		return 0;
	/* Read everything first: submitting writes to the database. */
	r = db_intents_pending(m->db, collect_one, &c);
	while (c.head) {
		struct job *j = c.head;

		c.head = j->next;
		j->next = NULL;
		if (r < 0)
			job_free(j);
		else
			submit(m, j);
	}
	return r;
}

bool vmm_drain_appeared(struct vmm *m)
{
	m->appeared = true;
	m->refused = false;
	vmm_drain(m);
	m->appeared = false;
	return m->refused;
}

int64_t vmm_next_deadline(const struct vmm *m)
{
	int64_t best = -1;

	for (const struct job *j = m->retry; j; j = j->next)
		if (best < 0 || j->due_ms < best)
			best = j->due_ms;
	for (size_t i = 0; i < m->n_workers; i++) {
		int64_t d = m->workers[i]->q ? qmp_deadline_ms(m->workers[i]->q) : -1;

		if (d >= 0 && (best < 0 || d < best))
			best = d;
	}
	return best;
}

static void timeouts(struct vmm *m, int64_t now)
{
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];
		int64_t d = w->q ? qmp_deadline_ms(w->q) : -1;

		if (d < 0 || d > now || qmp_check_timeout(w->q, now) == 0)
			continue;
		disconnect(w);
		defer_queue(w, "QMP connection timed out");
		pump(w);
	}
}

static void retries(struct vmm *m, int64_t now)
{
	struct job **p = &m->retry;

	while (*p) {
		struct job *j = *p;

		if (j->due_ms > now || m->quiescing) {
			p = &j->next;
			continue;
		}
		*p = j->next;
		enqueue(j->w, j, true);
		pump(j->w);
	}
}

void vmm_timer(struct vmm *m, int64_t now_ms)
{
	timeouts(m, now_ms);
	retries(m, now_ms);
}

bool vmm_quiesce(struct vmm *m)
{
	m->quiescing = true;
	for (size_t i = 0; i < m->n_workers; i++)
		if (m->workers[i]->cur)
			return false;
	return true;
}

int vmm_new(int epfd, struct db *db, const struct config *cfg, struct vmm **out)
{
	struct vmm *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->epfd = epfd;
	m->db = db;
	m->cfg = cfg;
	*out = m;
	return 0;
}

void vmm_set_config(struct vmm *m, const struct config *cfg)
{
	m->cfg = cfg;
}

void vmm_free(struct vmm *m)
{
	struct job *j;

	if (!m)
		return;
	while ((j = m->retry)) {
		m->retry = j->next;
		job_free(j);
	}
	for (size_t i = 0; i < m->n_workers; i++) {
		struct worker *w = m->workers[i];

		disconnect(w);	/* fails an in-flight command with -ECANCELED: it stays pending */
		while ((j = dequeue(w)))
			job_free(j);
		free(w->name);
		free(w);
	}
	free(m->workers);
	free(m);
}
