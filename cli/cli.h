/* SPDX-License-Identifier: Apache-2.0 */
#pragma once
/*
 * vhotplugcli: the original vhotplug's command-line client, in C. Its
 * command line, request lines and output are the original's, byte for
 * byte where scripts can see them (ghaf's kill switch, power manager and
 * VM start parse them); what it adds is bounds: connect and reply
 * timeouts and a longest reply line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

#include "macro.h"

/* The original logs to stderr as "LEVEL message"; scripts see these words. */
enum cli_level { CLI_DEBUG, CLI_INFO, CLI_WARNING, CLI_ERROR };
extern bool cli_debug;
void cli_log(enum cli_level level, const char *fmt, ...) _printf_(2, 3);

/* A reply or notification line longer than this is an error, not a buffer. */
#define CLI_LINE_MAX (8u << 20)
#define CLI_TIMEOUT_DEFAULT 120

enum cli_transport { CLI_UNIX, CLI_TCP, CLI_VSOCK };

struct cli_target {
	enum cli_transport transport;
	const char *path;		/* unix */
	const char *host;		/* tcp */
	long long port;			/* tcp and vsock */
	long long cid;			/* vsock */
	unsigned timeout_s;		/* connect, send and each reply; 0: none */
};

struct cli_conn {
	int fd;
	char *buf;			/* bytes read and not yet returned as lines */
	size_t len, cap;
	char err[512];			/* why the last call failed, in the original's words */
};

/*
 * Failures the original raises as RuntimeError (vmm args retries those)
 * are -ENOTCONN; all others are -EIO. c->err says what happened.
 */
void conn_init(struct cli_conn *c);
int conn_open(struct cli_conn *c, const struct cli_target *t);
void conn_close(struct cli_conn *c);
int conn_send(struct cli_conn *c, json_object *req);
/* The next line that parses as JSON; TIMEOUT_S 0 waits without bound. */
int conn_recv(struct cli_conn *c, unsigned timeout_s, const char *what, json_object **out);
/* conn_send, then conn_recv within the target's timeout. */
int conn_request(struct cli_conn *c, const struct cli_target *t, json_object *req,
		 json_object **reply);
bool cli_running_in_vm(void);

/* Python's str() and repr() of a reply's values (json.dumps() is lib/basics/pyjson.c). */
void py_str(FILE *f, json_object *o);
void py_repr(FILE *f, json_object *o);
void py_repr_bytes(FILE *f, const char *s, size_t len);
size_t py_codepoints(const char *s);
/* Would Python's strict UTF-8 decoder accept S? */
bool py_utf8_valid(const char *s, size_t len);
/* OBJ's member KEY as str(), or NULL when OBJ has no such key. */
char *py_member_str(json_object *obj, const char *key);
char *py_to_str(json_object *o);

/* What the command line asked. */
enum cli_opt {
	O_DEVNODE, O_BUS, O_PORT, O_VID, O_PID, O_DID, O_ADDRESS, O_VM, O_TAG,
	O_CONNECTED, O_DISCONNECTED, O_SHORT, O_PREFIX, O_START_INDEX,
	_O_MAX,
};

struct cli_args {
	const char *str[_O_MAX];	/* string options; NULL: not given */
	long long num[_O_MAX];		/* int options */
	bool set[_O_MAX];		/* given (flags: true) */
};

struct cli_command {
	const char *subsystem, *action;	/* action NULL: listen */
	int (*run)(const struct cli_target *t, const struct cli_args *a);
	const char *usage;		/* argparse's usage line for it */
	const enum cli_opt *opts;	/* terminated by _O_MAX */
	const char *help;
};

/* Parse argv as the original's argparse would; exits 2 (or 0 for -h). */
const struct cli_command *args_parse(int argc, char **argv, struct cli_target *t,
				     struct cli_args *a, bool *transport_given);
bool args_parse_int(const char *s, long long *out);

/* The commands, in commands.c and listen.c. */
int cmd_usb_attach(const struct cli_target *t, const struct cli_args *a);
int cmd_usb_detach(const struct cli_target *t, const struct cli_args *a);
int cmd_usb_list(const struct cli_target *t, const struct cli_args *a);
int cmd_usb_suspend(const struct cli_target *t, const struct cli_args *a);
int cmd_usb_resume(const struct cli_target *t, const struct cli_args *a);
int cmd_pci_attach(const struct cli_target *t, const struct cli_args *a);
int cmd_pci_detach(const struct cli_target *t, const struct cli_args *a);
int cmd_pci_list(const struct cli_target *t, const struct cli_args *a);
int cmd_pci_suspend(const struct cli_target *t, const struct cli_args *a);
int cmd_pci_resume(const struct cli_target *t, const struct cli_args *a);
int cmd_vmm_args(const struct cli_target *t, const struct cli_args *a);
int cmd_listen(const struct cli_target *t, const struct cli_args *a);
