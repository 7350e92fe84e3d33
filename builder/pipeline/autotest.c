/*
 * Compose autotest as the test stage; see autotest.h. The compose model
 * and runner live in compose/; this file gives them what belongs to the
 * pipeline: pulls (pull.c), builds of a service's own image (build.c),
 * copies of bind-mounted paths into containers on remote engines (PUT
 * /containers/{id}/archive, with context.c's tar), and registration with
 * cleanup.c so that a signal or `builder cleanup` removes everything.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "compose/compose.h"
#include "compose/run.h"
#include "context/context.h"
#include "engine/engine.h"
#include "pipeline/autotest.h"
#include "pipeline/build.h"
#include "pipeline/cleanup.h"
#include "pipeline/pull.h"
#include "pipeline/results.h"
#include "pipeline/test.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

struct autotest {
	struct engine *eng;
	struct run *run;
	const struct config *cfg;
	const struct credential *cred;
	char *context_abs;
	char *dockerfile_rel; /* relative to context_abs */
	struct strlist paths;
	struct compose_file **files;
	size_t nfiles;
	struct compose_run_options ropt;
	struct compose_run_ops ops;
	struct compose_run *first; /* autotest_start()'s run of files[0] */
	struct strlist
		built; /* image IDs ops_build() made, removed at the end */
	struct results *results; /* TEST_RESULTS go here, or NULL */
};

/* --- what the runner needs from the pipeline ------------------------- */

static int ops_ensure(void *ctx, const char *image, struct error *err)
{
	struct autotest *at = ctx;
	int have = image_exists(at->eng, image, err);
	int missing = 0;

	if (have < 0)
		return -1;
	if (have)
		return 0;
	log_info("image '%s' is not on the engine: pulling it", image);
	if (image_pull(at->eng, &at->cfg->auth, image, &missing, err) < 0)
		return -1;
	return 0;
}

static int ops_build(void *ctx, const struct compose_service *svc, char **image,
		     struct error *err)
{
	struct autotest *at = ctx;
	struct config c = *at->cfg;
	struct build_result built;
	struct buf df = BUF_INIT(BUF_PATH_MAX);
	int ret;

	/* The same settings (builder, secrets, platform), another context. */
	c.context = svc->build_context;
	buf_addf(&df, "%s/%s", svc->build_context,
		 svc->build_dockerfile ? svc->build_dockerfile : "Dockerfile");
	c.dockerfile = df.data;
	c.build_args = svc->build_args;
	c.target = svc->build_target;
	log_info("service '%s': building '%s'", svc->name, svc->build_context);
	/* Unnamed: the run's name stays with the image under test. */
	ret = build_image(at->eng, at->run, BUILD_UNNAMED, &c, at->cred,
			  &built, err);
	buf_release(&df);
	if (ret < 0)
		return err_wrap(err, "cannot build the image of service '%s'",
				svc->name);
	*image = xstrdup(built.image_id);
	if (!strlist_has(&at->built, built.image_id))
		strlist_push(&at->built, built.image_id);
	return 0;
}

/* The images built for services are the test's own: removed (untagged,
 * so DELETE removes them) unless another image needs them (409), or
 * they are the image under test. */
static void remove_built(struct autotest *at)
{
	for (size_t i = 0; i < at->built.n; i++) {
		struct error ignored = ERROR_INIT;
		struct buf path = BUF_INIT(BUF_PATH_MAX);
		long status = 0;

		if (at->ropt.image && !strcmp(at->ropt.image, at->built.v[i]))
			continue;
		buf_addstr(&path, "/images/");
		buf_add_urlencoded(&path, at->built.v[i]);
		if (engine_json_cleanup(at->eng, "DELETE", path.data, &status,
					&ignored) == 0)
			log_debug("removed the service image %.19s",
				  at->built.v[i]);
		buf_release(&path);
	}
}

