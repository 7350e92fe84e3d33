/*
 * Configuration: the environment first, then flags, then validation, all
 * before any engine call. Names and tags are checked against the
 * distribution reference grammar (ref.h) so that a typo fails in
 * milliseconds with the rule and an example, not minutes later in a push.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "util/buf.h"
#include "cli/config.h"
#include "compose/hooks.h"
#include "util/log.h"
#include "meta/labels.h"
#include "pipeline/report.h"
#include "pipeline/results.h"
#include "registry/manifest.h"
#include "registry/ref.h"
#include "session/secrets.h"
#include "util/xmalloc.h"
#include "util/banned.h"

/* Build-number variables of the CI systems we know, in the order tried. */
static const char *const ci_build_numbers[] = {
	"CIRCLE_BUILD_NUM",
	"bamboo_buildNumber",
	"GITHUB_RUN_NUMBER",
	"CI_PIPELINE_IID",
	NULL,
};

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* A variable as it is, empty or not (a secret may be empty). */
static const char *env_raw(const char *name)
{
	return getenv(name);
}

static void set_str(char **dst, const char *value)
{
	free(*dst);
	*dst = value ? xstrdup(value) : NULL;
}

static int parse_bool(const char *name, const char *value, int *out,
		      struct error *err)
{
	static const char *const yes[] = { "1", "true", "yes", "on", NULL };
	static const char *const no[] = { "0", "false", "no", "off", NULL };

	for (int i = 0; yes[i]; i++)
		if (!strcasecmp(value, yes[i]))
			return *out = 1, 0;
	for (int i = 0; no[i]; i++)
		if (!strcasecmp(value, no[i]))
			return *out = 0, 0;
	return err_set(err, EXIT_USAGE,
		       "%s '%s' is not a boolean: use true or false "
		       "(example: %s=false)",
		       name, value, name);
}

static int parse_long(const char *name, const char *value, long min, long max,
		      long *out, struct error *err)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (errno || end == value || *end || v < min || v > max)
		return err_set(err, EXIT_USAGE,
			       "%s '%s' is not a whole number from %ld to %ld "
			       "(example: %s=%ld)",
			       name, value, min, max, name,
			       max < 600 ? max : 600);
	*out = v;
	return 0;
}

/* `builder cleanup --older-than`: a number of seconds, or with s, m, h or
 * d (90s, 30m, 1h, 2d). */
static int parse_age(const char *value, long *out, struct error *err)
{
	char *end;
	long v, unit = 1;

	errno = 0;
	v = strtol(value, &end, 10);
	if (*end && !end[1])
		switch (*end++) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		default:
			end--;
		}
	if (errno || end == value || *end || v < 0 || v > 3650L * 86400 / unit)
		return err_set(
			err, EXIT_USAGE,
			"--older-than '%s' is not an age: use seconds or "
			"a number with s, m, h or d (example: "
			"--older-than 2h)",
			value);
	*out = v * unit;
	return 0;
}

static int parse_builder(const char *value, enum builder_kind *out,
			 struct error *err)
{
	if (!strcmp(value, "auto"))
		*out = BUILDER_AUTO;
	else if (!strcmp(value, "buildkit"))
		*out = BUILDER_BUILDKIT;
	else if (!strcmp(value, "classic"))
		*out = BUILDER_CLASSIC;
	else
		return err_set(err, EXIT_USAGE,
			       "BUILDER '%s' is not a builder: use auto, "
			       "buildkit or classic (example: BUILDER=classic)",
			       value);
	return 0;
}

/* What the engine needs from the environment. */
static void engine_from_env(struct config *cfg)
{
	struct engine_settings *e = &cfg->engine;

	set_str(&e->host, env("DOCKER_HOST"));
	set_str(&e->tls_verify, env("DOCKER_TLS_VERIFY"));
	set_str(&e->tls, env("DOCKER_TLS"));
	set_str(&e->cert_path, env("DOCKER_CERT_PATH"));
	set_str(&e->docker_config, env("DOCKER_CONFIG"));
	set_str(&e->home, env("HOME"));
	set_str(&e->tls_certdir, env("DOCKER_TLS_CERTDIR"));
	set_str(&e->api_version, env("DOCKER_API_VERSION"));
	set_str(&cfg->idle_timeout, env("BUILDER_IDLE_TIMEOUT"));
}

/* --- credentials (auth.h) ---------------------------------------------- */

/* The credential variables, borrowed from the environment: no copy of a
 * password is made (auth.c wipes the copies it makes itself). */
static void auth_settings_from_env(struct auth_settings *a)
{
	a->registry_user = env("REGISTRY_USER");
	a->registry_password = env("REGISTRY_PASSWORD");
	a->registry_password_file = env("REGISTRY_PASSWORD_FILE");
	a->docker_user = env("DOCKER_USER");
	a->docker_pass = env("DOCKER_PASS");
	a->dockerhub_user = env("DOCKERHUB_USER");
	a->dockerhub_username = env("DOCKERHUB_USERNAME");
	a->dockerhub_pass = env("DOCKERHUB_PASS");
	a->docker_auth_config = env("DOCKER_AUTH_CONFIG");
	a->docker_config = env("DOCKER_CONFIG");
	a->home = env("HOME");
	a->registry = NULL; /* config_validate() */
}

/* The registry the environment's credentials are for: the domain of the
 * image pushed (as the engine parses the name), or for `builder check`,
 * REGISTRY or Docker Hub. */
static int auth_settings_validate(struct config *cfg, struct error *err)
{
	struct ref r = REF_INIT;
	const char *domain = cfg->registry ? cfg->registry : REF_HUB_DOMAIN;

	if (cfg->image_ref) {
		if (ref_parse(&r, cfg->image_ref, "the image name", err) < 0)
			return -1;
		domain = r.domain;
	}
	set_str(&cfg->auth_registry, domain);
	cfg->auth.registry = cfg->auth_registry;
	ref_release(&r);
	return 0;
}

/* --- end of credentials ------------------------------------------------- */

/* --- compose autotest and hooks (issue 15) ------------------------------ */

extern char **environ;

static int autobuild_from_env(struct config *cfg, struct error *err)
{
	const char *v;
	int hooks = 1;

	if ((v = env("TEST_COMPOSE")))
		strlist_split(&cfg->test_compose, v, " ,\n");
	if ((v = env("HOOKS"))) {
		if (parse_bool("HOOKS", v, &hooks, err) < 0)
			return -1;
		cfg->no_hooks = !hooks;
	}
	strlist_clear(&cfg->hook_env);
	for (char **e = environ; e && *e; e++)
		strlist_push(&cfg->hook_env, *e);
	return 0;
}

