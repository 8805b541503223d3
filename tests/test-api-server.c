/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit test of statd/api/ on a real loop and real unix sockets, with lib/api
 * replaced by the fakes below: what statd's placeholder api.c cannot show
 * yet, pending requests and notifications, and the order the server keeps.
 *
 * Fake requests: "wait" is pending until release_calls (and queues intents),
 * "later" is pending until its deadline, 50 ms on, "sub" subscribes, anything else is answered {"echo": ACTION} at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "loop.h"
#include "server-private.h"
#include "vmm.h"

static bool release_calls;
static int pokes;
static int notes_due;		/* emitted at the next api_notify_collect() */
static size_t note_size = 16;	/* bytes of padding in each */
static int notes_made;

/* ---- lib/api and the scheduler, faked ---- */

struct fake_call {
	struct api_call call;
};

static int fake_poll(struct api_call *call, struct api_ctx *ctx, json_object **reply)
{
	if (!release_calls)
		return 1;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "result", json_object_new_string("ok"));
	return 0;
}

static void fake_free(struct api_call *call)
{
	free(container_of(call, struct fake_call, call));
}

static const struct api_call_ops fake_ops = { .poll = fake_poll, .free = fake_free };

/* "later": answers once its own time has come, which no event announces. */
struct later_call {
	struct api_call call;
	int64_t at;
};

static int later_poll(struct api_call *call, struct api_ctx *ctx, json_object **reply)
{
	if (clock_now_ms() < container_of(call, struct later_call, call)->at)
		return 1;
	*reply = json_object_new_object();
	json_object_object_add(*reply, "result", json_object_new_string("later"));
	return 0;
}

static int64_t later_deadline(struct api_call *call)
{
	return container_of(call, struct later_call, call)->at;
}

static void later_free(struct api_call *call)
{
	free(container_of(call, struct later_call, call));
}

static const struct api_call_ops later_ops = {
	.poll = later_poll, .free = later_free, .deadline = later_deadline,
};

int api_request(struct api_ctx *ctx, const struct api_caller *caller, json_object *req,
		struct api_answer *ans)
{
	json_object *v = NULL;
	const char *action = req && json_object_object_get_ex(req, "action", &v) ?
			     json_object_get_string(v) : "";
	struct fake_call *call;

	*ans = (struct api_answer){ 0 };
	if (streq(action, "wait")) {
		call = calloc(1, sizeof(*call));
		call->call.ops = &fake_ops;
		ans->pending = &call->call;
		ans->queued = true;
		return 0;
	}
	if (streq(action, "later")) {
		struct later_call *l = calloc(1, sizeof(*l));

		l->call.ops = &later_ops;
		l->at = clock_now_ms() + 50;
		ans->pending = &l->call;
		return 0;
	}
	ans->reply = json_object_new_object();
	if (streq(action, "sub")) {
		ans->subscribe = true;
		json_object_object_add(ans->reply, "result", json_object_new_string("ok"));
	} else {
		json_object_object_add(ans->reply, "echo", json_object_new_string(action));
	}
	return 0;
}

int api_notify_start(struct api_ctx *ctx, int64_t *last_id)
{
	*last_id = notes_made;
	return 0;
}

int api_notify_collect(struct api_ctx *ctx, int64_t *last_id,
		       void (*emit)(json_object *note, void *userdata), void *userdata)
{
	char *pad = calloc(1, note_size + 1);

	memset(pad, 'p', note_size);
	for (; notes_due > 0; notes_due--) {
		json_object *note = json_object_new_object();

		json_object_object_add(note, "event", json_object_new_string("n"));
		json_object_object_add(note, "i", json_object_new_int(++notes_made));
		json_object_object_add(note, "pad", json_object_new_string(pad));
		emit(note, userdata);
		json_object_put(note);
	}
	*last_id = notes_made;
	free(pad);
	return 0;
}

int vmm_poke(struct vmm *m)
{
	pokes++;
	return 0;
}

/* ---- the server, and clients of it ---- */

static struct loop *loop;
static struct api_server *srv;
static char sock_path[108];

static void post(void *userdata)
{
	api_server_post(srv);
}

/* An event every turn, as statd's backends give one when an intent ends: the post hook runs. */
static int tickfd;
static void on_tick(struct source *s, uint32_t events)
{
	uint64_t n;

	if (read(tickfd, &n, sizeof(n)) < 0)
		CHECK(!"read tick");
}
static struct source tick_src = { .dispatch = on_tick };

