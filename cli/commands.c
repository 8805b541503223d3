/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The commands: each builds the original's request (same keys, same
 * order, null for what was not given), sends it on a fresh connection and
 * prints what the original prints. Errors are logged here; the return is
 * the exit status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static void json_putp(json_object **o)
{
	json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Add KEY as the option's string, or null when it was not given. */
static void add_str(json_object *req, const char *key, const char *val)
{
	json_object_object_add(req, key, val ? json_object_new_string(val) : NULL);
}

static void add_int(json_object *req, const char *key, const struct cli_args *a, enum cli_opt o)
{
	json_object_object_add(req, key, a->set[o] ? json_object_new_int64(a->num[o]) : NULL);
}

/* Python's truth of an option: given and not "" or 0. */
static bool truthy(const struct cli_args *a, enum cli_opt o)
{
	if (!a->set[o])
		return false;
	return a->str[o] ? a->str[o][0] != '\0' : a->num[o] != 0;
}

static json_object *request(const char *action)
{
	json_object *req = json_object_new_object();

	if (req)
		json_object_object_add(req, "action", json_object_new_string(action));
	return req;
}

/*
 * Connect, send REQ, check the reply; on "failed", log FAILED's text with
 * the server's error. 0 with *REPLY, or the exit status 1.
 */
static int exchange(const struct cli_target *t, json_object *req, const char *failed,
		    json_object **reply)
{
	struct cli_conn c;
	json_object *res = NULL;
	char *result, *err;
	int r;

	if (!req) {
		cli_log(CLI_ERROR, "%s", strerror(ENOMEM));
		return 1;
	}
	conn_init(&c);
	r = conn_open(&c, t);
	if (r >= 0)
		r = conn_request(&c, t, req, &res);
	if (r < 0) {
		cli_log(CLI_ERROR, "%s", c.err);
		conn_close(&c);
		return 1;
	}
	conn_close(&c);
	result = py_member_str(res, "result");
	if (streq(result, "failed")) {
		err = py_member_str(res, "error");
		cli_log(CLI_ERROR, "%s: %s", failed, err ? err : "None");
		free(err);
		free(result);
		json_object_put(res);
		return 1;
	}
	free(result);
	*reply = res;
	return 0;
}

/* A request whose success is only logged. */
static int simple(const struct cli_target *t, json_object *req, const char *failed,
		  const char *done)
{
	_cleanup_json_ json_object *owned = req;
	_cleanup_json_ json_object *res = NULL;
	int r = exchange(t, req, failed, &res);

	if (r == 0)
		cli_log(CLI_INFO, "%s", done);
	return r;
}

int cmd_usb_attach(const struct cli_target *t, const struct cli_args *a)
{
	json_object *req;

	if (!truthy(a, O_DEVNODE) && !(truthy(a, O_BUS) && truthy(a, O_PORT)) &&
	    !(truthy(a, O_VID) && truthy(a, O_PID)) && !truthy(a, O_TAG)) {
		cli_log(CLI_ERROR, "You must specify either --devnode or --bus and --port or --vid and --pid or --tag");
		return 1;
	}
	/* The original's order of preference, and of keys (its apiclient.py). */
	req = request("usb_attach");
	if (req && truthy(a, O_DEVNODE)) {
		add_str(req, "device_node", a->str[O_DEVNODE]);
		add_str(req, "vm", a->str[O_VM]);
	} else if (req && truthy(a, O_BUS) && truthy(a, O_PORT)) {
		add_int(req, "bus", a, O_BUS);
		add_int(req, "port", a, O_PORT);
		add_str(req, "vm", a->str[O_VM]);
	} else if (req && truthy(a, O_TAG)) {
		/* By tag, the original sends no VM: the tag's rule names it. */
		add_str(req, "tag", a->str[O_TAG]);
	} else if (req) {
		add_str(req, "vid", a->str[O_VID]);
		add_str(req, "pid", a->str[O_PID]);
		add_str(req, "vm", a->str[O_VM]);
	}
	return simple(t, req, "Failed to attach USB", "Successfully attached");
}

int cmd_usb_detach(const struct cli_target *t, const struct cli_args *a)
{
	json_object *req;

	if (!truthy(a, O_DEVNODE) && !(truthy(a, O_BUS) && truthy(a, O_PORT)) &&
	    !(truthy(a, O_VID) && truthy(a, O_PID)) && !truthy(a, O_TAG)) {
		cli_log(CLI_ERROR, "You must specify either --devnode or --bus and --port or --vid and --pid or --tag");
		return 1;
	}
	req = request("usb_detach");
	if (req && truthy(a, O_DEVNODE)) {
		add_str(req, "device_node", a->str[O_DEVNODE]);
	} else if (req && truthy(a, O_BUS) && truthy(a, O_PORT)) {
		add_int(req, "bus", a, O_BUS);
		add_int(req, "port", a, O_PORT);
	} else if (req && truthy(a, O_TAG)) {
		add_str(req, "tag", a->str[O_TAG]);
	} else if (req) {
		add_str(req, "vid", a->str[O_VID]);
		add_str(req, "pid", a->str[O_PID]);
	}
	return simple(t, req, "Failed to detach USB", "Successfully detached");
}

static int pci_attach_detach(const struct cli_target *t, const struct cli_args *a, bool attach)
{
	json_object *req;

	if (!truthy(a, O_ADDRESS) && !(truthy(a, O_VID) && truthy(a, O_DID)) && !truthy(a, O_TAG)) {
		cli_log(CLI_ERROR, "You must specify either --address or --vid and --did or --tag");
		return 1;
	}
	req = request(attach ? "pci_attach" : "pci_detach");
	if (req && truthy(a, O_ADDRESS)) {
		add_str(req, "address", a->str[O_ADDRESS]);
		if (attach)
			add_str(req, "vm", a->str[O_VM]);
	} else if (req && truthy(a, O_TAG)) {
		add_str(req, "tag", a->str[O_TAG]);
	} else if (req) {
		add_str(req, "vid", a->str[O_VID]);
		add_str(req, "did", a->str[O_DID]);
		if (attach)
			add_str(req, "vm", a->str[O_VM]);
	}
	if (attach)
		return simple(t, req, "Failed to attach PCI", "Successfully attached");
	return simple(t, req, "Failed to detach PCI", "Successfully detached");
}

int cmd_pci_attach(const struct cli_target *t, const struct cli_args *a)
{
	return pci_attach_detach(t, a, true);
}

int cmd_pci_detach(const struct cli_target *t, const struct cli_args *a)
{
	return pci_attach_detach(t, a, false);
}

static int vm_request(const struct cli_target *t, const struct cli_args *a, const char *action,
		      const char *failed, const char *done)
{
	json_object *req = request(action);

	if (req)
		add_str(req, "vm", a->str[O_VM]);
	return simple(t, req, failed, done);
}

int cmd_usb_suspend(const struct cli_target *t, const struct cli_args *a)
{
	return vm_request(t, a, "usb_suspend", "Failed to suspend USB", "Successfully suspended");
}

int cmd_usb_resume(const struct cli_target *t, const struct cli_args *a)
{
	return vm_request(t, a, "usb_resume", "Failed to resume USB", "Successfully resumed");
}

int cmd_pci_suspend(const struct cli_target *t, const struct cli_args *a)
{
	return vm_request(t, a, "pci_suspend", "Failed to suspend PCI", "Successfully suspended");
}

int cmd_pci_resume(const struct cli_target *t, const struct cli_args *a)
{
	return vm_request(t, a, "pci_resume", "Failed to resume PCI", "Successfully resumed");
}

/* One device: the heading line, then (unless --short) "  KEY<16: value" lines and a blank one. */
static int print_device(json_object *dev, const char *const *heading, bool brief)
{
	for (size_t k = 0; heading[k]; k++) {
		_cleanup_free_ char *s = py_member_str(dev, heading[k] + 1);

		if (!s) {
			fflush(stdout);
			cli_log(CLI_ERROR, "Device without '%s' in the API response", heading[k] + 1);
			return 1;
		}
		/* heading[k][0] is the separator printed before the field. */
		if (heading[k][0] != '^')
			putchar(heading[k][0]);
		fputs(s, stdout);
	}
	putchar('\n');
	if (brief)
		return 0;
	json_object_object_foreach(dev, key, val) {
		size_t width = py_codepoints(key);

		printf("  %s%*s: ", key, width < 16 ? (int)(16 - width) : 0, "");
		py_str(stdout, val);
		putchar('\n');
	}
	putchar('\n');
	return 0;
}

static int list(const struct cli_target *t, const struct cli_args *a, const char *action,
		const char *member, const char *const *heading, const char *what)
{
	char failed[64];
	_cleanup_json_ json_object *req = request(action);
	_cleanup_json_ json_object *res = NULL;
	json_object *devs;
	int r;

	if (req) {
		/* --connected asks disconnected=false; neither flag, null. */
		json_object_object_add(req, "disconnected", a->set[O_CONNECTED] ?
			json_object_new_boolean(0) : a->set[O_DISCONNECTED] ?
			json_object_new_boolean(1) : NULL);
		add_str(req, "tag", a->str[O_TAG]);
	}
	snprintf(failed, sizeof(failed), "Failed to get %s", what);
	r = exchange(t, req, failed, &res);
	if (r)
		return r;
	if (cli_debug) {
		_cleanup_free_ char *s = py_to_str(res);

		cli_log(CLI_DEBUG, "%s: %s", what, s ? s : "");
	}
	if (!json_object_object_get_ex(res, member, &devs))
		return 0;
	if (!json_object_is_type(devs, json_type_array)) {
		cli_log(CLI_ERROR, "'%s' in the API response is not a list", member);
		return 1;
	}
	for (size_t k = 0; k < json_object_array_length(devs); k++) {
		json_object *dev = json_object_array_get_idx(devs, k);

		if (!json_object_is_type(dev, json_type_object)) {
			fflush(stdout);
			cli_log(CLI_ERROR, "A device in the API response is not an object");
			return 1;
		}
		r = print_device(dev, heading, a->set[O_SHORT]);
		if (r)
			return r;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

int cmd_usb_list(const struct cli_target *t, const struct cli_args *a)
{
	static const char *const heading[] = { "^vid", ":pid", " vendor_name", " product_name", NULL };

	return list(t, a, "usb_list", "usb_devices", heading, "USB list");
}

int cmd_pci_list(const struct cli_target *t, const struct cli_args *a)
{
	static const char *const heading[] = { "^address", " vid", ":did", " vendor_name",
					       " device_name", NULL };

	return list(t, a, "pci_list", "pci_devices", heading, "PCI list");
}

/*
 * The original retries every second while the API cannot be reached (a
 * VM's start waits for vhotplug this way); here only until the timeout.
 */
int cmd_vmm_args(const struct cli_target *t, const struct cli_args *a)
{
	_cleanup_json_ json_object *req = request("vmm_args");
	_cleanup_json_ json_object *res = NULL;
	time_t give_up = time(NULL) + t->timeout_s;
	struct cli_conn c;
	json_object *args;
	char *result;
	int r;

	if (!req) {
		cli_log(CLI_ERROR, "%s", strerror(ENOMEM));
		return 1;
	}
	add_str(req, "vm", a->str[O_VM]);
	add_str(req, "qemu_bus_prefix", a->str[O_PREFIX]);
	add_int(req, "qemu_bus_start_index", a, O_START_INDEX);
	conn_init(&c);
	for (;;) {
		r = conn_open(&c, t);
		if (r >= 0)
			r = conn_request(&c, t, req, &res);
		if (r != -ENOTCONN)
			break;
		if (t->timeout_s && time(NULL) >= give_up) {
			cli_log(CLI_ERROR, "Gave up after %u s: %s", t->timeout_s, c.err);
			conn_close(&c);
			return 1;
		}
		cli_log(CLI_WARNING, "%s", c.err);
		sleep(1);
	}
	if (r < 0)
		cli_log(CLI_ERROR, "%s", c.err);
	conn_close(&c);
	if (r < 0)
		return 1;
	result = py_member_str(res, "result");
	if (streq(result, "failed")) {
		_cleanup_free_ char *err = py_member_str(res, "error");

		free(result);
		cli_log(CLI_ERROR, "Failed to get VMM args for PCI devices: %s", err ? err : "None");
		return 1;
	}
	free(result);
	if (!json_object_object_get_ex(res, "vmm_args", &args))
		return 0;
	for (size_t k = 0; !json_object_is_type(args, json_type_array) ||
			   k < json_object_array_length(args); k++)
		if (!json_object_is_type(args, json_type_array) ||
		    !json_object_is_type(json_object_array_get_idx(args, k), json_type_string)) {
			cli_log(CLI_ERROR, "'vmm_args' in the API response is not a list of strings");
			return 1;
		}
	/* One line of arguments, space-separated, without a newline: the original's print(..., end=""). */
	for (size_t k = 0; k < json_object_array_length(args); k++) {
		json_object *s = json_object_array_get_idx(args, k);

		fputs(k ? " " : "", stdout);
		fwrite(json_object_get_string(s), 1, json_object_get_string_len(s), stdout);
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
