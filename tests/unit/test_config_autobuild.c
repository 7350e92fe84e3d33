/*
 * The issue-15 settings of cli/config.c: TEST_COMPOSE/--test-compose,
 * HOOKS/--no-hooks, the autobuild variables config_validate() derives
 * (SOURCE_BRANCH, DOCKER_REPO, IMAGE_NAME, DOCKERFILE_PATH, BUILD_PATH...)
 * and config_lookup(), which compose interpolation uses. Table-driven;
 * each case sets its variables and unsets all others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "compose/hooks.h"
#include "unit.h"

static const char *const vars[] = {
	"ACCOUNT",
	"IMAGE",
	"TAG",
	"REGISTRY",
	"CONTEXT",
	"DOCKERFILE",
	"TEST_COMPOSE",
	"HOOKS",
	"TEST_CMD",
	"TEST_SERVICES",
	"SOURCE_BRANCH",
	"SOURCE_COMMIT",
	"GITHUB_REF_NAME",
	"GITHUB_HEAD_REF",
	"GITHUB_SHA",
	"CI_COMMIT_MESSAGE",
	"GITHUB_ACTIONS",
	"GITHUB_REF",
	"GITLAB_CI",
	"CIRCLECI",
	"GITHUB_EVENT_PATH",
	"GITHUB_REF_TYPE",
	"IMAGE_NAME",
	"CIRCLE_BUILD_NUM",
	"GITHUB_RUN_NUMBER",
	"CI_PIPELINE_IID",
	"bamboo_buildNumber",
	NULL,
};

struct ab_case {
	const char *env[8]; /* "NAME=value" */
	const char *args[4]; /* flags after argv[0] */
	int code; /* the expected error code, 0 for none */
	const char *name; /* a variable to look up with config_lookup() */
	const char *want; /* its value */
	const char *compose; /* test_compose joined with '|', or NULL */
	int no_hooks;
};

static const struct ab_case cases[] = {
	{ { "ACCOUNT=acme", "IMAGE=app", "TAG=1" },
	  { NULL },
	  0,
	  "IMAGE_NAME",
	  "acme/app:1",
	  "",
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "TAG=1", "REGISTRY=r.example:5000" },
	  { NULL },
	  0,
	  "DOCKER_REPO",
	  "r.example:5000/acme/app",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "TAG=7" },
	  { NULL },
	  0,
	  "DOCKER_TAG",
	  "7",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app" },
	  { NULL },
	  0,
	  "BUILD_PATH",
	  "/",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "CONTEXT=./app" },
	  { NULL },
	  0,
	  "BUILD_PATH",
	  "/app",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app" },
	  { NULL },
	  0,
	  "DOCKERFILE_PATH",
	  "Dockerfile",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "CONTEXT=app",
	    "DOCKERFILE=app/docker/Dockerfile.prod" },
	  { NULL },
	  0,
	  "DOCKERFILE_PATH",
	  "docker/Dockerfile.prod",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "GITHUB_ACTIONS=true",
	    "GITHUB_REF=refs/heads/feature-x", "GITHUB_REF_NAME=feature-x" },
	  { NULL },
	  0,
	  "SOURCE_BRANCH",
	  "feature-x",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "GITHUB_REF_NAME=feature-x",
	    "SOURCE_BRANCH=mine" },
	  { NULL },
	  0,
	  "SOURCE_BRANCH",
	  "mine",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "GITHUB_ACTIONS=true",
	    "GITHUB_SHA=0123456789abcdef0123456789abcdef01234567" },
	  { NULL },
	  0,
	  "SOURCE_COMMIT",
	  "0123456789abcdef0123456789abcdef01234567",
	  NULL,
	  0 },
	/* not an autobuild variable: the environment */
	{ { "ACCOUNT=acme", "IMAGE=app", "HOOKS=true" },
	  { NULL },
	  0,
	  "HOOKS",
	  "true",
	  NULL,
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "TEST_COMPOSE=a.test.yml, b.yml" },
	  { "--test-compose", "c.yml" },
	  0,
	  NULL,
	  NULL,
	  "a.test.yml|b.yml|c.yml",
	  0 },
	{ { "ACCOUNT=acme", "IMAGE=app", "HOOKS=false" },
	  { NULL },
	  0,
	  NULL,
	  NULL,
	  NULL,
	  1 },
	{ { "ACCOUNT=acme", "IMAGE=app" },
	  { "--no-hooks" },
	  0,
	  NULL,
	  NULL,
	  NULL,
	  1 },
	{ { "ACCOUNT=acme", "IMAGE=app", "HOOKS=maybe" },
	  { NULL },
	  2,
	  NULL,
	  NULL,
	  NULL,
	  0 },
};

static void set_env(const char *const *env)
{
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	for (int i = 0; i < 8 && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]),
			 env[i]);
		setenv(name, eq + 1, 1);
	}
}

static void test_autobuild_settings(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct ab_case *c = &cases[i];
		struct config cfg = CONFIG_INIT;
		struct error err = ERROR_INIT;
		char *argv[6] = { (char *)"builder" };
		int argc = 1, ret;

		for (int j = 0; j < 4 && c->args[j]; j++)
			argv[argc++] = (char *)c->args[j];
		set_env(c->env);
		ret = config_from_env(&cfg, &err);
		if (ret == 0)
			ret = config_parse_args(&cfg, argc, argv, &err);
		if (ret == 0)
			ret = config_validate(&cfg, &err);
		if (ret != (c->code ? -1 : 0) || err.code != c->code) {
			fprintf(stderr, "case %zu: ret %d code %d: %s\n", i,
				ret, err.code, err.msg);
			unit_failures_in_test++;
		}
		if (!c->code && c->name)
			CHECK_STR(config_lookup(c->name, &cfg), c->want);
		if (!c->code && c->compose) {
			char got[256] = "";
			size_t off = 0;

			for (size_t k = 0; k < cfg.test_compose.n; k++)
				off += (size_t)snprintf(
					got + off, sizeof(got) - off, "%s%s",
					k ? "|" : "", cfg.test_compose.v[k]);
			CHECK_STR(got, c->compose);
		}
		if (!c->code)
			CHECK(cfg.no_hooks == c->no_hooks);
		config_release(&cfg);
	}
}

int main(void)
{
	RUN(test_autobuild_settings);
	return unit_summary();
}
