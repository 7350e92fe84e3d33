/*
 * Docker Hub hooks, the pure parts (builder/compose/hooks.c): order and
 * exit codes, discovery, the interpreter of the #! line, the autobuild
 * variables derived from each CI's own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose/hooks.h"
#include "unit.h"
#include "util/log.h"

static void test_order_and_codes(void)
{
	static const char *const want[] = { "post_checkout", "pre_build",
					    "build",	     "post_build",
					    "pre_test",	     "test",
					    "post_test",     "pre_push",
					    "push",	     "post_push" };
	int h;

	for (h = 0; h < HOOK_COUNT; h++)
		CHECK_STR(hook_names[h], want[h]);
	CHECK(hook_exit_code(HOOK_POST_CHECKOUT) == EXIT_BUILD);
	CHECK(hook_exit_code(HOOK_BUILD) == EXIT_BUILD);
	CHECK(hook_exit_code(HOOK_POST_BUILD) == EXIT_BUILD);
	CHECK(hook_exit_code(HOOK_PRE_TEST) == EXIT_TESTS);
	CHECK(hook_exit_code(HOOK_POST_TEST) == EXIT_TESTS);
	CHECK(hook_exit_code(HOOK_PRE_PUSH) == EXIT_PUSH);
	CHECK(hook_exit_code(HOOK_POST_PUSH) == EXIT_PUSH);
}

static void test_find(void)
{
	char dir[] = "/tmp/hooks-unit-XXXXXX", p[128], cmd[160];
	struct strlist l = STRLIST_INIT;
	struct error err = ERROR_INIT;
	static const char *const files[] = { "post_push", "pre_build", "build",
					     "README", "pre_push.sh" };
	size_t i;

	if (!mkdtemp(dir))
		abort();
	CHECK(hooks_find(dir, &l, &err) == 0); /* no hooks/ */
	CHECK(l.n == 0);
	snprintf(p, sizeof(p), "%s/hooks", dir);
	mkdir(p, 0700);
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		FILE *f;

		snprintf(p, sizeof(p), "%s/hooks/%s", dir, files[i]);
		f = fopen(p, "w");
		if (!f)
			abort();
		fclose(f); /* not executable: still a hook */
	}
	snprintf(p, sizeof(p), "%s/hooks/test", dir);
	mkdir(p, 0700); /* a directory is not a hook */
	CHECK(hooks_find(dir, &l, &err) == 0);
	CHECK(l.n == 3);
	if (l.n == 3) {
		CHECK_STR(l.v[0], "pre_build");
		CHECK_STR(l.v[1], "build");
		CHECK_STR(l.v[2], "post_push");
	}
	strlist_clear(&l);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	CHECK(system(cmd) == 0);
}

struct icase {
	const char *script;
	const char *want; /* argv joined with '|', or NULL: error */
};

static const struct icase interps[] = {
	{ "echo hi\n", "sh" },
	{ "", "sh" },
	{ "#comment\n", "sh" },
	{ "#!/bin/bash\necho", "bash" },
	{ "#!/bin/bash -e\n", "bash|-e" },
	{ "#! /usr/bin/perl -w -s\n", "perl|-w -s" }, /* one argument */
	{ "#!/bin/sh\r\n", "sh" },
	{ "#!/usr/bin/env python3\nprint(1)", "python3" },
	{ "#!/usr/bin/env bash  \n", "bash" },
	{ "#!/usr/bin/env -S bash -eu\n", "bash|-eu" },
	{ "#!/usr/bin/env /opt/x/bin/ruby\n", "ruby" },
	{ "#!/bin/bash", "bash" }, /* no newline */
	{ "#!\n", NULL },
	{ "#!/usr/bin/env\n", NULL },
	{ "#!/usr/bin/env -i bash\n", NULL },
};

static void test_interpreter(void)
{
	size_t i, j;

	for (i = 0; i < sizeof(interps) / sizeof(*interps); i++) {
		struct strlist argv = STRLIST_INIT;
		struct error err = ERROR_INIT;
		char got[128] = "";
		int rc = hooks_interpreter(interps[i].script,
					   strlen(interps[i].script), &argv,
					   &err);

		if (!interps[i].want) {
			CHECK(rc == -1);
			CHECK(err.code == EXIT_USAGE);
		} else {
			CHECK(rc == 0);
			for (j = 0; j < argv.n; j++)
				snprintf(got + strlen(got),
					 sizeof(got) - strlen(got), "%s%s",
					 j ? "|" : "", argv.v[j]);
			if (strcmp(got, interps[i].want))
				fprintf(stderr, "case %zu:\n", i);
			CHECK_STR(got, interps[i].want);
		}
		strlist_clear(&argv);
	}
}

