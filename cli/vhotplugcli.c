/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vhotplugcli: parse the command line, pick the transport as the original
 * does (vsock inside a VM, else unix), run the command.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Ctrl-C ends any command with status 0, as the original's KeyboardInterrupt does. */
static void on_interrupt(int sig _unused_)
{
	static const char msg[] = "INFO Exiting\n";

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing left to tell */
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	struct cli_target t = {
		.transport = CLI_UNIX,
		.path = "/var/lib/vhotplug/vhotplug.sock",
		.host = "127.0.0.1",
		.port = 2000,
		.cid = 2,
		.timeout_s = CLI_TIMEOUT_DEFAULT,
	};
	struct cli_args a = { 0 };
	struct sigaction sa = { .sa_handler = on_interrupt };
	const struct cli_command *cmd;
	bool transport_given = false;

	cmd = args_parse(argc, argv, &t, &a, &transport_given);
	sigaction(SIGINT, &sa, NULL);
	if (!transport_given)
		t.transport = cli_running_in_vm() ? CLI_VSOCK : CLI_UNIX;
	return cmd->run(&t, &a);
}
