/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lib/api's vmm_args in a umockdev testbed: the Wi-Fi card (pci-wifi, IOMMU
 * group 7), the NVMe disk (pci-nvme, group 12), an NVIDIA GPU with its HDMI
 * audio function (pci-nvidia, both in group 13), the NIC, sound card and
 * serial port behind a bridge (pci-group, group 15) and a laptop keyboard
 * (evdev-keyboard, /dev/input/event3). tests/pci-testbed.sh adds the group
 * links and driver files. Without a testbed the program runs itself again
 * inside one.
 *
 * The expected arguments are the original's: each is written out from the
 * function of the original vhotplug that prints it (named beside it), for
 * the same config and devices, and compared as vhotplugcli prints them
 * (" ".join(args)).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api-private.h"
#include "check.h"
#include "clock.h"
#include "db.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-vmm-args.XXXXXX";
static int serial;

static const char vms[] =
	"\"vms\": ["
	" { \"name\": \"net-vm\", \"type\": \"qemu\", \"socket\": \"/run/net-vm.qmp\" },"
	" { \"name\": \"gui-vm\", \"type\": \"qemu\", \"socket\": \"/run/gui-vm.qmp\" },"
	" { \"name\": \"audio-vm\", \"type\": \"crosvm\", \"socket\": \"/run/audio-vm.sock\" } ]";

struct env {
	struct config *cfg;
	struct db *db;
	struct api_ctx ctx;
};

/* A config of SECTIONS (top-level members, ending with a comma, or ""), the VMs and GENERAL. */
static bool env_open(struct env *e, const char *sections, const char *general)
{
	char cfile[256], dbfile[256];
	FILE *f;

	*e = (struct env){ 0 };
	serial++;
	snprintf(cfile, sizeof(cfile), "%s/config-%d.json", dir, serial);
	snprintf(dbfile, sizeof(dbfile), "%s/db-%d.sqlite", dir, serial);
	f = fopen(cfile, "w");
	if (!f)
		return false;
	fprintf(f, "{ %s %s, \"general\": { %s } }\n", sections, vms, general ?: "");
	if (fclose(f) != 0 || config_load(cfile, &e->cfg, stderr) < 0 ||
	    db_open(dbfile, 1000, 0, &e->db) < 0)
		return false;
	e->ctx = (struct api_ctx){ .cfg = e->cfg, .db = e->db };
	return true;
}

static void env_close(struct env *e)
{
	if (e->db)
		db_close(e->db);
	config_free(e->cfg);
}

static json_object *request(struct env *e, const char *req, struct api_answer *ans)
{
	json_object *r = json_tokener_parse(req);
	struct api_caller caller = { .transport = API_UNIX, .who = "test" };

	*ans = (struct api_answer){ 0 };
	if (!r || api_vmm_args(&e->ctx, &caller, r, ans) < 0)
		ans->reply = NULL;
	json_object_put(r);
	return ans->reply;
}

/* The reply as text: the arguments joined by spaces, "failed: ERROR", or "pending". */
static const char *text(json_object *reply, bool pending)
{
	static char buf[2048];
	json_object *v, *args;
	size_t len = 0;

	buf[0] = '\0';
	if (pending)
		return "pending";
	if (!reply || !json_object_object_get_ex(reply, "result", &v))
		return "(no reply)";
	if (streq(json_object_get_string(v), "failed")) {
		json_object_object_get_ex(reply, "error", &v);
		snprintf(buf, sizeof(buf), "failed: %s", json_object_get_string(v));
		return buf;
	}
	if (!json_object_object_get_ex(reply, "vmm_args", &args))
		return "(no vmm_args)";
	for (size_t i = 0; i < json_object_array_length(args); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "",
				json_object_get_string(json_object_array_get_idx(args, i)));
	return buf;
}

static const char *ask(struct env *e, const char *req)
{
	struct api_answer ans;
	json_object *reply = request(e, req, &ans);
	const char *t = text(reply, ans.pending);

	api_call_free(ans.pending);
	json_object_put(reply);
	return t;
}

static bool expect(const char *got, const char *want)
{
	if (streq(got, want))
		return true;
	fprintf(stderr, "got:  %s\nwant: %s\n", got, want);
	return false;
}

