/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "paths.h"

/*
 * Tell statd there is work: one datagram to its wake socket. Never blocks.
 * Returns 0 or -errno (-ENOENT/-ECONNREFUSED when statd is not running,
 * which is fine: it drains the queue when it starts).
 */
int wake_statd(const struct paths *paths, const char *msg);
