/*
 * The build stage; see build.h. Endpoints: POST /build (classic builder,
 * version=1, or BuildKit, version=2, both with a plain tar body and no
 * session), and through pull.c POST /images/create for CACHE_FROM.
 *
 * The engine reports a failing step inside a 200 response, as a final
 * errorDetail message; jstream turns that into an error, and we add the
 * step that was running.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "registry/auth.h"
#include "engine/bktrace.h"
#include "util/buf.h"
#include "pipeline/build.h"
#include "pipeline/cleanup.h"
#include "cli/config.h"
#include "context/context.h"
#include "context/dockerfile.h"
#include "engine/engine.h"
#include "engine/jstream.h"
#include "util/log.h"
#include "pipeline/progress.h"
#include "pipeline/pull.h"
#include "registry/ref.h"
#include "util/strlist.h"
#include "util/xmalloc.h"
#include "util/banned.h"

struct build_state {
	struct build_result *res;
	struct buf step; /* the step running, for failure messages */
	char running[80]; /* the classic builder's RUN container */
	struct bktrace trace; /* BuildKit progress decoder */
	struct progress progress; /* pulls of base images */
};

/* "K=V" sets K; a bare "K" (a build arg config.c found unset in the
 * environment) is sent as null, "mentioned but unset", as the CLI does. */
static void set_pair(cJSON *obj, const char *pair)
{
	const char *eq = strchr(pair, '=');
	char *key = eq ? xstrndup(pair, (size_t)(eq - pair)) : xstrdup(pair);

	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	if (eq)
		cJSON_AddStringToObject(obj, key, eq + 1);
	else
		cJSON_AddNullToObject(obj, key);
	free(key);
}

static void add_json_param(struct buf *q, const char *name, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);

	buf_addf(q, "&%s=", name);
	buf_add_urlencoded(q, text);
	cJSON_free(text);
}

/* Pulls each CACHE_FROM image so that the classic builder, which only
 * looks in the local store, can use it; a missing one is skipped. */
static void pull_cache_images(struct engine *eng, const struct config *cfg,
			      struct strlist *usable)
{
	for (size_t i = 0; i < cfg->cache_from.n; i++) {
		const char *ref = cfg->cache_from.v[i];
		struct error err = ERROR_INIT;
		int missing = 0;

		log_info("cache: pulling '%s'", ref);
		if (image_pull(eng, &cfg->auth, ref, &missing, &err) == 0) {
			strlist_push(usable, ref);
			continue;
		}
		if (err.code >= 128)
			return; /* interrupted: the build will say so */
		if (missing)
			log_info("cache: '%s' does not exist yet; building "
				 "without it",
				 ref);
		else
			log_warn("cache: cannot pull '%s', building without "
				 "it: %s",
				 ref, err.msg);
	}
}

/*
 * Credentials for the registries of the base images. The classic builder
 * gets them all in X-Registry-Config; BuildKit without a session cannot use
 * them, so the images that need them are pulled beforehand, and BuildKit
 * then finds them in the local store.
 */
