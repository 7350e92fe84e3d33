#ifndef BUILDER_AUTOTEST_H
#define BUILDER_AUTOTEST_H

/*
 * The test stage for Docker Hub autotest repositories: compose test files
 * (docker-compose.test.yml and every *.test.yml next to the Dockerfile, or
 * TEST_COMPOSE), each run with compose/run.c, sut's exit code the verdict.
 *
 *	struct autotest *at = NULL;
 *	if (autotest_open(&at, eng, &run, cfg, cred, err) < 0)  // before the
 *build goto out;          // EXIT_USAGE: a YAML error, with its line if (at &&
 *autotest_start(at, err) < 0)  // sidecars, while it builds goto out;
 *	... build ...
 *	if (at && autotest_run(at, image_id, &res, err) < 0)
 *		goto out;          // EXIT_TESTS when a sut failed
 *	out: autotest_free(at);  // removes whatever is still running
 */

#include "util/error.h"

struct autotest;
struct config;
struct credential;
struct engine;
struct run;
struct test_result;

/*
 * Finds and loads the compose test files (all of them now, so that a
 * mistake in any stops the run before the build, exit 2 naming the key and
 * line). Objects are registered in run (cleanup.h). *out stays NULL when there
 * are none, or when TEST_CMD or TEST_SERVICES is set (they take precedence;
 * TEST_COMPOSE with them is EXIT_USAGE). The log names the files found. eng,
 * cfg and cred must outlive the autotest; cred is used for services that build
 * their own image.
 */
int autotest_open(struct autotest **out, struct engine *eng, struct run *run,
		  const struct config *cfg, const struct credential *cred,
		  struct error *err);

/* Starts the first file's services that need neither the image being
 * built nor a build of their own, so that a slow database is ready when
 * the build ends. Optional. */
int autotest_start(struct autotest *at, struct error *err);

/* Runs every file in turn with image_id as the built image; the first
 * failing one stops the stage. res describes the last sut that ran. Once
 * each sut has run, passed or failed, cfg's TEST_RESULTS are copied out
 * of its container into res->results when the caller set it (see
 * results.h; the totals add up over the files). */
int autotest_run(struct autotest *at, const char *image_id,
		 struct test_result *res, struct error *err);

/* Removes what is still running (on every path) and frees; NULL is fine. */
void autotest_free(struct autotest *at);

#endif
