/*
 * TAGS rules (tagrules.c) and their regexp (tagregex.c), table-driven:
 * each case is a set of facts, the rules, and the tags expected (space
 * separated, in order) or the error expected.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "meta/facts.h"
#include "meta/labels.h"
#include "meta/tagregex.h"
#include "meta/tagrules.h"
#include "util/buf.h"
#include "unit.h"

#define SHA "0123456789abcdef0123456789abcdef01234567"
#define HEAD "fedcba9876543210fedcba9876543210fedcba98"

struct facts_in {
	enum meta_event event;
	const char *branch, *tag, *sha, *pr, *def, *build, *created;
};

static void make_facts(struct meta_facts *f, const struct facts_in *in)
{
	f->event = in->event;
	meta_fact_set(&f->branch, in->branch, "BRANCH");
	meta_fact_set(&f->tag, in->tag, "GIT_TAG");
	meta_fact_set(&f->sha, in->sha, "COMMIT_SHA");
	meta_fact_set(&f->pr, in->pr, "PR_NUMBER");
	meta_fact_set(&f->default_branch, in->def, "DEFAULT_BRANCH");
	meta_fact_set(&f->build, in->build, "BUILD_NUMBER");
	meta_fact_set(&f->created, in->created, "SOURCE_DATE_EPOCH");
}

#define TAGPUSH(t)                                                    \
	{                                                             \
		META_EVENT_TAG, NULL, t, SHA, NULL, "main", "7", NULL \
	}
#define BRANCHPUSH(b)                                               \
	{                                                           \
		META_EVENT_BRANCH, b, NULL, SHA, NULL, "main", "7", \
			"1700000000"                                \
	}
#define PULL(n)                                                              \
	{                                                                    \
		META_EVENT_PR, "feature/x", NULL, HEAD, n, "main", "8", NULL \
	}
#define DETACHED                                                             \
	{                                                                    \
		META_EVENT_DETACHED, NULL, NULL, SHA, NULL, NULL, NULL, NULL \
	}

struct tag_case {
	const char *name;
	struct facts_in facts;
	const char *rules;
	const char *want; /* tags, space separated; NULL when an error */
	const char *error; /* substring of the error */
};

