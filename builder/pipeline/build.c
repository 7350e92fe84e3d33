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
#include "session/session.h"
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
 * gets them all in X-Registry-Config; BuildKit with a session asks for
 * them itself (Auth.Credentials); BuildKit without a session cannot use
 * them, so the images that need them are pulled beforehand, and BuildKit
 * then finds them in the local store.
 */
static int base_image_auth(struct engine *eng, const struct config *cfg,
			   const struct context *ctx,
			   const struct credential *target, int buildkit,
			   int session, char **header, struct error *err)
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
		if (buildkit && session) {
			log_info("base image '%s' needs credentials (%s): "
				 "the session serves them to BuildKit",
				 bases.v[i], c->source);
		} else if (buildkit) {
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

/* BUILDER=auto: BuildKit with a session wherever the engine has one: a
 * Linux Docker engine at API 1.39 or later, where BuildKit is built in
 * whatever Builder-Version /_ping shows (Docker 18.09 to 29; /session is
 * deprecated, not removed, from API 1.53). Classic on Podman (Buildah),
 * non-Linux engines and older APIs. 1 BuildKit, 0 classic, -1 unknown (no
 * /version). Says which and why. */
static int auto_session(struct engine *eng)
{
	struct error ignored = ERROR_INIT;
	char version[64] = "", platform[64] = "";
	const char *api = engine_api_version(eng);
	long minor = strncmp(api, "1.", 2) ? 0 : strtol(api + 2, NULL, 10);

	if (engine_version(eng, version, sizeof(version), platform,
			   sizeof(platform), &ignored) < 0)
		return -1;
	if (strstr(version, "(Podman)")) {
		log_info("builder: classic (auto: Podman builds with Buildah, "
			 "it has no BuildKit session)");
		return 0;
	}
	if (strncmp(platform, "linux/", 6)) {
		log_info("builder: classic (auto: a %s engine has no BuildKit)",
			 platform);
		return 0;
	}
	if (minor < 39) {
		log_info("builder: classic (auto: API %s; BuildKit sessions "
			 "need 1.39 or later)",
			 api);
		return 0;
	}
	log_info("builder: BuildKit with a session (auto: a Linux Docker "
		 "engine at API %s, which has BuildKit built in)",
		 api);
	return 1;
}

/* Without a session, whether BuildKit takes a tar context here. */
static int buildkit_tar_ok(struct engine *eng)
{
	return !strcmp(engine_builder_version(eng), "2") &&
	       !containerd_store_without_tar_builds(eng);
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
	switch (auto_session(eng)) {
	case 1:
		return 1;
	case 0:
		return 0;
	default:
		break; /* no /version: decide on /_ping alone */
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

/* name: the run's name for the image (cleanup.h), or NULL. */
static void build_query(struct buf *q, const struct config *cfg,
			const char *dockerfile, const struct strlist *cache,
			const char *name, int buildkit)
{
	cJSON *args = cJSON_CreateObject();
	cJSON *labels = cJSON_CreateObject();

	buf_addstr(q, "/build?rm=1&forcerm=1&dockerfile=");
	buf_add_urlencoded(q, dockerfile);
	buf_addstr(q, buildkit ? "&version=2" : "&version=1");
	if (name) {
		buf_addstr(q, "&t=");
		buf_add_urlencoded(q, name);
	}
	/* BuildKit images carry their cache metadata, so that a later
	 * CACHE_FROM of the pushed image finds its layers (the user's own
	 * BUILD_ARGS below may turn it off). */
	if (buildkit)
		set_pair(args, "BUILDKIT_INLINE_CACHE=1");
	/* SOURCE_DATE_EPOCH (or the commit's time, config.c): BuildKit
	 * 0.11+ (Docker 23+) makes the image's created time of it; engine
	 * 20.10's ignores it, and the classic builder would only warn. */
	if (buildkit && cfg->facts.created.value) {
		struct buf sde = BUF_INIT(BUF_PATH_MAX);

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
	if (cfg->platform) {
		buf_addstr(q, "&platform=");
		buf_add_urlencoded(q, cfg->platform);
	}
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

/* The daemon keeps its copy of an earlier context under the session's
 * shared key: derive it from what stays the same between CI runs (the
 * repository and the context's absolute path), so that a fresh container
 * still sends only what changed. BUILDKIT_SHARED_KEY overrides it. */
static void shared_key(char out[17], const struct config *cfg,
		       const char *context_dir)
{
	const char *forced = cfg->buildkit_shared_key;
	unsigned long long h = 1469598103934665603ULL; /* FNV-1a */
	const char *parts[2] = { cfg->repository ? cfg->repository : "",
				 context_dir };

	if (forced) {
		snprintf(out, 17, "%.16s", forced);
		return;
	}
	for (int i = 0; i < 2; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		h = (h ^ '\n') * 1099511628211ULL;
	}
	snprintf(out, 17, "%016llx", h);
}

/* The BuildKit build with a session: the context and the Dockerfile go
 * through the session's FileSync, secrets through Secrets; the request
 * has no body. Fills *sess (the caller finishes and frees it). */
static int start_session(struct engine *eng, const struct config *cfg,
			 struct context *ctx, struct session_config *scfg,
			 char **dirs, char key[17], struct session **sess,
			 char buildid[26], struct buf *query, struct error *err)
{
	const char *df = context_dockerfile_path(ctx);
	const char *slash = strrchr(df, '/');

	dirs[0] = realpath(cfg->context ? cfg->context : ".", NULL);
	if (!dirs[0])
		return err_set(err, EXIT_USAGE,
			       "cannot resolve the context directory '%s'",
			       cfg->context ? cfg->context : ".");
	dirs[1] = slash ? xstrndup(df, (size_t)(slash - df)) : xstrdup(".");
	shared_key(key, cfg, dirs[0]);
	scfg->context_dir = dirs[0];
	scfg->dockerfile_dir = dirs[1];
	scfg->secrets = cfg->secret_values;
	scfg->shared_key = key;
	scfg->name = cfg->image;
	scfg->ssh = &cfg->ssh_sockets;
	scfg->auth = &cfg->auth;
	scfg->output_dest = cfg->output_dest;
	scfg->output_tar = cfg->output_tar;
	if (session_start(eng, scfg, sess, err) < 0) {
		if (cfg->secrets.n || cfg->ssh_sockets.n || cfg->output_dest)
			return err_wrap(err, "cannot open a BuildKit session, "
					     "which build secrets, --ssh and "
					     "--output need");
		/* Without secrets the tar context still works. */
		log_warn("no BuildKit session (%s); sending the context as a "
			 "tar instead",
			 err->msg);
		err_clear(err);
		return 0;
	}
	session_random_id(buildid);
	/* The Dockerfile is named inside the "dockerfile" directory. */
	{
		const char *p = strstr(query->data, "&dockerfile=");
		struct buf q = BUF_INIT(BUF_TEXT_MAX);

		buf_add(&q, query->data, (size_t)(p - query->data));
		buf_addstr(&q, "&dockerfile=");
		buf_add_urlencoded(&q, slash ? slash + 1 : df);
		p = strchr(p + 1, '&');
		if (p)
			buf_addstr(&q, p);
		buf_reset(query);
		buf_add(query, q.data, q.len);
		buf_release(&q);
	}
	buf_addf(query, "&session=%s&remote=client-session&buildid=%s",
		 session_id(*sess), buildid);
	/* The files go to the session's FileSend; DEST stays ours. */
	if (cfg->output_dest) {
		char json[48];

		snprintf(json, sizeof(json), "[{\"Type\":\"%s\",\"Attrs\":{}}]",
			 cfg->output_tar ? "tar" : "local");
		buf_addstr(query, "&outputs=");
		buf_add_urlencoded(query, json);
	}
	return 0;
}

/* BuildKit's "secret ID not found": say how to give it. */
static void secret_hint(struct error *err)
{
	const char *p = strstr(err->msg, "secret "), *q;

	if (!p)
		return;
	p += 7;
	q = strstr(p, " not found");
	if (!q || q == p || q - p > 128 || memchr(p, ' ', (size_t)(q - p)))
		return;
	err_hint(err,
		 "give the secret with --secret id=%.*s,src=PATH (or "
		 "env=VAR), or a line of SECRETS",
		 (int)(q - p), p);
}

int build_image(struct engine *eng, struct run *run, enum build_naming naming,
		const struct config *cfg, const struct credential *cred,
		struct build_result *res, struct error *err)
{
	struct context *ctx = NULL;
	struct strlist cache = STRLIST_INIT;
	struct buf query = BUF_INIT(BUF_TEXT_MAX);
	struct build_state st;
	struct jstream js;
	struct engine_request req = ENGINE_REQUEST_INIT;
	const char *headers[2] = { NULL, NULL };
	char *registry_config = NULL;
	struct session *sess = NULL;
	struct session_config scfg = { 0 };
	char *dirs[2] = { NULL, NULL };
	char key[17], buildid[26] = "";
	/* OUTPUT: the files are the result, and no image is made. */
	const char *name = naming == BUILD_NAMED && !cfg->output_dest
				   ? run->image_ref
				   : NULL;
	int buildkit, ret = -1;

	memset(&st, 0, sizeof(st));
	buf_init(&st.step, BUF_TEXT_MAX);
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
	if (cfg->output_dest && !buildkit) {
		err_set(err, EXIT_USAGE,
			"OUTPUT/--output needs BuildKit, which this engine "
			"does not offer");
		goto out;
	}
	pull_cache_images(eng, cfg, &cache);
	build_query(&query, cfg, context_dockerfile(ctx), &cache, name,
		    buildkit);

	if (buildkit && start_session(eng, cfg, ctx, &scfg, dirs, key, &sess,
				      buildid, &query, err) < 0)
		goto out;
	if (buildkit && !sess && cfg->builder == BUILDER_AUTO &&
	    !buildkit_tar_ok(eng)) {
		/* auto, and the engine refused the session: classic. */
		log_info(
			"builder: classic (no session, and the engine does not "
			"build a tar context with BuildKit%s)",
			strcmp(engine_builder_version(eng), "2")
				? ""
				: ": on the containerd image store that "
				  "needs Docker 27.5 or newer");
		buildkit = res->buildkit = 0;
		buf_reset(&query);
		build_query(&query, cfg, context_dockerfile(ctx), &cache, name,
			    0);
	}
	if (base_image_auth(eng, cfg, ctx, cred, buildkit, sess != NULL,
			    &registry_config, err) < 0)
		goto out;
	headers[0] = registry_config;

	if (name)
		cleanup_add_image(run);
	req.method = "POST";
	req.path = query.data;
	if (!sess) {
		req.content_type = "application/x-tar";
		req.read_body = context_read;
		req.read_ctx = ctx;
	}
	req.secret_headers = headers;
	ret = jstream_request(eng, &req, &js, err);
	bktrace_flush(&st.trace);
	if (sess && ret < 0 &&
	    (err->code == EXIT_SIGINT || err->code == EXIT_SIGTERM)) {
		struct buf path = BUF_INIT(BUF_PATH_MAX);
		struct error ignored = ERROR_INIT;

		/* Closing /build cancels it on Engine 20.10; say so
		 * explicitly all the same, as the CLI does. */
		buf_addf(&path, "/build/cancel?id=%s", buildid);
		engine_json_cleanup(eng, "POST", path.data, NULL, &ignored);
		buf_release(&path);
	}
	if (sess) {
		struct error serr = ERROR_INIT;

		/* The session's own failure (a file that vanished, a bad
		 * message) explains a failed build better than the engine's
		 * echo of it. */
		if (session_finish(sess, &serr) < 0 && ret < 0)
			*err = serr;
		else if (serr.code)
			log_warn("session: %s", serr.msg);
	}
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
			if (sess)
				secret_hint(err);
		} else if (err->code == EXIT_ENGINE) {
			err_wrap(err, "build failed");
		}
		if (st.running[0] && !js.engine_error)
			cleanup_add_step_container(run, st.running);
		goto out;
	}
	ret = -1;
	res->context_files =
		sess ? session_files_sent(sess) : context_files(ctx);
	res->context_bytes =
		sess ? session_bytes_sent(sess) : context_bytes(ctx);
	if (cfg->output_dest) {
		log_info("wrote the build's output to '%s' (%zu %s, %.1f MB)",
			 cfg->output_dest, session_output_files(sess),
			 cfg->output_tar ? "tar" : "files",
			 (double)session_output_bytes(sess) / 1e6);
		ret = 0;
		goto out;
	}
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
	session_free(sess);
	free(dirs[0]);
	free(dirs[1]);
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
