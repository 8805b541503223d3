/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The writers' queue: every write transaction first takes an OFD lock on a
 * byte of DB.lock (the file statd flock()s to run alone; flock and OFD locks
 * do not meet). SQLite's own busy handler can only sleep and look again, so
 * under contention the lock sits free while its waiters sleep; a waiter on
 * an OFD lock is woken by the kernel when it is released, in about the
 * order the waiters came.
 *
 * Helpers first take a second byte, the gate, and hold it only while they
 * wait for the writer's byte: at most one helper waits there, so statd,
 * which goes for the writer's byte directly, has at most one helper ahead
 * of it however many queue at the gate.
 *
 * Below, the transactions (db_begin() and the rest), which go through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "db-private.h"
#include "log.h"
#include "macro.h"

#define LOCK_WRITER 0
#define LOCK_GATE 1
/* After the deadline, the timer fires again this often: see wait_bounded(). */
#define LOCK_REFIRE_NS 1000000

int db_lock_open(struct db *db)
{
	_cleanup_free_ char *path = NULL;
	struct stat st;
	int fd;

	db->lock_fd = -1;
	if (!db->path[0] || streq(db->path, ":memory:") || !strncmp(db->path, "file:", 5))
		return 0;	/* nothing beside it to queue on */
	if (asprintf(&path, "%s.lock", db->path) < 0)
		return -ENOMEM;
	/* O_NONBLOCK: a FIFO put there would block the open itself. */
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EACCES || errno == EROFS || errno == ENOENT)) {
		/* Whoever cannot create it cannot write the database either. */
		log_debug("%s: %m: writers not queued", path);
		return 0;
	}
	if (fd < 0 && errno == ELOOP) {
		log_err("%s: a symbolic link, not the lock file: writers do not queue, the "
			"database's own lock still orders them", path);
		return 0;
	}
	if (fd < 0) {
		int r = -errno;

		log_err("%s: %s", path, strerror(-r));
		return r;
	}
	/*
	 * Whoever else can open it can hold it, and keep every event out of
	 * the database for the helper's budget: refused, loudly.
	 */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077)) {
		log_err("%s: not a regular file of this user closed to others (chmod 600, or remove "
			"it): writers do not queue, the database's own lock still orders them", path);
		close(fd);
		return 0;
	}
	db->lock_fd = fd;
	return 0;
}

static int set_lock(int fd, int cmd, short type, off_t start)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1 };

	return fcntl(fd, cmd, &fl) < 0 ? -errno : 0;
}

/* Does nothing: its only use is the EINTR it leaves in F_OFD_SETLKW. */
static void on_timer(int sig)
{
	(void)sig;
}

/*
 * Block on the lock until DEADLINE_MS. A timer signal ends the wait (a
 * handler without SA_RESTART: EINTR). A signal that comes before fcntl()
 * blocks would be missed, so the timer keeps firing every millisecond
 * past the deadline. Process-wide signal state is put back as it was:
 * callers are single-threaded (the helper, statd's loop).
 */
static int wait_bounded(int fd, off_t start, int64_t deadline_ms)
{
	struct sigaction sa = { .sa_handler = on_timer }, old_sa;
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGRTMIN };
	int64_t left = deadline_ms - clock_now_ms();
	struct itimerspec its = {
		.it_value = { .tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000 },
		.it_interval = { .tv_nsec = LOCK_REFIRE_NS },
	};
	sigset_t set, old_set;
	timer_t timer;
	int r;

	if (left <= 0)
		return -EBUSY;
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGRTMIN, &sa, &old_sa) < 0)
		return -errno;
	sigprocmask(SIG_UNBLOCK, &set, &old_set);
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer) < 0) {
		r = -errno;
		goto out;
	}
	timer_settime(timer, 0, &its, NULL);
	do
		r = set_lock(fd, F_OFD_SETLKW, F_WRLCK, start);
	while (r == -EINTR && clock_now_ms() < deadline_ms);
	timer_delete(timer);
	if (r == -EINTR)
		r = -EBUSY;