/* Some turns of the loop: what is due gets done. */
static void spin(void)
{
	uint64_t one = 1;

	for (int i = 0; i < 20; i++) {
		if (write(tickfd, &one, sizeof(one)) < 0)
			CHECK(!"write tick");
		loop_dispatch(loop, 5);
	}
}

static int client(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	spin();	/* accepted */
	return fd;
}

static void say(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		CHECK(!"write");
	spin();
}

/* Everything FD has received so far. */
static const char *heard(int fd)
{
	static char buf[8192];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void test_pending_holds_its_connection_only(void)
{
	int a = client(), b = client();

	pokes = 0;
	release_calls = false;
	say(a, "{\"action\": \"wait\"}\n{\"action\": \"after\"}\n");
	say(b, "{\"action\": \"other\"}\n");
	CHECK(streq(heard(b), "{\"echo\": \"other\"}\n"));
	CHECK(streq(heard(a), ""));
	CHECK(pokes == 1);	/* the intents it queued are read */
	release_calls = true;
	spin();
	CHECK(streq(heard(a), "{\"result\": \"ok\"}\n{\"echo\": \"after\"}\n"));
	close(a);
	close(b);
}

static void test_notifications_to_subscribers_before_the_reply(void)
{
	int sub = client(), other = client();

	release_calls = false;
	say(sub, "{\"action\": \"sub\"}\n");
	CHECK(streq(heard(sub), "{\"result\": \"ok\"}\n"));
	say(sub, "{\"action\": \"wait\"}\n");
	notes_due = 2;
	release_calls = true;
	spin();
	/* As the original: the events of an attach, then its "ok". */
	CHECK(streq(heard(sub), "{\"event\": \"n\", \"i\": 1, \"pad\": \"pppppppppppppppp\"}\n"
				"{\"event\": \"n\", \"i\": 2, \"pad\": \"pppppppppppppppp\"}\n"
				"{\"result\": \"ok\"}\n"));
	CHECK(streq(heard(other), ""));
	close(sub);
	close(other);
	spin();
	CHECK(srv->n_subscribers == 0 && srv->n_conns == 0);
}

static void test_pending_call_is_polled_at_its_deadline_on_an_idle_loop(void)
{
	int a = client();
	char got[256] = "";

	say(a, "{\"action\": \"later\"}\n");
	/* No tick from here on: only the call's own deadline can wake the loop. */
	for (int i = 0; i < 10 && !*got; i++) {
		loop_dispatch(loop, 1000);
		snprintf(got, sizeof(got), "%s", heard(a));
	}
	CHECK(streq(got, "{\"result\": \"later\"}\n"));
	close(a);
	spin();
}

static void test_subscriber_that_never_reads_is_dropped(void)
{
	int sub = client(), other = client();

	say(sub, "{\"action\": \"sub\"}\n");
	CHECK(srv->n_subscribers == 1);
	/* 3 MiB of notifications: more than the socket and API_OUT_MAX hold. */
	note_size = 1024;
	notes_due = 3 * 1024;
	spin();
	CHECK(srv->n_subscribers == 0);
	CHECK(srv->n_conns == 1);
	say(other, "{\"action\": \"still\"}\n");
	CHECK(streq(heard(other), "{\"echo\": \"still\"}\n"));
	note_size = 16;
	close(sub);
	close(other);
	spin();
}

int main(void)
{
	char dir[] = "/tmp/test-api-server.XXXXXX";
	struct config cfg = { 0 };
	struct paths paths = { 0 };

	if (!mkdtemp(dir) || loop_new(&loop) < 0)
		return 1;
	snprintf(sock_path, sizeof(sock_path), "%s/api.sock", dir);
	cfg.api = (struct api_config){ .transports = API_UNIX, .unix_socket = sock_path,
				       .unix_socket_mode = -1 };
	if (api_server_new(loop, &paths, &cfg, NULL, NULL, &srv) < 0)
		return 1;
	loop_set_post(loop, post, NULL);
	tickfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (tickfd < 0 || loop_add(loop, tickfd, EPOLLIN, &tick_src) < 0)
		return 1;
	test_pending_holds_its_connection_only();
	test_notifications_to_subscribers_before_the_reply();
	test_pending_call_is_polled_at_its_deadline_on_an_idle_loop();
	test_subscriber_that_never_reads_is_dropped();
	api_server_free(srv);
	loop_free(loop);
	CHECK(access(sock_path, F_OK) < 0 && errno == ENOENT);
	rmdir(dir);
	return check_result();
}
