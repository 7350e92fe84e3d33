/*
 * The pipeline and the other commands that need an engine; see pipeline.h.
 * Each stage is a call into its own file (build.c, test.c, tag.c, push.c);
 * this file only orders them, times them, and fills the report.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "registry/auth.h"
#include "util/buf.h"
#include "pipeline/autotest.h"
#include "pipeline/build.h"
#include "pipeline/hookstage.h"
#include "pipeline/cleanup.h"
#include "pipeline/leftovers.h"
#include "cli/config.h"
#include "engine/engine.h"
#include "engine/json.h"
#include "util/log.h"
#include "pipeline/pipeline.h"
#include "pipeline/push.h"
#include "registry/ref.h"
#include "pipeline/report.h"
#include "pipeline/save.h"
#include "registry/verify.h"
#include "pipeline/test.h"
#include "pipeline/tag.h"
#include "util/signals.h"
#include "util/xmalloc.h"
#include "util/version.h"
#include "util/banned.h"

static int connect_engine(struct engine **eng, const struct config *cfg,
			  struct report *rep, struct error *err)
{
	char version[64] = "", platform[64] = "";

	if (engine_open(eng, &cfg->engine, err) < 0 ||
	    engine_ping(*eng, err) < 0 ||
	    engine_version(*eng, version, sizeof(version), platform,
			   sizeof(platform), err) < 0)
		return -1;
	log_info("engine: %s, version %s, API %s, %s", engine_host(*eng),
		 version, engine_api_version(*eng), platform);
	if (rep) {
		snprintf(rep->engine_version, sizeof(rep->engine_version), "%s",
			 version);
		snprintf(rep->engine_api, sizeof(rep->engine_api), "%s",
			 engine_api_version(*eng));
	}
	return 0;
}

static int resolve_credentials(const struct config *cfg,
			       struct credential *cred, struct error *err)
{
	struct ref r = REF_INIT;
	int ret;

	if (ref_parse(&r, cfg->image_ref, "the image name", err) < 0)
		return -1;
	ret = auth_resolve(&cfg->auth, r.domain, cred, err);
	ref_release(&r);
	return ret;
}

static void image_size(struct engine *eng, struct report *rep)
{
	struct error ignored = ERROR_INIT;
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *img = NULL;
	const cJSON *size;

	buf_addstr(&path, "/images/");
	buf_add_urlencoded(&path, rep->image_id);
	buf_addstr(&path, "/json");
	if (engine_json(eng, "GET", path.data, NULL, &img, NULL, &ignored) ==
	    0) {
		size = cJSON_GetObjectItemCaseSensitive(img, "Size");
		rep->image_size = json_int(size, -1);
	}
	cJSON_Delete(img);
	buf_release(&path);
}

/* Ends a stage: logs its duration and records it. */
static int stage_end(struct report *rep, enum stage_id id, int ret,
		     double started, const struct error *err)
{
	double took = now_seconds() - started;

	log_stage_end(stage_name(id), ret == 0, took);
	report_stage_done(rep, id, ret == 0 ? STAGE_OK : STAGE_FAILED, took,
			  ret == 0 ? NULL : err->msg);
	return ret;
}

static void stage_skip(struct report *rep, enum stage_id id, const char *why)
{
	log_stage(stage_name(id), "skipped: %s", why);
	report_stage_done(rep, id, STAGE_SKIPPED, 0, why);
}

/* Asks the registry itself that every pushed tag names the digest the
 * engine reported: what a later pull gets is what was tested. */
static int verify_pushed(const struct config *cfg,
			 const struct credential *cred,
			 const struct push_result *pushed, struct error *err)
{
	const struct registry_settings rs = {
		&cfg->auth, &cfg->insecure_registries, cfg->push_retries,
		cred,	    cfg->auth_registry,
	};

	for (size_t i = 0; i < pushed->pushed.n; i++) {
		struct error why = ERROR_INIT;
		int r = registry_verify_tag(&rs, pushed->pushed.v[i],
					    pushed->digest, &why);

		if (r < 0) {
			err_set(err, why.code, "%s", why.msg);
			return -1;
		}
		if (r > 0) {
			/* The engine pushed: it may reach a registry that
			 * builder cannot (a remote engine's network). */
			log_warn("%s; the push is not verified on the registry "
				 "(the engine's digest is %.19s)",
				 why.msg, pushed->digest);
			return 0;
		}
	}
	return 0;
}

