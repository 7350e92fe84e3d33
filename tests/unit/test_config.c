/*
 * Configuration (cli/config.c): list variables split so that every value
 * can be written, the engine's and the CI's settings read from the
 * environment, and the checks that must fail before any engine call.
 * Table-driven; each case sets its variables and unsets all others.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/config.h"
#include "util/buf.h"
#include "unit.h"

/* Every variable a case may set; cleared before each case. */
static const char *const vars[] = {
	"ACCOUNT",
	"IMAGE",
	"TAG",
	"CIRCLE_BUILD_NUM",
	"bamboo_buildNumber",
	"GITHUB_RUN_NUMBER",
	"CI_PIPELINE_IID",
	"BUILD_ARGS",
	"LABELS",
	"TEST_ENV",
	"TEST_SERVICES",
	"REPORT",
	"DOCKER_HOST",
	"DOCKER_TLS_VERIFY",
	"DOCKER_TLS",
	"DOCKER_CERT_PATH",
	"DOCKER_CONFIG",
	"DOCKER_TLS_CERTDIR",
	"DOCKER_API_VERSION",
	"BUILDER_IDLE_TIMEOUT",
	"CIRCLE_SHA1",
	"GITHUB_SHA",
	"CI_COMMIT_SHA",
	"CIRCLE_REPOSITORY_URL",
	"CI_PROJECT_URL",
	"GITHUB_SERVER_URL",
	"GITHUB_REPOSITORY",
	"UNIT_FROM_ENV",
	"GITHUB_ACTIONS",
	"GITLAB_CI",
	"GITHUB_REF",
	"GITHUB_REF_NAME",
	"GITHUB_REF_TYPE",
	"TAGS",
	"EXTRA_TAGS",
	"CONTEXT",
	"SOURCE_DATE_EPOCH",
	NULL,
};

/* "NAME=value" pairs, NULL-terminated; values may hold '=' and newlines. */
static void set_env(const char *const *env)
{
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	for (int i = 0; env && env[i]; i++) {
		const char *eq = strchr(env[i], '=');
		char name[64];

		snprintf(name, sizeof(name), "%.*s", (int)(eq - env[i]),
			 env[i]);
		setenv(name, eq + 1, 1);
	}
}

/* The list's items joined with '|'. */
static char *joined(const struct strlist *l)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	buf_addstr(&b, "");
	for (size_t i = 0; i < l->n; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", l->v[i]);
	return buf_detach(&b);
}

struct split_case {
	const char *var; /* BUILD_ARGS, LABELS or TEST_ENV */
	const char *value;
	const char *want; /* items joined with '|' */
};

static const struct split_case split_cases[] = {
	/* issue 13, defect 17 */
	{ "BUILD_ARGS", "A=x=y,B=a,b", "A=x=y|B=a,b" },
	/* ",b=" looks like the next item: "\\," or the newline form */
	{ "TEST_ENV", "URL=http://x/?a=1,b=2", "URL=http://x/?a=1|b=2" },
	{ "TEST_ENV", "URL=http://x/?a=1\\,b=2", "URL=http://x/?a=1,b=2" },
	{ "TEST_ENV", "URL=http://x/?a=1,b=2\n", "URL=http://x/?a=1,b=2" },
	{ "TEST_ENV", "P=a\\b,Q=\\,", "P=a\\b|Q=," },
	{ "TEST_ENV", "URL=http://x/?a=1,C=2", "URL=http://x/?a=1|C=2" },
	{ "LABELS", "a=1, b=2 ,c.d-e=3", "a=1|b=2|c.d-e=3" },
	{ "LABELS", "org.example.list=x,y,z", "org.example.list=x,y,z" },
	{ "BUILD_ARGS", "A=1,,B=2", "A=1,|B=2" },
	{ "BUILD_ARGS", "A=1,9=2", "A=1,9=2" },
	{ "BUILD_ARGS", "A=1,=2", "A=1,=2" },
	{ "BUILD_ARGS", "A=", "A=" },
	{ "BUILD_ARGS", " A=1 ", "A=1" },
	/* a newline: lines only, verbatim but for leading blanks */
	{ "BUILD_ARGS", "A=x,B=y\nC= 1, 2 \n", "A=x,B=y|C= 1, 2 " },
	{ "TEST_ENV", "\n  K=v\n\n  \nL=a,M=b", "K=v|L=a,M=b" },
	{ "LABELS", "a=1\r\nb=2", "a=1\r|b=2" },
	{ NULL, NULL, NULL },
};