/* A fake environment: "NAME=value" pairs, NULL-terminated. */
static const char *fake_lookup(const char *name, void *ctx)
{
	const char *const *env = ctx;
	size_t n = strlen(name);

	for (; *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

struct vcase {
	const char *env[8];
	const char *want[8]; /* NAME=value expected among the output */
};

static const struct vcase vcases[] = {
	{ { NULL },
	  { "SOURCE_BRANCH=", "SOURCE_COMMIT=", "COMMIT_MSG=",
	    "DOCKER_REPO=reg/ns/app", "DOCKER_TAG=1.0",
	    "IMAGE_NAME=reg/ns/app:1.0", "DOCKERFILE_PATH=Dockerfile",
	    "BUILD_PATH=." } },
	/* GitHub, a push and a pull request */
	{ { "GITHUB_REF_NAME=main", "GITHUB_SHA=abc", NULL },
	  { "SOURCE_BRANCH=main", "SOURCE_COMMIT=abc", NULL } },
	{ { "GITHUB_REF_NAME=12/merge", "GITHUB_HEAD_REF=feature",
	    "GITHUB_SHA=abc", NULL },
	  { "SOURCE_BRANCH=feature", NULL } },
	{ { "GITHUB_REF_NAME=main", "GITHUB_HEAD_REF=", NULL },
	  { "SOURCE_BRANCH=main", NULL } },
	/* GitLab: a tag wins over the ref name */
	{ { "CI_COMMIT_REF_NAME=v1", "CI_COMMIT_TAG=v1.2", "CI_COMMIT_SHA=f0",
	    "CI_COMMIT_MESSAGE=fix: x", NULL },
	  { "SOURCE_BRANCH=v1.2", "SOURCE_COMMIT=f0", "COMMIT_MSG=fix: x",
	    NULL } },
	/* CircleCI */
	{ { "CIRCLE_BRANCH=dev", "CIRCLE_SHA1=c1", NULL },
	  { "SOURCE_BRANCH=dev", "SOURCE_COMMIT=c1", NULL } },
	/* Bamboo */
	{ { "bamboo_planRepository_branchName=rel",
	    "bamboo_planRepository_revision=b4", NULL },
	  { "SOURCE_BRANCH=rel", "SOURCE_COMMIT=b4", NULL } },
	/* set by the user: kept */
	{ { "SOURCE_BRANCH=mine", "GITHUB_REF_NAME=main", "DOCKER_TAG=t",
	    "IMAGE_NAME=x/y:z", "COMMIT_MSG=m", NULL },
	  { "SOURCE_BRANCH=mine", "DOCKER_TAG=t", "IMAGE_NAME=x/y:z",
	    "COMMIT_MSG=m", NULL } },
	{ { "DOCKER_REPO=index.docker.io/ns/app", NULL },
	  { "IMAGE_NAME=index.docker.io/ns/app:1.0", NULL } },
};

static void test_autobuild_vars(void)
{
	struct autobuild_facts facts = { "reg/ns/app", "1.0", "Dockerfile",
					 "." };
	size_t i, j;

	for (i = 0; i < sizeof(vcases) / sizeof(*vcases); i++) {
		struct strlist out = STRLIST_INIT;

		hooks_autobuild_vars(&facts, fake_lookup, (void *)vcases[i].env,
				     &out);
		CHECK(out.n == 8);
		for (j = 0; j < 8 && vcases[i].want[j]; j++) {
			if (!strlist_has(&out, vcases[i].want[j])) {
				fprintf(stderr, "case %zu: no '%s'\n", i,
					vcases[i].want[j]);
				CHECK(0);
			}
		}
		CHECK_STR(hooks_strlist_lookup("DOCKER_REPO", &out) ? "set"
								    : NULL,
			  "set");
		CHECK(hooks_strlist_lookup("DOCKER", &out) == NULL);
		strlist_clear(&out);
	}
}

static void write_hook(const char *dir, const char *name, const char *text)
{
	char p[256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/hooks/%s", dir, name);
	f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void test_run(void)
{
	char dir[] = "/tmp/hookrun-unit-XXXXXX", p[160], got[256] = "";
	static char e1[] = "PATH=/usr/bin:/bin", e2[] = "SOURCE_BRANCH=main";
	char *const envp[] = { e1, e2, NULL };
	struct error err = ERROR_INIT;
	FILE *f;

	if (!mkdtemp(dir))
		abort();
	snprintf(p, sizeof(p), "%s/hooks", dir);
	mkdir(p, 0700);
	/* #! line, not executable, run in dir with envp only */
	write_hook(dir, "post_checkout",
		   "#!/bin/sh -e\necho \"$SOURCE_BRANCH $(pwd) ${HOME:-nohome} "
		   "$0\" > out\n");
	CHECK(hooks_run(dir, HOOK_POST_CHECKOUT, envp, &err) == 0);
	snprintf(p, sizeof(p), "%s/out", dir);
	f = fopen(p, "r");
	CHECK(f != NULL);
	if (f) {
		CHECK(fgets(got, sizeof(got), f) != NULL);
		fclose(f);
	}
	{
		char want[256];

		snprintf(want, sizeof(want),
			 "main %s nohome hooks/post_checkout\n", dir);
		CHECK_STR(got, want);
	}
	/* no #! line: sh */
	write_hook(dir, "pre_build", "echo no-shebang > out2\n");
	CHECK(hooks_run(dir, HOOK_PRE_BUILD, envp, &err) == 0);
	snprintf(p, sizeof(p), "%s/out2", dir);
	CHECK(access(p, F_OK) == 0);
	/* a failure carries the stage's exit code and names the hook */
	write_hook(dir, "pre_push", "#!/usr/bin/env sh\nexit 3\n");
	CHECK(hooks_run(dir, HOOK_PRE_PUSH, envp, &err) == -1);
	CHECK(err.code == EXIT_PUSH);
	CHECK(strstr(err.msg, "hook 'pre_push' failed (exit 3)") != NULL);
	err_clear(&err);
	write_hook(dir, "test", "kill -9 $$\n");
	CHECK(hooks_run(dir, HOOK_TEST, envp, &err) == -1);
	CHECK(err.code == EXIT_TESTS);
	CHECK(strstr(err.msg, "signal 9") != NULL);
	err_clear(&err);
	/* an interpreter the PATH does not have */
	write_hook(dir, "build", "#!/usr/bin/env no-such-interp-x\n");
	CHECK(hooks_run(dir, HOOK_BUILD, envp, &err) == -1);
	CHECK(err.code == EXIT_USAGE);
	CHECK(strstr(err.msg, "'no-such-interp-x'") != NULL);
	err_clear(&err);
	/* the PATH is envp's */
	{
		static char p1[] = "PATH=/nonexistent";
		char *const nopath[] = { p1, NULL };

		CHECK(hooks_run(dir, HOOK_PRE_BUILD, nopath, &err) == -1);
		CHECK(err.code == EXIT_USAGE);
		err_clear(&err);
	}
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	CHECK(system(p) == 0);
}

static void test_env(void)
{
	static char b1[] = "PATH=/bin", b2[] = "DOCKER_TAG=old",
		    b3[] = "HOME=/root";
	char *const base[] = { b1, b2, b3, NULL };
	struct strlist vars = STRLIST_INIT, out = STRLIST_INIT;

	strlist_push(&vars, "DOCKER_TAG=new");
	strlist_push(&vars, "IMAGE_NAME=a/b:new");
	hooks_env(base, &vars, &out);
	CHECK(out.n == 4);
	CHECK(strlist_has(&out, "PATH=/bin"));
	CHECK(strlist_has(&out, "HOME=/root"));
	CHECK(strlist_has(&out, "DOCKER_TAG=new"));
	CHECK(!strlist_has(&out, "DOCKER_TAG=old"));
	CHECK(strlist_has(&out, "IMAGE_NAME=a/b:new"));
	strlist_clear(&vars);
	strlist_clear(&out);
}

int main(void)
{
	log_set_level(LOG_QUIET);
	RUN(test_run);
	RUN(test_env);
	RUN(test_order_and_codes);
	RUN(test_find);
	RUN(test_interpreter);
	RUN(test_autobuild_vars);
	return unit_summary();
}