static const struct tag_case cases[] = {
	/* tag push */
	{ "semver v2.3.4", TAGPUSH("v2.3.4"), "semver", "2.3.4 2.3 2 latest",
	  NULL },
	{ "semver 2.3.4 no v", TAGPUSH("2.3.4"), "semver", "2.3.4 2.3 2 latest",
	  NULL },
	{ "semver major 0", TAGPUSH("v0.3.1"), "semver", "0.3.1 0.3 latest",
	  NULL },
	{ "pre-release", TAGPUSH("v1.3.0-rc.1"), "semver", "1.3.0-rc.1", NULL },
	{ "pre-release custom", TAGPUSH("v1.3.0-rc.1"),
	  "semver:{{major}}.{{minor}}", "1.3.0-rc.1", NULL },
	{ "pre-release raw", TAGPUSH("v1.3.0-rc.1"), "semver:{{raw}}",
	  "v1.3.0-rc.1", NULL },
	{ "build metadata", TAGPUSH("v1.2.3+exp.sha.5114f85"), "semver",
	  "1.2.3-exp.sha.5114f85 1.2 1 latest", NULL },
	{ "latest=false", TAGPUSH("v2.3.4"), "semver latest=false",
	  "2.3.4 2.3 2", NULL },
	{ "semver template", TAGPUSH("v2.3.4"),
	  "semver:{{major}}.{{minor}},semver:v{{major}}", "2.3 v2 latest",
	  NULL },
	{ "semver major 0 template", TAGPUSH("v0.3.4"), "semver:{{major}}",
	  "latest", NULL },
	{ "semver raw", TAGPUSH("v2.3.4"), "semver:{{raw}} latest=false",
	  "v2.3.4", NULL },
	{ "not a version", TAGPUSH("release-5"), "semver tag", "release-5",
	  NULL },
	{ "leading zero", TAGPUSH("v01.2.3"), "semver", "", NULL },
	{ "tag push, branch rules", TAGPUSH("v1.0.0"),
	  "branch pr default-branch:latest sha", "sha-0123456", NULL },
	{ "tag rule sanitizes", TAGPUSH("Release/2024"), "tag", "release-2024",
	  NULL },
	{ "version template", TAGPUSH("v2.3.4"), "{{version}}-{{sha}}",
	  "2.3.4-0123456", NULL },
	/* branch push */
	{ "branch", BRANCHPUSH("main"), "branch", "main", NULL },
	{ "branch sanitized", BRANCHPUSH("feature/Login"), "branch",
	  "feature-login", NULL },
	{ "branch invalid chars", BRANCHPUSH("-Fix #12: a@b//c."), "branch",
	  "fix-12-a-b-c", NULL },
	{ "branch 200 chars",
	  BRANCHPUSH("b12345678901234567890123456789012345678901234567890123456"
		     "789012345"
		     "678901234567890123456789012345678901234567890123456789012"
		     "345678901"
		     "234567890123456789012345678901234567890123456789012345678"
		     "9012345"),
	  "branch",
	  "b12345678901234567890123456789012345678901234567890123456789012345"
	  "67890123456789012345678901234567890123456789012345678901234567",
	  NULL },
	{ "branch nothing valid", BRANCHPUSH("///"), "branch", NULL,
	  "TAGS rule 'branch': branch '///' (BRANCH) has nothing" },
	{ "default branch", BRANCHPUSH("main"),
	  "branch default-branch:latest sha", "main latest sha-0123456", NULL },
	{ "not default branch", BRANCHPUSH("dev"), "default-branch:latest", "",
	  NULL },
	{ "branch push semver", BRANCHPUSH("main"), "semver pr", "", NULL },
	{ "templates", BRANCHPUSH("feature/A"),
	  "{{branch}}-{{build}} raw:{{sha_long}} raw:b{{build}}-{{date}}",
	  "feature-a-7 " SHA " b7-20231114", NULL },
	{ "template spaces", BRANCHPUSH("main"), "raw:{{ branch }}", "main",
	  NULL },
	{ "raw fixed", BRANCHPUSH("main"), "raw:stable,raw:stable", "stable",
	  NULL },
	{ "template missing fact", BRANCHPUSH("main"), "{{pr}}-x raw:{{tag}}",
	  "", NULL },
	/* pull request */
	{ "pull request", PULL("42"), "branch pr sha default-branch:latest",
	  "pr-42 sha-fedcba9", NULL },
	{ "pull request semver", PULL("42"), "semver", "", NULL },
	{ "pr template", PULL("42"), "raw:pr-{{pr}}-{{branch}}",
	  "pr-42-feature-x", NULL },
	/* detached HEAD */
	{ "detached", DETACHED, "branch sha pr semver", "sha-0123456", NULL },
	{ "detached date unknown", DETACHED, "raw:{{date}}", "", NULL },
	/* regex, autobuild style */
	{ "regex tag", TAGPUSH("v2.3.4"), "regex:^v([0-9.]+)$:{\\1}", "2.3.4",
	  NULL },
	{ "regex slashes", TAGPUSH("v2.3.4"),
	  "regex:/^v([0-9]+)\\.([0-9]+)/:{\\1}-{\\2}", "2-3", NULL },
	{ "regex branch", BRANCHPUSH("release/1.2"),
	  "regex:^release/(\\d+)\\.(\\d+)$:rel-{\\1}.{\\2}", "rel-1.2", NULL },
	{ "regex no match", BRANCHPUSH("main"), "regex:^v(.*)$:{\\1}", "",
	  NULL },
	{ "regex count kept", BRANCHPUSH("ab12"),
	  "regex:([a-z]{1,3})([0-9]{2}):{\\2}{\\1},sha", "12ab sha-0123456",
	  NULL },
	{ "regex bracket in class", BRANCHPUSH("(x"), "regex:^[(]x$:paren sha",
	  "paren sha-0123456", NULL },
	{ "regex sourceref", BRANCHPUSH("dev"), "regex:^dev$:{sourceref}-x",
	  "dev-x", NULL },
	{ "regex optional group", BRANCHPUSH("v1"),
	  "regex:^v(\\d)(-rc)?$:x{\\1}{\\2}", "x1", NULL },
	{ "regex gives invalid tag", BRANCHPUSH("a/b"), "regex:^(.*)$:{\\1}",
	  NULL,
	  "TAGS rule 'regex:^(.*)$:{\\1}' gives 'a/b' from branch 'a/b'" },
	/* rule errors */
	{ "unknown rule", BRANCHPUSH("main"), "semvar", NULL,
	  "TAGS rule 'semvar' is not known" },
	{ "unknown field", BRANCHPUSH("main"), "raw:{{brnach}}", NULL,
	  "uses '{{brnach}}', which is not known" },
	{ "semver field outside semver", TAGPUSH("v1.0.0"), "{{major}}", NULL,
	  "uses '{{major}}'" },
	{ "unclosed template", BRANCHPUSH("main"), "raw:{{branch", NULL,
	  "has a '{{' without '}}'" },
	{ "invalid raw", BRANCHPUSH("main"), "raw:-x", NULL,
	  "TAGS rule 'raw:-x' gives '-x', which is not a valid tag" },
	{ "too long raw", BRANCHPUSH("main"),
	  "raw:{{sha_long}}{{sha_long}}{{sha_long}}{{sha_long}}", NULL,
	  "is not a valid tag" },
	{ "empty raw", BRANCHPUSH("main"), "raw:", NULL,
	  "has nothing after ':'" },
	{ "bad regex", BRANCHPUSH("main"), "regex:a(b:{\\1}", NULL,
	  "has an unclosed '('" },
	{ "regex group out of range", BRANCHPUSH("main"), "regex:(a):{\\2}",
	  NULL, "uses {\\2} but its pattern has 1 group(s)" },
	{ "regex no template", BRANCHPUSH("main"), "regex:abc", NULL,
	  "is not regex:PATTERN:TEMPLATE" },
	{ "separators", BRANCHPUSH("main"), " branch,\n sha \n",
	  "main sha-0123456", NULL },
};

