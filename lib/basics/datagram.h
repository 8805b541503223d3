/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Send MSG as one datagram to the unix socket PATH ("@name": abstract
 * namespace, as in systemd's NOTIFY_SOCKET). Never blocks: a full queue is
 * -EAGAIN. Returns 0 or -errno (-ENOENT/-ECONNREFUSED: nobody listens).
 */
int datagram_send(const char *path, const char *msg);
