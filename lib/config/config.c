/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading the vhotplug JSON config: the file, the top level and
 * "general"; VMs are in config-vms.c, rule sets in config-rules.c, values in
 * config-value.c.
 *
 * Every problem is reported, not just the first, so that one
 * --check-config run shows the user all of them. A parser returns -EINVAL
 * for a problem it has reported, and its caller goes on; any other -errno
 * (out of memory) is fatal. config_load() fails with -EINVAL at the end if
 * anything was reported.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config-private.h"
#include "kmods.h"
#include "log.h"

/* read_file(): the path is not a regular file. */
#define EFTYPE_NOT_REGULAR EINVAL

/*
 * Far above any real config (a few kilobytes): a 16.7 MB one cost the helper
 * 23 s and 3.1 GB per event. Also keeps json_tokener's int length safe.
 */
#define CONFIG_MAX_SIZE (1 << 20)

static const char *const dev_kind_table[DEV_KIND_MAX] = {
	[DEV_USB] = "usb",
	[DEV_PCI] = "pci",
	[DEV_EVDEV] = "evdev",
};
DEFINE_STRING_TABLE_LOOKUP(dev_kind, enum dev_kind, DEV_KIND_MAX)
#define MODULE_TOOLS_WHY "driverPath rules look modules up with libkmod, no program is run"

static const struct key general_keys[] = {
	K("crosvm", KT_STRING, struct config, crosvm),
	K_LATER("statePath", KT_STRING, struct config, state_path),
	K_INT("qmpTimeoutMs", struct config, qmp_timeout_ms, 1, 600000),
	K_INT("deviceDeletedTimeoutMs", struct config, device_deleted_timeout_ms, 1, 600000),
	K_INT("historyDays", struct config, history_days, 1, 36500),
	K_CUSTOM("api"),
	K("ovmfCode", KT_STRING, struct config, ovmf_code),
	K("ovmfVars", KT_STRING, struct config, ovmf_vars),
	K_LATER("persistency", KT_BOOL, struct config, persistency),
	K_IGNORED_WHY("modprobe", MODULE_TOOLS_WHY),
	K_IGNORED_WHY("modinfo", MODULE_TOOLS_WHY),
	K_END
};

static const struct key root_keys[] = {
	K_CUSTOM("usbPassthrough"),
	K_CUSTOM("pciPassthrough"),
	K_CUSTOM("evdevPassthrough"),
	K_CUSTOM("vms"),
	K_CUSTOM("general"),
	K_CUSTOM("acpiPassthrough"),
	K_CUSTOM("usbAuthorization"),
	K_END
};

static void json_putp(struct json_object **obj)
{
	json_object_put(*obj);
}

static void json_tokener_freep(struct json_tokener **tok)
{
	if (*tok)
		json_tokener_free(*tok);
}

static void config_freep(struct config **cfg)
{
	config_free(*cfg);
}

static int parse_general(struct parser *p, struct json_object *root)
{
	struct json_object *obj;
	int r;

	if (!get_member(root, "general", &obj))
		return 0;
	if (!is_type(obj, json_type_object))
		return config_report(p, "", "general", "expected an object");
	r = config_parse_members(p, obj, "general", general_keys, p->cfg, NULL);
	if (r < 0)
		return r;
	return config_parse_api(p, obj);
}

static int parse_root(struct parser *p, struct json_object *root)
{
	int r;

	if (!is_type(root, json_type_object))
		return config_report(p, "", NULL, "expected a JSON object at the top level");
	r = config_parse_members(p, root, "", root_keys, NULL, NULL);
	if (r < 0)
		return r;
	/* VMs first: rule sets refer to them. */
	r = config_parse_vms(p, root);
	if (r < 0 && r != -EINVAL)
		return r;
	r = config_parse_sections(p, root);
	if (r < 0)
		return r;
	r = config_parse_acpi(p, root);
	if (r < 0 && r != -EINVAL)
		return r;
	r = config_parse_usb_auth(p, root);
	if (r < 0 && r != -EINVAL)
		return r;
	r = parse_general(p, root);
	return r == -EINVAL ? 0 : r;
}

