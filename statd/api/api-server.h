/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * The original's JSON API (general.api), served from statd's one loop: a
 * listening socket per transport, and each client a connection whose
 * requests go to lib/api (api.h). Never blocks the loop on a client.
 */
#include "api.h"

struct loop;
struct vmm;
struct api_server;

/*
 * Listen on the transports CFG names (none: no socket at all). LOOP, PATHS,
 * CFG, DB and VMM are borrowed; VMM is poked when a request queued intents.
 * A transport that cannot be opened is logged and left out.
 */
int api_server_new(struct loop *loop, const struct paths *paths, const struct config *cfg,
		   struct db *db, struct vmm *vmm, struct api_server **out);
/* Close every client and listening socket (and remove the unix socket). */
void api_server_free(struct api_server *srv);
/* SIGHUP: requests see CFG from now on; the sockets stay as they were opened. */
void api_server_set_config(struct api_server *srv, const struct config *cfg);
/*
 * statd's post hook, after vmm_dispatch(): send the notifications the batch
 * wrote, then the replies of the calls that ended.
 */
void api_server_post(struct api_server *srv);
