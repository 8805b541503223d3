/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The original's command line, parsed as its argparse parser would: the
 * same options (long ones may be abbreviated), global options only before
 * the subcommand, errors as a usage line and "PROG: error: ..." on stderr
 * with exit status 2, -h on stdout with 0.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char top_usage[] =
	"usage: vhotplugcli [-h] [-d | --debug | --no-debug] [-t {unix,tcp,vsock}]\n"
	"                   [-u PATH] [-s HOST] [-p NET_PORT] [-c CID]\n"
	"                   [--timeout SECONDS]\n"
	"                   {usb,listen,pci,vmm} ...\n";

static const char top_help[] =
	"\n"
	"Ask vhotplug's API to list, attach, detach, suspend and resume devices.\n"
	"\n"
	"positional arguments:\n"
	"  {usb,listen,pci,vmm}\n"
	"    usb                 USB devices\n"
	"    listen              print the API's notifications\n"
	"    pci                 PCI devices\n"
	"    vmm                 a VM's arguments for its VMM\n"
	"\n"
	"options:\n"
	"  -h, --help            show this help and exit\n"
	"  -d, --debug, --no-debug\n"
	"                        log what is sent and received\n"
	"  -t {unix,tcp,vsock}, --transport {unix,tcp,vsock}\n"
	"                        how to reach the API (default: vsock inside a VM,\n"
	"                        else unix)\n"
	"  -u PATH, --path PATH  the unix socket (default:\n"
	"                        /var/lib/vhotplug/vhotplug.sock)\n"
	"  -s HOST, --host HOST  the tcp host (default: 127.0.0.1)\n"
	"  -p NET_PORT, --net-port NET_PORT\n"
	"                        the tcp or vsock port (default: 2000)\n"
	"  -c CID, --cid CID     the vsock CID (default: 2, the host)\n"
	"  --timeout SECONDS     bound on connecting and on each reply, 0 for none\n"
	"                        (default: 120)\n";

enum opt_kind { K_STR, K_INT, K_FLAG };

static const struct {
	const char *name, *metavar, *help;
	enum opt_kind kind;
} defs[_O_MAX] = {
	[O_DEVNODE] = { "devnode", "DEVNODE", "the device node, /dev/bus/usb/BBB/DDD", K_STR },
	[O_BUS] = { "bus", "BUS", "the USB bus number", K_INT },
	[O_PORT] = { "port", "PORT", "the USB port number", K_INT },
	[O_VID] = { "vid", "VID", "the vendor ID", K_STR },
	[O_PID] = { "pid", "PID", "the USB product ID", K_STR },
	[O_DID] = { "did", "DID", "the PCI device ID", K_STR },
	[O_ADDRESS] = { "address", "ADDRESS", "the PCI address, as 0000:00:01.0", K_STR },
	[O_VM] = { "vm", "VM", "the VM's name", K_STR },
	[O_TAG] = { "tag", "TAG", "the devices of the rules with this tag", K_STR },
	[O_CONNECTED] = { "connected", NULL, "only the devices plugged in", K_FLAG },
	[O_DISCONNECTED] = { "disconnected", NULL, "only the devices not plugged in", K_FLAG },
	[O_SHORT] = { "short", NULL, "one line per device", K_FLAG },
	[O_PREFIX] = { "qemu-bus-prefix", "QEMU_BUS_PREFIX", "the QEMU bus name before its number", K_STR },
	[O_START_INDEX] = { "qemu-bus-start-index", "QEMU_BUS_START_INDEX", "the first bus number", K_INT },
};

