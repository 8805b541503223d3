/* SPDX-License-Identifier: Apache-2.0 */
/*
 * make check's side of fuzzing: runs every file of tests/fuzz/FUZZ_TARGET/
 * (seeds and every crash ever found) through the target, without libFuzzer.
 * Arguments, if any, are files or directories to run instead.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t size = 0;
	FILE *m = open_memstream(&buf, &size);
	char chunk[4096];
	size_t n;

	if (!f || !m) {
		perror(path);
		return -1;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fwrite(chunk, 1, n, m);
	fclose(f);
	fclose(m);
	LLVMFuzzerTestOneInput((const uint8_t *)buf, size);
	free(buf);
	return 0;
}

static int run_path(const char *path, int *count)
{
	struct dirent **names;
	struct stat st;
	int n, r = 0;

	if (stat(path, &st) < 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return run_file(path);
	}
	/* In name order, so a failure names the same file every time. */
	n = scandir(path, &names, NULL, alphasort);
	if (n < 0) {
		perror(path);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char file[4096];

		if (names[i]->d_name[0] != '.' && r == 0) {
			snprintf(file, sizeof(file), "%s/%s", path, names[i]->d_name);
			r = run_path(file, count);
		}
		free(names[i]);
	}
	free(names);
	return r;
}

int main(int argc, char **argv)
{
	const char *srcdir = getenv("top_srcdir");
	char dir[4096];
	int count = 0, r = 0;

	if (argc > 1) {
		for (int i = 1; r == 0 && i < argc; i++)
			r = run_path(argv[i], &count);
	} else {
		snprintf(dir, sizeof(dir), "%s/tests/fuzz/%s", srcdir ? srcdir : ".", FUZZ_TARGET);
		r = run_path(dir, &count);
	}
	printf("%s: %d inputs replayed\n", FUZZ_TARGET, count);
	return r < 0 || count == 0 ? 1 : 0;
}
