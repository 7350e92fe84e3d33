#ifndef BUILDER_FACTS_H
#define BUILDER_FACTS_H

/*
 * What the CI knows about the commit being built: the facts tags and
 * labels are made of (tagrules.h, labels.h).
 *
 * Pure: the environment is read through a lookup function that the caller
 * (cli/config.c, the only reader of the environment) provides, so tests
 * and `builder tags` feed any set of variables they like.
 *
 *	struct meta_facts f = META_FACTS_INIT;
 *	if (meta_facts_from_env(config_lookup, NULL, cfg->context, &f,
 *				err) < 0)
 *		return -1;
 *	...
 *	meta_facts_release(&f);
 *
 * Each fact is filled from, in order: the explicit variables (BRANCH,
 * GIT_TAG, COMMIT_SHA, PR_NUMBER, DEFAULT_BRANCH), the CI's own variables
 * (GitHub Actions, GitLab CI, CircleCI, Bamboo, Docker Hub autobuild; for
 * GitHub also the event file), then the context's .git read directly
 * (gitdir.h). Every fact remembers where it came from ("GITHUB_REF_NAME",
 * "event file pull_request.head.sha", ".git/HEAD"), for `builder tags`.
 */

#include "util/error.h"

/*
 * Returns the value of the environment variable name, or NULL when it is
 * unset; an empty value counts as unset. The returned string is borrowed
 * and must stay valid until meta_facts_from_env() returns.
 */
typedef const char *(*meta_lookup_fn)(const char *name, void *ctx);

/* One fact: both NULL when unknown; both owned. */
struct meta_fact {
	char *value;
	char *from; /* "GITHUB_REF_NAME", ".git/packed-refs", ... */
};

enum meta_event {
	META_EVENT_NONE = 0, /* nothing known: no branch, no tag */
	META_EVENT_BRANCH, /* a push to a branch */
	META_EVENT_TAG, /* a push of a git tag */
	META_EVENT_PR, /* a pull (merge) request */
	META_EVENT_DETACHED, /* a commit outside any branch or tag */
};

struct meta_facts {
	const char *ci; /* "github", "gitlab", "circleci", "bamboo",
			   "autobuild" or NULL; static */
	enum meta_event event;
	struct meta_fact branch; /* raw name; on a pull request the head */
	struct meta_fact tag; /* git tag name, raw ("v1.2.3") */
	struct meta_fact sha; /* full commit; on a PR the head commit */
	struct meta_fact pr; /* pull/merge request number */
	struct meta_fact default_branch;
	struct meta_fact build; /* CI build number */
	struct meta_fact source; /* repository URL, https */
	struct meta_fact title; /* repository name */
	struct meta_fact licenses; /* SPDX expression */
	struct meta_fact created; /* seconds since the epoch, decimal:
				     SOURCE_DATE_EPOCH or the commit time */
	char *warning; /* owned; why .git could not be read, for the log */
};

#define META_FACTS_INIT \
	{               \
		0       \
	}

/*
 * Fills f from the variables lookup returns and from the .git of
 * context_dir (which may be NULL: no .git reading). The explicit and CI
 * variables are checked: a PR_NUMBER that is not a number, a
 * SOURCE_DATE_EPOCH that is not a time or an unreadable GitHub event file
 * is an EXIT_USAGE error naming the variable. A missing or unreadable .git
 * is not an error (the facts stay unknown); a corrupt one is not either,
 * since the CI's variables are what matter in CI: f->warning says why, for
 * the caller to log.
 */
int meta_facts_from_env(meta_lookup_fn lookup, void *ctx,
			const char *context_dir, struct meta_facts *f,
			struct error *err);

/* Frees every fact and resets f to META_FACTS_INIT. NULL is fine. */
void meta_facts_release(struct meta_facts *f);

/* Sets a fact to copies of value and from (either may be NULL, clearing
 * it); for callers and tests that build facts by hand. */
void meta_fact_set(struct meta_fact *fact, const char *value, const char *from);

/* The name of an event as `builder tags` prints it: "branch", "tag",
 * "pull request", "detached", "none". */
const char *meta_event_name(enum meta_event e);

#endif
