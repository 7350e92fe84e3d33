#ifndef BUILDER_COMPOSE_H
#define BUILDER_COMPOSE_H

/*
 * A compose test file (docker-compose.test.yml), read into the subset of
 * the compose model that Docker Hub autotest files use.
 *
 *	struct compose_file *cf = NULL;
 *	struct compose_options opt = COMPOSE_OPTIONS_INIT;
 *	opt.lookup = config_lookup;   // from config.c, the env reader
 *	opt.lookup_ctx = cfg;
 *	opt.context_dir = "/abs/path/of/the/build/context";
 *	if (compose_load(&cf, path, &opt, err) < 0)
 *		return -1;	// EXIT_USAGE, names key and line
 *	size_t *order = NULL, n = 0;
 *	if (compose_sut_order(cf, &order, &n, err) < 0)
 *		...
 *	for (i = 0; i < n; i++)
 *		start(&cf->services[order[i]]);
 *	free(order);
 *	compose_free(cf);
 *
 * The file: either the compose format with a top-level `services:` (and
 * `version:`, accepted and ignored, `volumes:` declaring named volumes,
 * `networks:` warned about and ignored, `x-*` extension fields ignored), or
 * the old version 1 format Docker Hub documented, where the services are
 * the top-level keys (no `version`, no `services`).
 *
 * Service keys read: image, build (a context string, or context, dockerfile,
 * args, target), command and entrypoint (a string split like a shell would
 * but without expansion, or a list), environment (list or map), env_file
 * (string or list; files relative to the compose file's directory),
 * depends_on (list, or map of service: {condition: service_started |
 * service_healthy | service_completed_successfully}), links (dependencies
 * with started condition; "svc:alias" adds a network alias), healthcheck,
 * working_dir, user, tmpfs, extra_hosts (list or map), labels (list or
 * map), volumes (short "src:dst[:ro|rw]" or long {type, source, target,
 * read_only} syntax: named volumes declared at the top level, anonymous
 * volumes, and bind mounts of paths inside the build context), and `x-*`.
 * Warned about and ignored: networks, container_name, restart, ports.
 * Anything else is an error naming the key and its line.
 *
 * Every scalar value (not keys) is interpolated (interp.h) with
 * opt.lookup before it is read; unset variables are warned about once.
 */

#include <stddef.h>

#include "compose/interp.h"
#include "util/error.h"
#include "util/strlist.h"

enum compose_condition {
	COMPOSE_STARTED, /* service_started */
	COMPOSE_HEALTHY, /* service_healthy */
	COMPOSE_COMPLETED, /* service_completed_successfully */
};

struct compose_dep {
	char *service;
	char *alias; /* links: "svc:alias"; NULL otherwise */
	enum compose_condition condition;
	unsigned line;
};

enum compose_mount_kind {
	COMPOSE_MOUNT_VOLUME, /* a named volume declared at the top level */
	COMPOSE_MOUNT_ANON, /* an anonymous volume: only a target */
	COMPOSE_MOUNT_BIND, /* a path inside the build context */
};

struct compose_mount {
	enum compose_mount_kind kind;
	char *source; /* volume name; for binds the absolute host path */
	char *context_path; /* binds: the path relative to the context ("." for
			       the context itself); NULL otherwise */
	char *target; /* absolute path in the container */
	int read_only;
	unsigned line;
};

struct compose_healthcheck {
	int present; /* a healthcheck key was given */
	int disable; /* disable: true, or test: ["NONE"] */
	struct strlist test; /* ["CMD", ...] or ["CMD-SHELL", "..."]; empty:
				the image's */
	long long interval_ns, timeout_ns, start_period_ns; /* 0: default */
	int retries; /* 0: default */
};

struct compose_service {
	char *name;
	unsigned line;
	char *image; /* NULL when absent */

	int has_build;
	char *build_context; /* absolute, normalized */
	char *build_dockerfile; /* as written (relative to the context), or
				   NULL for "Dockerfile" */
	struct strlist build_args; /* "KEY=VALUE" */
	char *build_target;

	int has_command, has_entrypoint;
	struct strlist command, entrypoint;
	/* "KEY=VALUE": env_file entries first, then environment, later
	 * ones replacing earlier ones with the same key; a bare KEY is
	 * looked up and dropped when unset, as compose does. */
	struct strlist environment;
	struct compose_dep *deps;
	size_t ndeps;
	struct compose_healthcheck healthcheck;
	char *working_dir, *user;
	struct strlist tmpfs; /* "/path" or "/path:options" */
	struct strlist extra_hosts; /* "host:ip" */
	struct strlist labels; /* "key=value" */
	struct compose_mount *mounts;
	size_t nmounts;
};

struct compose_file {
	char *path; /* as given */
	char *dir; /* its directory, absolute: the project directory */
	struct compose_service *services; /* in file order */
	size_t nservices;
	struct strlist volumes; /* top-level named volumes */
	struct strlist warnings; /* one line each, already logged */
};

struct compose_options {
	compose_lookup_fn lookup; /* required */
	void *lookup_ctx;
	/* The build context, absolute: bind mounts must stay inside it. */
	const char *context_dir;
	/* 0: log warnings with log_warn (they are kept in ->warnings in
	 * any case). */
	int quiet;
};

#define COMPOSE_OPTIONS_INIT        \
	{                           \
		NULL, NULL, NULL, 0 \
	}

/* Reads and checks the file at path. Errors are EXIT_USAGE and name the
 * file, the key ("services.db.healthcheck.interval") and the line. */
int compose_load(struct compose_file **out, const char *path,
		 const struct compose_options *opt, struct error *err);

/* The same from text in memory; path names it in messages and gives the
 * project directory. */
int compose_parse(struct compose_file **out, const char *path, const char *text,
		  size_t len, const struct compose_options *opt,
		  struct error *err);

void compose_free(struct compose_file *cf);

/* The service called name, or NULL. */
const struct compose_service *compose_service(const struct compose_file *cf,
					      const char *name);

/*
 * The services to start for the test: "sut" and, transitively, what it
 * depends on, as indexes into cf->services in a start order (every
 * service after its dependencies, "sut" last; otherwise file order).
 * *order is owned by the caller (free()). No "sut", an unknown dependency
 * or a dependency cycle is an error (EXIT_USAGE).
 */
int compose_sut_order(const struct compose_file *cf, size_t **order, size_t *n,
		      struct error *err);

/*
 * 1 when the service builds exactly the image builder builds (the same
 * context directory and Dockerfile, no target or the same target, and no
 * build args of its own), so that it can use the image just built.
 * context_dir is absolute; dockerfile is relative to it (NULL:
 * "Dockerfile").
 */
int compose_builds_same_image(const struct compose_service *svc,
			      const char *context_dir, const char *dockerfile,
			      const char *target);

/*
 * The test files in dir: "docker-compose.test.yml" first when it exists,
 * then every other regular file whose name ends in ".test.yml", sorted by
 * name (byte order). Paths are "dir/name". None is not an error.
 */
int compose_find_tests(const char *dir, struct strlist *out, struct error *err);

/* Splits a command string the way compose does (POSIX shell words: quotes
 * and backslashes, no expansion). EXIT_USAGE on an unclosed quote. */
int compose_split_words(const char *s, struct strlist *out, struct error *err);

/* Parses a compose duration ("1m30s", "500ms", "2h", "10") into
 * nanoseconds; -1 on a malformed one. */
int compose_duration(const char *s, long long *ns);

#endif
