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
#include "pipeline/build.h"
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
#include "registry/verify.h"
#include "pipeline/test.h"
#include "pipeline/tag.h"
#include "util/xmalloc.h"
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
	struct buf path = BUF_INIT;
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
			 const struct push_result *pushed, struct error *err)
{
	const struct registry_settings rs = { &cfg->auth,
					      &cfg->insecure_registries,
					      cfg->push_retries };

	for (size_t i = 0; i < pushed->pushed.n; i++)
		if (registry_verify_tag(&rs, pushed->pushed.v[i],
					pushed->digest, err) < 0)
			return -1;
	log_info("    verified on the registry: %zu tag%s at %.19s",
		 pushed->pushed.n, pushed->pushed.n == 1 ? "" : "s",
		 pushed->digest);
	return 0;
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
	double t0;
	int ret = -1;

	memset(&tested, 0, sizeof(tested));
	rep->image = xstrdup(cfg->image_ref);
	log_info("builder %s: %s (tag from %s)", BUILDER_VERSION,
		 cfg->image_ref, cfg->tag_source);
	/* Names the run before anything can be left on the engine. */
	log_info("run %s: what it creates on the engine is labelled %s=%s",
		 cleanup_run_id(), CLEANUP_LABEL, cleanup_run_id());
	if (connect_engine(&eng, cfg, rep, err) < 0 ||
	    resolve_credentials(cfg, &cred, err) < 0)
		goto out;
	snprintf(rep->credential_source, sizeof(rep->credential_source), "%s",
		 cred.source);

	t0 = now_seconds();
	log_stage("build", "%s from '%s'", cfg->image_ref, cfg->context);
	if (stage_end(rep, STAGE_BUILD,
		      build_image(eng, cfg, &cred, &built, err), t0, err) < 0)
		goto out;
	snprintf(rep->image_id, sizeof(rep->image_id), "%s", built.image_id);
	if (cfg->output_dest) {
		/* --output: the build's files, no image to test or push. */
		stage_skip(rep, STAGE_TEST, "OUTPUT is set");
		stage_skip(rep, STAGE_TAG, "OUTPUT is set");
		stage_skip(rep, STAGE_PUSH, "OUTPUT is set");
		ret = 0;
		goto out;
	}

	if (!cfg->test_cmd) {
		stage_skip(rep, STAGE_TEST, "TEST_CMD is not set");
	} else {
		t0 = now_seconds();
		log_stage("test", "TEST_CMD in a container of %.19s",
			  built.image_id);
		ret = test_stage_run(eng, cfg, built.image_id, &tested, err);
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

	if (!cfg->push) {
		stage_skip(rep, STAGE_PUSH, "PUSH=false");
		ret = 0;
		goto out;
	}
	t0 = now_seconds();
	log_stage("push", "%s", cfg->repository);
	if (stage_end(rep, STAGE_PUSH,
		      push_image(eng, built.image_id, cfg->repository, &tags,
				 &cred, cfg->push_retries, &pushed, err),
		      t0, err) < 0)
		goto out;
	for (size_t i = 0; i < pushed.pushed.n; i++)
		strlist_push(&rep->tags, pushed.pushed.v[i]);
	snprintf(rep->digest, sizeof(rep->digest), "%s", pushed.digest);
	if (verify_pushed(cfg, &pushed, err) < 0)
		goto out;
	ret = 0;
out:
	if (eng) {
		if (rep->image_id[0])
			image_size(eng, rep);
		cleanup_run(eng);
	}
	if (ret == 0 && pushed.digest[0])
		printf("%s@%s\n", cfg->image_ref, pushed.digest);
	push_result_release(&pushed);
	strlist_clear(&tags);
	credential_release(&cred);
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
	printf("builder:      %s\n", BUILDER_VERSION);
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
