/*
 * Docker Hub hooks around the stages; see hookstage.h. Which hooks exist
 * and how one runs is compose/hooks.c and hookrun.c; this file gives them
 * the Dockerfile's directory and the environment.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "compose/hooks.h"
#include "context/context.h"
#include "engine/engine.h"
#include "pipeline/hookstage.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"
#include "util/banned.h"

struct hookstage {
	char *dir; /* the Dockerfile's directory */
	struct strlist found; /* hook names, in the autobuild order */
	struct strlist env; /* "NAME=value" */
	char **envp; /* env.v, NULL-terminated */
	size_t image_at; /* env's IMAGE_NAME entry, when builder set it */
	char *image_name; /* its value, DOCKER_REPO:DOCKER_TAG */
};

#define IMAGE_NAME_EQ "IMAGE_NAME="

/* Where builder's own IMAGE_NAME is in hs->env: not where the environment
 * gave one (hooks.c keeps a non-empty value), nor where there is none. */
static void find_image_name(struct hookstage *hs, const struct config *cfg)
{
	size_t n = strlen(IMAGE_NAME_EQ);

	hs->image_at = hs->env.n;
	for (size_t i = 0; i < cfg->hook_env.n; i++)
		if (!strncmp(cfg->hook_env.v[i], IMAGE_NAME_EQ, n) &&
		    cfg->hook_env.v[i][n])
			return;
	for (size_t i = 0; i < hs->env.n; i++) {
		if (!strncmp(hs->env.v[i], IMAGE_NAME_EQ, n)) {
			hs->image_at = i;
			hs->image_name = xstrdup(hs->env.v[i] + n);
			return;
		}
	}
}

static int dockerfile_dir(const struct config *cfg, char **dir,
			  struct error *err)
{
	struct context *ctx = NULL;
	char *copy;

	if (context_open(&ctx, cfg->context ? cfg->context : ".",
			 cfg->dockerfile, err) < 0)
		return -1;
	copy = xstrdup(context_dockerfile_path(ctx));
	*dir = xstrdup(dirname(copy));
	free(copy);
	context_close(ctx);
	return 0;
}

/* The autobuild variables, then where the engine is: a docker CLI in a
 * hook must talk to the engine builder uses, also when builder found it
 * through DOCKER_TLS_CERTDIR (GitLab's dind) rather than DOCKER_HOST. */
static void hook_vars(const struct config *cfg, struct engine *eng,
		      struct strlist *vars)
{
	const struct engine_settings *e = &cfg->engine;
	struct buf b = BUF_INIT(BUF_PATH_MAX);

	for (size_t i = 0; i < cfg->autobuild.n; i++)
		strlist_push(vars, cfg->autobuild.v[i]);
	buf_addf(&b, "DOCKER_HOST=%s", engine_host(eng));
	strlist_push(vars, b.data);
	if (!e->cert_path && e->tls_certdir &&
	    !strncmp(engine_host(eng), "tcp://", 6)) {
		buf_reset(&b);
		buf_addf(&b, "DOCKER_CERT_PATH=%s/client", e->tls_certdir);
		strlist_push(vars, b.data);
		strlist_push(vars, "DOCKER_TLS_VERIFY=1");
	}
	buf_release(&b);
}

int hookstage_open(struct hookstage **out, const struct config *cfg,
		   struct engine *eng, struct error *err)
{
	struct hookstage *hs = xcalloc(1, sizeof(*hs));
	struct strlist vars = STRLIST_INIT;
	struct buf names = BUF_INIT(BUF_PATH_MAX);
	char **base = NULL;
	int ret = -1;

	*out = NULL;
	if (cfg->no_hooks) {
		ret = 0;
		goto out;
	}
	if (dockerfile_dir(cfg, &hs->dir, err) < 0 ||
	    hooks_find(hs->dir, &hs->found, err) < 0)
		goto out;
	if (!hs->found.n) {
		ret = 0;
		goto out;
	}
	hook_vars(cfg, eng, &vars);
	/* hooks_env() takes a NULL-terminated base. */
	base = xcalloc(cfg->hook_env.n + 1, sizeof(*base));
	for (size_t i = 0; i < cfg->hook_env.n; i++)
		base[i] = cfg->hook_env.v[i];
	hooks_env(base, &vars, &hs->env);
	hs->envp = xcalloc(hs->env.n + 1, sizeof(*hs->envp));
	for (size_t i = 0; i < hs->env.n; i++)
		hs->envp[i] = hs->env.v[i];
	find_image_name(hs, cfg);
	if (hooks_check(hs->dir, &hs->found, hs->envp, err) < 0)
		goto out;
	for (size_t i = 0; i < hs->found.n; i++)
		buf_addf(&names, "%s%s", i ? ", " : "", hs->found.v[i]);
	log_info("hooks in '%s/hooks': %s (HOOKS=false skips them)", hs->dir,
		 names.data);
	*out = hs;
	hs = NULL;
	ret = 0;
out:
	hookstage_free(hs);
	free(base);
	strlist_clear(&vars);
	buf_release(&names);
	return ret;
}

int hookstage_has(const struct hookstage *hs, enum hook h)
{
	return hs && strlist_has(&hs->found, hook_names[h]);
}

int hookstage_run(struct hookstage *hs, enum hook h, struct error *err)
{
	if (!hookstage_has(hs, h))
		return 0;
	return hooks_run(hs->dir, h, hs->envp, err);
}

void hookstage_name_image(struct hookstage *hs, const char *name)
{
	struct buf b = BUF_INIT(BUF_PATH_MAX);

	if (!hs || hs->image_at >= hs->env.n)
		return;
	buf_addf(&b, "%s%s", IMAGE_NAME_EQ, name ? name : hs->image_name);
	free(hs->env.v[hs->image_at]);
	hs->env.v[hs->image_at] = buf_detach(&b);
	hs->envp[hs->image_at] = hs->env.v[hs->image_at];
}

void hookstage_free(struct hookstage *hs)
{
	if (!hs)
		return;
	free(hs->image_name);
	free(hs->dir);
	strlist_clear(&hs->found);
	strlist_clear(&hs->env);
	free(hs->envp);
	free(hs);
}
