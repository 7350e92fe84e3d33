#ifndef BUILDER_REPORT_H
#define BUILDER_REPORT_H

/*
 * The run's summary: filled as the stages go, written as JSON to REPORT
 * at the end whether the run succeeded or not. It holds names, digests,
 * durations and error messages, never a credential.
 */

#include "pipeline/results.h"
#include "util/error.h"
#include "util/strlist.h"

/* STAGE_SAVE (SAVE=FILE) runs between tag and push; it is last here so
 * that the other indexes keep their values. */
enum stage_id {
	STAGE_BUILD,
	STAGE_TEST,
	STAGE_TAG,
	STAGE_PUSH,
	STAGE_SAVE,
	STAGE_COUNT
};

enum stage_status {
	STAGE_NOT_RUN = 0,
	STAGE_OK,
	STAGE_FAILED,
	STAGE_SKIPPED,
};

struct report_stage {
	enum stage_status status;
	double seconds;
	char *message; /* why it failed or was skipped */
};

struct report {
	struct report_stage stages[STAGE_COUNT];
	char *image; /* [REGISTRY/]ACCOUNT/IMAGE:TAG */
	char image_id[128];
	long long image_size; /* bytes, -1 if unknown */
	struct strlist tags; /* every tag pushed, "repo:tag" */
	char digest[128];
	int tests_ran;
	long test_exit_code;
	char engine_version[64];
	char engine_api[16];
	char credential_source[128];
	int results_wanted; /* TEST_RESULTS was set: "test_results" */
	struct results results; /* what TEST_RESULTS copied and read */
	int exit_code;
	char *error; /* the final error message, if any */
};

const char *stage_name(enum stage_id id);

void report_init(struct report *r);
void report_stage_done(struct report *r, enum stage_id id,
		       enum stage_status status, double seconds,
		       const char *message);
/* Checks, before any engine call, that the report can be written to path:
 * an existing file, device or FIFO must be writable; a new file's directory
 * must exist and be writable. EXIT_USAGE errors name REPORT. */
int report_check_path(const char *path, struct error *err);
/* Writes the JSON summary to path. A regular file (after following
 * symbolic links) or a new path is replaced atomically (temp file in the
 * same directory, then rename); a device, a FIFO or a link to a missing
 * file is written directly, as a shell's '>' would. */
int report_write(const struct report *r, const char *path, struct error *err);
/* The JSON text report_write() writes (GITHUB_OUTPUT's metadata); owned
 * by the caller, free() it. */
char *report_json(const struct report *r);
void report_release(struct report *r);

#endif
