/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qemu-args.h"
#include "qemu-ports.h"

/* More root ports than any real VM config gives a guest. */
#define PORTS_MAX 64

struct held {
	char qdev_id[QEMU_ARGS_ID_MAX];
	char port[QEMU_ARGS_ID_MAX];
};

struct qemu_ports {
	struct held held[PORTS_MAX];
	size_t n_held;
	char plan[PORTS_MAX][QEMU_ARGS_ID_MAX];
	size_t n_plan, next;
};

int qemu_ports_new(struct qemu_ports **out)
{
	*out = calloc(1, sizeof(**out));
	return *out ? 0 : -ENOMEM;
}

void qemu_ports_free(struct qemu_ports *p)
{
	free(p);
}

int qemu_ports_plan(struct qemu_ports *p, struct json_object *query_pci)
{
	const char *busy[PORTS_MAX + 1];
	int n;

	for (size_t i = 0; i < p->n_held; i++)
		busy[i] = p->held[i].port;
	busy[p->n_held] = NULL;
	p->n_plan = p->next = 0;
	n = qemu_args_free_ports(query_pci, busy, p->plan, PORTS_MAX);
	if (n < 0)
		return n;
	p->n_plan = n;
	return 0;
}

const char *qemu_ports_next(struct qemu_ports *p)
{
	return p->next < p->n_plan ? p->plan[p->next++] : NULL;
}

void qemu_ports_hold_at(struct qemu_ports *p, const char *qdev_id, const char *port)
{
	struct held *h;

	qemu_ports_release(p, qdev_id);
	if (p->n_held == PORTS_MAX)
		return;
	h = &p->held[p->n_held++];
	snprintf(h->qdev_id, sizeof(h->qdev_id), "%s", qdev_id);
	snprintf(h->port, sizeof(h->port), "%s", port);
}

void qemu_ports_hold(struct qemu_ports *p, const char *qdev_id)
{
	char port[QEMU_ARGS_ID_MAX];

	if (p->next == 0)
		return;
	memcpy(port, p->plan[p->next - 1], sizeof(port));
	qemu_ports_hold_at(p, qdev_id, port);
}

void qemu_ports_release(struct qemu_ports *p, const char *qdev_id)
{
	for (size_t i = 0; i < p->n_held; i++)
		if (streq(p->held[i].qdev_id, qdev_id)) {
			p->held[i] = p->held[--p->n_held];
			return;
		}
}

void qemu_ports_keep_only(struct qemu_ports *p, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < p->n_held;) {
		bool kept = false;

		for (size_t k = 0; !kept && k < n; k++)
			kept = streq(p->held[i].qdev_id, ids[k]);
		if (kept)
			i++;
		else
			p->held[i] = p->held[--p->n_held];
	}
}
