/*
 * startup: the wall time of a short command, from spawn to exit.
 *
 *	startup RUNS EXPECTED_EXIT COMMAND [ARG...]
 *
 * Spawns COMMAND RUNS times, one after the other, with stdout and stderr
 * on /dev/null and the caller's environment, and times each run from
 * posix_spawn() to waitpid() on CLOCK_MONOTONIC. A run whose exit status is
 * not EXPECTED_EXIT stops the benchmark (it would time the wrong thing).
 * Prints one line for bench/run.sh:
 *
 *	startup runs=N median_us=M min_us=A max_us=B
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/banned.h"

extern char **environ;

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static long number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "startup: '%s' is not a number from %ld to %ld\n",
			s, lo, hi);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	posix_spawn_file_actions_t fa;
	double *us;
	long runs, expect, i;

	if (argc < 4) {
		fprintf(stderr, "usage: startup RUNS EXPECTED_EXIT COMMAND [ARG...]\n");
		return 2;
	}
	runs = number(argv[1], 1, 1000000);
	expect = number(argv[2], 0, 255);
	us = calloc((size_t)runs, sizeof(*us));
	if (!us) {
		perror("startup");
		return 1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	for (i = 0; i < runs; i++) {
		double t0 = now_us();
		pid_t pid;
		int st, rc;

		rc = posix_spawnp(&pid, argv[3], &fa, NULL, argv + 3, environ);
		if (rc) {
			fprintf(stderr, "startup: cannot run '%s': %s\n", argv[3],
				strerror(rc));
			return 1;
		}
		if (waitpid(pid, &st, 0) < 0) {
			perror("startup: waitpid");
			return 1;
		}
		us[i] = now_us() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != expect) {
			fprintf(stderr, "startup: '%s' exited with status %d, not %ld\n",
				argv[3], WIFEXITED(st) ? WEXITSTATUS(st) : -1, expect);
			return 1;
		}
	}
	qsort(us, (size_t)runs, sizeof(*us), cmp_double);
	printf("startup runs=%ld median_us=%.0f min_us=%.0f max_us=%.0f\n", runs,
	       us[runs / 2], us[0], us[runs - 1]);
	posix_spawn_file_actions_destroy(&fa);
	free(us);
	return 0;
}