static int base_image_auth(struct engine *eng, const struct config *cfg,
			   const struct context *ctx,
			   const struct credential *target, int buildkit,
			   char **header, struct error *err)
{
	struct strlist bases = STRLIST_INIT, domains = STRLIST_INIT;
	struct credential *creds = NULL;
	const struct credential **list = NULL;
	size_t n = 0;
	int ret = -1;

	*header = NULL;
	if (dockerfile_base_images_of(context_dockerfile_path(ctx),
				      &cfg->build_args, &bases, err) < 0)
		goto out;
	creds = xcalloc(bases.n + 1, sizeof(*creds));
	list = xcalloc(bases.n + 1, sizeof(*list));
	if (target && !auth_is_anonymous(target)) {
		list[n++] = target;
		strlist_push(&domains, target->serveraddress);
	}
	for (size_t i = 0; i < bases.n; i++) {
		struct ref r = REF_INIT;
		struct error ignored = ERROR_INIT;
		struct credential *c = &creds[i];

		if (ref_parse(&r, bases.v[i], "FROM", &ignored) < 0)
			continue; /* the engine will say what is wrong */
		if (auth_resolve(&cfg->auth, r.domain, c, err) < 0) {
			ref_release(&r);
			goto out;
		}
		ref_release(&r);
		if (auth_is_anonymous(c))
			continue;
		if (buildkit) {
			int missing = 0;

			log_info("base image '%s' needs credentials (%s): "
				 "pulling it before the BuildKit build",
				 bases.v[i], c->source);
			if (image_pull(eng, &cfg->auth, bases.v[i], &missing,
				       err) < 0) {
				err_recode(err, EXIT_BUILD);
				err_wrap(err, "cannot pull the base image '%s'",
					 bases.v[i]);
				goto out;
			}
		}
		if (!strlist_has(&domains, c->serveraddress)) {
			strlist_push(&domains, c->serveraddress);
			list[n++] = c;
		}
	}
	if (n && !buildkit)
		*header = auth_registry_config_line(list, n);
	ret = 0;
out:
	for (size_t i = 0; creds && i < bases.n; i++)
		credential_release(&creds[i]);
	free(creds);
	free(list);
	strlist_clear(&bases);
	strlist_clear(&domains);
	return ret;
}

/* moby#47717: before Docker 27.5 the containerd image store could not
 * read a sessionless tar context ("invalid response status 403"). */
static int containerd_store_without_tar_builds(struct engine *eng)
{
	struct error ignored = ERROR_INIT;
	char version[64] = "", platform[64];
	cJSON *info = NULL;
	const cJSON *status, *pair;
	int containerd = 0;
	long major = 0, minor = 0;
	char *end;

	if (engine_json(eng, "GET", "/info", NULL, &info, NULL, &ignored) < 0)
		return 0;
	status = cJSON_GetObjectItemCaseSensitive(info, "DriverStatus");
	cJSON_ArrayForEach(pair, status)
	{
		const cJSON *v = cJSON_GetArrayItem(pair, 1);

		if (cJSON_IsString(v) && strstr(v->valuestring, "containerd"))
			containerd = 1;
	}
	cJSON_Delete(info);
	if (!containerd ||
	    engine_version(eng, version, sizeof(version), platform,
			   sizeof(platform), &ignored) < 0)
		return 0;
	major = strtol(version, &end, 10);
	if (*end == '.')
		minor = strtol(end + 1, NULL, 10);
	return major < 27 || (major == 27 && minor < 5);
}

static int use_buildkit(struct engine *eng, const struct config *cfg)
{
	switch (cfg->builder) {
	case BUILDER_BUILDKIT:
		log_info("builder: BuildKit (BUILDER=buildkit)");
		return 1;
	case BUILDER_CLASSIC:
		log_info("builder: classic (BUILDER=classic)");
		return 0;
	case BUILDER_AUTO:
		break;
	}
	if (strcmp(engine_builder_version(eng), "2")) {
		log_info("builder: classic (the engine does not advertise "
			 "BuildKit)");
		return 0;
	}
	if (containerd_store_without_tar_builds(eng)) {
		log_info(
			"builder: classic (the engine uses the containerd "
			"image store, where BuildKit builds from a tar context "
			"need Docker 27.5 or newer)");
		return 0;
	}
	log_info("builder: BuildKit (the engine advertises it)");
	return 1;
}

