#ifndef BUILDER_TEST_H
#define BUILDER_TEST_H

/*
 * The test stage: TEST_CMD run in a fresh container of the built image,
 * with TEST_SERVICES sidecars on a private network, output streamed live,
 * the verdict taken from the container's exit code.
 *
 *	struct test_result res;
 *	struct test_options opt = { cfg->test_cmd, &cfg->test_env, ... };
 *	if (test_stage_run(eng, &run, &opt, image_id, &res, err) < 0)
 *		goto out;   // err->code EXIT_TESTS when the tests failed
 */

#include "util/error.h"

struct auth_settings;
struct engine;
struct run;
struct strlist;

/* The stage's inputs, filled by pipeline.c from struct config. */
struct test_options {
	const char *cmd; /* TEST_CMD; NULL: the stage is skipped */
	const struct strlist *env; /* TEST_ENV: "K=V" */
	const struct strlist *services; /* TEST_SERVICES: "NAME=IMAGE" */
	long timeout; /* TEST_TIMEOUT in seconds, 0: none */
	const struct auth_settings *auth; /* to pull service images */
};

struct test_result {
	int ran; /* the test container was started */
	long exit_code; /* its exit code, when it ran to the end */
	int timed_out; /* TEST_TIMEOUT passed; the container was killed */
	double seconds; /* from start to exit */
};

/*
 * Runs opt->cmd as `/bin/sh -c TEST_CMD` (Entrypoint and Cmd both
 * set, so images with an ENTRYPOINT work) in a new container of image_id,
 * named "builder-<run id>-test", with the image's working directory and
 * environment plus opt->env, and the label io.builder.run=<run id>.
 * Its stdout goes to our stdout and its stderr to our stderr as it comes.
 *
 * With opt->services ("NAME=IMAGE"), first creates the network
 * "builder-<run id>", and starts each service as "builder-<run id>-NAME"
 * on it, reachable by the alias NAME; images missing from the engine are
 * pulled with the credentials of their registry. The tests start once
 * every service runs and, when its image has a HEALTHCHECK, is healthy.
 *
 * Its output is read by attaching before the start, as raw bytes, whatever
 * the engine's log driver.
 *
 * Returns 0 when the tests passed, or when opt->cmd is NULL (res->ran
 * is then 0). Failures have code EXIT_TESTS: "tests failed (exit N)",
 * "tests timed out after N s; the container was killed", a service that
 * exits or turns unhealthy, an image whose command cannot run (no /bin/sh
 * for TEST_CMD, a service image without CMD); engine errors keep
 * EXIT_ENGINE, signals 130 or 143. When the tests fail, the last 50 lines
 * of each service's log are printed to stderr, after the tests' output.
 *
 * Every container and the network are registered in run (cleanup.h) the
 * moment they exist, and carry run->id in their names and label; and removed
 * (and forgotten) before returning, whatever the outcome; what cannot be
 * removed is left to cleanup_run().
 */
int test_stage_run(struct engine *eng, struct run *run,
		   const struct test_options *opt, const char *image_id,
		   struct test_result *res, struct error *err);

#endif