static int report_syntax(struct parser *p, const char *buf, size_t len, size_t offset,
			 const char *reason)
{
	unsigned line = 1;
	size_t line_start = 0;

	if (offset > len)
		offset = len;	/* the tokener may have eaten the final NUL */
	for (size_t i = 0; i < offset; i++) {
		if (buf[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	}
	p->n_errors++;
	if (p->errs)
		fprintf(p->errs, "%s:%u:%zu: JSON syntax error: %s\n", p->file, line,
			offset - line_start + 1, reason);
	return -EINVAL;
}

/* BUF is NUL-terminated at LEN: the tokener needs the NUL to end a bare number. */
static int parse_json(struct parser *p, const char *buf, size_t len,
		      struct json_object **out)
{
	_cleanup_(json_tokener_freep) struct json_tokener *tok = json_tokener_new();
	_cleanup_(json_putp) struct json_object *root = NULL;
	enum json_tokener_error err;
	size_t end;

	if (!tok)
		return -ENOMEM;
	if (strspn(buf, " \t\r\n") == len)
		return config_report(p, "", NULL, "empty file (expected a JSON object)");
	root = json_tokener_parse_ex(tok, buf, len + 1);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!root && err == json_tokener_continue)
		return report_syntax(p, buf, len, len, "unexpected end of file");
	if (!root)
		return report_syntax(p, buf, len, end, json_tokener_error_desc(err));
	/* The tokener stops after the first value; anything but blanks is junk. */
	end += strspn(buf + end, " \t\r\n");
	if (end < len)
		return report_syntax(p, buf, len, end, "unexpected data after the top-level object");
	*out = root;
	root = NULL;
	return 0;
}

/*
 * O_NONBLOCK and a regular file only: a FIFO or a device at the config path
 * must not block the helper, and udev's worker with it.
 */
static int read_file(const char *file, char **out, size_t *out_len)
{
	_cleanup_close_ int fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, size = 0;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EFTYPE_NOT_REGULAR;
	if (st.st_size > CONFIG_MAX_SIZE)
		return -EFBIG;
	for (;;) {
		ssize_t n;

		if (len == size) {
			char *bigger;

			/* Grown meanwhile: one byte past the bound is enough to tell. */
			if (size > CONFIG_MAX_SIZE)
				return -EFBIG;
			size = size ? size * 2 : 4096;
			bigger = realloc(buf, size + 1);
			if (!bigger)
				return -ENOMEM;
			buf = bigger;
		}
		n = read(fd, buf + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += n;
	}
	if (len > CONFIG_MAX_SIZE)
		return -EFBIG;
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	buf = NULL;
	return 0;
}

static int config_new(const char *file, struct config **out)
{
	struct config *cfg = calloc(1, sizeof(*cfg));

	if (!cfg)
		return -ENOMEM;
	cfg->qmp_timeout_ms = 5000;
	cfg->device_deleted_timeout_ms = 5000;
	cfg->persistency = true;
	cfg->api.port = 2000;
	cfg->api.unix_socket_mode = -1;
	cfg->file = strdup(file);
	if (!cfg->file || kmods_new(NULL, &cfg->kmods) < 0) {
		free(cfg->file);
		free(cfg);
		return -ENOMEM;
	}
	*out = cfg;
	return 0;
}

static int config_parse(struct parser *p, const char *buf, size_t len)
{
	_cleanup_(json_putp) struct json_object *root = NULL;
	int r;

	r = parse_json(p, buf, len, &root);
	if (r < 0)
		return r;
	r = parse_root(p, root);
	config_warn_flush(p);
	/* A bound passed: reported, and the rest left unread. */
	if (r < 0 && r != -EINVAL && r != -E2BIG)
		return r;
	if (!p->cfg->crosvm) {
		p->cfg->crosvm = strdup("crosvm");
		if (!p->cfg->crosvm)
			return -ENOMEM;
	}
	return p->n_errors ? -EINVAL : 0;
}

int config_load_flags(const char *file, unsigned flags, struct config **out, FILE *errs)
{
	_cleanup_(config_freep) struct config *cfg = NULL;
	_cleanup_free_ char *buf = NULL;
	struct parser p = { .file = file, .errs = errs, .flags = flags };
	size_t len = 0;
	int r;

	*out = NULL;
	r = read_file(file, &buf, &len);
	if (r < 0) {
		if (errs && r == -EFBIG)
			fprintf(errs, "%s: larger than %d bytes (1 MiB), the most a config may be\n",
				file, CONFIG_MAX_SIZE);
		else if (errs)
			fprintf(errs, "%s: %s\n", file,
				r == -EFTYPE_NOT_REGULAR ? "not a regular file (a FIFO, device or directory?)" :
							   strerror(-r));
		return r;
	}
	r = config_new(file, &cfg);
	if (r == 0) {
		p.cfg = cfg;
		r = config_parse(&p, buf, len);
	}
	if (r < 0 && r != -EINVAL && errs)
		fprintf(errs, "%s: %s\n", file, strerror(-r));
	if (r < 0)
		return r;
	*out = cfg;
	cfg = NULL;
	return 0;
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_sets; i++)
		config_ruleset_free(&cfg->sets[i]);
	free(cfg->sets);
	for (size_t i = 0; i < cfg->n_vms; i++) {
		free(cfg->vms[i].name);
		free(cfg->vms[i].socket);
		free(cfg->vms[i].user);
	}
	free(cfg->vms);
	free(cfg->file);
	free(cfg->crosvm);
	free(cfg->state_path);
	free(cfg->ovmf_code);
	free(cfg->ovmf_vars);
	config_extras_free(cfg);
	kmods_free(cfg->kmods);
	free(cfg);
}

int config_set_module_dir(struct config *cfg, const char *dir)
{
	struct kmods *k;
	int r = kmods_new(dir, &k);

	if (r < 0)
		return r;
	kmods_free(cfg->kmods);
	cfg->kmods = k;
	return 0;
}
