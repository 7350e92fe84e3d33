#ifndef BUILDER_TAGRULES_H
#define BUILDER_TAGRULES_H

/*
 * TAGS (--tags): rules that turn the CI's facts (facts.h) into image tags,
 * in the spirit of docker/metadata-action and Docker Hub's autobuild rules.
 *
 *	struct meta_tagset ts = META_TAGSET_INIT;
 *	if (meta_tags("semver branch sha pr", &facts, &ts, err) < 0)
 *		return -1;                 (EXIT_USAGE, names rule and input)
 *	for (size_t i = 0; i < ts.tags.n; i++)
 *		... ts.tags.v[i], made by ts.from.v[i] ...
 *	meta_tagset_release(&ts);
 *
 * Rules are separated by spaces, commas or newlines, except inside
 * "{...}", "[...]" and "(...)" (so a regex keeps its "{1,3}"):
 *
 *  semver            on a git tag "v1.2.3" or "1.2.3": 1.2.3, 1.2, 1 (no
 *                    major 0 alone) and, for a stable version, latest; a
 *                    pre-release (1.3.0-rc.1) gives only itself
 *  semver:TEMPLATE   the template with {{version}} {{major}} {{minor}}
 *                    {{patch}} {{raw}} (a pre-release gives {{version}})
 *  latest=false      no automatic latest from semver (latest=auto: the
 *                    default)
 *  branch            the branch pushed, made a valid tag: lower case,
 *                    [a-z0-9_.-], runs of anything else one '-', at most
 *                    128 characters (feature/Login -> feature-login)
 *  tag               the git tag's name made a valid tag the same way
 *  default-branch:T  the template T (e.g. latest) on a push to the
 *                    default branch only
 *  sha               sha- and the first 7 characters of the commit (the
 *                    pull request's head commit on pull requests)
 *  pr                pr-<number> on pull (merge) requests
 *  raw:TEMPLATE      the template, for anything else
 *  TEMPLATE          a rule with "{{" is a template: {{branch}} {{tag}}
 *                    {{sha}} {{sha_long}} {{version}} {{date}} (YYYYMMDD of
 *                    the commit time or SOURCE_DATE_EPOCH, never the
 *                    clock) {{build}} {{pr}}
 *  regex:PATTERN:T   when PATTERN (tagregex.h; '/' around it optional)
 *                    matches the git tag's name, else the branch's, the
 *                    template T with {\1} to {\9} for its groups and
 *                    {sourceref} for the name (Docker Hub autobuild style)
 *
 * A rule whose facts are unknown (pr on a branch push, {{build}} outside
 * CI) gives nothing, and says so in skipped. Duplicates are dropped.
 */

#include "meta/facts.h"
#include "util/error.h"
#include "util/strlist.h"

/* The rules' output: tags[i] was made by from[i] ("semver from tag
 * 'v2.3.4' (GITHUB_REF_NAME)"); skipped holds one line per rule that gave
 * nothing and why. */
struct meta_tagset {
	struct strlist tags;
	struct strlist from;
	struct strlist skipped;
};

#define META_TAGSET_INIT                                 \
	{                                                \
		STRLIST_INIT, STRLIST_INIT, STRLIST_INIT \
	}

/*
 * Applies rules to f, appending to out. Every tag is checked against the
 * reference grammar (ref_valid_tag). Returns -1 with an EXIT_USAGE error
 * naming the rule and the input for a rule that does not parse, a
 * template naming an unknown field, or a tag that cannot be made valid.
 */
int meta_tags(const char *rules, const struct meta_facts *f,
	      struct meta_tagset *out, struct error *err);

/* Checks the syntax of rules without facts (for config validation). */
int meta_tags_check(const char *rules, struct error *err);

void meta_tagset_release(struct meta_tagset *ts);

/* A version as semver 2.0 has it, with an optional leading 'v'. */
struct meta_semver {
	char major[24], minor[24], patch[24];
	char pre[256]; /* "" for a stable version */
	char build[256]; /* "" when none */
};

/* 1 when s is a semver version (filling v), 0 when not. */
int meta_semver_parse(const char *s, struct meta_semver *v);

/*
 * Makes name a valid tag (see "branch" above) into out (owned). Returns -1
 * when nothing valid is left ("///").
 */
int meta_sanitize_tag(const char *name, char **out);

#endif