/* The environment, then meta/'s facts (the CI detected, else the
 * context's .git) for the branch or tag and the commit; hooks.c falls
 * back on the CI's raw variables after that. */
static const char *autobuild_lookup(const char *name, void *ctx)
{
	const struct config *cfg = ctx;
	const char *v = env(name);

	if (v)
		return v;
	if (!strcmp(name, "SOURCE_BRANCH"))
		return cfg->facts.tag.value ? cfg->facts.tag.value
					    : cfg->facts.branch.value;
	if (!strcmp(name, "SOURCE_COMMIT"))
		return cfg->facts.sha.value;
	return NULL;
}

/* Docker Hub's BUILD_PATH and DOCKERFILE_PATH: the context as "/" or
 * "/sub/dir" below the checkout (the current directory), the Dockerfile
 * relative to the context. */
static void autobuild_validate(struct config *cfg)
{
	struct autobuild_facts facts = { 0 };
	struct buf bp = BUF_INIT(BUF_PATH_MAX), df = BUF_INIT(BUF_PATH_MAX);
	const char *ctx = cfg->context ? cfg->context : ".";

	while (ctx[0] == '.' && ctx[1] == '/')
		ctx += 2;
	if (!strcmp(ctx, ".") || !*ctx)
		buf_addstr(&bp, "/");
	else
		buf_addf(&bp, "%s%s", ctx[0] == '/' ? "" : "/", ctx);
	if (!cfg->dockerfile) {
		buf_addstr(&df, "Dockerfile");
	} else {
		const char *d = cfg->dockerfile;
		size_t n = strlen(ctx);

		if (strcmp(ctx, ".") && *ctx && !strncmp(d, ctx, n) &&
		    d[n] == '/')
			d += n + 1;
		buf_addstr(&df, d);
	}
	facts.repo = cfg->repository;
	facts.tag = cfg->tag;
	facts.dockerfile = df.data;
	facts.build_path = bp.data;
	strlist_clear(&cfg->autobuild);
	hooks_autobuild_vars(&facts, autobuild_lookup, (void *)cfg,
			     &cfg->autobuild);
	buf_release(&bp);
	buf_release(&df);
}

const char *config_lookup(const char *name, void *ctx)
{
	const struct config *cfg = ctx;
	const char *v = hooks_strlist_lookup(name, (void *)&cfg->autobuild);

	return v ? v : getenv(name);
}

int config_from_env(struct config *cfg, struct error *err)
{
	const char *v;

	/* First, so that a report is written even when a later variable is
	 * wrong. */
	set_str(&cfg->report, env("REPORT"));
	set_str(&cfg->buildkit_shared_key, env("BUILDKIT_SHARED_KEY"));
	set_str(&cfg->output, env("OUTPUT"));
	engine_from_env(cfg);
	auth_settings_from_env(&cfg->auth);
	cfg->push = 1;
	cfg->push_retries = 3;
	cfg->log_level = LOG_NORMAL;
	set_str(&cfg->context, ".");
	set_str(&cfg->account, env("ACCOUNT"));
	set_str(&cfg->image, env("IMAGE"));
	set_str(&cfg->registry, env("REGISTRY"));
	if ((v = env("TAG"))) {
		set_str(&cfg->tag, v);
		cfg->tag_source = "TAG";
	} else {
		cfg->tag_source = "default";
		for (int i = 0; ci_build_numbers[i]; i++)
			if ((v = env(ci_build_numbers[i]))) {
				set_str(&cfg->tag, v);
				cfg->tag_source = ci_build_numbers[i];
				break;
			}
		if (!cfg->tag)
			set_str(&cfg->tag, "latest");
	}
	if ((v = env("EXTRA_TAGS")))
		strlist_split(&cfg->extra_tags, v, " ,\n");
	if ((v = env("TAGS"))) {
		set_str(&cfg->tags_rules, v);
		cfg->tags_rules_source = "TAGS";
	}
	if ((v = env("CONTEXT")))
		set_str(&cfg->context, v);
	set_str(&cfg->dockerfile, env("DOCKERFILE"));
	if ((v = env("BUILD_ARGS")))
		strlist_split_pairs(&cfg->build_args, v);
	set_str(&cfg->target, env("TARGET"));
	if ((v = env("LABELS")))
		strlist_split_pairs(&cfg->labels, v);
	if ((v = env("CACHE_FROM")))
		strlist_split(&cfg->cache_from, v, " ,\n");
	if ((v = env("SECRETS")))
		strlist_split(&cfg->secrets, v, "\n");
	if ((v = env("SSH")))
		strlist_split(&cfg->ssh, v, ",\n");
	set_str(&cfg->test_cmd, env("TEST_CMD"));
	if ((v = env("TEST_ENV")))
		strlist_split_pairs(&cfg->test_env, v);
	if ((v = env("TEST_SERVICES")))
		strlist_split(&cfg->services, v, " ,\n");
	if ((v = env("TEST_RESULTS")))
		strlist_split(&cfg->test_results, v, " \n");
	set_str(&cfg->summary, env("SUMMARY"));
	set_str(&cfg->github_step_summary, env("GITHUB_STEP_SUMMARY"));
	set_str(&cfg->github_output, env("GITHUB_OUTPUT"));
	set_str(&cfg->save, env("SAVE"));
	if ((v = env("TEST_TIMEOUT")) &&
	    parse_long("TEST_TIMEOUT", v, 0, 7 * 24 * 3600, &cfg->test_timeout,
		       err) < 0)
		return -1;
	if ((v = env("PUSH")) && parse_bool("PUSH", v, &cfg->push, err) < 0)
		return -1;
	if ((v = env("PUSH_RETRIES")) &&
	    parse_long("PUSH_RETRIES", v, 0, 20, &cfg->push_retries, err) < 0)
		return -1;
	if ((v = env("PULL")) && parse_bool("PULL", v, &cfg->pull, err) < 0)
		return -1;
	if ((v = env("NO_CACHE")) &&
	    parse_bool("NO_CACHE", v, &cfg->no_cache, err) < 0)
		return -1;
	if ((v = env("BUILDER")) && parse_builder(v, &cfg->builder, err) < 0)
		return -1;
	set_str(&cfg->platform, env("PLATFORM"));
	if ((v = env("INSECURE_REGISTRIES")))
		strlist_split(&cfg->insecure_registries, v, " ,\n");
	return autobuild_from_env(cfg, err);
}

