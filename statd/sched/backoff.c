/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The scheduler's waiting, as arithmetic only: a VM that cannot be reached
 * waits twice as long each time; a "not yet" job is retried within a budget.
 */
#include "sched-private.h"

/* An unreachable VM is tried again after 100 ms, then twice as long each time, up to 30 s. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS 30000
/* After its socket appeared, a VM that refuses connections stays quiet this long. */
#define APPEARED_QUIET_MS 1600
/* "Not yet" answers are retried for this long in all, then recorded as refused. */
#define RETRY_BUDGET_MS 3000

int backoff_first(void)
{
	return BACKOFF_FIRST_MS;
}

int backoff_next(int last_ms)
{
	int ms = last_ms ? last_ms * 2 : BACKOFF_FIRST_MS;

	return ms > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : ms;
}

bool backoff_past_quiet(int wait_ms)
{
	return wait_ms > APPEARED_QUIET_MS;
}

bool backoff_not_yet(const struct vmm_backend_ops *ops, int64_t first_ms, int64_t now,
		     int *delay_ms, int64_t *due_ms)
{
	int budget = ops && ops->not_yet_budget_ms ? ops->not_yet_budget_ms : RETRY_BUDGET_MS;

	/* A backend's own pace for its "not yet" (crosvm: a guest still booting). */
	if (ops && *delay_ms < ops->not_yet_first_ms)
		*delay_ms = ops->not_yet_first_ms;
	if (ops && ops->not_yet_max_ms && *delay_ms > ops->not_yet_max_ms)
		*delay_ms = ops->not_yet_max_ms;
	if (now + *delay_ms - first_ms > budget)
		return false;
	*due_ms = now + *delay_ms;
	*delay_ms *= 2;
	return true;
}