#define OPTS(...) (const enum cli_opt[]){ __VA_ARGS__, _O_MAX }
static const struct cli_command commands[] = {
	{ "usb", "attach", cmd_usb_attach,
	  "usage: vhotplugcli usb attach [-h] [--devnode DEVNODE] [--bus BUS]\n"
	  "                              [--port PORT] [--vid VID] [--pid PID] [--vm VM]\n"
	  "                              [--tag TAG]\n",
	  OPTS(O_DEVNODE, O_BUS, O_PORT, O_VID, O_PID, O_VM, O_TAG), "attach a USB device" },
	{ "usb", "detach", cmd_usb_detach,
	  "usage: vhotplugcli usb detach [-h] [--devnode DEVNODE] [--bus BUS]\n"
	  "                              [--port PORT] [--vid VID] [--pid PID]\n"
	  "                              [--tag TAG]\n",
	  OPTS(O_DEVNODE, O_BUS, O_PORT, O_VID, O_PID, O_TAG), "detach a USB device" },
	{ "usb", "list", cmd_usb_list,
	  "usage: vhotplugcli usb list [-h] [--connected | --disconnected] [--short]\n"
	  "                            [--tag TAG]\n",
	  OPTS(O_CONNECTED, O_DISCONNECTED, O_SHORT, O_TAG), "list USB devices" },
	{ "usb", "suspend", cmd_usb_suspend, "usage: vhotplugcli usb suspend [-h] [--vm VM]\n",
	  OPTS(O_VM), "detach USB devices before the host sleeps" },
	{ "usb", "resume", cmd_usb_resume, "usage: vhotplugcli usb resume [-h] [--vm VM]\n",
	  OPTS(O_VM), "attach again what suspend detached" },
	{ "pci", "attach", cmd_pci_attach,
	  "usage: vhotplugcli pci attach [-h] [--address ADDRESS] [--vid VID] [--did DID]\n"
	  "                              [--vm VM] [--tag TAG]\n",
	  OPTS(O_ADDRESS, O_VID, O_DID, O_VM, O_TAG), "attach a PCI device" },
	{ "pci", "detach", cmd_pci_detach,
	  "usage: vhotplugcli pci detach [-h] [--address ADDRESS] [--vid VID] [--did DID]\n"
	  "                              [--tag TAG]\n",
	  OPTS(O_ADDRESS, O_VID, O_DID, O_TAG), "detach a PCI device" },
	{ "pci", "list", cmd_pci_list,
	  "usage: vhotplugcli pci list [-h] [--connected | --disconnected] [--short]\n"
	  "                            [--tag TAG]\n",
	  OPTS(O_CONNECTED, O_DISCONNECTED, O_SHORT, O_TAG), "list PCI devices" },
	{ "pci", "suspend", cmd_pci_suspend, "usage: vhotplugcli pci suspend [-h] [--vm VM]\n",
	  OPTS(O_VM), "detach PCI devices before the host sleeps" },
	{ "pci", "resume", cmd_pci_resume, "usage: vhotplugcli pci resume [-h] [--vm VM]\n",
	  OPTS(O_VM), "attach again what suspend detached" },
	{ "vmm", "args", cmd_vmm_args,
	  "usage: vhotplugcli vmm args [-h] [--vm VM] [--qemu-bus-prefix QEMU_BUS_PREFIX]\n"
	  "                            [--qemu-bus-start-index QEMU_BUS_START_INDEX]\n",
	  OPTS(O_VM, O_PREFIX, O_START_INDEX), "print the VMM arguments of a VM's devices" },
	{ "listen", NULL, cmd_listen, "usage: vhotplugcli listen [-h]\n", OPTS(_O_MAX),
	  "print the API's notifications until interrupted" },
};

static const char *const subsystems[] = { "usb", "listen", "pci", "vmm" };

_Noreturn static void die(const char *usage, const char *prog, const char *fmt, ...) _printf_(3, 4);
static void die(const char *usage, const char *prog, const char *fmt, ...)
{
	va_list ap;

	fputs(usage, stderr);
	fprintf(stderr, "%s: error: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

/* Python's int(): white space around, a sign, digits with single underscores between. */
bool args_parse_int(const char *s, long long *out)
{
	char digits[32];
	size_t n = 0;
	bool neg = false;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s) || (*s == '_' && isdigit((unsigned char)s[1])); s++)
		if (*s != '_') {
			if (n + 1 >= sizeof(digits))
				return false;
			digits[n++] = *s;
		}
	digits[n] = '\0';
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return false;
	errno = 0;
	*out = strtoll(digits, NULL, 10);
	if (errno)
		return false;
	if (neg)
		*out = -*out;
	return true;
}

static char *quoted(const char *s)
{
	char *q = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&q, &n);

	if (!f)
		exit(1);
	py_repr_bytes(f, s, strlen(s));
	if (fclose(f) != 0)
		exit(1);
	return q;
}

