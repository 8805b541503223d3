/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplug-hook: calls one lib/ function per run for the bats tests, which
 * prepare a umockdev testbed and then look at what landed in its files.
 *
 *   vfio-plan ADDR              group and members: "ADDR DRIVER|- bridge|function"
 *   vfio-bind ADDR              bind one member to vfio-pci
 *   vfio-restore ADDR [DRIVER]  give it back
 *   vfio-ready GROUP            exit 0 when the node exists; prints its path
 *   safety SYSPATH              "ok" or "refused: REASON"
 *   qemu-vfio HOST ID BUS       device_add arguments, JSON on one line
 *   qemu-evdev NODE ID BUS      likewise
 *   qemu-free-ports [BUSY...]   query-pci return value on stdin: free root ports
 *   qemu-has VVVV DDDD          query-pci on stdin: exit 0 when the guest has it
 *   qemu-occupied DESC          exit 0 when DESC is QEMU's occupied-port error
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
#include "qemu-args.h"
#include "safety.h"
#include "vfio.h"

static int fail(const char *what, int r)
{
	fprintf(stderr, "%s: %s\n", what, strerror(-r));
	return 1;
}

static int plan(const char *addr)
{
	struct vfio_group g;
	int r = vfio_group_plan(addr, &g);

	if (r < 0)
		return fail("vfio_group_plan", r);
	printf("group %d\n", g.group);
	for (size_t i = 0; i < g.n; i++)
		printf("%s %s %s\n", g.members[i].addr,
		       g.members[i].driver[0] ? g.members[i].driver : "-",
		       g.members[i].bridge ? "bridge" : "function");
	return 0;
}

static int print_args(struct json_object *a)
{
	if (!a) {
		fprintf(stderr, "invalid arguments\n");
		return 1;
	}
	puts(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(a);
	return 0;
}

static struct json_object *stdin_json(void)
{
	char buf[1 << 16];
	size_t n = fread(buf, 1, sizeof(buf) - 1, stdin);

	buf[n] = '\0';
	return json_tokener_parse(buf);
}

static int qemu(int argc, char **argv)
{
	if (argc == 5 && streq(argv[1], "qemu-vfio"))
		return print_args(qemu_args_vfio_pci(argv[2], argv[3], argv[4]));
	if (argc == 5 && streq(argv[1], "qemu-evdev"))
		return print_args(qemu_args_evdev(argv[2], argv[3], argv[4]));
	if (argc == 3 && streq(argv[1], "qemu-occupied"))
		return qemu_args_port_occupied(argv[2]) ? 0 : 1;
	if (streq(argv[1], "qemu-free-ports")) {
		struct json_object *q = stdin_json();
		char ports[16][QEMU_ARGS_ID_MAX];
		int n = qemu_args_free_ports(q, (const char *const *)argv + 2, ports, 16);

		for (int i = 0; i < n; i++)
			puts(ports[i]);
		json_object_put(q);
		return n < 0 ? 1 : 0;
	}
	if (argc == 4 && streq(argv[1], "qemu-has")) {
		struct json_object *q = stdin_json();
		bool has = qemu_args_has_device(q, (uint16_t)strtoul(argv[2], NULL, 16),
						(uint16_t)strtoul(argv[3], NULL, 16));

		json_object_put(q);
		return has ? 0 : 1;
	}
	return 64;
}

int main(int argc, char **argv)
{
	char buf[512];
	int r;

	log_open("vhotplug-hook", LOG_TARGET_PLAIN);
	if (argc == 3 && streq(argv[1], "vfio-plan"))
		return plan(argv[2]);
	if (argc == 3 && streq(argv[1], "vfio-bind")) {
		r = vfio_bind_member(argv[2]);
		return r < 0 ? fail("vfio_bind_member", r) : 0;
	}
	if ((argc == 3 || argc == 4) && streq(argv[1], "vfio-restore")) {
		r = vfio_restore_member(argv[2], argc == 4 ? argv[3] : NULL);
		return r < 0 ? fail("vfio_restore_member", r) : 0;
	}
	if (argc == 3 && streq(argv[1], "vfio-ready")) {
		r = vfio_dev_path(atoi(argv[2]), buf, sizeof(buf));
		if (r < 0)
			return fail("vfio_dev_path", r);
		puts(buf);
		return vfio_dev_ready(atoi(argv[2])) ? 0 : 2;
	}
	if (argc == 3 && streq(argv[1], "safety")) {
		r = safety_check_usb(argv[2], buf, sizeof(buf));
		if (r < 0)
			return fail("safety_check_usb", r);
		if (r > 0)
			printf("refused: %s\n", buf);
		else
			puts("ok");
		return 0;
	}
	if (argc >= 2 && strncmp(argv[1], "qemu-", 5) == 0) {
		r = qemu(argc, argv);
		if (r != 64)
			return r;
	}
	fprintf(stderr, "usage: see tests/hook.c\n");
	return 64;
}
