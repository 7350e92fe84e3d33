#ifndef BUILDER_HOOKSTAGE_H
#define BUILDER_HOOKSTAGE_H

/*
 * Docker Hub's build hooks around the pipeline's stages: the files in
 * hooks/ next to the Dockerfile (compose/hooks.h), run in the autobuild
 * order with builder's environment plus the autobuild variables
 * (SOURCE_BRANCH, ..., IMAGE_NAME) and the engine builder uses
 * (DOCKER_HOST and the TLS variables), so that a docker CLI in a hook
 * talks to it.
 *
 *	struct hookstage *hs = NULL;
 *	if (hookstage_open(&hs, cfg, eng, err) < 0)  // before the build
 *		goto out;
 *	if (hookstage_run(hs, HOOK_PRE_BUILD, err) < 0) goto out;
 *	if (hookstage_has(hs, HOOK_BUILD)) run the hook instead of the build
 *	...
 *	out: hookstage_free(hs);
 */

#include "compose/hooks.h"
#include "util/error.h"

struct config;
struct engine;
struct hookstage;

/* Finds the hooks (none with cfg->no_hooks) and checks that each one's
 * interpreter is on the PATH (EXIT_USAGE naming builder-shell when not:
 * the FROM scratch image has no shell). The log lists the hooks found. */
int hookstage_open(struct hookstage **out, const struct config *cfg,
		   struct engine *eng, struct error *err);

/* 1 when the repository has hook h. hs may be NULL. */
int hookstage_has(const struct hookstage *hs, enum hook h);

/* Runs hook h when the repository has it; 0 when it has not. A failing
 * hook fails with its stage's code (build 1, test 4, push 5), naming it. */
int hookstage_run(struct hookstage *hs, enum hook h, struct error *err);

/* Between builder's own build and the tag stage the image has only the
 * run's name (cleanup.h). IMAGE_NAME gives that name to the hooks in
 * between (post_build, pre_test, test, post_test), so that `docker run
 * "$IMAGE_NAME"` runs the image just built, not an older one that still
 * holds DOCKER_REPO:DOCKER_TAG; NULL gives DOCKER_REPO:DOCKER_TAG back (the
 * tag stage has moved it). An IMAGE_NAME set in the environment stays. */
void hookstage_name_image(struct hookstage *hs, const char *name);

void hookstage_free(struct hookstage *hs);

#endif