static void int_or_die(const char *usage, const char *prog, const char *name, const char *val,
		       long long *out)
{
	if (!args_parse_int(val, out))
		die(usage, prog, "argument %s: invalid int value: %s", name, quoted(val));
}

static void add_unknown(char *buf, size_t size, const char *arg)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s", len ? " " : "", arg);
}

static void parse_leaf(const struct cli_command *cmd, int argc, char **argv, struct cli_args *a,
		       char *unknown, size_t size)
{
	char prog[64];
	struct option longopts[_O_MAX + 2];
	size_t n = 0;
	int c, idx;
	enum cli_opt first_flag = _O_MAX;

	snprintf(prog, sizeof(prog), "vhotplugcli %s%s%s", cmd->subsystem,
		 cmd->action ? " " : "", cmd->action ? cmd->action : "");
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	for (const enum cli_opt *o = cmd->opts; *o != _O_MAX; o++)
		longopts[n++] = (struct option){ defs[*o].name,
			defs[*o].kind == K_FLAG ? no_argument : required_argument, NULL, 1000 + *o };
	longopts[n] = (struct option){ 0 };
	optind = 1;
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, "+:h", longopts, &idx);
		if (c == -1 && optind < argc) {
			add_unknown(unknown, size, argv[optind++]);
			continue;
		}
		if (c == -1)
			break;
		if (c == 'h') {
			printf("%s\n%s\n\noptions:\n  -h, --help            show this help and exit\n",
			       cmd->usage, cmd->help);
			for (const enum cli_opt *o = cmd->opts; *o != _O_MAX; o++) {
				char left[64];

				snprintf(left, sizeof(left), "--%s%s%s", defs[*o].name,
					 defs[*o].metavar ? " " : "", defs[*o].metavar ? defs[*o].metavar : "");
				printf(strlen(left) > 20 ? "  %s\n%24s%s\n" : "  %-22s%s%s\n", left,
				       "", defs[*o].help);
			}
			exit(0);
		}
		if (c == ':' && optopt >= 1000)	/* glibc sets optopt to the option's val */
			die(cmd->usage, prog, "argument --%s: expected one argument",
			    defs[optopt - 1000].name);
		if (c == '?' || c == ':') {
			add_unknown(unknown, size, argv[optind - 1]);
			continue;
		}
		c -= 1000;
		if (defs[c].kind == K_FLAG && (c == O_CONNECTED || c == O_DISCONNECTED)) {
			/* argparse's mutually exclusive group */
			if (first_flag != _O_MAX && first_flag != (enum cli_opt)c)
				die(cmd->usage, prog, "argument --%s: not allowed with argument --%s",
				    defs[c].name, defs[first_flag].name);
			first_flag = c;
		}
		a->set[c] = true;
		if (defs[c].kind == K_STR)
			a->str[c] = optarg;
		else if (defs[c].kind == K_INT) {
			char name[64];

			snprintf(name, sizeof(name), "--%s", defs[c].name);
			int_or_die(cmd->usage, prog, name, optarg, &a->num[c]);
		}
	}
}

static const struct option top_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "debug", no_argument, NULL, 'd' },
	{ "no-debug", no_argument, NULL, 'D' },
	{ "transport", required_argument, NULL, 't' },
	{ "path", required_argument, NULL, 'u' },
	{ "host", required_argument, NULL, 's' },
	{ "net-port", required_argument, NULL, 'p' },
	{ "cid", required_argument, NULL, 'c' },
	{ "timeout", required_argument, NULL, 'T' },
	{}
};

static const char *top_name(int c)
{
	switch (c) {
	case 't': return "-t/--transport";
	case 'u': return "-u/--path";
	case 's': return "-s/--host";
	case 'p': return "-p/--net-port";
	case 'c': return "-c/--cid";
	case 'T': return "--timeout";
	}
	return "?";
}

