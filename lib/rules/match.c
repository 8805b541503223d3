/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <strings.h>

#include "kmods.h"
#include "match.h"
#include "macro.h"

#define MODALIAS_MAX 64
#define TRACE_STRING_MAX 128	/* a USB string has at most 126 bytes */

static void _printf_(2, 3) say(FILE *why, const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vfprintf(why, fmt, ap);
	va_end(ap);
}

/*
 * Unknown strings match as "", as upstream does, so ".*" still matches them.
 * The match must start at 0, as Python's re.match() upstream uses: POSIX
 * returns the leftmost match, so one at 0 is found whenever there is one.
 */
static bool re_ok(const regex_t *re, const char *s)
{
	regmatch_t m;

	return regexec(re, s ? s : "", 1, &m, 0) == 0 && m.rm_so == 0;
}

static bool int_field(unsigned fields, unsigned bit, int want, int have, const char *name,
		      FILE *why)
{
	if (!(fields & bit) || want == have)
		return true;
	say(why, "%s is %d, rule wants %d", name, have, want);
	return false;
}

static bool hex_field(unsigned fields, unsigned bit, unsigned want, int have, const char *name,
		      FILE *why)
{
	if (!(fields & bit) || (have >= 0 && (unsigned)have == want))
		return true;
	if (have < 0)
		say(why, "%s is unknown, rule wants %04x", name, want);
	else
		say(why, "%s is %04x, rule wants %04x", name, (unsigned)have, want);
	return false;
}

/* A device-supplied string in the trace: it may carry terminal escapes. */
static void say_device_string(FILE *why, const char *s)
{
	if (!why)
		return;
	fputc('"', why);
	device_put_escaped(why, s, TRACE_STRING_MAX);
	fputc('"', why);
}

static bool re_field(unsigned fields, unsigned bit, const regex_t *re, const char *have,
		     const char *name, FILE *why)
{
	if (!(fields & bit) || re_ok(re, have))
		return true;
	say(why, "%s ", name);
	say_device_string(why, have ? have : "");
	say(why, " does not match");
	return false;
}

bool match_iface(const struct rule *r, const struct usb_iface *i)
{
	return (!(r->fields & RF_IF_CLASS) || i->cls == r->if_class) &&
	       (!(r->fields & RF_IF_SUBCLASS) || i->subclass == r->if_subclass) &&
	       (!(r->fields & RF_IF_PROTOCOL) || i->protocol == r->if_protocol);
}

/* interfaceClass/Subclass/Protocol must hold together on one interface. */
static bool ifaces_field(const struct rule *r, const struct device *dev, FILE *why)
{
	if (!(r->fields & (RF_IF_CLASS | RF_IF_SUBCLASS | RF_IF_PROTOCOL)))
		return true;
	for (int i = 0; i < dev->n_ifaces; i++)
		if (match_iface(r, &dev->ifaces[i]))
			return true;
	say(why, "no interface has the rule's class/subclass/protocol");
	return false;
}

/* Upstream looks drivers up only for devices with no interface of a real class. */
static int classed_iface(const struct device *dev)
{
	for (int i = 0; i < dev->n_ifaces; i++)
		if (dev->ifaces[i].cls != 0 && dev->ifaces[i].cls != 0xff)
			return dev->ifaces[i].cls;
	return -1;
}

/* The kernel's modalias of interface I (numbered in order, as upstream does). */
static bool modalias(const struct device *dev, int i, char *buf, size_t size)
{
	const struct usb_iface *f = &dev->ifaces[i];

	if (dev->vendor_id < 0 || dev->product_id < 0 || dev->bcd_device < 0 ||
	    dev->dev_class < 0 || dev->dev_subclass < 0 || dev->dev_protocol < 0 ||
	    f->cls < 0 || f->subclass < 0 || f->protocol < 0)
		return false;
	snprintf(buf, size, "usb:v%04Xp%04Xd%04Xdc%02Xdsc%02Xdp%02Xic%02Xisc%02Xip%02Xin%02X",
		 dev->vendor_id & 0xffffu, dev->product_id & 0xffffu, dev->bcd_device & 0xffffu,
		 dev->dev_class & 0xffu, dev->dev_subclass & 0xffu, dev->dev_protocol & 0xffu,
		 f->cls & 0xffu, f->subclass & 0xffu, f->protocol & 0xffu, i & 0xffu);
	return true;
}

