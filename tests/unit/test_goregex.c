/*
 * The regexp engine on its own (builder/context/goregex.c). Each expected
 * answer is Go's regexp.MatchString on the same pattern and text (or Go's
 * regexp.Compile failing where the table says -1), checked with go 1.19,
 * except on the lines marked "unsupported", which Go accepts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context/goregex.h"
#include "unit.h"
#include "util/xmalloc.h"

struct regex_case {
	const char *pattern, *text;
	int want; /* 1 match, 0 no match, -1 the pattern is rejected */
};

static const struct regex_case regex_cases[] = {
	/* literals, and a match anywhere in the text */
	{ "abc", "xabcx", 1 },
	{ "abc", "ab", 0 },
	{ "", "", 1 },
	{ "", "abc", 1 },
	{ "a.c", "abc", 1 },
	{ "a.c", "a\nc", 0 }, /* '.' is not '\n' */
	{ "^.$", "\xC3\xA9", 1 }, /* one rune, not one byte */
	{ "^.$", "\xFF", 1 }, /* an invalid byte is one rune */
	{ "^\\x{FFFD}$", "\xFF", 1 },
	{ "^..$", "\xE2\x82", 1 }, /* a truncated sequence is two */
	/* alternation */
	{ "a|b", "b", 1 },
	{ "^a|b$", "xxb", 1 },
	{ "^a|b$", "xax", 0 },
	{ "^(a|b)$", "ab", 0 },
	{ "^(ab|cd|ef)+$", "abefcd", 1 },
	{ "^(ab|cd|ef)+$", "abe", 0 },
	{ "^(a|)$", "", 1 },
	{ "^x(|y)z$", "xz", 1 },
	{ "a|", "zzz", 1 },
	/* repetition and counts */
	{ "^a*$", "", 1 },
	{ "^a+$", "", 0 },
	{ "^ab?c$", "ac", 1 },
	{ "^ab?c$", "abbc", 0 },
	{ "^a*?b+?$", "aabb", 1 }, /* non-greedy: same yes or no */
	{ "^a{2}$", "aa", 1 },
	{ "^a{2}$", "aaa", 0 },
	{ "^a{2,}$", "aaaaa", 1 },
	{ "^a{2,}$", "a", 0 },
	{ "^a{1,3}$", "aaa", 1 },
	{ "^a{1,3}$", "aaaa", 0 },
	{ "^a{0}b$", "b", 1 },
	{ "^(ab){2}$", "abab", 1 },
	{ "^[0-9]{3}-x{0,1}$", "123-", 1 },
	{ "^a{,3}$", "a{,3}", 1 }, /* not a count: literal braces */
	{ "^a{x}$", "a{x}", 1 },
	{ "^{$", "{", 1 },
	{ "^a{1000}$", "a", 0 },
	{ "a{1001}", "a", -1 },
	{ "a{3,2}", "a", -1 },
	{ "a{01}", "a{01}", 1 }, /* leading zero: literal */
	{ "a**", "a", -1 },
	{ "a{2}*", "a", -1 },
	{ "*a", "a", -1 },
	{ "(*)", "a", -1 },
	{ "|*", "a", -1 },
	/* classes */
	{ "^[a-c]+$", "abcab", 1 },
	{ "^[a-c]+$", "abd", 0 },
	{ "^[^/]*$", "a/b", 0 },
	{ "^[^/]*$", "a.b", 1 },
	{ "^[]a]+$", "]a]", 1 }, /* a leading ']' is a member */
	{ "^[^]]$", "]", 0 },
	{ "^[a-]$", "-", 1 },
	{ "^[\\]\\[]+$", "[]", 1 },
	{ "^[\\x41-\\x43]$", "B", 1 },
	{ "^[\xC3\xA0-\xC3\xBF]$", "\xC3\xA9", 1 },
	{ "^[^a]$", "\xC3\xA9", 1 },
	{ "[[:alpha:]]", "123", 0 },
	{ "[[:alpha:]]", "1x3", 1 },
	{ "^[[:^digit:]]+$", "ab", 1 },
	{ "^[[:^digit:]]+$", "a1", 0 },
	{ "^[[:xdigit:][:space:]]+$", "fF0 \t", 1 },
	{ "^[[:cntrl:]]$", "\x7F", 1 },
	{ "^[[:word:]]+$", "a_Z9", 1 },
	{ "^[[:punct:]]+$", "!/:@[`{~", 1 },
	{ "[[:foo:]]", "f", -1 },
	{ "^[[:alpha]$", ":", 1 }, /* no ":]": a plain class */
	{ "^[\\d_]+$", "1_2", 1 },
	{ "^[\\D]$", "1", 0 },
	{ "[z-a]", "a", -1 },
	{ "[a", "a", -1 },
	{ "[]", "a", -1 },
	{ "[\\pL]", "a", -1 }, /* Unicode classes: unsupported */
	/* anchors and word boundaries */
	{ "^abc$", "xabc", 0 },
	{ "^abc$", "abc\n", 0 }, /* '$' is the end of the text */
	{ "\\Aab\\z", "ab", 1 },
	{ "\\Aab\\z", "abc", 0 },
	{ "a^b", "a^b", 0 },
	{ "^$", "", 1 },
	{ "(^a|b)c", "xac", 0 },
	{ "(^a|b)c", "xbc", 1 },
	{ "x*$", "abc", 1 },
	{ "\\bfoo\\b", "a foo b", 1 },
	{ "\\bfoo\\b", "afoo", 0 },
	{ "\\Bfoo", "afoo", 1 },
	{ "^\\b$", "", 0 },
	/* escapes */
	{ "^\\d+$", "0123456789", 1 },
	{ "^\\d+$", "12a", 0 },
	{ "^\\D+$", "ab", 1 },
	{ "^\\w+$", "a_1Z", 1 },
	{ "^\\W$", "-", 1 },
	{ "a\\sb", "a\tb", 1 },
	{ "a\\Sb", "a b", 0 },
	{ "^\\.\\*\\+\\?\\(\\)\\|\\[\\]\\{\\}\\^\\$\\\\$", ".*+?()|[]{}^$\\",
	  1 },
	{ "^\\x41\\x{263A}$", "A\xE2\x98\xBA", 1 },
	{ "^\\101\\0$", "A", 0 },
	{ "^\\101$", "A", 1 },
	{ "^\\t\\n\\r\\f\\v\\a$", "\t\n\r\f\v\a", 1 },
	{ "^\\Q.*|\\E$", ".*|", 1 },
	{ "^\\Q.*|\\E$", "ab", 0 },
	{ "^\\Qa$", "a$", 1 }, /* no "\E": quoted to the end */
	{ "^a\\Q\\E*$", "aa", 1 },
	{ "\\q", "q", -1 },
	{ "\\8", "8", -1 },
	{ "\\1", "1", -1 }, /* a backreference */
	{ "\\x{110000}", "x", -1 },
	{ "\\xZ1", "x", -1 },
	{ "\\C", "a", -1 },
	{ "\\pL", "a", -1 }, /* unsupported */
	{ "a\\", "a", -1 },
	{ "(?i)a", "A", -1 }, /* flags: unsupported */
	/* groups */
	{ "(a", "a", -1 },
	{ "a)", "a", -1 },
	{ "^()$", "", 1 },
	{ "^((a)(b(c)))$", "abc", 1 },
	/* what docker's rewrite makes */
	{ "^(.*/)?foo$", "foo", 1 },
	{ "^(.*/)?foo$", "a/b/foo", 1 },
	{ "^(.*/)?foo$", "a/bfoo", 0 },
	{ "^[^/]*\\.c|[^/]*\\.h$", "x/y.h", 1 },
	{ "^[^/]*\\.c|[^/]*\\.h$", "x.cpp", 1 },
	{ "^[^/]*\\.c|[^/]*\\.h$", "x/y.c", 0 },
	/* a pathological pattern for a backtracking engine */
	{ "^(a?){30}a{30}$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
	{ "^(a*)*b$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	{ "^(a|aa)+$", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab", 0 },
};

static void test_match_table(void)
{
	size_t i;

	for (i = 0; i < sizeof(regex_cases) / sizeof(*regex_cases); i++) {
		const struct regex_case *c = &regex_cases[i];
		struct goregex re;
		struct goregex_sim sim;
		const char *why = NULL;
		int got;

		if (goregex_compile(&re, c->pattern, strlen(c->pattern), &why) <
		    0) {
			got = -1;
			if (!why || !why[0])
				got = -2;
			if (goregex_size(&re) != 0)
				got = -3;
		} else {
			goregex_sim_init(&sim, goregex_size(&re));
			got = goregex_match(&re, &sim, c->text,
					    strlen(c->text));
			/* Matching again with the same memory changes nothing.
			 */
			if (got !=
			    goregex_match(&re, &sim, c->text, strlen(c->text)))
				got = -4;
			goregex_sim_release(&sim);
		}
		goregex_release(&re);
		if (got != c->want) {
			fprintf(stderr,
				"case %zu: /%s/ on '%s': got %d, want %d"
				"%s%s\n",
				i, c->pattern, c->text, got, c->want,
				got == -1 ? ": " : "", got == -1 ? why : "");
			unit_failures_in_test++;
		}
	}
}

struct parent_case {
	const char *pattern, *text;
	int want;
};

/* goregex_match_or_parent tries the text and each prefix ending at a '/'. */
static const struct parent_case parent_cases[] = {
	{ "^a/b$", "a/b/c", 1 },
	{ "^a$", "a/b/c", 1 },
	{ "^a/b/c$", "a/b/c", 1 },
	{ "^a/b/c/$", "a/b/c", 0 },
	{ "^b$", "a/b", 0 }, /* parents are prefixes only */
	{ "^a/$", "a/b", 0 }, /* cut before the '/', not after */
	{ "^[^/]*\\.c$", "x.c/y/z", 1 },
	{ "^[^/]*\\.c$", "x/y.c", 0 },
	{ "x\\b", "x/y", 1 },
	{ "x\\B", "x/y", 0 }, /* at a cut the text ends */
	{ "x\\B", "xy/z", 1 },
	{ "^a/b", "a/bc", 1 },
	{ "^$", "/a", 1 }, /* the empty prefix before '/' */
};

static void test_parents(void)
{
	size_t i;

	for (i = 0; i < sizeof(parent_cases) / sizeof(*parent_cases); i++) {
		const struct parent_case *c = &parent_cases[i];
		struct goregex re;
		struct goregex_sim sim;
		const char *why;
		int got;

		CHECK(goregex_compile(&re, c->pattern, strlen(c->pattern),
				      &why) == 0);
		goregex_sim_init(&sim, goregex_size(&re));
		got = goregex_match_or_parent(&re, &sim, c->text,
					      strlen(c->text));
		if (got != c->want) {
			fprintf(stderr,
				"parent case %zu: /%s/ on '%s': got "
				"%d, want %d\n",
				i, c->pattern, c->text, got, c->want);
			unit_failures_in_test++;
		}
		goregex_sim_release(&sim);
		goregex_release(&re);
	}
}

/* Lengths, not C strings: NUL is a rune, and text past len is not read. */
static void test_lengths(void)
{
	struct goregex re;
	struct goregex_sim sim;
	const char *why;

	CHECK(goregex_compile(&re, "^a\0b$", 5, &why) == 0);
	goregex_sim_init(&sim, goregex_size(&re));
	CHECK(goregex_match(&re, &sim, "a\0b", 3) == 1);
	CHECK(goregex_match(&re, &sim, "a\0bc", 3) == 1);
	CHECK(goregex_match(&re, &sim, "a\0c", 3) == 0);
	goregex_sim_release(&sim);
	goregex_release(&re);

	/* "abc" cut to "ab": the pattern is only "^ab". */
	CHECK(goregex_compile(&re, "^abc", 2, &why) == 0);
	goregex_sim_init(&sim, goregex_size(&re));
	CHECK(goregex_match(&re, &sim, "abx", 3) == 1);
	goregex_sim_release(&sim);
	goregex_release(&re);

	/* An empty struct can be released; so can a released one. */
	memset(&re, 0, sizeof(re));
	goregex_release(&re);
	goregex_release(&re);
}

/* One working memory serves several programs no larger than its size. */
static void test_shared_sim(void)
{
	struct goregex a, b;
	struct goregex_sim sim;
	const char *why;
	size_t max;

	CHECK(goregex_compile(&a, "^x{50}$", 7, &why) == 0);
	CHECK(goregex_compile(&b, "y", 1, &why) == 0);
	max = goregex_size(&a) > goregex_size(&b) ? goregex_size(&a)
						  : goregex_size(&b);
	goregex_sim_init(&sim, max);
	CHECK(goregex_match(&b, &sim, "xyz", 3) == 1);
	CHECK(goregex_match(&a, &sim,
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxx",
			    50) == 1);
	CHECK(goregex_match(&b, &sim, "xxz", 3) == 0);
	goregex_sim_release(&sim);
	goregex_release(&a);
	goregex_release(&b);
}

/* The size limit, and its error. */
static void test_limits(void)
{
	struct goregex re;
	const char *why = NULL;
	char deep[3000];
	size_t i;

	/* Go refuses these nested counts; goregex takes them if they fit. */
	CHECK(goregex_compile(&re, "(a{1000}){1000}", 15, &why) == 0);
	CHECK(goregex_size(&re) <= GOREGEX_MAX_SIZE);
	goregex_release(&re);
	CHECK(goregex_compile(&re, "((a{1000}){1000}){2}", 20, &why) < 0);
	CHECK_STR(why, "it is too large once compiled");
	CHECK(goregex_compile(&re, "(a{1000}){1000}(b{1000}){49}", 28, &why) <
	      0);
	CHECK_STR(why, "it is too large once compiled");

	/* Go's parser allows 1000 levels of nesting. */
	for (i = 0; i < 1500; i++) {
		deep[i] = '(';
		deep[3000 - 1 - i] = ')';
	}
	CHECK(goregex_compile(&re, deep, sizeof(deep), &why) < 0);
	CHECK_STR(why, "it nests too deeply");
}

/*
 * A backtracking engine takes 2^n steps on "(a*)*b" against n a's; this
 * one takes n times the program's size. A long text and a large program
 * must together stay well under a second, even under the sanitizers.
 */
static void test_pathological(void)
{
	static const char *const patterns[] = {
		"(a*)*b",   "(a|aa)*c",	 "(a?){500}a{500}b",
		"(x+x+)+y", "(.*){20}z",
	};
	size_t n = 20000, i;
	char *text = xmalloc(n);
	clock_t t0 = clock();

	memset(text, 'a', n);
	for (i = 0; i < sizeof(patterns) / sizeof(*patterns); i++) {
		struct goregex re;
		struct goregex_sim sim;
		const char *why;

		CHECK(goregex_compile(&re, patterns[i], strlen(patterns[i]),
				      &why) == 0);
		goregex_sim_init(&sim, goregex_size(&re));
		CHECK(goregex_match(&re, &sim, text, n) == 0);
		CHECK(goregex_match_or_parent(&re, &sim, text, n) == 0);
		goregex_sim_release(&sim);
		goregex_release(&re);
	}
	CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 10.0);
	free(text);
}

