#ifndef BUILDER_UNIT_H
#define BUILDER_UNIT_H

/*
 * A minimal unit-test harness. Each test file defines test functions and a
 * main() that calls RUN(fn) for each, then returns unit_summary().
 * CHECK() records a failure with file and line and goes on; each RUN()
 * counts as one passed or failed test. The summary line is the one the
 * test runner adds up: "unit: N passed, N failed".
 */

#include <stdio.h>
#include <string.h>

static int unit_failures_in_test;
static int unit_passed, unit_failed;

#define CHECK(cond)                                                            \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #cond);                              \
			unit_failures_in_test++;                               \
		}                                                              \
	} while (0)

#define CHECK_STR(got, want)                                            \
	do {                                                            \
		const char *g_ = (got), *w_ = (want);                   \
		if (!g_ || !w_ ? g_ != w_ : strcmp(g_, w_) != 0) {      \
			fprintf(stderr, "%s:%d: got '%s', want '%s'\n", \
				__FILE__, __LINE__, g_ ? g_ : "(null)", \
				w_ ? w_ : "(null)");                    \
			unit_failures_in_test++;                        \
		}                                                       \
	} while (0)

#define RUN(fn)                                            \
	do {                                               \
		unit_failures_in_test = 0;                 \
		fn();                                      \
		if (unit_failures_in_test) {               \
			fprintf(stderr, "FAIL %s\n", #fn); \
			unit_failed++;                     \
		} else {                                   \
			unit_passed++;                     \
		}                                          \
	} while (0)

static inline int unit_summary(void)
{
	printf("unit: %d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
