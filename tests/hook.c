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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "macro.h"
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
	fprintf(stderr, "usage: see tests/hook.c\n");
	return 64;
}
