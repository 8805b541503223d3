/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The testbed of tests/test-api*.c, which drive lib/api's api_request() on
 * a real database with umockdev devices: the program runs itself again
 * under umockdev-run (UMOCKDEV_DIR unset), then each test starts on a
 * fresh database holding every device of the testbed; intents are ended
 * as statd's outcome writes them. Included by one test program each.
 */
#pragma once

#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "check.h"
#include "db.h"
#include "device.h"
#include "ident.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-api.XXXXXX";
static struct config *cfg;
static struct db *db;
static struct paths paths;
static int n_db;

static const struct api_caller unix_caller = {
	.transport = API_UNIX, .uid = 0, .pid = 1, .who = "api unix uid=0 pid=1",
};
static const struct api_caller vsock_caller = {
	.transport = API_VSOCK, .cid = 3, .vm = "gui-vm", .who = "api vsock cid=3 vm=gui-vm",
};
static const struct api_caller tcp_caller = {
	.transport = API_TCP, .who = "api tcp 127.0.0.1:40000",
};

#define MOUSE "/dev/bus/usb/001/004"		/* 1-3, 046d:c077: allowedVms vm1, vm2 */
#define CAM "/dev/bus/usb/001/007"		/* 1-6, 04f2:b604: targetVm vm1, tag cam */
#define AUDIO "/dev/bus/usb/001/003"		/* 1-2, 0d8c:0014: no rule */
#define WIFI "0000:00:14.3"			/* 8086:a0f0: targetVm vm2 */

/* A fresh database with every usb_device and pci device of the testbed recorded plugged in. */
static _unused_ void fresh_db(void)
{
	struct udev *udev = udev_new();
	struct udev_enumerate *e = udev_enumerate_new(udev);
	struct udev_list_entry *it;
	char path[sizeof(dir) + 32];

	db_close(db);
	db = NULL;
	snprintf(path, sizeof(path), "%s/%d.db", dir, ++n_db);
	CHECK(db_open(path, 1000, 0, &db) == 0);
	udev_enumerate_add_match_subsystem(e, "usb");
	udev_enumerate_add_match_subsystem(e, "pci");
	udev_enumerate_scan_devices(e);
	udev_list_entry_foreach(it, udev_enumerate_get_list_entry(e)) {
		struct udev_device *ud = udev_device_new_from_syspath(udev,
								      udev_list_entry_get_name(it));
		const char *type = ud ? udev_device_get_devtype(ud) : NULL;
		struct device *dev = NULL;

		if (ud && (streq(udev_device_get_subsystem(ud), "pci") || streq(type, "usb_device")) &&
		    device_from_udev(ud, &dev) == 0) {
			_cleanup_free_ char *ident = ident_make(dev), *label = device_describe(dev);
			int64_t id;

			CHECK(ident && label && db_device_upsert(db, dev, ident, label, &id) == 0);
			device_free(dev);
		}
		udev_device_unref(ud);
	}
	udev_enumerate_unref(e);
	udev_unref(udev);
}

/* api_request() of the JSON TEXT from CALLER. */
static _unused_ struct api_answer ask(const struct api_caller *caller, const char *text)
{
	struct api_ctx ctx = { .paths = &paths, .cfg = cfg, .db = db };
	json_object *req = text ? json_tokener_parse(text) : NULL;
	struct api_answer ans;

	CHECK(api_request(&ctx, caller, req, &ans) == 0);
	CHECK(!ans.reply != !ans.pending);
	json_object_put(req);
	return ans;
}

/* The reply of ANS (now, or polled once): its "error", "ok", or "" while pending. */
static const char *reply_of(struct api_answer *ans)
{
	static char buf[1024];
	struct api_ctx ctx = { .paths = &paths, .cfg = cfg, .db = db };
	json_object *reply = ans->reply, *v;
	int r;

	if (!reply) {
		r = api_call_poll(ans->pending, &ctx, &reply);
		CHECK(r >= 0);
		if (r != 0)
			return "";
		api_call_free(ans->pending);
		ans->pending = NULL;
	}
	ans->reply = NULL;
	if (json_object_object_get_ex(reply, "error", &v))
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
	else if (json_object_object_get_ex(reply, "result", &v))
		snprintf(buf, sizeof(buf), "%s", json_object_get_string(v));
	else
		snprintf(buf, sizeof(buf), "?");
	json_object_put(reply);
	return buf;
}

/* ask() and its reply at once. */
static const char *reply(const struct api_caller *caller, const char *text)
{
	struct api_answer ans = ask(caller, text);

	CHECK(ans.reply);
	return reply_of(&ans);
}

struct open_intent {
	int64_t id, device_id;
	enum intent_action action;
	char vm[32];
};

