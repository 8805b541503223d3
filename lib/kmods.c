/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kmods.h"
#include "log.h"
#include "macro.h"

struct kmods {
	char *dir;		/* NULL: the running kernel's */
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
		kmod_unref(k->ctx);
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

static int kmods_open(struct kmods *k)
{
	if (k->ctx)
		return 0;
	k->ctx = kmod_new(k->dir, NULL);
	if (!k->ctx)
		return -ENOMEM;
	kmod_set_log_fn(k->ctx, kmods_log, NULL);
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
		r = kmod_module_new_from_lookup(k->ctx, alias, &list);
	kmod_list_foreach(e, list) {
		struct kmod_module *mod;
		const char *path;

		if (r < 0)
			break;
		mod = kmod_module_get_module(e);
		path = kmod_module_get_path(mod);
		if (path)
			r = strv_add(&strv, &n, path);
		kmod_module_unref(mod);
	}
	kmod_module_unref_list(list);
	if (r < 0) {
		kmods_strv_free(strv);
		return r;
	}
	*paths = strv;
	return (int)n;
}
