/*
 * compose-run FILE IMAGE [CONTEXT_DIR]: runs one compose test file with
 * builder/compose/run.c against the engine of DOCKER_HOST (or the default
 * socket), IMAGE standing for the image builder built, for
 * tests/e2e/17-compose-run.sh until the runner is wired into the test
 * stage. Images must be on the engine; services that build their own
 * image are refused. Prints "created KIND ID" / "removed KIND ID" to
 * stderr, and exits with the error's code, or 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compose/compose.h"
#include "compose/run.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/signals.h"

static const char *env_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return getenv(name);
}

static const char *const kinds[] = { "container", "network", "volume" };

static void on_created(void *ctx, enum compose_object k, const char *id)
{
	(void)ctx;
	fprintf(stderr, "created %s %s\n", kinds[k], id);
}

static void on_removed(void *ctx, enum compose_object k, const char *id)
{
	(void)ctx;
	fprintf(stderr, "removed %s %s\n", kinds[k], id);
}

int main(int argc, char **argv)
{
	struct compose_options copt = COMPOSE_OPTIONS_INIT;
	struct compose_run_options opt = COMPOSE_RUN_OPTIONS_INIT;
	struct compose_run_ops ops = { 0 };
	struct compose_run_result res;
	struct engine_settings set = { 0 };
	struct compose_file *cf = NULL;
	struct engine *eng = NULL;
	struct error err = ERROR_INIT;
	char run_id[32];
	int rc = 0;

	if (argc < 3) {
		fprintf(stderr,
			"usage: compose-run FILE IMAGE [CONTEXT_DIR]\n");
		return 2;
	}
	signals_install();
	if (getenv("VERBOSE"))
		log_set_level(LOG_VERBOSE);
	copt.lookup = env_lookup;
	copt.context_dir = argc > 3 ? argv[3] : NULL;
	set.host = getenv("DOCKER_HOST");
	set.tls_verify = getenv("DOCKER_TLS_VERIFY");
	set.cert_path = getenv("DOCKER_CERT_PATH");
	snprintf(run_id, sizeof(run_id), "%s",
		 getenv("RUN_ID") ? getenv("RUN_ID") : "bcomposetest");
	opt.run_id = run_id;
	opt.image = argv[2];
	opt.image_name = getenv("IMAGE_NAME");
	opt.context_dir = copt.context_dir;
	opt.ready_timeout = 30;
	ops.created = on_created;
	ops.removed = on_removed;
	if (compose_load(&cf, argv[1], &copt, &err) < 0 ||
	    engine_open(&eng, &set, &err) < 0 || engine_ping(eng, &err) < 0) {
		log_error("%s", err.msg);
		rc = err.code ? err.code : 1;
	} else if (getenv("SPLIT_SLEEP")) {
		/* As the pipeline will: services start, the image builds
		 * (a sleep here), then the rest and sut. */
		struct compose_run *run = NULL;
		unsigned secs =
			(unsigned)strtoul(getenv("SPLIT_SLEEP"), NULL, 10);

		opt.image = NULL;
		if (compose_run_start(&run, eng, cf, &opt, &ops, &err) == 0) {
			fprintf(stderr, "compose-run: the build runs now\n");
			sleep(secs);
			fprintf(stderr, "compose-run: the build is done\n");
		}
		if (!err.code &&
		    compose_run_finish(run, argv[2], &res, &err) < 0)
			;
		if (err.code) {
			log_error("%s", err.msg);
			rc = err.code;
		}
		compose_run_free(run);
	} else if (compose_run_file(eng, cf, &opt, &ops, &res, &err) < 0) {
		log_error("%s", err.msg);
		rc = err.code ? err.code : 1;
	}
	engine_close(eng);
	compose_free(cf);
	return rc;
}