/* Does the file of a module for one of DEV's interfaces match? Says which files it saw. */
static bool driver_ok(const struct rule *r, const struct device *dev, struct kmods *kmods,
		      FILE *why)
{
	int seen = 0;

	for (int i = 0; i < dev->n_ifaces; i++) {
		char alias[MODALIAS_MAX];
		char **paths = NULL;
		int n;

		if (!modalias(dev, i, alias, sizeof(alias)))
			continue;
		n = kmods_lookup(kmods, alias, &paths);
		for (int j = 0; j < n; j++) {
			if (re_ok(&r->driver_path, paths[j])) {
				kmods_strv_free(paths);
				return true;
			}
			say(why, "%s%s", seen++ ? ", " : "driverPath does not match ", paths[j]);
		}
		kmods_strv_free(paths);
	}
	if (!seen)
		say(why, "driverPath: no kernel module for the device's interfaces");
	return false;
}

static bool driver_field(const struct rule *r, const struct device *dev, struct kmods *kmods,
			 FILE *why)
{
	int cls;

	if (!(r->fields & RF_DRIVER_PATH))
		return true;
	cls = classed_iface(dev);
	if (cls >= 0) {
		say(why, "driverPath: not looked at, an interface has class %02x (as upstream, only "
		    "devices with vendor-specific or no interface classes)", (unsigned)cls);
		return false;
	}
	return driver_ok(r, dev, kmods, why);
}

static unsigned removable_bit(const char *s)
{
	if (streq(s, "removable"))
		return REMOVABLE_REMOVABLE;
	if (streq(s, "fixed"))
		return REMOVABLE_FIXED;
	return REMOVABLE_UNKNOWN;
}

static bool usb_rule(const struct config *cfg, const struct rule *r, const struct device *dev,
		     FILE *why)
{
	struct kmods *kmods = cfg->kmods;
	unsigned f = r->fields;

	if (!hex_field(f, RF_VENDOR_ID, r->vendor_id, dev->vendor_id, "vendorId", why) ||
	    !hex_field(f, RF_PRODUCT_ID, r->product_id, dev->product_id, "productId", why) ||
	    !re_field(f, RF_VENDOR_NAME, &r->vendor_name, dev->vendor_name, "vendorName", why) ||
	    !re_field(f, RF_PRODUCT_NAME, &r->product_name, dev->product_name, "productName", why) ||
	    !int_field(f, RF_BUS, r->bus, dev->busnum, "bus", why) ||
	    !int_field(f, RF_PORT, r->port, dev->n_ports > 0 ? dev->ports[0] : -1, "root port",
		       why) ||
	    !int_field(f, RF_DEV_CLASS, r->dev_class, dev->dev_class, "deviceClass", why) ||
	    !int_field(f, RF_DEV_SUBCLASS, r->dev_subclass, dev->dev_subclass, "deviceSubclass",
		       why) ||
	    !int_field(f, RF_DEV_PROTOCOL, r->dev_protocol, dev->dev_protocol, "deviceProtocol",
		       why) ||
	    !ifaces_field(r, dev, why))
		return false;
	if ((f & RF_REMOVABLE) && !(r->removable & removable_bit(dev->removable))) {
		say(why, "removable is \"%s\"", dev->removable ? dev->removable : "unknown");
		return false;
	}
	/* Last: the only field that costs a look-up. */
	return driver_field(r, dev, kmods, why);
}

static bool pci_rule(const struct config *cfg, const struct rule *r, const struct device *dev,
		     FILE *why)
{
	unsigned f = r->fields;

	if ((f & RF_ADDRESS) && (!dev->sysname || strcasecmp(dev->sysname, r->address) != 0)) {
		say(why, "address is %s, rule wants %s", dev->sysname ? dev->sysname : "unknown",
		    r->address);
		return false;
	}
	return hex_field(f, RF_VENDOR_ID, r->vendor_id, dev->vendor_id, "vendorId", why) &&
	       hex_field(f, RF_DEVICE_ID, r->product_id, dev->product_id, "deviceId", why) &&
	       int_field(f, RF_DEV_CLASS, r->dev_class, dev->dev_class, "deviceClass", why) &&
	       int_field(f, RF_DEV_SUBCLASS, r->dev_subclass, dev->dev_subclass, "deviceSubclass",
			 why) &&
	       int_field(f, RF_DEV_PROTOCOL, r->dev_protocol, dev->dev_protocol, "deviceProgIf",
			 why);
}

