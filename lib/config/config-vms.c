/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The config's "vms": each VM's keys, its socket path and user checked as it
 * is read, and the look-up the rule sets and statd use. Below config.c and
 * config-rules.c, which both call it; it calls only config-value.c.
 */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#include "config-private.h"

/* NULL-terminated: K_ENUM's list of choices too. */
static const char *const vm_type_table[VM_TYPE_MAX + 1] = {
	[VM_QEMU] = "qemu",
	[VM_CROSVM] = "crosvm",
};
DEFINE_STRING_TABLE_LOOKUP(vm_type, enum vm_type, VM_TYPE_MAX)

static const char *const usb_attach_by_names[] = { "busaddr", "vidpid", "port", NULL };

static const struct key vm_keys[] = {
	K("name", KT_STRING, struct vm, name),
	K_ENUM("type", struct vm, type, vm_type_table),
	K("socket", KT_STRING, struct vm, socket),
	K_ENUM("usbAttachBy", struct vm, usb_attach_by, usb_attach_by_names),
	K("user", KT_STRING, struct vm, user),
	/* 0 to 2 are the hypervisor, loopback and the host: never a guest. */
	K_INT("vsockCid", struct vm, vsock_cid, 3, INT_MAX),
	K_IGNORED("autoOvmf"),	/* on VMs in some upstream versions; on PCI rule sets now */
	K_END
};

/* struct sockaddr_un's sun_path, less its terminating NUL. */
#define SOCKET_PATH_MAX 107

static const char *const vm_required_keys[] = { "name", "type", "socket", NULL };

static void check_vm_unique(struct parser *p, const char *path, size_t i)
{
	const struct vm *vms = p->cfg->vms;

	for (size_t j = 0; j < i && vms[i].name; j++)
		if (streq(vms[j].name, vms[i].name))
			config_report(p, path, "name", "duplicate VM name \"%s\" (also vms[%zu])",
			       vms[i].name, j);
	/* The API names a vsock caller's VM by its CID: one VM per CID. */
	for (size_t j = 0; j < i && vms[i].vsock_cid; j++)
		if (vms[j].vsock_cid == vms[i].vsock_cid)
			config_report(p, path, "vsockCid", "duplicate vsock CID %u (also vms[%zu])",
				      vms[i].vsock_cid, j);
}

/* Found out here rather than at the first attach, which would fail. */
static void check_vm_socket(struct parser *p, const char *path, const char *socket)
{
	if (!socket)
		return;
	if (!*socket)
		config_report(p, path, "socket", "empty");
	else if (*socket != '/')
		config_report(p, path, "socket", "\"%s\" is a relative path: give an absolute one",
			      socket);
	else if (strlen(socket) > SOCKET_PATH_MAX)
		config_report(p, path, "socket", "%zu bytes long: a unix socket path can have at "
			      "most %d", strlen(socket), SOCKET_PATH_MAX);
}

/*
 * The VM's user, by name or number, resolved now: a name that no longer
 * resolves must not silently widen or narrow whom statd trusts later.
 */
static void resolve_vm_user(struct parser *p, const char *path, struct vm *vm)
{
	struct passwd *pw;
	char *end;
	unsigned long n;

	if (!vm->user)
		return;
	if (!*vm->user) {
		config_report(p, path, "user", "empty");
		return;
	}
	errno = 0;
	n = strtoul(vm->user, &end, 10);
	if ('0' <= *vm->user && *vm->user <= '9' && !*end && errno == 0 && n < (uid_t)-1) {
		vm->uid = (uid_t)n;
		return;
	}
	pw = getpwnam(vm->user);
	if (pw)
		vm->uid = pw->pw_uid;
	else
		config_report(p, path, "user", "no such user \"%s\"", vm->user);
}

static int parse_vm(struct parser *p, struct json_object *obj, size_t i)
{
	_cleanup_free_ char *path = config_strdup_printf("vms[%zu]", i);
	struct vm *vm = &p->cfg->vms[i];
	int r;

	if (!path)
		return -ENOMEM;
	if (!is_type(obj, json_type_object))
		return config_report(p, path, NULL, "expected an object");
	vm->uid = (uid_t)-1;
	r = config_parse_members(p, obj, path, vm_keys, vm, NULL);
	if (r < 0)
		return r;
	for (const char *const *k = vm_required_keys; *k; k++)
		if (!has_key(obj, *k))
			config_report(p, path, *k, "missing (required)");
	if (vm->name && !*vm->name)
		config_report(p, path, "name", "empty");
	check_vm_socket(p, path, vm->socket);
	resolve_vm_user(p, path, vm);
	check_vm_unique(p, path, i);
	return 0;
}

int config_parse_vms(struct parser *p, struct json_object *root)
{
	struct config *cfg = p->cfg;
	struct json_object *arr;
	size_t n;

	if (!get_member(root, "vms", &arr))
		return 0;
	if (!is_type(arr, json_type_array))
		return config_report(p, "", "vms", "expected an array");
	n = json_object_array_length(arr);
	if (n == 0)
		return 0;
	cfg->vms = calloc(n, sizeof(*cfg->vms));
	if (!cfg->vms)
		return -ENOMEM;
	/* Keep VMs with errors too: rule sets naming them get no extra error. */
	for (size_t i = 0; i < n; i++) {
		int r;

		cfg->n_vms++;	/* config_free() owns the slot from here */
		r = parse_vm(p, json_object_array_get_idx(arr, i), i);
		if (r < 0 && r != -EINVAL)
			return r;
	}
	return 0;
}

const struct vm *config_find_vm_by_cid(const struct config *cfg, unsigned cid)
{
	for (size_t i = 0; i < cfg->n_vms && cid; i++)
		if (cfg->vms[i].vsock_cid == cid)
			return &cfg->vms[i];
	return NULL;
}

const struct vm *config_find_vm(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_vms; i++)
		if (streq(cfg->vms[i].name, name))
			return &cfg->vms[i];
	return NULL;
}