static void test_split_lists(void)
{
	for (int i = 0; split_cases[i].var; i++) {
		const struct split_case *c = &split_cases[i];
		struct config cfg = CONFIG_INIT;
		struct error err = ERROR_INIT;
		const struct strlist *l;
		char pair[512];
		const char *env[2] = { pair, NULL };
		char *got;

		snprintf(pair, sizeof(pair), "%s=%s", c->var, c->value);
		set_env(env);
		CHECK(config_from_env(&cfg, &err) == 0);
		l = !strcmp(c->var, "BUILD_ARGS") ? &cfg.build_args
		    : !strcmp(c->var, "LABELS")	  ? &cfg.labels
						  : &cfg.test_env;
		got = joined(l);
		if (strcmp(got, c->want))
			fprintf(stderr, "case %d: %s='%s'\n", i, c->var,
				c->value);
		CHECK_STR(got, c->want);
		free(got);
		config_release(&cfg);
	}
}

struct validate_case {
	const char *env[6];
	const char *args[4]; /* after argv[0] */
	int code; /* 0 or EXIT_USAGE */
	const char *error; /* a substring of the error */
};

static const struct validate_case validate_cases[] = {
	{ { "ACCOUNT=acme", "IMAGE=calc", NULL }, { NULL }, 0, NULL },
	/* the tag error names the variable the tag came from */
	{ { "ACCOUNT=acme", "IMAGE=calc", "CI_PIPELINE_IID=a/b", NULL },
	  { NULL },
	  EXIT_USAGE,
	  "CI_PIPELINE_IID 'a/b', the default TAG, is not a valid tag" },
	{ { "ACCOUNT=acme", "IMAGE=calc", "CIRCLE_BUILD_NUM=-1", NULL },
	  { NULL },
	  EXIT_USAGE,
	  "CIRCLE_BUILD_NUM '-1'" },
	{ { "ACCOUNT=acme", "IMAGE=calc", "TAG=a b", NULL },
	  { NULL },
	  EXIT_USAGE,
	  "TAG 'a b' is not a valid tag" },
	{ { "ACCOUNT=acme", "IMAGE=calc", "CI_PIPELINE_IID=12", NULL },
	  { "--tag", "x y", NULL },
	  EXIT_USAGE,
	  "--tag 'x y' is not a valid tag" },
	/* TEST_SERVICES image references, before any engine call */
	{ { "ACCOUNT=acme", "IMAGE=calc", "TEST_SERVICES=db=Postgres:16",
	    NULL },
	  { NULL },
	  EXIT_USAGE,
	  "TEST_SERVICES" },
	{ { "ACCOUNT=acme", "IMAGE=calc",
	    "TEST_SERVICES=db=postgres:16 "
	    "c=redis@sha256:12",
	    NULL },
	  { NULL },
	  EXIT_USAGE,
	  "redis@sha256:12" },
	{ { "ACCOUNT=acme", "IMAGE=calc",
	    "TEST_SERVICES=db=postgres:16 cache=localhost:5000/redis:7", NULL },
	  { NULL },
	  0,
	  NULL },
	/* BUILDER_IDLE_TIMEOUT is checked here, not when the engine opens */
	{ { "ACCOUNT=acme", "IMAGE=calc", "BUILDER_IDLE_TIMEOUT=soon", NULL },
	  { NULL },
	  EXIT_USAGE,
	  "BUILDER_IDLE_TIMEOUT 'soon'" },
	{ { "BUILDER_IDLE_TIMEOUT=-5", NULL },
	  { "cleanup", NULL },
	  EXIT_USAGE,
	  "BUILDER_IDLE_TIMEOUT '-5'" },
	/* several bare names need the newline form */
	{ { "ACCOUNT=acme", "IMAGE=calc", "BUILD_ARGS=A,B", NULL },
	  { NULL },
	  EXIT_USAGE,
	  "one name a line" },
	/* REPORT is checked up front */
	{ { "ACCOUNT=acme", "IMAGE=calc", "REPORT=/nonexistent-dir/r.json",
	    NULL },
	  { NULL },
	  EXIT_USAGE,
	  "the directory '/nonexistent-dir' does not exist" },
	{ { "ACCOUNT=acme", "IMAGE=calc", "REPORT=/", NULL },
	  { NULL },
	  EXIT_USAGE,
	  "is a directory" },
	{ { "ACCOUNT=acme", "IMAGE=calc", "REPORT=/dev/null", NULL },
	  { NULL },
	  0,
	  NULL },
	{ { NULL }, { NULL }, -1, NULL },
};

