/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <sys/un.h>

#include "datagram.h"
#include "wake.h"

int wake_statd(const struct paths *paths, const char *msg)
{
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];

	if (paths_wake_socket(paths, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	return datagram_send(path, msg);
}
