/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"
#include "db.h"

/*
 * usbAuthorization, statd's part, at start (OLD NULL) and at each reload
 * (OLD the config in use until now, CFG the new one).
 *
 * Turned on (at start, or by a reload): usbcore's and every root hub's
 * authorized_default to 0, each value found saved first in the database
 * (usb_auth_saved); every hub authorized; with deauthorizeUnmatched, every
 * other device no VM has, that backs no mount and that no hostAllow rule
 * takes, deauthorized (a hostAllow one authorized; when its rule names
 * interfaces, only those: statd/hostauth.c).
 *
 * Off (by a reload, or at a start that finds values saved): the saved
 * values written back and forgotten.
 *
 * Each write is a history row (authorized, deauthorized, authorization_failed);
 * a failure is logged and recorded, and never stops statd.
 */
void statd_usbauth_apply(struct db *db, const struct config *old, const struct config *cfg);
