/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <strings.h>

#include "match.h"
#include "macro.h"

static void _printf_(2, 3) say(FILE *why, const char *fmt, ...)
{
	va_list ap;

	if (!why)
		return;
	va_start(ap, fmt);
	vfprintf(why, fmt, ap);
	va_end(ap);
}

/* Unknown strings match as "", as upstream does, so ".*" still matches them. */
static bool re_ok(const regex_t *re, const char *s)
{
	return regexec(re, s ? s : "", 0, NULL, 0) == 0;
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

static bool re_field(unsigned fields, unsigned bit, const regex_t *re, const char *have,
		     const char *name, FILE *why)
{
	if (!(fields & bit) || re_ok(re, have))
		return true;
	say(why, "%s \"%s\" does not match", name, have ? have : "");
	return false;
}

static bool iface_ok(const struct rule *r, const struct usb_iface *i)
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
		if (iface_ok(r, &dev->ifaces[i]))
			return true;
	say(why, "no interface has the rule's class/subclass/protocol");
	return false;
}

static unsigned removable_bit(const char *s)
{
	if (streq(s, "removable"))
		return REMOVABLE_REMOVABLE;
	if (streq(s, "fixed"))
		return REMOVABLE_FIXED;
	return REMOVABLE_UNKNOWN;
}

static bool usb_rule(const struct rule *r, const struct device *dev, FILE *why)
{
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
	return true;
}

static bool pci_rule(const struct rule *r, const struct device *dev, FILE *why)
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

static bool evdev_rule(const struct rule *r, const struct device *dev, FILE *why)
{
	unsigned f = r->fields;

	if (!re_field(f, RF_NAME, &r->name, dev->name, "name", why) ||
	    !re_field(f, RF_PATH_TAG, &r->path_tag, dev->path_tag, "pathTag", why))
		return false;
	if (f & RF_PROPERTY) {
		const char *v = device_property(dev, r->property);

		if (!v || (r->value && strcasecmp(v, r->value) != 0)) {
			say(why, "property %s is %s%s%s", r->property, v ? "\"" : "", v ? v : "unset",
			    v ? "\"" : "");
			return false;
		}
	}
	return true;
}

bool match_rule(const struct rule *rule, const struct device *dev, FILE *why)
{
	switch (dev->kind) {
	case DEV_USB:
		return usb_rule(rule, dev, why);
	case DEV_PCI:
		return pci_rule(rule, dev, why);
	default:
		return evdev_rule(rule, dev, why);
	}
}

const char *match_never_reason(const struct device *dev)
{
	if (dev->kind == DEV_USB) {
		if (dev->dev_class == 9)
			return "USB hubs are never passed through";
		for (int i = 0; i < dev->n_ifaces; i++)
			if (dev->ifaces[i].cls == 9)
				return "USB hubs are never passed through";
	} else if (dev->kind == DEV_EVDEV) {
		if (streq(device_property(dev, "ID_BUS"), "usb"))
			return "USB input devices are passed through as USB devices, not evdev";
		if (!streq(device_property(dev, "ID_INPUT"), "1"))
			return "not an input device (ID_INPUT is not 1)";
	}
	return NULL;
}

static const char *label(const struct rule *r)
{
	return r->description ? r->description : "";
}

/* The first enabled rule of LIST that matches DEV, or NULL. */
static const struct rule *first_match(const struct rule *list, size_t n, const struct device *dev,
				      FILE *why)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &list[i];

		say(why, "  %s (%s): ", r->path, label(r));
		if (r->disabled) {
			say(why, "disabled\n");
			continue;
		}
		if (match_rule(r, dev, why)) {
			say(why, "matches\n");
			return r;
		}
		say(why, "\n");
	}
	return NULL;
}

static bool set_takes(const struct ruleset *s, const struct device *dev, struct match_result *res,
		      FILE *why)
{
	const struct rule *allow, *deny;

	say(why, "%s (%s):", s->path, s->description ? s->description : "");
	if (s->disabled) {
		say(why, " disabled\n");
		return false;
	}
	say(why, "\n");
	allow = first_match(s->allow, s->n_allow, dev, why);
	if (!allow) {
		say(why, "  => no allow rule matches\n");
		return false;
	}
	deny = first_match(s->deny, s->n_deny, dev, why);
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
		if (set_takes(&cfg->sets[i], dev, res, why))
			return true;
	}
	return false;
}