/* SAVE: the tagged image, every tag, as a docker load-able tarball. A
 * failure is exit 5, as a push's: the image was not delivered. */
static int save_stage(struct engine *eng, const struct config *cfg,
		      const struct strlist *tags, struct report *rep,
		      struct error *err)
{
	struct strlist names = STRLIST_INIT;
	struct buf ref = BUF_INIT(BUF_PATH_MAX);
	unsigned long long bytes = 0;
	double t0 = now_seconds();
	int ret;

	for (size_t i = 0; i < tags->n; i++) {
		buf_reset(&ref);
		buf_addf(&ref, "%s:%s", cfg->repository, tags->v[i]);
		strlist_push(&names, ref.data);
	}
	log_stage("save", "%s to '%s'", cfg->image_ref, cfg->save);
	ret = save_image(eng, &names, cfg->save, &bytes, err);
	if (ret < 0 && !signals_pending())
		err_recode(err, EXIT_PUSH);
	if (ret == 0)
		log_info("    saved %zu tag%s, %llu bytes, to '%s'", names.n,
			 names.n == 1 ? "" : "s", bytes, cfg->save);
	stage_end(rep, STAGE_SAVE, ret, t0, err);
	strlist_clear(&names);
	buf_release(&ref);
	return ret;
}

/* hooks/build in place of the build: the image it leaves as IMAGE_NAME
 * is the one builder tests, tags and pushes. */
static int build_by_hook(struct engine *eng, const struct config *cfg,
			 struct hookstage *hs, struct build_result *res,
			 struct error *err)
{
	const char *name = config_lookup("IMAGE_NAME", (void *)cfg);
	struct buf path = BUF_INIT(BUF_PATH_MAX);
	cJSON *img = NULL;
	const cJSON *id;
	long status = 0;
	int ret = -1;

	memset(res, 0, sizeof(*res));
	if (hookstage_run(hs, HOOK_BUILD, err) < 0)
		goto out;
	buf_addstr(&path, "/images/");
	buf_add_urlencoded(&path, name);
	buf_addstr(&path, "/json");
	if (engine_json(eng, "GET", path.data, NULL, &img, &status, err) < 0) {
		if (status == 404)
			err_set(err, EXIT_BUILD,
				"hook 'build' left no image named IMAGE_NAME "
				"'%s' on the engine; build it with docker "
				"build -t \"$IMAGE_NAME\" .",
				name);
		goto out;
	}
	id = cJSON_GetObjectItemCaseSensitive(img, "Id");
	if (!cJSON_IsString(id)) {
		err_set(err, EXIT_ENGINE, "the image '%s' has no Id", name);
		goto out;
	}
	snprintf(res->image_id, sizeof(res->image_id), "%s", id->valuestring);
	log_info("hook 'build' built %s as %.19s", name, res->image_id);
	ret = 0;
out:
	cJSON_Delete(img);
	buf_release(&path);
	return ret;
}

/* The test stage: hooks/test, compose test files, or TEST_CMD. */
static int run_tests(struct engine *eng, struct run *run,
		     const struct test_options *topt, struct hookstage *hs,
		     struct autotest *at, const char *image_id,
		     struct test_result *tested, struct error *err)
{
	if (hookstage_has(hs, HOOK_TEST)) {
		log_stage("test", "hooks/test");
		return hookstage_run(hs, HOOK_TEST, err);
	}
	if (at) {
		log_stage("test", "compose test files with %.19s", image_id);
		return autotest_run(at, image_id, tested, err);
	}
	log_stage("test", "TEST_CMD in a container of %.19s", image_id);
	return test_stage_run(eng, run, topt, image_id, tested, err);
}

int pipeline_run(const struct config *cfg, struct report *rep,
		 struct error *err)
{
	struct engine *eng = NULL;
	struct credential cred = CREDENTIAL_INIT;
	struct build_result built;
	struct test_result tested;
	struct push_result pushed = PUSH_RESULT_INIT;
	struct strlist tags = STRLIST_INIT;
	struct hookstage *hs = NULL;
	struct autotest *at = NULL;
	struct run run;
	double t0;
	int ret = -1;