enum {
	OPT_ACCOUNT = 256,
	OPT_IMAGE,
	OPT_TAG,
	OPT_REGISTRY,
	OPT_EXTRA_TAG,
	OPT_TAGS,
	OPT_CONTEXT,
	OPT_BUILD_ARG,
	OPT_TARGET,
	OPT_LABEL,
	OPT_TEST_CMD,
	OPT_TEST_ENV,
	OPT_SERVICE,
	OPT_TEST_TIMEOUT,
	OPT_NO_PUSH,
	OPT_PUSH_RETRIES,
	OPT_CACHE_FROM,
	OPT_REPORT,
	OPT_BUILDER,
	OPT_PULL,
	OPT_NO_CACHE,
	OPT_RUN,
	OPT_OLDER_THAN,
	OPT_ALL,
	OPT_SECRET,
	OPT_SSH,
	OPT_OUTPUT,
	OPT_PLATFORM,
	OPT_INSECURE_REGISTRY,
	OPT_TEST_RESULTS,
	OPT_SUMMARY,
	OPT_SAVE,
	OPT_TEST_COMPOSE,
	OPT_NO_HOOKS,
};

static const struct option long_options[] = {
	{ "account", required_argument, NULL, OPT_ACCOUNT },
	{ "image", required_argument, NULL, OPT_IMAGE },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "registry", required_argument, NULL, OPT_REGISTRY },
	{ "extra-tag", required_argument, NULL, OPT_EXTRA_TAG },
	{ "tags", required_argument, NULL, OPT_TAGS },
	{ "context", required_argument, NULL, OPT_CONTEXT },
	{ "file", required_argument, NULL, 'f' },
	{ "build-arg", required_argument, NULL, OPT_BUILD_ARG },
	{ "target", required_argument, NULL, OPT_TARGET },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "test-cmd", required_argument, NULL, OPT_TEST_CMD },
	{ "test-env", required_argument, NULL, OPT_TEST_ENV },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "test-timeout", required_argument, NULL, OPT_TEST_TIMEOUT },
	{ "no-push", no_argument, NULL, OPT_NO_PUSH },
	{ "push-retries", required_argument, NULL, OPT_PUSH_RETRIES },
	{ "cache-from", required_argument, NULL, OPT_CACHE_FROM },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "builder", required_argument, NULL, OPT_BUILDER },
	{ "pull", no_argument, NULL, OPT_PULL },
	{ "no-cache", no_argument, NULL, OPT_NO_CACHE },
	{ "run", required_argument, NULL, OPT_RUN },
	{ "older-than", required_argument, NULL, OPT_OLDER_THAN },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "secret", required_argument, NULL, OPT_SECRET },
	{ "ssh", required_argument, NULL, OPT_SSH },
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "platform", required_argument, NULL, OPT_PLATFORM },
	{ "insecure-registry", required_argument, NULL, OPT_INSECURE_REGISTRY },
	{ "test-results", required_argument, NULL, OPT_TEST_RESULTS },
	{ "summary", required_argument, NULL, OPT_SUMMARY },
	{ "save", required_argument, NULL, OPT_SAVE },
	{ "test-compose", required_argument, NULL, OPT_TEST_COMPOSE },
	{ "no-hooks", no_argument, NULL, OPT_NO_HOOKS },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int config_parse_args(struct config *cfg, int argc, char **argv,
		      struct error *err)
{
	int c, positional = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":f:qvhV", long_options, NULL)) !=
	       -1) {
		switch (c) {
		case OPT_ACCOUNT:
			set_str(&cfg->account, optarg);
			break;
		case OPT_IMAGE:
			set_str(&cfg->image, optarg);
			break;
		case OPT_TAG:
			set_str(&cfg->tag, optarg);
			cfg->tag_source = "--tag";
			break;
		case OPT_REGISTRY:
			set_str(&cfg->registry, optarg);
			break;
		case OPT_EXTRA_TAG:
			strlist_push(&cfg->extra_tags, optarg);
			break;
		case OPT_TAGS:
			set_str(&cfg->tags_rules, optarg);
			cfg->tags_rules_source = "--tags";
			break;
		case OPT_CONTEXT:
			set_str(&cfg->context, optarg);
			break;
		case 'f':
			set_str(&cfg->dockerfile, optarg);
			break;
		case OPT_BUILD_ARG:
			strlist_push(&cfg->build_args, optarg);
			break;
		case OPT_TARGET:
			set_str(&cfg->target, optarg);
			break;
		case OPT_LABEL:
			strlist_push(&cfg->labels, optarg);
			break;
		case OPT_TEST_CMD:
			set_str(&cfg->test_cmd, optarg);
			break;
		case OPT_TEST_ENV:
			strlist_push(&cfg->test_env, optarg);
			break;
		case OPT_SERVICE:
			strlist_push(&cfg->services, optarg);
			break;
		case OPT_TEST_TIMEOUT:
			if (parse_long("--test-timeout", optarg, 0,
				       7 * 24 * 3600, &cfg->test_timeout,
				       err) < 0)
				return -1;
			break;
		case OPT_NO_PUSH:
			cfg->push = 0;
			break;
		case OPT_PUSH_RETRIES:
			if (parse_long("--push-retries", optarg, 0, 20,
				       &cfg->push_retries, err) < 0)
				return -1;
			break;
		case OPT_CACHE_FROM:
			strlist_push(&cfg->cache_from, optarg);
			break;
		case OPT_REPORT:
			set_str(&cfg->report, optarg);
			break;
		case OPT_BUILDER:
			if (parse_builder(optarg, &cfg->builder, err) < 0)
				return -1;
			break;
		case OPT_PULL:
			cfg->pull = 1;
			break;
		case OPT_NO_CACHE:
			cfg->no_cache = 1;
			break;
		case OPT_SECRET:
			strlist_push(&cfg->secrets, optarg);
			break;
		case OPT_SSH:
			strlist_push(&cfg->ssh, optarg);
			break;
		case OPT_OUTPUT:
			set_str(&cfg->output, optarg);
			break;
		case OPT_RUN:
			set_str(&cfg->cleanup_run, optarg);
			break;
		case OPT_OLDER_THAN:
			if (parse_age(optarg, &cfg->cleanup_age, err) < 0)
				return -1;
			cfg->cleanup_age_set = 1;
			break;
		case OPT_ALL:
			cfg->cleanup_all = 1;
			break;
		case OPT_PLATFORM:
			set_str(&cfg->platform, optarg);
			break;
		case OPT_INSECURE_REGISTRY:
			strlist_push(&cfg->insecure_registries, optarg);
			break;
		case OPT_TEST_RESULTS:
			strlist_push(&cfg->test_results, optarg);
			break;
		case OPT_SUMMARY:
			set_str(&cfg->summary, optarg);
			break;
		case OPT_SAVE:
			set_str(&cfg->save, optarg);
			break;
		case OPT_TEST_COMPOSE:
			strlist_push(&cfg->test_compose, optarg);
			break;
		case OPT_NO_HOOKS:
			cfg->no_hooks = 1;
			break;
		case 'q':
			cfg->log_level = LOG_QUIET;
			break;
		case 'v':
			cfg->log_level = LOG_VERBOSE;
			break;
		case 'h':
			cfg->command = CMD_HELP;
			return 0;
		case 'V':
			cfg->command = CMD_VERSION;
			return 0;
		case ':':
			return err_set(err, EXIT_USAGE,
				       "option '%s' needs a value; see "
				       "builder --help",
				       argv[optind - 1]);
		default:
			return err_set(
				err, EXIT_USAGE,
				"unknown option '%s'; see builder --help",
				argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++) {
		const char *arg = argv[i];

		if (i == optind && !positional) {
			if (!strcmp(arg, "check")) {
				cfg->command = CMD_CHECK;
				continue;
			}
			if (!strcmp(arg, "cleanup")) {
				cfg->command = CMD_CLEANUP;
				continue;
			}
			if (!strcmp(arg, "merge")) {
				cfg->command = CMD_MERGE;
				continue;
			}
			if (!strcmp(arg, "promote")) {
				cfg->command = CMD_PROMOTE;
				continue;
			}
			if (!strcmp(arg, "tags")) {
				cfg->command = CMD_TAGS;
				continue;
			}
			if (!strcmp(arg, "run"))
				continue;
			if (!strcmp(arg, "help")) {
				cfg->command = CMD_HELP;
				return 0;
			}
		}
		if (cfg->command == CMD_MERGE || cfg->command == CMD_PROMOTE) {
			strlist_push(&cfg->args, arg);
			continue;
		}
		if (positional++)
			return err_set(
				err, EXIT_USAGE,
				"unexpected argument '%s': builder takes "
				"one context directory; see builder "
				"--help",
				arg);
		set_str(&cfg->context, arg);
	}
	return 0;
}

static const char *const path_rule =
	"lowercase letters and digits, separated by '.', '_', '__' or '-'";

/* Each '/'-separated component of value must be a valid path component. */
static int check_path(const char *name, const char *value, const char *example,
		      struct error *err)
{
	struct strlist parts = STRLIST_INIT;
	int ret = 0;

	if (!value)
		return err_set(err, EXIT_USAGE,
			       "%s is not set: it names the %s (example: "
			       "%s=%s, or the flag --%s)",
			       name,
			       !strcmp(name, "IMAGE")
				       ? "repository"
				       : "account or namespace on the registry",
			       name, example,
			       !strcmp(name, "IMAGE") ? "image" : "account");
	strlist_split(&parts, value, "/");
	if (!parts.n || value[0] == '/' || value[strlen(value) - 1] == '/' ||
	    strstr(value, "//"))
		ret = -1;
	for (size_t i = 0; !ret && i < parts.n; i++)
		if (!ref_valid_path_component(parts.v[i]))
			ret = -1;
	strlist_clear(&parts);
	if (ret)
		return err_set(err, EXIT_USAGE,
			       "%s '%s' is not a valid repository name: use %s "
			       "(example: %s=%s)",
			       name, value, path_rule, name, example);
	return 0;
}

static int check_tag(const char *name, const char *value, struct error *err)
{
	if (ref_valid_tag(value))
		return 0;
	return err_set(err, EXIT_USAGE,
		       "%s '%s' is not a valid tag: use up to 128 letters, "
		       "digits, '_', '.' and '-', not starting with '.' or "
		       "'-' (example: %s=1.4.2)",
		       name, value, name);
}

/* The image's tag; names the variable it came from (TAG, --tag, or the CI's
 * build number). */
static int check_main_tag(const struct config *cfg, struct error *err)
{
	const char *src = cfg->tag_source ? cfg->tag_source : "TAG";

	if (ref_valid_tag(cfg->tag))
		return 0;
	if (!strcmp(src, "TAG") || !strcmp(src, "--tag"))
		return check_tag(src, cfg->tag, err);
	return err_set(err, EXIT_USAGE,
		       "%s '%s', the default TAG, is not a valid tag: use up "
		       "to 128 letters, digits, '_', '.' and '-', not "
		       "starting with '.' or '-'; set TAG (example: "
		       "TAG=1.4.2)",
		       src, cfg->tag);
}

static int check_pairs(const char *name, const struct strlist *l,
		       int need_value, struct error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');

		if (eq == l->v[i] || (need_value && !eq))
			return err_set(err, EXIT_USAGE,
				       "%s entry '%s' is not KEY=VALUE "
				       "(example: %s=KEY=value)",
				       name, l->v[i], name);
	}
	return 0;
}