static void sys_read(const char *rel, char *buf, size_t size)
{
	char p[512];
	ssize_t n = -1;
	int fd;

	snprintf(p, sizeof(p), "%s/sys/%s", getenv("UMOCKDEV_DIR"), rel);
	fd = open(p, O_RDONLY);
	if (fd >= 0)
		n = read(fd, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
}

static void sys_clear(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/sys/%s", getenv("UMOCKDEV_DIR"), rel);
	truncate(p, 0);
}

static void vfio_node(int group, bool present)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/dev/vfio/%d", getenv("UMOCKDEV_DIR"), group);
	if (present)
		close(open(p, O_WRONLY | O_CREAT, 0600));
	else
		unlink(p);
}

#define WIFI_RULE(extra)                                                                   \
	"\"pciPassthrough\": [ { \"targetVm\": \"net-vm\"" extra ","                       \
	" \"allow\": [ { \"address\": \"0000:00:14.3\" } ] } ],"

static void test_bus_and_id_count_from_the_start_index(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	/* vmm.py vmm_args_pci(): f"vfio-pci,host={sys_name},multifunction=on,id={qemuid}{bus}" */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\","
			     "\"qemu_bus_prefix\":\"pci_hotplug_\",\"qemu_bus_start_index\":3}"),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-3,bus=pci_hotplug_3"));
out:
	env_close(&e);
}

static void test_no_prefix_no_bus_and_index_zero(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	/* apiserver.py _on_vmm_args(): int(msg.get("qemu_bus_start_index", 0)); no prefix: no bus. */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}"),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-0"));
	/* vhotplugcli sends null for what it was not given. */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\",\"qemu_bus_prefix\":null,"
			     "\"qemu_bus_start_index\":null}"),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-0"));
out:
	env_close(&e);
}

static void test_qemu_use_root_bus_drops_the_bus(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(", \"qemuUseRootBus\": true"), NULL));
	/* vmm_args_pci(): bus only "if qemu_bus_prefix and not qemu_use_root_bus" */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\","
			     "\"qemu_bus_prefix\":\"pci_hotplug_\",\"qemu_bus_start_index\":1}"),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-1"));
out:
	env_close(&e);
}

static void test_order_is_allow_entry_then_address(void)
{
	struct env e;

	/* device.py _get_pci_devices(): sorted by address, then by the rule's order. */
	REQUIRE(env_open(&e, "\"pciPassthrough\": [ { \"targetVm\": \"net-vm\", \"allow\": ["
			     " { \"vendorId\": \"144d\", \"deviceId\": \"a80a\" },"
			     " { \"address\": \"0000:00:14.3\" } ] } ],", NULL));
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\","
			     "\"qemu_bus_prefix\":\"pci_hotplug_\",\"qemu_bus_start_index\":1}"),
		     "-device vfio-pci,host=0000:01:00.0,multifunction=on,id=vhp-pci-1,bus=pci_hotplug_1 "
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-2,bus=pci_hotplug_2"));
out:
	env_close(&e);
}

#define GPU_RULE(extra)                                                                    \
	"\"pciPassthrough\": [ { \"targetVm\": \"gui-vm\"" extra ","                       \
	" \"allow\": [ { \"vendorId\": \"10de\", \"deviceId\": \"2820\" } ] } ],"
#define OVMF "\"ovmfCode\": \"/run/OVMF_CODE.fd\", \"ovmfVars\": \"/run/OVMF_VARS.fd\""

static void test_iommu_group_adds_its_other_function(void)
{
	struct env e;

	REQUIRE(env_open(&e, GPU_RULE(", \"pciIommuAddAll\": true"), NULL));
	/* _get_pci_devices(): pciIommuAddAll adds the group's other functions, same order. */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"gui-vm\","
			     "\"qemu_bus_prefix\":\"pci_hotplug_\",\"qemu_bus_start_index\":1}"),
		     "-device vfio-pci,host=0000:02:00.0,multifunction=on,id=vhp-pci-1,bus=pci_hotplug_1 "
		     "-device vfio-pci,host=0000:02:00.1,multifunction=on,id=vhp-pci-2,bus=pci_hotplug_2"));
out:
	env_close(&e);
}