static void test_validate(void)
{
	for (int i = 0; validate_cases[i].code >= 0; i++) {
		const struct validate_case *c = &validate_cases[i];
		struct config cfg = CONFIG_INIT;
		struct error err = ERROR_INIT;
		char *argv[6] = { (char *)"builder" };
		int argc = 1, ret;

		for (int j = 0; c->args[j]; j++)
			argv[argc++] = (char *)c->args[j];
		set_env(c->env);
		ret = config_from_env(&cfg, &err);
		if (!ret)
			ret = config_parse_args(&cfg, argc, argv, &err);
		if (!ret)
			ret = config_validate(&cfg, &err);
		if (c->code ? ret == 0 || err.code != c->code ||
				      !strstr(err.msg, c->error)
			    : ret != 0)
			fprintf(stderr, "case %d: ret %d, error '%s'\n", i, ret,
				err.msg);
		CHECK(c->code ? ret < 0 : ret == 0);
		CHECK(err.code == c->code);
		if (c->error)
			CHECK(strstr(err.msg, c->error) != NULL);
		config_release(&cfg);
	}
}

/* The engine's settings and the CI labels come from config, which is the
 * only reader of the environment. */
static void test_engine_and_ci_settings(void)
{
	static const char *const env[] = {
		"DOCKER_HOST=tcp://docker:2376",
		"DOCKER_TLS_VERIFY=0",
		"DOCKER_CERT_PATH=/certs/client",
		"DOCKER_API_VERSION=1.44",
		"BUILDER_IDLE_TIMEOUT=600",
		"DOCKER_TLS_CERTDIR=/certs",
		"GITHUB_ACTIONS=true",
		"GITHUB_SHA=abc1234",
		"GITHUB_SERVER_URL=https://github.com",
		"GITHUB_REPOSITORY=acme/calc",
		"ACCOUNT=acme",
		"IMAGE=calc",
		NULL,
	};
	static const char *const none[] = { "ACCOUNT=acme", "IMAGE=calc",
					    "DOCKER_TLS=", NULL };
	struct config cfg = CONFIG_INIT;
	struct error err = ERROR_INIT;
	char *argv[] = { (char *)"builder", NULL };

	set_env(env);
	CHECK(config_from_env(&cfg, &err) == 0);
	CHECK(config_parse_args(&cfg, 1, argv, &err) == 0);
	CHECK(config_validate(&cfg, &err) == 0);
	CHECK_STR(cfg.engine.host, "tcp://docker:2376");
	CHECK_STR(cfg.engine.tls_verify, "0");
	CHECK_STR(cfg.engine.cert_path, "/certs/client");
	CHECK_STR(cfg.engine.api_version, "1.44");
	CHECK_STR(cfg.engine.tls_certdir, "/certs");
	CHECK(cfg.engine.idle_timeout == 600);
	CHECK(strlist_has(&cfg.labels,
			  "org.opencontainers.image.revision=abc1234"));
	CHECK(strlist_has(&cfg.labels, "org.opencontainers.image.source="
				       "https://github.com/acme/calc"));
	config_release(&cfg);

	cfg = (struct config)CONFIG_INIT;
	set_env(none);
	CHECK(config_from_env(&cfg, &err) == 0);
	CHECK(cfg.engine.host == NULL);
	CHECK(cfg.engine.tls == NULL); /* empty is unset */
	CHECK(cfg.engine.idle_timeout == 0);
	CHECK(config_parse_args(&cfg, 1, argv, &err) == 0);
	CHECK(config_validate(&cfg, &err) == 0);
	CHECK(!strlist_has(&cfg.labels, "org.opencontainers.image.source="
					"https://github.com/acme/calc"));
	config_release(&cfg);
}

/* TAGS: the first tag made is the image's tag, unless TAG names it; the
 * rest and EXTRA_TAGS are extra tags, without duplicates; no tag made
 * keeps TAG or the build number. Outside any .git (CONTEXT=/). */