/* A service's NAME becomes its host name on the test network. */
static int valid_service_name(const char *s, size_t n)
{
	if (!n || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (i && (c == '-' || c == '_' || c == '.'))
			continue;
		return 0;
	}
	return 1;
}

/* A file builder will write (SUMMARY, SAVE): its directory must exist and
 * it must not be a directory itself. */
static int check_out_file(const char *variable, const char *path,
			  struct error *err)
{
	struct buf dir = BUF_INIT(BUF_PATH_MAX);
	const char *slash = strrchr(path, '/');
	struct stat st;
	int ret = -1;

	if (!*path)
		return err_set(err, EXIT_USAGE, "%s is empty: name a file",
			       variable);
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, EXIT_USAGE,
			"%s '%s' is a directory: name a file in it", variable,
			path);
		goto out;
	}
	if (slash)
		buf_add(&dir, path, slash == path ? 1 : (size_t)(slash - path));
	else
		buf_addstr(&dir, ".");
	if (stat(dir.data, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_set(err, EXIT_USAGE,
			"%s '%s': the directory '%s' does not exist; create it "
			"or name another file",
			variable, path, dir.data);
		goto out;
	}
	ret = 0;
out:
	buf_release(&dir);
	return ret;
}

/* TEST_RESULTS, SUMMARY, SAVE. */
static int check_results(const struct config *cfg, struct error *err)
{
	for (size_t i = 0; i < cfg->test_results.n; i++) {
		struct results_spec spec;

		if (results_spec_parse(&spec, cfg->test_results.v[i],
				       "TEST_RESULTS", err) < 0)
			return -1;
		results_spec_release(&spec);
	}
	if (cfg->summary && check_out_file("SUMMARY", cfg->summary, err) < 0)
		return -1;
	if (cfg->save && check_out_file("SAVE", cfg->save, err) < 0)
		return -1;
	return 0;
}