	memset(&tested, 0, sizeof(tested));
	run_init(&run, rep);
	rep->image = xstrdup(cfg->image_ref);
	log_info("builder %s: %s (tag from %s)", builder_version,
		 cfg->image_ref, cfg->tag_source);
	/* Names the run before anything can be left on the engine. */
	log_info("run %s: what it creates on the engine is labelled %s=%s",
		 run.id, CLEANUP_LABEL, run.id);
	if (connect_engine(&eng, cfg, rep, err) < 0 ||
	    resolve_credentials(cfg, &cred, err) < 0)
		goto out;
	snprintf(rep->credential_source, sizeof(rep->credential_source), "%s",
		 cred.source);
	/* Hooks and compose files are read before anything runs: a YAML
	 * mistake or a missing shell stops the run at once (exit 2). */
	if (hookstage_open(&hs, cfg, eng, err) < 0 ||
	    autotest_open(&at, eng, &run, cfg, &cred, err) < 0)
		goto out;

	t0 = now_seconds();
	if (hookstage_run(hs, HOOK_POST_CHECKOUT, err) < 0 ||
	    hookstage_run(hs, HOOK_PRE_BUILD, err) < 0) {
		stage_end(rep, STAGE_BUILD, -1, t0, err);
		goto out;
	}
	/* Sidecars that do not need the image start while it builds. */
	if (at && !hookstage_has(hs, HOOK_TEST) && autotest_start(at, err) < 0)
		goto out;
	if (hookstage_has(hs, HOOK_BUILD)) {
		log_stage("build", "hooks/build");
		ret = build_by_hook(eng, cfg, hs, &built, err);
	} else {
		log_stage("build", "%s from '%s'", cfg->image_ref,
			  cfg->context);
		ret = build_image(eng, &run, BUILD_NAMED, cfg, &cred, &built,
				  err);
		if (ret == 0 && !cfg->output_dest)
			hookstage_name_image(hs, run.image_ref);
	}
	if (ret == 0)
		ret = hookstage_run(hs, HOOK_POST_BUILD, err);
	if (stage_end(rep, STAGE_BUILD, ret, t0, err) < 0)
		goto out;
	ret = -1;
	snprintf(rep->image_id, sizeof(rep->image_id), "%s", built.image_id);
	if (cfg->output_dest) {
		/* --output: the build's files, no image to test or push. */
		stage_skip(rep, STAGE_TEST, "OUTPUT is set");
		stage_skip(rep, STAGE_TAG, "OUTPUT is set");
		stage_skip(rep, STAGE_PUSH, "OUTPUT is set");
		ret = 0;
		goto out;
	}

	if (!cfg->test_cmd && !at && !hookstage_has(hs, HOOK_TEST)) {
		stage_skip(rep, STAGE_TEST,
			   "TEST_CMD is not set and there is no "
			   "compose test file");
		if (hookstage_run(hs, HOOK_PRE_TEST, err) < 0 ||
		    hookstage_run(hs, HOOK_POST_TEST, err) < 0)
			goto out;
	} else {
		const struct test_options topt = {
			.cmd = cfg->test_cmd,
			.env = &cfg->test_env,
			.services = &cfg->services,
			.timeout = cfg->test_timeout,
			.auth = &cfg->auth,
			.results = &cfg->test_results,
		};

		t0 = now_seconds();
		rep->results_wanted = cfg->test_results.n > 0;
		tested.results = &rep->results;
		ret = hookstage_run(hs, HOOK_PRE_TEST, err);
		if (ret == 0)
			ret = run_tests(eng, &run, &topt, hs, at,
					built.image_id, &tested, err);
		if (ret == 0)
			ret = hookstage_run(hs, HOOK_POST_TEST, err);
		rep->tests_ran = tested.ran;
		rep->test_exit_code = tested.exit_code;
		if (stage_end(rep, STAGE_TEST, ret, t0, err) < 0)
			goto out;
		ret = -1;
	}