struct tags_case {
	const char *env[8];
	const char *want_tag, *want_source, *want_extra;
};

static const struct tags_case tags_cases[] = {
	{ { "GITHUB_ACTIONS=true", "GITHUB_REF=refs/tags/v2.3.4",
	    "GITHUB_SHA=0123456789abcdef0123456789abcdef01234567",
	    "TAGS=semver,sha", "EXTRA_TAGS=2.3 edge", NULL },
	  "2.3.4",
	  "TAGS",
	  "2.3|2|sha-0123456|latest|edge" },
	{ { "GITHUB_ACTIONS=true", "GITHUB_REF=refs/tags/v2.3.4", "TAGS=semver",
	    "TAG=build-7", NULL },
	  "build-7",
	  "TAG",
	  "2.3.4|2.3|2|latest" },
	{ { "GITHUB_ACTIONS=true", "GITHUB_REF=refs/heads/main",
	    "GITHUB_RUN_NUMBER=42", "TAGS=pr", NULL },
	  "42",
	  "GITHUB_RUN_NUMBER",
	  "" },
	{ { "GITHUB_RUN_NUMBER=42", NULL }, "42", "GITHUB_RUN_NUMBER", "" },
	{ { NULL }, NULL, NULL, NULL },
};

static void test_tags(void)
{
	for (int i = 0; tags_cases[i].env[0]; i++) {
		const struct tags_case *c = &tags_cases[i];
		const char *env[12] = { "ACCOUNT=acme", "IMAGE=calc",
					"CONTEXT=/" };
		struct config cfg = CONFIG_INIT;
		struct error err = ERROR_INIT;
		char *argv[] = { (char *)"builder", NULL };
		char *got;

		for (int j = 0; c->env[j]; j++)
			env[3 + j] = c->env[j];
		set_env(env);
		CHECK(config_from_env(&cfg, &err) == 0);
		CHECK(config_parse_args(&cfg, 1, argv, &err) == 0);
		CHECK(config_validate(&cfg, &err) == 0);
		CHECK_STR(cfg.tag, c->want_tag);
		CHECK_STR(cfg.tag_source, c->want_source);
		got = joined(&cfg.extra_tags);
		CHECK_STR(got, c->want_extra);
		free(got);
		CHECK(cfg.tagset.tags.n == cfg.extra_tags.n + 1);
		config_release(&cfg);
	}
}

/* A bare build arg takes its value from the environment in config. */
static void test_build_arg_from_env(void)
{
	static const char *const env[] = {
		"ACCOUNT=acme",
		"IMAGE=calc",
		"UNIT_FROM_ENV=a,b=c",
		"BUILD_ARGS=UNIT_FROM_ENV\nUNIT_UNSET_VAR\nX=1",
		"CONTEXT=/", /* no .git: no SOURCE_DATE_EPOCH */
		NULL,
	};
	struct config cfg = CONFIG_INIT;
	struct error err = ERROR_INIT;
	char *argv[] = { (char *)"builder", NULL };
	char *got;

	set_env(env);
	unsetenv("UNIT_UNSET_VAR");
	CHECK(config_from_env(&cfg, &err) == 0);
	CHECK(config_parse_args(&cfg, 1, argv, &err) == 0);
	CHECK(config_validate(&cfg, &err) == 0);
	got = joined(&cfg.build_args);
	CHECK_STR(got, "UNIT_FROM_ENV=a,b=c|UNIT_UNSET_VAR|X=1");
	free(got);
	config_release(&cfg);
}

/* REPORT is read first: a later bad variable still leaves it set. */
static void test_report_read_first(void)
{
	static const char *const env[] = { "REPORT=/tmp/r.json",
					   "BUILDER_IDLE_TIMEOUT=1", NULL };
	struct config cfg = CONFIG_INIT;
	struct error err = ERROR_INIT;

	set_env(env);
	setenv("PUSH", "maybe", 1);
	CHECK(config_from_env(&cfg, &err) < 0);
	CHECK_STR(cfg.report, "/tmp/r.json");
	unsetenv("PUSH");
	config_release(&cfg);
}

int main(void)
{
	RUN(test_split_lists);
	RUN(test_validate);
	RUN(test_engine_and_ci_settings);
	RUN(test_build_arg_from_env);
	RUN(test_tags);
	RUN(test_report_read_first);
	return unit_summary();
}
