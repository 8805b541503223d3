/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"
#include "db.h"

/*
 * Like upstream's -a: record whatever a rule takes among the devices already
 * there, as if each had just been plugged (history "present"). Returns 0, or
 * -errno when the devices cannot be listed; a device that cannot be recorded
 * is logged and the others still go in.
 */
int statd_attach_connected(const struct config *cfg, struct db *db);