struct opens {
	struct open_intent v[16];
	size_t n;
};

static _unused_ int collect(void *userdata, const struct db_pending *p)
{
	struct opens *o = userdata;

	if (o->n == ARRAY_SIZE(o->v))
		return -E2BIG;
	o->v[o->n] = (struct open_intent){ .id = p->intent_id, .device_id = p->device_id,
					   .action = p->action };
	snprintf(o->v[o->n++].vm, sizeof(o->v[0].vm), "%s", p->vm ?: "");
	return 0;
}

static _unused_ size_t opens(struct opens *o)
{
	o->n = 0;
	CHECK(db_intents_pending(db, 0, collect, o) == 0);
	return o->n;
}

/* End every open intent as statd's outcome does: done (the attachment rows follow) or failed. */
static _unused_ void end_intents(enum intent_state state, const char *result)
{
	struct opens o;

	opens(&o);
	for (size_t i = 0; i < o.n; i++) {
		struct open_intent *in = &o.v[i];
		struct db_attachment a = { 0 };
		char key[64];
		bool detach = in->action == INTENT_DETACH;

		snprintf(key, sizeof(key), "vhp-test-%lld", (long long)in->device_id);
		CHECK(db_begin(db) == 0);
		if (state == INTENT_DONE && !detach)
			CHECK(db_attachment_put(db, in->device_id, in->vm, key) == 0);
		if (state == INTENT_DONE && detach &&
		    db_attachment_find(db, in->device_id, in->vm[0] ? in->vm : NULL, &a) == 0)
			CHECK(db_attachment_drop(db, a.vm, a.qdev_id) == 0);
		db_attachment_clear(&a);
		CHECK(db_history_add(db, in->device_id, "test", state == INTENT_DONE ?
				     (detach ? HISTORY_DETACHED : HISTORY_ATTACHED) :
				     (detach ? HISTORY_DETACH_FAILED : HISTORY_ATTACH_FAILED),
				     in->vm, result) == 0);
		CHECK(db_intent_finish(db, in->id, state, result) == 0);
		CHECK(db_commit(db) == 0);
	}
}

struct device_find {
	const char *name;
	int64_t id;
};

static _unused_ int find_one(void *userdata, const struct db_device_name_row *d)
{
	struct device_find *f = userdata;

	if ((d->devnode && streq(d->devnode, f->name)) || streq(d->sysname, f->name))
		f->id = d->id;
	return 0;
}

/* The row id of the device of node or sysname NAME. */
static _unused_ int64_t id_of(const char *name)
{
	struct device_find f = { name, 0 };

	CHECK(db_devices_each_named(db, find_one, &f) == 0);
	return f.id;
}

struct history_find {
	const char *device, *needle;
	int n;
};

static _unused_ int history_one(void *userdata, const struct db_history_row *h)
{
	struct history_find *f = userdata;

	if (streq(h->device, f->device) && streq(h->event, "requested") && h->detail &&
	    strstr(h->detail, f->needle))
		f->n++;
	return 0;
}

/* How many 'requested' history rows of DEVICE (the device column) have NEEDLE in their detail. */
static _unused_ int requested_rows(const char *device, const char *needle)
{
	struct history_find f = { device, needle, 0 };

	CHECK(db_history_each(db, 0, NULL, 0, history_one, &f) == 0);
	return f.n;
}

/* The open intents' devices and actions, "ID:attach ID:detach". */
static const char *open_list(void)
{
	static char buf[256];
	struct opens o;
	size_t len = 0;

	buf[0] = '\0';
	opens(&o);
	for (size_t i = 0; i < o.n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%lld:%s", i ? " " : "",
				(long long)o.v[i].device_id, intent_action_to_string(o.v[i].action));
	return buf;
}

static const char *want_open(int64_t id, const char *action)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%lld:%s", (long long)id, action);
	return buf;
}

/* Device MOUSE attached to VM through the API, done. */
static _unused_ void mouse_in(const char *vm)
{
	char req[128];
	struct api_answer ans;

	snprintf(req, sizeof(req), "{\"action\": \"usb_attach\", \"device_node\": \"%s\", \"vm\": \"%s\"}",
		 MOUSE, vm);
	ans = ask(&unix_caller, req);
	end_intents(INTENT_DONE, "attached");
	CHECK(streq(reply_of(&ans), "ok"));
}

/*
 * The recordings RECS (tests/data/NAME.umockdev) as one file at OUT: each
 * device once, as tests/common.bash's merge_recordings (devices they share,
 * the root hub, would be added twice).
 */