static void test_decode_rune(void)
{
	size_t w;

	CHECK(goregex_decode_rune((const unsigned char *)"a", 1, &w) == 'a' &&
	      w == 1);
	CHECK(goregex_decode_rune((const unsigned char *)"\xC3\xA9", 2, &w) ==
		      0xE9 &&
	      w == 2);
	CHECK(goregex_decode_rune((const unsigned char *)"\xF0\x9F\x98\x80", 4,
				  &w) == 0x1F600 &&
	      w == 4);
	/* truncated, overlong, a surrogate, past U+10FFFF: one bad byte */
	CHECK(goregex_decode_rune((const unsigned char *)"\xC3\xA9", 1, &w) ==
		      GOREGEX_RUNE_ERROR &&
	      w == 1);
	CHECK(goregex_decode_rune((const unsigned char *)"\xC0\x80", 2, &w) ==
		      GOREGEX_RUNE_ERROR &&
	      w == 1);
	CHECK(goregex_decode_rune((const unsigned char *)"\xED\xA0\x80", 3,
				  &w) == GOREGEX_RUNE_ERROR &&
	      w == 1);
	CHECK(goregex_decode_rune((const unsigned char *)"\xF4\x90\x80\x80", 4,
				  &w) == GOREGEX_RUNE_ERROR &&
	      w == 1);
	/* the encoding of U+FFFD itself is three bytes wide */
	CHECK(goregex_decode_rune((const unsigned char *)"\xEF\xBF\xBD", 3,
				  &w) == GOREGEX_RUNE_ERROR &&
	      w == 3);
}

int main(void)
{
	RUN(test_match_table);
	RUN(test_parents);
	RUN(test_lengths);
	RUN(test_shared_sim);
	RUN(test_limits);
	RUN(test_pathological);
	RUN(test_decode_rune);
	return unit_summary();
}