static bool evdev_rule(const struct config *cfg, const struct rule *r, const struct device *dev,
		       FILE *why)
{
	unsigned f = r->fields;

	if (!re_field(f, RF_NAME, &r->name, dev->name, "name", why) ||
	    !re_field(f, RF_PATH_TAG, &r->path_tag, dev->path_tag, "pathTag", why))
		return false;
	if (f & RF_PROPERTY) {
		const char *v = device_property(dev, r->property);

		if (!v || (r->value && strcasecmp(v, r->value) != 0)) {
			say(why, "property %s is ", r->property);
			if (v)
				say_device_string(why, v);
			else
				say(why, "unset");
			return false;
		}
	}
	return true;
}

static const char *usb_never(const struct device *dev)
{
	if (dev->dev_class == 9)
		return "USB hubs are never passed through";
	for (int i = 0; i < dev->n_ifaces; i++)
		if (dev->ifaces[i].cls == 9)
			return "USB hubs are never passed through";
	return NULL;
}

static const char *evdev_never(const struct device *dev)
{
	if (streq(device_property(dev, "ID_BUS"), "usb"))
		return "USB input devices are passed through as USB devices, not evdev";
	if (!streq(device_property(dev, "ID_INPUT"), "1"))
		return "not an input device (ID_INPUT is not 1)";
	return NULL;
}

/* One row per device kind: how a rule matches it, and what no rule may pass (NULL: nothing). */
static const struct {
	bool (*rule)(const struct config *cfg, const struct rule *r, const struct device *dev,
		     FILE *why);
	const char *(*never)(const struct device *dev);
} kinds[DEV_KIND_MAX] = {
	[DEV_USB] = { .rule = usb_rule, .never = usb_never },
	[DEV_PCI] = { .rule = pci_rule },
	[DEV_EVDEV] = { .rule = evdev_rule, .never = evdev_never },
};

bool match_rule(const struct config *cfg, const struct rule *rule, const struct device *dev,
		FILE *why)
{
	/* Never everything: upstream's rule with no field matches nothing. */
	if (!rule->fields) {
		say(why, "no field to match: matches nothing");
		return false;
	}
	return kinds[dev->kind].rule(cfg, rule, dev, why);
}

const char *match_never_reason(const struct device *dev)
{
	return kinds[dev->kind].never ? kinds[dev->kind].never(dev) : NULL;
}

static const char *label(const struct rule *r)
{
	return r->description ? r->description : "";
}

/* The first enabled rule of LIST that matches DEV, or NULL. */
static const struct rule *first_match(const struct config *cfg, const struct rule *list, size_t n,
				      const struct device *dev, FILE *why)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &list[i];

		say(why, "  %s (%s): ", r->path, label(r));
		if (r->disabled) {
			say(why, "disabled\n");
			continue;
		}
		if (match_rule(cfg, r, dev, why)) {
			say(why, "matches\n");
			return r;
		}
		say(why, "\n");
	}
	return NULL;
}

static bool set_takes(const struct config *cfg, const struct ruleset *s, const struct device *dev,
		      struct match_result *res, FILE *why)
{
	const struct rule *allow, *deny;

	say(why, "%s (%s):", s->path, s->description ? s->description : "");
	if (s->disabled) {
		say(why, " disabled\n");
		return false;
	}
	if (s->no_target) {
		say(why, " skipped: neither targetVm nor allowedVms\n");
		return false;
	}
	say(why, "\n");
	allow = first_match(cfg, s->allow, s->n_allow, dev, why);
	if (!allow) {
		say(why, "  => no allow rule matches\n");
		return false;
	}
	deny = first_match(cfg, s->deny, s->n_deny, dev, why);
	if (deny) {
		say(why, "  => denied by %s\n", deny->path);
		return false;
	}
	say(why, "  => allowed by %s\n", allow->path);
	res->set = s;
	res->rule = allow;
	return true;
}

bool match_device(const struct config *cfg, const struct device *dev, struct match_result *res,
		  FILE *why)
{
	const char *never = match_never_reason(dev);

	res->set = NULL;
	res->rule = NULL;
	if (never) {
		say(why, "%s\n", never);
		return false;
	}
	for (size_t i = 0; i < cfg->n_sets; i++) {
		if (cfg->sets[i].kind != dev->kind)
			continue;
		if (set_takes(cfg, &cfg->sets[i], dev, res, why))
			return true;
	}
	return false;
}