static int check_services(const struct strlist *l, struct error *err)
{
	struct ref r = REF_INIT;

	for (size_t i = 0; i < l->n; i++) {
		const char *eq = strchr(l->v[i], '=');
		size_t n = eq ? (size_t)(eq - l->v[i]) : 0;

		if (!eq || !eq[1])
			return err_set(err, EXIT_USAGE,
				       "TEST_SERVICES entry '%s' is not "
				       "NAME=IMAGE (example: "
				       "TEST_SERVICES=db=postgres:16)",
				       l->v[i]);
		if (!valid_service_name(l->v[i], n))
			return err_set(err, EXIT_USAGE,
				       "TEST_SERVICES name '%.*s' cannot be a "
				       "host name: use letters, digits, '-', "
				       "'_' and '.', starting with a letter or "
				       "digit, at most 63 (example: "
				       "TEST_SERVICES=db=postgres:16)",
				       (int)n, l->v[i]);
		for (size_t j = 0; j < i; j++)
			if (!strncmp(l->v[j], l->v[i], n + 1))
				return err_set(err, EXIT_USAGE,
					       "TEST_SERVICES names '%.*s' "
					       "twice; give each service its "
					       "own name",
					       (int)n, l->v[i]);
		/* The image reference too, before any engine call. */
		if (ref_parse(&r, eq + 1, "TEST_SERVICES", err) < 0)
			return -1;
		ref_release(&r);
	}
	return 0;
}

/* A bare "K" in BUILD_ARGS takes K's value from the environment, as with
 * the docker CLI; unset, it stays bare and is sent as null. */
static int resolve_build_args(struct strlist *l, struct error *err)
{
	for (size_t i = 0; i < l->n; i++) {
		struct buf b = BUF_INIT(BUF_TEXT_MAX);
		const char *v;

		if (strchr(l->v[i], '='))
			continue;
		if (strpbrk(l->v[i], ", \t"))
			return err_set(err, EXIT_USAGE,
				       "BUILD_ARGS entry '%s' is not KEY=VALUE "
				       "nor one variable name; to take several "
				       "arguments from the environment, give "
				       "one name a line, or --build-arg A "
				       "--build-arg B",
				       l->v[i]);
		v = getenv(l->v[i]);
		if (!v)
			continue;
		buf_addf(&b, "%s=%s", l->v[i], v);
		free(l->v[i]);
		l->v[i] = buf_detach(&b);
	}
	return 0;
}

/* OUTPUT/--output: "type=local,dest=DIR", "type=tar,dest=FILE", or a
 * plain DIR (local), as docker build -o takes them. */
static int check_output(struct config *cfg, struct error *err)
{
	struct strlist parts = STRLIST_INIT;
	const char *type = NULL, *dest = NULL;
	int ret = -1;

	if (!strchr(cfg->output, '=')) {
		dest = cfg->output;
		type = "local";
	} else {
		strlist_split(&parts, cfg->output, ",");
		for (size_t i = 0; i < parts.n; i++) {
			const char *p = parts.v[i];

			if (!strncmp(p, "type=", 5))
				type = p + 5;
			else if (!strncmp(p, "dest=", 5))
				dest = p + 5;
			else {
				err_set(err, EXIT_USAGE,
					"OUTPUT/--output '%s': unknown key in "
					"'%s'; give type=local,dest=DIR or "
					"type=tar,dest=FILE",
					cfg->output, p);
				goto out;
			}
		}
	}
	if (!type || (strcmp(type, "local") && strcmp(type, "tar"))) {
		err_set(err, EXIT_USAGE,
			"OUTPUT/--output '%s': builder writes type=local "
			"(a directory) or type=tar (a file)",
			cfg->output);
		goto out;
	}
	if (!dest || !*dest || !strcmp(dest, "-")) {
		err_set(err, EXIT_USAGE,
			"OUTPUT/--output '%s': dest= names the %s to write "
			"(standard output is not supported)",
			cfg->output,
			strcmp(type, "tar") ? "directory" : "file");
		goto out;
	}
	if (cfg->builder == BUILDER_CLASSIC) {
		err_set(err, EXIT_USAGE,
			"OUTPUT/--output needs BuildKit; unset "
			"BUILDER=classic");
		goto out;
	}
	set_str(&cfg->output_dest, dest);
	cfg->output_tar = !strcmp(type, "tar");
	ret = 0;
out:
	strlist_clear(&parts);
	return ret;
}

/* SSH/--ssh: "default" or "ID" (SSH_AUTH_SOCK), or "ID=PATH"; each
 * socket must exist. */
static int check_ssh(struct config *cfg, struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);
	int ret = 0;

	for (size_t i = 0; i < cfg->ssh.n && !ret; i++) {
		const char *spec = cfg->ssh.v[i], *eq = strchr(spec, '=');
		const char *path = eq ? eq + 1 : getenv("SSH_AUTH_SOCK");
		size_t idlen = eq ? (size_t)(eq - spec) : strlen(spec);
		struct stat st;

		if (!idlen || strchr(spec, ',')) {
			ret = err_set(err, EXIT_USAGE,
				      "SSH/--ssh '%s' is not 'default' or "
				      "ID=SOCKET_PATH",
				      spec);
		} else if (!path || !*path) {
			ret = err_set(err, EXIT_USAGE,
				      "SSH/--ssh '%s' means the agent at "
				      "SSH_AUTH_SOCK, which is not set; start "
				      "ssh-agent or give ID=SOCKET_PATH",
				      spec);
		} else if (stat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
			ret = err_set(err, EXIT_USAGE,
				      "SSH/--ssh '%.*s': '%s' is not an ssh "
				      "agent socket",
				      (int)idlen, spec, path);
		} else {
			buf_reset(&b);
			buf_addf(&b, "%.*s=%s", (int)idlen, spec, path);
			strlist_push(&cfg->ssh_sockets, b.data);
		}
	}
	buf_release(&b);
	return ret;
}

/* --- merge and promote (registry/client.h) ------------------------------ */

/* builder merge TARGET SOURCE... and builder promote SOURCE TARGET...:
 * every reference parses, targets name a tag (not a digest), and the
 * environment's credentials go to the first target's registry only. */