static void join(const struct strlist *l, struct buf *b)
{
	for (size_t i = 0; i < l->n; i++)
		buf_addf(b, "%s%s", i ? " " : "", l->v[i]);
}

static void test_tag_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tag_case *c = &cases[i];
		struct meta_facts f = META_FACTS_INIT;
		struct meta_tagset ts = META_TAGSET_INIT;
		struct error err = ERROR_INIT;
		struct buf got = BUF_INIT(BUF_TEXT_MAX);
		int rc;

		make_facts(&f, &c->facts);
		rc = meta_tags(c->rules, &f, &ts, &err);
		join(&ts.tags, &got);
		if (c->want) {
			if (rc != 0)
				fprintf(stderr, "case '%s': %s\n", c->name,
					err.msg);
			CHECK(rc == 0);
			if (strcmp(buf_str(&got), c->want) != 0)
				fprintf(stderr, "case '%s':\n", c->name);
			CHECK_STR(buf_str(&got), c->want);
			CHECK(ts.tags.n == ts.from.n);
		} else {
			if (rc != -1 || !strstr(err.msg, c->error))
				fprintf(stderr, "case '%s': rc %d, '%s'\n",
					c->name, rc, err.msg);
			CHECK(rc == -1);
			CHECK(err.code == EXIT_USAGE);
			CHECK(strstr(err.msg, c->error) != NULL);
		}
		meta_tagset_release(&ts);
		meta_facts_release(&f);
		buf_release(&got);
	}
}

static void test_from_and_skipped(void)
{
	struct facts_in in = TAGPUSH("v2.3.4");
	struct meta_facts f = META_FACTS_INIT;
	struct meta_tagset ts = META_TAGSET_INIT;
	struct error err = ERROR_INIT;

	make_facts(&f, &in);
	CHECK(meta_tags("semver pr", &f, &ts, &err) == 0);
	CHECK(ts.from.n == 4);
	CHECK_STR(ts.from.v[0], "semver from git tag 'v2.3.4' (GIT_TAG)");
	CHECK_STR(ts.from.v[3], "semver: a stable version (latest=auto)");
	CHECK(ts.skipped.n == 1);
	CHECK_STR(ts.skipped.v[0], "pr: nothing, not a pull request");
	meta_tagset_release(&ts);
	meta_facts_release(&f);
}

static void test_check_only(void)
{
	struct error err = ERROR_INIT;

	CHECK(meta_tags_check("semver branch sha pr default-branch:latest "
			      "raw:x {{date}} regex:^v(.*)$:{\\1}",
			      &err) == 0);
	CHECK(meta_tags_check("nope", &err) == -1);
	CHECK(strstr(err.msg, "'nope'") != NULL);
}

