/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libkmod is opened with dlopen() at the first look-up, not linked: it pulls
 * in libcrypto, libzstd and liblzma, whose loading alone doubled the
 * helper's start-up (5.6 to 11.6 ms of CPU per udev event) for every config,
 * while only configs with driverPath rules use it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmods.h"
#include "log.h"
#include "macro.h"

#define LIBKMOD_SONAME "libkmod.so.2"

/* The part of libkmod's API we use, looked up in the library at run time. */
struct kmod_api {
	void *handle;
	__typeof__(kmod_new) *new_ctx;
	__typeof__(kmod_unref) *unref;
	__typeof__(kmod_set_log_fn) *set_log_fn;
	__typeof__(kmod_module_new_from_lookup) *lookup;
	__typeof__(kmod_list_next) *list_next;
	__typeof__(kmod_module_get_module) *get_module;
	__typeof__(kmod_module_get_path) *get_path;
	__typeof__(kmod_module_unref) *module_unref;
	__typeof__(kmod_module_unref_list) *unref_list;
};

struct kmods {
	char *dir;		/* NULL: the running kernel's */
	struct kmod_api api;	/* loaded at the first look-up */
	struct kmod_ctx *ctx;	/* opened at the first look-up */
};

/* libkmod's complaints (a missing index) are for -d, not for every udev event. */
static void kmods_log(void *data, int priority, const char *file, int line, const char *fn,
		      const char *format, va_list args)
{
	char msg[512];

	if (log_get_max_level() < LOG_DEBUG)
		return;
	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("libkmod: %s", msg);
}

int kmods_new(const char *dir, struct kmods **out)
{
	struct kmods *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	if (!dir)
		dir = getenv("VHOTPLUG_MODULE_DIR");
	if (dir && *dir) {
		k->dir = strdup(dir);
		if (!k->dir) {
			free(k);
			return -ENOMEM;
		}
	}
	*out = k;
	return 0;
}

void kmods_free(struct kmods *k)
{
	if (!k)
		return;
	if (k->ctx)
		k->api.unref(k->ctx);
	if (k->api.handle)
		dlclose(k->api.handle);
	free(k->dir);
	free(k);
}

void kmods_strv_free(char **strv)
{
	if (!strv)
		return;
	for (char **s = strv; *s; s++)
		free(*s);
	free(strv);
}

static int api_load(struct kmod_api *api)
{
	struct {
		const char *name;
		void **fn;
	} syms[] = {
		{ "kmod_new", (void **)&api->new_ctx },
		{ "kmod_unref", (void **)&api->unref },
		{ "kmod_set_log_fn", (void **)&api->set_log_fn },
		{ "kmod_module_new_from_lookup", (void **)&api->lookup },
		{ "kmod_list_next", (void **)&api->list_next },
		{ "kmod_module_get_module", (void **)&api->get_module },
		{ "kmod_module_get_path", (void **)&api->get_path },
		{ "kmod_module_unref", (void **)&api->module_unref },
		{ "kmod_module_unref_list", (void **)&api->unref_list },
	};

	api->handle = dlopen(LIBKMOD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!api->handle) {
		log_err("driverPath rules need %s: %s", LIBKMOD_SONAME, dlerror());
		return -ENOENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(syms); i++) {
		*syms[i].fn = dlsym(api->handle, syms[i].name);
		if (!*syms[i].fn) {
			log_err("%s: no %s", LIBKMOD_SONAME, syms[i].name);
			dlclose(api->handle);
			api->handle = NULL;
			return -ENOENT;
		}
	}
	return 0;
}

static int kmods_open(struct kmods *k)
{
	int r;

	if (k->ctx)
		return 0;
	if (!k->api.handle) {
		r = api_load(&k->api);
		if (r < 0)
			return r;
	}
	k->ctx = k->api.new_ctx(k->dir, NULL);
	if (!k->ctx)
		return -ENOMEM;
	k->api.set_log_fn(k->ctx, kmods_log, NULL);
	return 0;
}

static int strv_add(char ***strv, size_t *n, const char *s)
{
	char **bigger;

	for (size_t i = 0; i < *n; i++)
		if (streq((*strv)[i], s))
			return 0;	/* two aliases of one module */
	bigger = realloc(*strv, (*n + 2) * sizeof(**strv));
	if (!bigger)
		return -ENOMEM;
	*strv = bigger;
	bigger[*n] = strdup(s);
	if (!bigger[*n])
		return -ENOMEM;
	bigger[++*n] = NULL;
	return 0;
}

int kmods_lookup(struct kmods *k, const char *alias, char ***paths)
{
	struct kmod_list *list = NULL, *e;
	char **strv = calloc(1, sizeof(*strv));
	size_t n = 0;
	int r;

	if (!strv)
		return -ENOMEM;
	r = kmods_open(k);
	if (r == 0)
		r = k->api.lookup(k->ctx, alias, &list);
	for (e = list; r >= 0 && e; e = k->api.list_next(list, e)) {
		struct kmod_module *mod = k->api.get_module(e);
		const char *path = k->api.get_path(mod);

		if (path)
			r = strv_add(&strv, &n, path);
		k->api.module_unref(mod);
	}
	if (list)
		k->api.unref_list(list);
	if (r < 0) {
		kmods_strv_free(strv);
		return r;
	}
	*paths = strv;
	return (int)n;
}