static int registry_command_validate(struct config *cfg, struct error *err)
{
	int merge = cfg->command == CMD_MERGE;
	const char *usage = merge ? "builder merge TARGET SOURCE..."
				  : "builder promote SOURCE TARGET...";
	struct ref r = REF_INIT;

	if (cfg->args.n < 2)
		return err_set(err, EXIT_USAGE,
			       "%s needs at least two image references "
			       "(example: %s)",
			       usage,
			       merge ? "builder merge reg.example.com/acme/"
				       "app:1 reg.example.com/acme/app:1-amd64 "
				       "reg.example.com/acme/app:1-arm64"
				     : "builder promote reg.example.com/acme/"
				       "app:1 reg.example.com/acme/app:stable");
	for (size_t i = 0; i < cfg->args.n; i++) {
		int target = merge ? i == 0 : i > 0;

		if (ref_parse(&r, cfg->args.v[i], usage, err) < 0)
			return -1;
		if (target && r.digest) {
			ref_release(&r);
			return err_set(err, EXIT_USAGE,
				       "target '%s' of %s names a digest: "
				       "give a tag to move (example: "
				       "acme/app:stable)",
				       cfg->args.v[i], usage);
		}
		if (i == (merge ? 0u : 1u)) {
			set_str(&cfg->auth_registry, r.domain);
			cfg->auth.registry = cfg->auth_registry;
		}
		ref_release(&r);
	}
	for (size_t i = 0; i < cfg->extra_tags.n; i++)
		if (check_tag("EXTRA_TAGS", cfg->extra_tags.v[i], err) < 0)
			return -1;
	return 0;
}

static int check_registry_settings(const struct config *cfg, struct error *err)
{
	struct platform p = { 0 };

	if (cfg->platform &&
	    platform_parse(&p, cfg->platform, "PLATFORM", err) < 0)
		return -1;
	platform_release(&p);
	for (size_t i = 0; i < cfg->insecure_registries.n; i++)
		if (!ref_valid_domain(cfg->insecure_registries.v[i]))
			return err_set(err, EXIT_USAGE,
				       "INSECURE_REGISTRIES entry '%s' is not "
				       "a registry host: use HOST or HOST:PORT "
				       "(example: INSECURE_REGISTRIES="
				       "registry.internal:5000)",
				       cfg->insecure_registries.v[i]);
	return 0;
}

/* --- end of merge and promote ------------------------------------------- */
/* --- tags and labels from the CI's facts (meta/) ------------------------ */

/* The one place meta/ reads the environment through. */
static const char *env_lookup(const char *name, void *ctx)
{
	(void)ctx;
	return env(name);
}

static void tagset_add(struct meta_tagset *ts, const char *tag,
		       const char *from)
{
	if (strlist_has(&ts->tags, tag))
		return;
	strlist_push(&ts->tags, tag);
	strlist_push(&ts->from, from);
}

/*
 * The facts (CI variables, then the context's .git), the TAGS rules and
 * the OCI labels. With TAGS, the first tag made becomes the image's tag
 * (unless TAG or --tag names it: then every tag made is an extra one) and
 * the rest, then EXTRA_TAGS, extra tags; a TAGS that makes no tag at all
 * keeps TAG or the build number. cfg->tagset ends up holding every tag
 * pushed, main tag first, each with its origin. The labels go after the
 * user's LABELS, which win. build.c passes a known creation time
 * (facts.created) to BuildKit as the build arg SOURCE_DATE_EPOCH.
 */
static int meta_resolve(struct config *cfg, struct error *err)
{
	struct meta_tagset made = META_TAGSET_INIT;
	struct strlist extra = STRLIST_INIT;
	struct buf b = BUF_INIT(BUF_PATH_MAX);
	const char *src = cfg->tag_source ? cfg->tag_source : "default";
	int explicit_tag = !strcmp(src, "TAG") || !strcmp(src, "--tag");
	size_t first = 0;
	int ret = -1;

	if (meta_facts_from_env(env_lookup, NULL, cfg->context, &cfg->facts,
				err) < 0)
		goto out;
	/* `builder tags` prints it with the rest */
	if (cfg->facts.warning && cfg->command != CMD_TAGS)
		log_warn("%s", cfg->facts.warning);
	if (cfg->tags_rules &&
	    meta_tags(cfg->tags_rules, &cfg->facts, &made, err) < 0)
		goto out;

	if (made.tags.n && !explicit_tag) {
		set_str(&cfg->tag, made.tags.v[0]);
		cfg->tag_source = cfg->tags_rules_source;
		tagset_add(&cfg->tagset, cfg->tag, made.from.v[0]);
		first = 1;
	} else if (!strcmp(src, "default")) {
		tagset_add(&cfg->tagset, cfg->tag,
			   cfg->tags_rules
				   ? "default: no TAG, no build "
				     "number, no tag from TAGS"
				   : "default: no TAG, no build number");
	} else {
		buf_addf(&b, "%s%s", src,
			 explicit_tag || !cfg->tags_rules
				 ? ""
				 : " (no tag from TAGS)");
		tagset_add(&cfg->tagset, cfg->tag, buf_str(&b));
	}
	for (size_t i = first; i < made.tags.n; i++)
		tagset_add(&cfg->tagset, made.tags.v[i], made.from.v[i]);
	for (size_t i = 0; i < cfg->extra_tags.n; i++)
		tagset_add(&cfg->tagset, cfg->extra_tags.v[i], "EXTRA_TAGS");
	for (size_t i = 0; i < made.skipped.n; i++)
		strlist_push(&cfg->tagset.skipped, made.skipped.v[i]);
	for (size_t i = 1; i < cfg->tagset.tags.n; i++)
		strlist_push(&extra, cfg->tagset.tags.v[i]);
	strlist_clear(&cfg->extra_tags);
	cfg->extra_tags = extra;
	extra = (struct strlist)STRLIST_INIT;

	meta_labels(&cfg->facts, &cfg->labels, &cfg->meta_labels,
		    &cfg->meta_label_from);
	for (size_t i = 0; i < cfg->meta_labels.n; i++)
		strlist_push(&cfg->labels, cfg->meta_labels.v[i]);
	ret = 0;
out:
	meta_tagset_release(&made);
	strlist_clear(&extra);
	buf_release(&b);
	return ret;
}

/* --- end of tags and labels --------------------------------------------- */