static void build_query(struct buf *q, const struct config *cfg,
			const char *dockerfile, const struct strlist *cache,
			int buildkit)
{
	cJSON *args = cJSON_CreateObject();
	cJSON *labels = cJSON_CreateObject();

	buf_addstr(q, "/build?rm=1&forcerm=1&dockerfile=");
	buf_add_urlencoded(q, dockerfile);
	buf_addstr(q, buildkit ? "&version=2" : "&version=1");
	/* BuildKit images carry their cache metadata, so that a later
	 * CACHE_FROM of the pushed image finds its layers (the user's own
	 * BUILD_ARGS below may turn it off). */
	if (buildkit)
		set_pair(args, "BUILDKIT_INLINE_CACHE=1");
	/* SOURCE_DATE_EPOCH (or the commit's time, config.c): BuildKit
	 * 0.11+ (Docker 23+) makes the image's created time of it; engine
	 * 20.10's ignores it, and the classic builder would only warn. */
	if (buildkit && cfg->facts.created.value) {
		struct buf sde = BUF_INIT;

		buf_addf(&sde, "SOURCE_DATE_EPOCH=%s",
			 cfg->facts.created.value);
		set_pair(args, buf_str(&sde));
		buf_release(&sde);
	}
	for (size_t i = 0; i < cfg->build_args.n; i++)
		set_pair(args, cfg->build_args.v[i]);
	if (cJSON_GetArraySize(args))
		add_json_param(q, "buildargs", args);
	/* The user's LABELS, then the OCI labels config.c made from the
	 * CI's facts (meta/labels.h): no clock, so unchanged sources keep
	 * their image ID. */
	for (size_t i = 0; i < cfg->labels.n; i++)
		set_pair(labels, cfg->labels.v[i]);
	add_json_param(q, "labels", labels);
	if (cfg->target) {
		buf_addstr(q, "&target=");
		buf_add_urlencoded(q, cfg->target);
	}
	if (cfg->pull)
		buf_addstr(q, "&pull=1");
	if (cfg->no_cache)
		buf_addstr(q, "&nocache=1");
	if (cache->n) {
		cJSON *list = cJSON_CreateArray();

		for (size_t i = 0; i < cache->n; i++)
			cJSON_AddItemToArray(list,
					     cJSON_CreateString(cache->v[i]));
		add_json_param(q, "cachefrom", list);
		cJSON_Delete(list);
	}
	cJSON_Delete(args);
	cJSON_Delete(labels);
}

static void remember_step(struct build_state *st, const char *text)
{
	size_t len = strcspn(text, "\r\n");

	buf_reset(&st->step);
	buf_add(&st->step, text, len);
}

/* The classic builder runs each RUN in a container it removes itself
 * (rm=1, forcerm=1); if the connection is lost mid-step it cannot, so we
 * remember the container to remove it then. */
static void track_step_container(struct build_state *st, const char *s)
{
	static const char running[] = " ---> Running in ";

	if (!strncmp(s, running, sizeof(running) - 1))
		snprintf(st->running, sizeof(st->running), "%.*s",
			 (int)strcspn(s + sizeof(running) - 1, "\r\n "),
			 s + sizeof(running) - 1);
	else if (!strncmp(s, "Removing intermediate container", 31))
		st->running[0] = '\0';
}

static int on_build_message(const cJSON *msg, void *ctx, struct error *err)
{
	struct build_state *st = ctx;
	const cJSON *stream = cJSON_GetObjectItemCaseSensitive(msg, "stream");
	const cJSON *aux = cJSON_GetObjectItemCaseSensitive(msg, "aux");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(msg, "id");

	if (cJSON_IsString(stream)) {
		const char *s = stream->valuestring;

		/* "Step 2/3 : RUN x" from Docker, "STEP 2/3: RUN x" from
		 * Podman's Buildah. */
		if (!strncmp(s, "Step ", 5) || !strncmp(s, "STEP ", 5))
			remember_step(st, s);
		track_step_container(st, s);
		progress_end(&st->progress);
		fputs(s, stdout);
		if (!strncmp(s, "Successfully built ", 19) &&
		    !st->res->image_id[0])
			snprintf(st->res->image_id, sizeof(st->res->image_id),
				 "%.*s", (int)strcspn(s + 19, "\r\n"), s + 19);
	}
	if (cJSON_IsString(id) &&
	    !strcmp(id->valuestring, "moby.buildkit.trace")) {
		if (cJSON_IsString(aux) &&
		    bktrace_feed(&st->trace, aux->valuestring, err) < 0)
			return -1;
		return 0;
	}
	if (cJSON_IsObject(aux)) {
		const cJSON *image =
			cJSON_GetObjectItemCaseSensitive(aux, "ID");

		if (cJSON_IsString(image))
			snprintf(st->res->image_id, sizeof(st->res->image_id),
				 "%s", image->valuestring);
	}
	return 0;
}

