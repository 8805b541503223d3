/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "macro.h"
#include "paths.h"

/* Exit codes of every verb (vhotplugctl(8), EXIT STATUS). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAILED 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_TIMEOUT 75	/* EX_TEMPFAIL: statd did not answer in time; the intent stays */

/* Each subcommand: argv[0] is its name; returns the process exit status. */
int ctl_explain(const struct paths *paths, int argc, char **argv);
/* Queue a reconcile of a VM, poke statd, wait for the outcome: 0 all done, 1 not, 75 timed out. */
int ctl_reconcile(const struct paths *paths, int argc, char **argv);
int ctl_list(const struct paths *paths, int argc, char **argv);
int ctl_status(const struct paths *paths, int argc, char **argv);
int ctl_history(const struct paths *paths, int argc, char **argv);

/* ---- output.c: what the verbs share ---- */

/* A usage error: one line "vhotplugctl: MESSAGE" on stderr; returns CTL_EXIT_USAGE. */
int ctl_usage_error(const char *fmt, ...) _printf_(1, 2);
/* --help: USAGE and TEXT (may be NULL) on stdout; CTL_EXIT_OK. */
int ctl_help(const char *usage, const char *text);
/* S as a JSON string, or JSON null for NULL. */
struct json_object *ctl_json_str(const char *s);
/* JSON array text (intents.allowed_vms) parsed, or null. */
struct json_object *ctl_json_parse(const char *text);
/* Print O as the invocation's one JSON document and drop it. */
void ctl_json_print(struct json_object *o);
/* Load the configuration; its errors on stderr, each line prefixed "vhotplugctl: ". */
int ctl_config_load(const char *file, struct config **cfg);
/*
 * The configuration for a verb that shows the database: NULL when it cannot
 * be loaded (its errors are not repeated here; the verb goes on without it).
 */
struct config *ctl_config_quiet(const char *file);
/* Open the database; errors logged. */
int ctl_db_open(const struct paths *paths, struct db **db);

/* ---- probe.c: who is there, never waiting ---- */

/* Is statd serving RUNDIR's wake socket? *PID: the pid in its lock file when it runs, else 0. */
bool ctl_statd_running(const struct paths *paths, long *pid);
/*
 * Does VM's socket accept a connection (a non-blocking connect, closed at
 * once)? 1 yes; 0 no, with why in WHY ("no socket", "connection refused").
 */
int ctl_vm_reachable(const struct vm *vm, char *why, size_t size);

/* Operations (lib/ops): ctl/ops.c, ctl/suspend.c. */
int ctl_attach(const struct paths *paths, int argc, char **argv);
int ctl_detach(const struct paths *paths, int argc, char **argv);
int ctl_select(const struct paths *paths, int argc, char **argv);
int ctl_suspend(const struct paths *paths, int argc, char **argv);
int ctl_resume(const struct paths *paths, int argc, char **argv);
