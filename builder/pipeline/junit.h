#ifndef BUILDER_JUNIT_H
#define BUILDER_JUNIT_H

/*
 * JUnit XML test reports: totals and the first failing cases, read with
 * expat as a stream (bounded memory whatever the file's size).
 *
 * The format has no one specification; what every producer (JUnit/Surefire,
 * pytest, go-junit-report, jest-junit, gotestsum, ctest) shares is used:
 * a <testsuites> or <testsuite> root; <testcase> elements, each with a
 * <failure>, an <error> or a <skipped> child, or none when it passed; a
 * "time" in seconds on cases and suites. Totals are counted from the
 * cases; a suite with no cases and no child suites contributes its own
 * tests/failures/errors/skipped attributes instead (some producers write
 * only those). A suite's time is its "time" attribute, or the sum of its
 * children's when it has none.
 *
 *	struct junit j;
 *	junit_init(&j);
 *	rc = junit_read_file(&j, "test-results/junit.xml", err);
 *	// 1: read and added; 0: not JUnit (another XML file); -1: err set
 *	junit_release(&j);
 *
 * A file that is not well-formed adds nothing to the totals (failing
 * cases seen before the error are kept).
 */

#include <stddef.h>

#include "util/error.h"

#define JUNIT_CASES_MAX 20
/* Longest case name and message line kept, in bytes. */
#define JUNIT_TEXT_MAX 200
/* Memory expat may use for one file: past it the file is refused. */
#define JUNIT_MEMORY_MAX (8u * 1024 * 1024)

struct junit_case {
	char *name; /* "classname.name", or "name" */
	const char *kind; /* "failure" or "error"; static */
	char *message; /* first line of the message, maybe "" */
};

struct junit {
	long long tests, failures, errors, skipped;
	double time; /* seconds */
	size_t files; /* JUnit files added */
	struct junit_case cases[JUNIT_CASES_MAX];
	size_t ncases;
	size_t more_cases; /* failing cases beyond JUNIT_CASES_MAX */
};

void junit_init(struct junit *j);
void junit_release(struct junit *j);

/* A streaming reader for one file; source names it in errors. */
struct junit_reader;

struct junit_reader *junit_reader_new(struct junit *j, const char *source);
/* Feeds the next bytes; -1 with err set when the file is not well-formed
 * (or too demanding); after that, further feeds fail too. Once the root
 * element shows the file is not JUnit, the rest is ignored. */
int junit_reader_feed(struct junit_reader *r, const char *data, size_t len,
		      struct error *err);
/* Ends the file: 1 when it was JUnit and was added to the totals, 0 when
 * it was not JUnit, -1 with err set. */
int junit_reader_finish(struct junit_reader *r, struct error *err);
void junit_reader_free(struct junit_reader *r);

/* The same over a buffer. */
int junit_read_mem(struct junit *j, const char *data, size_t len,
		   const char *source, struct error *err);
/* The same over a file, read in chunks; a symbolic link is not followed. */
int junit_read_file(struct junit *j, const char *path, struct error *err);

#endif