int build_image(struct engine *eng, const struct config *cfg,
		const struct credential *cred, struct build_result *res,
		struct error *err)
{
	struct context *ctx = NULL;
	struct strlist cache = STRLIST_INIT;
	struct buf query = BUF_INIT;
	struct build_state st;
	struct jstream js;
	struct engine_request req = ENGINE_REQUEST_INIT;
	const char *headers[2] = { NULL, NULL };
	char *registry_config = NULL;
	int buildkit, ret = -1;

	memset(&st, 0, sizeof(st));
	memset(res, 0, sizeof(*res));
	st.res = res;
	bktrace_init(&st.trace);
	progress_init(&st.progress);
	jstream_init(&js, on_build_message, &st);
	jstream_on_event(&js, progress_event, &st.progress);

	if (context_open(&ctx, cfg->context, cfg->dockerfile, err) < 0)
		goto out;
	buildkit = use_buildkit(eng, cfg);
	res->buildkit = buildkit;
	pull_cache_images(eng, cfg, &cache);
	build_query(&query, cfg, context_dockerfile(ctx), &cache, buildkit);

	if (base_image_auth(eng, cfg, ctx, cred, buildkit, &registry_config,
			    err) < 0)
		goto out;
	headers[0] = registry_config;

	req.method = "POST";
	req.path = query.data;
	req.content_type = "application/x-tar";
	req.read_body = context_read;
	req.read_ctx = ctx;
	req.secret_headers = headers;
	ret = jstream_request(eng, &req, &js, err);
	bktrace_flush(&st.trace);
	if (ret < 0) {
		const char *step = buildkit ? bktrace_failed_step(&st.trace)
					    : buf_str(&st.step);

		ret = -1;
		if (err->code == EXIT_ENGINE &&
		    (req.status >= 400 || js.engine_error)) {
			/* The engine refused or failed the build itself. A
			 * 5xx too: Docker 20.10 answers 500 for "Cannot
			 * locate specified Dockerfile". */
			err_recode(err, EXIT_BUILD);
			if (*step)
				err_wrap(err, "build failed at '%s'", step);
			else
				err_wrap(err, "build failed");
		} else if (err->code == EXIT_ENGINE) {
			err_wrap(err, "build failed");
		}
		if (st.running[0] && !js.engine_error)
			cleanup_add_container(st.running);
		goto out;
	}
	ret = -1;
	res->context_files = context_files(ctx);
	res->context_bytes = context_bytes(ctx);
	if (!res->image_id[0]) {
		err_set(err, EXIT_BUILD,
			"the build finished but the engine sent no image ID; "
			"check the build output above");
		goto out;
	}
	log_info("built %s (context: %zu files, %.1f MB)", res->image_id,
		 res->context_files, (double)res->context_bytes / 1e6);
	ret = 0;
out:
	if (ret < 0 && ctx) {
		res->context_files = context_files(ctx);
		res->context_bytes = context_bytes(ctx);
	}
	auth_free_secret(registry_config);
	buf_release(&query);
	buf_release(&st.step);
	bktrace_release(&st.trace);
	progress_release(&st.progress);
	jstream_release(&js);
	strlist_clear(&cache);
	context_close(ctx);
	return ret;
}
