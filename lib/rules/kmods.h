/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <stddef.h>

/*
 * Kernel module look-ups for "driverPath" rules, in-process with libkmod
 * (the library modprobe and modinfo are built on): no program is run.
 */
struct kmods;

/*
 * DIR is a module directory such as /lib/modules/6.1.0-18-amd64; NULL means
 * $VHOTPLUG_MODULE_DIR, else the running kernel's. Nothing is opened until
 * the first look-up, so that only configs with driverPath rules pay for it.
 */
int kmods_new(const char *dir, struct kmods **out);
void kmods_free(struct kmods *k);

/*
 * The files of the modules that modalias ALIAS resolves to, as `modprobe -R`
 * and `modinfo -n` would give them, as a NULL-terminated array that the
 * caller frees with kmods_strv_free(). Built-in modules have no file and are
 * left out. Returns the number of files, or -errno.
 */
int kmods_lookup(struct kmods *k, const char *alias, char ***paths);
void kmods_strv_free(char **strv);
