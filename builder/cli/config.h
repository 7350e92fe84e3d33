#ifndef BUILDER_CONFIG_H
#define BUILDER_CONFIG_H

/*
 * The whole configuration of a run in one struct: filled from the
 * environment by config_from_env(), overridden by command-line flags in
 * config_parse_args(), and checked by config_validate() before any engine
 * call. Every error names the variable or flag, the value, the rule and an
 * example, with code EXIT_USAGE.
 */

#include "engine/engine.h"
#include "meta/facts.h"
#include "meta/tagrules.h"
#include "registry/auth.h"
#include "util/error.h"
#include "util/strlist.h"

enum builder_kind { BUILDER_AUTO, BUILDER_BUILDKIT, BUILDER_CLASSIC };

enum command {
	CMD_RUN, /* the whole pipeline (default) */
	CMD_CHECK, /* report the engine and credential source */
	CMD_CLEANUP, /* remove leftovers of killed runs */
	CMD_TAGS, /* print the tags and labels a run would use */
	CMD_HELP,
	CMD_VERSION,
	CMD_MERGE, /* builder merge TARGET SOURCE... */
	CMD_PROMOTE, /* builder promote SOURCE TARGET... */
};

struct config {
	enum command command;

	char *account;
	char *image;
	char *tag;
	const char *tag_source; /* "TAG", "--tag", "CIRCLE_BUILD_NUM", ...,
				   "default" */
	char *registry; /* host[:port], NULL for Docker Hub */
	struct strlist extra_tags;

	char *context; /* default "." */
	char *dockerfile; /* NULL: <context>/Dockerfile */
	struct strlist build_args; /* "K=V", or "K" for K unset in the
				      environment (sent as null) */
	char *target;
	struct strlist labels; /* "K=V" */
	struct strlist cache_from;
	int pull; /* always pull base images */
	int no_cache;
	enum builder_kind builder;
	/* Build secrets for the BuildKit session: SECRETS (one spec a line)
	 * and --secret SPEC ("id=ID,src=PATH", "id=ID,env=VAR", "id=ID");
	 * read by config_validate() into secret_values. */
	struct strlist secrets;
	struct secrets *secret_values;
	/* ssh-agent sockets for RUN --mount=type=ssh: SSH (newline or comma
	 * separated) and --ssh: "default" (SSH_AUTH_SOCK) or ID=PATH.
	 * config_validate() turns each into "ID=PATH" in ssh_sockets and
	 * checks the socket is there. */
	struct strlist ssh;
	struct strlist ssh_sockets;
	/* BUILDKIT_SHARED_KEY: the key under which the engine keeps an
	 * earlier context; NULL: derived from the repository and context. */
	char *buildkit_shared_key;
	/* OUTPUT/--output: the spec; config_validate() fills output_dest
	 * (a directory, or with output_tar a tar file). BuildKit only: the
	 * build's files are written there, no image is made. */
	char *output;
	char *output_dest;
	int output_tar;

	char *test_cmd; /* NULL: the test stage is skipped */
	struct strlist test_env; /* "K=V" */
	struct strlist services; /* "NAME=IMAGE" */
	long test_timeout; /* seconds, 0: none */
	/* TEST_RESULTS (space or newline separated) and --test-results:
	 * "PATH[:LOCAL_DIR]", checked by config_validate(). */
	struct strlist test_results;
	char *summary; /* SUMMARY / --summary: Markdown summary file */
	char *github_step_summary; /* GITHUB_STEP_SUMMARY, appended to */
	char *github_output; /* GITHUB_OUTPUT, appended to */
	char *save; /* SAVE / --save: docker load-able tarball */

	int push; /* 0 with PUSH=false or --no-push */
	long push_retries; /* default 3 */
	char *report; /* path of the JSON summary, or NULL */
	char *cleanup_run; /* `builder cleanup --run ID` */
	long cleanup_age; /* --older-than, seconds, when cleanup_age_set */
	int cleanup_age_set;
	int cleanup_all; /* --all */
	int log_level; /* enum log_level: --quiet, --verbose */

	/* The engine's settings: DOCKER_HOST, DOCKER_TLS_VERIFY, ...,
	 * BUILDER_IDLE_TIMEOUT (checked by config_validate()). */
	struct engine_settings engine;
	char *idle_timeout; /* BUILDER_IDLE_TIMEOUT as given */

	/* TAGS / --tags and what the CI knows (meta/), resolved by
	 * config_validate(): see tags_resolve() in config.c. */
	char *tags_rules; /* NULL: TAG, then the build number */
	const char *tags_rules_source; /* "TAGS" or "--tags" */
	struct meta_facts facts;
	/* Every tag a run pushes (tag first, then extra_tags) with where
	 * each came from, and the TAGS rules that gave nothing. */
	struct meta_tagset tagset;
	/* The OCI labels made from the facts (already appended to labels,
	 * after the user's, which win) and the origin of each. */
	struct strlist meta_labels;
	struct strlist meta_label_from;
	/* Credentials: REGISTRY_USER, REGISTRY_PASSWORD(_FILE), DOCKER_USER,
	 * DOCKER_PASS, DOCKERHUB_*, DOCKER_AUTH_CONFIG, DOCKER_CONFIG, HOME,
	 * borrowed from the environment (see auth.h); auth.registry, the
	 * domain of the image pushed, is derived by config_validate() into
	 * auth_registry (owned). Passed to auth_resolve(). */
	struct auth_settings auth;
	char *auth_registry;

	/* The registry client (registry/client.h): PLATFORM (os/arch[/variant],
	 * checked by config_validate()), INSECURE_REGISTRIES (host[:port]
	 * reached over plain HTTP), and the references given to merge and
	 * promote, in order. */
	char *platform;
	struct strlist insecure_registries;
	struct strlist args;

	/* Compose autotest and Docker Hub hooks (issue 15). TEST_COMPOSE /
	 * --test-compose FILE (repeatable; space, comma or newline separated)
	 * names the compose test files; empty: those next to the Dockerfile.
	 * HOOKS=false / --no-hooks sets no_hooks. config_validate() fills
	 * autobuild ("NAME=value": SOURCE_BRANCH, ..., IMAGE_NAME, BUILD_PATH,
	 * see compose/hooks.h) and hook_env (a copy of builder's environment,
	 * "NAME=value", the base of every hook's environment). */
	struct strlist test_compose;
	int no_hooks;
	struct strlist autobuild;
	struct strlist hook_env;

	/* Derived by config_validate() */
	char *repository; /* "[REGISTRY/]ACCOUNT/IMAGE" */
	char *image_ref; /* repository ":" tag */
};

#define CONFIG_INIT \
	{           \
		0   \
	}

/* Reads every variable of the table in --help. */
int config_from_env(struct config *cfg, struct error *err);

/* Applies flags; may set cfg->command. */
int config_parse_args(struct config *cfg, int argc, char **argv,
		      struct error *err);

/* Checks names, tags, numbers; derives repository and image_ref. */
int config_validate(struct config *cfg, struct error *err);

/* Prints the --help text to stdout. */
void config_usage(void);

void config_release(struct config *cfg);

/* A compose_lookup_fn over cfg (ctx, a const struct config *): the
 * autobuild variables first, then builder's environment. Borrowed. */
const char *config_lookup(const char *name, void *ctx);

#endif