static void test_auto_ovmf_puts_the_firmware_first(void)
{
	struct env e;

	REQUIRE(env_open(&e, GPU_RULE(", \"autoOvmf\": true"), OVMF));
	/* vmm.py vmm_args_ovmf(), prepended by device.py get_vmm_args() for an NVIDIA GPU. */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"gui-vm\",\"qemu_bus_start_index\":1}"),
		     "-drive if=pflash,format=raw,unit=0,readonly=on,file=/run/OVMF_CODE.fd "
		     "-drive if=pflash,format=raw,unit=1,readonly=on,file=/run/OVMF_VARS.fd "
		     "-device vfio-pci,host=0000:02:00.0,multifunction=on,id=vhp-pci-1"));
out:
	env_close(&e);
}

static void test_auto_ovmf_without_ovmf_code_fails(void)
{
	struct env e;

	REQUIRE(env_open(&e, GPU_RULE(", \"autoOvmf\": true"), NULL));
	/* vmm_args_ovmf(): RuntimeError("General ovmfCode is not defined") */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"gui-vm\"}"),
		     "failed: General ovmfCode is not defined"));
out:
	env_close(&e);
}

static void test_bind_records_each_group_members_driver(void)
{
	_cleanup_free_ char *gpu = NULL, *audio = NULL;
	char buf[64];
	struct env e;

	REQUIRE(env_open(&e, GPU_RULE(""), NULL));
	sys_clear("bus/pci/drivers/snd_hda_intel/unbind");
	sys_clear("bus/pci/devices/0000:02:00.1/driver_override");
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"gui-vm\"}"),
		     "-device vfio-pci,host=0000:02:00.0,multifunction=on,id=vhp-pci-0"));
	/* pci.py setup_vfio(): every function of the group to vfio-pci, the one not passed too. */
	CHECK(db_host_driver_get(e.db, "0000:02:00.0", &gpu) == 0 && streq(gpu, "nouveau"));
	CHECK(db_host_driver_get(e.db, "0000:02:00.1", &audio) == 0 && streq(audio, "snd_hda_intel"));
	sys_read("bus/pci/devices/0000:02:00.1/driver_override", buf, sizeof(buf));
	CHECK(streq(buf, "vfio-pci"));
	sys_read("bus/pci/drivers/snd_hda_intel/unbind", buf, sizeof(buf));
	CHECK(streq(buf, "0000:02:00.1"));
out:
	env_close(&e);
}

static void test_answer_waits_for_the_vfio_node(void)
{
	struct api_answer ans;
	json_object *reply = NULL;
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	vfio_node(7, false);
	CHECK(request(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}", &ans) == NULL);
	REQUIRE(ans.pending);
	CHECK(api_call_poll(ans.pending, &e.ctx, &reply) == 1 && !reply);
	vfio_node(7, true);
	CHECK(api_call_poll(ans.pending, &e.ctx, &reply) == 0);
	CHECK(expect(text(reply, false),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-0"));
out:
	vfio_node(7, true);
	json_object_put(reply);
	api_call_free(ans.pending);
	env_close(&e);
}

static void test_waiting_answer_names_when_to_look_again(void)
{
	struct api_answer ans;
	struct env e;
	int64_t before, at;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	vfio_node(7, false);
	before = clock_now_ms();
	request(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}", &ans);
	REQUIRE(ans.pending);
	/* A node appearing wakes no loop: the call asks for its next look, within the wait. */
	at = api_call_deadline(ans.pending);
	CHECK(at >= before && at <= clock_now_ms() + 5000);
out:
	vfio_node(7, true);
	api_call_free(ans.pending);
	env_close(&e);
}

static void test_answer_comes_past_the_wait_without_the_node(void)
{
	struct api_answer ans;
	json_object *reply = NULL;
	struct env e;
	int r = 1;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	vfio_node(7, false);
	request(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}", &ans);
	REQUIRE(ans.pending);
	/* pci.py _wait_for_vfio_device_node() gives up and the args go out all the same. */
	for (int i = 0; i < 600 && r == 1; i++) {
		r = api_call_poll(ans.pending, &e.ctx, &reply);
		if (r == 1)
			usleep(50 * 1000);
	}
	CHECK(r == 0);
	CHECK(expect(text(reply, false),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-0"));
out:
	vfio_node(7, true);
	json_object_put(reply);
	api_call_free(ans.pending);
	env_close(&e);
}

static void test_acpi_tables_with_their_owner(void)
{
	char sections[1024], table[256];
	struct stat st;
	struct env e;

	snprintf(table, sizeof(table), "%s/NHLT", dir);
	close(open(table, O_WRONLY | O_CREAT, 0600));
	REQUIRE(chown(table, 1234, 1234) == 0);
	snprintf(sections, sizeof(sections),
		 "\"acpiPassthrough\": [ { \"targetVm\": \"net-vm\", \"allow\": ["
		 " { \"acpiTable\": \"%s/missing\" },"
		 " { \"acpiTable\": \"%s\", \"setUser\": \"root\", \"setGroup\": \"root\" } ] } ],",
		 dir, table);
	REQUIRE(env_open(&e, sections, NULL));
	/* vmm.py vmm_args_acpi_table(): ["-acpitable", f"file={acpi_table}"]; a missing one is left out. */
	snprintf(sections, sizeof(sections), "-acpitable file=%s", table);
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}"), sections));
	CHECK(stat(table, &st) == 0 && st.st_uid == 0 && st.st_gid == 0);
out:
	env_close(&e);
}

static void test_vm_name_is_required(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	/* apiserver.py _on_vmm_args(): RuntimeError("VM name is required") */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\"}"), "failed: VM name is required"));
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"\"}"), "failed: VM name is required"));
out:
	env_close(&e);
}

