/*
 * A main() for a libFuzzer target without libFuzzer: runs the target's
 * LLVMFuzzerTestOneInput over every regular file of the directories (or
 * the files) named on the command line, so that `make test` replays the
 * seed and crasher corpora under ASan and UBSan with gcc. A crash or
 * abort() in the target kills the process; the name of the input being
 * run is printed first, so the log says which one it was.
 *
 *	gcc -g -fsanitize=address,undefined -Ibuilder tests/fuzz/replay.c \
 *	    tests/fuzz/fuzz_ref.c builder/registry/ref.c ... -o build/fuzz/replay_ref
 *	build/fuzz/replay_ref tests/fuzz/corpus/fuzz_ref
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are not fuzzer inputs; refuse them rather than
 * read something big by mistake. */
#define REPLAY_MAX (16u * 1024 * 1024)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *data = NULL;
	size_t size = 0;
	struct stat st;
	int ret = -1;

	if (!f) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fstat(fileno(f), &st) < 0 || st.st_size < 0 ||
	    (unsigned long long)st.st_size > REPLAY_MAX) {
		fprintf(stderr, "replay: '%s' is not a file of at most %u bytes\n",
			path, REPLAY_MAX);
		goto out;
	}
	/* The exact size (malloc(0) may return NULL), so that ASan sees a
	 * read one past the end of the input. */
	data = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!data) {
		fprintf(stderr, "replay: out of memory for '%s'\n", path);
		goto out;
	}
	size = fread(data, 1, (size_t)st.st_size, f);
	if (ferror(f)) {
		fprintf(stderr, "replay: cannot read '%s'\n", path);
		goto out;
	}
	fprintf(stderr, "replay: %s (%zu bytes)\n", path, size);
	LLVMFuzzerTestOneInput(data, size);
	ret = 0;
out:
	free(data);
	fclose(f);
	return ret;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of dir, in name order; returns the count run,
 * or -1. */
static long run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, alloc = 0, i;
	long count = 0;

	if (!d) {
		fprintf(stderr, "replay: cannot open '%s': %s\n", dir,
			strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (n == alloc) {
			alloc = alloc ? 2 * alloc : 64;
			names = realloc(names, alloc * sizeof(*names));
			if (!names)
				abort();
		}
		names[n] = strdup(de->d_name);
		if (!names[n++])
			abort();
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	for (i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]) + 2;
		char *path = malloc(len);
		struct stat st;

		if (!path)
			abort();
		snprintf(path, len, "%s/%s", dir, names[i]);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (run_file(path) < 0)
				count = -1;
			else if (count >= 0)
				count++;
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return count;
}

int main(int argc, char **argv)
{
	long total = 0, n;
	struct stat st;
	int failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: cannot stat '%s': %s\n",
				argv[i], strerror(errno));
			failed = 1;
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			n = run_dir(argv[i]);
		} else {
			n = run_file(argv[i]) < 0 ? -1 : 1;
		}
		if (n < 0)
			failed = 1;
		else
			total += n;
	}
	printf("replayed %ld inputs\n", total);
	return failed;
}
