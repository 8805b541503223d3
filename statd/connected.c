/* SPDX-License-Identifier: Apache-2.0 */
/* statd -a (--attach-connected): the devices plugged in before statd started. */
#include <string.h>

#include "connected.h"
#include "intake.h"
#include "log.h"
#include "present.h"

struct connected {
	const struct config *cfg;
	struct db *db;
};

/*
 * One transaction per device: a device whose intake fails is rolled back
 * alone, so no device is left half-recorded (a row and no intent) and the
 * others still go in.
 */
static int queue_present(void *userdata, const struct device *dev, const struct match_result *m)
{
	struct connected *c = userdata;
	int r;

	if (!m->set)
		return 0;
	r = db_begin(c->db);
	if (r == 0)
		r = intake_add(c->db, c->cfg, NULL, dev, HISTORY_PRESENT);
	if (r == 0)
		r = db_commit(c->db);
	if (r < 0) {
		db_rollback(c->db);
		log_err("%s: already connected, but not recorded: %s", dev->syspath, strerror(-r));
	}
	return 0;
}

int statd_attach_connected(const struct config *cfg, struct db *db)
{
	struct connected c = { .cfg = cfg, .db = db };

	return present_each(cfg, queue_present, &c);
}