static void test_unknown_vm_fails(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	/* device.py get_vmm_args(): RuntimeError(f"VM {vm_name} is not found in the config file") */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"nosuch\"}"),
		     "failed: VM nosuch is not found in the config file"));
out:
	env_close(&e);
}

static void test_user_detach_keeps_a_function_out(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	/* Beyond the original (it lists detached functions too): as a reconcile would. */
	REQUIRE(db_mark_device(e.db, "pci:0000:00:14.3", 1, "test") == 0);
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}"), ""));
out:
	env_close(&e);
}

static void test_detached_tag_keeps_its_functions_out(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(", \"tag\": \"wifi\""), NULL));
	/* The kill switch: vhotplugcli pci detach --tag wifi, remembered. */
	REQUIRE(db_mark_tag(e.db, "wifi", true, "test") == 0);
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}"), ""));
out:
	env_close(&e);
}

static void test_suspend_keeps_a_function_out(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	REQUIRE(db_suspended_add(e.db, "pci:0000:00:14.3", "net-vm", "pci", "test") == 0);
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}"), ""));
out:
	env_close(&e);
}

static void test_evdev_nodes_count_from_the_start_index_again(void)
{
	struct env e;

	REQUIRE(env_open(&e, GPU_RULE("")
			 "\"evdevPassthrough\": [ { \"targetVm\": \"gui-vm\", \"allow\": ["
			 " { \"property\": \"ID_INPUT_KEYBOARD\", \"value\": \"1\" } ] } ],", NULL));
	/* get_vmm_args(): the evdev loop starts again at qemu_bus_start_index; vmm.py vmm_args_evdev(). */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"gui-vm\",\"qemu_bus_start_index\":1}"),
		     "-device vfio-pci,host=0000:02:00.0,multifunction=on,id=vhp-pci-1 "
		     "-device virtio-input-host-pci,evdev=/dev/input/event3,id=vhp-evdev-1"));
out:
	env_close(&e);
}

static void test_crosvm_gets_its_vfio_argument(void)
{
	struct env e;

	REQUIRE(env_open(&e, "\"pciPassthrough\": [ { \"targetVm\": \"audio-vm\","
			     " \"allow\": [ { \"address\": \"0000:00:14.3\" } ] } ],", NULL));
	/* vmm_args_pci(): ["--vfio", f"/sys/bus/pci/devices/{sys_name},iommu=viommu"] */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"audio-vm\","
			     "\"qemu_bus_prefix\":\"pci_hotplug_\",\"qemu_bus_start_index\":1}"),
		     "--vfio /sys/bus/pci/devices/0000:00:14.3,iommu=viommu"));
out:
	env_close(&e);
}

static void test_acpi_table_for_crosvm_fails(void)
{
	char sections[512];
	struct env e;

	snprintf(sections, sizeof(sections),
		 "\"acpiPassthrough\": [ { \"targetVm\": \"audio-vm\", \"allow\": ["
		 " { \"acpiTable\": \"%s/NHLT\" } ] } ],", dir);
	close(open(strchr(sections, '/'), O_WRONLY | O_CREAT, 0600));
	REQUIRE(env_open(&e, sections, NULL));
	/* vmm_args_acpi_table(): RuntimeError(f"Unsupported vm type: {vm_type}") */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"audio-vm\"}"),
		     "failed: Unsupported vm type: crosvm"));
