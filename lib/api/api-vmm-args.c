/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vmm_args: the VMM arguments for the devices a VM should have at its start,
 * as the original prints them (its order: OVMF firmware when autoOvmf meets
 * an NVIDIA GPU, the PCI functions, the ACPI tables, the evdev nodes). The
 * PCI functions' IOMMU groups go to vfio-pci first, each member's driver
 * recorded in host_drivers as statd's preparation does; the answer waits
 * (a pending call, never a sleep) until /dev/vfio/GROUP is there.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-private.h"
#include "api-vmm.h"
#include "clock.h"
#include "log.h"
#include "macro.h"

/* The original looks for the node for 0.4 s and then answers anyway; so do we, later. */
#define VFIO_WAIT_MS 5000
/* How often it looks meanwhile, as the original does: a node appearing wakes nothing up. */
#define VFIO_LOOK_MS 100

struct vmm_call {
	struct api_call call;
	json_object *reply;
	int64_t deadline;
	size_t n_groups;
	int groups[];
};

static void json_putp(json_object **o)
{
	json_object_put(*o);
}

static int add(json_object *args, const char *a, const char *b)
{
	json_object *x = json_object_new_string(a);
	json_object *y = json_object_new_string(b);

	if (!x || !y || json_object_array_add(args, x) < 0 || json_object_array_add(args, y) < 0) {
		json_object_put(y);
		return -ENOMEM;
	}
	return 0;
}

static int addf(json_object *args, const char *a, const char *fmt, ...) _printf_(3, 4);
static int addf(json_object *args, const char *a, const char *fmt, ...)
{
	_cleanup_free_ char *b = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&b, fmt, ap);
	va_end(ap);
	return n < 0 ? -ENOMEM : add(args, a, b);
}

/* Python's int() of the request's qemu_bus_start_index, with its error texts; absent or null: 0. */
static int start_index(json_object *v, long long *n, char *err, size_t size)
{
	const char *s;
	char *end;

	switch (json_object_get_type(v)) {
	case json_type_null:
		*n = 0;
		return 0;
	case json_type_boolean:
	case json_type_int:
	case json_type_double:
		*n = json_object_get_int64(v);
		return 0;
	case json_type_string:
		s = json_object_get_string(v);
		errno = 0;
		*n = strtoll(s, &end, 10);
		while (*end == ' ' || *end == '\t' || *end == '\n')
			end++;
		if (end != s && !*end && !errno && *n <= INT_MAX && *n >= INT_MIN)
			return 0;
		snprintf(err, size, "invalid literal for int() with base 10: '%s'", s);
		return -EINVAL;
	default:
		snprintf(err, size, "int() argument must be a string, a bytes-like object or a real number, not '%s'",
			 json_object_is_type(v, json_type_array) ? "list" : "dict");
		return -EINVAL;
	}
}

static bool seen(const int *groups, size_t n, int group)
{
	for (size_t i = 0; i < n; i++)
		if (groups[i] == group)
			return true;
	return false;
}

/*
 * The IOMMU group of ADDR to vfio-pci, once per group; its number into
 * GROUPS. As the original, a function that cannot be bound is logged and its
 * arguments still printed: QEMU then says what is wrong. Only a driver that
 * could not be recorded stops it: it could never be given back.
 */
static int bind_group(struct api_ctx *ctx, const char *vm, const char *addr, int *groups,
		      size_t *n, char *err, size_t size)
{
	struct vfio_group g;
	int r = vfio_group_plan(addr, &g);

	if (r < 0) {
		log_warn("vmm_args %s: cannot read the IOMMU group of %s: %s", vm, addr, strerror(-r));
		return 0;
	}
	if (seen(groups, *n, g.group))
		return 0;
	r = db_host_drivers_save_group(ctx->db, &g, vm);
	if (r < 0) {
		snprintf(err, size, "cannot record the host drivers of group %d: %s", g.group,
			 strerror(-r));
		return r;
	}
	groups[(*n)++] = g.group;
	for (size_t i = 0; i < g.n; i++) {
		const struct vfio_member *m = &g.members[i];

		if (m->bridge || streq(m->driver, "vfio-pci"))
			continue;
		log_info("vmm_args %s: giving %s (group %d, driver %s) to vfio-pci", vm, m->addr,
			 g.group, m->driver[0] ? m->driver : "none");
		r = vfio_bind_member(m->addr);
		if (r < 0)
			log_err("vmm_args %s: cannot give %s to vfio-pci: %s", vm, m->addr, strerror(-r));
	}
	return 0;
}