static int ops_copy_in(void *ctx, const char *container_id,
		       const char *host_path, const char *target,
		       struct error *err)
{
	struct autotest *at = ctx;
	struct engine_request req = ENGINE_REQUEST_INIT;
	struct context *tar = NULL;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	int ret = -1;

	if (context_open_path(&tar, host_path, target, err) < 0)
		goto out;
	/* path=/ with names from the root: the engine creates the missing
	 * parents of target, as a bind mount would have. */
	buf_addf(&path, "/containers/%s/archive?path=%%2F", container_id);
	req.method = "PUT";
	req.path = path.data;
	req.content_type = "application/x-tar";
	req.read_body = context_read;
	req.read_ctx = tar;
	if (engine_do(at->eng, &req, err) < 0)
		goto out;
	log_debug("copied '%s' to '%s' in container %.12s (the engine "
		  "cannot see this machine's files; writes stay there)",
		  host_path, target, container_id);
	ret = 0;
out:
	if (ret < 0)
		err_wrap(err, "cannot copy '%s' to '%s' in the container",
			 host_path, target);
	context_close(tar);
	buf_release(&path);
	return ret;
}

static void ops_created(void *ctx, enum compose_object kind, const char *id)
{
	struct autotest *at = ctx;

	/* Volumes carry the run's label: cleanup_run()'s last sweep and
	 * `builder cleanup` find them (leftovers.c). */
	if (kind == COMPOSE_CONTAINER)
		cleanup_add_container(at->run, id);
	else if (kind == COMPOSE_NETWORK)
		cleanup_add_network(at->run, id);
}

static void ops_removed(void *ctx, enum compose_object kind, const char *id)
{
	struct autotest *at = ctx;

	if (kind != COMPOSE_VOLUME)
		cleanup_forget(at->run, id);
}

/* TEST_RESULTS out of sut, as test.c does for TEST_CMD's container; with
 * several files, each sut's results add to the same totals. */
static void ops_sut_ended(void *ctx, const char *container_id)
{
	struct autotest *at = ctx;

	if (at->results && at->cfg->test_results.n)
		results_collect_all(at->eng, container_id,
				    &at->cfg->test_results, at->results);
}

/* --- the stage ------------------------------------------------------- */

/* The Dockerfile's directory and path relative to the context, resolved
 * as the build resolves them. */
static int locate(struct autotest *at, struct buf *dir, struct error *err)
{
	struct context *ctx = NULL;
	const char *rel;
	char *copy;

	if (context_open(&ctx, at->cfg->context ? at->cfg->context : ".",
			 at->cfg->dockerfile, err) < 0)
		return -1;
	at->context_abs =
		realpath(at->cfg->context ? at->cfg->context : ".", NULL);
	if (!at->context_abs)
		at->context_abs = xstrdup(".");
	rel = context_relpath(at->context_abs, context_dockerfile_path(ctx));
	at->dockerfile_rel = xstrdup(rel ? rel : context_dockerfile(ctx));
	copy = xstrdup(context_dockerfile_path(ctx));
	buf_addstr(dir, dirname(copy));
	free(copy);
	context_close(ctx);
	return 0;
}

int autotest_open(struct autotest **out, struct engine *eng, struct run *run,
		  const struct config *cfg, const struct credential *cred,
		  struct error *err)
{
	struct autotest *at;
	struct buf dir = BUF_INIT(BUF_PATH_MAX), names = BUF_INIT(BUF_TEXT_MAX);
	int ret = -1;

