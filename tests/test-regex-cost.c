/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Patterns whose compiled form would explode are refused before regcomp()
 * runs; ordinary ones are not. Without the check, the config test below
 * takes gigabytes (found by fuzzing the config loader).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "log.h"
#include "regex-cost.h"

static const char *const ordinary[] = {
	".*keyboard", "Logi.*", ".*[Cc]am.*", "^(USB|PS/2) [Mm]ouse$", "[[:alpha:]]+ [0-9]{1,3}",
	"a{1000}", "(abc){100}", "x+y+z+", "[]+]+", "\\++", "(a|b|c)*d?",
};

static const char *const exploding[] = {
	"(((((a{20}){20}){20}){20}){20})",
	"(((((((((((((((a+)+)+)+)+)+)+)+)+)+)+)+)+)+)+)+",
	"a{30000}",
	"(a?){5000}",	/* no copies to speak of, but an epsilon closure per node */
	"(|){20000}",
};

/* A config with the usbPassthrough productName PATTERN; returns config_load()'s result. */
static int load_pattern(const char *pattern, char **errs)
{
	char path[] = "/tmp/vhotplug-test-regex-XXXXXX";
	struct config *cfg = NULL;
	size_t len = 0;
	FILE *e = open_memstream(errs, &len);
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int r;

	if (!f || !e)
		abort();
	fprintf(f, "{\"usbPassthrough\": [{\"targetVm\": \"g\", \"allow\": [{\"productName\": \"%s\"}]}],"
		   " \"vms\": [{\"name\": \"g\", \"type\": \"qemu\", \"socket\": \"/run/g.sock\"}]}\n",
		pattern);
	fclose(f);
	r = config_load(path, &cfg, e);
	fclose(e);
	config_free(cfg);
	unlink(path);
	return r;
}

int main(void)
{
	char plus[80] = "k";
	char *errs = NULL;

	log_set_max_level(LOG_ERR);
	for (size_t i = 0; i < sizeof(ordinary) / sizeof(ordinary[0]); i++)
		if (regex_cost(ordinary[i]) > 1200)
			CHECK(!ordinary[i]);
	for (size_t i = 0; i < sizeof(exploding) / sizeof(exploding[0]); i++)
		if (regex_cost(exploding[i]) <= REGEX_MAX_COST)
			CHECK(!exploding[i]);
	memset(plus + 1, '+', 66);	/* what the fuzzer found: "k" and 66 "+" */
	CHECK(regex_cost(plus) > REGEX_MAX_COST);
	CHECK(regex_cost("a{2}{3}") == 10);
	CHECK(regex_cost("(ab)+") == 9);
	CHECK(regex_cost("a?b*") == 4);
	/* 10,000 "()" took 6 s and 1.5 GB in regcomp() when operators cost nothing */
	{
		static char empty[20001];

		for (int i = 0; i < 10000; i++)
			memcpy(empty + 2 * i, "()", 2);
		CHECK(regex_cost(empty) > REGEX_MAX_COST);
		empty[1000] = '\0';
		CHECK(regex_cost(empty) <= REGEX_MAX_COST);
	}

	CHECK(load_pattern(plus, &errs) == -EINVAL);
	CHECK(errs && strstr(errs, "usbPassthrough[0].allow[0].productName: bad regular expression"));
	CHECK(errs && strstr(errs, "repeats too much"));
	free(errs);
	CHECK(load_pattern(".*[Mm]ouse+", &errs) == 0);
	free(errs);
	return check_result();
}