struct semver_case {
	const char *in;
	int ok;
	const char *major, *minor, *patch, *pre;
};

static const struct semver_case semvers[] = {
	{ "1.2.3", 1, "1", "2", "3", "" },
	{ "v10.20.30", 1, "10", "20", "30", "" },
	{ "1.0.0-alpha.1", 1, "1", "0", "0", "alpha.1" },
	{ "1.0.0-0.3.7", 1, "1", "0", "0", "0.3.7" },
	{ "1.0.0-x-y-z.--", 1, "1", "0", "0", "x-y-z.--" },
	{ "1.0.0+20130313144700", 1, "1", "0", "0", "" },
	{ "1.2", 0, NULL, NULL, NULL, NULL },
	{ "1.2.3.4", 0, NULL, NULL, NULL, NULL },
	{ "01.2.3", 0, NULL, NULL, NULL, NULL },
	{ "1.2.3-01", 0, NULL, NULL, NULL, NULL },
	{ "1.2.3-", 0, NULL, NULL, NULL, NULL },
	{ "1.2.3-a..b", 0, NULL, NULL, NULL, NULL },
	{ "1.2.3+", 0, NULL, NULL, NULL, NULL },
	{ "vv1.2.3", 0, NULL, NULL, NULL, NULL },
	{ "", 0, NULL, NULL, NULL, NULL },
};

static void test_semver(void)
{
	for (size_t i = 0; i < sizeof(semvers) / sizeof(semvers[0]); i++) {
		const struct semver_case *c = &semvers[i];
		struct meta_semver v;
		int ok = meta_semver_parse(c->in, &v);

		if (ok != c->ok)
			fprintf(stderr, "semver '%s'\n", c->in);
		CHECK(ok == c->ok);
		if (ok && c->ok) {
			CHECK_STR(v.major, c->major);
			CHECK_STR(v.minor, c->minor);
			CHECK_STR(v.patch, c->patch);
			CHECK_STR(v.pre, c->pre);
		}
	}
}

struct re_case {
	const char *pattern, *text;
	int match;
	int g0s, g0e, g1s, g1e; /* -1: unset */
};

static const struct re_case res[] = {
	{ "a", "xay", 1, 1, 2, -1, -1 },
	{ "^a", "xa", 0, 0, 0, 0, 0 },
	{ "a$", "aba", 1, 2, 3, -1, -1 },
	{ "$", "ab", 1, 2, 2, -1, -1 },
	{ "(a+)(b)?", "caab", 1, 1, 4, 1, 3 },
	{ "(a|ab)(c|bcd)", "abcd", 1, 0, 4, 0, 1 }, /* leftmost-first */
	{ "(a*?)b", "aab", 1, 0, 3, 0, 2 },
	{ "(a+?)", "aaa", 1, 0, 1, 0, 1 },
	{ "(x)?y", "y", 1, 0, 1, -1, -1 },
	{ "([0-9]{2,3})", "a12345", 1, 1, 4, 1, 4 },
	{ "(\\d+)\\.(\\d+)", "v1.22", 1, 1, 5, 1, 2 },
	{ "[^a-c]+", "abcxyz", 1, 3, 6, -1, -1 },
	{ "(?:ab)+(c)", "ababc", 1, 0, 5, 4, 5 },
	{ "a{2}", "aaa", 1, 0, 2, -1, -1 },
	{ "x{", "x{", 1, 0, 2, -1, -1 }, /* not a count: literal, as Go */
	{ "[]a]+", "]a]", 1, 0, 3, -1, -1 },
	{ "\\w+", "--ab_1--", 1, 2, 6, -1, -1 },
	{ "a.c", "a\nc", 0, 0, 0, 0, 0 },
};

static const char *const bad_res[] = {
	"(",
	")",
	"a**",
	"*a",
	"[a",
	"[z-a]",
	"\\",
	"(?i)a",
	"\\b",
	"a{101}",
	"(a{100}){100}",
	"\\1",
	"[[:alpha:]]",
	"((((((((((a))))))))))",
};

