/*
 * .dockerignore reading and matching (builder/context/ignore.c). The expected
 * answers are docker's: each case was checked against moby/patternmatcher
 * (New + MatchesOrParentMatches) fed by ignorefile.ReadAll's rules,
 * including the quirks a user would not guess.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "context/ignore.h"
#include "unit.h"
#include "util/xmalloc.h"

struct match_case {
	const char *text; /* the .dockerignore */
	const char *path;
	int excluded;
};

static const struct match_case match_cases[] = {
	/* plain names, and a name excluding everything below it */
	{ "a", "a", 1 },
	{ "a", "a/b/c", 1 },
	{ "a", "ab", 0 },
	{ "a", "b/a", 0 },
	{ "a/b", "a/b/c", 1 },
	{ "a/b", "a", 0 },
	{ ".git", ".git/HEAD", 1 },
	{ ".git", ".github/workflows/ci.yml", 0 },
	{ "a.b", "aXb", 0 },
	{ "a+b(c)$", "a+b(c)$", 1 },
	/* '*' and '?' stay inside one path component */
	{ "*.go", "main.go", 1 },
	{ "*.go", "cmd/main.go", 0 },
	{ "*/*.py", "a/b.py", 1 },
	{ "*/*.py", "b.py", 0 },
	{ "*/*.py", "a/b/c.py", 0 },
	{ "*~", "notes~", 1 },
	{ "?", "a", 1 },
	{ "?", "ab", 0 },
	{ "?", "\xC3\xA9", 1 }, /* one rune, not one byte */
	{ "x?y", "x/y", 0 },
	{ "\xC3\xA9*", "\xC3\xA9t\xC3\xA9", 1 },
	/* "**" */
	{ "**", "any/thing/at/all", 1 },
	{ "**/*.go", "cmd/x/main.go", 1 },
	{ "**/*.go", "main.go", 1 },
	{ "**/foo", "foo", 1 },
	{ "**/foo", "a/b/foo", 1 },
	{ "**/foo", "a/bfoo", 0 },
	{ "**foo", "a/bfoo", 1 }, /* docker's suffix test */
	{ "**/node_modules", "web/node_modules/x/y.js", 1 },
	{ "foo/**", "foo", 0 }, /* a prefix test on "foo/" */
	{ "foo/**", "foo/bar/baz", 1 },
	{ "foo/**/bar", "foo/bar", 1 },
	{ "foo/**/bar", "foo/a/b/bar", 1 },
	{ "foo/**/bar", "foo/abar", 0 },
	{ "a**b", "ax/b", 1 },
	{ "a**b", "axb", 0 },
	/* exceptions, and the last matching line wins */
	{ "*.md\n!README.md", "README.md", 0 },
	{ "*.md\n!README.md", "CHANGES.md", 1 },
	{ "!a\na", "a", 1 },
	{ "a\n!a\na", "a", 1 },
	{ "a\n!a", "a/b", 0 },
	{ "dir\n!dir/keep", "dir/keep", 0 },
	{ "dir\n!dir/keep", "dir/keep/deep", 0 },
	{ "dir\n!dir/keep", "dir/other", 1 },
	{ "dir\n!dir/keep", "dir", 1 },
	{ "!dir/keep\ndir", "dir/keep", 1 },
	{ "*\n! foo ", "foo", 0 }, /* spaces after '!' trimmed */
	/* cleaning: leading '/', trailing '/', "./", ".." */
	{ "/foo", "foo", 1 },
	{ "//foo", "foo", 1 },
	{ "foo/", "foo/x", 1 },
	{ "./a", "a", 1 },
	{ "a/./b/", "a/b", 1 },
	{ "a/../b", "b", 1 },
	{ "a/../b", "a", 0 },
	{ "/../b", "b", 1 },
	{ "../a", "a", 0 },
	{ "/", "a", 0 },
	/* classes and ranges (Go regexp classes) */
	{ "[ab].txt", "a.txt", 1 },
	{ "[ab].txt", "c.txt", 0 },
	{ "[a-c]x", "bx", 1 },
	{ "[a-c]x", "dx", 0 },
	{ "[^a]x", "bx", 1 },
	{ "[^a]x", "ax", 0 },
	{ "[!a]x", "ax", 1 }, /* '!' is a plain member */
	{ "[!a]x", "bx", 0 },
	{ "[\\]]", "]", 1 },
	{ "[[:digit:]]x", "5x", 1 }, /* POSIX class reaches the regexp */
	/* escapes */
	{ "\\*", "*", 1 },
	{ "\\*", "a", 0 },
	{ "a\\?b", "a?b", 1 },
	{ "a\\?b", "axb", 0 },
	{ "\\d.txt", "1.txt", 1 }, /* '\d' is a digit to docker */
	{ "\\d.txt", "d.txt", 0 },
	/* '|' and '{' reach docker's regexp unescaped */
	{ "*.go|x", "a.go.bak", 1 },
	{ "?{2}", "ab", 1 },
	{ "?{2}", "abc", 0 },
	{ "a{2}", "a{2}", 1 }, /* no wildcard: an exact name */
	{ "a{2}", "aa", 0 },
	/* comments, blank lines, whitespace, BOM, CRLF */
	{ "# x", "# x", 0 },
	{ "  # x", "# x", 1 }, /* '#' only at column 0 */
	{ "#foo\nfoo", "foo", 1 },
	{ "\n\n  \t\nfoo\n\n", "foo", 1 },
	{ "foo   ", "foo", 1 },
	{ "\xC2\xA0"
	  "foo"
	  "\xE3\x80\x80",
	  "foo", 1 }, /* Unicode spaces */
	{ "foo\r\nbar\r\n", "bar", 1 },
	{ "\xEF\xBB\xBF"
	  "foo",
	  "foo", 1 },
	{ "\xEF\xBB\xBF# c\nfoo", "# c", 0 },
	{ "x\n\xEF\xBB\xBF"
	  "foo",
	  "foo", 0 }, /* BOM only on line 1 */
	/* the root is never excluded */
	{ "*", ".", 0 },
	{ "**", "", 0 },
	{ "", "a", 0 },
};