static void parse_top(int argc, char **argv, struct cli_target *t, bool *transport_given,
		      char *unknown, size_t size)
{
	long long v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:hdt:u:s:p:c:", top_longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			printf("%s%s", top_usage, top_help);
			exit(0);
		case 'd':
		case 'D':
			cli_debug = c == 'd';
			break;
		case 't':
			if (streq(optarg, "unix") || streq(optarg, "tcp") || streq(optarg, "vsock")) {
				t->transport = streq(optarg, "unix") ? CLI_UNIX :
					       streq(optarg, "tcp") ? CLI_TCP : CLI_VSOCK;
				*transport_given = true;
				break;
			}
			die(top_usage, "vhotplugcli", "argument -t/--transport: invalid choice: %s "
			    "(choose from 'unix', 'tcp', 'vsock')", quoted(optarg));
		case 'u':
			t->path = optarg;
			break;
		case 's':
			t->host = optarg;
			break;
		case 'p':
		case 'c':
		case 'T':
			int_or_die(top_usage, "vhotplugcli", top_name(c), optarg, &v);
			if (c == 'T' && (v < 0 || v > INT_MAX / 1000))
				die(top_usage, "vhotplugcli", "argument --timeout: %lld is not 0 to %d",
				    v, INT_MAX / 1000);
			if (c == 'p')
				t->port = v;
			else if (c == 'c')
				t->cid = v;
			else
				t->timeout_s = (unsigned)v;
			break;
		case ':':
			die(top_usage, "vhotplugcli", "argument %s: expected one argument",
			    top_name(optopt));
		default:
			add_unknown(unknown, size, argv[optind - 1]);
		}
	}
}

const struct cli_command *args_parse(int argc, char **argv, struct cli_target *t,
				     struct cli_args *a, bool *transport_given)
{
	static char unknown[4096];
	const char *sub, *action, *sub_usage;
	const struct cli_command *cmd = NULL;
	bool known = false;
	int rest;

	parse_top(argc, argv, t, transport_given, unknown, sizeof(unknown));
	if (optind >= argc)
		die(top_usage, "vhotplugcli", "the following arguments are required: subsystem");
	sub = argv[optind];
	for (size_t k = 0; k < ARRAY_SIZE(subsystems); k++)
		known = known || streq(sub, subsystems[k]);
	if (!known)
		die(top_usage, "vhotplugcli", "argument subsystem: invalid choice: %s (choose from "
		    "'usb', 'listen', 'pci', 'vmm')", quoted(sub));
	rest = optind + 1;
	if (streq(sub, "listen")) {
		cmd = &commands[ARRAY_SIZE(commands) - 1];
		rest = optind;
	} else {
		static char usage[128], prog[32];
		const char *choices = streq(sub, "vmm") ? "{args}" : "{attach,detach,list,suspend,resume}";

		snprintf(usage, sizeof(usage), "usage: vhotplugcli %s [-h] %s ...\n", sub, choices);
		snprintf(prog, sizeof(prog), "vhotplugcli %s", sub);
		sub_usage = usage;
		for (; rest < argc && argv[rest][0] == '-' && argv[rest][1]; rest++) {
			if (streq(argv[rest], "-h") || streq(argv[rest], "--help") ||
			    (strlen(argv[rest]) > 2 && !strncmp("--help", argv[rest], strlen(argv[rest])))) {
				printf("%s\npositional arguments:\n  %s\n\noptions:\n"
				       "  -h, --help            show this help and exit\n", sub_usage, choices);
				exit(0);
			}
			add_unknown(unknown, sizeof(unknown), argv[rest]);
		}
		if (rest >= argc)
			die(sub_usage, prog, "the following arguments are required: action");
		action = argv[rest];
		for (size_t k = 0; k < ARRAY_SIZE(commands); k++)
			if (streq(commands[k].subsystem, sub) && streq(commands[k].action, action))
				cmd = &commands[k];
		if (!cmd)
			die(sub_usage, prog, "argument action: invalid choice: %s (choose from %s)",
			    quoted(action), streq(sub, "vmm") ? "'args'" :
			    "'attach', 'detach', 'list', 'suspend', 'resume'");
	}
	parse_leaf(cmd, argc - rest, argv + rest, a, unknown, sizeof(unknown));
	if (unknown[0])
		die(top_usage, "vhotplugcli", "unrecognized arguments: %s", unknown);
	return cmd;
}
