#ifndef BUILDER_HOOKS_H
#define BUILDER_HOOKS_H

/*
 * Docker Hub build hooks: the pure parts. Which hooks a repository has,
 * in what order they run, which interpreter runs each, and the autobuild
 * variables they (and compose interpolation) see. Running them is the
 * pipeline's job.
 *
 *	struct strlist found = STRLIST_INIT;
 *	if (hooks_find(dockerfile_dir, &found, err) < 0) ...
 *	for (h = HOOK_POST_CHECKOUT; h < HOOK_COUNT; h++)
 *		if (strlist_has(&found, hook_names[h])) run it
 */

#include "compose/interp.h"
#include "util/error.h"
#include "util/strlist.h"

/* The autobuild order. build, test and push replace builder's own stage. */
enum hook {
	HOOK_POST_CHECKOUT,
	HOOK_PRE_BUILD,
	HOOK_BUILD,
	HOOK_POST_BUILD,
	HOOK_PRE_TEST,
	HOOK_TEST,
	HOOK_POST_TEST,
	HOOK_PRE_PUSH,
	HOOK_PUSH,
	HOOK_POST_PUSH,
	HOOK_COUNT
};

/* "post_checkout", ..., indexed by enum hook. */
extern const char *const hook_names[HOOK_COUNT];

/* The exit code a failing hook gives: build 1 (post_checkout to
 * post_build), test 4, push 5. */
int hook_exit_code(enum hook h);

/*
 * The hooks present in dir/hooks (regular files, executable or not, named
 * exactly as in hook_names), appended to out in the autobuild order. No
 * hooks directory is not an error.
 */
int hooks_find(const char *dir, struct strlist *out, struct error *err);

/*
 * The command that runs the script text (its first bytes; need not be
 * NUL-terminated): from its "#!" line the program's base name and its one
 * optional argument, as the kernel passes them ("#!/bin/bash -e" gives
 * "bash", "-e"); "#!/usr/bin/env prog [args]" gives prog and args (with
 * env's -S splitting); no "#!" line gives "sh". The caller appends the
 * script's path and runs argv[0] found on PATH.
 */
int hooks_interpreter(const char *text, size_t len, struct strlist *argv,
		      struct error *err);

/* What builder knows about the job, for the autobuild variables. */
struct autobuild_facts {
	const char *repo; /* the image repository pushed ("reg/ns/app") */
	const char *tag; /* the first tag ("latest") */
	const char *dockerfile; /* relative to build_path ("Dockerfile") */
	const char *build_path; /* the context, relative to the checkout */
};

/*
 * Appends "NAME=value" for SOURCE_BRANCH, SOURCE_COMMIT, COMMIT_MSG,
 * DOCKER_REPO, DOCKERFILE_PATH, DOCKER_TAG, IMAGE_NAME and BUILD_PATH.
 * A variable already set (lookup) keeps its value. Else:
 *   SOURCE_BRANCH  GITHUB_HEAD_REF (pull requests), GITHUB_REF_NAME,
 *                  CI_COMMIT_TAG, CI_COMMIT_REF_NAME, CIRCLE_TAG,
 *                  CIRCLE_BRANCH, bamboo_planRepository_branchName
 *   SOURCE_COMMIT  GITHUB_SHA, CI_COMMIT_SHA, CIRCLE_SHA1,
 *                  bamboo_planRepository_revision
 *   COMMIT_MSG     CI_COMMIT_MESSAGE
 *   DOCKER_REPO    facts->repo; DOCKER_TAG facts->tag;
 *   IMAGE_NAME     DOCKER_REPO:DOCKER_TAG
 *   DOCKERFILE_PATH facts->dockerfile; BUILD_PATH facts->build_path
 * the first that is set and not empty; none gives an empty value.
 */
void hooks_autobuild_vars(const struct autobuild_facts *facts,
			  compose_lookup_fn lookup, void *ctx,
			  struct strlist *out);

/* The value of NAME in a list of "NAME=value", or NULL: a lookup over
 * hooks_autobuild_vars()'s output, for compose interpolation. ctx is a
 * const struct strlist *. */
const char *hooks_strlist_lookup(const char *name, void *ctx);

/*
 * The environment of a hook: base ("NAME=value" items, e.g. builder's
 * own environment as config.c read it) with vars ("NAME=value") added,
 * replacing items of base with the same name. out receives copies.
 */
void hooks_env(char *const base[], const struct strlist *vars,
	       struct strlist *out);

/* Checks, before anything runs, that the interpreter of every hook in
 * found (hooks_find()'s names) is on the PATH of envp: in the FROM scratch
 * builder image there is no shell. EXIT_USAGE naming the hook and saying
 * to use builder-shell. */
int hooks_check(const char *dir, const struct strlist *found,
		char *const envp[], struct error *err);

/*
 * Runs hook h of dir (dir/hooks/<name>) to its end (hookrun.c): its first
 * line gives the interpreter (hooks_interpreter()), which is looked up on
 * the PATH of envp; "interpreter [arg] hooks/<name>" runs in dir with envp
 * (NULL-terminated) as its whole environment, stdin from /dev/null, stdout
 * and stderr inherited, in its own process group. Fails with
 * hook_exit_code(h): "hook 'pre_push' failed (exit 3)"; an interpreter
 * not found is EXIT_USAGE naming it. A SIGINT or SIGTERM to builder stops
 * the hook (SIGTERM to its group, SIGKILL 10 s later) and gives the
 * interruption error.
 */
int hooks_run(const char *dir, enum hook h, char *const envp[],
	      struct error *err);

#endif