static void test_regex(void)
{
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		const struct re_case *c = &res[i];
		struct tagregex re;
		size_t m[TAGREGEX_SLOTS];
		const char *why = NULL;
		int rc;

		if (tagregex_compile(&re, c->pattern, &why) < 0) {
			fprintf(stderr, "regex '%s': %s\n", c->pattern, why);
			CHECK(0);
			continue;
		}
		rc = tagregex_match(&re, c->text, strlen(c->text), m);
		if (rc != c->match)
			fprintf(stderr, "regex '%s' on '%s'\n", c->pattern,
				c->text);
		CHECK(rc == c->match);
		if (rc == 1 && c->match) {
			size_t want[4] = {
				(size_t)c->g0s, (size_t)c->g0e,
				c->g1s < 0 ? SIZE_MAX : (size_t)c->g1s,
				c->g1e < 0 ? SIZE_MAX : (size_t)c->g1e
			};

			for (int k = 0; k < 4; k++)
				if (m[k] != want[k]) {
					fprintf(stderr,
						"regex '%s' on '%s': slot %d "
						"%zu want %zu\n",
						c->pattern, c->text, k, m[k],
						want[k]);
					CHECK(0);
				}
		}
		tagregex_release(&re);
	}
	for (size_t i = 0; i < sizeof(bad_res) / sizeof(bad_res[0]); i++) {
		struct tagregex re;
		const char *why = NULL;

		if (tagregex_compile(&re, bad_res[i], &why) == 0) {
			fprintf(stderr, "regex '%s' compiled\n", bad_res[i]);
			CHECK(0);
			tagregex_release(&re);
		}
		CHECK(why != NULL);
	}
}

/* Linear time: a pattern that makes backtracking engines explode. */
static void test_regex_linear(void)
{
	struct tagregex re;
	size_t m[TAGREGEX_SLOTS];
	const char *why;
	char text[4001];

	memset(text, 'a', 4000);
	text[4000] = '\0';
	CHECK(tagregex_compile(&re, "^(a|a)*(a*)*(a?){30}a{30}b$", &why) == 0);
	CHECK(tagregex_match(&re, text, 4000, m) == 0);
	CHECK(tagregex_match(&re, text, 5000, m) == -1);
	tagregex_release(&re);
}

static void test_labels(void)
{
	struct facts_in in = TAGPUSH("v2.3.4");
	struct meta_facts f = META_FACTS_INIT;
	struct strlist out = STRLIST_INIT, from = STRLIST_INIT,
		       user = STRLIST_INIT;
	struct buf got = BUF_INIT(BUF_TEXT_MAX);

	make_facts(&f, &in);
	meta_fact_set(&f.created, "1700000000", "SOURCE_DATE_EPOCH");
	meta_fact_set(&f.source, "https://github.com/acme/app", "X");
	meta_fact_set(&f.title, "app", "X");
	meta_fact_set(&f.licenses, "MIT", "X");
	strlist_push(&user, "org.opencontainers.image.title=Mine");
	meta_labels(&f, &user, &out, &from);
	join(&out, &got);
	CHECK_STR(buf_str(&got),
		  "org.opencontainers.image.source=https://github.com/acme/app "
		  "org.opencontainers.image.url=https://github.com/acme/app "
		  "org.opencontainers.image.revision=" SHA " "
		  "org.opencontainers.image.version=2.3.4 "
		  "org.opencontainers.image.created=2023-11-14T22:13:20Z "
		  "org.opencontainers.image.licenses=MIT");
	CHECK(from.n == out.n);
	CHECK_STR(from.v[4], "SOURCE_DATE_EPOCH");
	strlist_clear(&out);
	strlist_clear(&from);
	buf_reset(&got);

	/* nothing known: no labels, and never the clock */
	meta_facts_release(&f);
	meta_labels(&f, NULL, &out, NULL);
	CHECK(out.n == 0);

	struct facts_in pr = PULL("9");
	make_facts(&f, &pr);
	meta_labels(&f, NULL, &out, NULL);
	join(&out, &got);
	CHECK_STR(buf_str(&got), "org.opencontainers.image.revision=" HEAD " "
				 "org.opencontainers.image.version=pr-9");
	strlist_clear(&out);
	strlist_clear(&user);
	buf_release(&got);
	meta_facts_release(&f);
}

int main(void)
{
	RUN(test_tag_cases);
	RUN(test_from_and_skipped);
	RUN(test_check_only);
	RUN(test_semver);
	RUN(test_regex);
	RUN(test_regex_linear);
	RUN(test_labels);
	return unit_summary();
}