out:
	/* A signal the timer queued before it was deleted must not meet the old action. */
	sigprocmask(SIG_BLOCK, &set, NULL);
	while (sigtimedwait(&set, NULL, &(struct timespec){}) > 0)
		;
	sigprocmask(SIG_SETMASK, &old_set, NULL);
	sigaction(SIGRTMIN, &old_sa, NULL);
	return r;
}

static int take(int fd, off_t start, int64_t deadline_ms)
{
	int r = set_lock(fd, F_OFD_SETLK, F_WRLCK, start);

	if (r == -EAGAIN || r == -EACCES)
		r = wait_bounded(fd, start, deadline_ms);
	return r;
}

static int lock_take(struct db *db, int64_t deadline_ms, bool gate)
{
	int r;

	if (db->lock_fd < 0 || db->locked)
		return 0;
	r = gate ? take(db->lock_fd, LOCK_GATE, deadline_ms) : 0;
	if (r == 0) {
		r = take(db->lock_fd, LOCK_WRITER, deadline_ms);
		if (gate)
			set_lock(db->lock_fd, F_OFD_SETLK, F_UNLCK, LOCK_GATE);
	}
	if (r == 0) {
		db->locked = true;
		return 0;
	}
	if (r == -EBUSY)
		return r;
	/* The kernel refused (ENOLCK...): the database's own lock still orders writers. */
	log_warn("%s.lock: %s: writing without queueing", db->path, strerror(-r));
	return 0;
}

static void lock_drop(struct db *db)
{
	if (!db->locked)
		return;
	set_lock(db->lock_fd, F_OFD_SETLK, F_UNLCK, LOCK_WRITER);
	db->locked = false;
}

/* ---- write transactions ---- */

/* SQLite opens a file it may not write read-only without a word: ask, then take the write lock. */
int db_check_writable(struct db *db)
{
	int r;

	if (sqlite3_db_readonly(db->sql, "main") == 1)
		return -EROFS;
	r = db_begin(db);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r;
}

void db_set_lock_wait(struct db *db, int ms)
{
	db->lock_ms = ms;
}

/* The writer's place in the queue first, so that SQLite's lock is free when asked for. */
static int begin(struct db *db, int lock_ms)
{
	bool had = db->locked;	/* a BEGIN inside a transaction fails: the place stays its */
	int64_t t0 = db_now_us();
	int r = lock_take(db, t0 / 1000 + (db->budget ? db->budget_left_us / 1000 : lock_ms),
			     db->budget);

	if (db->budget)
		db->budget_left_us -= db_now_us() - t0;
	/* statd retries soon and says so; the helper spools: say why. */
	if (r == -EBUSY)
		log_msg(db->budget ? LOG_INFO : LOG_DEBUG,
			"%s: the writers' queue (%s.lock) did not move for %d ms", db->path,
			db->path, db->budget ? db->busy_ms : lock_ms);
	if (r == 0)
		r = db_run(db, ST_BEGIN, "begin transaction");
	if (r < 0 && !had)
		lock_drop(db);
	return r;
}

int db_begin(struct db *db)
{
	return begin(db, db->lock_ms);
}

int db_begin_brief(struct db *db, int busy_ms)
{
	int r;

	if (db->budget)
		return db_begin(db);	/* a budget already bounds the whole run */
	sqlite3_busy_timeout(db->sql, busy_ms);
	r = begin(db, busy_ms < db->lock_ms ? busy_ms : db->lock_ms);
	sqlite3_busy_timeout(db->sql, db->busy_ms);
	return r;
}

int db_commit(struct db *db)
{
	int r = db_run(db, ST_COMMIT, "commit");

	/* A busy COMMIT keeps the transaction (and the place) for a rollback. */
	if (sqlite3_get_autocommit(db->sql))
		lock_drop(db);
	return r;
}

void db_rollback(struct db *db)
{
	if (!sqlite3_get_autocommit(db->sql))
		db_run(db, ST_ROLLBACK, "rollback");
	lock_drop(db);
}

void db_lock_close(struct db *db)
{
	lock_drop(db);
	if (db->lock_fd >= 0)
		close(db->lock_fd);
}
