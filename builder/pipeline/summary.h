#ifndef BUILDER_SUMMARY_H
#define BUILDER_SUMMARY_H

/*
 * What the CI shows of a run: a Markdown summary (GITHUB_STEP_SUMMARY, or
 * SUMMARY=FILE for any CI's artifacts) and GitHub step outputs
 * (GITHUB_OUTPUT: digest, imageid, tags, metadata, the names
 * docker/build-push-action uses).
 *
 * The formatters are pure: a struct summary in, text appended to a buf.
 * Everything that came from the test container (case names, messages) is
 * escaped so it cannot break the table or inject Markdown or HTML.
 */

#include <stddef.h>

#include "pipeline/junit.h"
#include "util/buf.h"
#include "util/error.h"
#include "util/strlist.h"

#define SUMMARY_STAGES_MAX 8

struct summary_stage {
	const char *name; /* "build" */
	const char *result; /* "ok", "failed", "skipped", "not run" */
	double seconds; /* < 0: not timed */
};

/* Borrowed strings; NULL or "" where unknown. */
struct summary {
	const char *image; /* the reference built */
	const char *digest; /* of the pushed manifest */
	const char *image_id;
	const struct strlist *tags; /* every reference pushed */
	struct summary_stage stages[SUMMARY_STAGES_MAX];
	size_t nstages;
	const struct junit *tests; /* NULL: no JUnit results were read */
	int exit_code;
	const char *error; /* the final error, if any */
};

/* Appends the Markdown summary (a few KiB: at most JUNIT_CASES_MAX cases
 * of bounded length); returns 0. */
int summary_markdown(const struct summary *s, struct buf *out);

/* Appends the GITHUB_OUTPUT lines: digest, imageid, tags (one a line) and
 * metadata (the report JSON, may be NULL), each as "name<<DELIM", the
 * value, "DELIM". A value holding delim is refused (EXIT_USAGE, naming
 * GITHUB_OUTPUT); with summary_delimiter()'s that cannot happen by
 * chance. */
int summary_github_output(const struct summary *s, const char *metadata,
			  const char *delim, struct buf *out,
			  struct error *err);

/* Fills out with "ghadelimiter_" and 32 random hex digits (the form
 * GitHub's own toolkit uses). */
void summary_delimiter(char *out, size_t size);

/* Writes b to path: appended (GITHUB_STEP_SUMMARY, GITHUB_OUTPUT: the
 * runner gives each step its file) or replacing the file (SUMMARY).
 * Errors name the variable. */
int summary_write_file(const char *variable, const char *path,
		       const struct buf *b, int append, struct error *err);

#endif