	strlist_push(&tags, cfg->tag);
	for (size_t i = 0; i < cfg->extra_tags.n; i++)
		if (!strlist_has(&tags, cfg->extra_tags.v[i]))
			strlist_push(&tags, cfg->extra_tags.v[i]);
	t0 = now_seconds();
	log_stage("tag", "%s", cfg->repository);
	if (stage_end(
		    rep, STAGE_TAG,
		    tag_image(eng, built.image_id, cfg->repository, &tags, err),
		    t0, err) < 0)
		goto out;
	hookstage_name_image(hs, NULL);

	if (cfg->save && save_stage(eng, cfg, &tags, rep, err) < 0)
		goto out;

	if (!cfg->push) {
		stage_skip(rep, STAGE_PUSH, "PUSH=false");
		ret = 0;
		goto out;
	}
	t0 = now_seconds();
	ret = hookstage_run(hs, HOOK_PRE_PUSH, err);
	if (ret == 0 && hookstage_has(hs, HOOK_PUSH)) {
		log_stage("push", "hooks/push");
		ret = hookstage_run(hs, HOOK_PUSH, err);
	} else if (ret == 0) {
		log_stage("push", "%s", cfg->repository);
		ret = push_image(eng, built.image_id, cfg->repository, &tags,
				 &cred, cfg->push_retries, &pushed, err);
		for (size_t i = 0; ret == 0 && i < pushed.pushed.n; i++)
			strlist_push(&rep->tags, pushed.pushed.v[i]);
		snprintf(rep->digest, sizeof(rep->digest), "%s", pushed.digest);
		if (ret == 0)
			ret = verify_pushed(cfg, &cred, &pushed, err);
	}
	if (ret == 0)
		ret = hookstage_run(hs, HOOK_POST_PUSH, err);
	if (stage_end(rep, STAGE_PUSH, ret, t0, err) < 0)
		goto out;
out:
	autotest_free(at);
	hookstage_free(hs);
	if (eng) {
		if (rep->image_id[0])
			image_size(eng, rep);
		cleanup_run(&run, eng);
	}
	if (ret == 0 && pushed.digest[0])
		printf("%s@%s\n", cfg->image_ref, pushed.digest);
	push_result_release(&pushed);
	strlist_clear(&tags);
	credential_release(&cred);
	run_release(&run);
	engine_close(eng);
	return ret;
}

int pipeline_check(const struct config *cfg, struct error *err)
{
	struct engine *eng = NULL;
	struct credential cred = CREDENTIAL_INIT;
	const char *domain = cfg->registry ? cfg->registry : REF_HUB_DOMAIN;
	char version[64] = "", platform[64] = "";
	int ret = -1;

	if (engine_open(&eng, &cfg->engine, err) < 0 ||
	    engine_ping(eng, err) < 0 ||
	    engine_version(eng, version, sizeof(version), platform,
			   sizeof(platform), err) < 0)
		goto out;
	printf("builder:      %s\n", builder_version);
	printf("engine:       %s\n", engine_host(eng));
	printf("version:      %s\n", version);
	printf("api version:  %s (negotiated; builder speaks %s to %s)\n",
	       engine_api_version(eng), ENGINE_API_MIN, ENGINE_API_MAX);
	printf("os:           %s\n", platform);
	printf("buildkit:     %s\n", !strcmp(engine_builder_version(eng), "2")
					     ? "advertised"
					     : "not advertised");
	if (auth_resolve(&cfg->auth, domain, &cred, err) < 0)
		goto out;
	printf("registry:     %s\n", domain);
	printf("credentials:  %s\n", cred.source);
	ret = 0;
out:
	credential_release(&cred);
	engine_close(eng);
	return ret;
}

int pipeline_cleanup(const struct config *cfg, struct error *err)
{
	struct engine *eng = NULL;
	int ret = -1;

	if (cfg->cleanup_all + cfg->cleanup_age_set + !!cfg->cleanup_run > 1)
		return err_set(err, EXIT_USAGE,
			       "builder cleanup takes one of --run, "
			       "--older-than and --all; see builder --help");
	if (engine_open(&eng, &cfg->engine, err) < 0 ||
	    engine_ping(eng, err) < 0)
		goto out;
	ret = leftovers_remove(eng, cfg->cleanup_run,
			       cfg->cleanup_all	      ? -1
			       : cfg->cleanup_age_set ? cfg->cleanup_age
						      : CLEANUP_DEFAULT_AGE,
			       err);
out:
	engine_close(eng);
	return ret;
}
