/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include "config.h"

struct json_object;

/* SET's allowedVms as a JSON array; NULL when SET is NULL or names none (or no memory). */
struct json_object *config_allowed_vms_json(const struct ruleset *set);