static void test_match_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(match_cases) / sizeof(*match_cases); i++) {
		const struct match_case *c = &match_cases[i];
		struct error err = ERROR_INIT;
		struct ignore *ig = NULL;
		int got;

		if (ignore_parse(&ig, c->text, strlen(c->text), ".dockerignore",
				 &err) < 0) {
			fprintf(stderr, "case %zu: parse failed: %s\n", i,
				err.msg);
			CHECK(0);
			continue;
		}
		got = ignore_excluded(ig, c->path);
		if (got != c->excluded) {
			fprintf(stderr, "case %zu: '%s' against '%s': got %d\n",
				i, c->text, c->path, got);
			CHECK(got == c->excluded);
		}
		ignore_free(ig);
	}
}

struct bad_case {
	const char *text;
	const char *in_msg; /* must appear in the message */
};

static const struct bad_case bad_cases[] = {
	{ "!", "line 1" },	  { "a\n\n!  \n", "line 3" },
	{ "!/", "line 1" }, /* cleans to a bare '!' */
	{ "a[", "'['" },	  { "[]a]", "'['" },
	{ "a\\", "lone '\\'" },	  { "ok\n*.[", "line 2" },
	{ "[z-a]", "backwards" }, /* filepath.Match allows it; regexp not */
	{ "\\e*", "escape" },	  { "[[:nope:]]*", "[:name:]" },
	{ "\\pL*", "Unicode" },	  { "x?{2}{3}", "repeats" },
	{ "x?{1001}", "count" },
};

static void test_parse_errors(void)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(*bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		struct error err = ERROR_INIT;
		struct ignore *ig =
			(struct ignore *)&err; /* must become NULL */

		CHECK(ignore_parse(&ig, c->text, strlen(c->text),
				   ".dockerignore", &err) == -1);
		CHECK(ig == NULL);
		CHECK(err.code == EXIT_USAGE);
		CHECK(strstr(err.msg, "'.dockerignore'") != NULL);
		if (!strstr(err.msg, c->in_msg)) {
			fprintf(stderr, "case %zu: '%s' not in: %s\n", i,
				c->in_msg, err.msg);
			CHECK(0);
		}
	}
}