static int pci_args(json_object *args, const struct vm *vm, const struct vmm_pci *p, long long n,
		    const char *prefix)
{
	if (vm->type == VM_CROSVM)
		return addf(args, "--vfio", "/sys/bus/pci/devices/%s,iommu=viommu", p->addr);
	/* qemuUseRootBus: no bus, QEMU puts it on the root complex. */
	if (prefix && *prefix && !p->set->pci.qemu_use_root_bus)
		return addf(args, "-device", "vfio-pci,host=%s,multifunction=on,id=vhp-pci-%lld,bus=%s%lld",
			    p->addr, n, prefix, n);
	return addf(args, "-device", "vfio-pci,host=%s,multifunction=on,id=vhp-pci-%lld", p->addr, n);
}

static int ovmf_args(json_object *args, const struct config *cfg, const struct vm *vm, char *err,
		     size_t size)
{
	if (vm->type != VM_QEMU) {
		snprintf(err, size, "Unsupported vm type: %s", vm_type_to_string(vm->type));
		return -EINVAL;
	}
	if (!cfg->ovmf_code || !*cfg->ovmf_code) {
		snprintf(err, size, "General ovmfCode is not defined");
		return -EINVAL;
	}
	if (!cfg->ovmf_vars || !*cfg->ovmf_vars) {
		snprintf(err, size, "General ovmfVars is not defined");
		return -EINVAL;
	}
	return addf(args, "-drive", "if=pflash,format=raw,unit=0,readonly=on,file=%s", cfg->ovmf_code) ?:
	       addf(args, "-drive", "if=pflash,format=raw,unit=1,readonly=on,file=%s", cfg->ovmf_vars);
}

/* The table's owner as acpiPassthrough's setUser/setGroup say; false: left out, as the original does. */
static bool acpi_owner(const struct acpi_table *t)
{
	bool user = t->set_user && *t->set_user, group = t->set_group && *t->set_group;
	struct passwd *pw = user ? getpwnam(t->set_user) : NULL;
	struct group *gr = group ? getgrnam(t->set_group) : NULL;

	if (!user && !group)
		return true;
	if ((user && !pw) || (group && !gr)) {
		log_warn("Failed to chown ACPI table %s: no %s %s", t->file, user && !pw ? "user" : "group",
			 user && !pw ? t->set_user : t->set_group);
		return false;
	}
	if (chown(t->file, pw ? pw->pw_uid : (uid_t)-1, gr ? gr->gr_gid : (gid_t)-1) < 0) {
		log_warn("Failed to chown ACPI table %s: %s", t->file, strerror(errno));
		return false;
	}
	return true;
}