out:
	env_close(&e);
}

static void test_skip_if_shared_leaves_a_shared_function_out(void)
{
	struct env e;

	/* The NIC shares group 15 with a sound card and a serial port the rule does not take. */
	REQUIRE(env_open(&e, "\"pciPassthrough\": [ { \"targetVm\": \"net-vm\", \"pciIommuSkipIfShared\": true,"
			     " \"allow\": [ { \"address\": \"0000:06:00.0\" } ] } ],", NULL));
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\"}"), ""));
out:
	env_close(&e);
}

static void test_start_index_is_read_as_python_int_reads_it(void)
{
	struct env e;

	REQUIRE(env_open(&e, WIFI_RULE(""), NULL));
	/* _on_vmm_args(): int(msg.get("qemu_bus_start_index", 0)) */
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\",\"qemu_bus_start_index\":\"2\"}"),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-2"));
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\",\"qemu_bus_start_index\":\"+3\"}"),
		     "-device vfio-pci,host=0000:00:14.3,multifunction=on,id=vhp-pci-3"));
	CHECK(expect(ask(&e, "{\"action\":\"vmm_args\",\"vm\":\"net-vm\",\"qemu_bus_start_index\":\"x\"}"),
		     "failed: invalid literal for int() with base 10: 'x'"));
out:
	env_close(&e);
}

/* Not in a testbed yet: run again inside one, with tests/pci-testbed.sh's additions. */
static int reexec(const char *self)
{
	const char *src = getenv("top_srcdir") ?: ".";
	char data[5][512], script[512];
	static const char *const files[] = { "pci-wifi", "pci-nvme", "pci-nvidia", "pci-group",
					     "evdev-keyboard" };

	for (size_t i = 0; i < ARRAY_SIZE(files); i++)
		snprintf(data[i], sizeof(data[i]), "%s/tests/data/%s.umockdev", src, files[i]);
	snprintf(script, sizeof(script), "%s/tests/pci-testbed.sh", src);
	execlp("umockdev-run", "umockdev-run", "--device", data[0], "--device", data[1], "--device",
	       data[2], "--device", data[3], "--device", data[4], "--", "bash", "-c", ". \"$1\" && exec \"$2\"", "bash",
	       script, self, (char *)NULL);
	fprintf(stderr, "SKIP: umockdev-run: %s\n", strerror(errno));
	return 77;
}

int main(int argc, char **argv)
{
	static const int groups[] = { 7, 12, 13, 15 };
	char p[512];

	(void)argc;
	if (!getenv("UMOCKDEV_DIR"))
		return reexec(argv[0]);
	if (!mkdtemp(dir))
		return 1;
	snprintf(p, sizeof(p), "%s/dev", getenv("UMOCKDEV_DIR"));
	mkdir(p, 0755);
	strncat(p, "/vfio", sizeof(p) - strlen(p) - 1);
	mkdir(p, 0755);
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++)
		vfio_node(groups[i], true);

	test_bus_and_id_count_from_the_start_index();
	test_no_prefix_no_bus_and_index_zero();
	test_qemu_use_root_bus_drops_the_bus();
	test_order_is_allow_entry_then_address();
	test_iommu_group_adds_its_other_function();
	test_auto_ovmf_puts_the_firmware_first();
	test_auto_ovmf_without_ovmf_code_fails();
	test_bind_records_each_group_members_driver();
	test_answer_waits_for_the_vfio_node();
	test_waiting_answer_names_when_to_look_again();
	test_answer_comes_past_the_wait_without_the_node();
	test_acpi_tables_with_their_owner();
	test_vm_name_is_required();
	test_unknown_vm_fails();
	test_user_detach_keeps_a_function_out();
	test_detached_tag_keeps_its_functions_out();
	test_suspend_keeps_a_function_out();
	test_evdev_nodes_count_from_the_start_index_again();
	test_crosvm_gets_its_vfio_argument();
	test_acpi_table_for_crosvm_fails();
	test_skip_if_shared_leaves_a_shared_function_out();
	test_start_index_is_read_as_python_int_reads_it();

	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	if (system(p) != 0)
		return 1;
	return check_result();
}