static _unused_ int merge(const char *src, const char *const *recs, size_t n, const char *out)
{
	char **seen = NULL;
	size_t n_seen = 0;
	FILE *o = fopen(out, "w");
	int r = 0;

	for (size_t i = 0; o && r == 0 && i < n; i++) {
		char path[512], *text = NULL, *p, *end;
		size_t len = 0;
		FILE *f;

		snprintf(path, sizeof(path), "%s/tests/data/%s.umockdev", src, recs[i]);
		f = fopen(path, "r");
		if (!f || getdelim(&text, &len, '\0', f) < 0)
			r = -1;
		if (f)
			fclose(f);
		for (p = text; r == 0 && p && *p; p = end) {
			size_t k = strcspn(p, "\n"), m;
			bool dup = false;

			end = strstr(p, "\n\n");
			end = end ? end + 2 : p + strlen(p);
			for (m = 0; m < n_seen; m++)
				dup |= strlen(seen[m]) == k && !strncmp(seen[m], p, k);
			if (dup || *p == '\n')
				continue;
			seen = realloc(seen, (n_seen + 1) * sizeof(*seen));
			seen[n_seen++] = strndup(p, k);
			fprintf(o, "%.*s%s", (int)(end - p), p, end[-1] == '\n' && end[-2] == '\n' ? "" : "\n\n");
		}
		free(text);
	}
	for (size_t m = 0; m < n_seen; m++)
		free(seen[m]);
	free(seen);
	if (!o || fclose(o) != 0)
		r = -1;
	return r;
}

/* Write the config and the fake /proc the tests share; 0 or -1. */
static _unused_ int testbed_setup(void)
{
	char path[sizeof(dir) + 32];
	FILE *f;

	snprintf(path, sizeof(path), "%s/config.json", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "{\n"
		" \"usbPassthrough\": [\n"
		"  { \"allowedVms\": [\"vm1\", \"vm2\"], \"allow\": [ { \"vendorId\": \"046d\", \"productId\": \"c077\" } ] },\n"
		"  { \"targetVm\": \"vm1\", \"tag\": \"cam\", \"allow\": [ { \"vendorId\": \"04f2\" } ] },\n"
		"  { \"targetVm\": \"vm1\", \"allow\": [ { \"vendorId\": \"04e8\" } ] }\n"
		" ],\n"
		" \"pciPassthrough\": [ { \"targetVm\": \"vm2\", \"allow\": [ { \"address\": \"" WIFI "\" } ] } ],\n"
		" \"vms\": [ { \"name\": \"vm1\", \"type\": \"qemu\", \"socket\": \"%s/vm1.sock\" },\n"
		"          { \"name\": \"vm2\", \"type\": \"qemu\", \"socket\": \"%s/vm2.sock\" } ]\n"
		"}\n", dir, dir);
	if (fclose(f) != 0 || config_load(path, &cfg, stderr) < 0)
		return -1;
	paths = (struct paths){ .config = cfg->file, .rundir = dir };
	/* The host's mounts as lib/rules/safety.c reads them: the USB disk's sdc1 (8:33) is /boot. */
	snprintf(path, sizeof(path), "%s/proc", dir);
	setenv("VHOTPLUG_PROC_ROOT", path, 1);
	if (mkdir(path, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/proc/self", dir);
	if (mkdir(path, 0700) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "22 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw\n"
		"30 22 8:33 / /boot rw,relatime shared:5 - vfat /dev/sdc1 rw\n");
	if (fclose(f) != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/proc/swaps", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "Filename\tType\tSize\tUsed\tPriority\n");
	return fclose(f);
}

/*
 * main() of a test program: TESTS under umockdev-run with the recordings
 * below merged (this program runs itself again there).
 */
static _unused_ int testbed_main(char **argv, void (*tests)(void))
{
	const char *src = getenv("top_srcdir") ?: ".";
	const char *const recs[] = { "usb-mouse", "usb-webcam", "usb-audio", "usb-disk", "pci-wifi" };
	char file[64];

	if (!getenv("UMOCKDEV_DIR")) {
		snprintf(file, sizeof(file), "/tmp/vhotplug-test-api.%d.umockdev", (int)getpid());
		if (merge(src, recs, ARRAY_SIZE(recs), file) < 0) {
			perror(file);
			return 99;
		}
		setenv("TEST_API_RECORDING", file, 1);
		execlp("umockdev-run", "umockdev-run", "--device", file, "--", argv[0], (char *)NULL);
		perror("umockdev-run");
		unlink(file);
		return 77;	/* skipped: no umockdev */
	}
	unlink(getenv("TEST_API_RECORDING") ?: "");
	if (!mkdtemp(dir))
		return 99;
	if (testbed_setup() < 0) {
		perror("testbed");
		return 99;
	}
	tests();
	db_close(db);
	config_free(cfg);
	if (!check_failures) {
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return check_result();
}