	*out = NULL;
	if (cfg->test_cmd || cfg->services.n) {
		if (cfg->test_compose.n)
			return err_set(err, EXIT_USAGE,
				       "TEST_COMPOSE cannot be combined with "
				       "TEST_CMD or TEST_SERVICES: the compose "
				       "file's sut is the test; unset one");
		return 0;
	}
	at = xcalloc(1, sizeof(*at));
	at->eng = eng;
	at->run = run;
	at->cfg = cfg;
	at->cred = cred;
	if (locate(at, &dir, err) < 0)
		goto out;
	if (cfg->test_compose.n) {
		for (size_t i = 0; i < cfg->test_compose.n; i++)
			strlist_push(&at->paths, cfg->test_compose.v[i]);
	} else if (compose_find_tests(dir.data, &at->paths, err) < 0) {
		goto out;
	}
	if (!at->paths.n) {
		ret = 0;
		goto out;
	}
	at->files = xcalloc(at->paths.n, sizeof(*at->files));
	for (size_t i = 0; i < at->paths.n; i++) {
		struct compose_options copt = COMPOSE_OPTIONS_INIT;

		copt.lookup = config_lookup;
		copt.lookup_ctx = (void *)cfg;
		copt.context_dir = at->context_abs;
		if (compose_load(&at->files[i], at->paths.v[i], &copt, err) < 0)
			goto out;
		at->nfiles++;
		buf_addf(&names, "%s'%s'", i ? ", " : "", at->paths.v[i]);
	}
	log_info("compose test files: %s", names.data);

	at->ropt.run_id = run->id;
	at->ropt.label = CLEANUP_LABEL;
	at->ropt.image_name = config_lookup("IMAGE_NAME", (void *)cfg);
	at->ropt.context_dir = at->context_abs;
	at->ropt.dockerfile = at->dockerfile_rel;
	at->ropt.target = cfg->target;
	at->ropt.copy_binds = !strncmp(engine_host(eng), "tcp://", 6);
	at->ropt.timeout = cfg->test_timeout;
	at->ops.ctx = at;
	at->ops.ensure_image = ops_ensure;
	at->ops.build = ops_build;
	at->ops.copy_in = ops_copy_in;
	at->ops.created = ops_created;
	at->ops.removed = ops_removed;
	at->ops.sut_ended = ops_sut_ended;
	*out = at;
	at = NULL;
	ret = 0;
out:
	autotest_free(at);
	buf_release(&dir);
	buf_release(&names);
	return ret;
}

int autotest_start(struct autotest *at, struct error *err)
{
	if (compose_run_start(&at->first, at->eng, at->files[0], &at->ropt,
			      &at->ops, err) < 0)
		return err_wrap(err, "'%s'", at->paths.v[0]);
	return 0;
}

static void set_result(struct test_result *res,
		       const struct compose_run_result *r)
{
	res->ran = r->ran;
	res->exit_code = r->exit_code;
	res->timed_out = r->timed_out;
	res->seconds = r->seconds;
}

int autotest_run(struct autotest *at, const char *image_id,
		 struct test_result *res, struct error *err)
{
	struct compose_run_result r;
	struct results *results = res->results;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	res->results = results;
	res->exit_code = -1;
	at->results = results;
	at->ropt.image = image_id;
	for (size_t i = 0; i < at->nfiles; i++) {
		memset(&r, 0, sizeof(r));
		r.exit_code = -1;
		log_info("compose test file %zu of %zu: '%s'", i + 1,
			 at->nfiles, at->paths.v[i]);
		if (i == 0 && at->first) {
			ret = compose_run_finish(at->first, image_id, &r, err);
			compose_run_free(at->first);
			at->first = NULL;
		} else {
			ret = compose_run_file(at->eng, at->files[i], &at->ropt,
					       &at->ops, &r, err);
		}
		set_result(res, &r);
		if (ret < 0)
			return -1;
	}
	return 0;
}

void autotest_free(struct autotest *at)
{
	if (!at)
		return;
	compose_run_free(at->first);
	remove_built(at);
	strlist_clear(&at->built);
	for (size_t i = 0; i < at->nfiles; i++)
		compose_free(at->files[i]);
	free(at->files);
	strlist_clear(&at->paths);
	free(at->context_abs);
	free(at->dockerfile_rel);
	free(at);
}