static int acpi_args(json_object *args, const struct config *cfg, const struct vm *vm, char *err,
		     size_t size)
{
	for (size_t i = 0; i < cfg->n_acpi; i++) {
		const struct acpi_table *t = &cfg->acpi[i];
		struct stat st;

		if (t->disabled || !t->file || !*t->file || !t->target_vm || !streq(t->target_vm, vm->name))
			continue;
		if (stat(t->file, &st) < 0 || !S_ISREG(st.st_mode)) {
			log_warn("ACPI table %s doesn't exist on the system", t->file);
			continue;
		}
		if (!acpi_owner(t))
			continue;
		if (vm->type != VM_QEMU) {
			snprintf(err, size, "Unsupported vm type: %s", vm_type_to_string(vm->type));
			return -EINVAL;
		}
		if (addf(args, "-acpitable", "file=%s", t->file) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int evdev_args(json_object *args, const struct vm *vm, const struct vmm_devs *d, long long n)
{
	int r = 0;

	for (size_t i = 0; r == 0 && i < d->n_evdev; i++, n++)
		r = vm->type == VM_CROSVM ?
			addf(args, "--input", "evdev[path=%s]", d->evdev[i]) :
			addf(args, "-device", "virtio-input-host-pci,evdev=%s,id=vhp-evdev-%lld", d->evdev[i], n);
	return r;
}

/* The arguments into ARGS, the groups bound into GROUPS (room for one per function). */
static int build(struct api_ctx *ctx, const struct vm *vm, const char *prefix, long long start,
		 json_object *args, int *groups, size_t *n_groups, const struct vmm_devs *d,
		 char *err, size_t size)
{
	_cleanup_(json_putp) json_object *pci = json_object_new_array();
	bool ovmf = false;
	int r = pci ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < d->n_pci; i++) {
		ovmf |= d->pci[i].set->pci.auto_ovmf && d->pci[i].nvidia_gpu;
		r = bind_group(ctx, vm->name, d->pci[i].addr, groups, n_groups, err, size);
		if (r == 0)
			r = pci_args(pci, vm, &d->pci[i], start + (long long)i, prefix);
	}
	/* The firmware goes before the devices: they were bound first all the same. */
	if (r == 0 && ovmf)
		r = ovmf_args(args, ctx->cfg, vm, err, size);
	for (size_t i = 0; r == 0 && i < json_object_array_length(pci); i++)
		r = json_object_array_add(args, json_object_get(json_object_array_get_idx(pci, i)));
	if (r == 0)
		r = acpi_args(args, ctx->cfg, vm, err, size);
	return r ?: evdev_args(args, vm, d, start);
}

static bool groups_ready(const struct vmm_call *c)
{
	for (size_t i = 0; i < c->n_groups; i++)
		if (!vfio_dev_ready(c->groups[i]))
			return false;
	return true;
}

static int call_poll(struct api_call *call, struct api_ctx *ctx, json_object **reply)
{
	struct vmm_call *c = container_of(call, struct vmm_call, call);
	char node[256];

	(void)ctx;
	if (!groups_ready(c)) {
		if (clock_now_ms() < c->deadline)
			return 1;
		for (size_t i = 0; i < c->n_groups; i++)
			if (!vfio_dev_ready(c->groups[i]) &&
			    vfio_dev_path(c->groups[i], node, sizeof(node)) == 0)
				log_err("vmm_args: VFIO node %s did not appear", node);
	}
	*reply = c->reply;
	c->reply = NULL;
	return 0;
}

static void call_free(struct api_call *call)
{
	struct vmm_call *c = call ? container_of(call, struct vmm_call, call) : NULL;

	if (c)
		json_object_put(c->reply);
	free(c);
}

static int64_t call_deadline(struct api_call *call)
{
	struct vmm_call *c = container_of(call, struct vmm_call, call);
	int64_t next = clock_now_ms() + VFIO_LOOK_MS;

	return next < c->deadline ? next : c->deadline;
}

static const struct api_call_ops call_ops = {
	.poll = call_poll, .free = call_free, .deadline = call_deadline,
};

int api_vmm_args(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		 struct api_answer *ans)
{
	_cleanup_(json_putp) json_object *reply = NULL;
	_cleanup_free_ struct vmm_call *c = NULL;
	struct vmm_devs d = { 0 };
	json_object *v = NULL, *args;
	const char *name = NULL, *prefix = NULL;
	const struct vm *vm;
	long long start = 0;
	char err[256] = "";
	int r;

	(void)caller;
	if (json_object_object_get_ex(req, "vm", &v) && json_object_get_boolean(v))
		name = json_object_get_string(v);
	if (!name || !*name) {
		ans->reply = api_failed("VM name is required");
		return ans->reply ? 0 : -ENOMEM;
	}
	if (json_object_object_get_ex(req, "qemu_bus_prefix", &v) && json_object_is_type(v, json_type_string))
		prefix = json_object_get_string(v);
	v = NULL;
	json_object_object_get_ex(req, "qemu_bus_start_index", &v);
	if (start_index(v, &start, err, sizeof(err)) < 0) {
		ans->reply = api_failed(err);
		return ans->reply ? 0 : -ENOMEM;
	}
	vm = config_find_vm(ctx->cfg, name);
	if (!vm) {
		snprintf(err, sizeof(err), "VM %s is not found in the config file", name);
		ans->reply = api_failed(err);
		return ans->reply ? 0 : -ENOMEM;
	}
	r = vmm_devs_find(ctx, vm->name, &d);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(err, sizeof(err), "cannot list the devices of %s: %s", vm->name, strerror(-r));
		ans->reply = api_failed(err);
		return ans->reply ? 0 : -ENOMEM;
	}
	c = calloc(1, sizeof(*c) + d.n_pci * sizeof(c->groups[0]));
	reply = api_ok();
	args = json_object_new_array();
	if (!c || !reply || !args || json_object_object_add(reply, "vmm_args", args) < 0) {
		json_object_put(args);
		vmm_devs_free(&d);
		return -ENOMEM;
	}
	r = build(ctx, vm, prefix, start, args, c->groups, &c->n_groups, &d, err, sizeof(err));
	vmm_devs_free(&d);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		ans->reply = api_failed(err);
		return ans->reply ? 0 : -ENOMEM;
	}
	log_info("vmm_args %s: %s", vm->name,
		 json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (groups_ready(c)) {
		ans->reply = reply;
		reply = NULL;
		return 0;
	}
	c->call.ops = &call_ops;
	c->reply = reply;
	reply = NULL;
	c->deadline = clock_now_ms() + VFIO_WAIT_MS;
	ans->pending = &c->call;
	c = NULL;
	return 0;
}