int config_validate(struct config *cfg, struct error *err)
{
	struct buf b = BUF_INIT(BUF_TEXT_MAX);

	if (cfg->command == CMD_HELP || cfg->command == CMD_VERSION)
		return 0;
	if (cfg->idle_timeout &&
	    parse_long("BUILDER_IDLE_TIMEOUT", cfg->idle_timeout, 0, 86400,
		       &cfg->engine.idle_timeout, err) < 0)
		return -1;
	if (cfg->command == CMD_CLEANUP)
		return 0;
	if (check_registry_settings(cfg, err) < 0)
		return -1;
	if (cfg->command == CMD_MERGE || cfg->command == CMD_PROMOTE)
		return registry_command_validate(cfg, err);
	if (cfg->registry && !ref_valid_domain(cfg->registry))
		return err_set(err, EXIT_USAGE,
			       "REGISTRY '%s' is not a registry host: use "
			       "HOST or HOST:PORT without a scheme or path "
			       "(example: REGISTRY=registry.example.com:5000)",
			       cfg->registry);
	if (cfg->command == CMD_CHECK)
		return auth_settings_validate(cfg, err);
	/* `builder tags` names no image: it only shows the tags. */
	if (cfg->command != CMD_TAGS &&
	    (check_path("ACCOUNT", cfg->account, "acme", err) < 0 ||
	     check_path("IMAGE", cfg->image, "calc", err) < 0))
		return -1;
	if (check_main_tag(cfg, err) < 0)
		return -1;
	for (size_t i = 0; i < cfg->extra_tags.n; i++)
		if (check_tag("EXTRA_TAGS", cfg->extra_tags.v[i], err) < 0)
			return -1;
	/* Secrets are read now: a missing file or variable stops the run
	 * before any engine call. */
	if (cfg->secrets.n && !cfg->secret_values) {
		cfg->secret_values = xcalloc(1, sizeof(*cfg->secret_values));
		for (size_t i = 0; i < cfg->secrets.n; i++)
			if (secrets_add(cfg->secret_values, cfg->secrets.v[i],
					env_raw, err) < 0)
				return err_wrap(err, "SECRETS/--secret");
	}
	if (!cfg->ssh_sockets.n && check_ssh(cfg, err) < 0)
		return -1;
	if (cfg->output && !cfg->output_dest && check_output(cfg, err) < 0)
		return -1;
	if (check_pairs("BUILD_ARGS", &cfg->build_args, 0, err) < 0 ||
	    check_pairs("LABELS", &cfg->labels, 1, err) < 0 ||
	    check_pairs("TEST_ENV", &cfg->test_env, 1, err) < 0 ||
	    check_services(&cfg->services, err) < 0 ||
	    resolve_build_args(&cfg->build_args, err) < 0 ||
	    meta_resolve(cfg, err) < 0)
		return -1;
	if (cfg->command == CMD_TAGS)
		return 0;
	if (cfg->report && report_check_path(cfg->report, err) < 0)
		return -1;
	if (check_results(cfg, err) < 0)
		return -1;

	buf_addf(&b, "%s/%s", cfg->account, cfg->image);
	if (b.len > 255) {
		buf_release(&b);
		return err_set(err, EXIT_USAGE,
			       "ACCOUNT/IMAGE '%s/%s' is longer than 255 "
			       "characters, the registry limit; shorten IMAGE",
			       cfg->account, cfg->image);
	}
	buf_reset(&b);
	if (cfg->registry)
		buf_addf(&b, "%s/", cfg->registry);
	buf_addf(&b, "%s/%s", cfg->account, cfg->image);
	free(cfg->repository);
	cfg->repository = xstrdup(b.data);
	buf_addf(&b, ":%s", cfg->tag);
	free(cfg->image_ref);
	cfg->image_ref = buf_detach(&b);
	autobuild_validate(cfg);
	return auth_settings_validate(cfg, err);
}