static void test_long_line(void)
{
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;
	size_t n = 64 * 1024;
	char *text = xmalloc(n + 1);

	/* bufio.Scanner's limit: 65535 bytes fit, 65536 do not. */
	memset(text, 'a', n);
	CHECK(ignore_parse(&ig, text, n - 1, "x", &err) == 0);
	CHECK(ignore_count(ig) == 1);
	ignore_free(ig);
	CHECK(ignore_parse(&ig, text, n, "x", &err) == -1);
	CHECK(strstr(err.msg, "line 1") != NULL);
	free(text);
}

struct walk_case {
	const char *text;
	const char *dir;
	int walk;
};

static const struct walk_case walk_cases[] = {
	{ "dir\n!dir/keep", "dir", 1 },
	{ "dir\n!**/*.py", "dir", 0 }, /* docker/cli#2919 */
	{ "dir\n!*.py", "dir", 0 },
	{ "dir\n!dir", "dir", 1 },
	{ "dir\n!dirx/a", "dir", 0 },
	{ "a/b\n!a/b/c/d", "a/b", 1 },
	{ "a/b\n!a/b/c/d", "a", 1 },
	{ "a/b\n!a/b/c/d", "a/b/c", 1 },
	{ "a/b\n!a/b/c/d", "a/b/x", 0 },
	{ "dir\n!./dir/keep/", "dir", 1 }, /* compared after cleaning */
	{ "dir", "dir", 0 }, /* no exceptions at all */
};

static void test_walk_rule(void)
{
	size_t i;

	for (i = 0; i < sizeof(walk_cases) / sizeof(*walk_cases); i++) {
		const struct walk_case *c = &walk_cases[i];
		struct error err = ERROR_INIT;
		struct ignore *ig = NULL;

		CHECK(ignore_parse(&ig, c->text, strlen(c->text), "x", &err) ==
		      0);
		if (ignore_walk_excluded_dir(ig, c->dir) != c->walk) {
			fprintf(stderr, "walk case %zu: '%s', dir '%s'\n", i,
				c->text, c->dir);
			CHECK(0);
		}
		ignore_free(ig);
	}
	CHECK(ignore_walk_excluded_dir(NULL, "dir") == 0);
}

/* The walk's own matcher keeps the parent's per-pattern results; for
 * "a/b" then "!a" it disagrees with MatchesOrParentMatches, as docker's
 * two functions do. */
static void test_walk_variant(void)
{
	const char *text = "a/b\n!a";
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;
	unsigned char *hits_a, *hits_b;

	CHECK(ignore_parse(&ig, text, strlen(text), "x", &err) == 0);
	CHECK(ignore_count(ig) == 2);
	hits_a = xcalloc(ignore_count(ig), 1);
	hits_b = xcalloc(ignore_count(ig), 1);
	CHECK(ignore_excluded_walk(ig, "a", NULL, hits_a) == 0);
	CHECK(ignore_excluded_walk(ig, "a/b", hits_a, hits_b) == 1);
	CHECK(ignore_excluded(ig, "a/b") == 0);
	/* Hits carry down: "x" then "!x/y" re-includes below x/y. */
	ignore_free(ig);
	text = "x\n!x/y";
	CHECK(ignore_parse(&ig, text, strlen(text), "x", &err) == 0);
	CHECK(ignore_excluded_walk(ig, "x", NULL, hits_a) == 1);
	CHECK(ignore_excluded_walk(ig, "x/y", hits_a, hits_b) == 0);
	CHECK(ignore_excluded_walk(ig, "x/y/z", hits_b, NULL) == 0);
	CHECK(ignore_excluded_walk(ig, "x/w", hits_a, NULL) == 1);
	free(hits_a);
	free(hits_b);
	ignore_free(ig);
}

