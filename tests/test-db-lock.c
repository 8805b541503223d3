/* SPDX-License-Identifier: Apache-2.0 */
/* The writers' queue (lib/db/db-lock.c): writers wait for DB.lock, within their bound. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "db.h"
#include "macro.h"

static char dir[] = "/tmp/vhotplug-test-db-lock.XXXXXX";

static char *path_in_dir(const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		abort();
	return p;
}

static int lock_byte0(int fd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };

	return fcntl(fd, F_OFD_SETLK, &fl);
}

/* Does /proc/locks show a request blocked on the file of inode INO? */
static bool someone_waits(ino_t ino)
{
	char line[256], tail[64];
	FILE *f = fopen("/proc/locks", "r");
	bool found = false;

	if (!f)
		return false;
	snprintf(tail, sizeof(tail), ":%lu ", (unsigned long)ino);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "->") && strstr(line, tail);
	fclose(f);
	return found;
}

struct holder {
	pid_t pid;
	int ready;	/* read end: a byte once the lock is held */
};

/*
 * A writer of another process holds DB.lock's writer byte. RELEASE: it lets
 * go once someone waits for it (at most 20 s), after writing MARKER;
 * otherwise it holds on until killed.
 */
static void holder_start(struct holder *h, const char *lockpath, bool release, const char *marker)
{
	int p[2];
	char c;

	if (pipe(p) < 0 || (h->pid = fork()) < 0)
		abort();
	if (h->pid == 0) {
		int fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		struct stat st;

		if (fd < 0 || lock_byte0(fd, F_WRLCK) < 0 || fstat(fd, &st) < 0)
			_exit(1);
		if (write(p[1], "x", 1) != 1)
			_exit(1);
		for (int i = 0; release && i < 20000 && !someone_waits(st.st_ino); i++)
			usleep(1000);
		if (!release)
			pause();
		close(creat(marker, 0600));
		_exit(0);
	}
	close(p[1]);
	h->ready = p[0];
	CHECK(read(h->ready, &c, 1) == 1);
}

static int holder_end(struct holder *h)
{
	int status = -1;

	kill(h->pid, SIGTERM);
	waitpid(h->pid, &status, 0);
	close(h->ready);
	return status;
}

static bool timer_signal_default(void)
{
	struct sigaction sa;
	sigset_t mask;

	sigaction(SIGRTMIN, NULL, &sa);
	sigprocmask(SIG_SETMASK, NULL, &mask);
	return sa.sa_handler == SIG_DFL && !sigismember(&mask, SIGRTMIN);
}

/* The helper's connection waits for the holder, then writes: nothing for the spool. */
static void test_waits_then_commits(void)
{
	_cleanup_free_ char *path = path_in_dir("wait.db");
	_cleanup_free_ char *lockpath = path_in_dir("wait.db.lock");
	_cleanup_free_ char *marker = path_in_dir("released");
	struct holder h;
	struct db *db;

	CHECK(db_open(path, 60000, DB_BUSY_BUDGET | DB_NO_CLOSE_CHECKPOINT, &db) == 0);
	holder_start(&h, lockpath, true, marker);
	alarm(30);
	CHECK(db_begin(db) == 0);
	alarm(0);
	/* It got in only once the holder let go. */
	CHECK(access(marker, F_OK) == 0);
	CHECK(db_history_add(db, 0, "dev", HISTORY_PLUGGED, NULL, NULL) == 0);
	CHECK(db_commit(db) == 0);
	CHECK(holder_end(&h) == 0);
	db_close(db);
}

/* Held past the budget: -EBUSY (the helper spools), and the signal used for the bound is put back. */
static void test_budget_bounds_the_wait(void)
{
	_cleanup_free_ char *path = path_in_dir("budget.db");
	_cleanup_free_ char *lockpath = path_in_dir("budget.db.lock");
	struct holder h;
	struct db *db;

	CHECK(db_open(path, 50, DB_BUSY_BUDGET | DB_NO_CLOSE_CHECKPOINT, &db) == 0);
	holder_start(&h, lockpath, false, NULL);
	alarm(30);
	CHECK(db_begin(db) == -EBUSY);
	/* The budget is spent: the next wait does not start again. */
	CHECK(db_begin(db) == -EBUSY);
	alarm(0);
	CHECK(timer_signal_default());
	holder_end(&h);
	db_close(db);
}

/* statd's connection: its own short bound, then -EBUSY; the queue is free again after. */
static void test_loop_bound(void)
{
	_cleanup_free_ char *path = path_in_dir("loop.db");
	_cleanup_free_ char *lockpath = path_in_dir("loop.db.lock");
	struct holder h;
	struct db *db;

	CHECK(db_open(path, 60000, DB_RELAXED, &db) == 0);
	db_set_lock_wait(db, 10);
	holder_start(&h, lockpath, false, NULL);
	alarm(30);
	CHECK(db_begin(db) == -EBUSY);
	CHECK(db_begin_brief(db, 5) == -EBUSY);
	alarm(0);
	holder_end(&h);
	CHECK(db_begin(db) == 0);
	CHECK(db_commit(db) == 0);
	db_close(db);
}

/* A committed transaction leaves the queue: another process gets the lock at once. */
static void test_commit_leaves_queue(void)
{
	_cleanup_free_ char *path = path_in_dir("leave.db");
	_cleanup_free_ char *lockpath = path_in_dir("leave.db.lock");
	_cleanup_close_ int fd = -1;
	struct db *db;

	CHECK(db_open(path, 1000, 0, &db) == 0);
	fd = open(lockpath, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK(db_begin(db) == 0);
	CHECK(lock_byte0(fd, F_WRLCK) < 0 && errno == EAGAIN);
	CHECK(db_commit(db) == 0);
	CHECK(lock_byte0(fd, F_WRLCK) == 0);
	CHECK(lock_byte0(fd, F_UNLCK) == 0);
	CHECK(db_begin(db) == 0);
	/* A BEGIN inside the transaction fails, and leaves the place to it. */
	CHECK(db_begin(db) < 0);
	CHECK(lock_byte0(fd, F_WRLCK) < 0 && errno == EAGAIN);
	db_rollback(db);
	CHECK(lock_byte0(fd, F_WRLCK) == 0);
	db_close(db);
}

/* A lock file another user could hold is not used: said, and writes still go in. */
static void test_hostile_lock_file(void)
{
	_cleanup_free_ char *path = path_in_dir("open.db");
	_cleanup_free_ char *lockpath = path_in_dir("open.db.lock");
	struct holder h;
	struct db *db;

	close(open(lockpath, O_RDWR | O_CREAT, 0600));
	CHECK(chmod(lockpath, 0644) == 0);
	holder_start(&h, lockpath, false, NULL);
	CHECK(db_open(path, 50, DB_BUSY_BUDGET | DB_NO_CLOSE_CHECKPOINT, &db) == 0);
	CHECK(db_begin(db) == 0);
	CHECK(db_commit(db) == 0);
	holder_end(&h);
	db_close(db);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_waits_then_commits();
	test_budget_bounds_the_wait();
	test_loop_bound();
	test_commit_leaves_queue();
	test_hostile_lock_file();
	if (!check_failures) {
		char cmd[sizeof(dir) + 16];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 99;
	}
	return check_result();
}