void config_usage(void)
{
	fputs("usage: builder [options] [run] [CONTEXT]   build, test, tag and "
	      "push\n"
	      "       builder check                       report the engine "
	      "and credentials\n"
	      "       builder cleanup [--run ID | --older-than AGE | --all]\n"
	      "                                           remove leftovers of "
	      "killed runs:\n"
	      "                                           of run ID, else "
	      "those "
	      "older than\n"
	      "                                           AGE (default 1h; "
	      "30m, "
	      "2d...), or all\n"
	      "                                           (--all may hit live "
	      "runs)\n"
	      "       builder merge TARGET SOURCE...      push one image index "
	      "of the sources'\n"
	      "                                           platforms as TARGET "
	      "(and EXTRA_TAGS)\n"
	      "       builder promote SOURCE TARGET...    copy an image or "
	      "index "
	      "with its blobs\n"
	      "                                           registry to "
	      "registry, "
	      "no engine\n"
	      "       builder tags [options] [CONTEXT]    print the tags and "
	      "labels a run would use,\n"
	      "                                           and where each came "
	      "from (no engine)\n"
	      "\n"
	      "builder builds the image [REGISTRY/]ACCOUNT/IMAGE:TAG from "
	      "CONTEXT on the\n"
	      "Docker engine, runs TEST_CMD in it, tags it and pushes every "
	      "tag.\n"
	      "\n"
	      "Variables (flags override them):\n"
	      "  ACCOUNT          --account NAME      namespace on the "
	      "registry (required)\n"
	      "  IMAGE            --image NAME        repository name "
	      "(required)\n"
	      "  TAG              --tag TAG           default: "
	      "CIRCLE_BUILD_NUM, bamboo_buildNumber,\n"
	      "                                       GITHUB_RUN_NUMBER or "
	      "CI_PIPELINE_IID, else latest\n"
	      "  REGISTRY         --registry HOST     registry host[:port] "
	      "(default: Docker Hub)\n"
	      "  EXTRA_TAGS       --extra-tag TAG     more tags, space or "
	      "comma separated\n"
	      "  TAGS             --tags RULES        tags from the CI's "
	      "facts: "
	      "semver, branch, tag,\n"
	      "                                       sha, pr, "
	      "default-branch:latest, latest=false,\n"
	      "                                       raw:VALUE, "
	      "{{templates}}, "
	      "regex:PATTERN:TEMPLATE;\n"
	      "                                       the first tag made is "
	      "TAG (unless TAG is set),\n"
	      "                                       the rest are extra tags "
	      "(see builder tags)\n"
	      "  BRANCH, GIT_TAG, COMMIT_SHA, PR_NUMBER, DEFAULT_BRANCH, "
	      "BUILD_NUMBER\n"
	      "                                       facts for TAGS and the "
	      "OCI labels; they win over\n"
	      "                                       the CI's variables and "
	      "the context's .git\n"
	      "  SOURCE_DATE_EPOCH                    the image's created "
	      "time (default: the commit's);\n"
	      "                                       also passed as a build "
	      "arg\n",
	      stdout);
	/* Two strings: C17 promises only 4095 characters in one. */
	fputs("  CONTEXT          --context DIR       build context (default: "
	      ".)\n"
	      "  DOCKERFILE       -f, --file FILE     default: "
	      "CONTEXT/Dockerfile\n"
	      "  BUILD_ARGS       --build-arg K=V     newline or comma "
	      "separated; with a newline,\n"
	      "                                       lines are taken "
	      "verbatim; else a comma splits\n"
	      "                                       only before KEY= (and "
	      "\\, is a comma), as for\n"
	      "                                       LABELS and TEST_ENV\n"
	      "  TARGET           --target STAGE      build stage\n"
	      "  LABELS           --label K=V         image labels, newline or "
	      "comma separated\n"
	      "  CACHE_FROM       --cache-from IMAGE  images pulled and used "
	      "as build cache\n"
	      "  SECRETS          --secret SPEC       BuildKit build secrets, "
	      "one a line:\n"
	      "                                       id=ID,src=PATH | "
	      "id=ID,env=VAR | id=ID\n"
	      "  SSH              --ssh default|ID=PATH  ssh-agent sockets for "
	      "RUN --mount=type=ssh\n"
	      "  BUILDKIT_SHARED_KEY                 the session's shared key "
	      "(default: from the\n"
	      "                                       repository and the "
	      "context's path)\n"
	      "  OUTPUT           --output type=local,dest=DIR | "
	      "type=tar,dest=FILE\n"
	      "                                       write the build's files; "
	      "no image is tagged or pushed\n"
	      "  PULL             --pull              always pull base images "
	      "(default: false)\n"
	      "  NO_CACHE         --no-cache          build without the layer "
	      "cache\n"
	      "  BUILDER          --builder KIND      auto, buildkit or "
	      "classic (default: auto)\n"
	      "  TEST_CMD         --test-cmd CMD      run as sh -c CMD in the "
	      "image; unset: no tests\n"
	      "  TEST_ENV         --test-env K=V      environment for the "
	      "tests\n"
	      "  TEST_SERVICES    --service NAME=IMG  sidecars reachable as "
	      "NAME, space separated\n"
	      "  TEST_TIMEOUT     --test-timeout SEC  default: none\n"
	      "  TEST_COMPOSE     --test-compose FILE compose test files with "
	      "a sut service\n"
	      "                                       (default: "
	      "*.test.yml next to the Dockerfile)\n"
	      "  HOOKS            --no-hooks          run Docker Hub's hooks/ "
	      "(default: true)\n",
	      stdout);
	fputs("  PUSH             --no-push           true or false (default: "
	      "true)\n"
	      "  PUSH_RETRIES     --push-retries N    retries of transient "
	      "push failures (default: 3)\n"
	      "  REPORT           --report FILE       write a JSON summary of "
	      "the run\n"
	      "  TEST_RESULTS     --test-results PATH[:DIR]  copy PATH out of "
	      "the test container\n"
	      "                                       into DIR (default: "
	      "test-results), passed or failed\n"
	      "  SUMMARY          --summary FILE      write a Markdown summary "
	      "(also GITHUB_STEP_SUMMARY)\n"
	      "  SAVE             --save FILE         write the image as a "
	      "docker load-able tarball\n"
	      "  PLATFORM         --platform OS/ARCH  build for that platform "
	      "(example: linux/arm64)\n"
	      "  INSECURE_REGISTRIES --insecure-registry HOST  registries "
	      "reached over plain HTTP\n"
	      "                                       (loopback ones always "
	      "are)\n"
	      "  REGISTRY_USER, REGISTRY_PASSWORD or REGISTRY_PASSWORD_FILE, "
	      "DOCKER_USER/DOCKER_PASS,\n"
	      "  DOCKERHUB_USER or DOCKERHUB_USERNAME with DOCKERHUB_PASS, "
	      "else DOCKER_CONFIG/config.json\n"
	      "                                       push credentials, first "
	      "found wins\n"
	      "  BUILDER_IDLE_TIMEOUT               seconds without a byte "
	      "from "
	      "the engine\n"
	      "                                       (default: none; 120 for "
	      "short requests)\n"
	      "  DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, "
	      "DOCKER_API_VERSION, DOCKER_CONFIG\n"
	      "                                       as the docker CLI reads "
	      "them\n"
	      "\n"
	      "Options:\n"
	      "  -q, --quiet      no progress lines of builder's own; build "
	      "and\n"
	      "                   test output, errors and the reference "
	      "remain\n"
	      "  -v, --verbose    also trace every engine request (never "
	      "credentials)\n"
	      "  -h, --help       this text\n"
	      "  -V, --version    the version\n"
	      "\n"
	      "Exit codes:\n"
	      "  0 success, 1 build failed, 2 usage or configuration error,\n"
	      "  3 engine unreachable or engine error, 4 tests failed, 5 tag "
	      "or push failed\n"
	      "  (also: stdout could not be written, the result is lost),\n"
	      "  129, 130, 131, 143 interrupted by SIGHUP, SIGINT, SIGQUIT, "
	      "SIGTERM,\n"
	      "  after a cleanup of at most 10 s (a second signal exits at "
	      "once)\n",
	      stdout);
}

void config_release(struct config *cfg)
{
	free(cfg->account);
	free(cfg->image);
	free(cfg->tag);
	free(cfg->registry);
	strlist_clear(&cfg->extra_tags);
	free(cfg->context);
	free(cfg->dockerfile);
	strlist_clear(&cfg->build_args);
	free(cfg->target);
	strlist_clear(&cfg->labels);
	strlist_clear(&cfg->cache_from);
	strlist_clear(&cfg->secrets);
	strlist_clear(&cfg->ssh);
	strlist_clear(&cfg->ssh_sockets);
	if (cfg->secret_values)
		secrets_clear(cfg->secret_values);
	free(cfg->secret_values);
	free(cfg->test_cmd);
	strlist_clear(&cfg->test_env);
	strlist_clear(&cfg->services);
	free(cfg->report);
	strlist_clear(&cfg->test_results);
	free(cfg->summary);
	free(cfg->github_step_summary);
	free(cfg->github_output);
	free(cfg->save);
	free(cfg->buildkit_shared_key);
	free(cfg->output);
	free(cfg->output_dest);
	free(cfg->cleanup_run);
	free(cfg->engine.host);
	free(cfg->engine.tls_verify);
	free(cfg->engine.tls);
	free(cfg->engine.cert_path);
	free(cfg->engine.docker_config);
	free(cfg->engine.home);
	free(cfg->engine.tls_certdir);
	free(cfg->engine.api_version);
	free(cfg->idle_timeout);
	free(cfg->tags_rules);
	meta_facts_release(&cfg->facts);
	meta_tagset_release(&cfg->tagset);
	strlist_clear(&cfg->meta_labels);
	strlist_clear(&cfg->meta_label_from);
	free(cfg->repository);
	free(cfg->image_ref);
	free(cfg->auth_registry);
	free(cfg->platform);
	strlist_clear(&cfg->insecure_registries);
	strlist_clear(&cfg->test_compose);
	strlist_clear(&cfg->autobuild);
	strlist_clear(&cfg->hook_env);
	strlist_clear(&cfg->args);
}