static void test_exceptions_and_counts(void)
{
	const char *text = "# build files\nDockerfile\n\n.dockerignore\n";
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;

	CHECK(ignore_parse(&ig, text, strlen(text), "x", &err) == 0);
	CHECK(ignore_count(ig) == 2);
	CHECK(!ignore_has_exceptions(ig));
	CHECK(ignore_excluded(ig, "Dockerfile") == 1);
	ignore_add_exception(ig, "Dockerfile");
	ignore_add_exception(ig, ".dockerignore");
	CHECK(ignore_count(ig) == 4);
	CHECK(ignore_has_exceptions(ig));
	CHECK(ignore_excluded(ig, "Dockerfile") == 0);
	CHECK(ignore_excluded(ig, ".dockerignore") == 0);
	/* A name docker could not compile is still re-included. */
	ignore_add_exception(ig, "odd[name");
	CHECK(ignore_count(ig) == 5);
	ignore_free(ig);

	CHECK(ignore_excluded(NULL, "a") == 0);
	CHECK(ignore_count(NULL) == 0);
	CHECK(!ignore_has_exceptions(NULL));
	ignore_free(NULL);
}

static void test_load(void)
{
	char dir[] = "/tmp/test_ignore.XXXXXX";
	char path[256];
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;
	FILE *f;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/.dockerignore", dir);

	/* Missing: an empty list, not an error. */
	CHECK(ignore_load(&ig, path, &err) == 0);
	CHECK(ig != NULL && ignore_count(ig) == 0);
	CHECK(ignore_excluded(ig, "anything") == 0);
	ignore_free(ig);

	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("node_modules\n*.log\n!keep.log\n", f);
		fclose(f);
	}
	CHECK(ignore_load(&ig, path, &err) == 0);
	CHECK(ignore_count(ig) == 3);
	CHECK(ignore_excluded(ig, "node_modules/x/index.js") == 1);
	CHECK(ignore_excluded(ig, "debug.log") == 1);
	CHECK(ignore_excluded(ig, "keep.log") == 0);
	ignore_free(ig);

	/* Unreadable (a directory): an error naming the path. */
	CHECK(ignore_load(&ig, dir, &err) == -1);
	CHECK(ig == NULL);
	CHECK(strstr(err.msg, dir) != NULL);

	unlink(path);
	rmdir(dir);
}

/* Patterns that make a backtracking matcher take exponential time. The
 * test asserts only the answers; it finishes quickly because matching is
 * linear in the path for a given pattern. */
static void test_pathological(void)
{
	const char *star_text = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
	const char *dstar_text = "**/**/**/**/**/**/**/**/**/**/**/**/x";
	const char *alt_text = "?{1000}*b|zzz";
	struct error err = ERROR_INIT;
	struct ignore *ig = NULL;
	size_t n = 20000, i;
	char *path = xmalloc(n + 3);

	memset(path, 'a', n);
	path[n] = '\0';
	CHECK(ignore_parse(&ig, star_text, strlen(star_text), "x", &err) == 0);
	CHECK(ignore_excluded(ig, path) == 0);
	path[n - 1] = 'b';
	CHECK(ignore_excluded(ig, path) == 1);
	ignore_free(ig);

	/* "a/a/a/.../a/x": 5000 components. */
	for (i = 0; i + 1 < n / 2; i += 2) {
		path[i] = 'a';
		path[i + 1] = '/';
	}
	path[i] = 'y';
	path[i + 1] = '\0';
	CHECK(ignore_parse(&ig, dstar_text, strlen(dstar_text), "x", &err) ==
	      0);
	CHECK(ignore_excluded(ig, path) == 0);
	path[i] = 'x';
	CHECK(ignore_excluded(ig, path) == 1);
	ignore_free(ig);

	memset(path, 'a', n);
	path[n] = '\0';
	CHECK(ignore_parse(&ig, alt_text, strlen(alt_text), "x", &err) == 0);
	CHECK(ignore_excluded(ig, path) == 0);
	path[n - 1] = 'b';
	CHECK(ignore_excluded(ig, path) == 1);
	ignore_free(ig);
	free(path);
}

int main(void)
{
	RUN(test_match_table);
	RUN(test_parse_errors);
	RUN(test_long_line);
	RUN(test_walk_rule);
	RUN(test_walk_variant);
	RUN(test_exceptions_and_counts);
	RUN(test_load);
	RUN(test_pathological);
	return unit_summary();
}
